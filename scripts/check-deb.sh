#!/bin/sh
# Build the Debian package from the committed tree (git archive HEAD) in a
# temporary folder, as `dpkg-buildpackage -b -us -uc` would in a checkout,
# then check it: lintian reports no error, and the .deb holds the programs,
# man pages, units, completion and examples. Needs debhelper and lintian
# (scripts/deps.sh). Usage: sh scripts/check-deb.sh [SRCDIR]
set -eu
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
for tool in dpkg-buildpackage dh lintian git; do
	command -v "$tool" >/dev/null || { echo "check-deb: $tool not found: run scripts/deps.sh" >&2; exit 1; }
done
tmp=$(mktemp -d /tmp/vigil-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/vigil"
git -C "$src" archive HEAD | tar -x -C "$tmp/vigil"
cd "$tmp/vigil"
if ! dpkg-buildpackage -b -us -uc > "$tmp/build.log" 2>&1; then
	tail -40 "$tmp/build.log" >&2
	echo "check-deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
fi
deb=$(ls "$tmp"/vigil_*.deb)
dpkg-deb -c "$deb" | awk '{print $6}' > "$tmp/contents"
missing=0
for f in ./usr/bin/vigild ./usr/bin/vigilctl \
	./usr/share/man/man8/vigild.8.gz ./usr/share/man/man1/vigilctl.1.gz \
	./usr/share/man/man5/vigil.conf.5.gz \
	./lib/systemd/system/vigild.service ./lib/systemd/system/vigild.socket \
	./usr/share/bash-completion/completions/vigilctl \
	./usr/share/doc/vigil/examples/vigil.conf ./usr/share/doc/vigil/copyright; do
	grep -qx "$f" "$tmp/contents" || { echo "check-deb: $f missing from $(basename "$deb")" >&2; missing=1; }
done
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/vigild.service |
	grep -q '^ExecStart=/usr/bin/vigild ' ||
	{ echo "check-deb: vigild.service does not start /usr/bin/vigild" >&2; missing=1; }
lintian --fail-on error --tag-display-limit 0 "$deb" "$tmp"/vigil_*.changes > "$tmp/lintian.log" 2>&1 ||
	{ cat "$tmp/lintian.log" >&2; echo "check-deb: lintian reports errors" >&2; exit 1; }
sed 's/^/lintian: /' "$tmp/lintian.log"
[ "$missing" -eq 0 ] || exit 1
echo "check-deb: $(basename "$deb") built, lintian reports no error"
