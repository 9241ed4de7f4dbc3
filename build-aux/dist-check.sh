#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The release tarball builds and passes its tests from a clean unpack
# (docs/release.md):
#
#   1. `meson dist --formats xztar --no-tests` makes
#      BUILDDIR/meson-dist/signet-VERSION.tar.xz from the committed tree
#      (git archive: an uncommitted or untracked file is not in it, so a
#      dirty tree is refused and the files are named);
#   2. the tarball is unpacked into a scratch directory far from the git
#      checkout, configured, built, and its unit, integration and flatpak
#      suites run (the fast, display-less ones; --full runs every suite,
#      which is what a plain `meson dist` does);
#   3. `meson install --destdir` into a scratch root, and the installed tree
#      is checked for the files a package needs.
#
#   build-aux/dist-check.sh [--full] [BUILDDIR]     (default _build-dist)
#
# Prints "dist-check: N steps passed, N steps failed" and exits non-zero on
# any failure. The scratch directory is removed unless KEEP=1.
set -eu

full=0
if [ "${1:-}" = "--full" ]; then full=1; shift; fi
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-_build-dist}
case $builddir in /*) ;; *) builddir=$top/$builddir ;; esac
cd "$top"

passed=0
failed=0
step () { # step NAME COMMAND...: run, count, keep going
  name=$1; shift
  echo "== dist: $name"
  if "$@"; then passed=$((passed + 1)); else echo "FAIL: dist: $name"; failed=$((failed + 1)); fi
}
finish () {
  echo "dist-check: $passed steps passed, $failed steps failed"
  [ "$failed" -eq 0 ]
  exit $?
}

# meson dist archives HEAD: say exactly what would be left out.
dirty=$(git status --porcelain --untracked-files=normal -- . ':!_build*' ':!build' 2>/dev/null || true)
if [ -n "$dirty" ]; then
  echo "dist: the tree has changes that git archive would leave out of the tarball:"
  echo "$dirty" | sed 's/^/  /'
  echo "dist: commit them (or stash them) first"
  failed=1
  finish
fi

if [ -f "$builddir/build.ninja" ]; then
  meson setup --reconfigure "$builddir" >/dev/null
else
  meson setup "$builddir" >/dev/null
fi
version=$(meson introspect --projectinfo "$builddir" |
          /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
tarball=$builddir/meson-dist/signet-$version.tar.xz

step "meson dist --formats xztar --no-tests" \
  meson dist -C "$builddir" --formats xztar --no-tests
[ -f "$tarball" ] || finish
echo "dist: $tarball ($(du -k "$tarball" | cut -f1) KiB, $(tar tJf "$tarball" | grep -c -v '/$') files)"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/signet-dist.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$scratch"' EXIT
tar xJf "$tarball" -C "$scratch"
src=$scratch/signet-$version

# Nothing in the tarball may point back into the checkout it came from.
if grep -rIl --exclude-dir=.git -e "$top/" "$src" >/dev/null 2>&1; then
  echo "FAIL: dist: files in the tarball name the checkout $top:"
  grep -rIl -e "$top/" "$src" | sed 's/^/  /'
  failed=$((failed + 1))
fi

step "setup from the tarball" meson setup "$scratch/build" "$src" --prefix=/usr
step "build from the tarball" meson compile -C "$scratch/build"

# The UI and fuzz suites want a display and take minutes; test.sh runs them
# in the checkout. --full runs everything, as `meson dist` itself would.
run_tests () {
  if [ $full -eq 1 ]; then
    set -- meson test -C "$scratch/build" --print-errorlogs --num-processes 2
  else
    set -- meson test -C "$scratch/build" --print-errorlogs --num-processes 2 \
      --suite unit --suite integration --suite flatpak
  fi
  if command -v xvfb-run >/dev/null 2>&1 && command -v dbus-run-session >/dev/null 2>&1; then
    dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24 -noreset" "$@"
  else
    "$@"
  fi
}
step "tests from the tarball" run_tests

step "meson install --destdir" \
  env DESTDIR="$scratch/root" meson install -C "$scratch/build" --no-rebuild --quiet

# The tree a package needs (docs/packaging.md "Installed files").
check_tree () {
  root=$scratch/root
  missing=0
  for f in \
      usr/bin/signet usr/bin/signetctl usr/bin/signet-devsim usr/sbin/signetd \
      usr/share/applications/org.signet.Signet.desktop \
      usr/share/metainfo/org.signet.Signet.metainfo.xml \
      usr/share/glib-2.0/schemas/org.signet.Signet.gschema.xml \
      usr/share/icons/hicolor/scalable/apps/org.signet.Signet.svg \
      usr/share/icons/hicolor/symbolic/apps/org.signet.Signet-symbolic.svg \
      usr/share/locale/de/LC_MESSAGES/signet.mo \
      usr/share/signet/models/acme-gw1.json; do
    [ -e "$root/$f" ] || { echo "  missing: /$f"; missing=1; }
  done
  unit=$(find "$root" -name signetd.service | head -n 1)
  if [ -z "$unit" ]; then echo "  missing: signetd.service"; missing=1
  elif ! grep -q "^ExecStart=/usr/sbin/signetd" "$unit"; then
    echo "  ${unit#"$root"}: ExecStart does not name /usr/sbin/signetd"; missing=1
  fi
  (cd "$root" && find . -type f | sort | sed 's|^\.|  |')
  return $missing
}
step "installed tree complete" check_tree

finish
