#!/usr/bin/env bash
# test.sh — quick start (b): install the dependencies, build caracal, and run
# the whole test suite twice: in the normal build (build/) and in
# an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/).
# Ends with one line "N passed, N failed, N skipped" summed over both runs
# and exits non-zero if any test failed or if no test ran at all.
#
# Tests that need ../shared (the public capture corpus) skip without it.
# Environment: JOBS (parallel make jobs, default nproc), SKIP_ASAN=1 (only
# the normal build).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${JOBS:-$(nproc)}

say() { printf '\n==> %s\n' "$*"; }

# Sanitizer reports are fatal and leave a stack trace in the test's log.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

passed=0 failed=0 skipped=0 total=0 bad_runs=()

# check_run NAME BUILDDIR: runs "make check" there and adds its results
# (from BUILDDIR/test-suite.log) to the totals.
check_run() {
    local name=$1 dir=$2 rc=0 log
    log=$dir/test-suite.log
    say "Running the test suite ($name build)"
    rm -f "$log"
    make -C "$dir" -j"$jobs" check </dev/null || rc=$?
    if [ ! -f "$log" ]; then
        echo "test: $name build: make check produced no test-suite.log (exit $rc)" >&2
        bad_runs+=("$name")
        failed=$((failed + 1))
        return
    fi
    # The automake harness writes "# TOTAL: n", "# PASS: n", ... at the top.
    local t p s xf f xp e
    t=$(sed -n 's/^# TOTAL: *//p' "$log" | head -1)
    p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
    s=$(sed -n 's/^# SKIP: *//p' "$log" | head -1)
    xf=$(sed -n 's/^# XFAIL: *//p' "$log" | head -1)
    f=$(sed -n 's/^# FAIL: *//p' "$log" | head -1)
    xp=$(sed -n 's/^# XPASS: *//p' "$log" | head -1)
    e=$(sed -n 's/^# ERROR: *//p' "$log" | head -1)
    total=$((total + ${t:-0}))
    passed=$((passed + ${p:-0} + ${xf:-0}))
    skipped=$((skipped + ${s:-0}))
    local run_failed=$((${f:-0} + ${xp:-0} + ${e:-0}))
    # make failed although every test that ran passed: count it anyway.
    [ $rc -eq 0 ] || [ $run_failed -gt 0 ] || run_failed=1
    failed=$((failed + run_failed))
    if [ $rc -ne 0 ] || [ $run_failed -ne 0 ]; then
        bad_runs+=("$name")
        say "Failures in the $name build: $log"
        cat "$log"
    fi
    # Skipped tests say why; show the reasons so a skip is never silent.
    local trs
    while IFS= read -r trs; do
        grep -q '^:test-result: SKIP' "$trs" || continue
        local tlog=${trs%.trs}.log name=${trs#"$dir"/}
        echo "  skipped: ${name%.trs}: $(grep -v -e '^$' -e '(exit status: ' "$tlog" 2>/dev/null | tail -1)"
    done < <(find "$dir" -name '*.trs' -print 2>/dev/null | sort)
}

say "Installing dependencies"
scripts/install-deps.sh

# Both builds are out of tree (build/ and build-asan/), so they never mix
# objects and the source tree stays clean.
[ -x configure ] || ./autogen.sh

say "Building (normal, build/)"
mkdir -p build
[ -f build/Makefile ] || (cd build && ../configure)
make -C build -j"$jobs"
check_run normal "$top/build"

if [ "${SKIP_ASAN:-0}" != 1 ]; then
    say "Building with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
    mkdir -p build-asan
    [ -f build-asan/Makefile ] || (cd build-asan && ../configure --enable-sanitizers)
    make -C build-asan -j"$jobs"
    check_run asan "$top/build-asan"
fi

echo
if [ "$total" -eq 0 ]; then
    echo "test: no test ran — the suite is empty or was not built" >&2
    [ "$failed" -gt 0 ] || failed=1
fi
[ ${#bad_runs[@]} -eq 0 ] || echo "failing runs: ${bad_runs[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$total" -gt 0 ] && [ "$passed" -gt 0 ]
