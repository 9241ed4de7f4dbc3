/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-crypto-port.h: the crypto operations libsignet-proto (and the device
 * agent) need, as a table of function pointers a platform fills in.
 *
 * The tool and the simulator plug in OpenSSL (core/signet-crypto-port.c);
 * a device plugs in its secure element or mbedTLS. Proto itself never
 * allocates: hashing takes a gather list (sp_iovec) so a Sig_structure can
 * be hashed in place, and private keys are opaque handles (sp_key) that the
 * port owns, so a key that lives in hardware never has to leave it.
 *
 * Conventions, for every entry:
 *  - returns SP_OK (0) or an sp_err (SP_ERR_CRYPTO unless stated otherwise);
 *  - P-256 public keys are 65-byte uncompressed SEC1 points (0x04||x||y);
 *    a port must reject points not on the curve with SP_ERR_KEY;
 *  - ECDSA signatures are raw r||s, 32 bytes each, big-endian (COSE form);
 *  - outputs are written only on success;
 *  - ctx is the port's own pointer, passed back unchanged.
 */
#ifndef SP_CRYPTO_PORT_H
#define SP_CRYPTO_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "sp-error.h"

#define SP_SHA256_LEN 32
#define SP_P256_PUB_LEN 65     /* uncompressed SEC1 point */
#define SP_P256_SCALAR_LEN 32
#define SP_P256_SIG_LEN 64     /* raw r||s */
#define SP_ECDH_P256_LEN 32    /* x coordinate of the shared point */
#define SP_AEAD_NONCE_LEN 12
#define SP_AEAD_TAG_LEN 16

/* One piece of a gather list. */
typedef struct sp_iovec {
  const void *base;
  size_t len;
} sp_iovec;

/* A private key held by the port; proto only passes it back. */
typedef struct sp_key sp_key;

typedef enum sp_aead_alg {
  SP_AEAD_AES_128_GCM = 1, /* 16-byte key (HPKE aead_id 1) */
  SP_AEAD_AES_256_GCM = 2, /* 32-byte key (HPKE aead_id 2) */
} sp_aead_alg;

typedef struct sp_crypto_port {
  void *ctx;

  /* SHA-256 of the concatenation of iov[0..n). */
  sp_err (*sha256) (void *ctx, const sp_iovec *iov, size_t n,
                    uint8_t out[SP_SHA256_LEN]);

  /* HMAC-SHA-256 with key[0..key_len) of the concatenation of iov[0..n). */
  sp_err (*hmac_sha256) (void *ctx, const uint8_t *key, size_t key_len,
                         const sp_iovec *iov, size_t n,
                         uint8_t out[SP_SHA256_LEN]);

  /* ECDSA P-256 over a SHA-256 digest. verify returns SP_ERR_BAD_SIGNATURE
   * for a signature that does not verify (including r or s out of range)
   * and SP_ERR_KEY for a public key that is not a valid point. */
  sp_err (*ecdsa_p256_sign) (void *ctx, const sp_key *key,
                             const uint8_t digest[SP_SHA256_LEN],
                             uint8_t sig[SP_P256_SIG_LEN]);
  sp_err (*ecdsa_p256_verify) (void *ctx, const uint8_t pub[SP_P256_PUB_LEN],
                               const uint8_t digest[SP_SHA256_LEN],
                               const uint8_t sig[SP_P256_SIG_LEN]);

  /* ECDH P-256: the x coordinate of priv * peer_pub. */
  sp_err (*ecdh_p256) (void *ctx, const sp_key *priv,
                       const uint8_t peer_pub[SP_P256_PUB_LEN],
                       uint8_t shared[SP_ECDH_P256_LEN]);

  /* Key handles. generate may be NULL on a device that never needs fresh
   * key pairs. import_private rejects 0 and scalars >= the group order with
   * SP_ERR_KEY. The caller frees every handle it got with key_free. */
  sp_err (*p256_generate) (void *ctx, sp_key **out);
  sp_err (*p256_import_private) (void *ctx, const uint8_t d[SP_P256_SCALAR_LEN],
                                 sp_key **out);
  sp_err (*p256_public) (void *ctx, const sp_key *key,
                         uint8_t pub[SP_P256_PUB_LEN]);
  void (*key_free) (void *ctx, sp_key *key);

  /* AEAD. seal writes pt_len + SP_AEAD_TAG_LEN bytes (ciphertext || tag) to
   * ct; open takes ct_len >= SP_AEAD_TAG_LEN, writes ct_len - 16 bytes to pt
   * and returns SP_ERR_AUTH (writing nothing useful) if the tag is wrong. */
  sp_err (*aead_seal) (void *ctx, sp_aead_alg alg, const uint8_t *key,
                       const uint8_t nonce[SP_AEAD_NONCE_LEN],
                       const uint8_t *aad, size_t aad_len,
                       const uint8_t *pt, size_t pt_len, uint8_t *ct);
  sp_err (*aead_open) (void *ctx, sp_aead_alg alg, const uint8_t *key,
                       const uint8_t nonce[SP_AEAD_NONCE_LEN],
                       const uint8_t *aad, size_t aad_len,
                       const uint8_t *ct, size_t ct_len, uint8_t *pt);

  /* Cryptographically secure random bytes. */
  sp_err (*random) (void *ctx, uint8_t *out, size_t len);
} sp_crypto_port;

/* Overwrite len bytes at p with zeros in a way the compiler may not remove. */
void sp_wipe (void *p, size_t len);

/* Constant-time comparison: 0 when equal. */
int sp_ct_memcmp (const void *a, const void *b, size_t len);

#endif /* SP_CRYPTO_PORT_H */
