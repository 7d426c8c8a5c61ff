#!/bin/sh
# tools/mkman.sh ZOOSH - the manual page zoosh.1 on stdout, made from the
# binary's own help: `zoosh --help` and `zoosh CMD --help` for every command
# it lists, so the page and --help never disagree (make builds it; make
# install installs it).  The text is kept as written (no-fill), with troff's
# special characters escaped.
set -eu
Z=${1:?usage: tools/mkman.sh ZOOSH}
LC_ALL=C
export LC_ALL

# troff-safe lines: backslash as \e, a leading . or ' guarded with \&,
# minus signs as \- (so options copy-paste as ASCII hyphens)
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

version=$("$Z" --version | sed 's/^zoosh //')
cmds=$("$Z" --help | sed -n 's/^  \([a-z][a-z0-9-]*\)  *.*/\1/p')
summary=$("$Z" --help | sed -n '1s/^zoosh [^ ]* - //p')

printf '.TH ZOOSH 1 "" "zoosh %s" "User Commands"\n' "$version"
printf '.SH NAME\nzoosh \\- %s\n' "$(printf '%s' "$summary" | esc)"
printf '.SH SYNOPSIS\n.B zoosh\n.I COMMAND\n.RI [ ARGS ...]\n'
for c in $cmds; do printf '.br\n.B zoosh %s\n.RI [ OPTIONS ...]\n' "$c"; done
printf '.SH DESCRIPTION\n.nf\n'
"$Z" --help | esc
printf '.fi\n.SH COMMANDS\n'
for c in $cmds; do
    printf '.SS zoosh %s\n.nf\n' "$c"
    "$Z" "$c" --help | esc
    printf '.fi\n'
done
