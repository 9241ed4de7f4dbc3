# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A simulated device with a real signetd: the factory takes the service's
# authority keys over HTTPS (provision --trust-url, the service's
# certificate pinned with --trust-ca), the service trusts the factory's CA
# (`signetd ca add`), and then the flow of DESIGN.md §3 runs for real --
# sign-in (oathtool codes), ATTEST, a service token on the device,
# GET /v1/profiles, POST /v1/seal with the device's evidence and chain
# (the service's own chain check: signet_x509_verify_chain with the CAs of
# `ca add`), APPLY with the secret the service sealed from its vault,
# COMMIT -- with the test's independent client (devsim_client.py) in the
# technician's place.
#
#   test_service.py SIGNET_DEVSIM SIGNETD MODELS_DIR
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))

import devsim_client as dc  # noqa: E402
from devsim_client import sha256  # noqa: E402
from devsim_harness import (Devsim, Factory, Tap, expected_digest,  # noqa: E402
                            model_initial_config)
from signetd_harness import Server, b64u, make_pop, pub_from_jwk, unb64u  # noqa: E402

DEVSIM, SIGNETD, MODELS = sys.argv[1], sys.argv[2], sys.argv[3]
PSK = "site-a-wpa2-passphrase"
WIFI = {"id": "acme-wifi", "version": 3, "model": "acme-gw1", "class": "credential",
        "critical": True, "description": "Site Wi-Fi credentials",
        "fields": [{"key": "wifi.ssid", "type": "string", "min": 1, "max": 32},
                   {"key": "wifi.psk", "type": "string", "min": 8, "max": 63, "secret": True,
                    "vault": "site-a/wifi-psk"},
                   {"key": "wifi.channel", "type": "int", "min": 1, "max": 13},
                   {"key": "wifi.band", "type": "enum", "values": ["2g4", "5g"]}]}

