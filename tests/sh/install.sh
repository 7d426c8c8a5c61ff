#!/usr/bin/env bash
# install.sh - zoosh installed like a Unix tool (issue 20): `make install
# PREFIX=... [DESTDIR=...]` puts the binary, the default encoder, the man page
# and bash/zsh completion in place, the installed binary finds its encoder in
# PREFIX/share/zoosh from any folder, the man page renders with `man -l` and
# holds every command's --help, completion offers the commands and each
# command's options, `make uninstall` takes it all away.  Also: every command
# refuses an unknown option the one getopt_long way, and the labeler's
# $XDG_CONFIG_HOME/zoosh/config and keys are read, bad lines and untrusted
# files refused.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3

# make as the tests were built: a sanitizer binary is build-NAME/zoosh
MK=(make -C "$ROOT" -s)
case $Z in "$ROOT"/build-*/zoosh) san=${Z#"$ROOT"/build-}; MK+=("SANITIZE=${san%/zoosh}") ;; esac
P=$T/p
check "make install PREFIX=$P" "${MK[@]}" install PREFIX="$P"
for f in bin/zoosh share/zoosh/encoder.safetensors share/man/man1/zoosh.1 \
         share/bash-completion/completions/zoosh share/zsh/site-functions/_zoosh; do
    expect "it installed PREFIX/$f" test -f "$P/$f"
done
expect "the binary is executable, the rest is not" sh -c "test -x '$P/bin/zoosh' && ! test -x '$P/share/zoosh/encoder.safetensors'"

# the installed binary, run from another folder, finds the encoder it was installed with
"$Z" sim s -n 6 --size 64 --quiet --threads 2 >/dev/null 2>&1
"$Z" init ws --schema ring >/dev/null 2>&1 && "$Z" import ws s/catalog.csv --threads 2 >/dev/null 2>&1
(cd / && env -u ZOOSH_ENCODER "$P/bin/zoosh" embed "$T/ws" --threads 2) > emb.out 2>&1; st=$?
expect "PREFIX/bin/zoosh embed runs (exit $st)" test $st -eq 0
expect "... with the encoder from PREFIX/share/zoosh ($(grep -m1 -o "convnext.*share/zoosh[^ ]*" emb.out))" \
    grep -q "feature set 'convnext'.*$P/share/zoosh/encoder.safetensors" emb.out
expect "... and does not say it has none" bash -c "! grep -q 'no default encoder' emb.out"

check "make install DESTDIR=$T/stage PREFIX=/usr stages below DESTDIR" "${MK[@]}" install DESTDIR="$T/stage" PREFIX=/usr
expect "... every file there" sh -c "test -f '$T/stage/usr/bin/zoosh' && test -f '$T/stage/usr/share/zoosh/encoder.safetensors' \
    && test -f '$T/stage/usr/share/man/man1/zoosh.1' && test -f '$T/stage/usr/share/bash-completion/completions/zoosh'"

# ---- the man page: rendered by man, and made of the --help texts
cmds=$("$Z" --help | sed -n 's/^  \([a-z][a-z0-9-]*\)  *.*/\1/p')
expect "zoosh --help lists the commands ($(echo $cmds | wc -w))" test "$(echo $cmds | wc -w)" -ge 16
if command -v man >/dev/null; then
    MANWIDTH=200 man -l "$P/share/man/man1/zoosh.1" > man.txt 2> man.err; st=$?
    expect "man -l shows the page (exit $st)" sh -c "test $st -eq 0 && grep -q 'ZOOSH(1)' man.txt && grep -q '^NAME' man.txt"
    expect "... without a complaint from groff ($(head -c 200 man.err))" test ! -s man.err
    missing=""
    for c in $cmds; do
        "$Z" $c --help | sed 's/^ *//; s/ *$//' | grep -v '^$' > "help.$c"
        while IFS= read -r l; do grep -qF -- "$l" man.txt || { missing="$missing $c:'$l'"; break; }; done < "help.$c"
    done
    expect "every line of every command's --help is in the page${missing:+ (not:$missing)}" test -z "$missing"
else
    skip "man -l shows the page" "no man (tools/deps.sh test installs man-db)"
fi
undoc=""
for c in $cmds; do
    for o in $("$Z" $c --list-options | sed 's/=$//' | grep -- '^--..'); do   # --k is -k's alias
        "$Z" $c --help | grep -q -- "$o\b" || undoc="$undoc $c:$o"
    done
done
expect "every long option a command parses is in its --help, so in the page${undoc:+ (not:$undoc)}" test -z "$undoc"

# ---- completion: bash, by calling its function as bash does
comp() {   # comp WORD...: what the installed bash completion offers for the last word
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _zoosh; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$P/share/bash-completion/completions/zoosh" "$@"
}
comp zoosh "" > c.cmds
expect "bash completion of 'zoosh <TAB>' lists every command ($(wc -l < c.cmds))" \
    sh -c "for c in $(echo $cmds); do grep -qx \"\$c\" c.cmds || exit 1; done"
expect "'zoosh ra<TAB>' completes to rank" test "$(comp zoosh ra)" = rank
comp zoosh rank ws --t > c.rank
expect "'zoosh rank ws --t<TAB>' offers --task and --top ($(tr '\n' ' ' < c.rank))" \
    sh -c "grep -qx -- --task c.rank && grep -qx -- --top c.rank"
comp zoosh stats ws -- > c.stats
expect "'zoosh stats ws --<TAB>' offers --json ($(tr '\n' ' ' < c.stats))" grep -qx -- --json c.stats
bad=""
for c in $cmds; do
    comp zoosh "$c" -- > "c.$c"
    for o in $("$Z" $c --list-options | grep -- '^--' | sed 's/=$//'); do grep -qx -- "$o" "c.$c" || bad="$bad $c:$o"; done
done
expect "every command's completion offers each of its long options${bad:+ (not:$bad)}" test -z "$bad"
nolist=""
for c in $cmds; do "$Z" $c --list-options >/dev/null 2>&1 || nolist="$nolist $c"; done
expect "every command lists its options for completion${nolist:+ (not:$nolist)}" test -z "$nolist"
expect "'zoosh export ws --format f<TAB>' completes to features" test "$(comp zoosh export ws --format f)" = features
comp zoosh label ws --order "" > c.order
expect "'zoosh label ws --order <TAB>' lists the orders ($(tr '\n' ' ' < c.order))" \
    sh -c "grep -qx uncertain c.order && grep -qx mixed c.order && test \$(wc -l < c.order) -eq 7"
expect "'zoosh label ws --graphics <TAB>' lists the backends --help names" \
    test "$(comp zoosh label ws --graphics "" | sort | tr '\n' ' ')" = "$("$Z" label --help | grep -o -- '--graphics [a-z0-9|]*' | head -1 | cut -d' ' -f2 | tr '|' '\n' | sort | tr '\n' ' ')"
expect "'zoosh rank ws --task <TAB>' is left to file names (a workspace's tasks are its own)" \
    test -z "$(comp zoosh rank ws --task "")"
SOCK="zt-install-$$"
trap 'tm kill-server 2>/dev/null; rm -rf "$T"' EXIT
if command -v zsh >/dev/null && command -v tmux >/dev/null; then
    expect "the zsh completion parses (zsh -n)" zsh -n "$P/share/zsh/site-functions/_zoosh"
    # a real interactive zsh with compinit and the installed function on $fpath
    mkdir -p zdot
    printf 'fpath=(%s $fpath)\npath=(%s $path)\nautoload -U compinit && compinit -u -D\nPS1="READY> "\n' \
        "$P/share/zsh/site-functions" "$P/bin" > zdot/.zshrc
    tm new-session -d -s zs -x 120 -y 20 "env ZDOTDIR='$T/zdot' HOME='$T/zdot' zsh -i"
    tm_wait zs "READY>" 10
    tm send-keys -t zs 'zoosh ra' Tab
    expect "zsh: 'zoosh ra<TAB>' completes to rank" tm_wait zs "READY> zoosh rank" 5
    tm send-keys -t zs C-u 'zoosh rank ws --t' Tab
    expect "zsh: 'zoosh rank ws --t<TAB>' offers --task and --top" sh -c "sleep 0.3; for i in \$(seq 50); do tmux -L '$SOCK' capture-pane -p -t zs | grep -q -- '--task  *--top' && exit 0; sleep 0.1; done; exit 1"
    tm send-keys -t zs C-u 'zoosh stats ws --j' Tab
    expect "zsh: 'zoosh stats ws --j<TAB>' completes to --json" tm_wait zs "READY> zoosh stats ws --json" 5
    tm kill-session -t zs 2>/dev/null
else
    skip "zsh completion" "no zsh or tmux (tools/deps.sh test installs zsh)"
fi

check "make uninstall PREFIX=$P" "${MK[@]}" uninstall PREFIX="$P"
expect "nothing it installed is left ($(find "$P" -type f | head -3 | tr '\n' ' '))" test -z "$(find "$P" -type f)"

# ---- every command: an unknown option is a usage error, said the same way
for c in $cmds; do
    "$Z" $c ws --frobnicate >err.txt 2>&1; st=$?
    grep -q "zoosh $c: unknown option '--frobnicate'" err.txt && [ $st -eq 2 ] || bad="$bad $c($st)"
done
expect "every command says \"unknown option '--frobnicate'\" and exits 2${bad:+ (not:$bad)}" test -z "$bad"
"$Z" label ws --retire=0 >err.txt 2>&1; st=$?
expect "label --retire=0 is read as --retire 0 and refused ($(head -c 100 err.txt))" \
    sh -c "test $st -eq 2 && grep -q -- \"--retire: '0' is not a count\" err.txt"

# ---- $XDG_CONFIG_HOME/zoosh/config and keys
X=$T/xdg
mkdir -p "$X/zoosh" && chmod 700 "$X/zoosh"
lab() { env XDG_CONFIG_HOME="$X" "$Z" label ws --task ring "$@" >err.txt 2>&1; echo $?; }
printf 'retire = 0\n' > "$X/zoosh/config"
st=$(lab)
expect "a config line with a bad value is refused naming file:line (exit $st: $(head -c 120 err.txt))" \
    sh -c "test $st -eq 1 && grep -qF \"$X/zoosh/config:1: retire: '0' is not a count\" err.txt"
printf '# my defaults\n\ngraphics = none\ncolour = red\n' > "$X/zoosh/config"
st=$(lab)
expect "an unknown setting is refused naming file:line (exit $st)" \
    sh -c "test $st -eq 1 && grep -qF \"$X/zoosh/config:4: unknown setting 'colour'\" err.txt"
printf 'graphics = none\n' > "$X/zoosh/config"; chmod 666 "$X/zoosh/config"
st=$(lab)
expect "a config file others may write is refused (exit $st)" sh -c "test $st -eq 1 && grep -q 'writable by group or others' err.txt"
chmod 600 "$X/zoosh/config"
ln -s "$T/elsewhere" "$X/zoosh/keys"; printf 'quit x\n' > "$T/elsewhere"
st=$(lab)
expect "a keys file that is a symlink is refused (exit $st)" sh -c "test $st -eq 1 && grep -q 'keys is a symbolic link' err.txt"
rm "$X/zoosh/keys"
chown 65534 "$X/zoosh"
st=$(lab)
expect "a config folder owned by another user is refused (exit $st)" sh -c "test $st -eq 1 && grep -q 'owned by another user' err.txt"
chown 0 "$X/zoosh"
chmod 777 "$X"
st=$(lab)
expect "a config folder inside one anyone may write (no sticky bit) is refused (exit $st)" \
    sh -c "test $st -eq 1 && grep -q 'is another user.s or writable by others' err.txt"
chmod 700 "$X"
mv "$X/zoosh" "$X/real"; ln -s real "$X/zoosh"
st=$(lab)
expect "a config folder that is a symlink is refused (exit $st)" sh -c "test $st -eq 1 && grep -q 'zoosh is a symbolic link' err.txt"
rm "$X/zoosh"; mv "$X/real" "$X/zoosh"

# a trusted keys file is the labeler's key map: x quits
if command -v tmux >/dev/null; then
    printf 'quit x\n' > "$X/zoosh/keys"; chmod 600 "$X/zoosh/keys"
    printf 'graphics = none   \n# the queue\norder = random\n' > "$X/zoosh/config"
    LANG=C.UTF-8 tm -u new-session -d -s z -x 100 -y 30 \
        "cd '$T' && env XDG_CONFIG_HOME='$X' '$Z' label ws --task ring --retrain 0; echo EXITED \$?; sleep 30"
    expect "the labeler starts with the config file read" tm_wait z "Does the galaxy have a ring?" 15
    expect "... and its queue in the config's order (random)" tm_wait z "order random" 5
    tm send-keys -t z x
    expect "x, bound to quit in \$XDG_CONFIG_HOME/zoosh/keys, quits (exit 0)" tm_wait z "EXITED 0" 10
    tm kill-server 2>/dev/null
else
    skip "the keys file remaps quit" "no tmux"
fi
