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

#include "sp-crypto-port.h"
#include "sp-error.h"

#define SP_COSE_KTY_EC2 2
#define SP_COSE_CRV_P256 1
#define SP_COSE_ALG_ES256 (-7)
#define SP_COSE_KID_MAX 64

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
 * has_d set: the caller wipes it (sp_wipe) when done. */
sp_err sp_cose_key_decode (const uint8_t *buf, size_t len, sp_cose_key *key);

#endif /* SP_COSE_KEY_H */
