# SPDX-License-Identifier: LGPL-2.1-or-later
#
# An independent tool-side client of the Signet device protocol, written
# from docs/protocol.md and docs/api.md alone -- never from the project's
# C code -- so that the simulator (and the agent in it) is checked against
# the specification rather than against itself.
#
# What is here:
#  - framing: COBS (minimal form) + CRC-32 (zlib's) + 0x00 over a tty in
#    raw mode (termios), with a receiver that drops bad frames;
#  - deterministic CBOR (RFC 8949 §4.2.1) on top of cbor2;
#  - COSE_Sign1 ES256 with raw r||s signatures (python3-cryptography);
#  - a test token service: an authority key, its trust document (the
#    GET /v1/trust format), CWT service tokens and revocation lists;
#  - HPKE base mode, DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM
#    (RFC 9180) from cryptography's primitives, checked against the RFC's
#    vectors by the tests;
#  - the messages of a device session (HELLO ... BYE), with retries that
#    resend the same bytes under the same request id.
import base64
import datetime
import hashlib
import json
import os
import select
import struct
import termios
import time
import tty
import zlib

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature, encode_dss_signature)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand
from cryptography.x509.oid import NameOID

# ---- message types and status codes (docs/protocol.md) -----------------------

HELLO, ATTEST, AUTHORIZE, APPLY, COMMIT, ROLLBACK = 1, 2, 3, 4, 5, 6
BULK_BEGIN, BULK_DATA, BULK_STATUS, READ, REVOCATION, BYE = 7, 8, 9, 10, 11, 12
OP_APPLY, OP_COMMIT, OP_ROLLBACK, OP_BULK_BEGIN = 1, 2, 3, 4
CAP_BULK, CAP_CLOCK, CAP_L2CAP, CAP_BULK_QUIET = 1, 2, 4, 8

STATUS = {
    0: "OK", 1: "MALFORMED", 2: "UNSUPPORTED", 3: "TOO_LARGE", 4: "BAD_STATE",
    5: "TOKEN_MALFORMED", 6: "TOKEN_SIGNATURE", 7: "TOKEN_EXPIRED",
    8: "TOKEN_NOT_YET_VALID", 9: "TOKEN_AUDIENCE", 10: "TOKEN_REVOKED",
    11: "COMMAND_SIGNATURE", 12: "WRONG_TOKEN", 13: "WRONG_DEVICE", 14: "WRONG_NONCE",
    15: "REPLAY", 16: "SCOPE", 17: "VERSION_ROLLBACK", 18: "SCHEMA", 19: "STEP_UP",
    20: "DIGEST", 21: "SEAL", 22: "HEALTH", 23: "STORAGE", 24: "REVOCATION_STALE",
    25: "BULK_OFFSET", 30: "NO_TRANSFER",
}
STATUS_CODE = {name: code for code, name in STATUS.items()}

CT_ATTEST = "application/signet-attest+cbor"
CT_COMMAND = "application/signet-command+cbor"
CT_RECEIPT = "application/signet-receipt+cbor"
CT_CWT = "application/cwt"
CT_REVOCATION = "application/signet-revocation+cbor"
SCOPE_ALL = ("device.read device.attest config.write credential.rotate firmware.update "
             "log.upload")


class ProtocolError(Exception):
    pass


# ---- helpers ------------------------------------------------------------------

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sha256(data):
    return hashlib.sha256(data).digest()


# ---- deterministic CBOR (RFC 8949 §4.2.1) ---------------------------------------

def _head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError("integer too large")


