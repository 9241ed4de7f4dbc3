#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# signetd under concurrent load, on loopback only and bounded in count and
# time: USERS clients, each on its own keep-alive TLS connection, sign in
# once (an oathtool code; a TOTP step is good once per user) and then
# refresh with fresh PoP proofs until the deadline, every STEP_UP_EVERY-th
# client stepping up halfway with the next step's code. Then:
#
#   * no request failed: every answer has the expected status;
#   * every token verifies with the authority key of /v1/trust
#     (python3-cryptography + python3-cbor2, not our code), names its user
#     and its client's PoP key, and carries its session's auth_time;
#   * every cti is unique;
#   * nothing was lost: after a clean SIGTERM, the database holds exactly
#     the sessions and tokens the clients received (count, cti and session
#     of each), every accepted proof's jti, each user's last TOTP step, no
#     failure counted, and PRAGMA integrity_check / foreign_key_check pass.
#
# Prints the counts and the request rate achieved (a number, not a check).
#
#   test_load.py PATH/TO/signetd
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import traceback

import cbor2
from cryptography.hazmat.primitives.asymmetric import ec

from signetd_harness import (PASSWORD, Server, Tap, jwk_of, make_pop, pub_from_jwk, totp,
                             unb64u, verify_sign1)

SIGNETD = sys.argv[1]
USERS = 40
STEP_UP_EVERY = 4          # users 0, 4, 8, ... step up once
TRAFFIC_SECONDS = 10.0     # refresh phase; the whole run stays well under 60 s
MAX_REFRESHES = 400        # per user: the count bound, whatever the speed
MIN_REQUESTS = 3           # per user, after sign-in, whatever the deadline
# Every credential check is counted as a failure of its address until it
# succeeds (signetd-lockout.h), and all clients here share 127.0.0.1: keep
# fewer checks in flight than address_backoff_after (20), as a NAT of
# technicians signing in at their own pace would.
CREDENTIAL_SLOTS = threading.BoundedSemaphore(8)
REQUEST_TIMEOUT = 30


