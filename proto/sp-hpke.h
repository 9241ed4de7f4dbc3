/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-hpke.h: HPKE (RFC 9180), base mode, for one cipher suite:
 * DHKEM(P-256, HKDF-SHA256) (kem_id 0x0010), HKDF-SHA256 (kdf_id 0x0001),
 * AES-128-GCM (aead_id 0x0001). Used to seal secrets to a device's KEM key.
 *
 * Built only from the crypto port (ECDH, HMAC, AES-GCM), with no heap: the
 * same code runs in the tool and on a device. Every intermediate secret is
 * wiped before return; a context holds the AEAD key, base nonce and
 * exporter secret and must be wiped with sp_hpke_ctx_wipe() when done.
 */
#ifndef SP_HPKE_H
#define SP_HPKE_H

#include <stddef.h>
#include <stdint.h>

#include "sp-crypto-port.h"
#include "sp-error.h"

#define SP_HPKE_KEM_P256_HKDF_SHA256 0x0010
#define SP_HPKE_KDF_HKDF_SHA256 0x0001
#define SP_HPKE_AEAD_AES_128_GCM 0x0001

#define SP_HPKE_ENC_LEN SP_P256_PUB_LEN   /* Nenc: an uncompressed point */
#define SP_HPKE_SECRET_LEN 32             /* Nsecret */
#define SP_HPKE_KEY_LEN 16                /* Nk */
#define SP_HPKE_NONCE_LEN 12              /* Nn */
#define SP_HPKE_EXPORTER_LEN 32           /* Nh */
#define SP_HPKE_TAG_LEN SP_AEAD_TAG_LEN   /* Nt */
/* The longest LabeledExpand output: the 2-byte length prefix also allows
 * 65535, but HKDF-SHA256 stops at 255 blocks. */
#define SP_HPKE_EXPORT_MAX (255 * 32)

/* suite_id for the KEM ("KEM" || kem_id) and for the whole suite ("HPKE"
 * || kem_id || kdf_id || aead_id), for LabeledExtract/LabeledExpand. */
#define SP_HPKE_KEM_SUITE_ID_LEN 5
#define SP_HPKE_SUITE_ID_LEN 10
extern const uint8_t sp_hpke_kem_suite_id[SP_HPKE_KEM_SUITE_ID_LEN];
extern const uint8_t sp_hpke_suite_id[SP_HPKE_SUITE_ID_LEN];

/* The most pieces the ikm/info gather lists of the labeled functions may
 * have: the labels take the rest of sp_hkdf's SP_HKDF_MAX_INFO_IOV. */
#define SP_HPKE_MAX_IOV 4

/* An encryption context (RFC 9180 §5.2). Fields are public so tests can
 * compare them with the RFC's intermediates; treat them as read-only. */
typedef struct sp_hpke_ctx {
  const sp_crypto_port *port;
  uint8_t key[SP_HPKE_KEY_LEN];
  uint8_t base_nonce[SP_HPKE_NONCE_LEN];
  uint8_t exporter_secret[SP_HPKE_EXPORTER_LEN];
  /* The RFC allows 2^96 - 1 messages; 2^64 - 1 is as good in practice and
   * keeps proto to standard integer types. */
  uint64_t seq;
} sp_hpke_ctx;

/* LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id
 * || label || ikm). salt may be NULL/0; ikm has up to SP_HPKE_MAX_IOV
 * pieces. */
sp_err sp_hpke_labeled_extract (const sp_crypto_port *port,
                                const uint8_t *suite_id, size_t suite_id_len,
                                const uint8_t *salt, size_t salt_len,
                                const char *label,
                                const sp_iovec *ikm, size_t ikm_n,
                                uint8_t prk[SP_SHA256_LEN]);

/* LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) ||
 * "HPKE-v1" || suite_id || label || info, L); 1 <= L <= SP_HPKE_EXPORT_MAX. */
sp_err sp_hpke_labeled_expand (const sp_crypto_port *port,
                               const uint8_t *suite_id, size_t suite_id_len,
                               const uint8_t prk[SP_SHA256_LEN],
                               const char *label,
                               const sp_iovec *info, size_t info_n,
                               uint8_t *out, size_t out_len);

/* DeriveKeyPair(ikm) for P-256 (RFC 9180 §7.1.3): rejection sampling of
 * candidates against the group order. *out is a port key handle (free it
 * with port->key_free). ikm should be at least 32 bytes of entropy. */
sp_err sp_hpke_derive_key_pair (const sp_crypto_port *port,
                                const uint8_t *ikm, size_t ikm_len,
                                sp_key **out);

