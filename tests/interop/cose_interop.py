#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# COSE_Sign1 / CWT interoperability with an independent implementation:
# python3-cryptography (ECDSA P-256) and python3-cbor2 (CBOR), both from
# Debian. Signet signs, Python verifies; Python signs, Signet verifies;
# a flipped bit is refused by both.
#
#   cose_interop.py PATH/TO/cose-interop-tool
#
# Prints TAP.
import base64
import json
import os
import subprocess
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature, encode_dss_signature)

TOOL = sys.argv[1]
results = []


def check(name, cond, detail=""):
    results.append((name, bool(cond), detail))


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk_public_key(jwk):
    x = int.from_bytes(unb64u(jwk["x"]), "big")
    y = int.from_bytes(unb64u(jwk["y"]), "big")
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def sig_structure(protected, aad, payload):
    return cbor2.dumps(["Signature1", protected, aad, payload])


def py_verify(pub, sign1, aad):
    obj = cbor2.loads(sign1)
    if isinstance(obj, cbor2.CBORTag):
        if obj.tag != 18:
            return False
        obj = obj.value
    if not isinstance(obj, list) or len(obj) != 4:
        return False
    protected, unprotected, payload, sig = obj
    # The unprotected header is not covered by the signature (RFC 9052
    # §3): a verifier must still insist on its type, as Signet's does.
    if not isinstance(unprotected, dict) or not isinstance(sig, bytes) or len(sig) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"),
                               int.from_bytes(sig[32:], "big"))
    try:
        pub.verify(der, sig_structure(protected, aad, payload),
                   ec.ECDSA(hashes.SHA256()))
        return True
    except InvalidSignature:
        return False


def flip_all_bits(blob):
    for i in range(len(blob)):
        for bit in range(8):
            b = bytearray(blob)
            b[i] ^= 1 << bit
            yield bytes(b)


# 1. Signet signs; Python verifies.
out = subprocess.run([TOOL, "sign"], check=True, capture_output=True, text=True)
made = json.loads(out.stdout)
pub = jwk_public_key(made["jwk"])
sign1 = bytes.fromhex(made["sign1"])
aad = bytes.fromhex(made["aad"])
check("signet COSE_Sign1 verifies in python", py_verify(pub, sign1, aad))
tagged = cbor2.loads(sign1)
check("signet COSE_Sign1 is tagged 18", isinstance(tagged, cbor2.CBORTag) and tagged.tag == 18)
hdr = cbor2.loads(tagged.value[0])
check("protected header holds alg ES256", hdr.get(1) == -7, repr(hdr))
check("protected header holds the kid", hdr.get(4) == made["kid"].encode(), repr(hdr))
check("protected header encoding is deterministic",
      cbor2.dumps(hdr, canonical=True) == tagged.value[0])
check("signet COSE_Sign1 with other AAD is refused by python",
      not py_verify(pub, sign1, aad + b"x"))
refused = 0
total = 0
for f in flip_all_bits(sign1):
    total += 1
    try:
        ok = py_verify(pub, f, aad)
    except Exception:
        ok = False
    refused += not ok
check("every bit flip of a signet COSE_Sign1 is refused by python (%d/%d)" % (refused, total),
      refused == total)

cwt = bytes.fromhex(made["cwt"])
check("signet CWT verifies in python", py_verify(pub, cwt, b""))
claims = cbor2.loads(cbor2.loads(cwt).value[2])
expect = made["claims"]
check("CWT iss/sub/aud", claims.get(1) == expect["iss"] and claims.get(2) == expect["sub"]
      and claims.get(3) == expect["aud"], repr(claims))
check("CWT exp/iat", claims.get(4) == expect["exp"] and claims.get(6) == expect["iat"])
check("CWT cti", claims.get(7) == bytes.fromhex(expect["cti"]))
cnf_key = claims.get(8, {}).get(1, {})
cnf_jwk = expect["cnf_jwk"]
check("CWT cnf holds the COSE_Key of the PoP key",
      cnf_key.get(1) == 2 and cnf_key.get(-1) == 1
      and cnf_key.get(-2) == unb64u(cnf_jwk["x"]) and cnf_key.get(-3) == unb64u(cnf_jwk["y"]),
      repr(cnf_key))
check("CWT text claims", claims.get("role") == expect["role"]
      and claims.get("amr") == expect["amr"] and claims.get("auth_time") == expect["auth_time"])
check("CWT claims encoding is deterministic",
      cbor2.dumps(claims, canonical=True) == cbor2.loads(cwt).value[2])

# 2. Python signs; Signet verifies.
key = ec.generate_private_key(ec.SECP256R1())
nums = key.public_key().public_numbers()
jwk = {"kty": "EC", "crv": "P-256",
       "x": b64u(nums.x.to_bytes(32, "big")), "y": b64u(nums.y.to_bytes(32, "big"))}
protected = cbor2.dumps({1: -7, 4: b"python"}, canonical=True)
payload = os.urandom(100)
aad = b"interop"
r, s = decode_dss_signature(key.sign(sig_structure(protected, aad, payload),
                                     ec.ECDSA(hashes.SHA256())))
sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
py_sign1 = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, payload, sig]))


def signet_verify(blobs, aad_bytes):
    """Verify many objects in one run of the tool: a list of error strings,
    "" where the object verified."""
    req = json.dumps({"jwk": jwk, "aad": aad_bytes.hex(), "sign1": [b.hex() for b in blobs]})
    res = subprocess.run([TOOL, "verify"], input=req, capture_output=True, text=True, check=True)
    return json.loads(res.stdout)


res = signet_verify([py_sign1], aad)
check("python COSE_Sign1 verifies in signet", res == [""], repr(res))
res = signet_verify([py_sign1], b"other")
check("python COSE_Sign1 with other AAD is refused by signet", res[0] != "", repr(res))
flips = list(flip_all_bits(py_sign1))
res = signet_verify(flips, aad)
accepted = [i for i, err in enumerate(res) if err == ""]
check("every bit flip of the python COSE_Sign1 is refused by signet (%d flips)" % len(flips),
      len(res) == len(flips) and not accepted, repr(accepted))

print("1..%d" % len(results))
for i, (name, ok, detail) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, name))
    if not ok and detail:
        print("# " + detail.replace("\n", "\n# "))
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
