#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The vault, profiles and sealing against a real signetd. Everything on the
# device side is built here, independently of our C code: a manufacturer CA
# and a device certificate with python3-cryptography (so our chain
# verification is shown to accept standard certificates), the attestation
# evidence with cbor2 + cryptography from docs/protocol.md, and an HPKE
# base-mode open (RFC 9180, P-256/HKDF-SHA256/AES-128-GCM) from
# cryptography's primitives that opens what the service sealed.
#
#   test_vault.py PATH/TO/signetd
import datetime
import hashlib
import hmac
import json
import os
import struct
import sys

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID

from signetd_harness import (Server, Tap, b64u, make_pop, pub_from_jwk, raw_sign, unb64u,
                             verify_sign1)

SIGNETD = sys.argv[1]
MODEL = "acme-gw1"
ATTEST_CTY = "application/signet-attest+cbor"
PROFILE_CTY = "application/signet-profile+cbor"

# -- HPKE base mode open (RFC 9180 §4, §5.1, §7.1) --------------------------------
KEM_SUITE = b"KEM" + struct.pack(">H", 0x0010)
HPKE_SUITE = b"HPKE" + struct.pack(">HHH", 0x0010, 0x0001, 0x0001)


def hkdf_extract(salt, ikm):
    return hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()


def hkdf_expand(prk, info, length):
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def labeled_extract(suite, salt, label, ikm):
    return hkdf_extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite, prk, label, info, length):
    return hkdf_expand(prk, struct.pack(">H", length) + b"HPKE-v1" + suite + label + info,
                       length)


def point(pub):
    return pub.public_bytes(serialization.Encoding.X962,
                            serialization.PublicFormat.UncompressedPoint)


def hpke_open(sk_r, enc, info, aad, ct):
    pk_e = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), enc)
    dh = sk_r.exchange(ec.ECDH(), pk_e)
    kem_context = enc + point(sk_r.public_key())
    eae_prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    shared = labeled_expand(KEM_SUITE, eae_prk, b"shared_secret", kem_context, 32)
    psk_id_hash = labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    ks_context = b"\x00" + psk_id_hash + info_hash
    secret = labeled_extract(HPKE_SUITE, shared, b"secret", b"")
    key = labeled_expand(HPKE_SUITE, secret, b"key", ks_context, 16)
    nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", ks_context, 12)
    return AESGCM(key).decrypt(nonce, ct, aad)   # sequence 0: the base nonce itself


# -- a manufacturer and its devices -------------------------------------------------
def name(cn, serial=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if serial is not None:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    return x509.Name(attrs)


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(name(cn)).issuer_name(name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(ski, critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
                           critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


class Device:
    def __init__(self, ca_key, ca_cert, serial, model=MODEL):
        self.serial = serial
        self.model = model
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.kem = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        self.cert = (x509.CertificateBuilder()
                     .subject_name(name("device " + serial, serial))
                     .issuer_name(ca_cert.subject)
                     .public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number())
                     .not_valid_before(now - datetime.timedelta(hours=1))
                     .not_valid_after(now + datetime.timedelta(days=365))
                     .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                    critical=True)
                     .add_extension(x509.KeyUsage(True, False, False, False, False, False, False,
                                                  False, False), critical=True)
                     .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                         self.key.public_key()), critical=False)
                     .add_extension(x509.AuthorityKeyIdentifier
                                    .from_issuer_subject_key_identifier(ca_ski), critical=False)
                     .sign(ca_key, hashes.SHA256()))

    def chain(self):
        return [b64u(self.cert.public_bytes(serialization.Encoding.DER))]

    def evidence(self, signer=None, serial=None, kid=None, cty=ATTEST_CTY, extra=None):
        payload = {1: serial or self.serial, 2: self.model, 3: os.urandom(32),
                   4: point(self.kem.public_key()), 5: "1.4.2", 6: 17, 7: os.urandom(32),
                   8: 1700000000}
        payload.update(extra or {})
        body = cbor2.dumps(payload, canonical=True)
        protected = cbor2.dumps({1: -7, 3: cty, 4: (kid or serial or self.serial).encode()},
                                canonical=True)
        tbs = cbor2.dumps(["Signature1", protected, b"", body])
        sig = raw_sign(signer or self.key, tbs)
        return b64u(cbor2.dumps(cbor2.CBORTag(18, [protected, {}, body, sig])))


