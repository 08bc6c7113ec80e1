#!/bin/sh
# Build vigil twice, plain and with ASan+UBSan, each in its own folder, run
# the whole test suite in both, then `make distcheck`. Prints one summary
# line "tests: N passed, N failed" and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${JOBS:-2}
status=0
passed=0
failed=0

[ -x configure ] || ./autogen.sh || exit 1

count() {
	# Criterion ends each test log with "Synthesis: Tested: N | Passing: P | Failing: F | Crashing: C"
	for log in "$1"/tests/unit/*.log "$1"/tests/integration/*.log; do
		[ -f "$log" ] || continue
		line=$(grep -a 'Synthesis:' "$log" | tail -n 1)
		[ -n "$line" ] || { failed=$((failed + 1)); echo "no result in $log"; continue; }
		p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
		f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
		c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
		# a crash in a teardown (e.g. a sanitizer report from vigild) is not in the synthesis
		k=$(grep -ac 'crashed during its setup or teardown' "$log")
		passed=$((passed + ${p:-0} - k))
		failed=$((failed + k))
		failed=$((failed + ${f:-0} + ${c:-0}))
	done
}

run_build() {
	name=$1
	shift
	dir="$top/build-$name"
	echo "==> $name build: configure $*"
	rm -rf "$dir" && mkdir -p "$dir" && cd "$dir" || return 1
	"$top/configure" --enable-werror "$@" >configure.out 2>&1 || { cat configure.out; return 1; }
	make -j"$jobs" >make.out 2>&1 || { cat make.out; return 1; }
	make -j"$jobs" check
	rc=$?
	if [ $rc -ne 0 ]; then
		for log in tests/unit/*.log tests/integration/*.log; do
			grep -qa 'Synthesis:.*Failing: 0 | Crashing: 0' "$log" 2>/dev/null || { echo "---- $log"; tail -n 80 "$log"; }
		done
	fi
	count "$dir"
	cd "$top"
	return $rc
}

run_build plain || status=1
run_build sanitizers --enable-sanitizers || status=1

echo "==> make distcheck"
( cd "$top/build-plain" && make distcheck >distcheck.out 2>&1 ) || { tail -n 60 "$top/build-plain/distcheck.out"; status=1; }

echo "tests: $passed passed, $failed failed"
exit $status
