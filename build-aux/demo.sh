#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo command (README): install what is needed, build, and start the
# demo. Today Signet is its foundation only — wire formats and the crypto
# core — so the demo builds it and shows what exists; the token service,
# simulated devices and the app join as their issues land.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/build-aux/setup-debian.sh"
[ -f _build/build.ninja ] || meson setup _build >/dev/null
meson compile -C _build >/dev/null

cat <<TXT
Signet $(meson introspect _build --projectinfo | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])') — what exists so far:

  libsignet-proto  CBOR (deterministic, bounded), COSE_Sign1 ES256, CWT, COBS+CRC-32 frames, HPKE
  libsignet        P-256 keys (COSE_Key/JWK/PEM), ECDSA, ECDH, HKDF, AES-GCM, HPKE, TOTP, otpauth URIs

Not yet: signetd (token service), signet-devsim (devices), signet (the app).
Running the unit tests as the demo of what works:
TXT
meson test -C _build --suite unit --num-processes 2 | tail -n 8
