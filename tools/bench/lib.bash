# tools/bench/lib.bash - what the tools/bench/*.sh scripts share (sourced, so
# not named *.sh: tools/bench.sh runs every *.sh as a bench):
#   bench_cc OUT SRC...      compile a C driver against build/libzcore.a and
#                            libzstore.a with the Makefile's pkg-config flags
#   bench_peer_missing FIGURE PKG TEST...
#                            runs TEST; when it fails, prints a row saying the
#                            peer is missing (and which Debian package has it)
#                            and returns 0, so the caller can skip its peer
#   bench_limits             reads the machine's limits (tools/bench/limits.sh
#                            wrote them to $ZT_BENCH_LIMITS, by default
#                            build/bench_limits.txt); returns 1 if none
#   bench_fraction LIMIT_MS MEASURED_MS   the fraction of the limit reached
# Run from the repository root.
: "${ZT_BENCH_LIMITS:=$PWD/build/bench_limits.txt}"

bench_cc() {
    local out=$1; shift
    make -s build/libzcore.a build/libzstore.a >&2 || return 1
    eval "$(make -s --no-print-directory bench-flags)"
    # shellcheck disable=SC2086  # the flags are words
    cc -O2 $BENCH_CFLAGS "$@" $BENCH_LIBS -o "$out"
}

bench_peer_missing() {
    local fig=$1 pkg=$2; shift 2
    "$@" >/dev/null 2>&1 && return 1
    printf '%s\t-\tpeer missing: %s (apt-get install %s)\t-\t-\t-\n' "$fig" "$pkg" "$pkg"
    return 0
}

bench_limits() {
    [ -n "${ZT_BENCH_LIMITS:-}" ] && [ -s "$ZT_BENCH_LIMITS" ] || return 1
    # shellcheck disable=SC1090  # written by limits.sh: name=value lines
    . "$ZT_BENCH_LIMITS"
}

bench_fraction() {
    awk -v l="$1" -v m="$2" 'BEGIN { if (l > 0 && m > 0) printf "%.2f of the limit", l / m; else print "-" }'
}
