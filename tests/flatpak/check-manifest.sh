#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Flatpak manifest parses: `flatpak-builder --show-manifest` loads it
# the way a build would (offline: it needs no runtime). flatpak-builder
# exits 0 on a wrong type or an unknown source type and only warns, so any
# output on stderr fails too. Skips (77) without flatpak-builder.
set -u
manifest=$1

if ! command -v flatpak-builder >/dev/null 2>&1; then
  echo "SKIP: flatpak-builder is not installed (build-aux/setup-debian.sh)"
  exit 77
fi

# flatpak-builder leaves a .flatpak-builder/ state directory in the current
# directory even for --show-manifest: run it in a scratch one.
case $manifest in /*) ;; *) manifest=$(pwd)/$manifest ;; esac
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
err=$scratch/stderr
if ! (cd "$scratch" && HOME=$scratch flatpak-builder --show-manifest "$manifest" >/dev/null 2>"$err"); then
  cat "$err"
  echo "FAIL: $manifest does not parse"
  exit 1
fi
if [ -s "$err" ]; then
  cat "$err"
  echo "FAIL: flatpak-builder warns about $manifest"
  exit 1
fi
echo "ok: $manifest parses ($(flatpak-builder --version))"
