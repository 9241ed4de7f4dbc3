#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every translation of po/ compiles with msgfmt --check (format strings,
# headers, plural forms; one mnemonic "_" where the original has one) and is
# complete: no untranslated and no fuzzy message. (Strings added to the
# sources since the last `meson compile signet-update-po` are not counted:
# docs/translating.md.)
#
#   check-po.sh SRCDIR
set -eu
srcdir=${1:?usage: check-po.sh SRCDIR}

if ! command -v msgfmt >/dev/null 2>&1; then
  echo "SKIP: msgfmt not found (package gettext)"
  exit 77
fi

status=0
found=false
for po in "$srcdir"/po/*.po; do
  [ -f "$po" ] || continue
  found=true
  lang=$(basename "$po" .po)
  if ! grep -qx "$lang" "$srcdir/po/LINGUAS"; then
    echo "$po: $lang is not in po/LINGUAS" >&2
    status=1
  fi
  stats=$(LC_ALL=C msgfmt --check --check-accelerators=_ --statistics -o /dev/null "$po" 2>&1) || {
    echo "$stats" >&2
    status=1
    continue
  }
  echo "$lang: $stats"
  case "$stats" in
    *untranslated*|*fuzzy*)
      echo "$po: incomplete (meson compile signet-update-po, then translate)" >&2
      status=1 ;;
  esac
done
# shellcheck disable=SC2013 # LINGUAS is a list of words
for lang in $(grep -v '^#' "$srcdir/po/LINGUAS"); do
  [ -f "$srcdir/po/$lang.po" ] || { echo "po/LINGUAS names $lang, but po/$lang.po is missing" >&2; status=1; }
done
$found || { echo "no .po file in po/" >&2; status=1; }
exit $status