/* Encap(pkR): shared_secret and enc (the ephemeral public key). skE is the
 * ephemeral key to use, or NULL to generate one through the port (pass one
 * only to reproduce test vectors). SP_ERR_KEY if pkR is not a valid point. */
sp_err sp_hpke_encap (const sp_crypto_port *port,
                      const uint8_t pkR[SP_P256_PUB_LEN],
                      const sp_key *skE,
                      uint8_t shared_secret[SP_HPKE_SECRET_LEN],
                      uint8_t enc[SP_HPKE_ENC_LEN]);

/* Decap(enc, skR). SP_ERR_KEY if enc is not a valid point. */
sp_err sp_hpke_decap (const sp_crypto_port *port,
                      const uint8_t enc[SP_HPKE_ENC_LEN],
                      const sp_key *skR,
                      uint8_t shared_secret[SP_HPKE_SECRET_LEN]);

/* KeySchedule for mode_base (empty psk and psk_id): fills ctx, seq = 0. */
sp_err sp_hpke_key_schedule (const sp_crypto_port *port,
                             const uint8_t shared_secret[SP_HPKE_SECRET_LEN],
                             const uint8_t *info, size_t info_len,
                             sp_hpke_ctx *ctx);

/* SetupBaseS(pkR, info): enc for the recipient and a sender context. skE as
 * for sp_hpke_encap. ctx is filled only on success. */
sp_err sp_hpke_setup_base_s (const sp_crypto_port *port,
                             const uint8_t pkR[SP_P256_PUB_LEN],
                             const uint8_t *info, size_t info_len,
                             const sp_key *skE,
                             uint8_t enc[SP_HPKE_ENC_LEN],
                             sp_hpke_ctx *ctx);

/* SetupBaseR(enc, skR, info): the recipient context. */
sp_err sp_hpke_setup_base_r (const sp_crypto_port *port,
                             const uint8_t enc[SP_HPKE_ENC_LEN],
                             const sp_key *skR,
                             const uint8_t *info, size_t info_len,
                             sp_hpke_ctx *ctx);

/* ContextS.Seal: writes pt_len + SP_HPKE_TAG_LEN bytes to ct and advances
 * the sequence number. SP_ERR_INVALID_ARG once the sequence number is
 * exhausted (the context must then be discarded). */
sp_err sp_hpke_seal (sp_hpke_ctx *ctx,
                     const uint8_t *aad, size_t aad_len,
                     const uint8_t *pt, size_t pt_len,
                     uint8_t *ct);

/* ContextR.Open: writes ct_len - SP_HPKE_TAG_LEN bytes to pt and advances
 * the sequence number on success only. SP_ERR_AUTH if ct does not
 * authenticate (including ct_len < SP_HPKE_TAG_LEN). */
sp_err sp_hpke_open (sp_hpke_ctx *ctx,
                     const uint8_t *aad, size_t aad_len,
                     const uint8_t *ct, size_t ct_len,
                     uint8_t *pt);

/* Context.Export(exporter_context, L), 1 <= L <= SP_HPKE_EXPORT_MAX. */
sp_err sp_hpke_export (const sp_hpke_ctx *ctx,
                       const uint8_t *exporter_context, size_t context_len,
                       uint8_t *out, size_t out_len);

/* Wipe a context (safe on a zeroed or already wiped one). */
void sp_hpke_ctx_wipe (sp_hpke_ctx *ctx);

/* Single-shot SealBase (RFC 9180 §6.1): enc plus pt_len + SP_HPKE_TAG_LEN
 * bytes of ct, with a fresh ephemeral key. */
sp_err sp_hpke_seal_base (const sp_crypto_port *port,
                          const uint8_t pkR[SP_P256_PUB_LEN],
                          const uint8_t *info, size_t info_len,
                          const uint8_t *aad, size_t aad_len,
                          const uint8_t *pt, size_t pt_len,
                          uint8_t enc[SP_HPKE_ENC_LEN],
                          uint8_t *ct);

/* Single-shot OpenBase: ct_len - SP_HPKE_TAG_LEN bytes of pt. SP_ERR_KEY
 * for an enc that is not a valid point, SP_ERR_AUTH for anything that does
 * not authenticate. */
sp_err sp_hpke_open_base (const sp_crypto_port *port,
                          const uint8_t enc[SP_HPKE_ENC_LEN],
                          const sp_key *skR,
                          const uint8_t *info, size_t info_len,
                          const uint8_t *aad, size_t aad_len,
                          const uint8_t *ct, size_t ct_len,
                          uint8_t *pt);

#endif /* SP_HPKE_H */