def det(obj):
    """Deterministic encoding: shortest forms, definite lengths, map keys
    sorted by their encoded bytes (bytewise), recursively. cbor2's
    canonical mode sorts length-first (RFC 7049), which is not the same
    order for every key, so maps and arrays are put together here."""
    if isinstance(obj, dict):
        items = sorted((det(k), det(v)) for k, v in obj.items())
        return _head(5, len(items)) + b"".join(k + v for k, v in items)
    if isinstance(obj, (list, tuple)):
        return _head(4, len(obj)) + b"".join(det(x) for x in obj)
    if isinstance(obj, cbor2.CBORTag):
        return _head(6, obj.tag) + det(obj.value)
    if isinstance(obj, bool) or obj is None:
        return cbor2.dumps(obj)
    if isinstance(obj, int):
        return _head(0, obj) if obj >= 0 else _head(1, -1 - obj)
    if isinstance(obj, bytes):
        return _head(2, len(obj)) + obj
    if isinstance(obj, str):
        raw = obj.encode()
        return _head(3, len(raw)) + raw
    raise TypeError("cannot encode %r" % (obj,))


# ---- framing: COBS + CRC-32 + 0x00 ------------------------------------------------

def cobs_encode(data):
    """Minimal COBS: a final block of 254 non-zero bytes gets no extra
    0x01 code byte (docs/protocol.md, proto/sp-frame.h's wire form)."""
    out = bytearray([0])
    code_at, code, after_full = 0, 1, False
    for byte in data:
        if byte == 0:
            out[code_at] = code
            code_at, code, after_full = len(out), 1, False
            out.append(0)
        else:
            out.append(byte)
            code += 1
            if code == 0xFF:
                out[code_at] = code
                code_at, code, after_full = len(out), 1, True
                out.append(0)
    if code == 1 and after_full:
        del out[code_at]          # the needless trailing 0x01
    else:
        out[code_at] = code
    return bytes(out)


def cobs_decode(data):
    """Strict: no 0x00 inside, no code running past the end, the minimal
    form only. Raises ValueError."""
    if not data:
        raise ValueError("empty")
    out = bytearray()
    i, prev = 0, None
    while i < len(data):
        code = data[i]
        if code == 0:
            raise ValueError("zero byte")
        if i + code > len(data):
            raise ValueError("code past the end")
        block = data[i + 1:i + code]
        if 0 in block:
            raise ValueError("zero byte")
        out += block
        i += code
        if i < len(data):
            if code != 0xFF:
                out.append(0)
        elif code == 1 and prev == 0xFF:
            raise ValueError("not minimal")
        prev = code
    return bytes(out)


def encode_frame(payload):
    return cobs_encode(payload + struct.pack("<I", zlib.crc32(payload))) + b"\x00"


def decode_frame(body):
    """The payload of the bytes between two delimiters, or None."""
    try:
        raw = cobs_decode(body)
    except ValueError:
        return None
    if len(raw) < 4:
        return None
    payload, crc = raw[:-4], struct.unpack("<I", raw[-4:])[0]
    if zlib.crc32(payload) != crc:
        return None
    return payload


class Deframer:
    def __init__(self):
        self.buf = bytearray()
        self.bad = 0

    def feed(self, data):
        frames = []
        for byte in data:
            if byte == 0:
                if self.buf:
                    payload = decode_frame(bytes(self.buf))
                    if payload is None:
                        self.bad += 1
                    else:
                        frames.append(payload)
                self.buf = bytearray()
            else:
                self.buf.append(byte)
        return frames


# ---- COSE_Sign1, ES256, raw r||s ------------------------------------------------------

