#!/usr/bin/env bash
# tests/run.sh - runs every test: the C unit suites (build/zt) and the shell
# tests tests/sh/*.sh (CLI, TUI in a pty / tmux / real xterm).  Every line
# "PASS ..." or "FAIL ..." counts; the last line is "N passed, N failed" and
# the exit status is non-zero when anything failed.
#   tests/run.sh                 everything
#   tests/run.sh unit            only the C suites
#   tests/run.sh sh/NAME         only tests/sh/NAME.sh
#   tests/run.sh unit sh/A sh/B  several of those (make test TESTS="...")
set -u
cd "$(dirname "$0")/.."
export ZT_ROOT=$PWD
# ../shared/data beside the checkout; for a local clone made elsewhere
# (git clone . /tmp/fresh), the one beside the repository it was cloned from
shared_dir() {
    local d origin
    d=$(cd .. && pwd)/shared/data
    if [ ! -d "$d" ]; then
        origin=$(git config --get remote.origin.url 2>/dev/null || true)
        [ -n "$origin" ] && [ -d "$origin/../shared/data" ] && d=$(cd "$origin/../shared/data" && pwd)
    fi
    echo "$d"
}
export ZT_SHARED=${ZT_SHARED:-$(shared_dir)}
[ -d "$ZT_SHARED" ] || echo "warning: no shared data at $ZT_SHARED: the tests on real galaxies will fail" >&2
log=$(mktemp /tmp/zoosh-tests.XXXXXX)
what=" ${*:-all} "
want() { [[ "$what" == *" all "* || "$what" == *" $1 "* ]]; }

run() {  # run NAME CMD...: stream its output, keep PASS/FAIL/SKIP lines
    local name=$1 out st
    echo "== $name"
    shift
    out=$(mktemp /tmp/zoosh-suite.XXXXXX)
    "$@" 2>&1 | tee "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$'
    st=${PIPESTATUS[0]}
    cat "$out" >> "$log"
    # a suite killed by a signal, or one that exits non-zero without a FAIL
    # line of its own, failed even if every line it printed passed
    if [ "$st" -ge 128 ] || { [ "$st" -ne 0 ] && ! grep -q '^FAIL' "$out"; }; then
        echo "FAIL $name: exited with status $st (a signal or an error it did not report)" | tee -a "$log"
    fi
    rm -f "$out"
}

if want unit; then
    run unit "${ZT_ZT:-build/zt}"   # make SANITIZE=... test: its own build
fi
for t in tests/sh/*.sh; do
    n=$(basename "$t" .sh)
    [ "$n" = lib ] && continue
    want "sh/$n" || continue
    run "sh/$n" bash "$t"
done
p=$(grep -c '^PASS' "$log")
f=$(grep -c '^FAIL' "$log")
k=$(grep -c '^SKIP' "$log")
if [ "$k" -gt 0 ]; then
    echo; echo "Skipped:"; grep '^SKIP' "$log"
    # CI has every package and ../shared/data: nothing may be skipped there
    if [ "${ZT_NO_SKIP:-0}" = 1 ]; then
        echo "FAIL run: $k checks skipped where ZT_NO_SKIP=1 says none may be" | tee -a "$log"
        f=$((f + 1))
    fi
fi
if [ "$f" -gt 0 ]; then echo; echo "Failures:"; grep '^FAIL' "$log"; fi
rm -f "$log"
echo "$p passed, $f failed, $k skipped"
[ "$f" -eq 0 ]
