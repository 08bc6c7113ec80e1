#!/bin/sh
# check-layers.sh: the daemon's layers include downwards only. Each file in
# daemon/LAYER/ may include its own folder's headers (bare), common/'s
# (bare), and the headers of a lower layer (as "layer/file.h"); never a
# higher layer's, nor vigild.h. common/ includes only common/, and ctl/
# nothing of the daemon. Run by `make check`; prints each breach as
# FILE:LINE and exits 1 if there is one.
# usage: check-layers.sh [SRCDIR]
set -u
top=${1:-${VIGIL_SRCDIR:-.}}
cd "$top" || exit 2

# lowest first: the order of the layers
rank() {
	case $1 in
	config) echo 1 ;; output) echo 2 ;; core) echo 3 ;; control) echo 4 ;;
	*) echo 0 ;;
	esac
}

bad=0
breach() {
	echo "$1: $2"
	bad=$((bad + 1))
}

# FILE FOLDER RANK: check every quoted include of FILE
check_file() {
	file=$1 dir=$2 own=$3
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" |
	sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1 \2/' > "$tmp"
	while read -r line inc; do
		where="$file:$line"
		case $inc in
		config.h) ;;	# autoconf's
		vigild.h)
			[ "$own" -ge 5 ] || breach "$where" "includes vigild.h, the whole daemon; include the layer headers below this one" ;;
		*/*)
			to=${inc%%/*}
			r=$(rank "$to")
			if [ "$r" -eq 0 ] || [ ! -f "daemon/$inc" ]; then
				breach "$where" "includes \"$inc\", which is no header of a daemon layer"
			elif [ "$own" -ge 1 ] && [ "$own" -le 4 ] && [ "$r" -gt "$own" ]; then
				breach "$where" "includes \"$inc\": $to/ is a higher layer than $dir/"
			elif [ "$own" -eq 0 ]; then
				breach "$where" "includes \"$inc\": $dir/ may not use the daemon"
			fi ;;
		*)
			[ -f "$(dirname "$file")/$inc" ] || [ -f "common/$inc" ] ||
			    breach "$where" "includes \"$inc\", found neither beside it nor in common/" ;;
		esac
	done < "$tmp"
}

tmp=$(mktemp) || exit 2
trap 'rm -f "$tmp"' EXIT
for layer in config output core control; do
	for f in daemon/$layer/*.[ch]; do
		check_file "$f" "daemon/$layer" "$(rank "$layer")"
	done
done
for f in daemon/*.[ch]; do
	check_file "$f" daemon 5
done
for f in common/*.[ch] ctl/*.[ch]; do
	check_file "$f" "$(dirname "$f")" 0
done
if [ "$bad" -gt 0 ]; then
	echo "check-layers: $bad include(s) against the layers (see doc/architecture.md)"
	exit 1
fi
echo "check-layers: every include goes down"