class Client(threading.Thread):
    def __init__(self, srv, index, deadline_box):
        super().__init__(name="client-%d" % index)
        self.srv = srv
        self.name_ = "load%02d" % index
        self.step_up = index % STEP_UP_EVERY == 0
        self.deadline_box = deadline_box
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.conn = None
        self.issued = []        # (kind, token, body)
        self.jtis = []          # jti of every proof the service accepted
        self.failures = []
        self.requests = 0
        self.last_step = None   # the TOTP step last accepted for this user

    def connect(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPSConnection("127.0.0.1", self.srv.port,
                                                context=self.srv.ctx, timeout=REQUEST_TIMEOUT)

    def post(self, path, body, headers=None):
        h = {"Content-Type": "application/json"}
        h.update(headers or {})
        self.requests += 1
        try:
            self.conn.request("POST", path, body=body, headers=h)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            # Counted as a failure: the answer to a request that may have
            # been applied is lost.
            self.connect()
            return None, repr(e)
        if resp.will_close:
            self.connect()
        try:
            return resp.status, json.loads(data) if data else None
        except ValueError:
            return resp.status, data

    def expect(self, what, status, answer, want):
        if status != want:
            self.failures.append("%s %s: %r %r" % (self.name_, what, status, answer))
            return False
        return True

    def login(self):
        at = time.time()
        with CREDENTIAL_SLOTS:
            code = totp(self.srv.secrets[self.name_], at)
            status, answer = self.post("/v1/login", json.dumps(
                {"username": self.name_, "password": PASSWORD, "otp": code,
                 "pop_key": jwk_of(self.key.public_key())}).encode())
        if not self.expect("login", status, answer, 200):
            return None
        self.last_step = int(at) // 30
        self.issued.append(("login", answer["token"], answer))
        return answer

    def pop(self, path, token, body):
        jti = os.urandom(16)
        proof = make_pop(self.key, token, "POST", path, body, jti=jti)
        status, answer = self.post(path, body, {"Authorization": "PoP " + token,
                                                "Signet-PoP": proof})
        if status == 200:
            self.jtis.append(jti)
        return status, answer

    def run(self):
        self.connect()
        try:
            self.run_client()
        finally:
            self.conn.close()

    def run_client(self):
        current = self.login()
        if current is None:
            return
        deadline = self.deadline_box[0]
        halfway = deadline - TRAFFIC_SECONDS / 2
        stepped = not self.step_up
        for n in range(MAX_REFRESHES):
            now = time.time()
            # A few requests each even when sign-in queued past the deadline
            # (a slow machine, a sanitizer build): every client is checked.
            if now >= deadline and n >= MIN_REQUESTS and stepped:
                break
            if not stepped and now >= halfway:
                stepped = True
                # The next step: the login's own is spent (replay).
                step = self.last_step + 1
                with CREDENTIAL_SLOTS:
                    code = totp(self.srv.secrets[self.name_], step * 30)
                    status, answer = self.pop("/v1/step-up", current["token"],
                                              ('{"otp":"%s"}' % code).encode())
                if not self.expect("step-up", status, answer, 200):
                    return
                self.last_step = step
                self.issued.append(("step-up", answer["token"], answer))
                current = answer
                continue
            status, answer = self.pop("/v1/refresh", current["token"], b"{}")
            if not self.expect("refresh", status, answer, 200):
                return
            self.issued.append(("refresh", answer["token"], answer))
            current = answer


def db_rows(path, sql):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


t = Tap()
srv = Server(SIGNETD)
try:
    names = ["load%02d" % i for i in range(USERS)]
    for name in names:
        srv.add_user(name)
    srv.start()
    trust = srv.trust()
    authority = pub_from_jwk(trust["authority_keys"][0]["jwk"])
    kid = trust["authority_keys"][0]["kid"]

    # Clients start together; the deadline counts from after the last
    # login could have happened (logins queue behind CREDENTIAL_SLOTS).
    deadline_box = [time.time() + TRAFFIC_SECONDS + 2.0]
    clients = [Client(srv, i, deadline_box) for i in range(USERS)]
    started = time.time()
    for c in clients:
        c.start()
    for c in clients:
        c.join(timeout=120)
    elapsed = time.time() - started
    t.ok(not any(c.is_alive() for c in clients), "every client finished in time")

    failures = [f for c in clients for f in c.failures]
    requests = sum(c.requests for c in clients)
    issued = [(c, kind, tok, body) for c in clients for kind, tok, body in c.issued]
    counts = {k: sum(1 for i in issued if i[1] == k) for k in ("login", "refresh", "step-up")}
    print("# %d clients, %d requests in %.1f s: %.0f requests/s "
          "(%d logins, %d refreshes, %d step-ups)"
          % (USERS, requests, elapsed, requests / elapsed, counts["login"],
             counts["refresh"], counts["step-up"]))
    t.ok(not failures, "no request failed (%d requests)" % requests, "\n".join(failures[:20]))
    t.ok(counts["login"] == USERS, "every user signed in once", counts)
    t.ok(counts["step-up"] == len(range(0, USERS, STEP_UP_EVERY)),
         "every fourth user stepped up once", counts)
    t.ok(all(sum(1 for i in c.issued if i[0] == "refresh") >= MIN_REQUESTS - 1
             for c in clients), "every user refreshed", counts)
    t.ok(len(issued) == requests, "every request got a token")

    # -- every token, checked with python3-cryptography + cbor2 ------------
    bad = []
    ctis = {}           # cti -> session
    session_auth = {}   # session -> auth_time of its latest token
    for c in clients:
        nums = c.key.public_key().public_numbers()
        auth_time = None
        for kind, tok, body in c.issued:
            checked = verify_sign1(authority, unb64u(tok))
            if checked is None:
                bad.append("%s %s: does not verify" % (c.name_, kind))
                continue
            hdr, payload = checked
            claims = cbor2.loads(payload)
            cnf = claims.get(8, {}).get(1, {})
            if kind != "refresh":
                auth_time = body["auth_time"]
            if (hdr.get(4) != kid.encode() or claims.get(1) != srv.url or
                    claims.get(2) != c.name_ or claims.get(3) != "signet" or
                    cnf.get(-2) != nums.x.to_bytes(32, "big") or
                    cnf.get(-3) != nums.y.to_bytes(32, "big") or
                    claims.get("auth_time") != auth_time or
                    claims.get(4) != body["expires_at"] or
                    not isinstance(claims.get(7), bytes) or len(claims[7]) != 16):
                bad.append("%s %s: claims %r" % (c.name_, kind, claims))
                continue
            if claims[7] in ctis:
                bad.append("%s %s: cti seen before" % (c.name_, kind))
            ctis[claims[7]] = body["session"]
            session_auth[body["session"]] = auth_time
    t.ok(not bad, "all %d tokens verify and carry the right claims" % len(issued),
         "\n".join(bad[:20]))
    t.ok(len(ctis) == len(issued), "all %d cti are unique" % len(issued),
         "%d unique" % len(ctis))
    sessions = {body["session"] for _, kind, _, body in issued if kind == "login"}
    t.ok(len(sessions) == USERS and set(ctis.values()) == sessions,
         "one session per user, every token in its client's session")

    # -- nothing lost: the database after a clean stop ----------------------
    rc = srv.stop()
    t.ok(rc == 0, "SIGTERM: signetd exits 0", srv.stderr()[-2000:])
    # What the audit log cost (signetd-audit.h: each record is fdatasync'ed
    # before the answer), as signetd reports it at shutdown.
    for line in srv.stderr().splitlines():
        if "append + fdatasync" in line:
            print("# " + line.split(": ", 1)[-1])
    db = os.path.join(srv.data, "signetd.db")
    rows = db_rows(db, "SELECT cti, session_id FROM tokens")
    db_ctis = {bytes(cti): sid for cti, sid in rows}
    print("# database: %d tokens, %d sessions" % (len(rows), len(
        db_rows(db, "SELECT id FROM sessions"))))
    t.ok(len(rows) == len(ctis) and db_ctis == ctis,
         "tokens table = the tokens received (%d, cti and session)" % len(ctis),
         "db %d rows, received %d; missing %d, extra %d"
         % (len(rows), len(ctis), len(set(ctis) - set(db_ctis)), len(set(db_ctis) - set(ctis))))
    rows = db_rows(db, "SELECT s.id, u.name, s.auth_time, s.revoked FROM sessions s "
                       "JOIN users u ON u.id = s.user_id")
    by_session = {sid: (name, auth, revoked) for sid, name, auth, revoked in rows}
    owner = {body["session"]: c.name_ for c, kind, _, body in issued}
    t.ok(len(rows) == USERS and set(by_session) == sessions and
         all(by_session[s] == (owner[s], session_auth[s], 0) for s in sessions),
         "sessions table = the sessions received (user, auth_time, not revoked)", rows[:5])
    jtis = {j for c in clients for j in c.jtis}
    if time.time() - started < 55:
        # Each kept until its proof goes stale (iat + 60 s), so all are there.
        db_jtis = {bytes(j) for (j,) in db_rows(db, "SELECT jti FROM pop_jti")}
        t.ok(db_jtis == jtis, "pop_jti holds every accepted proof's jti (%d)" % len(jtis),
             "db %d, accepted %d" % (len(db_jtis), len(jtis)))
    else:
        t.ok(True, "pop_jti check # SKIP the run took over 55 s: older jtis expire")
    steps = dict(db_rows(db, "SELECT name, totp_last_step FROM users"))
    t.ok(all(steps.get(c.name_) == c.last_step for c in clients),
         "each user's last TOTP step is the one last accepted")
    t.ok(db_rows(db, "SELECT count(*) FROM login_failures") == [(0,)],
         "no failure counted")
    t.ok(db_rows(db, "PRAGMA integrity_check") == [("ok",)], "PRAGMA integrity_check: ok")
    t.ok(db_rows(db, "PRAGMA foreign_key_check") == [], "PRAGMA foreign_key_check: clean")
except Exception:  # noqa: BLE001 -- report any crash as a failure
    t.ok(False, "load test ran to the end", traceback.format_exc() + srv.stderr()[-2000:])
finally:
    srv.cleanup()
t.done()
