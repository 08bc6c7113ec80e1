#!/bin/sh
# check-units.sh: systemd-analyze verify on contrib/systemd's units, with
# their /usr/local/bin/ paths pointed at the built programs. verify exits 0
# even on a key it ignores, so any line it prints is a failure. Run by
# `make check`; skipped (77) where systemd-analyze is missing.
set -u
top=${VIGIL_SRCDIR:-.}
bindir=$(dirname "${VIGILD:-./vigild}")
command -v systemd-analyze >/dev/null 2>&1 || { echo "no systemd-analyze: skipped"; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
for u in "$top"/contrib/systemd/*.service "$top"/contrib/systemd/*.socket; do
	sed "s|/usr/local/bin/|$bindir/|g" "$u" > "$tmp/$(basename "$u")" || exit 99
done
out=$(systemd-analyze verify --man=no "$tmp"/*.socket "$tmp"/*.service 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	echo "check-units: systemd-analyze verify (exit $rc):"
	echo "$out"
	exit 1
fi
echo "check-units: $(ls "$tmp" | tr '\n' ' ')ok"
