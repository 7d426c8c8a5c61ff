#!/usr/bin/env bash
# escape.sh - catalog text never reaches the terminal raw.  A catalog whose
# ids and survey column hold escape sequences (set the window title, clear the
# screen, write the clipboard, colours, 8-bit CSI), control characters,
# invalid UTF-8 and huge fields is imported and labeled in a real pty
# (tests/fuzz/ptyrun.py keeps every byte written, which tmux would swallow);
# none of the injected sequences appears verbatim in what zoosh import,
# zoosh label, zoosh rank, zoosh similar and zoosh stats write to the terminal, while the
# sanitised text is shown.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
cp "$Z" "$T/zoosh.bin" && Z=$T/zoosh.bin   # others relink ./zoosh meanwhile
PTY="$PY $ROOT/tests/fuzz/ptyrun.py"
IMG=$(ls "$SHARED"/decals_rings/images/*.png 2>/dev/null | head -1)
[ -n "$IMG" ] || { skip "no ring images in $SHARED"; exit 0; }

check "a workspace with the ring task" "$Z" init ws --schema ring
# the payloads: each has a marker word right after its control bytes
$PY - "$IMG" <<'PY'
import csv, sys
img = sys.argv[1]
# (ids with C0 control bytes are refused at import, so those payloads ride in
# the survey column; an id keeps the 8-bit CSI and the invalid UTF-8)
rows = [
    ("esc-t1", "\x1b]0;PWNED\x07t1\x1b[2JWIPED"),               # OSC title, erase screen
    ("csi-red", "\x1b[31mREDTEXT\x1b]52;c;Zm9vCg==\x07CLIPBOARD"),  # SGR, OSC 52 clipboard
    ("ctl", "\x07\x08\x0d\x7f\x0bCTLCHARS"),                    # BEL BS CR DEL VT
    ("c1\u009b2JC1CSI", "\x9bbad\xff"),                        # 8-bit CSI as UTF-8; invalid UTF-8
    ("dcs", "\x1bP1$tDCSSTR\x1b\\" + "A" * 3000),               # DCS; a 3 kB field
    ("utf8bad\udcff\udcc3(X", "x" * 300),
    ("long" + "L" * 400, "\x1b[6nDSRQUERY"),                  # a long id; cursor report query
    ("plain1", "normal"),
    ("idesc\x1b]0;IDPWN\x07", "ok"),                          # an id holding an escape: refused
]
with open("evil.csv", "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
    w = csv.writer(f)
    w.writerow(["id", "file", "survey", "ring"])
    for i, (gid, survey) in enumerate(rows):
        w.writerow([gid, img, survey, i % 2])
with open("huge.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "file", "survey", "ring"])
    w.writerow(["huge1", img, "B" * 100000, 1])
    w.writerow(["fine1", img, "ok", 0])
PY
# the injected byte sequences that must never come out raw
cat > payloads.txt <<'EOF'
\x1b]0;PWNED
\x1b[2JWIPED
\x1b[31mREDTEXT
\x1b]52;c;
\x07\x08\x0d\x7f\x0bCTLCHARS
\xc2\x9b2JC1CSI
\x9bbad
\x1bP1$tDCSSTR
\x1b[6nDSRQUERY
EOF
# raw_clean FILE: no payload of payloads.txt in FILE
raw_clean() {
    $PY - "$1" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read()
bad = [l.strip() for l in open("payloads.txt") if l.strip()]
found = [p for p in bad if p.encode().decode("unicode_escape").encode("latin-1") in raw]
if found:
    print("raw payloads in %s: %s" % (sys.argv[1], found)); sys.exit(1)
PY
}
shows() { grep -qaF -- "$2" "$1"; }

# import in a pty: its messages (bad rows name the id) go to the terminal too
echo "expect-exit 60" | $PTY --out import.raw --timeout 60 -- "$Z" import ws evil.csv --skip-bad --threads 1 2>import.st
expect "the import ends ($(cat import.st))" grep -q "^exit [01]$" import.st
expect "zoosh import writes no raw escape sequence from the catalog" raw_clean import.raw
expect "the id holding an escape is refused by line" grep -qa "evil.csv:10: column id: id holds a control character" import.raw
n=$("$Z" export ws --format answers >/dev/null 2>&1; "$Z" stats ws 2>/dev/null | grep -o '[0-9]* galaxies' | head -1 | grep -o '[0-9]*')
expect "the hostile rows are imported or refused by name, the plain one is in (${n:-?} galaxies)" test "${n:-0}" -ge 1

# a 100 kB field: refused by row (or kept), never a failed write of everything
"$Z" init ws2 --schema ring >/dev/null 2>&1
"$Z" import ws2 huge.csv --skip-bad --threads 1 >huge.out 2>&1
expect "a 100 kB catalog field is refused naming its line, the other row imported ($(head -c 200 huge.out | tr '\n' ' '))" \
    bash -c "'$Z' stats ws2 | grep -q '^galaxies *[12]\$'"

# label every galaxy (1 = ring), open the queue and the help, then quit
{
    echo "wait ring? 15"
    for i in 1 2 3 4 5 6 7 8; do echo "keys 1"; echo "quiet 300"; done
    echo "keys g"; echo "quiet 300"; echo "keys \\x1b"; echo "sleep 1"   # past ESCDELAY
    echo "keys ?"; echo "quiet 300"; echo "keys x"; echo "quiet 300"
    echo "keys q"; echo "sleep 2"; echo "keys q"; echo "expect-exit 15"
} | TERM=xterm-256color LANG=C.UTF-8 $PTY --out label.raw --timeout 60 -- \
    "$Z" label ws --task ring --graphics blocks --retrain 0 --order catalog 2>label.st
expect "the labeler ran and quit ($(cat label.st))" grep -q "^exit 0$" label.st
expect "zoosh label writes no raw escape sequence from the catalog" raw_clean label.raw
expect "the labeler showed the sanitised catalog text (PWNED, REDTEXT, CTLCHARS; the id C1CSI)" \
    bash -c "grep -qaF PWNED label.raw && grep -qaF REDTEXT label.raw && grep -qaF CTLCHARS label.raw && grep -qaF C1CSI label.raw"
expect "the labeler showed the sanitised survey text (WIPED or CLIPBOARD)" \
    bash -c "grep -qaF WIPED label.raw || grep -qaF CLIPBOARD label.raw"

# listings a person reads in a terminal
check "the galaxies get features (zoosh embed)" nice "$Z" embed ws --threads 1 --quiet
echo "expect-exit 30" | $PTY --out rank.raw --timeout 30 -- "$Z" rank ws --task ring --order catalog 2>rank.st
expect "zoosh rank lists the galaxies ($(cat rank.st))" bash -c "grep -q '^exit 0$' rank.st && grep -qaF plain1 rank.raw"
expect "zoosh rank on a terminal writes no raw escape sequence from the catalog" raw_clean rank.raw
echo "expect-exit 30" | $PTY --out similar.raw --timeout 30 -- "$Z" similar ws plain1 -k 7 2>similar.st
expect "zoosh similar lists the neighbours ($(cat similar.st))" grep -q "^exit 0$" similar.st
expect "zoosh similar on a terminal writes no raw escape sequence from the catalog" raw_clean similar.raw
echo "expect-exit 30" | $PTY --out stats.raw --timeout 30 -- "$Z" stats ws 2>stats.st
expect "zoosh stats on a terminal writes no raw escape sequence from the catalog" raw_clean stats.raw
check "the workspace checks clean" "$Z" check ws
