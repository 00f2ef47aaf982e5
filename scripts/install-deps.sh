#!/bin/sh
# Installs what keylime-c needs to build and test on Debian 12 (apt).
# Skips apt entirely when everything is already there; uses sudo when not
# run as root.
set -eu
PKGS="gcc clang meson ninja-build pkg-config libssl-dev openssl libjansson-dev libpcre2-dev \
libarchive-dev zlib1g-dev libcmocka-dev cpio gzip libtss2-dev swtpm swtpm-tools tpm2-tools python3 \
libevent-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev postgresql curl zip unzip"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
