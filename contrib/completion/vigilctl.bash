# bash completion for vigilctl(1).
# Install as /usr/share/bash-completion/completions/vigilctl, or source it.
# Service names come from `vigilctl names`, asked of the same socket as the
# command line being completed; no jq needed.

_vigilctl_names()
{
	local -a sock=()
	local i w ctl=${COMP_WORDS[0]}

	# the same binary as on the line (./vigilctl in a source tree), else PATH's
	[[ $ctl == */* && -x $ctl ]] || ctl=vigilctl

	# reuse --socket/-s from the line, so completion asks the right vigild
	for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		--socket | -s) sock=(--socket "${COMP_WORDS[i + 1]}") ;;
		--socket=*) sock=(--socket "${w#--socket=}") ;;
		-s?*) sock=(--socket "${w#-s}") ;;
		esac
	done
	"$ctl" "${sock[@]}" --timeout 2s names 2>/dev/null
}

_vigilctl()
{
	local cur prev verb i w nops=0 dashdash=
	local verbs="status start stop restart wait events top signal shutdown log log-reopen reload daemon-reexec show metrics names check import-supervisord hello help"
	local opts="--socket --json --no-wait --timeout --help --version -s -j -h"
	local logopts="-f --follow -n --since -o --output --service-prefix --no-service-prefix"
	local waitopts="--for"
	local actionopts="--wait"
	local topopts="-d --delay -b --batch"
	local sigs="HUP INT QUIT KILL USR1 USR2 TERM CONT STOP TSTP WINCH ALRM"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}

	case $prev in
	--socket | -s)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--timeout)
		COMPREPLY=($(compgen -W "1s 10s 30s 60s 5m" -- "$cur"))
		return
		;;
	--since)
		COMPREPLY=($(compgen -W "1m 10m 1h 24h" -- "$cur"))
		return
		;;
	-n)
		COMPREPLY=($(compgen -W "10 50 100 1000" -- "$cur"))
		return
		;;
	-d | --delay)
		COMPREPLY=($(compgen -W "0.5 1 2 5" -- "$cur"))
	-o | --output)
		COMPREPLY=($(compgen -W "short short-iso raw json" -- "$cur"))
		return
		;;
	--for)
		COMPREPLY=($(compgen -W "ready running stopped exited" -- "$cur"))
		return
		;;
	--format)
		COMPREPLY=($(compgen -W "openmetrics prometheus" -- "$cur"))
		return
		;;
	esac

	# find the verb and count its operands; options may stand anywhere
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ -z $dashdash ]]; then
			case $w in
			--) dashdash=1; continue ;;
			--socket | -s | --timeout | --since | -n | --for | -o | --output | --format | -d | --delay) ((i++)); continue ;;
			-?*) continue ;;
			esac
		fi
		if [[ -z $verb ]]; then
			verb=$w
		else
			((nops++))
		fi
	done

	if [[ -z $dashdash && $cur == -* ]]; then
		[[ $verb == log ]] && opts="$opts $logopts"
		[[ $verb == wait ]] && opts="$opts $waitopts"
		[[ $verb == start || $verb == stop || $verb == restart ]] && opts="$opts $actionopts"
		[[ $verb == reload ]] && opts="$opts --dry-run"
		[[ $verb == metrics ]] && opts="$opts --format"
		[[ $verb == top ]] && opts="$opts $topopts"
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	case $verb in
	"")
		COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		;;
	status | start | stop | restart | wait | events | log | check | show)
		COMPREPLY=($(compgen -W "$(_vigilctl_names)" -- "$cur"))
		;;
	import-supervisord)
		((nops == 0)) && COMPREPLY=($(compgen -f -- "$cur"))
		;;
	signal)
		if ((nops == 0)); then
			COMPREPLY=($(compgen -W "$sigs" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_vigilctl_names)" -- "$cur"))
		fi
		;;
	esac
}

complete -F _vigilctl vigilctl
