#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo command (README): install what is needed, build, and start the
# demo. Today the demo is the token service: a data dir under _demo/ with
# an enrolled technician, and signetd serving HTTPS on 127.0.0.1:8443.
# The simulated devices and the app join as their issues land.
#
#   build-aux/demo.sh              start it (Ctrl-C stops it)
#   build-aux/demo.sh --headless   start, sign in, refresh, sign out, stop
#                                  (build-aux/test.sh runs this)
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/build-aux/setup-debian.sh"
[ -f _build/build.ninja ] || meson setup _build >/dev/null
if ! log=$(meson compile -C _build 2>&1); then
  printf '%s\n' "$log" >&2
  echo "demo: the build failed" >&2
  exit 1
fi

signetd="$top/_build/server/signetd"

if [ "${1:-}" = "--headless" ]; then
  exec /usr/bin/python3 "$top/build-aux/demo-headless.py" "$signetd" "$top/_build/agent/devsim/signet-devsim"
fi

state="$top/_demo"
if [ ! -f "$state/data/signetd.conf" ]; then
  umask 077
  mkdir -p "$state"
  "$signetd" init --data-dir "$state/data" >/dev/null
  head -c 18 /dev/urandom | base64 > "$state/password"
  "$signetd" user --data-dir "$state/data" add tech --role technician \
    < "$state/password" > "$state/enrollment.txt"
fi

cat <<TXT
Signet demo — the token service

  technician:  tech
  password:    $(cat "$state/password")
  enrollment (scan the QR code with an authenticator app, or use the URI):

TXT
sed 's/^/  /' "$state/enrollment.txt"
cat <<TXT

  A code without a phone:  oathtool --totp -b SECRET   (SECRET from the URI)
  Trust anchors:           curl --cacert $state/data/tls-cert.pem https://127.0.0.1:8443/v1/trust
  Data (delete to reset):  $state/

Starting signetd on https://127.0.0.1:8443 — Ctrl-C stops it.
TXT
exec "$signetd" serve --data-dir "$state/data" --listen 127.0.0.1:8443
