# tests/sh/lib.sh - helpers for shell tests.  Source it first:
#   . "$(dirname "$0")/lib.sh"
#   check "imports the ring catalog" $Z import ws $ZT_SHARED/decals_rings/catalog.csv
#   expect "the export has 200 rows" test "$(wc -l < out.csv)" -eq 201
# Each test file runs in a fresh temporary directory ($T, removed at exit).
set -u
ROOT=${ZT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SHARED=${ZT_SHARED:-$(cd "$ROOT/.." && pwd)/shared/data}
Z="${ZT_ZOOSH:-$ROOT/zoosh}"   # make SANITIZE=... test: the sanitizer build
T=$(mktemp -d /tmp/zoosh-sh.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
SUITE=$(basename "$0" .sh)

pass() { echo "PASS $SUITE: $1"; }
fail() { echo "FAIL $SUITE: $1${2:+: $2}"; }
skip() { echo "SKIP $SUITE: $1${2:+: $2}"; }
# check SENTENCE CMD...: passes when CMD exits 0 (its output kept in $T/last.out)
check() {
    local name=$1; shift
    if "$@" >"$T/last.out" 2>&1; then pass "$name"
    else fail "$name" "exit $? from: $* -- $(tail -c 300 "$T/last.out" | tr '\n' ' ')"; fi
}
# check_fails SENTENCE CMD...: passes when CMD exits non-zero (not by a signal)
check_fails() {
    local name=$1; shift
    "$@" >"$T/last.out" 2>&1; local st=$?
    if [ $st -ne 0 ] && [ $st -lt 128 ]; then pass "$name"
    else fail "$name" "exit $st from: $* -- $(tail -c 300 "$T/last.out" | tr '\n' ' ')"; fi
}
# expect SENTENCE TEST-ARGS...: like check but for a condition
expect() { local name=$1; shift; if "$@"; then pass "$name"; else fail "$name" "condition false: $*"; fi; }
# tmux on the test's own socket (set SOCK first) and waiting for text on a pane:
#   tm new-session -d -s NAME ...; tm_wait NAME TEXT SECS || fail ...
tm() { tmux -L "$SOCK" "$@"; }
tm_wait() {   # tm_wait SESSION TEXT SECS: 0 once TEXT is on the pane, 1 after SECS
    local i
    for i in $(seq 1 $(( $3 * 20 ))); do
        tm capture-pane -p -t "$1" 2>/dev/null | grep -qF -- "$2" && return 0
        sleep 0.05
    done
    return 1
}
