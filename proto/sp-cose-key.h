/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-cose-key.h: COSE_Key (RFC 9052 §7, RFC 9053 §7.1) for EC2 P-256 keys.
 *
 * Encoded deterministically as {1: 2 (kty EC2), [2: kid], 3: -7 (ES256),
 * -1: 1 (P-256), -2: x, -3: y, [-4: d]}. Decoding checks the shape (types,
 * lengths, kty/crv/alg values); whether the point is on the curve is
 * checked by the crypto port when the key is used (SP_ERR_KEY).
 */
#ifndef SP_COSE_KEY_H
#define SP_COSE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-cbor.h"
#include "sp-crypto-port.h"
#include "sp-error.h"

#define SP_COSE_KTY_EC2 2
#define SP_COSE_CRV_P256 1
#define SP_COSE_ALG_ES256 (-7)
#define SP_COSE_KID_MAX 64

/* COSE_Key labels (RFC 9052 §7.1, RFC 9053 §7.1.1). */
#define SP_COSE_KEY_KTY 1
#define SP_COSE_KEY_KID 2
#define SP_COSE_KEY_ALG 3
#define SP_COSE_KEY_CRV (-1)
#define SP_COSE_KEY_X (-2)
#define SP_COSE_KEY_Y (-3)
#define SP_COSE_KEY_D (-4)

/* Longest encoding: map head, kty, kid, alg, crv, x, y, d. */
#define SP_COSE_KEY_MAX_LEN (1 + 2 + (1 + 2 + SP_COSE_KID_MAX) + 2 + 2 + \
                             3 * (1 + 2 + 32))

typedef struct sp_cose_key {
  uint8_t pub[SP_P256_PUB_LEN];  /* 0x04 || x || y */
  uint8_t d[SP_P256_SCALAR_LEN]; /* private scalar, meaningful when has_d */
  bool has_d;
  uint8_t kid[SP_COSE_KID_MAX];
  size_t kid_len;                /* 0: no kid */
} sp_cose_key;

/* Encode key as a COSE_Key map; d is written only if include_private and
 * key->has_d. */
sp_err sp_cose_key_encode (const sp_cose_key *key, bool include_private,
                           uint8_t *out, size_t cap, size_t *out_len);

/* Decode a COSE_Key map (the whole buffer). A present d is copied and
 * has_d set: the caller wipes it (sp_wipe) when done.
 *
 * The map must be deterministic (sorted, shortest form) and hold only the
 * labels above: SP_ERR_UNKNOWN_FIELD for any other (key_ops, base IV, ...),
 * SP_ERR_MISSING without kty, crv, x or y, SP_ERR_TYPE for a label of the
 * wrong type (y as a bool, the compressed form, included), and SP_ERR_KEY
 * for a kty other than EC2, a crv other than P-256, an alg other than
 * ES256, coordinates or d not 32 bytes, or a kid that is empty or longer
 * than SP_COSE_KID_MAX. alg is optional on input. */
sp_err sp_cose_key_decode (const uint8_t *buf, size_t len, sp_cose_key *key);

/* The same, writing into an open writer (e.g. as the value of a CWT cnf
 * map); failures are the writer's sticky error, also returned here. */
sp_err sp_cose_key_write (const sp_cose_key *key, bool include_private,
                          sp_cbor_writer *w);

/* The same, reading item idx of an already decoded document (e.g. the
 * COSE_Key inside a CWT cnf claim). */
sp_err sp_cose_key_read (const sp_cbor_doc *doc, size_t idx, sp_cose_key *key);

#endif /* SP_COSE_KEY_H */
