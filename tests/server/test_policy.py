#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# signetd's policies over time, against a real server: back-off (429 +
# Retry-After) and lockout (423) that survive a restart, unlock; expired
# tokens; authority key rotation and retirement. Short policies come from
# signetd.conf, as an operator would set them.
#
#   test_policy.py PATH/TO/signetd
import sys
import time

import cbor2

from signetd_harness import Server, Tap, pub_from_jwk, unb64u, verify_sign1

SIGNETD = sys.argv[1]
t = Tap()

# -- back-off and lockout ------------------------------------------------------
srv = Server(SIGNETD, {"backoff_after": 2, "lock_after": 6, "backoff_max": 900,
                       "address_backoff_after": 1000})
try:
    srv.start()
    WRONG = "wrong password, long enough"
    srv.add_user("bob")
    bob = "bob"
    r1, _ = srv.login(bob, password=WRONG)
    r2, _ = srv.login(bob, password=WRONG)
    r, _ = srv.login(bob)
    t.ok(r1.status == 401 and r2.status == 401, "two failures: 401", (r1, r2))
    # After two failures the back-off is 1 s, counted from the end of the
    # second in which the last failure was recorded, so 1 or 2 s remain.
    t.ok(r.status == 429 and r.error() == "rate_limited" and r.headers["Retry-After"] in ("1", "2"),
         "third attempt at once: 429, Retry-After 1-2 (even with the right password)", r)
    for wait in (2, 3, 5):
        time.sleep(wait + 0.2)
        r, _ = srv.login(bob, password=WRONG)
        t.ok(r.status == 401, "failure after waiting %d s: 401" % wait, r)
    r, _ = srv.login(bob)
    t.ok(r.status == 429 and 1 <= int(r.headers["Retry-After"]) <= 9,
         "after 5 failures: 429, Retry-After <= 9", r)
    rc = srv.stop()
    srv.start()
    r, _ = srv.login(bob)
    t.ok(rc == 0 and r.status == 429 and 1 <= int(r.headers["Retry-After"]) <= 9,
         "back-off survives a restart", r)
    time.sleep(int(r.headers.get("Retry-After", "9")) + 0.2)
    r, _ = srv.login(bob, password=WRONG)
    t.ok(r.status == 401, "sixth failure: 401", r)
    r, _ = srv.login(bob)
    t.ok(r.status == 423 and r.error() == "locked", "then locked: 423 (right password too)", r)
    srv.stop()
    srv.start()
    r, _ = srv.login(bob)
    t.ok(r.status == 423, "the lock survives a restart", r)
    listed = srv.cli("user", "list", "--json").stdout
    t.ok('"locked" : true' in listed, "user list shows the lock", listed)
    p = srv.cli("user", "unlock", bob)
    r, _ = srv.login(bob)
    t.ok(p.returncode == 0 and r.status == 200, "user unlock: sign-in works again", r)
    p = srv.cli("user", "unlock", "nobody")
    t.ok(p.returncode == 3, "unlock an unknown user: exit 3", p.returncode)
    t.ok(srv.stop() == 0, "clean exit", srv.stderr()[-2000:])
finally:
    srv.cleanup()

# -- expiry and key rotation -------------------------------------------------------
# A lifetime long enough for the steps before the expiry check to finish
# on a loaded CI machine under ASan (3 s was seen to flake).
LIFETIME = 8
srv = Server(SIGNETD, {"lifetime": LIFETIME})
try:
    srv.add_user("kim")
    srv.start()
    old_kid = srv.trust()["authority_keys"][0]["kid"]
    r, key = srv.login("kim")
    t.ok(r.status == 200 and r.json["expires_at"] - r.json["auth_time"] == LIFETIME,
         "lifetime from signetd.conf", r)
    old = r.json
    p = srv.cli("key", "rotate")
    keys = srv.trust()["authority_keys"]
    t.ok(p.returncode == 0 and len(keys) == 2 and keys[0]["current"] and
         not keys[1]["current"] and keys[1]["kid"] == old_kid and
         keys[1]["not_after"] == old["expires_at"],
         "after rotation the old key stays published until its last token expires", keys)
    r, _ = srv.pop_call(key, old["token"], "/v1/refresh")
    t.ok(r.status == 200, "a token of the retired key still refreshes", r)
    new = r.json
    hdr, _ = verify_sign1(pub_from_jwk(keys[0]["jwk"]), unb64u(new["token"]))
    t.ok(hdr[4] == keys[0]["kid"].encode(), "new tokens are signed by the new key", hdr)
    rl = verify_sign1(pub_from_jwk(keys[0]["jwk"]), unb64u(srv.trust()["revocation_list"]))
    t.ok(rl is not None, "the revocation list is re-signed by the new key")
    time.sleep(max(0.0, old["expires_at"] + 0.5 - time.time()))
    time.sleep(max(0.0, new["expires_at"] + 0.5 - time.time()))
    r, _ = srv.pop_call(key, old["token"], "/v1/refresh")
    t.ok(r.status == 401 and r.error() == "unauthorized",
         "expired token (retired key past its publication): 401", r)
    r, _ = srv.pop_call(key, new["token"], "/v1/refresh")
    t.ok(r.status == 401, "expired token of the current key: 401", r)
    keys = srv.trust()["authority_keys"]
    t.ok(len(keys) == 1 and keys[0]["kid"] != old_kid,
         "the retired key is no longer published", keys)
    t.ok(srv.stop() == 0, "clean exit", srv.stderr()[-2000:])
finally:
    srv.cleanup()

# -- refusals of the command line ---------------------------------------------------
srv = Server(SIGNETD)
try:
    p = srv.cli("init")
    t.ok(p.returncode == 4, "init refuses an existing data dir (exit 4)", p)
    p = srv.cli("user", "add", "pat", "--role", "technician", stdin="too short\n")
    t.ok(p.returncode == 2, "a password under 12 characters: exit 2", p)
    p = srv.cli("user", "add", "pat", "--role", "wizard", stdin="long enough password\n")
    t.ok(p.returncode == 2, "an unknown role: exit 2", p)
    srv.add_user("pat")
    p = srv.cli("user", "add", "pat", "--role", "technician", stdin="long enough password\n")
    t.ok(p.returncode == 4, "an existing user: exit 4", p)
    p = srv.cli("user", "delete", "nobody")
    t.ok(p.returncode == 3, "delete an unknown user: exit 3", p)
    p = srv.cli("user", "delete", "pat")
    t.ok(p.returncode == 0 and "pat" not in srv.cli("user", "list").stdout, "user delete", p)
    p = srv.cli("user", "--help")
    t.ok(p.returncode == 0 and "Exit status" in p.stdout and "reset-otp" in p.stdout,
         "--help documents commands and exit codes", p.stdout)
    p = srv.cli("bogus")
    t.ok(p.returncode == 2, "unknown command: exit 2", p)
finally:
    srv.cleanup()
t.done()
