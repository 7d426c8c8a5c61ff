#!/usr/bin/env bash
# label_backends.sh - every graphics backend shows the galaxy (issue 19):
# - sixel in mlterm and the kitty graphics protocol in kitty, each found by
#   asking the terminal (auto) and shot on a private Xvfb through
#   ../shared/tools/term-shot: the image pane's NCC against the galaxy;
# - iTerm2 inline images (OSC 1337): the labeler in a pty, the byte stream
#   decoded here (base64 PNG) and compared with the galaxy's pixels;
# - symbols in tmux with no COLORTERM: the half blocks' colours read back
#   with capture-pane -e, against the galaxy: the mean colour error (over
#   2x2-cell areas, as the eye averages them) is bounded and the colour
#   (mean chroma) is kept, where the old palette mapping drew it grey.
. "$(dirname "$0")/lib.sh"
SHOT=${ZT_TERM_SHOT:-$SHARED/../tools/term-shot}
PY=/usr/bin/python3
CAT=$SHARED/decals_rings/catalog.csv
[ -f "$CAT" ] || { skip "no $CAT"; exit 0; }
"$PY" -c 'import numpy, PIL' 2>/dev/null || { skip "python3-numpy / python3-pil are not installed (tools/deps.sh test)"; exit 0; }
img() { echo "$SHARED/decals_rings/$(sed -n "$(($1 + 1))p" "$CAT" | cut -d, -f2)"; }

check "a workspace with the ring task" "$Z" init ws --schema ring
check "imports the ring galaxies" nice "$Z" import ws "$CAT" --threads 1

# ---- real terminals: the backend auto picks, and the pane against galaxy 1
# shot TERMINAL WANT: the labeler starts a moment after the terminal (as a
# person starts it from a shell), so that a terminal still starting answers
# the probe in time
shot() {
    local t=$1 want=$2 log="$T/$1.log"
    if ! command -v "$t" >/dev/null || ! command -v Xvfb >/dev/null || [ ! -x "$SHOT" ]; then
        skip "$t: needs $t, xvfb and $SHOT (tools/deps.sh test)"; return
    fi
    "$SHOT" --terminal "$t" --cols 100 --rows 40 --wait 4 "$t.png" -- \
        sh -c "sleep 0.5; exec env ZOOSH_LOG=$log $Z label ws --task ring --retrain 0" >"$t.out" 2>&1
    expect "$t: the labeler asked the terminal and chose $want" \
        grep -q "^terminal: .*-> graphics $want," "$log"
    local side cw ch best=0 bo=0 b ncc
    side=$(grep '^image' "$log" | tail -1 | sed 's/.*(\([0-9]*\)x.*/\1/')
    read -r cw ch < <(sed -n 's/^terminal: .* cell \([0-9]*\)x\([0-9]*\) .*/\1 \2/p' "$log")
    convert "$(img 1)" -resize "${side:-1}x${side:-1}" "$t.want.png"
    convert "$(img 3)" -resize "${side:-1}x${side:-1}" "$t.other.png"
    # the image box starts at cell (1,1) inside the window's border (0..2 px)
    for b in 0 1 2; do
        convert "$t.png" -crop "${side}x${side}+$((b + cw))+$((b + ch))" +repage "$t.pane$b.png"
        ncc=$(compare -metric NCC "$t.pane$b.png" "$t.want.png" null: 2>&1)
        if awk "BEGIN{exit !($ncc > $best)}"; then best=$ncc; bo=$b; fi
    done
    local other
    other=$(compare -metric NCC "$t.pane$bo.png" "$t.other.png" null: 2>&1)
    expect "$t: the image pane matches galaxy 1 (NCC $best > 0.95)" awk "BEGIN{exit !($best > 0.95)}"
    expect "$t: and not galaxy 3 (NCC $other < 0.8)" awk "BEGIN{exit !($other < 0.8)}"
}
shot mlterm sixel
shot kitty kitty

# ---- iTerm2: the bytes the labeler writes, decoded
cat >iterm2.py <<'EOF'
import io, os, pty, re, select, sys, time, base64, fcntl, termios, struct
import numpy as np
from PIL import Image
z, want, other = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.environ.update(TERM="xterm-256color", LANG="C.UTF-8")
    os.environ.pop("COLORTERM", None)
    os.execv(z, [z, "label", "ws", "--task", "ring", "--retrain", "0", "--graphics", "iterm2"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 800, 680))
os.kill(pid, 28)                      # SIGWINCH: the size above
out, end = b"", time.time() + 8
pat = re.compile(rb"\x1b\]1337;File=([^:\x07]*):([A-Za-z0-9+/=]*)\x07")
while time.time() < end and not pat.search(out):
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try: out += os.read(fd, 1 << 20)
        except OSError: break
os.write(fd, b"q")
time.sleep(0.3)
try: os.kill(pid, 15)
except ProcessLookupError: pass
os.waitpid(pid, 0)
m = pat.search(out)
if not m:
    print("no OSC 1337 File= sequence in %d bytes" % len(out), file=sys.stderr)
    print("0 0 0 1 0"); sys.exit(1)
args = dict(kv.split(b"=", 1) for kv in m.group(1).split(b";"))
png = base64.b64decode(m.group(2), validate=True)
im = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), float)
h, w = im.shape[:2]
ok = args.get(b"inline") == b"1" and int(args[b"size"]) == len(png) and \
     args.get(b"width") == b"%dpx" % w and args.get(b"height") == b"%dpx" % h
