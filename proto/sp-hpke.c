/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "sp-hpke.h"

#include <string.h>

#include "sp-hkdf.h"

/* "KEM" || I2OSP(kem_id, 2) */
const uint8_t sp_hpke_kem_suite_id[SP_HPKE_KEM_SUITE_ID_LEN] = {
  'K', 'E', 'M', 0x00, 0x10,
};

/* "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2) */
const uint8_t sp_hpke_suite_id[SP_HPKE_SUITE_ID_LEN] = {
  'H', 'P', 'K', 'E', 0x00, 0x10, 0x00, 0x01, 0x00, 0x01,
};

static const char hpke_version[] = "HPKE-v1";

/* The order n of the P-256 group, big-endian. */
static const uint8_t p256_order[SP_P256_SCALAR_LEN] = {
  0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
  0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

sp_err
sp_hpke_labeled_extract (const sp_crypto_port *port,
                         const uint8_t *suite_id, size_t suite_id_len,
                         const uint8_t *salt, size_t salt_len,
                         const char *label,
                         const sp_iovec *ikm, size_t ikm_n,
                         uint8_t prk[SP_SHA256_LEN])
{
  sp_iovec iov[3 + SP_HPKE_MAX_IOV];
  size_t i;

  if (suite_id == NULL || label == NULL || ikm_n > SP_HPKE_MAX_IOV
      || (ikm == NULL && ikm_n > 0))
    return SP_ERR_INVALID_ARG;

  iov[0].base = hpke_version;
  iov[0].len = sizeof hpke_version - 1;
  iov[1].base = suite_id;
  iov[1].len = suite_id_len;
  iov[2].base = label;
  iov[2].len = strlen (label);
  for (i = 0; i < ikm_n; i++)
    iov[3 + i] = ikm[i];

  return sp_hkdf_sha256_extract (port, salt, salt_len, iov, 3 + ikm_n, prk);
}

sp_err
sp_hpke_labeled_expand (const sp_crypto_port *port,
                        const uint8_t *suite_id, size_t suite_id_len,
                        const uint8_t prk[SP_SHA256_LEN],
                        const char *label,
                        const sp_iovec *info, size_t info_n,
                        uint8_t *out, size_t out_len)
{
  sp_iovec iov[4 + SP_HPKE_MAX_IOV];
  uint8_t length[2];
  size_t i;

  if (suite_id == NULL || label == NULL || info_n > SP_HPKE_MAX_IOV
      || (info == NULL && info_n > 0)
      || out_len == 0 || out_len > SP_HPKE_EXPORT_MAX)
    return SP_ERR_INVALID_ARG;

  length[0] = (uint8_t) (out_len >> 8);
  length[1] = (uint8_t) out_len;
  iov[0].base = length;
  iov[0].len = sizeof length;
  iov[1].base = hpke_version;
  iov[1].len = sizeof hpke_version - 1;
  iov[2].base = suite_id;
  iov[2].len = suite_id_len;
  iov[3].base = label;
  iov[3].len = strlen (label);
  for (i = 0; i < info_n; i++)
    iov[4 + i] = info[i];

  return sp_hkdf_sha256_expand (port, prk, SP_SHA256_LEN, iov, 4 + info_n,
                                out, out_len);
}

/* 1 if 0 < s < n, in constant time: a candidate scalar is secret whether
 * it is kept or rejected. */
static int
scalar_in_range (const uint8_t s[SP_P256_SCALAR_LEN])
{
  unsigned int borrow = 0;
  unsigned int acc = 0;
  int i;

  for (i = SP_P256_SCALAR_LEN - 1; i >= 0; i--)
    {
      unsigned int diff = (unsigned int) s[i] - (unsigned int) p256_order[i]
                          - borrow;

      borrow = (diff >> 8) & 1u;
      acc |= s[i];
    }
  return (int) (borrow & ((acc + 0xffu) >> 8));
}

sp_err
sp_hpke_derive_key_pair (const sp_crypto_port *port,
                         const uint8_t *ikm, size_t ikm_len,
                         sp_key **out)
{
  uint8_t dkp_prk[SP_SHA256_LEN];
  uint8_t sk[SP_P256_SCALAR_LEN];
  sp_iovec ikm_iov;
  sp_iovec info_iov;
  unsigned int counter;
  uint8_t counter_byte;
  sp_err err;

  if (port == NULL || out == NULL || (ikm == NULL && ikm_len > 0))
    return SP_ERR_INVALID_ARG;

  ikm_iov.base = ikm;
  ikm_iov.len = ikm_len;
  err = sp_hpke_labeled_extract (port, sp_hpke_kem_suite_id,
                                 sizeof sp_hpke_kem_suite_id, NULL, 0,
                                 "dkp_prk", &ikm_iov, 1, dkp_prk);
  if (err != SP_OK)
    goto out;

  /* A candidate is rejected with probability about 2^-32, so 256 tries
   * failing means the port is broken, not bad luck. */
  err = SP_ERR_CRYPTO;
  for (counter = 0; counter <= 255; counter++)
    {
      counter_byte = (uint8_t) counter;
      info_iov.base = &counter_byte;
      info_iov.len = 1;
      err = sp_hpke_labeled_expand (port, sp_hpke_kem_suite_id,
                                    sizeof sp_hpke_kem_suite_id, dkp_prk,
                                    "candidate", &info_iov, 1, sk, sizeof sk);
      if (err != SP_OK)
        break;
      sk[0] &= 0xff; /* the P-256 bitmask: every bit of the top byte counts */
      if (scalar_in_range (sk))
        {
          err = port->p256_import_private (port->ctx, sk, out);
          break;
        }
      err = SP_ERR_CRYPTO;
    }

out:
  sp_wipe (dkp_prk, sizeof dkp_prk);
  sp_wipe (sk, sizeof sk);
  return err;
}

/* ExtractAndExpand(dh, kem_context) with kem_context = enc || pkRm given
 * as two pieces. */
static sp_err
extract_and_expand (const sp_crypto_port *port,
                    const uint8_t dh[SP_ECDH_P256_LEN],
                    const uint8_t enc[SP_HPKE_ENC_LEN],
                    const uint8_t pkRm[SP_P256_PUB_LEN],
                    uint8_t shared_secret[SP_HPKE_SECRET_LEN])
{
  uint8_t eae_prk[SP_SHA256_LEN];
  sp_iovec dh_iov;
  sp_iovec kem_context[2];
  sp_err err;

  dh_iov.base = dh;
  dh_iov.len = SP_ECDH_P256_LEN;
  kem_context[0].base = enc;
  kem_context[0].len = SP_HPKE_ENC_LEN;
  kem_context[1].base = pkRm;
  kem_context[1].len = SP_P256_PUB_LEN;

  err = sp_hpke_labeled_extract (port, sp_hpke_kem_suite_id,
                                 sizeof sp_hpke_kem_suite_id, NULL, 0,
                                 "eae_prk", &dh_iov, 1, eae_prk);
  if (err == SP_OK)
    err = sp_hpke_labeled_expand (port, sp_hpke_kem_suite_id,
                                  sizeof sp_hpke_kem_suite_id, eae_prk,
                                  "shared_secret", kem_context, 2,
                                  shared_secret, SP_HPKE_SECRET_LEN);
  sp_wipe (eae_prk, sizeof eae_prk);
  return err;
}

sp_err
sp_hpke_encap (const sp_crypto_port *port,
               const uint8_t pkR[SP_P256_PUB_LEN],
               const sp_key *skE,
               uint8_t shared_secret[SP_HPKE_SECRET_LEN],
               uint8_t enc[SP_HPKE_ENC_LEN])
{
  sp_key *generated = NULL;
  uint8_t dh[SP_ECDH_P256_LEN];
  uint8_t pkE[SP_P256_PUB_LEN];
  uint8_t secret[SP_HPKE_SECRET_LEN];
  sp_err err;

  if (port == NULL || pkR == NULL || shared_secret == NULL || enc == NULL)
    return SP_ERR_INVALID_ARG;

  if (skE == NULL)
    {
      if (port->p256_generate == NULL)
        return SP_ERR_INVALID_ARG;
      err = port->p256_generate (port->ctx, &generated);
      if (err != SP_OK)
        return err;
      skE = generated;
    }

  err = port->ecdh_p256 (port->ctx, skE, pkR, dh);
  if (err == SP_OK)
    err = port->p256_public (port->ctx, skE, pkE);
  if (err == SP_OK)
    err = extract_and_expand (port, dh, pkE, pkR, secret);
  if (err == SP_OK)
    {
      memcpy (shared_secret, secret, sizeof secret);
      memcpy (enc, pkE, sizeof pkE);
    }

  sp_wipe (dh, sizeof dh);
  sp_wipe (secret, sizeof secret);
  if (generated != NULL)
    port->key_free (port->ctx, generated);
  return err;
}

sp_err
sp_hpke_decap (const sp_crypto_port *port,
               const uint8_t enc[SP_HPKE_ENC_LEN],
               const sp_key *skR,
               uint8_t shared_secret[SP_HPKE_SECRET_LEN])
{
  uint8_t dh[SP_ECDH_P256_LEN];
  uint8_t pkRm[SP_P256_PUB_LEN];
  uint8_t secret[SP_HPKE_SECRET_LEN];
  sp_err err;

  if (port == NULL || enc == NULL || skR == NULL || shared_secret == NULL)
    return SP_ERR_INVALID_ARG;

  /* the port refuses an enc that is not a point on the curve (SP_ERR_KEY),
   * which also rules out the small-subgroup and invalid-curve attacks */
  err = port->ecdh_p256 (port->ctx, skR, enc, dh);
  if (err == SP_OK)
    err = port->p256_public (port->ctx, skR, pkRm);
  if (err == SP_OK)
    err = extract_and_expand (port, dh, enc, pkRm, secret);
  if (err == SP_OK)
    memcpy (shared_secret, secret, sizeof secret);

  sp_wipe (dh, sizeof dh);
  sp_wipe (secret, sizeof secret);
  return err;
}

sp_err
sp_hpke_key_schedule (const sp_crypto_port *port,
                      const uint8_t shared_secret[SP_HPKE_SECRET_LEN],
                      const uint8_t *info, size_t info_len,
                      sp_hpke_ctx *ctx)
{
  static const uint8_t mode_base = 0x00;
  uint8_t psk_id_hash[SP_SHA256_LEN];
  uint8_t info_hash[SP_SHA256_LEN];
  uint8_t secret[SP_SHA256_LEN];
  sp_hpke_ctx tmp;
  sp_iovec info_iov;
  sp_iovec ksc[3];
  sp_err err;

  if (port == NULL || shared_secret == NULL || ctx == NULL
      || (info == NULL && info_len > 0))
    return SP_ERR_INVALID_ARG;

  memset (&tmp, 0, sizeof tmp);
  tmp.port = port;
  info_iov.base = info;
  info_iov.len = info_len;

  /* psk_id and psk are empty in base mode: a zero-piece gather list */
  err = sp_hpke_labeled_extract (port, sp_hpke_suite_id,
                                 sizeof sp_hpke_suite_id, NULL, 0,
                                 "psk_id_hash", NULL, 0, psk_id_hash);
  if (err == SP_OK)
    err = sp_hpke_labeled_extract (port, sp_hpke_suite_id,
                                   sizeof sp_hpke_suite_id, NULL, 0,
                                   "info_hash", &info_iov, 1, info_hash);
  if (err == SP_OK)
    err = sp_hpke_labeled_extract (port, sp_hpke_suite_id,
                                   sizeof sp_hpke_suite_id, shared_secret,
                                   SP_HPKE_SECRET_LEN, "secret", NULL, 0,
                                   secret);
  if (err != SP_OK)
    goto out;

  /* key_schedule_context = mode || psk_id_hash || info_hash */
  ksc[0].base = &mode_base;
  ksc[0].len = 1;
  ksc[1].base = psk_id_hash;
  ksc[1].len = sizeof psk_id_hash;
  ksc[2].base = info_hash;
  ksc[2].len = sizeof info_hash;

  err = sp_hpke_labeled_expand (port, sp_hpke_suite_id,
                                sizeof sp_hpke_suite_id, secret, "key",
                                ksc, 3, tmp.key, sizeof tmp.key);
  if (err == SP_OK)
    err = sp_hpke_labeled_expand (port, sp_hpke_suite_id,
                                  sizeof sp_hpke_suite_id, secret,
                                  "base_nonce", ksc, 3, tmp.base_nonce,
                                  sizeof tmp.base_nonce);
  if (err == SP_OK)
    err = sp_hpke_labeled_expand (port, sp_hpke_suite_id,
                                  sizeof sp_hpke_suite_id, secret, "exp",
                                  ksc, 3, tmp.exporter_secret,
                                  sizeof tmp.exporter_secret);
  if (err == SP_OK)
    memcpy (ctx, &tmp, sizeof tmp);

out:
  sp_wipe (secret, sizeof secret);
  sp_wipe (&tmp, sizeof tmp);
  return err;
}

sp_err
sp_hpke_setup_base_s (const sp_crypto_port *port,
                      const uint8_t pkR[SP_P256_PUB_LEN],
                      const uint8_t *info, size_t info_len,
                      const sp_key *skE,
                      uint8_t enc[SP_HPKE_ENC_LEN],
                      sp_hpke_ctx *ctx)
{
  uint8_t shared_secret[SP_HPKE_SECRET_LEN];
  uint8_t e[SP_HPKE_ENC_LEN];
  sp_err err;

  if (enc == NULL || ctx == NULL)
    return SP_ERR_INVALID_ARG;

  err = sp_hpke_encap (port, pkR, skE, shared_secret, e);
  if (err == SP_OK)
    err = sp_hpke_key_schedule (port, shared_secret, info, info_len, ctx);
  if (err == SP_OK)
    memcpy (enc, e, sizeof e);
  sp_wipe (shared_secret, sizeof shared_secret);
  return err;
}

sp_err
sp_hpke_setup_base_r (const sp_crypto_port *port,
                      const uint8_t enc[SP_HPKE_ENC_LEN],
                      const sp_key *skR,
                      const uint8_t *info, size_t info_len,
                      sp_hpke_ctx *ctx)
{
  uint8_t shared_secret[SP_HPKE_SECRET_LEN];
  sp_err err;

  if (ctx == NULL)
    return SP_ERR_INVALID_ARG;

  err = sp_hpke_decap (port, enc, skR, shared_secret);
  if (err == SP_OK)
    err = sp_hpke_key_schedule (port, shared_secret, info, info_len, ctx);
  sp_wipe (shared_secret, sizeof shared_secret);
  return err;
}

/* base_nonce XOR I2OSP(seq, Nn) */
static void
compute_nonce (const sp_hpke_ctx *ctx,
               uint8_t nonce[SP_HPKE_NONCE_LEN])
{
  uint64_t seq = ctx->seq;
  int i;

  memcpy (nonce, ctx->base_nonce, SP_HPKE_NONCE_LEN);
  for (i = SP_HPKE_NONCE_LEN - 1; i >= SP_HPKE_NONCE_LEN - 8; i--)
    {
      nonce[i] ^= (uint8_t) seq;
      seq >>= 8;
    }
}

sp_err
sp_hpke_seal (sp_hpke_ctx *ctx,
              const uint8_t *aad, size_t aad_len,
              const uint8_t *pt, size_t pt_len,
              uint8_t *ct)
{
  uint8_t nonce[SP_HPKE_NONCE_LEN];
  sp_err err;

  if (ctx == NULL || ctx->port == NULL || ct == NULL
      || (aad == NULL && aad_len > 0) || (pt == NULL && pt_len > 0))
    return SP_ERR_INVALID_ARG;
  /* A nonce must never repeat under one key: refuse rather than wrap. */
  if (ctx->seq == UINT64_MAX)
    return SP_ERR_INVALID_ARG;

  compute_nonce (ctx, nonce);
  err = ctx->port->aead_seal (ctx->port->ctx, SP_AEAD_AES_128_GCM, ctx->key,
                              nonce, aad, aad_len, pt, pt_len, ct);
  if (err == SP_OK)
    ctx->seq++;
  return err;
}

sp_err
sp_hpke_open (sp_hpke_ctx *ctx,
              const uint8_t *aad, size_t aad_len,
              const uint8_t *ct, size_t ct_len,
              uint8_t *pt)
{
  uint8_t nonce[SP_HPKE_NONCE_LEN];
  sp_err err;

  if (ctx == NULL || ctx->port == NULL || (ct == NULL && ct_len > 0)
      || (aad == NULL && aad_len > 0)
      || (pt == NULL && ct_len > SP_HPKE_TAG_LEN))
    return SP_ERR_INVALID_ARG;
  if (ct_len < SP_HPKE_TAG_LEN)
    return SP_ERR_AUTH;
  if (ctx->seq == UINT64_MAX)
    return SP_ERR_INVALID_ARG;

  compute_nonce (ctx, nonce);
  err = ctx->port->aead_open (ctx->port->ctx, SP_AEAD_AES_128_GCM, ctx->key,
                              nonce, aad, aad_len, ct, ct_len, pt);
  if (err == SP_OK)
    ctx->seq++;
  return err;
}

sp_err
sp_hpke_export (const sp_hpke_ctx *ctx,
                const uint8_t *exporter_context, size_t context_len,
                uint8_t *out, size_t out_len)
{
  sp_iovec iov;

  if (ctx == NULL || ctx->port == NULL || out == NULL
      || (exporter_context == NULL && context_len > 0))
    return SP_ERR_INVALID_ARG;

  iov.base = exporter_context;
  iov.len = context_len;
  return sp_hpke_labeled_expand (ctx->port, sp_hpke_suite_id,
                                 sizeof sp_hpke_suite_id,
                                 ctx->exporter_secret, "sec", &iov, 1,
                                 out, out_len);
}

void
sp_hpke_ctx_wipe (sp_hpke_ctx *ctx)
{
  if (ctx != NULL)
    sp_wipe (ctx, sizeof *ctx);
}

sp_err
sp_hpke_seal_base (const sp_crypto_port *port,
                   const uint8_t pkR[SP_P256_PUB_LEN],
                   const uint8_t *info, size_t info_len,
                   const uint8_t *aad, size_t aad_len,
                   const uint8_t *pt, size_t pt_len,
                   uint8_t enc[SP_HPKE_ENC_LEN],
                   uint8_t *ct)
{
  sp_hpke_ctx ctx;
  uint8_t e[SP_HPKE_ENC_LEN];
  sp_err err;

  memset (&ctx, 0, sizeof ctx);
  err = sp_hpke_setup_base_s (port, pkR, info, info_len, NULL, e, &ctx);
  if (err == SP_OK)
    err = sp_hpke_seal (&ctx, aad, aad_len, pt, pt_len, ct);
  if (err == SP_OK)
    memcpy (enc, e, sizeof e);
  sp_hpke_ctx_wipe (&ctx);
  return err;
}

sp_err
sp_hpke_open_base (const sp_crypto_port *port,
                   const uint8_t enc[SP_HPKE_ENC_LEN],
                   const sp_key *skR,
                   const uint8_t *info, size_t info_len,
                   const uint8_t *aad, size_t aad_len,
                   const uint8_t *ct, size_t ct_len,
                   uint8_t *pt)
{
  sp_hpke_ctx ctx;
  sp_err err;

  memset (&ctx, 0, sizeof ctx);
  err = sp_hpke_setup_base_r (port, enc, skR, info, info_len, &ctx);
  if (err == SP_OK)
    err = sp_hpke_open (&ctx, aad, aad_len, ct, ct_len, pt);
  sp_hpke_ctx_wipe (&ctx);
  return err;
}
