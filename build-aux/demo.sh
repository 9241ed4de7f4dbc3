#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo command (README): install what is needed, build, and start the
# demo: under _demo/, a token service (signetd on https://127.0.0.1:8443)
# with an enrolled technician, a vault secret and the acme-wifi profile,
# two simulated gateways (signet-devsim on pseudo-terminals), and the app
# (signet) when there is a display; the signetctl commands that do the
# same from a terminal are printed.
#
#   build-aux/demo.sh              start it (Ctrl-C stops it)
#   build-aux/demo.sh --headless   start, sign in, attest, apply + commit,
#                                  sign out, stop (build-aux/test.sh runs this)
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
devsim="$top/_build/agent/devsim/signet-devsim"
signetctl="$top/_build/app/signetctl"
signet="$top/_build/app/signet"

if [ "${1:-}" = "--headless" ]; then
  exec /usr/bin/python3 "$top/build-aux/demo-headless.py" "$signetd" "$devsim" "$signetctl"
fi

state="$top/_demo"
url=https://127.0.0.1:8443
if [ ! -f "$state/data/signetd.conf" ]; then
  umask 077
  mkdir -p "$state"
  "$signetd" init --data-dir "$state/data" >/dev/null
  head -c 18 /dev/urandom | base64 > "$state/password"
  "$signetd" user --data-dir "$state/data" add tech --role technician \
    < "$state/password" > "$state/enrollment.txt"
  head -c 18 /dev/urandom | base64 | "$signetd" secret --data-dir "$state/data" \
    set site-a/wifi-psk >/dev/null
  "$signetd" profile --data-dir "$state/data" add "$top/build-aux/demo-profile.json" >/dev/null
  "$devsim" ca create --dir "$state/factory" --name "Acme Demo CA" >/dev/null
  "$signetd" ca --data-dir "$state/data" add "$state/factory/ca-cert.pem" >/dev/null
fi

pids=""
cleanup () {
  # shellcheck disable=SC2086
  [ -z "$pids" ] || kill $pids 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

"$signetd" serve --data-dir "$state/data" --listen 127.0.0.1:8443 \
  > "$state/signetd.out" 2> "$state/signetd.log" &
pids="$pids $!"
for _ in $(seq 100); do
  grep -q '^listening on' "$state/signetd.out" 2>/dev/null && break
  sleep 0.1
done
grep -q '^listening on' "$state/signetd.out" || { cat "$state/signetd.log" >&2; exit 1; }

# Two simulated gateways on pseudo-terminals (docs/devsim.md).
ptys=""
for n in 1 2; do
  dev="$state/gw$n.state"
  if [ ! -f "$dev" ]; then
    "$devsim" provision --state "$dev" --model-file "$top/data/models/acme-gw1.json" \
      --serial "GW1-000$n" --ca-dir "$state/factory" --trust-url "$url" \
      --trust-ca "$state/data/tls-cert.pem" >/dev/null
  fi
  "$devsim" run --state "$dev" --pty > "$state/gw$n.out" 2> "$state/gw$n.log" &
  pids="$pids $!"
  for _ in $(seq 100); do
    grep -q '^pty ' "$state/gw$n.out" 2>/dev/null && break
    sleep 0.1
  done
  ptys="$ptys $(sed -n 's/^pty //p' "$state/gw$n.out" | head -n 1)"
done
set -- $ptys

# The app, when there is a display to show it on (its settings schema is
# compiled in the build tree; its logs and upload queue live under _demo/).
app_line="No display here: run the app yourself with
    GSETTINGS_SCHEMA_DIR=$top/_build/data $signet --service $url --ca $state/data/tls-cert.pem"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  GSETTINGS_SCHEMA_DIR="$top/_build/data" SIGNET_STATE_DIR="$state/app" \
    "$signet" --service "$url" --ca "$state/data/tls-cert.pem" 2> "$state/signet.log" &
  pids="$pids $!"
  app_line="The app is open: sign in as tech, then Add Serial Port… with a device's pty."
fi

secret=$(sed -n 's/.*[?&]secret=\([A-Z2-7]*\).*/\1/p' "$state/enrollment.txt" | head -n 1)
cat <<TXT
Signet demo — token service, two simulated devices, the app and signetctl

  service:     $url  (data: $state/data)
  devices:     GW1-0001 on $1, GW1-0002 on $2  (acme-gw1 gateways)
  technician:  tech
  password:    $(cat "$state/password")
  enrollment (scan the QR code with an authenticator app, or use the URI):

TXT
sed 's/^/  /' "$state/enrollment.txt"
cat <<TXT

  A code without a phone:  oathtool --totp -b $secret

$app_line

Or, in another terminal, the command line:

  export SIGNET_SERVICE_URL=$url SIGNET_SERVICE_CA=$state/data/tls-cert.pem
  alias signetctl=$signetctl
  signetctl login --user tech                  # password, then the code
  signetctl attest serial:$1
  signetctl apply serial:$1 --profile acme-wifi \\
      --set wifi.ssid=site-a --set wifi.channel=6 --set wifi.band=5g
  signetctl commit GW1-0001                    # within 30 s, or: signetctl rollback GW1-0001
  signetctl logout                             # seals and uploads the session log

Ctrl-C stops everything; delete $state/ to start over.
TXT
wait
