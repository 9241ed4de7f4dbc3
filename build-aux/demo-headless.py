#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The demo, headless: what build-aux/demo.sh starts, driven end to end and
# then stopped, so the demo cannot rot (build-aux/test.sh runs it).
# A real signetd on loopback, a technician enrolled, a sign-in with a code
# from oathtool, the token verified against /v1/trust with
# python3-cryptography, a PoP-signed refresh; then a simulated device
# (signet-devsim on a pseudo-terminal, its factory trusting the service's
# authority keys fetched over pinned TLS, the service trusting its CA):
# HELLO, ATTEST, the token on the device, the service sealing a vault
# secret to it, one signed APPLY and its COMMIT, the receipt checked;
# logout. The technician's side is the tests' independent Python client.
#
#   demo-headless.py PATH/TO/signetd [PATH/TO/signet-devsim]
import json
import os
import sys

import cbor2

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(TOP, "tests", "server"))
sys.path.insert(0, os.path.join(TOP, "tests", "devsim"))
import signetd_harness as h  # noqa: E402

PSK = "demo-site-passphrase"
PROFILE = {"id": "acme-wifi", "version": 1, "model": "acme-gw1", "class": "credential",
           "critical": True, "description": "Site Wi-Fi credentials",
           "fields": [{"key": "wifi.ssid", "type": "string", "min": 1, "max": 32},
                      {"key": "wifi.psk", "type": "string", "min": 8, "max": 63,
                       "secret": True, "vault": "site-a/wifi-psk"},
                      {"key": "wifi.channel", "type": "int", "min": 1, "max": 13},
                      {"key": "wifi.band", "type": "enum", "values": ["2g4", "5g"]}]}


def check(ok, what):
    if not ok:
        raise SystemExit("demo: " + what)


def signed_apply(server, devsim, key, token):
    """One device, one signed apply and commit. Returns the committed version."""
    import devsim_client as dc
    from devsim_harness import Devsim, Factory

    factory = Factory(devsim, os.path.join(TOP, "data", "models"))
    proc = None
    try:
        r = server.cli("ca", "add", os.path.join(factory.ca_dir, "ca-cert.pem"))
        check(r.returncode == 0, "signetd ca add failed: " + r.stderr)
        state = os.path.join(factory.tmp, "gw1.state")
        r = factory.cli("provision", "--state", state, "--model-file",
                        factory.model("acme-gw1"), "--serial", "DEMO-0001",
                        "--ca-dir", factory.ca_dir, "--trust-url", server.url,
                        "--trust-ca", os.path.join(server.data, "tls-cert.pem"))
        check(r.returncode == 0, "provisioning the device failed: " + r.stderr)
        proc = Devsim(devsim, state)
        dev = proc.connect()
        s = dc.Session(dev, None)
        s.pop = key
        s.start()
        a = dev.attest(os.urandom(32))
        check(a[2] == 0, "ATTEST refused")
        leaf = dc.verify_device_chain(a[4], factory.ca_pem, "DEMO-0001", "acme-gw1")
        raw = h.unb64u(token)
        s.token = raw
        s.cti = cbor2.loads(cbor2.loads(raw).value[2])[7]
        check(dev.authorize(raw)[2] == 0, "the device refused the token")
        path = "/v1/profiles?model=acme-gw1"
        r = server.request("GET", path, headers={
            "Authorization": "PoP " + token,
            "Signet-PoP": h.make_pop(key, token, "GET", path, b"")})
        check(r.status == 200 and r.json["profiles"], "no profile for acme-gw1: %r" % r)
        authority = h.pub_from_jwk(server.trust()["authority_keys"][0]["jwk"])
        _, form = dc.verify_sign1(authority, h.unb64u(r.json["profiles"][0]["signed"]))
        body = json.dumps({"evidence": h.b64u(a[3]), "chain": [h.b64u(c) for c in a[4]],
                           "profile": "acme-wifi", "fields": ["wifi.psk"]}).encode()
        r, _ = server.pop_call(key, token, "/v1/seal", body)
        check(r.status == 200, "sealing failed: %r" % r)
        enc = h.unb64u(r.json["sealed"][0]["enc"])
        ct = h.unb64u(r.json["sealed"][0]["ct"])
        values = {"wifi.ssid": "demo-site", "wifi.channel": 6, "wifi.band": "5g"}
        cmd = s.command(dc.OP_APPLY, s.apply_args(2, values, {"wifi.psk": dc.sha256(enc + ct)},
                                                  profile="acme-wifi",
                                                  profile_digest=dc.sha256(form)))
        check(dc.status_of(dev.apply(cmd, [{1: "wifi.psk", 2: enc, 3: ct}])) == "OK",
              "APPLY refused")
        cmd = s.command(dc.OP_COMMIT, {1: 2})
        r = dev.commit(cmd)
        check(r[2] == 0, "COMMIT refused")
        receipt = s.verify_receipt(r[3], leaf, cmd, dc.OP_COMMIT)
        check(proc.stop() == 0, "the device did not exit cleanly")
        proc = None
        return receipt[7]
    finally:
        if proc is not None:
            proc.stop()
        factory.cleanup()


def main():
    server = h.Server(sys.argv[1])
    devsim = sys.argv[2] if len(sys.argv) > 2 else None
    try:
        server.add_user("demo-tech")
        r = server.cli("secret", "set", "site-a/wifi-psk", stdin=PSK + "\n")
        check(r.returncode == 0, "secret set failed: " + r.stderr)
        path = os.path.join(server.tmp, "acme-wifi.json")
        with open(path, "w") as f:
            json.dump(PROFILE, f)
        r = server.cli("profile", "add", path)
        check(r.returncode == 0, "profile add failed: " + r.stderr)
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
        token = r.json["token"]
        print("demo: refreshed with a proof of possession")
        if devsim is not None:
            version = signed_apply(server, devsim, key, token)
            print("demo: device DEMO-0001 (signet-devsim on a pty): attested, authorized, "
                  "a vault secret sealed to it, one signed apply committed (config v%d, "
                  "receipt verified)" % version)
        r, _ = server.pop_call(key, token, "/v1/logout")
        if r.status != 204:
            raise SystemExit("demo: logout failed: %r" % r)
        print("demo: signed out")
        rc = server.stop()
        if rc != 0:
            raise SystemExit("demo: signetd exited with %d" % rc)
        print("demo: ok")
    finally:
        server.cleanup()


main()
