# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Shared by the signetd integration tests: start a real signetd on
# 127.0.0.1 (port 0, TLS, a temporary data dir), talk to it with the
# standard library, and check what it says with implementations that are
# not ours: oathtool for TOTP codes, python3-cryptography for ECDSA,
# python3-cbor2 for CBOR. Prints TAP.
import base64
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature, encode_dss_signature)

PASSWORD = "correct horse battery staple"


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def totp(secret, at=None):
    """A code from oathtool, the independent implementation."""
    cmd = ["oathtool", "--totp", "-b", secret]
    if at is not None:
        cmd += ["--now", "@%d" % int(at)]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def jwk_of(pub):
    nums = pub.public_numbers()
    return {"kty": "EC", "crv": "P-256",
            "x": b64u(nums.x.to_bytes(32, "big")), "y": b64u(nums.y.to_bytes(32, "big"))}


def pub_from_jwk(jwk):
    return ec.EllipticCurvePublicNumbers(int.from_bytes(unb64u(jwk["x"]), "big"),
                                         int.from_bytes(unb64u(jwk["y"]), "big"),
                                         ec.SECP256R1()).public_key()


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
    protected = cbor2.dumps(protected_map, canonical=True)
    tbs = cbor2.dumps(["Signature1", protected, b"", payload])
    return cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, raw_sign(priv, tbs)]))


def verify_sign1(pub, blob):
    """(protected header dict, payload) if blob is a tagged COSE_Sign1 that
    pub signed, else None."""
    obj = cbor2.loads(blob)
    if not isinstance(obj, cbor2.CBORTag) or obj.tag != 18:
        return None
    protected, unprotected, payload, sig = obj.value
    tbs = cbor2.dumps(["Signature1", protected, b"", payload])
    if unprotected != {} or not raw_verify(pub, tbs, sig):
        return None
    return cbor2.loads(protected), payload


def make_pop(priv, token_b64, method, path, body=b"", iat=None, jti=None):
    token = unb64u(token_b64)
    claims = cbor2.loads(cbor2.loads(token).value[2])
    payload = cbor2.dumps({1: method, 2: path, 3: int(time.time()) if iat is None else iat,
                           4: jti if jti is not None else os.urandom(16),
                           5: hashlib.sha256(token).digest(),
                           6: hashlib.sha256(body).digest()}, canonical=True)
    return b64u(sign1(priv, {1: -7, 3: "application/signet-pop+cbor", 4: claims[7]}, payload))


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=""):
        self.n += 1
        if cond:
            print("ok %d - %s" % (self.n, name))
        else:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            for line in str(detail).splitlines():
                print("# " + line)
        sys.stdout.flush()

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def error(self):
        return self.json.get("error") if isinstance(self.json, dict) else None

    def __repr__(self):
        return "%d %r" % (self.status, self.body[:300])


class Server:
    def __init__(self, signetd, conf=None):
        self.signetd = signetd
        self.tmp = tempfile.mkdtemp(prefix="signetd-test-")
        self.data = os.path.join(self.tmp, "data")
        self.proc = None
        self.errlog = os.path.join(self.tmp, "stderr.log")
        self.secrets = {}
        r = self.cli("init")
        if r.returncode != 0:
            raise RuntimeError("init failed: " + r.stderr)
        if conf:
            path = os.path.join(self.data, "signetd.conf")
            text = open(path).read()
            for key, value in conf.items():
                text, n = re.subn(r"(?m)^%s=.*$" % key, "%s=%s" % (key, value), text)
                assert n == 1, key
            open(path, "w").write(text)

    def cli(self, *args, stdin=None):
        return subprocess.run([self.signetd, args[0], "--data-dir", self.data] + list(args[1:]),
                              input=stdin, capture_output=True, text=True, timeout=60)

    def add_user(self, name, role="technician", password=PASSWORD):
        r = self.cli("user", "add", name, "--role", role, stdin=password + "\n")
        if r.returncode != 0:
            raise RuntimeError("user add failed: " + r.stderr)
        m = re.search(r"otpauth://totp/\S*[?&]secret=([A-Z2-7]+)", r.stdout)
        self.secrets[name] = m.group(1)
        return m.group(1)

    def start(self):
        err = open(self.errlog, "a")
        self.proc = subprocess.Popen([self.signetd, "serve", "--data-dir", self.data,
                                      "--listen", "127.0.0.1:0"],
                                     stdout=subprocess.PIPE, stderr=err, text=True)
        err.close()
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        m = re.match(r"listening on https://127\.0\.0\.1:(\d+)$", line.strip())
        if not m:
            raise RuntimeError("signetd did not start: %r\n%s" % (line, self.stderr()))
        self.port = int(m.group(1))
        self.url = "https://127.0.0.1:%d" % self.port
        self.ctx = ssl.create_default_context(cafile=os.path.join(self.data, "tls-cert.pem"))

    def stop(self):
        """SIGTERM; the exit status (0 for a clean shutdown)."""
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = -9
        self.proc.stdout.close()
        self.proc = None
        return rc

    def stderr(self):
        try:
            return open(self.errlog).read()
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def request(self, method, path, body=None, headers=None, raw=None, chunked=False):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=30)
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and "Content-Type" not in h:
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h, encode_chunked=chunked)
        resp = conn.getresponse()
        out = Response(resp.status, resp.headers, resp.read())
        conn.close()
        return out

    def login(self, name, password=PASSWORD, code=None, key=None, at=None):
        key = key or ec.generate_private_key(ec.SECP256R1())
        code = code if code is not None else totp(self.secrets[name], at)
        r = self.request("POST", "/v1/login", {"username": name, "password": password,
                                               "otp": code, "pop_key": jwk_of(key.public_key())})
        return r, key

    def pop_call(self, key, token, path, body=b"{}", method="POST", **pop_args):
        proof = make_pop(key, token, pop_args.pop("pop_method", method),
                         pop_args.pop("pop_path", path), pop_args.pop("pop_body", body),
                         **pop_args)
        return self.request(method, path, raw=body,
                            headers={"Authorization": "PoP " + token, "Signet-PoP": proof}), proof

    def trust(self):
        return self.request("GET", "/v1/trust").json
