#!/bin/sh
# Run the integration tests ROUNDS times (default 5) in a sanitizer build
# while a CPU hog keeps every core busy: a test that passes only on an idle
# machine fails here. Ends with one line, "stress: N passed, N failed"
# (Criterion tests summed over the rounds), and exits 1 if any failed.
#
# usage: scripts/stress-tests.sh [-b BUILDDIR] [ROUNDS]
# BUILDDIR (or $VIGIL_BUILD_DIR) is a build configured with
# --enable-sanitizers; the default is the source tree itself, where the
# README's commands build.
set -u

usage() {
	echo "usage: $0 [-b BUILDDIR] [ROUNDS]" >&2
	exit 2
}

build=${VIGIL_BUILD_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
while getopts b:h opt; do
	case $opt in
	b) build=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
rounds=${1:-5}
case $rounds in
'' | *[!0-9]*) usage ;;
esac
[ $# -le 1 ] || usage

build=$(cd "$build" 2>/dev/null && pwd) || { echo "stress: no folder $build" >&2; exit 2; }
if ! grep -q '^SAN_CFLAGS = -fsanitize' "$build/Makefile" 2>/dev/null; then
	echo "stress: $build is not a build configured with --enable-sanitizers;" >&2
	echo "stress: there, run ./configure --enable-werror --enable-sanitizers first" >&2
	exit 2
fi
srcdir=$(sed -n 's/^abs_top_srcdir = //p' "$build/Makefile")
tests=
for t in "$srcdir"/tests/integration/test_*.c; do
	tests="$tests tests/integration/$(basename "$t" .c)"
done

echo "stress: building in $build"
# shellcheck disable=SC2086 # $tests is a list of words
make -C "$build" -j2 vigild vigilctl tests/helpers/vigil-testsvc $tests >/dev/null ||
	{ echo "stress: the build failed" >&2; exit 2; }

VIGILD=$build/vigild
VIGILCTL=$build/vigilctl
VIGIL_TESTSVC=$build/tests/helpers/vigil-testsvc
VIGIL_SRCDIR=$srcdir
export VIGILD VIGILCTL VIGIL_TESTSVC VIGIL_SRCDIR

logs=$(mktemp -d /tmp/vigil-stress-XXXXXX)
hogs=
running=
# the hogs, and a test binary still running when we are interrupted, by pid
stop_hogs() {
	for pid in $hogs $running; do
		kill "$pid" 2>/dev/null
	done
	hogs=
	running=
}
trap 'stop_hogs; rmdir "$logs" 2>/dev/null' EXIT
trap 'stop_hogs; exit 130' INT
trap 'stop_hogs; exit 143' TERM

cores=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
i=0
while [ "$i" -lt "$cores" ]; do
	sh -c 'while :; do :; done' &
	hogs="$hogs $!"
	i=$((i + 1))
done
echo "stress: $rounds rounds, $cores CPU hogs (pids$hogs), logs in $logs"

passed=0
failed=0
round=1
while [ "$round" -le "$rounds" ]; do
	rp=0
	rf=0
	for t in $tests; do
		name=$(basename "$t")
		log=$logs/$name.$round.log
		(cd "$build" && exec "./$t") >"$log" 2>&1 &
		running=$!
		wait "$running"
		running=
		line=$(grep -a 'Synthesis:' "$log" | tail -n 1)
		p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
		f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
		c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
		# a crash in a teardown (a sanitizer report from vigild) fails the binary
		k=$(grep -ac 'crashed during its setup or teardown' "$log")
		if [ -z "$line" ]; then
			f=1
			echo "stress: round $round: $name printed no result, see $log"
		fi
		p=$((${p:-0} - k))
		f=$((${f:-0} + ${c:-0} + k))
		rp=$((rp + p))
		rf=$((rf + f))
		if [ "$f" -gt 0 ]; then
			echo "stress: round $round: $name failed, see $log:"
			grep -a -E '^\[(FAIL|----)\]' "$log" | head -n 20
		else
			rm -f "$log"
		fi
	done
	echo "stress: round $round: $rp passed, $rf failed"
	passed=$((passed + rp))
	failed=$((failed + rf))
	round=$((round + 1))
done
stop_hogs
echo "stress: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
