#!/bin/sh
# Sum the Criterion results of one build's `make check` into one line for
# people and CI: "LABEL: N passed, N failed". A test binary that crashed in
# a teardown (the harness aborts on a sanitizer report from vigild) counts
# as a failure, since Criterion's synthesis does not show it. A script test
# (check-layers, the fuzz check) has no Criterion output: it counts as one,
# by its .trs.
# usage: test-summary.sh LABEL [BUILDDIR]
set -u
label=$1
dir=${2:-.}
passed=0
failed=0
for log in "$dir"/tests/unit/*.log "$dir"/tests/integration/*.log; do
	[ -f "$log" ] || continue
	line=$(grep -a 'Synthesis:' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "no Criterion result in $log"
		failed=$((failed + 1))
		continue
	fi
	p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	k=$(grep -ac 'crashed during its setup or teardown' "$log")
	passed=$((passed + ${p:-0} - k))
	failed=$((failed + ${f:-0} + ${c:-0} + k))
done
# script tests (check-layers, the fuzz check): one result each, from automake's .trs
for trs in "$dir"/scripts/*.trs "$dir"/tests/*.trs "$dir"/tests/fuzz/*.trs; do
	[ -f "$trs" ] || continue
	case $(sed -n 's/^:test-result: *//p' "$trs" | head -n 1) in
	PASS|XFAIL) passed=$((passed + 1)) ;;
	SKIP) ;;
	*) echo "failed: ${trs%.trs}.log"; failed=$((failed + 1)) ;;
	esac
done
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
