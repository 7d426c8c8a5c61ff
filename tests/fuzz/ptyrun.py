#!/usr/bin/python3
"""ptyrun.py - run a command in a pseudo-terminal, type keys at it, and keep
every byte it writes to the terminal (what tmux would interpret and hide).

    ptyrun.py [--cols 100] [--rows 30] [--timeout 30] --out RAW -- CMD ARGS...
              with steps on standard input, one per line:
        wait TEXT [SECS]   until TEXT (utf-8, may hold \\x1b escapes) has been
                           written since the last wait (default 10 s; exit 3 if not)
        keys STRING        write STRING to the terminal (Python escapes: \\r \\x1b)
        slowkeys STRING    the same, one key every 50 ms
        sleep SECS         keep reading for SECS
        quiet MS           until nothing was written for MS milliseconds
        kill SIG           send signal SIG (a number) to the command
        expect-exit [SECS] wait for the command to end (exit 4 if it does not)
Exits 0 when the steps ran (the command is killed if still running at the
end), 3 when a wait timed out, 4 when expect-exit timed out.  The command's
exit status is printed as "exit N" or "signal N" on standard error.
"""
import os, pty, select, signal, struct, sys, time, fcntl, termios


def main():
    a = sys.argv[1:]
    cols, rows, timeout, out = 100, 30, 30.0, None
    while a and a[0] != "--":
        k = a.pop(0)
        v = a.pop(0)
        if k == "--cols": cols = int(v)
        elif k == "--rows": rows = int(v)
        elif k == "--timeout": timeout = float(v)
        elif k == "--out": out = v
        else: sys.exit("ptyrun: unknown option " + k)
    cmd = a[1:]
    steps = [l.rstrip("\n") for l in sys.stdin if l.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, rows * 20, cols * 10))
    os.kill(pid, signal.SIGWINCH)
    raw = bytearray()
    mark = 0              # wait looks at raw[mark:]
    last_byte = [time.time()]
    status = [None]
    t_end = time.time() + timeout

    def pump(secs):
        """read for up to secs; False once the child is gone and drained"""
        end = time.time() + secs
        while True:
            left = end - time.time()
            if left <= 0: return True
            r, _, _ = select.select([fd], [], [], min(left, 0.05))
            if r:
                try:
                    b = os.read(fd, 65536)
                except OSError:
                    b = b""
                if not b:
                    reap(True)
                    return False
                raw.extend(b)
                last_byte[0] = time.time()
            elif status[0] is None:
                reap(False)

    def reap(block):
        if status[0] is not None: return
        try:
            p, st = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return
        if p == pid: status[0] = st

    rc = 0
    for s in steps:
        op, _, arg = s.partition(" ")
        if time.time() > t_end: rc = 3; break
        if op == "wait":
            text, secs = arg, 10.0
            parts = arg.rsplit(" ", 1)
            if len(parts) == 2:
                try: text, secs = parts[0], float(parts[1])
                except ValueError: pass
            want = text.encode().decode("unicode_escape").encode("latin-1") if "\\" in text else text.encode()
            end = time.time() + secs
            while want not in raw[mark:]:
                if time.time() > end or not pump(0.05):
                    break
            if want not in raw[mark:]:
                sys.stderr.write("ptyrun: timed out waiting for %r\n" % text)
                rc = 3; break
            mark = raw.index(want, mark) + len(want)
        elif op in ("keys", "slowkeys"):
            b = arg.encode().decode("unicode_escape").encode("latin-1")
            for i in range(len(b)) if op == "slowkeys" else [None]:
                try:
                    os.write(fd, b if i is None else b[i:i + 1])
                except OSError:
                    break
                if i is not None: pump(0.05)
        elif op == "sleep":
            pump(float(arg))
        elif op == "quiet":
            ms = float(arg) / 1000
            while time.time() - last_byte[0] < ms and time.time() < t_end:
                if not pump(0.02): break
        elif op == "kill":
            try: os.kill(pid, int(arg))
            except ProcessLookupError: pass
        elif op == "expect-exit":
            secs = float(arg or 10)
            end = time.time() + secs
            while status[0] is None and time.time() < end:
                if not pump(0.05): break
                reap(False)
            if status[0] is None:
                rc = 4; break
        else:
            sys.exit("ptyrun: unknown step " + s)
    if status[0] is None:
        pump(0.2)
        reap(False)
    if status[0] is None:
        os.kill(pid, signal.SIGKILL)
        reap(True)
    try:
        while True:
            r, _, _ = select.select([fd], [], [], 0.05)
            if not r: break
            b = os.read(fd, 65536)
            if not b: break
            raw.extend(b)
    except OSError:
        pass
    if out:
        with open(out, "wb") as f: f.write(raw)
    st = status[0]
    if st is not None:
        sys.stderr.write("exit %d\n" % os.WEXITSTATUS(st) if os.WIFEXITED(st) else "signal %d\n" % os.WTERMSIG(st))
    sys.exit(rc)


main()