def raw_sign(priv, data):
    r, s = decode_dss_signature(priv.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def raw_verify(pub, data, sig):
    if len(sig) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        pub.verify(der, data, ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def sign1(priv, protected_map, payload):
    protected = det(protected_map)
    tbs = det(["Signature1", protected, b"", payload])
    return det(cbor2.CBORTag(18, [protected, {}, payload, raw_sign(priv, tbs)]))


def verify_sign1(pub, blob, content_type=None, kid=None):
    """(protected header, payload bytes) of a tagged COSE_Sign1 that pub
    signed, with the strict header of the specification; raises
    ProtocolError otherwise."""
    obj = cbor2.loads(blob)
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != 18 or len(obj.value) != 4:
        raise ProtocolError("not a tagged COSE_Sign1")
    protected, unprotected, payload, sig = obj.value
    if unprotected != {}:
        raise ProtocolError("unprotected header not empty")
    tbs = det(["Signature1", protected, b"", payload])
    if not raw_verify(pub, tbs, sig):
        raise ProtocolError("signature does not verify")
    header = cbor2.loads(protected)
    if content_type is not None:
        expected = {1: -7, 3: content_type, 4: kid}
        if header != expected or protected != det(expected):
            raise ProtocolError("protected header %r is not %r" % (header, expected))
    return header, payload


def pub_bytes(pub):
    n = pub.public_numbers()
    return b"\x04" + n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")


def pub_from_bytes(raw):
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def cose_key(pub, kid=None):
    n = pub.public_numbers()
    key = {1: 2, 3: -7, -1: 1, -2: n.x.to_bytes(32, "big"), -3: n.y.to_bytes(32, "big")}
    if kid is not None:
        key[2] = kid
    return key


# ---- a test token service ---------------------------------------------------------------

class Authority:
    """A service authority key of our own, as signetd's: tokens, revocation
    lists and the trust document a device is provisioned with."""

    def __init__(self, key=None):
        self.key = key or ec.generate_private_key(ec.SECP256R1())
        n = self.key.public_key().public_numbers()
        jwk = {"crv": "P-256", "kty": "EC", "x": b64u(n.x.to_bytes(32, "big")),
               "y": b64u(n.y.to_bytes(32, "big"))}
        # RFC 7638 thumbprint, as docs/api.md names authority keys
        self.kid = b64u(sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()))
        self.jwk = jwk

    def trust_entry(self, current=True, not_after=None):
        return {"kid": self.kid,
                "cose_key": b64u(det(cose_key(self.key.public_key(), self.kid.encode()))),
                "jwk": dict(self.jwk, kid=self.kid, alg="ES256", use="sig"),
                "current": current, "not_after": not_after}

    def trust_document(self, others=()):
        return {"authority_keys": [self.trust_entry()] + list(others),
                "manufacturer_cas": [], "revocation_list": ""}

    def token(self, pop_pub, scope=SCOPE_ALL, sub="alice", iat=None, exp=None,
              auth_time=None, cti=None, aud="signet", nbf=None, extra=None):
        now = int(time.time())
        iat = now if iat is None else iat
        claims = {1: "https://signetd.test", 2: sub, 4: iat + 900 if exp is None else exp,
                  6: iat, 7: cti if cti is not None else os.urandom(16),
                  8: {1: cose_key(pop_pub)}, 9: scope,
                  "amr": ["pwd", "otp"], "role": "technician",
                  "auth_time": iat if auth_time is None else auth_time}
        if aud is not None:
            claims[3] = aud
        if nbf is not None:
            claims[5] = nbf
        if extra:
            claims.update(extra)
        return sign1(self.key, {1: -7, 3: CT_CWT, 4: self.kid.encode()}, det(claims))

    def revocation_list(self, version, ctis=(), subs=(), serials=(), iat=None):
        def order(items):
            # RFC 8949 §4.2.1 order of the encoded items
            return sorted(items, key=det)
        payload = det({1: version, 2: int(time.time()) if iat is None else iat,
                       3: order(list(ctis)), 4: order(list(subs)), 5: order(list(serials))})
        return sign1(self.key, {1: -7, 3: CT_REVOCATION, 4: self.kid.encode()}, payload)


# ---- HPKE (RFC 9180) base mode: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM --------

KEM_ID, KDF_ID, AEAD_ID = 0x0010, 0x0001, 0x0001
_SUITE_KEM = b"KEM" + KEM_ID.to_bytes(2, "big")
_SUITE_HPKE = b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big") + \
    AEAD_ID.to_bytes(2, "big")
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _extract(salt, ikm):
    h = hmac.HMAC(salt if salt else b"\x00" * 32, hashes.SHA256())
    h.update(ikm)
    return h.finalize()


def _expand(prk, info, length):
    return HKDFExpand(hashes.SHA256(), length, info).derive(prk)


def _labeled_extract(suite, salt, label, ikm):
    return _extract(salt, b"HPKE-v1" + suite + label + ikm)


def _labeled_expand(suite, prk, label, info, length):
    return _expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


def _dh(priv, pub):
    return priv.exchange(ec.ECDH(), pub)


def hpke_derive_key_pair(ikm):
    prk = _labeled_extract(_SUITE_KEM, b"", b"dkp_prk", ikm)
    for counter in range(256):
        sk = int.from_bytes(_labeled_expand(_SUITE_KEM, prk, b"candidate", bytes([counter]), 32),
                            "big")
        if 0 < sk < _P256_ORDER:
            return ec.derive_private_key(sk, ec.SECP256R1())
    raise ValueError("DeriveKeyPairError")


def _shared_secret(dh, kem_context):
    prk = _labeled_extract(_SUITE_KEM, b"", b"eae_prk", dh)
    return _labeled_expand(_SUITE_KEM, prk, b"shared_secret", kem_context, 32)


def hpke_key_schedule(shared_secret, info):
    psk_id_hash = _labeled_extract(_SUITE_HPKE, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(_SUITE_HPKE, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash
    secret = _labeled_extract(_SUITE_HPKE, shared_secret, b"secret", b"")
    return {"key_schedule_context": context, "secret": secret,
            "key": _labeled_expand(_SUITE_HPKE, secret, b"key", context, 16),
            "base_nonce": _labeled_expand(_SUITE_HPKE, secret, b"base_nonce", context, 12),
            "exporter_secret": _labeled_expand(_SUITE_HPKE, secret, b"exp", context, 32)}


def hpke_encap(pk_r, sk_e=None):
    sk_e = sk_e or ec.generate_private_key(ec.SECP256R1())
    enc = pub_bytes(sk_e.public_key())
    shared = _shared_secret(_dh(sk_e, pk_r), enc + pub_bytes(pk_r))
    return shared, enc


def hpke_seal(pk_r, info, aad, pt, sk_e=None, seq=0):
    """Single-shot seal (seq 0 unless a test walks a context): (enc, ct)."""
    shared, enc = hpke_encap(pk_r, sk_e)
    ks = hpke_key_schedule(shared, info)
    nonce = bytes(a ^ b for a, b in zip(ks["base_nonce"], seq.to_bytes(12, "big")))
    return enc, AESGCM(ks["key"]).encrypt(nonce, pt, aad)


def hpke_open(sk_r, enc, info, aad, ct, seq=0):
    shared = _shared_secret(_dh(sk_r, pub_from_bytes(enc)), enc + pub_bytes(sk_r.public_key()))
    ks = hpke_key_schedule(shared, info)
    nonce = bytes(a ^ b for a, b in zip(ks["base_nonce"], seq.to_bytes(12, "big")))
    try:
        return AESGCM(ks["key"]).decrypt(nonce, ct, aad)
    except InvalidTag:
        raise ProtocolError("HPKE open failed")


def seal_info(serial, profile, key):
    return b"signet-seal-v1\x00" + serial.encode() + b"\x00" + profile.encode() + b"\x00" + \
        key.encode()


# ---- certificates -------------------------------------------------------------------------

def verify_device_chain(chain, ca_pem, serial=None, model=None, now=None):
    """Check a device chain (DER, leaf first) to the CA with cryptography's
    own parsing: P-256, ecdsa-with-SHA256, signed by the CA, in its
    validity, CA:FALSE, digitalSignature, subject serialNumber and CN.
    Returns the leaf's public key; raises ProtocolError."""
    ca = x509.load_pem_x509_certificate(ca_pem)
    if len(chain) != 1:
        raise ProtocolError("a devsim chain is the leaf only, got %d" % len(chain))
    leaf = x509.load_der_x509_certificate(chain[0])
    if leaf.signature_hash_algorithm.name != "sha256" or \
            not isinstance(leaf.public_key(), ec.EllipticCurvePublicKey) or \
            leaf.public_key().curve.name != "secp256r1":
        raise ProtocolError("not a P-256/ES256 certificate")
    if leaf.issuer != ca.subject:
        raise ProtocolError("issuer is not the CA")
    try:
        ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes,
                               ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ProtocolError("the CA did not sign the leaf")
    # cryptography 38 gives naive datetimes in UTC
    utc_now = datetime.datetime.utcfromtimestamp(now or time.time())
    if not (leaf.not_valid_before - datetime.timedelta(seconds=5) <= utc_now
            <= leaf.not_valid_after):
        raise ProtocolError("leaf not valid now")
    bc = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
    if bc.ca:
        raise ProtocolError("leaf is a CA")
    ku = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    if not ku.digital_signature:
        raise ProtocolError("leaf lacks digitalSignature")
    ca_bc = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    if not ca_bc.ca or not ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign:
        raise ProtocolError("the CA is not a CA")
    sn = leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    cn = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if serial is not None and (len(sn) != 1 or sn[0].value != serial):
        raise ProtocolError("serialNumber is not %s" % serial)
    if model is not None and (len(cn) != 1 or cn[0].value != model):
        raise ProtocolError("CN is not %s" % model)
    return leaf.public_key()


# ---- the device link --------------------------------------------------------------------------

class Link:
    """A tty opened as a tool opens a CDC-ACM port: raw mode, no flow
    control, stale input flushed."""

    def __init__(self, path):
        self.path = path
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        attrs = termios.tcgetattr(self.fd)
        attrs[2] &= ~termios.CRTSCTS
        attrs[2] |= termios.CLOCAL | termios.CREAD
        termios.tcsetattr(self.fd, termios.TCSANOW, attrs)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.deframer = Deframer()
        self.pending = []
        self.first = True

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def send(self, payload):
        data = encode_frame(payload)
        if self.first:
            data = b"\x00" + data   # resync byte before the first frame
            self.first = False
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
                view = view[n:]
            except BlockingIOError:
                select.select([], [self.fd], [], 1.0)

    def recv(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                # the device side of the pty is gone (its process ended)
                raise ConnectionError("the device hung up")
            self.pending += self.deframer.feed(data)
        return self.pending.pop(0)


class Device:
    """Requests and responses over a Link, with retries that resend the
    same bytes under the same id (docs/protocol.md, Retries)."""

    def __init__(self, path, timeout=2.0, retries=0):
        self.link = Link(path)
        self.timeout = timeout
        self.retries = retries
        self.next_id = 1
        self.attempts = 0       # frames sent, retries included
        self.stale = 0          # responses for other ids (duplicates, late answers)

    def close(self):
        self.link.close()

    def request_bytes(self, raw, rid, rtype, timeout=None, retries=None):
        retries = self.retries if retries is None else retries
        timeout = self.timeout if timeout is None else timeout
        for _ in range(retries + 1):
            self.attempts += 1
            self.link.send(raw)
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                payload = self.link.recv(left) if left > 0 else None
                if payload is None:
                    break
                try:
                    msg = cbor2.loads(payload)
                except Exception:
                    self.stale += 1
                    continue
                if isinstance(msg, dict) and msg.get(1) == rid and msg.get(0) == rtype | 0x80:
                    return msg, payload
                self.stale += 1
        raise TimeoutError("no answer to request %d (type %d)" % (rid, rtype))

    def request(self, rtype, body=None, rid=None, **kw):
        if rid is None:
            rid = self.next_id
            self.next_id += 1
        msg = {0: rtype, 1: rid}
        msg.update(body or {})
        resp, _ = self.request_bytes(det(msg), rid, rtype, **kw)
        return resp

    def hello(self, **kw):
        return self.request(HELLO, **kw)

    def attest(self, challenge, **kw):
        return self.request(ATTEST, {2: challenge}, **kw)

    def authorize(self, token, **kw):
        return self.request(AUTHORIZE, {2: token}, **kw)

    def apply(self, command, sealed=(), **kw):
        return self.request(APPLY, {2: command, 3: list(sealed)}, **kw)

    def commit(self, command, **kw):
        return self.request(COMMIT, {2: command}, **kw)

    def rollback(self, command, **kw):
        return self.request(ROLLBACK, {2: command}, **kw)

    def read(self, keys=None, **kw):
        return self.request(READ, {2: list(keys)} if keys is not None else {}, **kw)

    def revocation(self, signed, **kw):
        return self.request(REVOCATION, {2: signed}, **kw)

    def bye(self, **kw):
        return self.request(BYE, **kw)

    def bulk_begin(self, command, **kw):
        return self.request(BULK_BEGIN, {2: command}, **kw)

    def bulk_data(self, offset, data, quiet=False, **kw):
        body = {2: offset, 3: data}
        if quiet:
            body[4] = True
        return self.request(BULK_DATA, body, **kw)

    def bulk_status(self, **kw):
        return self.request(BULK_STATUS, **kw)

    def send_only(self, rtype, body):
        """Send a request without waiting for its answer; its id."""
        rid = self.next_id
        self.next_id += 1
        msg = {0: rtype, 1: rid}
        msg.update(body)
        self.attempts += 1
        self.link.send(det(msg))
        return rid


def status_of(resp):
    return STATUS.get(resp.get(2), resp.get(2))


class Session:
    """A technician's session with one device: PoP key, token, nonce,
    sequence numbers, and commands signed with the PoP key."""

    def __init__(self, device, authority, scope=SCOPE_ALL, token_args=None):
        self.device = device
        self.authority = authority
        self.pop = ec.generate_private_key(ec.SECP256R1())
        self.seq = 0
        self.token_args = dict(token_args or {})
        self.token = None
        self.cti = None
        self.scope = scope
        self.hello = None

    def start(self):
        resp = self.device.hello()
        if resp[2] != 0:
            raise ProtocolError("HELLO: %s" % status_of(resp))
        self.hello = resp
        self.serial = resp[3]
        self.nonce = resp[9]
        self.seq = 0
        return resp

    def authorize(self, **token_args):
        args = dict(self.token_args)
        args.update(token_args)
        self.cti = args.pop("cti", os.urandom(16))
        self.token = self.authority.token(self.pop.public_key(), scope=self.scope, cti=self.cti,
                                          **args)
        return self.device.authorize(self.token)

    def command(self, op, args, seq=None, serial=None, nonce=None, cti=None, key=None):
        if seq is None:
            self.seq += 1
            seq = self.seq
        cti = self.cti if cti is None else cti
        payload = det({1: self.serial if serial is None else serial,
                       2: self.nonce if nonce is None else nonce,
                       3: seq, 4: op, 5: args, 6: cti})
        return sign1(key or self.pop, {1: -7, 3: CT_COMMAND, 4: cti}, payload)

    def apply_args(self, version, values=None, sealed_digests=None, profile="acme-test",
                   profile_digest=None, firmware_digest=None):
        args = {1: version, 2: dict(values or {}), 3: dict(sealed_digests or {}), 4: profile,
                5: profile_digest if profile_digest is not None else sha256(b"profile")}
        if firmware_digest is not None:
            args[6] = firmware_digest
        return args

    def seal(self, kem_pub, key, value, profile="acme-test", profile_digest=None):
        """What the service would seal to the device for one secret key:
        (sealed entry, digest)."""
        aad = profile_digest if profile_digest is not None else sha256(b"profile")
        enc, ct = hpke_seal(pub_from_bytes(kem_pub), seal_info(self.serial, profile, key), aad,
                            value.encode() if isinstance(value, str) else value)
        return {1: key, 2: enc, 3: ct}, sha256(enc + ct)

    def transfer(self, image, window=16, ack_every=8, chunk=1900, max_timeouts=20):
        """A bulk transfer of image from BULK_BEGIN to its completion
        (docs/protocol.md, Bulk transfer), written from the spec: up to
        window chunks' bytes past the device's offset as last heard; with
        ack_every > 1 (and the device's capability 8) every chunk but each
        ack_every-th and the last is quiet. A refusal 25 names the offset to
        go back to (answers to chunks sent before that are ignored); a
        timeout asks BULK_STATUS. Returns counters."""
        dev = self.device
        quiet_ok = ack_every > 1 and bool(self.hello[8] & CAP_BULK_QUIET)
        size = len(image)
        cmd = self.command(OP_BULK_BEGIN, {1: sha256(image), 2: size})
        r = dev.bulk_begin(cmd)
        if r[2] != 0:
            raise ProtocolError("BULK_BEGIN: %s" % status_of(r))
        acked = nxt = r[3]
        stats = {"resumed_from": acked, "chunks": 0, "answers": 0, "rewinds": 0,
                 "timeouts": 0, "quiet": quiet_ok}
        inflight = {}
        since = 0
        first_current = dev.next_id      # ids below: sent before the last rewind

        def rewind(offset):
            nonlocal acked, nxt, first_current
            if not 0 <= offset <= size:
                raise ProtocolError("the device names offset %d of %d" % (offset, size))
            acked = nxt = offset
            first_current = dev.next_id
            stats["rewinds"] += 1

        while acked < size:
            while nxt < size and nxt - acked < window * chunk:
                n = min(chunk, size - nxt)
                quiet = quiet_ok and nxt + n < size and since + 1 < ack_every
                body = {2: nxt, 3: image[nxt:nxt + n]}
                if quiet:
                    body[4] = True
                rid = dev.send_only(BULK_DATA, body)
                inflight[rid] = nxt + n
                since = since + 1 if quiet else 0
                nxt += n
                stats["chunks"] += 1
            payload = dev.link.recv(dev.timeout)
            if payload is None:
                stats["timeouts"] += 1
                if stats["timeouts"] > max_timeouts:
                    raise TimeoutError("transfer: no answer at %d" % acked)
                st = dev.bulk_status(retries=max_timeouts)
                if st[2] != 0:
                    raise ProtocolError("BULK_STATUS: %s" % status_of(st))
                inflight.clear()
                rewind(st[3])
                continue
            try:
                msg = cbor2.loads(payload)
            except Exception:
                dev.stale += 1
                continue
            rid = msg.get(1) if isinstance(msg, dict) else None
            if rid not in inflight or rid < first_current or msg.get(0) != BULK_DATA | 0x80:
                dev.stale += 1
                continue
            end = inflight.pop(rid)
            stats["answers"] += 1
            if msg[2] == 0 and msg[3] == end:
                acked = max(acked, end)
            elif msg[2] in (0, 25):
                rewind(msg[3])
            else:
                raise ProtocolError("BULK_DATA refused: %s" % status_of(msg))
        return stats

    def verify_receipt(self, receipt, identity_pub, command, op):
        _, payload = verify_sign1(identity_pub, receipt, CT_RECEIPT, self.serial.encode())
        r = cbor2.loads(payload)
        if payload != det(r):
            raise ProtocolError("receipt payload is not deterministic CBOR")
        if sorted(r) != list(range(1, 11)):
            raise ProtocolError("receipt keys %r" % sorted(r))
        if r[1] != self.serial or r[2] != self.nonce or r[4] != sha256(command) or \
                r[5] != op or r[6] != 0:
            raise ProtocolError("receipt does not match the command: %r" % r)
        return r


def parse_evidence(evidence, leaf_pub, serial):
    _, payload = verify_sign1(leaf_pub, evidence, CT_ATTEST, serial.encode())
    e = cbor2.loads(payload)
    if payload != det(e) or sorted(e) != list(range(1, 9)):
        raise ProtocolError("evidence payload shape %r" % e)
    return e


def config_digest(config):
    """SHA-256 of the deterministic CBOR of a configuration."""
    return sha256(det(config))