t = Tap()
factory = Factory(DEVSIM, MODELS)
srv = Server(SIGNETD)
proc = None
try:
    r = srv.cli("ca", "add", os.path.join(factory.ca_dir, "ca-cert.pem"))
    t.ok(r.returncode == 0, "signetd ca add: the devsim CA is a manufacturer CA", r.stderr)
    r = srv.cli("secret", "set", "site-a/wifi-psk", stdin=PSK + "\n")
    t.ok(r.returncode == 0, "signetd secret set", r.stderr)
    path = os.path.join(srv.tmp, "wifi.json")
    json.dump(WIFI, open(path, "w"))
    r = srv.cli("profile", "add", path)
    t.ok(r.returncode == 0, "signetd profile add acme-wifi (the docs/api.md example)", r.stderr)
    srv.add_user("alice")
    srv.start()

    # the factory fetches the trust document from the service, pinned
    state = os.path.join(factory.tmp, "gw1.state")
    tls = os.path.join(srv.data, "tls-cert.pem")
    r = factory.cli("provision", "--state", state, "--model-file", factory.model("acme-gw1"),
                    "--serial", "GW1-7001", "--ca-dir", factory.ca_dir,
                    "--trust-url", srv.url, "--trust-ca", tls, "--json")
    info = json.loads(r.stdout) if r.returncode == 0 else {}
    trust = srv.trust()
    t.ok(r.returncode == 0 and info.get("authorities") ==
         [k["kid"] for k in trust["authority_keys"]],
         "provision --trust-url: the service's authority keys, fetched over pinned TLS", r.stderr)
    wrong_ca = os.path.join(factory.ca_dir, "ca-cert.pem")
    r = factory.cli("provision", "--state", state + ".x", "--model-file",
                    factory.model("acme-gw1"), "--serial", "GW1-7002", "--ca-dir", factory.ca_dir,
                    "--trust-url", srv.url, "--trust-ca", wrong_ca)
    t.ok(r.returncode == 1 and not os.path.exists(state + ".x"),
         "provision --trust-url: another CA pinned, the TLS check fails", r.stderr)

    proc = Devsim(DEVSIM, state)
    dev = proc.connect()
    tech_login, pop = srv.login("alice")
    t.ok(tech_login.status == 200, "alice signs in", tech_login)
    token_b64 = tech_login.json["token"]

    s = dc.Session(dev, None)
    s.pop = pop
    s.start()
    a = dev.attest(os.urandom(32))
    t.eq(a[2], 0, "ATTEST")
    leaf = dc.verify_device_chain(a[4], factory.ca_pem, "GW1-7001", "acme-gw1")
    ev = dc.parse_evidence(a[3], leaf, "GW1-7001")

    # the service's token on the device
    token = unb64u(token_b64)
    s.token = token
    s.cti = dc.cbor2.loads(dc.cbor2.loads(token).value[2])[7]
    r = dev.authorize(token)
    t.ok(r[2] == 0 and "credential.rotate" in r[4], "AUTHORIZE: the device takes signetd's token",
         dc.status_of(r))

    # the profile and its device form
    ppath = "/v1/profiles?model=acme-gw1"
    resp = srv.request("GET", ppath, headers={"Authorization": "PoP " + token_b64,
                                              "Signet-PoP": make_pop(pop, token_b64, "GET",
                                                                     ppath, b"")})
    profiles = {p["id"]: p for p in resp.json["profiles"]} if resp.status == 200 else {}
    t.ok("acme-wifi" in profiles, "GET /v1/profiles?model=acme-gw1", resp)
    authority = pub_from_jwk(trust["authority_keys"][0]["jwk"])
    _, device_form = dc.verify_sign1(authority, unb64u(profiles["acme-wifi"]["signed"]))
    profile_digest = sha256(device_form)

    # the service seals the vault's secret to the device, after its own checks
    body = json.dumps({"evidence": b64u(a[3]), "chain": [b64u(c) for c in a[4]],
                       "profile": "acme-wifi", "fields": ["wifi.psk"]}).encode()
    resp, _ = srv.pop_call(pop, token_b64, "/v1/seal", body)
    t.ok(resp.status == 200 and len(resp.json["sealed"]) == 1,
         "POST /v1/seal: the service verifies the devsim chain and evidence, and seals", resp)
    sealed = resp.json["sealed"][0]
    enc, ct = unb64u(sealed["enc"]), unb64u(sealed["ct"])
    t.eq(sealed["digest"], sha256(enc + ct).hex(), "seal: digest = SHA-256(enc || ct)")

    values = {"wifi.ssid": "site-a", "wifi.channel": 6, "wifi.band": "5g"}
    cmd = s.command(dc.OP_APPLY, s.apply_args(2, values, {"wifi.psk": sha256(enc + ct)},
                                              profile="acme-wifi", profile_digest=profile_digest))
    r = dev.apply(cmd, [{1: "wifi.psk", 2: enc, 3: ct}])
    t.eq(dc.status_of(r), "OK", "APPLY with the secret signetd sealed from its vault")
    cmd = s.command(dc.OP_COMMIT, {1: 2})
    r = dev.commit(cmd)
    t.eq(dc.status_of(r), "OK", "COMMIT")
    rc = s.verify_receipt(r[3], leaf, cmd, dc.OP_COMMIT) if r[2] == 0 else {}
    config = dict(model_initial_config(factory.model("acme-gw1")), **values)
    config["wifi.psk"] = PSK
    t.eq(rc.get(9, b"").hex(), expected_digest(config),
         "the committed configuration holds the vault's secret (digest computed here)")
    t.eq(proc.stop(), 0, "devsim: clean exit")
    proc = None
except Exception:
    import traceback
    t.ok(False, "no exception", traceback.format_exc())
finally:
    if proc is not None:
        proc.stop()
    rc = srv.stop()
    srv.cleanup()
    factory.cleanup()
t.done()
