#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# po/POTFILES.in must list, sorted, exactly the files with strings to
# translate, so that a new file cannot be forgotten: C sources with _(),
# N_(), C_(), NC_() or ngettext, GtkBuilder files with translatable="yes",
# and the desktop file, metainfo and schema templates of data/.
#
#   check-potfiles.sh SRCDIR            compare (a meson test)
#   check-potfiles.sh --update SRCDIR   rewrite po/POTFILES.in
set -eu

update=false
if [ "${1:-}" = "--update" ]; then
  update=true
  shift
fi
srcdir=${1:?usage: check-potfiles.sh [--update] SRCDIR}
cd "$srcdir"

# Only the directories that hold the programs' sources: never the tests,
# nor build directories or po/ itself.
dirs=""
for d in app core ui data proto server agent; do
  [ -d "$d" ] && dirs="$dirs $d"
done

expected=$(mktemp)
current=$(mktemp)
trap 'rm -f "$expected" "$current"' EXIT

{
  # shellcheck disable=SC2086 # $dirs is a word list
  find $dirs -type f \( -name '*.c' -o -name '*.h' \) -print0 |
    xargs -0 -r grep -l -E '(^|[^A-Za-z0-9_])(_|N_|C_|NC_|Q_|g_dngettext|ngettext)[[:space:]]*\(' || true
  # shellcheck disable=SC2086
  find $dirs -type f -name '*.ui' -print0 |
    xargs -0 -r grep -l 'translatable="yes"' || true
  # shellcheck disable=SC2086
  find $dirs -type f \( -name '*.desktop.in' -o -name '*.metainfo.xml.in' \
    -o -name '*.gschema.xml' \) -print
} | LC_ALL=C sort -u > "$expected"

if $update; then
  {
    echo "# SPDX-License-Identifier: LGPL-2.1-or-later"
    echo "# Files with translatable strings, sorted (LC_ALL=C). Regenerate with"
    echo "#   tests/desktop/check-potfiles.sh --update ."
    cat "$expected"
  } > po/POTFILES.in
  echo "po/POTFILES.in: $(wc -l < "$expected") files"
  exit 0
fi

grep -v -e '^#' -e '^[[:space:]]*$' po/POTFILES.in > "$current" || true

status=0
if ! LC_ALL=C sort -c "$current" 2>/dev/null; then
  echo "po/POTFILES.in is not sorted (LC_ALL=C sort)" >&2
  status=1
fi
while read -r f; do
  [ -f "$f" ] || { echo "po/POTFILES.in lists $f, which does not exist" >&2; status=1; }
done < "$current"
missing=$(LC_ALL=C sort -u "$current" | LC_ALL=C comm -13 - "$expected")
extra=$(LC_ALL=C sort -u "$current" | LC_ALL=C comm -23 - "$expected")
if [ -n "$missing" ]; then
  echo "po/POTFILES.in misses files with translatable strings:" >&2
  echo "$missing" | sed 's/^/  /' >&2
  status=1
fi
if [ -n "$extra" ]; then
  echo "po/POTFILES.in lists files without translatable strings:" >&2
  echo "$extra" | sed 's/^/  /' >&2
  status=1
fi
[ $status -eq 0 ] && echo "po/POTFILES.in: $(wc -l < "$current") files, complete and sorted"
if [ $status -ne 0 ]; then
  echo "(tests/desktop/check-potfiles.sh --update . rewrites it)" >&2
fi
exit $status
