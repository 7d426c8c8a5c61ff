#!/usr/bin/env bash
# convnext.sh - zoosh embed --weights through the real binary: a ConvNeXt in
# timm's safetensors layout (the small fixture of tools/make_fixtures.py)
# embeds the real ring catalog, and broken weight files are refused with
# the file named and nothing stored.
. "$(dirname "$0")/lib.sh"
W="$ROOT/tests/data/convnext_fixture.safetensors"
status() { "$@" >"$T/last.out" 2>&1; echo $?; }

if ! { $Z init rings --schema ring && $Z import rings "$SHARED/decals_rings/catalog.csv"; } >"$T/imp.out" 2>&1; then
    fail "a workspace of the ring catalog for embedding" "init/import failed: $(tail -c 200 "$T/imp.out" | tr '\n' ' ')"
    exit 0
fi
check "embeds the 200 ring galaxies with a ConvNeXt from safetensors" \
    $Z embed --weights "$W" --size 64 --quiet rings
expect "all 200, 40 dimensions, the architecture read from the shapes" \
    grep -q "embedded 200 galaxies into feature set 'convnext' (40 dims, custom (depths 1,1,2,1" "$T/last.out"
id=$(sed -n 2p "$SHARED/decals_rings/catalog.csv" | cut -d, -f1)
check "similar finds neighbours in the ConvNeXt features" $Z similar rings "$id" -k 5 --set convnext
expect "five of them" test "$(grep -vc '^#' "$T/last.out")" -eq 5

head -c 1000 "$W" > cut.safetensors
expect "a truncated weights file is refused (exit 1)" \
    test "$(status $Z embed --weights cut.safetensors --set cut rings)" -eq 1
expect "naming the file and what is wrong" grep -q "cut.safetensors: truncated" "$T/last.out"
expect "a file of another architecture is refused (exit 1)" \
    test "$(status $Z embed --weights "$W" --arch convnext_nano --set nano rings)" -eq 1
expect "naming the tensor and both shapes" \
    grep -q 'tensor "stem.0.weight" has shape (16, 3, 4, 4), expected (80, 3, 4, 4)' "$T/last.out"
check_fails "no feature set was made for the refused files" $Z similar rings "$id" -k 1 --set cut
expect "(there is no set 'cut')" grep -q "no feature set 'cut'" "$T/last.out"
expect "a size under 32 px is a usage error (2)" \
    test "$(status $Z embed --weights "$W" --size 16 rings)" -eq 2

# the input size and crop an encoder records are checked, not silently
# replaced by 224 px (issue 21)
meta() {   # meta OUT KEY VALUE: the fixture with one metadata entry set
    /usr/bin/python3 - "$W" "$1" "$2" "$3" <<'PY'
import json, struct, sys
src, out, k, v = sys.argv[1:]
b = open(src, 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8 + n])
h.setdefault('__metadata__', {})[k] = v
j = json.dumps(h).encode()
j += b' ' * (-len(j) % 8)
open(out, 'wb').write(struct.pack('<Q', len(j)) + j + b[8 + n:])
PY
}
meta size1.safetensors zoosh_input_size 1
expect "an encoder recording a 1 px input is refused (exit 1)" \
    test "$(status $Z embed --weights size1.safetensors --set s1 rings)" -eq 1
expect "naming the file and the value" grep -q "size1.safetensors: .*zoosh_input_size '1' is not a size of 32..4096" "$T/last.out"
meta sizem5.safetensors zoosh_input_size -5
expect "... and -5 px" test "$(status $Z embed --weights sizem5.safetensors --set s5 rings)" -eq 1
meta crop0.safetensors zoosh_crop 0
expect "... and a crop of 0" test "$(status $Z embed --weights crop0.safetensors --set c0 rings)" -eq 1
meta size64.safetensors zoosh_input_size 64
check "one recording 64 px embeds at 64 px" $Z embed --weights size64.safetensors --set s64 --quiet rings
expect "... as it says" grep -q "size64.safetensors at 64 px" "$T/last.out"
