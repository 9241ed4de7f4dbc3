#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Event-log upload, review and the service's own audit log, against a real
# signetd. The logs are written and verified here by an independent Python
# implementation of docs/eventlog.md (cbor2 + hashlib/hmac), not by our C
# code; the countersignatures are checked with python3-cryptography, and
# the audit log's K_0 is opened from the database with AES-GCM and the
# master key, as docs/operations.md says a reviewer with the data dir can.
#
#   test_logs.py PATH/TO/signetd
import datetime
import glob
import hashlib
import hmac
import http.client
import io
import json
import os
import re
import sqlite3
import struct
import sys
import time

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from signetd_harness import (PASSWORD, Server, Tap, b64u, make_pop, pub_from_jwk, raw_sign,
                             totp, unb64u, verify_sign1)

SIGNETD = sys.argv[1]
CBOR_SEQ = "application/cbor-seq"


# -- docs/eventlog.md, independently --------------------------------------------------
def u64(n):
    return struct.pack(">Q", n)


def hkdf(ikm, info):
    prk = hmac.new(b"\0" * 32, ikm, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def next_key(key, epoch):
    return hkdf(key, b"signet-log-key-v1" + u64(epoch))


def seal_mac(key, seq, epoch, t, head):
    return hmac.new(key, b"signet-log-seal-v1" + u64(seq) + u64(epoch) + u64(t) + head,
                    hashlib.sha256).digest()


def encode(rec):
    return cbor2.dumps(rec, canonical=True)


class Writer:
    def __init__(self, k0, actor, session, interval=4):
        self.key, self.actor, self.interval = k0, actor, interval
        self.epoch = self.pending = 0
        self.records = []
        self.head = b"\0" * 32
        self.t = int(time.time() * 1000)
        self._emit("session.start", None, {"session": session, "version": 1,
                                           "seal_interval": interval})
        self.pending = 1

    def _emit(self, typ, device, data):
        self.t += 1
        raw = encode([len(self.records), self.t, typ, self.actor, device, data, self.head])
        self.records.append(raw)
        self.head = hashlib.sha256(raw).digest()

    def append(self, typ, device=None, data=None):
        self._emit(typ, device, data or {})
        self.pending += 1
        if self.pending == self.interval:
            self.seal()

    def seal(self):
        if self.pending == 0:
            return
        seq = len(self.records)
        mac = seal_mac(self.key, seq, self.epoch, self.t + 1, self.head)
        self._emit("seal", None, {"mac": mac, "epoch": self.epoch})
        self.key = next_key(self.key, self.epoch + 1)
        self.epoch += 1
        self.pending = 0

    def close(self):
        self._emit("session.end", None, {})
        self.pending += 1
        self.seal()

    def data(self, start=0, end=None):
        return b"".join(self.records[start:end])


def split(log):
    """The records of a CBOR sequence as (raw, decoded); raises on junk."""
    out, f = [], io.BytesIO(log)
    while f.tell() < len(log):
        start = f.tell()
        item = cbor2.CBORDecoder(f).decode()
        raw = log[start:f.tell()]
        if encode(item) != raw:
            raise ValueError("not deterministic CBOR at %d" % start)
        out.append((raw, item))
    return out


def verify(log, k0):
    """(verdict, records, last sealed seq) as docs/eventlog.md §5 says."""
    try:
        recs = split(log)
    except Exception:
        return "malformed", 0, -1
    key, epoch, pending, head, last_sealed = k0, 0, 0, b"\0" * 32, -1
    ended = complete = False
    interval, actor = 0, None
    for i, (raw, r) in enumerate(recs):
        if not isinstance(r, list) or len(r) != 7:
            return "malformed", i, last_sealed
        seq, t, typ, who, device, data, prev = r
        if seq != i or prev != head or complete or (ended and typ != "seal"):
            return "tampered", i, last_sealed
        if i == 0:
            if typ != "session.start":
                return "tampered", i, last_sealed
            interval, actor = data["seal_interval"], who
        if typ == "seal":
            if pending == 0 or data.get("epoch") != epoch or who != actor or device is not None:
                return "tampered", i, last_sealed
            if not hmac.compare_digest(seal_mac(key, seq, epoch, t, head), data["mac"]):
                return "tampered", i, last_sealed
            key, epoch, pending, last_sealed = next_key(key, epoch + 1), epoch + 1, 0, seq
            complete = ended
        else:
            if pending >= interval:
                return "tampered", i, last_sealed
            pending += 1
            ended = ended or typ == "session.end"
        head = hashlib.sha256(raw).digest()
    if not recs:
        return "truncated", 0, -1
    if complete:
        return "verified", len(recs), last_sealed
    return ("unsealed-tail" if pending else "truncated"), len(recs), last_sealed


# -- a manufacturer CA and a device (as test_vault.py, in brief) ----------------------
def make_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    n = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Acme Devices CA")])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(n).issuer_name(n)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_device(ca_key, ca_cert, serial):
    key = ec.generate_private_key(ec.SECP256R1())
    kem = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dev"),
                                     x509.NameAttribute(NameOID.SERIAL_NUMBER, serial)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                         False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    kem_pub = kem.public_key().public_bytes(serialization.Encoding.X962,
                                            serialization.PublicFormat.UncompressedPoint)
    payload = cbor2.dumps({1: serial, 2: "acme-gw1", 3: os.urandom(32), 4: kem_pub, 5: "1.0",
                           6: 1, 7: os.urandom(32), 8: 1700000000}, canonical=True)
    protected = cbor2.dumps({1: -7, 3: "application/signet-attest+cbor", 4: serial.encode()},
                            canonical=True)
    sig = raw_sign(key, cbor2.dumps(["Signature1", protected, b"", payload]))
    evidence = b64u(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, sig])))
    return evidence, [b64u(cert.public_bytes(serialization.Encoding.DER))]


