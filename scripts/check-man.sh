#!/bin/sh
# check-man.sh: every man page in doc/ formats without a warning. groff's
# mdoc macros report misuse (a macro as the first argument of .Ql, say) with
# .tm, which `man --warnings` does not show, so each page goes through
# `groff -ww -z -mandoc` and, as a reader sees it at 80 columns, through
# `man --warnings=all`; any line either prints is a failure. Run by
# `make check`; skipped (77) where groff or man is missing.
set -u
top=${VIGIL_SRCDIR:-.}
for tool in groff man; do
	command -v $tool >/dev/null 2>&1 || { echo "no $tool: skipped"; exit 77; }
done
fail=0
n=0
for page in "$top"/doc/*.1 "$top"/doc/*.5 "$top"/doc/*.8; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	out=$(groff -ww -z -mandoc "$page" 2>&1)
	out=$out$(MANWIDTH=80 man --warnings=all -l "$page" 2>&1 >/dev/null)
	if [ -n "$out" ]; then
		echo "check-man: $(basename "$page"):"
		echo "$out"
		fail=1
	fi
done
[ $n -gt 0 ] || { echo "check-man: no pages in $top/doc"; exit 99; }
[ $fail -eq 0 ] && echo "check-man: $n pages ok"
exit $fail
