/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-error.h: the one error enum of libsignet-proto.
 *
 * Every proto function that can fail returns an sp_err. SP_OK is 0; every
 * other value names one specific reason, so a caller (or a device status
 * code) can tell a truncated message from a duplicate key from a bad
 * signature. Values are part of the wire protocol's status codes: append
 * new ones at the end of their group, never renumber.
 */
#ifndef SP_ERROR_H
#define SP_ERROR_H

typedef enum sp_err {
  SP_OK = 0,

  /* CBOR well-formedness and bounds (1..31) */
  SP_ERR_CBOR_TRUNCATED = 1,     /* input ends inside an item */
  SP_ERR_CBOR_TRAILING = 2,      /* bytes follow the top-level item */
  SP_ERR_CBOR_MALFORMED = 3,     /* reserved additional info, stray break, bad simple */
  SP_ERR_CBOR_INDEFINITE = 4,    /* indefinite-length string, array or map */
  SP_ERR_CBOR_NON_MINIMAL = 5,   /* an integer, length or tag not in its shortest form */
  SP_ERR_CBOR_UNSUPPORTED = 6,   /* floats, undefined, unassigned simple values */
  SP_ERR_CBOR_TOO_DEEP = 7,      /* nesting deeper than the limit */
  SP_ERR_CBOR_TOO_LONG = 8,      /* a string or container longer than the limit */
  SP_ERR_CBOR_TOO_LARGE = 9,     /* the whole input is larger than the limit */
  SP_ERR_CBOR_TOO_MANY_ITEMS = 10, /* more data items than the limit or the item buffer */
  SP_ERR_CBOR_DUPLICATE_KEY = 11,
  SP_ERR_CBOR_UNSORTED_KEYS = 12, /* map keys not in deterministic (RFC 8949 §4.2.1) order */
  SP_ERR_CBOR_INVALID_UTF8 = 13, /* a text string that is not valid UTF-8 */

  /* Message schema (32..63) */
  SP_ERR_TYPE = 32,              /* a field has the wrong CBOR type */
  SP_ERR_MISSING = 33,           /* a required field is absent */
  SP_ERR_UNKNOWN_FIELD = 34,     /* a field the message type does not allow */
  SP_ERR_VALUE = 35,             /* a field's value is out of range or invalid */
  SP_ERR_EXPIRED = 36,           /* a token or object is past its expiry (exp) */
  SP_ERR_NOT_YET_VALID = 37,     /* a token or object is not valid yet (nbf) */
  SP_ERR_AUDIENCE = 38,          /* a token is for another audience (aud) */

  /* COSE and keys (64..95) */
  SP_ERR_COSE_TAG = 64,          /* wrong CBOR tag on a COSE object */
  SP_ERR_COSE_ALG = 65,          /* missing or unsupported algorithm */
  SP_ERR_COSE_HEADER = 66,       /* malformed or conflicting header parameters */
  SP_ERR_BAD_SIGNATURE = 67,     /* the signature does not verify */
  SP_ERR_KEY = 68,               /* a key is malformed, not on the curve, or of the wrong type */
  SP_ERR_UNKNOWN_KEY = 69,       /* no trusted key has this kid */

  /* Framing (96..127) */
  SP_ERR_FRAME_EMPTY = 96,       /* a frame with no payload */
  SP_ERR_FRAME_TOO_LARGE = 97,   /* a frame longer than the maximum frame size */
  SP_ERR_FRAME_COBS = 98,        /* a frame that is not valid COBS */
  SP_ERR_FRAME_CRC = 99,         /* a frame whose CRC-32 does not match */

  /* General (128..) */
  SP_ERR_BUFFER_TOO_SMALL = 128, /* an output buffer is too small */
  SP_ERR_CRYPTO = 129,           /* the crypto port failed */
  SP_ERR_AUTH = 130,             /* AEAD authentication failed */
  SP_ERR_INVALID_ARG = 131,      /* a caller passed an invalid argument */
} sp_err;

/* A short, human-readable English sentence for an error; never NULL. */
const char *sp_strerror (sp_err err);

#endif /* SP_ERROR_H */
