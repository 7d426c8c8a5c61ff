# tools/bench/tui_pty.py - drives `zoosh label` through a pty as a sixel
# terminal would (answers the probe like xterm -ti vt340: 8x17 cells, 256
# colour registers), waits for each galaxy's sixel image to be complete (the
# ST terminator ESC \ after a DCS), presses an answer key, and measures key ->
# next image fully written.  Prints one line per image: "ms bytes key" (the
# first image has ms = -1), then nothing else.  Standard library only.
#   python3 tui_pty.py ZOOSH WS N [PAUSE_S [IMAGE_PX [KEYS]]]   (IMAGE_PX 0 = the default size)
# KEYS: the keys pressed in turn, cycled (default "2", an answer); "+-2"
# zooms in (drawn on the key), out (cached) and answers, galaxy after galaxy.
import os, pty, select, struct, sys, time, fcntl, termios

zoosh, ws, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0.05
image_px = int(sys.argv[5]) if len(sys.argv) > 5 else 256
keys = sys.argv[6] if len(sys.argv) > 6 else "2"
REPLIES = (b"\x1b[6;17;8t" b"\x1b[?2;0;800;680S" b"\x1b[?1;0;256S"
           b"\x1b[?63;1;2;4;6;9;15;16;22;28c")

pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 800, 680))
    os.environ["TERM"] = "xterm-256color"
    args = [zoosh, "label", ws, "--task", "ring", "--retrain", "0", "--graphics", "sixel"]
    if image_px > 0:
        args += ["--image-px", str(image_px)]
    os.execv(zoosh, args)

buf = bytearray()
answered = False

def pump(timeout):
    global answered
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return False
    try:
        data = os.read(fd, 1 << 16)
    except OSError:
        return False
    buf.extend(data)
    if not answered and b"\x1b[c" in buf:
        os.write(fd, REPLIES)
        answered = True
    return True

def next_image(deadline):
    """Returns (end time, sixel bytes) of the next complete DCS ... ST."""
    while True:
        start = buf.find(b"\x1bP")
        if start >= 0:
            end = buf.find(b"\x1b\\", start)
            if end >= 0:
                t = time.perf_counter()
                size = end + 2 - start
                del buf[:end + 2]
                return t, size
        if time.perf_counter() > deadline or not pump(0.5):
            if time.perf_counter() > deadline:
                raise SystemExit("no image within the deadline")

t, size = next_image(time.perf_counter() + 10)
print(-1, size, "-")
for i in range(n):
    key = keys[i % len(keys)]
    time.sleep(pause)                    # a (very fast) person looks, then answers
    while pump(0):                       # drain whatever came after the image
        pass
    buf.clear()
    t0 = time.perf_counter()
    os.write(fd, key.encode())
    t1, size = next_image(t0 + 10)
    print("%.3f %d %s" % ((t1 - t0) * 1e3, size, key))
    sys.stdout.flush()
os.write(fd, b"q")
for _ in range(50):
    if not pump(0.1):
        pass
    done, _ = os.waitpid(pid, os.WNOHANG)
    if done:
        break
