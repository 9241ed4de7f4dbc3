# SPDX-License-Identifier: LGPL-2.1-or-later
#
# signet-devsim end to end, driven by an independent client written from
# docs/protocol.md (devsim_client.py): two devices provisioned and running
# at once, HELLO / ATTEST (evidence and certificate checked with
# python3-cryptography) / AUTHORIZE / APPLY with a secret sealed by our own
# HPKE (checked against the RFC 9180 vectors first) / COMMIT on one and
# ROLLBACK on the other, the state through `signet-devsim status --json`,
# and every fault flag doing what it says.
#
#   test_devsim.py SIGNET_DEVSIM MODELS_DIR HPKE_VECTORS.json
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402

import devsim_client as dc  # noqa: E402
from devsim_client import det, sha256  # noqa: E402
from devsim_harness import (Devsim, Factory, Tap, expected_digest,  # noqa: E402
                            model_initial_config)

DEVSIM, MODELS, VECTORS = sys.argv[1], sys.argv[2], sys.argv[3]
t = Tap()


def hexd(d):
    return {k: (v.hex() if isinstance(v, bytes) else v) for k, v in d.items()}


# ---- HPKE: our implementation against RFC 9180 first -------------------------------------

def check_hpke_vectors():
    v = json.load(open(VECTORS))[0]
    h = bytes.fromhex
    t.eq((v["mode"], v["kem_id"], v["kdf_id"], v["aead_id"]), (0, 16, 1, 1),
         "hpke: the vectors are for base mode, DHKEM(P-256), HKDF-SHA256, AES-128-GCM")
    sk_r = dc.hpke_derive_key_pair(h(v["ikmR"]))
    sk_e = dc.hpke_derive_key_pair(h(v["ikmE"]))
    t.eq(sk_r.private_numbers().private_value.to_bytes(32, "big").hex(), v["skRm"],
         "hpke: DeriveKeyPair(ikmR) = skRm")
    t.eq(sk_e.private_numbers().private_value.to_bytes(32, "big").hex(), v["skEm"],
         "hpke: DeriveKeyPair(ikmE) = skEm")
    shared, enc = dc.hpke_encap(sk_r.public_key(), sk_e)
    t.eq(enc.hex(), v["enc"], "hpke: enc")
    t.eq(shared.hex(), v["shared_secret"], "hpke: shared_secret")
    ks = dc.hpke_key_schedule(shared, h(v["info"]))
    for name in ("key_schedule_context", "secret", "key", "base_nonce", "exporter_secret"):
        t.eq(ks[name].hex(), v[name], "hpke: " + name)
    bad = []
    for seq, e in enumerate(v["encryptions"]):
        enc2, ct = dc.hpke_seal(sk_r.public_key(), h(v["info"]), h(e["aad"]), h(e["pt"]),
                                sk_e=sk_e, seq=seq)
        pt = dc.hpke_open(sk_r, enc2, h(v["info"]), h(e["aad"]), ct, seq=seq)
        if ct.hex() != e["ct"] or pt.hex() != e["pt"]:
            bad.append(seq)
    t.ok(not bad and len(v["encryptions"]) == 257,
         "hpke: all %d encryptions of the vectors, sealed and opened" % len(v["encryptions"]),
         "sequence numbers that differ: %r" % bad[:10])
    try:
        dc.hpke_open(sk_r, enc, b"other info", b"", ct)
        t.ok(False, "hpke: another info does not open")
    except dc.ProtocolError:
        t.ok(True, "hpke: another info does not open")


def check_framing():
    for payload in (b"", b"\x00", b"\x00" * 5, bytes(range(256)) * 3, b"\x01" * 254,
                    b"\x01" * 508 + b"\x00"):
        f = dc.encode_frame(payload)
        ok = f.endswith(b"\x00") and b"\x00" not in f[:-1] and dc.decode_frame(f[:-1]) == payload
        if not ok:
            break
    t.ok(ok, "framing: COBS + CRC-32 round trips, one delimiter")
    f = bytearray(dc.encode_frame(b"hello"))
    f[2] ^= 1
    t.ok(dc.decode_frame(bytes(f[:-1])) is None, "framing: a flipped bit fails the CRC")


check_hpke_vectors()
check_framing()

# ---- factory ---------------------------------------------------------------------------------

