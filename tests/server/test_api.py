#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# signetd's API against a real server: sign-in with oathtool codes, the
# token verified with python3-cryptography + python3-cbor2 (not our
# code), PoP proofs built here, and each documented refusal.
#
#   test_api.py PATH/TO/signetd
import hashlib
import json
import os
import subprocess
import sys
import time

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from signetd_harness import (PASSWORD, Server, Tap, b64u, jwk_of, make_pop, pub_from_jwk,
                             sign1, totp, unb64u, verify_sign1)

SIGNETD = sys.argv[1]
TECH_SCOPE = ("device.read device.attest config.write credential.rotate firmware.update "
              "log.upload")

t = Tap()
srv = Server(SIGNETD)
try:
    for name in ("alice", "carol", "dave", "erin", "frank"):
        srv.add_user(name)
    srv.add_user("sam", role="supervisor")
    srv.start()

    r = srv.request("GET", "/v1/health")
    t.ok(r.status == 200 and r.json["status"] == "ok", "health", r)

    # -- sign-in and an independent check of the token -------------------
    trust = srv.trust()
    keys = trust["authority_keys"]
    t.ok(len(keys) == 1 and keys[0]["current"], "trust lists one current authority key", trust)
    authority = pub_from_jwk(keys[0]["jwk"])
    cose_key = cbor2.loads(unb64u(keys[0]["cose_key"]))
    t.ok(cose_key[1] == 2 and cose_key[-1] == 1 and cose_key[2] == keys[0]["kid"].encode()
         and cose_key[-2] == unb64u(keys[0]["jwk"]["x"]), "COSE_Key and JWK agree", cose_key)

    before = int(time.time())
    r, alice_key = srv.login("alice")
    t.ok(r.status == 200, "login with an oathtool code", r)
    body = r.json
    token = unb64u(body["token"])
    checked = verify_sign1(authority, token)
    t.ok(checked is not None, "token is a COSE_Sign1 that verifies with the JWK of /v1/trust")
    hdr, payload = checked
    t.ok(hdr == {1: -7, 3: "application/cwt", 4: keys[0]["kid"].encode()},
         "token protected header {alg ES256, cty application/cwt, kid}", hdr)
    c = cbor2.loads(payload)
    cnf = c.get(8, {}).get(1, {})
    nums = alice_key.public_key().public_numbers()
    t.ok(c[1] == srv.url and c[2] == "alice" and c[3] == "signet", "iss, sub, aud", c)
    t.ok(before <= c[6] <= int(time.time()) and c[4] - c[6] == 900 and c[4] == body["expires_at"],
         "iat now, exp = iat + 900", c)
    t.ok(isinstance(c[7], bytes) and len(c[7]) == 16, "cti is 16 bytes", c)
    t.ok(cnf.get(-2) == nums.x.to_bytes(32, "big") and cnf.get(-3) == nums.y.to_bytes(32, "big")
         and -4 not in cnf, "cnf holds our PoP key (public only)", cnf)
    t.ok(c[9] == TECH_SCOPE == body["scope"] and c["role"] == "technician" == body["role"],
         "scope and role of a technician", c)
    t.ok(c["amr"] == ["pwd", "otp"] and c["auth_time"] == body["auth_time"] == c[6],
         "amr and auth_time", c)
    t.ok(set(body) == {"token", "expires_at", "scope", "role", "auth_time", "session",
                       "log_key"}, "login response members", body)
    t.ok(len(unb64u(body["log_key"])) == 32, "log_key: 32 bytes, base64url", body)

    r, _ = srv.login("sam")
    c_sam = cbor2.loads(verify_sign1(authority, unb64u(r.json["token"]))[1])
    t.ok(r.status == 200 and c_sam[9] == "log.read log.upload" and c_sam["role"] == "supervisor",
         "supervisor scope", r)

    # -- refusals at sign-in ----------------------------------------------
    r, _ = srv.login("carol", password="wrong password, long enough")
    t.ok(r.status == 401 and r.error() == "invalid_credentials", "wrong password: 401", r)
    wrong_pw_body = r.body
    r, _ = srv.login("nobody", code="123456")
    t.ok(r.status == 401 and r.body == wrong_pw_body, "unknown user: the same 401 body", r)
    code = totp(srv.secrets["carol"])
    bad = "%06d" % ((int(code) + 1) % 1000000)
    r, _ = srv.login("carol", code=bad)
    t.ok(r.status == 401 and r.body == wrong_pw_body, "wrong code: the same 401", r)
    r, _ = srv.login("carol", code=code)
    t.ok(r.status == 200, "carol signs in", r)
    r, _ = srv.login("carol", code=code)
    t.ok(r.status == 401 and r.body == wrong_pw_body, "replayed code (same step): 401", r)

    rc = srv.cli("user", "disable", "dave").returncode
    r, _ = srv.login("dave")
    t.ok(rc == 0 and r.status == 423 and r.error() == "locked", "disabled user: 423 locked", r)
    r, _ = srv.login("dave", password="not the password at all")
    t.ok(r.status == 401, "disabled user, wrong password: still 401 (no oracle)", r)

    # -- proof of possession ------------------------------------------------
    tok = body["token"]
    r, proof = srv.pop_call(alice_key, tok, "/v1/refresh")
    t.ok(r.status == 200, "refresh with a PoP proof", r)
    c2 = cbor2.loads(verify_sign1(authority, unb64u(r.json["token"]))[1])
    t.ok(c2[7] != c[7] and c2["auth_time"] == c["auth_time"] and c2[8] == c[8]
         and r.json["session"] == body["session"], "refreshed token: new cti, same session, "
         "auth_time and cnf", c2)
    t.ok("log_key" not in r.json, "refresh does not hand out the log key again", r.json)
    r = srv.request("POST", "/v1/refresh", raw=b"{}",
                    headers={"Authorization": "PoP " + tok, "Signet-PoP": proof})
    t.ok(r.status == 401 and r.error() == "unauthorized", "PoP replay: 401", r)
    r, _ = srv.pop_call(alice_key, tok, "/v1/refresh", pop_body=b'{"x":1}')
    t.ok(r.status == 401 and r.error() == "unauthorized", "PoP for another body: 401", r)
    r, _ = srv.pop_call(alice_key, tok, "/v1/refresh", pop_path="/v1/logout")
    t.ok(r.status == 401, "PoP for another path: 401", r)
    r, _ = srv.pop_call(alice_key, tok, "/v1/refresh", pop_method="PUT")
    t.ok(r.status == 401, "PoP for another method: 401", r)
    r, _ = srv.pop_call(alice_key, tok, "/v1/refresh", iat=int(time.time()) - 120)
    t.ok(r.status == 401, "stale PoP (120 s old): 401", r)
    other = ec.generate_private_key(ec.SECP256R1())
    r, _ = srv.pop_call(other, tok, "/v1/refresh")
    t.ok(r.status == 401, "PoP signed by another key: 401", r)
    r = srv.request("POST", "/v1/refresh", raw=b"{}", headers={"Authorization": "PoP " + tok})
    t.ok(r.status == 401, "no Signet-PoP header: 401", r)
    r = srv.request("POST", "/v1/refresh", raw=b"{}")
    t.ok(r.status == 401 and r.error() == "unauthorized", "no token: 401", r)

    # A token of the right shape, signed by a key the service never had.
    forger = ec.generate_private_key(ec.SECP256R1())
    forged = b64u(sign1(forger, {1: -7, 3: "application/cwt", 4: keys[0]["kid"].encode()},
                        payload))
    r, _ = srv.pop_call(alice_key, forged, "/v1/refresh")
    t.ok(r.status == 401 and r.error() == "unauthorized",
         "token signed by an unknown key (our kid): 401", r)
    forged2 = b64u(sign1(forger, {1: -7, 3: "application/cwt", 4: b"unknown-kid"}, payload))
    r, _ = srv.pop_call(alice_key, forged2, "/v1/refresh")
    t.ok(r.status == 401, "token with an unknown kid: 401", r)

    # -- step-up -----------------------------------------------------------
    time.sleep(1)
    code_next = totp(srv.secrets["alice"], time.time() + 30)
    r, _ = srv.pop_call(alice_key, tok, "/v1/step-up",
                        body=('{"otp":"%s"}' % code_next).encode())
    t.ok(r.status == 200 and r.json["auth_time"] > body["auth_time"],
         "step-up with a fresh code: new auth_time", r)
    t.ok(r.status == 200 and "log_key" not in r.json, "step-up keeps the session's log key", r)
    step_tok = r.json["token"] if r.status == 200 else tok
    r, _ = srv.pop_call(alice_key, step_tok, "/v1/step-up",
                        body=('{"otp":"%s"}' % code_next).encode())
    t.ok(r.status == 401 and r.error() == "invalid_credentials",
         "step-up with the same code again: 401", r)
    r, _ = srv.pop_call(alice_key, step_tok, "/v1/step-up", body=b'{"otp":123456}')
    t.ok(r.status == 400 and r.error() == "invalid_request", "step-up otp as a number: 400", r)

    # -- logout --------------------------------------------------------------
    r, _ = srv.pop_call(alice_key, step_tok, "/v1/logout")
    t.ok(r.status == 204, "logout: 204", r)
    r, _ = srv.pop_call(alice_key, step_tok, "/v1/refresh")
    t.ok(r.status == 401, "refresh after logout: 401", r)
    r, _ = srv.pop_call(alice_key, tok, "/v1/refresh")
    t.ok(r.status == 401, "an older token of the session after logout: 401", r)
    trust = srv.trust()
    rl = verify_sign1(authority, unb64u(trust["revocation_list"]))
    t.ok(rl is not None and rl[0][3] == "application/signet-revocation+cbor",
         "revocation list verifies with the authority key", trust)
    rl_payload = cbor2.loads(rl[1]) if rl else {}
    step_cti = cbor2.loads(cbor2.loads(unb64u(step_tok)).value[2])[7]
    t.ok(step_cti in rl_payload.get(3, []) and rl_payload.get(1, 0) >= 2,
         "the logged-out session's tokens are on the list, version risen", rl_payload)

    # -- revoke from the command line ----------------------------------------
    r, erin_key = srv.login("erin")
    erin = r.json
    rc = srv.cli("revoke", "--session", erin["session"]).returncode
    r, _ = srv.pop_call(erin_key, erin["token"], "/v1/refresh")
    t.ok(rc == 0 and r.status == 401, "signetd revoke --session: its token is refused", r)
    rc = srv.cli("revoke", "--session", "no-such-session").returncode
    t.ok(rc == 3, "revoke an unknown session: exit 3", rc)
    rc = srv.cli("revoke", "--device", "SN-0001").returncode
    rl_payload = cbor2.loads(verify_sign1(authority, unb64u(srv.trust()["revocation_list"]))[1])
    t.ok(rc == 0 and "SN-0001" in rl_payload[5], "revoke --device lists the serial", rl_payload)

    # -- hostile input ---------------------------------------------------------
    before_tables = subprocess.run(["sqlite3", os.path.join(srv.data, "signetd.db"),
                                    "SELECT name FROM sqlite_master WHERE type='table' "
                                    "ORDER BY name"], capture_output=True, text=True).stdout
    for evil in ("alice' --", "x'; DROP TABLE users; --", "\" OR 1=1 --",
                 "ALICE", "a" * 65, ""):
        r, _ = srv.login(evil, code="123456")
        t.ok(r.status == 401 and r.body == wrong_pw_body,
             "injection-shaped user name %r: the same 401" % evil[:20], r)
    # json-glib would read "alice\u0000" as "alice": refused before it.
    r, _ = srv.login("alice\u0000", code="123456")
    t.ok(r.status == 400 and r.json["error"] == "invalid_request",
         "a user name with \\u0000: 400 invalid_request, not alice's 401", r)
    for evil in ("x'; DROP TABLE users; --", "Robert'); DROP TABLE sessions;--"):
        p = srv.cli("user", "add", evil, "--role", "admin", stdin=PASSWORD + "\n")
        t.ok(p.returncode == 2, "user add %r refused (exit 2)" % evil[:16], p.stderr)
    after_tables = subprocess.run(["sqlite3", os.path.join(srv.data, "signetd.db"),
                                   "SELECT name FROM sqlite_master WHERE type='table' "
                                   "ORDER BY name"], capture_output=True, text=True).stdout
    n_users = subprocess.run(["sqlite3", os.path.join(srv.data, "signetd.db"),
                              "SELECT count(*) FROM users"], capture_output=True,
                             text=True).stdout.strip()
    t.ok(before_tables == after_tables and "users" in after_tables and n_users == "6",
         "database unharmed (tables intact, 6 users)", after_tables + n_users)
    integrity = subprocess.run(["sqlite3", os.path.join(srv.data, "signetd.db"),
                                "PRAGMA integrity_check"], capture_output=True,
                               text=True).stdout.strip()
    t.ok(integrity == "ok", "sqlite integrity_check", integrity)

    good = {"username": "frank", "password": PASSWORD, "otp": "123456",
            "pop_key": jwk_of(other.public_key())}
    r = srv.request("POST", "/v1/login", raw=b"x" * (64 * 1024 + 1))
    t.ok(r.status == 413 and r.error() == "payload_too_large", "65 KiB body: 413", r)
    r = srv.request("POST", "/v1/login", raw=(b"x" * 65536 for _ in range(16)),
                    chunked=True)
    t.ok(r.status == 413 and r.error() == "payload_too_large", "1 MiB chunked body: 413", r)
    r = srv.request("POST", "/v1/login", raw=b'{"username": "frank", ')
    t.ok(r.status == 400 and r.error() == "invalid_request", "truncated JSON: 400", r)
    r = srv.request("POST", "/v1/login", raw=b'["frank"]')
    t.ok(r.status == 400 and r.error() == "invalid_request", "JSON array: 400", r)
    r = srv.request("POST", "/v1/login", raw=b"\xff\xfe{}")
    t.ok(r.status == 400 and r.error() == "invalid_request", "not UTF-8: 400", r)
    for member, value in (("username", 42), ("password", None), ("otp", 123456),
                          ("pop_key", "jwk")):
        bad_body = dict(good)
        bad_body[member] = value
        r = srv.request("POST", "/v1/login", bad_body)
        t.ok(r.status == 400 and r.error() == "invalid_request",
             "%s of the wrong type: 400" % member, r)
    bad_body = dict(good)
    bad_body["admin"] = True
    r = srv.request("POST", "/v1/login", bad_body)
    t.ok(r.status == 400 and r.error() == "invalid_request", "unknown member: 400", r)
    # json-glib alone would keep the last "password"; the body is refused.
    dup = ('{"username": "frank", "password": "not the password", "otp": "123456", '
           '"pop_key": %s, "password": "%s"}'
           % (json.dumps(good["pop_key"]), PASSWORD)).encode()
    r = srv.request("POST", "/v1/login", raw=dup)
    t.ok(r.status == 400 and r.error() == "invalid_request"
         and "duplicate member" in r.json["message"], "duplicate \"password\": 400", r)
    bad_body = dict(good)
    del bad_body["otp"]
    r = srv.request("POST", "/v1/login", bad_body)
    t.ok(r.status == 400 and r.error() == "invalid_request", "missing member: 400", r)
    bad_body = dict(good)
    bad_body["pop_key"] = {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}
    r = srv.request("POST", "/v1/login", bad_body)
    t.ok(r.status == 400, "pop_key not a P-256 key: 400", r)
    r = srv.request("POST", "/v1/login", good, headers={"Content-Type": "text/plain"})
    t.ok(r.status == 400, "Content-Type not JSON: 400", r)
    r = srv.request("GET", "/v1/nothing")
    t.ok(r.status == 404 and r.error() == "not_found", "unknown path: 404", r)
    r = srv.request("GET", "/v1/login")
    t.ok(r.status == 405 and r.error() == "method_not_allowed" and r.headers["Allow"] == "POST",
         "wrong method: 405 with Allow", r)
    r = srv.request("GET", "/v1/health", headers={"X-Big": "a" * 20000})
    t.ok(r.status == 400 and r.error() == "invalid_request", "20 kB header: 400", r)

    # -- the log holds no secret ------------------------------------------------
    rc = srv.stop()
    t.ok(rc == 0, "SIGTERM: clean exit", srv.stderr()[-2000:])
    log = srv.stderr()
    t.ok("POST /v1/login 200" in log and "user=alice" in log, "access log lines", log[-1000:])
    leaked = [s for s in (PASSWORD, body["token"], srv.secrets["alice"], code, code_next)
              if s in log]
    t.ok(not leaked, "no password, token, secret or code in the log", leaked)
finally:
    srv.cleanup()
t.done()
