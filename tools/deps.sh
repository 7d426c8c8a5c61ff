#!/bin/sh
# tools/deps.sh - the Debian packages zoosh needs to build, test and benchmark.
# As root: installs them.  Otherwise: prints the one apt-get line and fails
# when something is missing.
BUILD="build-essential pkg-config liblmdb-dev lmdb-utils libpng-dev libjpeg62-turbo-dev libcfitsio-dev libhdf5-dev libcsv-dev libsixel-dev libncurses-dev libopenblas-dev libcjson-dev zlib1g-dev libdeflate-dev"
TEST="man-db groff-base zsh xvfb xterm mlterm kitty openssh-server openssh-client xdotool imagemagick x11-utils fonts-dejavu-core tmux libsixel-bin python3 python3-numpy python3-h5py python3-pandas python3-lmdb python3-sklearn python3-pil"
PEERS="python3-torch clang libclang-rt-14-dev libchafa-dev libglib2.0-dev"
case "${1:-build}" in
  build) PKGS="$BUILD" ;;
  test)  PKGS="$BUILD $TEST" ;;
  all)   PKGS="$BUILD $TEST $PEERS" ;;
  *) echo "usage: tools/deps.sh [build|test|all]" >&2; exit 2 ;;
esac
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing
else
  echo "zoosh needs these Debian packages; run as root:" >&2
  echo "  apt-get install -y$missing" >&2
  exit 1
fi
