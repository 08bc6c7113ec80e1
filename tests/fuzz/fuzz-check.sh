#!/bin/sh
# fuzz-check.sh: what make check (and make fuzz) runs of each fuzz target
# (FUZZ_TARGETS): every input of regressions/TARGET/ once, then libFuzzer
# for FUZZ_SECONDS on a copy of corpus/TARGET/ in FUZZ_WORKDIR/TARGET/corpus,
# so the source tree never changes (FUZZ_FRESH=1, as make check: the copy
# starts anew; else what earlier runs found is kept and grown). Fails on any
# finding of any target; its reproducer is left in FUZZ_WORKDIR/TARGET/artifacts/
# (see tests/fuzz/README.md).
set -u
bindir=${FUZZ_BINDIR:?set by make check: the folder of the fuzz_TARGET programs}
src=${VIGIL_SRCDIR:?set by make check: the source tree}/tests/fuzz
work=${FUZZ_WORKDIR:-./fuzz-work}
seconds=${FUZZ_SECONDS:-5}
targets=${FUZZ_TARGETS:-request config words values notify envfile}

# The longest input worth trying: a request session, a config file with
# its include, a command line, a value, a datagram a little over notify.c's 4096.
max_len() {
	case $1 in
	request) echo 8192 ;;
	config) echo 16384 ;;
	words) echo 4096 ;;
	values) echo 512 ;;
	notify) echo 4200 ;;
	envfile) echo 8192 ;;
	*) echo 4096 ;;
	esac
}

failed=
for t in $targets; do
	fuzz=$bindir/fuzz_$t
	w=$work/$t
	if [ "${FUZZ_FRESH:-0}" = 1 ]; then
		rm -rf "$w/corpus" || exit 99
	fi
	mkdir -p "$w/corpus" "$w/artifacts" || exit 99
	cp "$src/corpus/$t"/* "$w/corpus/" || exit 99
	# regressions once each: each was a finding, or is a reproducer of one
	if [ -d "$src/regressions/$t" ] && [ -n "$(ls "$src/regressions/$t")" ]; then
		"$fuzz" -artifact_prefix="$w/artifacts/" "$src/regressions/$t"/* || {
			echo "fuzz-check: $t: a regression input fails again"
			failed="$failed $t"
			continue
		}
	fi
	dict=
	[ -f "$src/$t.dict" ] && dict=-dict=$src/$t.dict
	echo "fuzz-check: $t: fuzzing for ${seconds}s"
	"$fuzz" -max_total_time="$seconds" -timeout=10 -max_len="$(max_len "$t")" \
	    $dict -artifact_prefix="$w/artifacts/" -print_final_stats=1 "$w/corpus" || {
		echo "fuzz-check: $t: libFuzzer found something; the input is in $w/artifacts/"
		failed="$failed $t"
	}
done
if [ -n "$failed" ]; then
	echo "fuzz-check: failed:$failed"
	exit 1	# libFuzzer's 77 would read as SKIP to automake
fi
exit 0
