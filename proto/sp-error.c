/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sp-error.h"

const char *
sp_strerror (sp_err err)
{
  switch (err)
    {
    case SP_OK: return "success";
    case SP_ERR_CBOR_TRUNCATED: return "CBOR input is truncated";
    case SP_ERR_CBOR_TRAILING: return "unexpected bytes after the CBOR item";
    case SP_ERR_CBOR_MALFORMED: return "CBOR input is malformed";
    case SP_ERR_CBOR_INDEFINITE: return "indefinite-length CBOR items are not allowed";
    case SP_ERR_CBOR_NON_MINIMAL: return "CBOR integer or length is not in its shortest form";
    case SP_ERR_CBOR_UNSUPPORTED: return "CBOR type is not allowed (float, undefined or unassigned simple value)";
    case SP_ERR_CBOR_TOO_DEEP: return "CBOR nesting is too deep";
    case SP_ERR_CBOR_TOO_LONG: return "CBOR string or container is too long";
    case SP_ERR_CBOR_TOO_LARGE: return "CBOR input is too large";
    case SP_ERR_CBOR_TOO_MANY_ITEMS: return "CBOR input has too many items";
    case SP_ERR_CBOR_DUPLICATE_KEY: return "CBOR map has a duplicate key";
    case SP_ERR_CBOR_UNSORTED_KEYS: return "CBOR map keys are not in deterministic order";
    case SP_ERR_CBOR_INVALID_UTF8: return "CBOR text string is not valid UTF-8";
    case SP_ERR_TYPE: return "a field has the wrong type";
    case SP_ERR_MISSING: return "a required field is missing";
    case SP_ERR_UNKNOWN_FIELD: return "a field is not allowed in this message";
    case SP_ERR_VALUE: return "a field has an invalid value";
    case SP_ERR_EXPIRED: return "the token has expired";
    case SP_ERR_NOT_YET_VALID: return "the token is not valid yet";
    case SP_ERR_AUDIENCE: return "the token is for another audience";
    case SP_ERR_COSE_TAG: return "wrong CBOR tag for this COSE object";
    case SP_ERR_COSE_ALG: return "missing or unsupported COSE algorithm";
    case SP_ERR_COSE_HEADER: return "malformed COSE header";
    case SP_ERR_BAD_SIGNATURE: return "signature verification failed";
    case SP_ERR_KEY: return "invalid key";
    case SP_ERR_UNKNOWN_KEY: return "the signing key is not trusted";
    case SP_ERR_FRAME_EMPTY: return "empty frame";
    case SP_ERR_FRAME_TOO_LARGE: return "frame exceeds the maximum size";
    case SP_ERR_FRAME_COBS: return "frame is not valid COBS";
    case SP_ERR_FRAME_CRC: return "frame CRC-32 mismatch";
    case SP_ERR_BUFFER_TOO_SMALL: return "output buffer is too small";
    case SP_ERR_CRYPTO: return "cryptographic operation failed";
    case SP_ERR_AUTH: return "authenticated decryption failed";
    case SP_ERR_INVALID_ARG: return "invalid argument";
    default: break;
    }
  return "unknown error";
}
