#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo, headless: what build-aux/demo.sh starts, driven end to end and
# then stopped, so the demo cannot rot (build-aux/test.sh runs it).
# Today: a real signetd on loopback, a technician enrolled, a sign-in with
# a code from oathtool, the token verified against /v1/trust with
# python3-cryptography, a PoP-signed refresh, logout.
#
#   demo-headless.py PATH/TO/signetd
import os
import sys

import cbor2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "server"))
import signetd_harness as h  # noqa: E402


def main():
    server = h.Server(sys.argv[1])
    try:
        server.add_user("demo-tech")
        server.start()
        print("demo: signetd up at %s" % server.url)
        r, key = server.login("demo-tech")
        if r.status != 200:
            raise SystemExit("demo: sign-in failed: %r" % r)
        token = r.json["token"]
        trust = server.trust()
        authority = {k["kid"].encode(): h.pub_from_jwk(k["jwk"]) for k in trust["authority_keys"]}
        kid = cbor2.loads(cbor2.loads(h.unb64u(token)).value[0])[4]
        if kid not in authority or not h.verify_sign1(authority[kid], h.unb64u(token)):
            raise SystemExit("demo: the token does not verify against /v1/trust")
        print("demo: signed in as demo-tech (scope: %s), token verified against /v1/trust"
              % r.json["scope"])
        r, _ = server.pop_call(key, token, "/v1/refresh")
        if r.status != 200:
            raise SystemExit("demo: refresh failed: %r" % r)
        r, _ = server.pop_call(key, r.json["token"], "/v1/logout")
        if r.status != 204:
            raise SystemExit("demo: logout failed: %r" % r)
        print("demo: refreshed with a proof of possession, signed out")
        rc = server.stop()
        if rc != 0:
            raise SystemExit("demo: signetd exited with %d" % rc)
        print("demo: ok")
    finally:
        server.cleanup()


main()
