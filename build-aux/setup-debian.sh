#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Install every Debian 12 package Signet needs to build, test and run its
# demo. Idempotent and quiet when everything is there; runs as root (CI) or
# through sudo (a person). Add a package here in the same commit as the
# code that needs it.
set -eu

PACKAGES="
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libglib2.0-dev libjson-glib-dev libssl-dev libcbor-dev liboath-dev
  libsoup-3.0-dev glib-networking libsqlite3-dev libargon2-dev libqrencode-dev libpng-dev
  libcurl4-openssl-dev libgudev-1.0-dev umockdev libumockdev-dev
  oathtool sqlite3 curl
  gcc-arm-none-eabi libnewlib-arm-none-eabi
  python3 python3-cryptography python3-cbor2
  libgtk-4-dev libadwaita-1-dev libsecret-1-dev
  desktop-file-utils appstream libglib2.0-bin gtk-update-icon-cache gettext
  xvfb xauth dbus at-spi2-core python3-pyatspi gir1.2-atspi-2.0 python3-dogtail
  imagemagick xdotool gnome-keyring
  flatpak-builder binutils
  qemu-system-x86 busybox-static kmod cpio bluez-test-tools
  libbluetooth-dev bluez python3-dbusmock python3-dbus python3-gi
"

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    "install ok installed") ;;
    *) missing="$missing $p" ;;
  esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "setup: need root or sudo to install:$missing" >&2
  exit 1
fi

echo "setup: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is wanted
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "setup: done"