def ncc(a, b):
    a = a - a.mean(); b = b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))
def src(p): return np.asarray(Image.open(p).convert("RGB").resize((w, h), Image.LANCZOS), float)
print("%d %d %.4f %.4f %d" % (w, h, ncc(im, src(want)), ncc(im, src(other)), ok))
EOF
read -r iw ih incc iother iok < <("$PY" iterm2.py "$Z" "$(img 1)" "$(img 3)" 2>iterm2.err)
[ -s iterm2.err ] && echo "iterm2: $(tail -c 300 iterm2.err)"
expect "iterm2: the OSC 1337 sequence carries a ${iw:-?}x${ih:-?} PNG with its size, width and height" test "${iok:-0}" = 1
expect "iterm2: the decoded PNG is galaxy 1 (NCC ${incc:-?} > 0.95)" awk "BEGIN{exit !(${incc:-0} > 0.95)}"
expect "iterm2: and not galaxy 3 (NCC ${iother:-?} < 0.8)" awk "BEGIN{exit !(${iother:-1} < 0.8)}"

# ---- symbols in tmux, no COLORTERM: colours kept
if command -v tmux >/dev/null; then
    SOCK=zt-backends-$$
    trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
    tm -f /dev/null new-session -d -s s -x 100 -y 40 \
        "env -u COLORTERM ZOOSH_LOG=$T/sym.log LANG=C.UTF-8 $Z label ws --task ring --retrain 0"
    for i in $(seq 1 100); do grep -q '^image' sym.log 2>/dev/null && break; sleep 0.1; done
    sleep 0.5
    tm capture-pane -p -e -t s >sym.txt
    tm kill-server 2>/dev/null
    expect "symbols: auto chose symbols inside tmux" grep -q -- "-> graphics symbols," sym.log
    cat >sym.py <<'EOF'
import re, sys
import numpy as np
from PIL import Image
cap, want, side = sys.argv[1], sys.argv[2], int(sys.argv[3])
cube = [0, 95, 135, 175, 215, 255]
def pal(k):
    if k >= 232: v = 8 + 10 * (k - 232); return (v, v, v)
    k -= 16; return (cube[k // 36], cube[k // 6 % 6], cube[k % 6])
rows = side // 2
img = np.zeros((2 * rows, side, 3))
for y, line in enumerate(open(cap, encoding="utf-8").read().split("\n")[1:1 + rows]):
    fg = bg = (0, 0, 0); x = 0
    for m in re.finditer(r"\x1b\[([0-9;]*)m|(.)", line):
        if m.group(1) is not None:
            p = [int(v) if v else 0 for v in m.group(1).split(";")]
            i = 0
            while i < len(p):
                if p[i] in (38, 48) and i + 2 < len(p) and p[i + 1] == 5:
                    c = pal(p[i + 2]); i += 3
                elif p[i] in (38, 48) and i + 4 < len(p) and p[i + 1] == 2:
                    c = tuple(p[i + 2:i + 5]); i += 5
                else:
                    if p[i] == 0: fg = bg = (0, 0, 0)
                    i += 1; continue
                if p[i - 3 if p[i - 2] != 2 else i - 5] == 38: fg = c
                else: bg = c
            continue
        if 1 <= x <= side:
            if m.group(2) == "\u2580": img[2 * y, x - 1], img[2 * y + 1, x - 1] = fg, bg
            else: img[2 * y, x - 1] = img[2 * y + 1, x - 1] = bg
        x += 1
src = np.asarray(Image.open(want).convert("RGB").resize((side, 2 * rows), Image.LANCZOS), float)
def blur(a):   # 2x2 cells = 2 x 4 pixels
    h, w = a.shape[0] // 4 * 4, a.shape[1] // 2 * 2
    return a[:h, :w].reshape(h // 4, 4, w // 2, 2, 3).mean((1, 3))
err = np.sqrt(((blur(img) - blur(src)) ** 2).sum(-1)).mean()
chroma = lambda a: (a.max(-1) - a.min(-1)).mean()
print("%.2f %.2f %.2f" % (err, chroma(blur(img)), chroma(blur(src))))
EOF
    side=$(grep '^image' sym.log | tail -1 | sed 's/.*(\([0-9]*\)x.*/\1/')
    read -r serr schroma wchroma < <("$PY" sym.py sym.txt "$(img 1)" "${side:-0}" 2>sym.err)
    [ -s sym.err ] && echo "symbols: $(tail -c 300 sym.err)"
    # measured on galaxy 1 (62x62 px, RGB distance 0..441): the error-diffused
    # palette 2.77, chroma 2.53 of the galaxy's 3.45; the nearest-colour palette
    # of before 4.01, chroma 0.02 (grey)
    expect "symbols: mean colour error over 2x2 cells ${serr:-?} < 3.5" awk "BEGIN{exit !(${serr:-99} < 3.5)}"
    expect "symbols: the colour is kept (mean chroma ${schroma:-?} >= 0.6 x the galaxy's ${wchroma:-?})" \
        awk "BEGIN{exit !(${schroma:-0} >= 0.6 * ${wchroma:-1})}"
else
    skip "symbols: tmux is not installed (tools/deps.sh test)"
fi