def write_json(srv, fname, doc):
    path = os.path.join(srv.tmp, fname)
    with open(path, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    return path


WIFI = {"id": "acme-wifi", "version": 3, "model": MODEL, "class": "credential",
        "critical": True, "description": "Site Wi-Fi credentials",
        "fields": [{"key": "wifi.ssid", "type": "string", "min": 1, "max": 32},
                   {"key": "wifi.psk", "type": "string", "min": 8, "max": 63, "secret": True,
                    "vault": "site-a/wifi-psk"},
                   {"key": "wifi.channel", "type": "int", "min": 1, "max": 13},
                   {"key": "wifi.band", "type": "enum", "values": ["2g4", "5g"]}]}
CLOUD = {"id": "acme-cloud", "version": 1, "model": MODEL, "class": "config",
         "critical": False,
         "fields": [{"key": "cloud.token", "type": "string", "secret": True,
                     "vault": "site-a/cloud-token"},
                    {"key": "cloud.api-key", "type": "string", "secret": True,
                     "vault": "site-a/missing"},
                    {"key": "cloud.enabled", "type": "bool"}]}
OTHER = {"id": "other-fw", "version": 1, "model": "other-model", "class": "firmware",
         "critical": True, "fields": []}

t = Tap()
srv = Server(SIGNETD)
try:
    ca_key, ca_cert = make_ca("Acme Devices CA")
    rogue_key, rogue_cert = make_ca("Rogue CA")
    dev = Device(ca_key, ca_cert, "SN-0042")
    revoked_dev = Device(ca_key, ca_cert, "SN-0099")
    rogue_dev = Device(rogue_key, rogue_cert, "SN-0042")
    ca_pem = write_json(srv, "ca.pem", ca_cert.public_bytes(serialization.Encoding.PEM).decode())
    r = srv.cli("ca", "add", ca_pem)
    t.ok(r.returncode == 0, "ca add: a CA made by python3-cryptography", r.stderr)
    r = srv.cli("revoke", "--device", "SN-0099")
    t.ok(r.returncode == 0, "revoke a device serial", r.stderr)

    # -- the vault -----------------------------------------------------------------
    PSK = "correct-horse-wifi-psk"
    r = srv.cli("secret", "set", "site-a/wifi-psk", stdin=PSK + "\n")
    t.ok(r.returncode == 0 and "set: site-a/wifi-psk" in r.stdout, "secret set", r)
    TOKEN = "line one\nline two"          # the whole of stdin, less one newline
    r = srv.cli("secret", "set", "site-a/cloud-token", stdin=TOKEN + "\n")
    t.ok(r.returncode == 0, "secret set: a multi-line value", r.stderr)
    r = srv.cli("secret", "set", "site-a/cloud-token", stdin="temporary")
    t.ok(r.returncode == 0 and "replaced" in r.stdout, "secret set replaces", r)
    r = srv.cli("secret", "set", "site-a/cloud-token", stdin=TOKEN + "\n")
    r = srv.cli("secret", "set", "Site-A/psk", stdin="x")
    t.ok(r.returncode == 2 and "secret name" in r.stderr, "secret set: bad name refused (2)", r)
    r = srv.cli("secret", "set", "a//b", stdin="x")
    t.ok(r.returncode == 2, "secret set: empty segment refused", r)
    r = srv.cli("secret", "set", "site-a/big", stdin="x" * 4097)
    t.ok(r.returncode == 2 and "4096" in r.stderr, "secret set: over 4 KiB refused", r)
    r = srv.cli("secret", "set", "site-a/exact", stdin="y" * 4096)
    t.ok(r.returncode == 0, "secret set: exactly 4 KiB accepted", r.stderr)
    r = srv.cli("secret", "set", "site-a/empty", stdin="")
    t.ok(r.returncode == 2, "secret set: empty value refused", r)
    r = srv.cli("secret", "delete", "site-a/exact")
    t.ok(r.returncode == 0, "secret delete", r.stderr)
    r = srv.cli("secret", "delete", "site-a/exact")
    t.ok(r.returncode == 3, "secret delete: unknown name is 3 (not found)", r)
    r = srv.cli("secret", "list", "--json")
    listed = json.loads(r.stdout) if r.returncode == 0 else None
    t.ok(listed is not None and [e["name"] for e in listed] == ["site-a/cloud-token",
                                                                "site-a/wifi-psk"]
         and all(set(e) == {"name", "created", "updated"} for e in listed)
         and PSK not in r.stdout, "secret list: names and times, no values", r)
    db = open(os.path.join(srv.data, "signetd.db"), "rb").read()
    t.ok(PSK.encode() not in db and b"line two" not in db, "values are encrypted at rest")

    # -- profiles ------------------------------------------------------------------
    for doc in (WIFI, CLOUD, OTHER):
        r = srv.cli("profile", "add", write_json(srv, doc["id"] + ".json", doc))
        t.ok(r.returncode == 0, "profile add " + doc["id"], r.stderr)
    r = srv.cli("profile", "add", write_json(srv, "same.json", WIFI))
    t.ok(r.returncode == 2 and "does not rise" in r.stderr, "profile add: same version refused",
         r)
    bad = {"id": "Bad Id", "version": -1, "model": MODEL, "class": "secret",
           "critical": "yes", "colour": 1,
           "fields": [{"key": "a..b", "type": "string"},
                      {"key": "n", "type": "int", "min": 5, "max": 1},
                      {"key": "e", "type": "enum"},
                      {"key": "b", "type": "bool", "vault": "x"},
                      {"key": "n", "type": "float"}]}
    r = srv.cli("profile", "add", write_json(srv, "bad.json", bad))
    want = ["id:", "version:", "class:", "critical:", "colour: unknown member",
            "fields[0].key:", "fields[1].min: greater than max", "fields[2].values: missing",
            "fields[3].vault:", "fields[4].key: the same key", "fields[4].type:"]
    t.ok(r.returncode == 2 and all(w in r.stderr for w in want),
         "profile add: every problem reported, each naming its member", r.stderr)
    r = srv.cli("profile", "add", write_json(srv, "crit.json", dict(WIFI, id="x", critical=False)))
    t.ok(r.returncode == 2 and "critical: must be true" in r.stderr,
         "profile add: a credential profile must be critical", r.stderr)
    r = srv.cli("profile", "add", write_json(srv, "notjson.json", "{nope"))
    t.ok(r.returncode == 2 and "not JSON" in r.stderr, "profile add: not JSON", r.stderr)
    r = srv.cli("profile", "list", "--json")
    t.ok(r.returncode == 0 and [p["id"] for p in json.loads(r.stdout)] ==
         ["acme-cloud", "acme-wifi", "other-fw"], "profile list", r)
    r = srv.cli("profile", "add", write_json(srv, "tmp.json", dict(OTHER, id="tmp")))
    r2 = srv.cli("profile", "remove", "tmp")
    r3 = srv.cli("profile", "add", write_json(srv, "tmp.json", dict(OTHER, id="tmp")))
    t.ok(r.returncode == 0 and r2.returncode == 0 and r3.returncode == 2,
         "profile remove; re-adding needs a higher version", (r2, r3.stderr))
    r = srv.cli("profile", "remove", "tmp")
    t.ok(r.returncode == 3, "profile remove: unknown id is 3", r)

    # -- served, signed ------------------------------------------------------------
    srv.add_user("alice")
    srv.add_user("sam", role="supervisor")
    srv.start()
    authority = pub_from_jwk(srv.trust()["authority_keys"][0]["jwk"])
    kid = srv.trust()["authority_keys"][0]["kid"].encode()
    r, key = srv.login("alice")
    tok = r.json["token"]
    r_sam, key_sam = srv.login("sam")
    tok_sam = r_sam.json["token"]

    def get_profiles(k, tk, model=MODEL):
        path = "/v1/profiles?model=" + model
        proof = make_pop(k, tk, "GET", path, b"")
        return srv.request("GET", path, headers={"Authorization": "PoP " + tk,
                                                 "Signet-PoP": proof})

    r = get_profiles(key, tok)
    profiles = {p["id"]: p for p in r.json["profiles"]} if r.status == 200 else {}
    t.ok(r.status == 200 and sorted(profiles) == ["acme-cloud", "acme-wifi"],
         "GET /v1/profiles: this model's profiles only", r)
    device_forms = {}
    ok = True
    for pid, p in profiles.items():
        checked = verify_sign1(authority, unb64u(p["signed"]))
        ok = ok and checked is not None and checked[0] == {1: -7, 3: PROFILE_CTY, 4: kid}
        if checked:
            device_forms[pid] = checked[1]
    t.ok(ok and len(device_forms) == 2,
         "every profile is a COSE_Sign1 by the authority key, content type " + PROFILE_CTY)
    form = cbor2.loads(device_forms.get("acme-wifi", b"\xa0"))
    t.ok(cbor2.dumps(form, canonical=True) == device_forms.get("acme-wifi"),
         "device form is deterministic CBOR")
    t.ok(form.get(1) == "acme-wifi" and form.get(2) == 3 and form.get(3) == MODEL
         and form.get(4) == 2 and form.get(5) is True and form.get(6) == WIFI["description"],
         "device form: id, version, model, class 2 (credential), critical, description", form)
    fields = form.get(7, [])
    t.ok([f[1] for f in fields] == ["wifi.psk", "wifi.band", "wifi.ssid", "wifi.channel"]
         and fields[0] == {1: "wifi.psk", 2: 1, 3: 8, 4: 63, 6: True}
         and fields[1] == {1: "wifi.band", 2: 4, 5: ["2g4", "5g"], 6: False}
         and fields[3] == {1: "wifi.channel", 2: 2, 3: 1, 4: 13, 6: False},
         "device form fields: sorted by key, types and ranges, no vault names", fields)
    pj = profiles.get("acme-wifi", {})
    t.ok("vault" not in json.dumps(pj) and pj.get("critical") is True
         and set(pj) == {"id", "version", "model", "class", "critical", "description",
                         "fields", "signed"}, "JSON profile members, no vault names", pj)
    r = get_profiles(key, tok, "no-such-model")
    t.ok(r.status == 200 and r.json == {"profiles": []}, "unknown model: no profiles", r)
    r = get_profiles(key_sam, tok_sam)
    t.ok(r.status == 403 and r.error() == "forbidden", "supervisor: 403 (no device scope)", r)
    r = srv.request("GET", "/v1/profiles?model=" + MODEL)
    t.ok(r.status == 401, "profiles without PoP: 401", r)
    path = "/v1/profiles?model=%s&x=1" % MODEL
    r = srv.request("GET", path, headers={"Authorization": "PoP " + tok,
                                          "Signet-PoP": make_pop(key, tok, "GET", path, b"")})
    t.ok(r.status == 400, "profiles: unknown query member: 400", r)

    # -- seal ----------------------------------------------------------------------
    def seal(body, k=key, tk=tok):
        return srv.pop_call(k, tk, "/v1/seal", json.dumps(body).encode())[0]

    def request(d=dev, profile="acme-wifi", fields=("wifi.psk",), **ev):
        return {"evidence": d.evidence(**ev), "chain": d.chain(), "profile": profile,
                "fields": list(fields)}

    def info(serial, pid, k):
        return b"signet-seal-v1\0" + serial.encode() + b"\0" + pid.encode() + b"\0" + k.encode()

    r = seal(request())
    sealed = r.json.get("sealed", []) if r.status == 200 else []
    t.ok(r.status == 200 and len(sealed) == 1 and sealed[0]["key"] == "wifi.psk"
         and set(sealed[0]) == {"key", "enc", "ct", "digest"}, "seal: 200", r)
    if sealed:
        s = sealed[0]
        enc, ct = unb64u(s["enc"]), unb64u(s["ct"])
        aad = hashlib.sha256(device_forms["acme-wifi"]).digest()
        try:
            plain = hpke_open(dev.kem, enc, info("SN-0042", "acme-wifi", "wifi.psk"), aad, ct)
        except Exception as e:   # noqa: BLE001 -- report any failure as the test's
            plain = repr(e).encode()
        t.ok(plain == PSK.encode(),
             "the sealed secret opens with an independent HPKE (info, aad as documented)", plain)
        t.ok(s["digest"] == hashlib.sha256(enc + ct).hexdigest()
             and s["digest"] != hashlib.sha256(PSK.encode()).hexdigest(),
             "digest = SHA-256 (enc || ct), not of the plaintext", s)
        t.ok(len(enc) == 65 and len(ct) == len(PSK) + 16, "enc 65 bytes, ct = value + tag")
    t.ok(PSK not in srv.stderr() and "site-a/wifi-psk" not in srv.stderr(),
         "neither the value nor the vault name reaches the log")

    r = seal(request(profile="acme-cloud", fields=("cloud.token",)))
    ok = r.status == 200
    if ok:
        s = r.json["sealed"][0]
        aad = hashlib.sha256(device_forms["acme-cloud"]).digest()
        ok = hpke_open(dev.kem, unb64u(s["enc"]), info("SN-0042", "acme-cloud", "cloud.token"),
                       aad, unb64u(s["ct"])) == TOKEN.encode()
    t.ok(ok, "seal a multi-line secret of a config profile; it opens", r)

    # -- each refusal --------------------------------------------------------------
    r = seal(request(d=rogue_dev))
    t.ok(r.status == 403 and r.json == {"error": "forbidden", "message": "untrusted device"},
         "device of an unknown CA: 403 untrusted device", r)
    r = seal(request(d=revoked_dev))
    t.ok(r.status == 403 and r.json["message"] == "revoked device", "revoked device: 403", r)
    r = seal(request(signer=ec.generate_private_key(ec.SECP256R1())))
    t.ok(r.status == 400 and r.error() == "invalid_request" and "signature" in r.json["message"],
         "evidence signed by another key: 400", r)
    r = seal(request(serial="SN-0043"))
    t.ok(r.status == 400 and "serial" in r.json["message"],
         "evidence for another serial than the certificate's: 400", r)
    r = seal(request(kid="SN-0043"))
    t.ok(r.status == 400, "evidence whose kid is not its serial: 400", r)
    r = seal(request(cty="application/signet-pop+cbor"))
    t.ok(r.status == 400, "evidence with another content type: 400", r)
    r = seal(request(extra={9: 1}))
    t.ok(r.status == 400, "evidence with an unknown member: 400", r)
    r = seal(request(profile="no-such"))
    t.ok(r.status == 404 and r.error() == "not_found", "unknown profile: 404", r)
    r = seal(request(profile="other-fw", fields=("x",)))
    t.ok(r.status == 404, "profile for another model: 404", r)
    r = seal(request(fields=("wifi.ssid",)))
    t.ok(r.status == 400 and "not a secret" in r.json["message"], "field not secret: 400", r)
    r = seal(request(fields=("wifi.nope",)))
    t.ok(r.status == 400, "field not in the profile: 400", r)
    r = seal(request(profile="acme-cloud", fields=("cloud.api-key",)))
    t.ok(r.status == 400 and "no entry" in r.json["message"], "no vault entry: 400", r)
    r = seal(request(fields=("wifi.psk", "wifi.psk")))
    t.ok(r.status == 400, "the same field twice: 400", r)
    r = seal(request(fields=()))
    t.ok(r.status == 400, "no fields: 400", r)
    r = seal(request(), k=key_sam, tk=tok_sam)
    t.ok(r.status == 403 and r.error() == "forbidden", "scope without credential.rotate: 403", r)
    body = request()
    body["extra"] = 1
    r = seal(body)
    t.ok(r.status == 400, "unknown request member: 400", r)
    body = request()
    body["chain"] = ["!!"]
    r = seal(body)
    t.ok(r.status == 400, "chain not base64url: 400", r)
    body = request()
    body["chain"] = [b64u(b"\x30\x03\x02\x01\x01")]
    r = seal(body)
    t.ok(r.status in (400, 403), "chain of junk DER: refused", r)
    body = request()
    body["evidence"] = b64u(os.urandom(2000))
    r = seal(body)
    t.ok(r.status == 400, "oversized evidence: 400", r)
    r = srv.request("POST", "/v1/seal", request())
    t.ok(r.status == 401, "seal without PoP: 401", r)
    t.ok(srv.stop() == 0, "clean shutdown")
finally:
    srv.cleanup()
t.done()
