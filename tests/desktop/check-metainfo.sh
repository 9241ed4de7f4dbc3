#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The built AppStream metainfo validates offline (appstreamcli validate
# --no-net; not --strict, as AppStream 0.16 does not know <developer>) and
# has what the software centres show: screenshots, each a PNG of
# data/screenshots/ in the source tree, a release and a content rating.
#
#   check-metainfo.sh METAINFO SRCDIR VERSION
set -eu
usage="usage: check-metainfo.sh METAINFO SRCDIR VERSION"
metainfo=${1:?$usage}
srcdir=${2:?$usage}
version=${3:?$usage}

if ! command -v appstreamcli >/dev/null 2>&1; then
  echo "SKIP: appstreamcli not found (package appstream)"
  exit 77
fi

appstreamcli validate --no-net --explain "$metainfo"

status=0
need () {
  if ! grep -q -e "$1" "$metainfo"; then
    echo "$metainfo: no $2" >&2
    status=1
  fi
}
need '<screenshot type="default">' 'default screenshot'
need '<release version="[0-9][0-9.]*" date="[0-9-]*"' 'release with a version and a date'
need '<content_rating type="oars-1\.1"' 'OARS 1.1 content rating'
need '<launchable type="desktop-id">org\.signet\.Signet\.desktop</launchable>' 'launchable'
need '<binary>signet</binary>' 'provided binary'
need '<display_length compare="ge">360</display_length>' 'minimum display length'

# The project's version has its release entry.
need "<release version=\"$(echo "$version" | sed 's/\./\\./g')\"" "release entry for $version"

# Each screenshot is a file of data/screenshots/.
shots=$(sed -n 's|.*<image[^>]*>[^<]*/data/screenshots/\([^<]*\)</image>.*|\1|p' "$metainfo")
if [ -z "$shots" ]; then
  echo "$metainfo: screenshots must point at data/screenshots/*.png" >&2
  status=1
fi
for s in $shots; do
  if [ ! -f "$srcdir/data/screenshots/$s" ]; then
    echo "$metainfo: screenshot $s is not in data/screenshots/" >&2
    status=1
  fi
done
# shellcheck disable=SC2086 # one line of names
[ $status -eq 0 ] && echo "metainfo: valid; screenshots:" $shots
exit $status