factory = Factory(DEVSIM, MODELS)
procs = []


def start(state, *args):
    p = Devsim(DEVSIM, state, *args)
    procs.append(p)
    return p


def run_all():
    gw_initial = model_initial_config(factory.model("acme-gw1"))
    sensor_initial = model_initial_config(factory.model("acme-sensor2"))

    # CA
    ca = x509.load_pem_x509_certificate(factory.ca_pem)
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    ku = ca.extensions.get_extension_for_class(x509.KeyUsage)
    t.ok(bc.critical and bc.value.ca and ku.value.key_cert_sign and ca.issuer == ca.subject,
         "ca create: self-signed, CA:TRUE, keyCertSign")
    t.ok(isinstance(ca.public_key(), ec.EllipticCurvePublicKey)
         and ca.signature_hash_algorithm.name == "sha256", "ca create: P-256, ECDSA-SHA256")
    key_mode = os.stat(os.path.join(factory.ca_dir, "ca-key.pem")).st_mode & 0o777
    t.eq(key_mode, 0o600, "ca create: the key file is private")
    r = factory.cli("ca", "create", "--dir", factory.ca_dir)
    t.ok(r.returncode == 1 and "CA" in r.stderr, "ca create: refuses a directory with a CA",
         r.stderr)

    # provisioning: two devices at once
    import threading
    results = {}

    def prov(name, model, serial):
        results[name] = factory.provision(name, model, serial)

    threads = [threading.Thread(target=prov, args=("gw1", "acme-gw1", "GW1-0001")),
               threading.Thread(target=prov, args=("sensor", "acme-sensor2", "SN2-0042"))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    gw_state, gw_info, _ = results["gw1"]
    sn_state, sn_info, _ = results["sensor"]
    t.eq((gw_info["serial"], gw_info["model"], gw_info["firmware"], gw_info["committed_version"]),
         ("GW1-0001", "acme-gw1", "2.3.1", 1), "provision: gw1 identity and version")
    t.eq((sn_info["serial"], sn_info["model"], sn_info["firmware"]),
         ("SN2-0042", "acme-sensor2", "1.0.4"), "provision: sensor identity")
    t.eq(gw_info["config_digest"], expected_digest(gw_initial),
         "provision: gw1 holds the model's factory configuration (digest computed here)")
    t.eq(sn_info["config_digest"], expected_digest(sensor_initial),
         "provision: sensor holds its factory configuration")
    t.eq(gw_info["authorities"], [factory.authority.kid], "provision: our authority key is trusted")

    # provisioning refusals
    _, _, r = factory.provision("gw1", "acme-gw1", "GW1-0001", check=False)
    t.ok(r.returncode == 1 and "exists" in r.stderr, "provision: an existing state file stays",
         r.stderr)
    _, _, r = factory.provision("bad-serial", "acme-gw1", "GW1_0001*", check=False)
    t.ok(r.returncode == 1 and "serial" in r.stderr, "provision: a serial X.509 cannot carry",
         r.stderr)
    bad_model = os.path.join(factory.tmp, "bad-model.json")
    m = json.load(open(factory.model("acme-gw1")))
    m["fields"][2]["initial"] = 14
    json.dump(m, open(bad_model, "w"))
    r = factory.cli("provision", "--state", os.path.join(factory.tmp, "x.state"),
                    "--model-file", bad_model, "--serial", "X1", "--ca-dir", factory.ca_dir,
                    "--trust-file", factory.trust_file)
    t.ok(r.returncode == 1 and "fields[2].initial" in r.stderr,
         "provision: an initial value out of its range is refused, by member", r.stderr)
    empty_trust = os.path.join(factory.tmp, "empty-trust.json")
    json.dump({"authority_keys": []}, open(empty_trust, "w"))
    r = factory.cli("provision", "--state", os.path.join(factory.tmp, "x.state"),
                    "--model-file", factory.model("acme-gw1"), "--serial", "X1",
                    "--ca-dir", factory.ca_dir, "--trust-file", empty_trust)
    t.ok(r.returncode == 1 and "authority" in r.stderr, "provision: a trust file without keys",
         r.stderr)
    r = factory.cli("provision", "--state", os.path.join(factory.tmp, "x.state"),
                    "--model-file", factory.model("acme-gw1"), "--serial", "X1",
                    "--ca-dir", factory.ca_dir, "--trust-url", "https://127.0.0.1:1/v1/trust")
    t.ok(r.returncode == 2, "provision: --trust-url without --trust-ca is a usage error",
         r.stderr)
    t.ok(not os.path.exists(os.path.join(factory.tmp, "x.state")),
         "provision: nothing left behind by refusals")

    # --create-ca: made once, then reused
    new_ca = os.path.join(factory.tmp, "ca2")
    r1 = factory.cli("provision", "--state", os.path.join(factory.tmp, "c1.state"),
                     "--model-file", factory.model("acme-sensor2"), "--serial", "C1",
                     "--create-ca", new_ca, "--trust-file", factory.trust_file, "--json")
    ca2 = open(os.path.join(new_ca, "ca-cert.pem"), "rb").read() if r1.returncode == 0 else b""
    r2 = factory.cli("provision", "--state", os.path.join(factory.tmp, "c2.state"),
                     "--model-file", factory.model("acme-sensor2"), "--serial", "C2",
                     "--create-ca", new_ca, "--trust-file", factory.trust_file, "--json")
    ok = r1.returncode == 0 and r2.returncode == 0
    if ok:
        for out, serial in ((r1.stdout, "C1"), (r2.stdout, "C2")):
            cert = json.loads(out)["certificate"].encode()
            der = x509.load_pem_x509_certificate(cert).public_bytes(serialization.Encoding.DER)
            dc.verify_device_chain([der], ca2, serial, "acme-sensor2")
    t.ok(ok and open(os.path.join(new_ca, "ca-cert.pem"), "rb").read() == ca2,
         "provision --create-ca: a CA made once, then used again", r1.stderr + r2.stderr)

    # status of devices at rest
    st = factory.status(gw_state)
    t.eq((st["running"], st["serial"], st["committed_version"], st["pending_version"],
          st["config_digest"], st["certificate_sha256"]),
         (False, "GW1-0001", 1, 0, expected_digest(gw_initial), gw_info["certificate_sha256"]),
         "status: gw1 at rest")

    # ---- two devices at once ------------------------------------------------------------------
    gw = start(gw_state, "--link-name", os.path.join(factory.tmp, "ttyACM-gw1"))
    sn = start(sn_state)
    t.ok(gw.pty != sn.pty, "run: two devices, two ptys (%s, %s)" % (gw.pty, sn.pty))
    t.eq(os.readlink(os.path.join(factory.tmp, "ttyACM-gw1")), gw.pty, "run: --link-name")
    ready = gw.events("ready")
    t.ok(len(ready) == 1 and ready[0]["pty"] == gw.pty and ready[0]["serial"] == "GW1-0001",
         "run: the ready event names the pty and the device")
    r = factory.cli("run", "--state", gw_state, "--pty")
    t.ok(r.returncode == 1 and "in use" in r.stderr, "run: a running state file is refused",
         r.stderr)

    gd = gw.connect()
    sd = sn.connect()
    h1 = gd.hello()
    h2 = sd.hello()
    t.eq((h1[2], h1[3], h1[4], h1[5], h1[6], h1[7]), (0, "GW1-0001", "acme-gw1", "2.3.1", 1, [1]),
         "HELLO: gw1 answers its identity and versions")
    t.eq((h2[2], h2[3], h2[4]), (0, "SN2-0042", "acme-sensor2"), "HELLO: the sensor answers")
    t.ok(len(h1[9]) == 32 and h1[11] is True and h1[8] & 2 and h1[12] >= 2048,
         "HELLO: 32-byte nonce, a clock, max message", hexd(h1))
    t.ok(abs(h1[10] - time.time()) < 60, "HELLO: device time is the host clock")
    h1b = gd.hello()
    t.ok(h1b[9] != h1[9], "HELLO: a new nonce every session")

    # ATTEST
    def attest(dev, session, serial, model, info):
        challenge = os.urandom(32)
        a = dev.attest(challenge)
        if a[2] != 0:
            t.ok(False, "ATTEST %s" % serial, dc.status_of(a))
            return None
        leaf_pub = dc.verify_device_chain(a[4], factory.ca_pem, serial, model)
        t.ok(True, "ATTEST %s: the chain verifies to the CA (cryptography)" % serial)
        t.eq(sha256(a[4][0]).hex(), info["certificate_sha256"],
             "ATTEST %s: the certificate is the one provisioned" % serial)
        ev = dc.parse_evidence(a[3], leaf_pub, serial)
        t.eq((ev[1], ev[2], ev[3], ev[7], ev[6]), (serial, model, challenge, session.nonce, 1),
             "ATTEST %s: evidence binds serial, model, challenge, session nonce" % serial)
        kem = dc.pub_from_bytes(ev[4])
        t.ok(len(ev[4]) == 65 and isinstance(kem, ec.EllipticCurvePublicKey),
             "ATTEST %s: kem_pub is a P-256 point" % serial)
        return {"leaf": leaf_pub, "kem_pub": ev[4]}

    gs = dc.Session(gd, factory.authority)
    ss = dc.Session(sd, factory.authority)
    gs.start()
    ss.start()
    g_id = attest(gd, gs, "GW1-0001", "acme-gw1", gw_info)
    s_id = attest(sd, ss, "SN2-0042", "acme-sensor2", sn_info)

    # AUTHORIZE: refusals first, then the good token
    other = dc.Authority()
    r = gd.authorize(other.token(gs.pop.public_key()))
    t.eq(dc.status_of(r), "TOKEN_SIGNATURE", "AUTHORIZE: a token from an untrusted authority")
    r = gd.authorize(factory.authority.token(gs.pop.public_key(), iat=int(time.time()) - 2000,
                                             exp=int(time.time()) - 100))
    t.eq(dc.status_of(r), "TOKEN_EXPIRED", "AUTHORIZE: an expired token")
    r = gd.authorize(factory.authority.token(gs.pop.public_key(), aud="elsewhere"))
    t.eq(dc.status_of(r), "TOKEN_AUDIENCE", "AUTHORIZE: another audience")
    r = gs.authorize()
    t.eq((r[2], r[4]), (0, dc.SCOPE_ALL), "AUTHORIZE: gw1 takes our token, echoes the scope")
    r = ss.authorize()
    t.eq(r[2], 0, "AUTHORIZE: the sensor takes our token")

    # APPLY with a sealed secret on gw1
    psk = "correct-horse-battery"
    entry, digest = gs.seal(g_id["kem_pub"], "wifi.psk", psk)
    values = {"wifi.ssid": "site-a", "wifi.channel": 11, "wifi.band": "5g"}
    cmd = gs.command(dc.OP_APPLY, gs.apply_args(2, values, {"wifi.psk": digest}))
    r = gd.apply(cmd, [entry])
    t.eq(dc.status_of(r), "OK", "APPLY gw1: values and a sealed secret")
    rc = gs.verify_receipt(r[3], g_id["leaf"], cmd, dc.OP_APPLY) if r[2] == 0 else {}
    t.eq((rc.get(7), rc.get(8), rc.get(3)), (1, 2, gs.seq),
         "APPLY gw1: a signed receipt says pending 2 over committed 1")
    # the same request again: the same bytes back, not applied twice
    raw = det({0: dc.APPLY, 1: 900, 2: cmd, 3: [entry]})
    again1, bytes1 = gd.request_bytes(raw, 900, dc.APPLY)
    again2, bytes2 = gd.request_bytes(raw, 900, dc.APPLY)
    t.ok(bytes1 == bytes2, "retry: the same id and bytes get the same answer")
    t.eq(dc.status_of(again1), "REPLAY", "retry: ... which is the answer to a replayed command")
    st = gw.wait_event(lambda e: e.get("event") == "status" and e["pending_version"] == 2)
    t.ok(st is not None, "run: the status stream shows pending version 2")
    live = factory.status(gw_state)
    t.eq((live["running"], live["pending_version"], live["committed_version"]), (True, 2, 1),
         "status: a running device reports its pending slot")

    cmd = gs.command(dc.OP_COMMIT, {1: 2})
    r = gd.commit(cmd)
    t.eq(dc.status_of(r), "OK", "COMMIT gw1")
    new_config = dict(gw_initial, **values)
    new_config["wifi.psk"] = psk
    rc = gs.verify_receipt(r[3], g_id["leaf"], cmd, dc.OP_COMMIT) if r[2] == 0 else {}
    t.eq((rc.get(7), rc.get(8), rc.get(9, b"").hex()), (2, 0, expected_digest(new_config)),
         "COMMIT gw1: committed 2, and the digest of the configuration we meant, secret included")

    r = gd.read()
    t.ok(r[2] == 0 and r[3] == dict(gw_initial, **values) and "wifi.psk" not in r[3],
         "READ gw1: the new configuration, the secret never read back", hexd(r))

    # replay and wrong-session refusals
    r = gd.commit(cmd)
    t.eq(dc.status_of(r), "REPLAY", "COMMIT again with the same seq: REPLAY")
    stale = gs.command(dc.OP_ROLLBACK, {}, nonce=os.urandom(32))
    t.eq(dc.status_of(gd.rollback(stale)), "WRONG_NONCE", "a command of another session")
    foreign = gs.command(dc.OP_ROLLBACK, {}, serial="SN2-0042")
    t.eq(dc.status_of(gd.rollback(foreign)), "WRONG_DEVICE", "another device's command")
    forged = gs.command(dc.OP_ROLLBACK, {}, key=ec.generate_private_key(ec.SECP256R1()))
    t.eq(dc.status_of(gd.rollback(forged)), "COMMAND_SIGNATURE", "a command not signed by cnf")

    # APPLY then ROLLBACK on the sensor
    key = "00112233445566778899aabbccddeeff"
    entry, digest = ss.seal(s_id["kem_pub"], "lora.app-key", key)
    cmd = ss.command(dc.OP_APPLY, ss.apply_args(2, {"sensor.interval": 120},
                                                {"lora.app-key": digest}))
    r = sd.apply(cmd, [entry])
    t.eq(dc.status_of(r), "OK", "APPLY sensor")
    cmd = ss.command(dc.OP_ROLLBACK, {})
    r = sd.rollback(cmd)
    t.eq(dc.status_of(r), "OK", "ROLLBACK sensor")
    rc = ss.verify_receipt(r[3], s_id["leaf"], cmd, dc.OP_ROLLBACK) if r[2] == 0 else {}
    t.eq((rc.get(7), rc.get(8), rc.get(9, b"").hex()), (1, 0, expected_digest(sensor_initial)),
         "ROLLBACK sensor: back on version 1, the factory configuration")

    # a sealed secret for the other device does not open here
    entry, digest = ss.seal(g_id["kem_pub"], "lora.app-key", key)
    cmd = ss.command(dc.OP_APPLY, ss.apply_args(3, {}, {"lora.app-key": digest}))
    t.eq(dc.status_of(sd.apply(cmd, [entry])), "SEAL",
         "APPLY: a secret sealed to gw1 on the sensor")

    # hang-up: the tool closes the port and opens it again
    gw.close_device()
    e = gw.wait_event(lambda e: e.get("event") == "hangup")
    t.ok(e is not None, "run: the slave's close is seen as a hang-up")
    gd = gw.connect()
    r = gd.hello()
    t.ok(r[2] == 0 and r[6] == 2, "run: the device answers after the port is reopened")
    t.ok(gw.wait_event(lambda e: e.get("event") == "reopen") is not None, "run: reopen event")

    # stop both: clean exits, state at rest
    link = os.path.join(factory.tmp, "ttyACM-gw1")
    t.eq(gw.stop(), 0, "run: SIGTERM ends gw1 cleanly")
    t.eq(sn.stop(signal.SIGINT), 0, "run: SIGINT ends the sensor cleanly")
    t.ok(not os.path.lexists(link) and not os.path.exists(gw_state + ".live.json"),
         "run: link and live status removed at exit")
    st = factory.status(gw_state)
    t.eq((st["committed_version"], st["pending_version"], st["config_digest"]),
         (2, 0, expected_digest(new_config)), "status: gw1 committed version 2 at rest")
    st = factory.status(sn_state)
    t.eq((st["committed_version"], st["pending_version"], st["config_digest"]),
         (1, 0, expected_digest(sensor_initial)), "status: the sensor kept version 1")

    fault_flags(gw_state, g_id, new_config)


def session_to_commit(dev, proc_ident, version, values, authority):
    """HELLO, AUTHORIZE, APPLY (values), COMMIT; the receipts."""
    s = dc.Session(dev, authority)
    s.start()
    r = s.authorize()
    assert r[2] == 0, dc.status_of(r)
    cmd = s.command(dc.OP_APPLY, s.apply_args(version, values))
    ra = dev.apply(cmd)
    cmd = s.command(dc.OP_COMMIT, {1: version})
    rc = dev.commit(cmd)
    return s, ra, rc


def fault_flags(state, ident, config):
    auth = factory.authority

    # drop: the client retries with the same id and bytes; applied once
    p = start(state, "--drop-rate", "0.35", "--seed", "7")
    dev = p.connect(timeout=0.4, retries=30)
    s, ra, rc = session_to_commit(dev, ident, 3, {"log.level": "debug"}, auth)
    t.ok(ra[2] == 0 and rc[2] == 0, "--drop-rate: the session completes through retries",
         "%s %s" % (dc.status_of(ra), dc.status_of(rc)))
    drops = [e for e in p.events("fault") if e["action"] == "drop"]
    t.ok(len(drops) > 0 and {e["dir"] for e in drops} <= {"in", "out"},
         "--drop-rate: frames were dropped (%d)" % len(drops))
    t.ok(dev.attempts > dev.next_id - 1, "--drop-rate: the client had to retry (%d sends for %d "
         "requests)" % (dev.attempts, dev.next_id - 1))
    pend = [e["pending_version"] for e in p.events("status")]
    t.ok(pend.count(3) == 1 and p.last_status()["committed_version"] == 3,
         "--drop-rate: version 3 staged once and committed once", pend)
    seq_drop = [(e["dir"], e["action"]) for e in p.events("fault")]
    t.eq(p.stop(), 0, "--drop-rate: clean exit")

    # answers lost on the way back: a command the device already carried
    # out must not be refused as a replay when the client asks again -- the
    # retry cache gives back the first answer, receipt and all
    p = start(state, "--drop-rate", "0.5", "--fault-direction", "out", "--seed", "3")
    dev = p.connect(timeout=0.3, retries=40)
    s = dc.Session(dev, auth)
    s.start()
    s.authorize()
    cmd = s.command(dc.OP_APPLY, s.apply_args(4, {"log.level": "error"}))
    ra = dev.apply(cmd)
    cmd2 = s.command(dc.OP_COMMIT, {1: 4})
    rc = dev.commit(cmd2)
    lost = [e for e in p.events("fault") if e["dir"] == "out" and e["action"] == "drop"]
    ok = ra[2] == 0 and rc[2] == 0
    if ok:
        s.verify_receipt(ra[3], ident["leaf"], cmd, dc.OP_APPLY)
        s.verify_receipt(rc[3], ident["leaf"], cmd2, dc.OP_COMMIT)
    t.ok(ok and lost, "--drop-rate out: %d answers lost, every retry got the first answer (no "
         "REPLAY), receipts verify" % len(lost),
         "%s %s" % (dc.status_of(ra), dc.status_of(rc)))
    pend = [e["pending_version"] for e in p.events("status")]
    t.ok(pend.count(4) == 1 and p.last_status()["committed_version"] == 4,
         "--drop-rate out: applied once, committed once", pend)
    p.stop()

    # same seed, same traffic: the same faults
    p = start(state, "--drop-rate", "0.35", "--seed", "7")
    dev = p.connect(timeout=0.4, retries=30)
    s, ra, rc = session_to_commit(dev, ident, 5, {"log.level": "warn"}, auth)
    again = [(e["dir"], e["action"]) for e in p.events("fault")]
    t.eq(again, seq_drop, "--seed: the same seed and traffic give the same faults")
    p.stop()

    # corrupt: bad frames dropped by the receiver (device or client), retried
    p = start(state, "--corrupt-rate", "0.3", "--seed", "11")
    dev = p.connect(timeout=0.4, retries=30)
    s, ra, rc = session_to_commit(dev, ident, 6, {"wifi.channel": 3}, auth)
    corrupt = [e for e in p.events("fault") if e["action"] == "corrupt"]
    t.ok(ra[2] == 0 and rc[2] == 0 and corrupt, "--corrupt-rate: %d frames damaged, the session "
         "completes" % len(corrupt))
    pend = [e["pending_version"] for e in p.events("status")]
    t.ok(pend.count(6) == 1 and p.last_status()["committed_version"] == 6,
         "--corrupt-rate: applied once", pend)
    t.ok(dev.link.deframer.bad > 0 or any(e["dir"] == "in" for e in corrupt),
         "--corrupt-rate: damaged answers failed the client's CRC check")
    p.stop()

    # --json-status to an inherited file descriptor
    rfd, wfd = os.pipe()
    proc = subprocess.Popen([DEVSIM, "run", "--state", state, "--pty", "--json-status",
                             str(wfd)], stdout=subprocess.PIPE, pass_fds=(wfd,), text=True)
    os.close(wfd)
    line = proc.stdout.readline()
    events = os.read(rfd, 65536).decode().splitlines()
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(30)
    proc.stdout.close()
    rest = b""
    while True:
        chunk = os.read(rfd, 65536)
        if not chunk:
            break
        rest += chunk
    os.close(rfd)
    kinds = [json.loads(e)["event"] for e in events + rest.decode().splitlines()]
    t.ok(line.startswith("pty /dev/") and rc == 0 and "ready" in kinds and "status" in kinds
         and kinds[-1] == "exit", "--json-status FD: events on a pipe", kinds)

    # duplicate: the client ignores the second copy of an answer
    p = start(state, "--duplicate-rate", "1", "--fault-direction", "out")
    dev = p.connect()
    r1 = dev.hello()
    r2 = dev.hello()
    t.ok(r1[2] == 0 and r2[2] == 0 and r1[9] != r2[9] and dev.stale >= 1,
         "--duplicate-rate: every answer twice, stale copies ignored (%d)" % dev.stale)
    p.stop()

    # bulk transfer: quiet chunks acknowledged in windows, plain ones each
    def image_of(seed, n):
        return bytes((i * 131 + seed * 17 + (i >> 8)) & 0xff for i in range(n))

    def transfer_check(p, image, what, **kw):
        dev = p.connect(timeout=kw.pop("timeout", 1.0), retries=20)
        s = dc.Session(dev, auth)
        s.start()
        s.authorize()
        stats = s.transfer(image, **kw)
        st = dev.bulk_status(retries=20)
        t.ok(st[2] == 0 and st[3] == len(image) and st[5] == sha256(image),
             "%s: complete, the device's digest is the image's" % what, stats)
        return s, dev, stats

    p = start(state)
    s, dev, stats = transfer_check(p, image_of(1, 60000), "bulk, quiet", window=16, ack_every=8)
    t.ok(s.hello[8] & dc.CAP_BULK_QUIET and stats["quiet"] and stats["chunks"] == 32
         and stats["answers"] == 4 and stats["rewinds"] == 0 and dev.stale == 0,
         "bulk, quiet: 32 chunks, an answer every 8th and the last (%d)" % stats["answers"])
    # a quiet duplicate at an already-written offset: no answer (nor a write:
    # NOR flash would refuse the zeros over the image's bits)
    rid = dev.send_only(dc.BULK_DATA, {2: 0, 3: b"\x00" * 16, 4: True})
    r = dev.bulk_status()
    t.ok(r[2] == 0 and r[3] == 60000 and dev.stale == 0 and rid < r[1],
         "bulk, quiet: a chunk behind the device's offset is dropped unanswered")
    r = dev.bulk_data(0, b"\x00" * 16)
    t.ok(r[2] == 25 and r[3] == 60000, "bulk: the same chunk, not quiet: BULK_OFFSET 60000")
    s, dev, stats = transfer_check(p, image_of(2, 20000), "bulk, one answer per chunk",
                                   window=8, ack_every=1)
    t.ok(stats["answers"] == stats["chunks"] == 11, "bulk, ack_every 1: every chunk answered")
    p.stop()

    # quiet chunks through a bad line: lost, damaged and doubled frames both ways
    p = start(state, "--drop-rate", "0.04", "--corrupt-rate", "0.04", "--duplicate-rate",
              "0.06", "--seed", "5")
    image = image_of(3, 150000)
    s, dev, stats = transfer_check(p, image, "bulk, quiet, lossy line", window=16, ack_every=8,
                                   timeout=0.5)
    t.ok(stats["rewinds"] > 0, "bulk, quiet, lossy line: went back %d times (%d timeouts, %d "
         "stale answers)" % (stats["rewinds"], stats["timeouts"], dev.stale))
    t.eq(p.stop(), 0, "bulk, quiet, lossy line: clean exit")

    # delay
    p = start(state, "--delay-ms", "250")
    dev = p.connect(timeout=3)
    t0 = time.monotonic()
    r = dev.hello()
    elapsed = time.monotonic() - t0
    t.ok(r[2] == 0 and elapsed >= 0.24, "--delay-ms 250: the answer comes at least 250 ms later "
         "(%.0f ms)" % (elapsed * 1000))
    p.stop()

    # no clock: the device lives on its clock floor
    p = start(state, "--no-clock")
    dev = p.connect()
    r = dev.hello()
    t.ok(r[11] is False and r[10] == p.last_status()["clock_floor"],
         "--no-clock: HELLO says no clock; device time is the clock floor")
    p.stop()

    # health check
    p = start(state, "--health-fail", "wifi.channel=13")
    dev = p.connect()
    s = dc.Session(dev, auth)
    s.start()
    s.authorize()
    r = dev.apply(s.command(dc.OP_APPLY, s.apply_args(7, {"wifi.channel": 13})))
    t.eq(dc.status_of(r), "HEALTH", "--health-fail: a configuration the check refuses")
    r = dev.apply(s.command(dc.OP_APPLY, s.apply_args(7, {"wifi.channel": 12})))
    t.eq(dc.status_of(r), "OK", "--health-fail: another one passes")
    p.stop()   # the pending slot is rolled back at the next boot

    # slow flash
    p = start(state, "--slow-flash-us", "500")
    dev = p.connect(timeout=10)
    s, ra, rc = session_to_commit(dev, ident, 7, {"wifi.channel": 12}, auth)
    t.ok(ra[2] == 0 and rc[2] == 0, "--slow-flash-us: a slow flash still commits")
    p.stop()
    before = factory.status(state)
    t.eq(before["committed_version"], 7, "status: version 7 committed")

    # crash at a fault point: exit 99 on the spot, the old state after restart
    p = start(state, "--crash-at", "apply.before-journal")
    dev = p.connect(timeout=1)
    s = dc.Session(dev, auth)
    s.start()
    s.authorize()
    try:
        dev.apply(s.command(dc.OP_APPLY, s.apply_args(8, {"wifi.channel": 1})))
        t.ok(False, "--crash-at: no answer")
    except (TimeoutError, ConnectionError):
        t.ok(True, "--crash-at: no answer, the device is gone")
    t.eq(p.wait(), 99, "--crash-at apply.before-journal: exit status 99")
    t.ok(any(e.get("name") == "apply.before-journal" for e in p.events("point")),
         "--crash-at: the point was reported before the crash")
    after = factory.status(state)
    t.eq((after["committed_version"], after["config_digest"], after["certificate_sha256"]),
         (7, before["config_digest"], before["certificate_sha256"]),
         "--crash-at: the device boots on its old committed configuration")

    r = factory.cli("run", "--state", state, "--pty", "--crash-at", ":3")
    t.eq(r.returncode, 1, "--crash-at: a point name is needed")

    # crash after N flash chunks, counted from the start: the boot's own
    # writes come first, so count them on an identical copy
    twin = state + ".twin"
    shutil.copyfile(state, twin)
    p = start(twin)
    boot_chunks = p.events("status")[0]["flash_chunks"]
    p.stop()
    p = start(state, "--crash-after-writes", str(boot_chunks + 3))
    dev = p.connect(timeout=1)
    try:
        s, ra, rc = session_to_commit(dev, ident, 8, {"wifi.channel": 2}, auth)
    except (TimeoutError, AssertionError, OSError):
        pass
    t.eq(p.wait(), 99, "--crash-after-writes: power lost 3 chunks into the session, exit 99")
    after = factory.status(state)
    t.ok(after["committed_version"] in (7, 8), "--crash-after-writes: old or new version after "
         "restart (%d)" % after["committed_version"])

    # bad fault options
    r = factory.cli("run", "--state", state, "--pty", "--drop-rate", "0.7", "--corrupt-rate", "0.5")
    t.eq(r.returncode, 2, "run: rates summing over 1 are a usage error")


try:
    run_all()
except Exception:
    import traceback
    t.ok(False, "no exception", traceback.format_exc())
finally:
    for p in procs:
        if p.proc.poll() is None:
            p.stop()
    for p in procs:
        err = p.stderr()
        if "ERROR" in err or "CRITICAL" in err or "AddressSanitizer" in err:
            t.ok(False, "no errors on stderr of %s" % p.state, err[-3000:])
    factory.cleanup()
t.done()
