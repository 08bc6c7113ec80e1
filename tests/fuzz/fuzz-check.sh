#!/bin/sh
# fuzz-check.sh: what make check (and make fuzz) runs of the fuzz target:
# every input of regressions/ once, then libFuzzer for FUZZ_SECONDS on a
# scratch copy of corpus/, so the source tree never changes. Fails on any
# finding; its reproducer is left in FUZZ_WORKDIR (see tests/fuzz/README.md).
set -u
fuzz=${FUZZ_REQUEST:?set by make check: the fuzz_request program}
src=${VIGIL_SRCDIR:?set by make check: the source tree}/tests/fuzz
work=${FUZZ_WORKDIR:-./fuzz-work}
seconds=${FUZZ_SECONDS:-5}

rm -rf "$work/corpus" && mkdir -p "$work/corpus" "$work/artifacts" || exit 99
cp "$src"/corpus/* "$work/corpus/" || exit 99
# regressions once each: each was a crash, or is a reproducer of one
"$fuzz" -artifact_prefix="$work/artifacts/" "$src"/regressions/* || {
	echo "fuzz-check: a regression input fails again"
	exit 1	# libFuzzer's 77 would read as SKIP to automake
}
echo "fuzz-check: fuzzing for ${seconds}s"
"$fuzz" -max_total_time="$seconds" -timeout=10 -max_len=8192 \
    -dict="$src/request.dict" -artifact_prefix="$work/artifacts/" \
    -print_final_stats=1 "$work/corpus" || {
	echo "fuzz-check: libFuzzer found something; the input is in $work/artifacts/"
	exit 1
}