def open_sealed(data_dir, purpose, blob):
    """signetd-keys.h: nonce(12) || AES-256-GCM, AAD "signetd:v1:" + purpose."""
    master = open(os.path.join(data_dir, "master.key"), "rb").read()
    return AESGCM(master).decrypt(blob[:12], blob[12:], b"signetd:v1:" + purpose.encode())


t = Tap()
srv = Server(SIGNETD)
seen_secrets = [PASSWORD.encode()]
try:
    for name in ("alice", "bob", "carol", "dave"):
        srv.add_user(name)
    srv.add_user("sam", role="supervisor")
    ca_key, ca_cert = make_ca()
    ca_pem = os.path.join(srv.tmp, "ca.pem")
    open(ca_pem, "wb").write(ca_cert.public_bytes(serialization.Encoding.PEM))
    PSK = "log-test-wifi-psk-value"
    seen_secrets.append(PSK.encode())
    r1 = srv.cli("ca", "add", ca_pem)
    r2 = srv.cli("secret", "set", "site-a/wifi-psk", stdin=PSK + "\n")
    prof = os.path.join(srv.tmp, "wifi.json")
    json.dump({"id": "acme-wifi", "version": 1, "model": "acme-gw1", "class": "credential",
               "critical": True, "fields": [{"key": "wifi.psk", "type": "string",
                                             "secret": True, "vault": "site-a/wifi-psk"}]},
              open(prof, "w"))
    r3 = srv.cli("profile", "add", prof)
    t.ok(r1.returncode == r2.returncode == r3.returncode == 0, "setup: CA, secret, profile",
         r1.stderr + r2.stderr + r3.stderr)
    srv.start()
    trust = srv.trust()
    authority = pub_from_jwk(trust["authority_keys"][0]["jwk"])
    kid = trust["authority_keys"][0]["kid"].encode()

    def login(name, at=None):
        code = totp(srv.secrets[name], at)
        seen_secrets.append(code.encode())
        r, key = srv.login(name, code=code)
        assert r.status == 200, r
        seen_secrets.extend([r.json["token"].encode(), unb64u(r.json["token"]),
                             unb64u(r.json["log_key"]), r.json["log_key"].encode()])
        return r.json, key

    def upload(key, tok, body, ctype=CBOR_SEQ, pop=True, query=None):
        path = "/v1/logs" + ("?" + query if query is not None else "")
        h = {"Authorization": "PoP " + tok, "Content-Type": ctype}
        if pop:
            h["Signet-PoP"] = make_pop(key, tok, "POST", path, body)
            seen_secrets.append(h["Signet-PoP"].encode())
        return srv.request("POST", path, raw=body, headers=h)

    def get(key, tok, path):
        proof = make_pop(key, tok, "GET", path, b"")
        return srv.request("GET", path, headers={"Authorization": "PoP " + tok,
                                                 "Signet-PoP": proof})

    def check_cs(r, w, sealed_seq):
        obj = verify_sign1(authority, unb64u(r.json["countersignature"]))
        if obj is None:
            return False
        hdr, payload = obj
        p = cbor2.loads(payload)
        return (hdr == {1: -7, 3: "application/signet-log-head+cbor", 4: kid}
                and p[1] == r.json["session"] and p[2] == r.json["next_seq"] == len(w.records)
                and p[3] == w.head == bytes.fromhex(r.json["head"])
                and p[4] == r.json["sealed_seq"] == sealed_seq
                and abs(p[5] - time.time()) < 60
                and cbor2.dumps(p, canonical=True) == payload)

    # -- alice's session: two segments -------------------------------------------
    a, akey = login("alice")
    k0 = unb64u(a["log_key"])
    t.ok(len(k0) == 32, "login answers a 32-byte log_key", a)
    w = Writer(k0, "alice", a["session"], interval=4)
    w.append("device.hello", "SN-0001", {"model": "acme-gw1"})
    w.append("device.apply", "SN-0001", {"op": "config.set", "seq": 1})
    w.append("device.apply", "SN-0002", {"op": "config.set", "seq": 1})
    w.seal()
    seg1_end = len(w.records)
    seg1 = w.data(0, seg1_end)
    r = upload(akey, a["token"], seg1)
    t.ok(r.status == 200 and set(r.json) == {"session", "records", "next_seq", "head",
                                             "sealed_seq", "countersignature"}
         and r.json["session"] == a["session"] and r.json["records"] == seg1_end,
         "first segment: 200", r)
    first_answer = r.json
    t.ok(r.status == 200 and check_cs(r, w, seg1_end - 1),
         "countersignature: COSE_Sign1 by the authority over {session, next_seq, head, "
         "sealed_seq, time}", r.json)
    r = upload(akey, a["token"], seg1)
    t.ok(r.status == 200 and all(r.json[k] == first_answer[k] for k in
                                 ("session", "records", "next_seq", "head", "sealed_seq")),
         "exact re-upload: the same 200", r)

    # Refusals, while the stored log ends after segment 1.
    big = {"blob": os.urandom(40000)}
    w2_start = seg1_end
    w.append("device.firmware", "SN-0002", big)
    w.append("device.firmware", "SN-0002", big)
    w.append("device.commit", "SN-0002", {"slot": 1})
    w.close()
    seg2 = w.data(w2_start)

    def refused(r, status, error):
        return r.status == status and r.error() == error

    r = upload(akey, a["token"], w.data(w2_start + 1))
    t.ok(refused(r, 409, "conflict") and "seq" in r.json["message"], "gap: 409 conflict", r)
    fork = Writer(k0, "alice", a["session"], interval=4)
    fork.append("device.hello", "SN-0001", {"model": "other"})
    fork.append("device.apply", "SN-0001", {"op": "config.set", "seq": 9})
    r = upload(akey, a["token"], fork.data(1))
    t.ok(refused(r, 409, "conflict"), "overlap that differs: 409", r)
    recs = [item for _, item in split(seg2)]
    tampered = list(recs)
    tampered[2] = list(tampered[2])
    tampered[2][5] = {"slot": 2}
    r = upload(akey, a["token"], b"".join(encode(x) for x in tampered))
    t.ok(refused(r, 409, "conflict"), "tampered record: 409", r)
    # Re-chained after the change, so only the seal can tell.
    forged, head = [], w.head
    head = hashlib.sha256(split(seg1)[-1][0]).digest()
    for x in tampered:
        x = list(x)
        x[6] = head
        raw = encode(x)
        forged.append(raw)
        head = hashlib.sha256(raw).digest()
    r = upload(akey, a["token"], b"".join(forged))
    t.ok(refused(r, 409, "conflict") and "MAC" in r.json["message"],
         "re-chained, seal mismatch: 409", r)
    r = upload(akey, a["token"], b"\xff\x00junk" * 10)
    t.ok(refused(r, 400, "invalid_request"), "malformed: 400", r)
    r = upload(akey, a["token"], seg2[:-5])
    t.ok(refused(r, 400, "invalid_request"), "partial record at the end: 400", r)
    r = upload(akey, a["token"], seg2, ctype="application/json")
    t.ok(refused(r, 415, "unsupported_media_type"), "wrong content type: 415", r)
    r = upload(akey, a["token"], seg2, pop=False)
    t.ok(refused(r, 401, "unauthorized"), "no PoP: 401", r)
    conn = http.client.HTTPSConnection("127.0.0.1", srv.port, context=srv.ctx, timeout=30)
    conn.putrequest("POST", "/v1/logs")
    conn.putheader("Content-Type", CBOR_SEQ)
    conn.putheader("Content-Length", str(1024 * 1024 + 1))
    conn.putheader("Expect", "100-continue")   # so the answer can come before the body
    conn.endheaders()
    resp = conn.getresponse()
    early = (resp.status, json.loads(resp.read() or b"{}").get("error"))
    conn.close()
    t.ok(early == (413, "payload_too_large"),
         "Content-Length over 1 MiB: 413 before the body is sent", early)
    r = srv.request("POST", "/v1/logs", raw=(b"x" * 65536 for _ in range(17)), chunked=True,
                    headers={"Content-Type": CBOR_SEQ})
    t.ok(refused(r, 413, "payload_too_large"), "chunked body over 1 MiB: 413", r)

    r = upload(akey, a["token"], seg2)
    t.ok(r.status == 200 and len(seg2) > 64 * 1024 and check_cs(r, w, len(w.records) - 1)
         and r.json["records"] == len(w.records) - w2_start,
         "second segment (%d bytes, over 64 KiB), sealed and complete: 200" % len(seg2), r)
    r = upload(akey, a["token"], seg1)
    t.ok(r.status == 200 and r.json["next_seq"] == first_answer["next_seq"]
         and r.json["head"] == first_answer["head"], "segment 1 again later: its own answer", r)

    # -- other sessions -------------------------------------------------------------
    b, bkey = login("bob")
    c, ckey = login("carol")
    wrong = Writer(unb64u(b["log_key"]), "carol", c["session"], interval=2)
    wrong.append("device.hello", "SN-0003")
    r = upload(ckey, c["token"], wrong.data())
    t.ok(refused(r, 409, "conflict"), "another session's K_0: 409 (seal)", r)
    other = Writer(unb64u(c["log_key"]), "carol", b["session"], interval=2)
    other.append("device.hello", "SN-0003")
    r = upload(ckey, c["token"], other.data())
    t.ok(refused(r, 409, "conflict"), "another session's log under this token: 409", r)
    bw = Writer(unb64u(b["log_key"]), "bob", b["session"], interval=8)
    bw.append("device.hello", "SN-0003")
    bw.seal()
    r = upload(bkey, b["token"], bw.data())
    t.ok(r.status == 200, "bob's open session: 200", r)

    db = sqlite3.connect(os.path.join(srv.data, "signetd.db"))
    rows = db.execute("SELECT log_id, status, reason, length(data), sha256 FROM "
                      "rejected_segments ORDER BY id").fetchall()
    reasons = [(x[0] == a["session"], x[1], x[2]) for x in rows]
    t.ok(reasons == [(True, 409, "seq-gap"), (True, 409, "overlap"), (True, 409, "chain-broken"),
                     (True, 409, "seal-mac"), (True, 400, "cbor"),
                     (True, 400, "partial-record"), (False, 409, "seal-mac"),
                     (False, 409, "another-session")]
         and all(x[3] > 0 and len(x[4]) == 32 for x in rows),
         "refused segments kept aside with reason and bytes (not 401/413/415)", reasons)
    stored = b"".join(x[0] for x in db.execute(
        "SELECT data FROM log_segments WHERE log_id = ? ORDER BY first_seq", (a["session"],)))
    t.ok(stored == w.data(), "stored log = the two segments, nothing merged", len(stored))
    enc_state = db.execute("SELECT state FROM logs WHERE id = ?", (a["session"],)).fetchone()[0]
    t.ok(k0 not in enc_state and k0 not in open(os.path.join(srv.data, "signetd.db"), "rb").read(),
         "K_0 and the verifier state are not in the database in clear")
    db.close()

    # -- review -------------------------------------------------------------------------
    s, skey = login("sam")
    r = get(skey, s["token"], "/v1/logs?technician=alice")
    logs = r.json.get("logs", []) if r.status == 200 else []
    t.ok(r.status == 200 and len(logs) == 1 and logs[0]["session"] == a["session"]
         and logs[0]["outcome"] == "tampered" and logs[0]["devices"] == ["SN-0001", "SN-0002"]
         and logs[0]["records"] == len(w.records) and logs[0]["ended"] is not None
         and set(logs[0]) == {"session", "kind", "technician", "started", "ended", "records",
                              "outcome", "devices"},
         "search by technician (refused segments make it 'tampered')", r)
    r = get(skey, s["token"], "/v1/logs?device=SN-0003")
    t.ok(r.status == 200 and [x["session"] for x in r.json["logs"]] == [b["session"]]
         and r.json["logs"][0]["outcome"] == "open", "search by device: bob's open log", r)
    r = get(skey, s["token"], "/v1/logs?outcome=open&technician=bob")
    t.ok(r.status == 200 and len(r.json["logs"]) == 1, "search by outcome", r)
    r = get(skey, s["token"], "/v1/logs?outcome=verified&technician=alice")
    t.ok(r.status == 200 and r.json["logs"] == [], "outcome filter excludes", r)
    now = int(time.time())
    r = get(skey, s["token"], "/v1/logs?technician=alice&from=%d" % (now + 3600))
    r2 = get(skey, s["token"], "/v1/logs?technician=alice&from=%d&to=%d" % (now - 3600,
                                                                             now + 3600))
    t.ok(r.status == 200 and r.json["logs"] == [] and len(r2.json["logs"]) == 1,
         "search by time", (r, r2))
    r = get(skey, s["token"], "/v1/logs?limit=1")
    r2 = get(skey, s["token"], "/v1/logs?limit=1&cursor=" + (r.json or {}).get("next_cursor", ""))
    t.ok(r.status == 200 and r2.status == 200 and len(r.json["logs"]) == 1
         and r.json["logs"][0]["session"] != r2.json["logs"][0]["session"],
         "limit and cursor", (r, r2))
    for q in ("limit=201", "outcome=fine", "colour=red", "from=yesterday", "cursor=xx"):
        r = get(skey, s["token"], "/v1/logs?" + q)
        t.ok(r.status == 400, "bad query %s: 400" % q, r)
    r = get(skey, s["token"], "/v1/logs/" + a["session"])
    t.ok(r.status == 200 and r.headers["Content-Type"] == CBOR_SEQ and r.body == w.data()
         and r.headers["Signet-Log-Verdict"] == "verified"
         and r.headers["Signet-Log-Outcome"] == "tampered"
         and r.headers["Signet-Log-Rejected"] == "6"
         and verify(r.body, k0) == ("verified", len(w.records), len(w.records) - 1),
         "fetch one whole: its bytes verify here with K_0", r.headers)
    r = get(skey, s["token"], "/v1/logs/%s?format=json" % a["session"])
    t.ok(r.status == 200 and [x["seq"] for x in r.json] == list(range(len(w.records)))
         and r.json[1]["device"] == "SN-0001", "fetch as JSON (core's export)", r)
    r = get(skey, s["token"], "/v1/logs/no-such-log")
    t.ok(refused(r, 404, "not_found"), "unknown id: 404", r)
    r = get(akey, a["token"], "/v1/logs")
    r2 = get(akey, a["token"], "/v1/logs/" + a["session"])
    t.ok(refused(r, 403, "forbidden") and refused(r2, 403, "forbidden"),
         "a technician cannot search or fetch: 403", (r, r2))

    # -- the audit log --------------------------------------------------------------
    r, _ = srv.login("carol", password="not the password, long enough")
    code = totp(srv.secrets["carol"])
    bad = "%06d" % ((int(code) + 1) % 1000000)
    seen_secrets.append(bad.encode())
    r2, _ = srv.login("carol", code=bad)
    t.ok(r.status == 401 and r2.status == 401, "two failed sign-ins", (r, r2))
    evidence, chain = make_device(ca_key, ca_cert, "SN-0077")
    body = json.dumps({"evidence": evidence, "chain": chain, "profile": "acme-wifi",
                       "fields": ["wifi.psk"]}).encode()
    r, _ = srv.pop_call(akey, a["token"], "/v1/seal", body=body)
    t.ok(r.status == 200, "a seal", r)
    digest = r.json["sealed"][0]["digest"] if r.status == 200 else None
    r, _ = srv.pop_call(bkey, b["token"], "/v1/logout")
    rc = srv.cli("revoke", "--session", c["session"]).returncode
    t.ok(r.status == 204 and rc == 0, "a logout and a revocation", r)

    r = get(skey, s["token"], "/v1/logs?technician=signetd")
    service = r.json["logs"] if r.status == 200 else []
    live = [x for x in service if x["session"].startswith("signetd-serve-")]
    cli = [x for x in service if x["session"].startswith("signetd-cli-")]
    t.ok(r.status == 200 and len(live) == 1 and live[0]["outcome"] == "open"
         and live[0]["kind"] == "service" and len(cli) >= 5
         and all(x["outcome"] == "verified" for x in cli),
         "audit logs listed as technician signetd: this run's open, the CLI's verified", service)

    # Search caches service-log verdicts while their files are unchanged: a
    # changed byte is seen even with the mtime put back (ctime moves).
    victim = cli[0]["session"] if cli else "none"
    vpath = os.path.join(srv.data, "audit", victim + ".cbor-seq")
    st = os.stat(vpath)
    original = open(vpath, "rb").read()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0x01
    with open(vpath, "r+b") as f:
        f.write(bytes(flipped))
    os.utime(vpath, ns=(st.st_atime_ns, st.st_mtime_ns))
    r = get(skey, s["token"], "/v1/logs?technician=signetd")
    outcome = {x["session"]: x["outcome"] for x in r.json["logs"]} if r.status == 200 else {}
    with open(vpath, "r+b") as f:
        f.write(original)
    os.utime(vpath, ns=(st.st_atime_ns, st.st_mtime_ns))
    r = get(skey, s["token"], "/v1/logs?technician=signetd")
    again = {x["session"]: x["outcome"] for x in r.json["logs"]} if r.status == 200 else {}
    t.ok(outcome.get(victim) == "tampered" and again.get(victim) == "verified",
         "a search re-verifies an audit file that changed (mtime kept): tampered, then "
         "verified once restored", (outcome.get(victim), again.get(victim)))
    r = get(skey, s["token"], "/v1/logs?device=SN-0077&technician=signetd")
    t.ok(r.status == 200 and [x["session"] for x in r.json["logs"]] == [live[0]["session"]]
         if live else False, "the seal's device is indexed in the audit log", r)

    db = sqlite3.connect(os.path.join(srv.data, "signetd.db"))

    def audit_k0(log_id):
        blob = db.execute("SELECT log_key FROM logs WHERE id = ?", (log_id,)).fetchone()[0]
        return open_sealed(srv.data, "audit-log-key:" + log_id, blob)

    def events(log):
        return [item for _, item in split(log)]

    serve_id = live[0]["session"] if live else "none"
    r = get(skey, s["token"], "/v1/logs/" + serve_id)
    verdict = verify(r.body, audit_k0(serve_id)) if r.status == 200 else None
    t.ok(r.status == 200 and verdict[0] == "truncated" and verdict[2] == verdict[1] - 1
         and r.headers["Signet-Log-Reason"] == "no-session-end",
         "the live audit log, fetched: sealed to its last record, verifies here", verdict)
    ev = events(r.body) if r.status == 200 else []
    types = [e[2] for e in ev]
    failed = [e[5].get("reason") for e in ev if e[2] == "auth.login-failed"]
    seals = [e for e in ev if e[2] == "secret.seal"]
    t.ok(all(e[3] == "signetd" for e in ev) and types.count("auth.login") == 4
         and failed == ["bad-password", "bad-code"] and "auth.logout" in types
         and "log.upload" in types and types.count("log.refused") == 8,
         "it holds the sign-ins, failures, uploads and refusals", types)
    t.ok(len(seals) == 1 and seals[0][4] == "SN-0077" and seals[0][5]["profile"] == "acme-wifi"
         and seals[0][5]["fields"] == 1 and seals[0][5]["digests"] == [digest],
         "and the seal: serial, profile, field count, digest", seals)
    logins = [e[5] for e in ev if e[2] == "auth.login"]
    t.ok(logins and logins[0]["user"] == "alice" and logins[0]["session"] == a["session"]
         and logins[0]["cti"] == cbor2.loads(cbor2.loads(unb64u(a["token"])).value[2])[7],
         "a sign-in: user, session and the token's cti", logins[:1])
    cli_types = []
    for x in cli:
        rr = get(skey, s["token"], "/v1/logs/" + x["session"])
        if rr.status == 200 and verify(rr.body, audit_k0(x["session"]))[0] == "verified":
            cli_types += [e[2] for e in events(rr.body)]
    t.ok({"user.add", "ca.add", "secret.set", "profile.add", "revoke.session",
          "key.rotate"} <= set(cli_types), "the CLI's changes, each in its own verified log",
         cli_types)

    rc = srv.stop()
    srv.start()
    # A new port, so a new issuer: sign in again (with the next TOTP step).
    s, skey = login("sam", at=time.time() + 30)
    r = get(skey, s["token"], "/v1/logs/" + serve_id)
    t.ok(rc == 0 and r.status == 200 and r.headers["Signet-Log-Verdict"] == "verified"
         and verify(r.body, audit_k0(serve_id))[0] == "verified"
         and r.headers["Signet-Log-Outcome"] == "verified",
         "after a clean shutdown the previous run's audit log verifies (here too)", r.headers)
    r = get(skey, s["token"], "/v1/logs/" + a["session"])
    t.ok(r.status == 200 and r.body == w.data(), "uploaded logs survive a restart", r.status)
    r = upload(bkey, b["token"], bw.data())
    t.ok(r.status == 401, "a token of the previous run, logged out: 401", r)
    b2, b2key = login("bob", at=time.time() + 30)   # the step after the one used
    bw2 = Writer(unb64u(b2["log_key"]), "bob", b2["session"], interval=3)
    bw2.append("device.hello", "SN-0005")
    bw2.seal()
    r = upload(b2key, b2["token"], bw2.data())
    n1 = bw2.data()
    bw2.append("device.apply", "SN-0005")
    bw2.close()
    r2 = upload(b2key, b2["token"], bw2.data(len(split(n1))))
    t.ok(r.status == 200 and r2.status == 200 and check_cs(r2, bw2, len(bw2.records) - 1),
         "a new session after the restart continues from the stored state", (r, r2))

    # -- an earlier session's log, from a later session of the same user -------------
    # bob's first session (b) was logged out with its log half uploaded;
    # its continuation comes with bob's new session's token.
    bw_sent = len(bw.records)
    bw.append("device.apply", "SN-0003", {"op": "config.set", "seq": 2})
    bw.close()
    r = upload(b2key, b2["token"], bw.data(bw_sent))
    t.ok(refused(r, 409, "conflict"),
         "an earlier session's continuation without ?session=: 409 (not this session's log)", r)
    r = upload(b2key, b2["token"], bw.data(bw_sent), query="session=" + b["session"])
    t.ok(r.status == 200 and r.json["session"] == b["session"]
         and r.json["records"] == len(bw.records) - bw_sent
         and check_cs(r, bw, len(bw.records) - 1),
         "continuation of the logged-out session's log, ?session=: 200, under that session", r)
    r = upload(b2key, b2["token"], bw.data(), query="session=" + b["session"])
    t.ok(r.status == 200 and r.json["next_seq"] == len(bw.records),
         "the whole log again, ?session=: the same acknowledgement (retry)", r)

    # dave's session 1 ends (logged out) before anything is uploaded;
    # session 2 (the next code) delivers session 1's whole log.
    d1, d1key = login("dave")
    dw = Writer(unb64u(d1["log_key"]), "dave", d1["session"], interval=3)
    dw.append("device.hello", "SN-0009")
    dw.append("device.apply", "SN-0009", {"op": "config.set", "seq": 1})
    dw.close()
    r, _ = srv.pop_call(d1key, d1["token"], "/v1/logout")
    t.ok(r.status == 204, "dave's session 1 signs out before its log is uploaded", r)
    d2, d2key = login("dave", at=time.time() + 30)
    r = upload(d2key, d2["token"], dw.data(), query="session=" + d1["session"])
    t.ok(r.status == 200 and r.json["session"] == d1["session"] and r.json["records"] == len(
        dw.records) and check_cs(r, dw, len(dw.records) - 1),
         "an earlier session's whole log from the next session: 200, stored under session 1", r)
    r = upload(d2key, d2["token"], dw.data(), query="session=" + d2["session"])
    t.ok(refused(r, 409, "conflict"),
         "?session= the token's own session: as without it (record 0 names another)", r)
    # Another user's session and an unknown one: the same 404, nothing kept.
    db = sqlite3.connect(os.path.join(srv.data, "signetd.db"))
    kept_before = db.execute("SELECT count(*) FROM rejected_segments").fetchone()[0]
    db.close()
    other_log = Writer(unb64u(b2["log_key"]), "bob", b2["session"], interval=2)
    other_log.append("device.hello", "SN-0003")
    r = upload(d2key, d2["token"], other_log.data(), query="session=" + b2["session"])
    r2 = upload(d2key, d2["token"], other_log.data(), query="session=AAAAAAAAAAAAAAAAAAAAAA")
    t.ok(refused(r, 404, "not_found") and refused(r2, 404, "not_found")
         and r.json["message"] == r2.json["message"],
         "another user's session and an unknown one: one 404 answer", (r, r2))
    for q in ("session=bad%21id", "session=", "session=" + "a" * 65, "sesion=" + d1["session"],
              "session=%s&x=1" % d1["session"], ""):
        r = upload(d2key, d2["token"], dw.data(), query=q)
        t.ok(refused(r, 400, "invalid_request"), "malformed query %r: 400" % q, r)
    r = upload(d2key, d2["token"], dw.data(), query="session=" + d1["session"], pop=False)
    t.ok(refused(r, 401, "unauthorized"), "?session= still needs the token and its proof", r)
    r = srv.request("POST", "/v1/logs?session=" + d1["session"], raw=dw.data(),
                    headers={"Authorization": "PoP " + d1["token"], "Content-Type": CBOR_SEQ,
                             "Signet-PoP": make_pop(d1key, d1["token"], "POST",
                                                    "/v1/logs?session=" + d1["session"],
                                                    dw.data())})
    t.ok(refused(r, 401, "unauthorized"), "the logged-out session's own token: 401", r)
    db = sqlite3.connect(os.path.join(srv.data, "signetd.db"))
    kept = db.execute("SELECT count(*) FROM rejected_segments").fetchone()[0]
    db.close()
    t.ok(kept == kept_before, "404s and 400s are not kept aside (under nobody's log)",
         (kept_before, kept))
    r = get(skey, s["token"], "/v1/logs/" + d1["session"])
    t.ok(r.status == 200 and r.body == dw.data() and r.headers["Signet-Log-Verdict"] == "verified"
         and r.headers["Signet-Log-Outcome"] == "verified"
         and r.headers["Signet-Log-Technician"] == "dave"
         and verify(r.body, unb64u(d1["log_key"]))[0] == "verified",
         "the supervisor fetches session 1's log: verified", r.headers)
    r = get(skey, s["token"], "/v1/logs/" + b["session"])
    t.ok(r.status == 200 and r.body == bw.data() and r.headers["Signet-Log-Verdict"] == "verified"
         and r.headers["Signet-Log-Outcome"] == "verified",
         "bob's first session's log, completed from his second: verified", r.headers)
    r = get(skey, s["token"], "/v1/logs?technician=signetd&outcome=open")
    live2 = [x["session"] for x in r.json["logs"]] if r.status == 200 else []
    r = get(skey, s["token"], "/v1/logs/" + live2[0]) if live2 else r
    ev = [item for _, item in split(r.body)] if r.status == 200 and live2 else []
    ups = [e[5] for e in ev if e[2] == "log.upload" and e[5].get("session") == d1["session"]]
    nf = [e[5] for e in ev if e[2] == "log.refused" and e[5].get("status") == 404]
    t.ok(len(ups) == 1 and ups[0]["token_session"] == d2["session"] and ups[0]["user"] == "dave"
         and len(nf) == 2 and all(x["token_session"] == d2["session"] for x in nf)
         and {x["session"] for x in nf} == {b2["session"], "AAAAAAAAAAAAAAAAAAAAAA"},
         "the audit log names both sessions of an upload and of a 404", (ups, nf))
    db.close()

    # -- nothing secret in any audit file ------------------------------------------
    files = glob.glob(os.path.join(srv.data, "audit", "*"))
    raw = b"".join(open(f, "rb").read() for f in files)
    # A 6-digit code may turn up by chance inside a hex digest: count it
    # only where it is not part of a longer run of hex digits.
    def leaked(x):
        if len(x) <= 8 and x.isdigit():
            return re.search(rb"(?<![0-9a-fA-F])" + x + rb"(?![0-9a-fA-F])", raw) is not None
        return x in raw
    leaks = [x[:12] for x in seen_secrets if x and leaked(x)]
    t.ok(len(files) >= 7 and not leaks,
         "no password, code, token, PoP proof, K_0 or secret value in %d audit files"
         % len(files), leaks)
    t.ok(srv.stop() == 0, "clean shutdown")

    # -- rotation: [audit] rotate=2 --------------------------------------------------
    conf = os.path.join(srv.data, "signetd.conf")
    text, n = re.subn(r"(?m)^rotate=.*$", "rotate=2", open(conf).read())
    open(conf, "w").write(text)
    pattern = os.path.join(srv.data, "audit", "signetd-serve-*")
    before = set(glob.glob(pattern))
    srv.start()
    time.sleep(5)
    stopped = srv.stop()
    new = sorted(set(glob.glob(pattern)) - before)
    db = sqlite3.connect(os.path.join(srv.data, "signetd.db"))
    verdicts = [verify(open(f, "rb").read(),
                       audit_k0(os.path.basename(f)[:-len(".cbor-seq")]))[0] for f in new]
    db.close()
    t.ok(n == 1 and stopped == 0 and len(new) >= 2 and
         all(v == "verified" for v in verdicts),
         "with [audit] rotate=2 the serve audit log rotates: %d logs in 5 s, each closed "
         "and verified" % len(new), verdicts)
finally:
    srv.cleanup()
t.done()
