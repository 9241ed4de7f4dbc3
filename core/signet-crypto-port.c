/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-crypto-port.c: proto's crypto port (sp-crypto-port.h) on OpenSSL 3.
 *
 * Every entry is self-contained: it makes its own OpenSSL contexts, so the
 * port is safe to call from any thread and holds no mutable state. Each
 * entry also brackets its work with ERR_set_mark()/ERR_pop_to_mark(): the
 * port reports failures as sp_err, and an expected failure (a bad
 * signature, a bad tag) must not leave stale entries on the thread's
 * OpenSSL error queue for an unrelated caller to pick up later.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-secret.h"

struct sp_key {
  EVP_PKEY *pkey;
};

/* The order n of the P-256 group, big-endian (SEC 2, secp256r1). */
static const guint8 p256_order[SP_P256_SCALAR_LEN] = {
  0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
  0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84,
  0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* TRUE if 0 < s < n. Runs in constant time, because s may be a private
 * scalar: a borrow-propagating subtraction s - n tells s < n without a
 * data-dependent branch. */
static gboolean
scalar_in_range (const guint8 s[SP_P256_SCALAR_LEN])
{
  guint borrow = 0;
  guint8 acc = 0;
  int i;

  for (i = SP_P256_SCALAR_LEN - 1; i >= 0; i--)
    {
      guint diff = (guint) s[i] - (guint) p256_order[i] - borrow;

      borrow = (diff >> 8) & 1;
      acc |= s[i];
    }
  /* borrow == 1 <=> s < n; acc != 0 <=> s != 0 */
  return (borrow & (guint) (((guint) acc + 0xff) >> 8)) == 1;
}

/* A P-256 public key from 65 uncompressed bytes, or NULL (and
 * *err = SP_ERR_KEY) if the bytes are not a point on the curve. */
static EVP_PKEY *
import_public (const uint8_t pub[SP_P256_PUB_LEN],
               sp_err       *err)
{
  g_autoptr(OSSL_PARAM_BLD) bld = NULL;
  g_autoptr(OSSL_PARAM) params = NULL;
  g_autoptr(EVP_PKEY_CTX) ctx = NULL;
  g_autoptr(EVP_PKEY_CTX) check = NULL;
  g_autoptr(EVP_PKEY) pkey = NULL;

  *err = SP_ERR_CRYPTO;
  /* Only the uncompressed form: 0x02/0x03 (compressed) and 0x06/0x07
   * (hybrid) are not what the protocol carries. */
  if (pub[0] != 0x04)
    {
      *err = SP_ERR_KEY;
      return NULL;
    }

  bld = OSSL_PARAM_BLD_new ();
  if (bld == NULL
      || !OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           "prime256v1", 0)
      || !OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            pub, SP_P256_PUB_LEN))
    return NULL;
  params = OSSL_PARAM_BLD_to_param (bld);
  ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init (ctx) <= 0)
    return NULL;

  /* fromdata decodes the point with EC_POINT_oct2point, which refuses
   * points off the curve; the explicit check below also refuses the point
   * at infinity, so the port does not depend on the decoder's strictness.
   * The quick check (on the curve, not infinity) is the complete check
   * for P-256: its cofactor is 1, so every such point has order n. The
   * full EVP_PKEY_public_check adds an n·Q scalar multiplication that
   * halved the verification rate (bench-proto). */
  if (EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    {
      *err = SP_ERR_KEY;
      return NULL;
    }
  check = EVP_PKEY_CTX_new_from_pkey (NULL, pkey, NULL);
  if (check == NULL)
    return NULL;
  if (EVP_PKEY_public_check_quick (check) != 1)
    {
      *err = SP_ERR_KEY;
      return NULL;
    }

  *err = SP_OK;
  return g_steal_pointer (&pkey);
}

static sp_err
port_sha256 (void           *ctx,
             const sp_iovec *iov,
             size_t          n,
             uint8_t         out[SP_SHA256_LEN])
{
  g_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new ();
  guint8 digest[SP_SHA256_LEN];
  unsigned int len = 0;
  sp_err ret = SP_ERR_CRYPTO;
  size_t i;

  ERR_set_mark ();
  if (md == NULL || !EVP_DigestInit_ex2 (md, EVP_sha256 (), NULL))
    goto out;
  for (i = 0; i < n; i++)
    if (iov[i].len > 0 && !EVP_DigestUpdate (md, iov[i].base, iov[i].len))
      goto out;
  if (!EVP_DigestFinal_ex (md, digest, &len) || len != SP_SHA256_LEN)
    goto out;

  memcpy (out, digest, SP_SHA256_LEN);
  ret = SP_OK;

out:
  ERR_pop_to_mark ();
  return ret;
}

static sp_err
port_hmac_sha256 (void           *ctx,
                  const uint8_t  *key,
                  size_t          key_len,
                  const sp_iovec *iov,
                  size_t          n,
                  uint8_t         out[SP_SHA256_LEN])
{
  static const guint8 empty_key[1] = { 0 };
  g_autoptr(EVP_MAC) mac = NULL;
  g_autoptr(EVP_MAC_CTX) mctx = NULL;
  OSSL_PARAM params[2];
  guint8 tag[SP_SHA256_LEN];
  size_t len = 0;
  sp_err ret = SP_ERR_CRYPTO;
  size_t i;

  ERR_set_mark ();
  mac = EVP_MAC_fetch (NULL, "HMAC", NULL);
  mctx = mac != NULL ? EVP_MAC_CTX_new (mac) : NULL;
  if (mctx == NULL)
    goto out;

  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST,
                                                (char *) "SHA256", 0);
  params[1] = OSSL_PARAM_construct_end ();
  /* An empty HMAC key is legal (HKDF-Extract with an empty salt uses a
   * zero-filled key, which HMAC pads to the same thing), but OpenSSL wants
   * a non-NULL pointer for it. */
  if (!EVP_MAC_init (mctx, key_len > 0 ? key : empty_key, key_len, params))
    goto out;
  for (i = 0; i < n; i++)
    if (iov[i].len > 0 && !EVP_MAC_update (mctx, iov[i].base, iov[i].len))
      goto out;
  if (!EVP_MAC_final (mctx, tag, &len, sizeof tag) || len != SP_SHA256_LEN)
    goto out;

  memcpy (out, tag, SP_SHA256_LEN);
  ret = SP_OK;

out:
  /* The tag is often a key (HKDF's PRK and OKM). */
  signet_secret_wipe (tag, sizeof tag);
  ERR_pop_to_mark ();
  return ret;
}

static sp_err
port_ecdsa_p256_sign (void          *ctx,
                      const sp_key  *key,
                      const uint8_t  digest[SP_SHA256_LEN],
                      uint8_t        sig[SP_P256_SIG_LEN])
{
  g_autoptr(EVP_PKEY_CTX) pctx = NULL;
  g_autoptr(ECDSA_SIG) esig = NULL;
  const BIGNUM *r = NULL;
  const BIGNUM *s = NULL;
  guint8 der[80]; /* a P-256 DER signature is at most 72 bytes */
  guint8 raw[SP_P256_SIG_LEN];
  const unsigned char *p = der;
  size_t der_len = sizeof der;
  sp_err ret = SP_ERR_CRYPTO;

  if (key == NULL || key->pkey == NULL)
    return SP_ERR_INVALID_ARG;

  ERR_set_mark ();
  pctx = EVP_PKEY_CTX_new_from_pkey (NULL, key->pkey, NULL);
  if (pctx == NULL
      || EVP_PKEY_sign_init (pctx) <= 0
      || EVP_PKEY_CTX_set_signature_md (pctx, EVP_sha256 ()) <= 0
      || EVP_PKEY_sign (pctx, der, &der_len, digest, SP_SHA256_LEN) <= 0)
    goto out;

  esig = d2i_ECDSA_SIG (NULL, &p, (long) der_len);
  if (esig == NULL || p != der + der_len)
    goto out;
  ECDSA_SIG_get0 (esig, &r, &s);
  if (BN_bn2binpad (r, raw, 32) != 32 || BN_bn2binpad (s, raw + 32, 32) != 32)
    goto out;

  memcpy (sig, raw, SP_P256_SIG_LEN);
  ret = SP_OK;

out:
  ERR_pop_to_mark ();
  return ret;
}

static sp_err
port_ecdsa_p256_verify (void          *ctx,
                        const uint8_t  pub[SP_P256_PUB_LEN],
                        const uint8_t  digest[SP_SHA256_LEN],
                        const uint8_t  sig[SP_P256_SIG_LEN])
{
  g_autoptr(EVP_PKEY) pkey = NULL;
  g_autoptr(EVP_PKEY_CTX) pctx = NULL;
  g_autoptr(ECDSA_SIG) esig = NULL;
  BIGNUM *r = NULL;
  BIGNUM *s = NULL;
  unsigned char *der = NULL;
  int der_len;
  int rc;
  sp_err ret = SP_ERR_CRYPTO;

  ERR_set_mark ();
  pkey = import_public (pub, &ret);
  if (pkey == NULL)
    goto out;
  ret = SP_ERR_CRYPTO;

  /* OpenSSL checks 0 < r, s < n too, but says so only as a generic
   * failure; checking here makes "out of range" a plain bad signature
   * whatever the provider does. r and s are public. */
  if (!scalar_in_range (sig) || !scalar_in_range (sig + 32))
    {
      ret = SP_ERR_BAD_SIGNATURE;
      goto out;
    }

  esig = ECDSA_SIG_new ();
  r = BN_bin2bn (sig, 32, NULL);
  s = BN_bin2bn (sig + 32, 32, NULL);
  if (esig == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0 (esig, r, s))
    {
      BN_free (r);
      BN_free (s);
      goto out;
    }
  /* esig owns r and s now */
  der_len = i2d_ECDSA_SIG (esig, &der);
  if (der_len <= 0)
    goto out;

  pctx = EVP_PKEY_CTX_new_from_pkey (NULL, pkey, NULL);
  if (pctx == NULL
      || EVP_PKEY_verify_init (pctx) <= 0
      || EVP_PKEY_CTX_set_signature_md (pctx, EVP_sha256 ()) <= 0)
    goto out;
  rc = EVP_PKEY_verify (pctx, der, (size_t) der_len, digest, SP_SHA256_LEN);
  /* 1: valid; 0: invalid; < 0: the provider refused the signature, which
   * with a well-formed key and DER we built ourselves also means "does
   * not verify". */
  ret = rc == 1 ? SP_OK : SP_ERR_BAD_SIGNATURE;

out:
  OPENSSL_free (der);
  ERR_pop_to_mark ();
  return ret;
}

static sp_err
port_ecdh_p256 (void          *ctx,
                const sp_key  *priv,
                const uint8_t  peer_pub[SP_P256_PUB_LEN],
                uint8_t        shared[SP_ECDH_P256_LEN])
{
  g_autoptr(EVP_PKEY) peer = NULL;
  g_autoptr(EVP_PKEY_CTX) pctx = NULL;
  guint8 secret[SP_ECDH_P256_LEN];
  size_t len = sizeof secret;
  sp_err ret = SP_ERR_CRYPTO;

  if (priv == NULL || priv->pkey == NULL)
    return SP_ERR_INVALID_ARG;

  ERR_set_mark ();
  peer = import_public (peer_pub, &ret);
  if (peer == NULL)
    goto out;
  ret = SP_ERR_CRYPTO;

  pctx = EVP_PKEY_CTX_new_from_pkey (NULL, priv->pkey, NULL);
  if (pctx == NULL
      || EVP_PKEY_derive_init (pctx) <= 0
      || EVP_PKEY_derive_set_peer_ex (pctx, peer, 1) <= 0
      || EVP_PKEY_derive (pctx, secret, &len) <= 0
      || len != SP_ECDH_P256_LEN)
    goto out;

  memcpy (shared, secret, SP_ECDH_P256_LEN);
  ret = SP_OK;

out:
  signet_secret_wipe (secret, sizeof secret);
  ERR_pop_to_mark ();
  return ret;
}

static sp_err
port_p256_generate (void    *ctx,
                    sp_key **out)
{
  EVP_PKEY *pkey;

  ERR_set_mark ();
  pkey = EVP_EC_gen ("P-256");
  ERR_pop_to_mark ();
  if (pkey == NULL)
    return SP_ERR_CRYPTO;

  *out = g_new0 (sp_key, 1);
  (*out)->pkey = pkey;
  return SP_OK;
}

static sp_err
port_p256_import_private (void          *ctx,
                          const uint8_t  d[SP_P256_SCALAR_LEN],
                          sp_key       **out)
{
  g_autoptr(EC_GROUP) group = NULL;
  g_autoptr(EC_POINT) point = NULL;
  g_autoptr(BN_CTX) bnctx = NULL;
  g_autoptr(BIGNUM) priv = NULL;
  g_autoptr(OSSL_PARAM_BLD) bld = NULL;
  g_autoptr(OSSL_PARAM) params = NULL;
  g_autoptr(EVP_PKEY_CTX) pctx = NULL;
  EVP_PKEY *pkey = NULL;
  guint8 pub[SP_P256_PUB_LEN];
  sp_err ret = SP_ERR_CRYPTO;

  if (!scalar_in_range (d))
    return SP_ERR_KEY;

  ERR_set_mark ();
  /* OpenSSL 3.0 does not derive the public point when a key is imported
   * from its private scalar alone, and p256_public must work on every
   * handle: compute Q = d·G here (EC_POINT_mul with a secret scalar uses
   * OpenSSL's constant-time ladder). */
  group = EC_GROUP_new_by_curve_name (NID_X9_62_prime256v1);
  bnctx = BN_CTX_secure_new ();
  priv = BN_secure_new ();
  if (group == NULL || bnctx == NULL || priv == NULL
      || BN_bin2bn (d, SP_P256_SCALAR_LEN, priv) == NULL)
    goto out;
  BN_set_flags (priv, BN_FLG_CONSTTIME);
  point = EC_POINT_new (group);
  if (point == NULL
      || !EC_POINT_mul (group, point, priv, NULL, NULL, bnctx)
      || EC_POINT_point2oct (group, point, POINT_CONVERSION_UNCOMPRESSED,
                             pub, sizeof pub, bnctx) != sizeof pub)
    goto out;

  bld = OSSL_PARAM_BLD_new ();
  if (bld == NULL
      || !OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           "prime256v1", 0)
      || !OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_PRIV_KEY, priv)
      || !OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            pub, sizeof pub))
    goto out;
  /* params from a secure BIGNUM live in secure memory and are cleared
   * by OSSL_PARAM_free */
  params = OSSL_PARAM_BLD_to_param (bld);
  pctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  if (params == NULL || pctx == NULL
      || EVP_PKEY_fromdata_init (pctx) <= 0
      || EVP_PKEY_fromdata (pctx, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
    goto out;

  *out = g_new0 (sp_key, 1);
  (*out)->pkey = pkey;
  ret = SP_OK;

out:
  ERR_pop_to_mark ();
  return ret;
}

/* TRUE if pkey is an EC key on P-256. */
static gboolean
pkey_is_p256 (EVP_PKEY *pkey)
{
  char group[32];
  size_t len = 0;

  return EVP_PKEY_is_a (pkey, "EC")
         && EVP_PKEY_get_utf8_string_param (pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof group, &len)
         && strcmp (group, "prime256v1") == 0;
}

static sp_err
port_p256_public (void          *ctx,
                  const sp_key  *key,
                  uint8_t        pub[SP_P256_PUB_LEN])
{
  g_autoptr(BIGNUM) x = NULL;
  g_autoptr(BIGNUM) y = NULL;
  guint8 buf[SP_P256_PUB_LEN];
  sp_err ret = SP_ERR_CRYPTO;

  if (key == NULL || key->pkey == NULL)
    return SP_ERR_INVALID_ARG;

  ERR_set_mark ();
  /* The affine coordinates rather than OSSL_PKEY_PARAM_PUB_KEY: the
   * latter follows the key's point conversion format, which is compressed
   * for a key that was decoded from a compressed SPKI. */
  if (!pkey_is_p256 (key->pkey))
    ret = SP_ERR_KEY;
  else if (EVP_PKEY_get_bn_param (key->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x)
           && EVP_PKEY_get_bn_param (key->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y)
           && BN_bn2binpad (x, buf + 1, 32) == 32
           && BN_bn2binpad (y, buf + 33, 32) == 32)
    {
      buf[0] = 0x04;
      memcpy (pub, buf, SP_P256_PUB_LEN);
      ret = SP_OK;
    }
  ERR_pop_to_mark ();
  return ret;
}

static void
port_key_free (void   *ctx,
               sp_key *key)
{
  if (key == NULL)
    return;
  /* EVP_PKEY_free clears the private scalar (BN_clear_free) */
  EVP_PKEY_free (key->pkey);
  g_free (key);
}

static const EVP_CIPHER *
aead_cipher (sp_aead_alg alg)
{
  switch (alg)
    {
    case SP_AEAD_AES_128_GCM:
      return EVP_aes_128_gcm ();
    case SP_AEAD_AES_256_GCM:
      return EVP_aes_256_gcm ();
    default:
      return NULL;
    }
}

/* Shared by seal and open: one AES-GCM pass over in[0..len) into out
 * (caller-owned scratch, never the caller's output), with aad first. */
static gboolean
aead_crypt (EVP_CIPHER_CTX *cctx,
            const uint8_t  *aad,
            size_t          aad_len,
            const uint8_t  *in,
            size_t          len,
            uint8_t        *out)
{
  int outl = 0;

  if (aad_len > 0 && !EVP_CipherUpdate (cctx, NULL, &outl, aad, (int) aad_len))
    return FALSE;
  if (len > 0 && (!EVP_CipherUpdate (cctx, out, &outl, in, (int) len)
                  || (size_t) outl != len))
    return FALSE;
  return TRUE;
}

static sp_err
port_aead_seal (void          *ctx,
                sp_aead_alg    alg,
                const uint8_t *key,
                const uint8_t  nonce[SP_AEAD_NONCE_LEN],
                const uint8_t *aad,
                size_t         aad_len,
                const uint8_t *pt,
                size_t         pt_len,
                uint8_t       *ct)
{
  const EVP_CIPHER *cipher = aead_cipher (alg);
  g_autoptr(EVP_CIPHER_CTX) cctx = NULL;
  guint8 *scratch = NULL;
  int outl = 0;
  sp_err ret = SP_ERR_CRYPTO;

  if (cipher == NULL || key == NULL)
    return SP_ERR_INVALID_ARG;
  /* OpenSSL's EVP takes int lengths */
  if (aad_len > INT_MAX || pt_len > INT_MAX - SP_AEAD_TAG_LEN)
    return SP_ERR_INVALID_ARG;

  ERR_set_mark ();
  /* Encrypt into scratch so ct is written only on success, and so ct may
   * alias pt. */
  scratch = g_malloc (pt_len + SP_AEAD_TAG_LEN);
  cctx = EVP_CIPHER_CTX_new ();
  if (cctx == NULL
      || !EVP_EncryptInit_ex2 (cctx, cipher, key, nonce, NULL)
      || !aead_crypt (cctx, aad, aad_len, pt, pt_len, scratch)
      || !EVP_EncryptFinal_ex (cctx, scratch + pt_len, &outl)
      || outl != 0
      || EVP_CIPHER_CTX_ctrl (cctx, EVP_CTRL_AEAD_GET_TAG, SP_AEAD_TAG_LEN,
                              scratch + pt_len) <= 0)
    goto out;

  memcpy (ct, scratch, pt_len + SP_AEAD_TAG_LEN);
  ret = SP_OK;

out:
  /* ciphertext is not secret, but a failed run may have left keystream */
  signet_secret_free (scratch, pt_len + SP_AEAD_TAG_LEN);
  ERR_pop_to_mark ();
  return ret;
}

static sp_err
port_aead_open (void          *ctx,
                sp_aead_alg    alg,
                const uint8_t *key,
                const uint8_t  nonce[SP_AEAD_NONCE_LEN],
                const uint8_t *aad,
                size_t         aad_len,
                const uint8_t *ct,
                size_t         ct_len,
                uint8_t       *pt)
{
  const EVP_CIPHER *cipher = aead_cipher (alg);
  g_autoptr(EVP_CIPHER_CTX) cctx = NULL;
  guint8 tag[SP_AEAD_TAG_LEN];
  guint8 *scratch = NULL;
  size_t pt_len;
  int outl = 0;
  sp_err ret = SP_ERR_CRYPTO;

  if (cipher == NULL || key == NULL)
    return SP_ERR_INVALID_ARG;
  /* Too short to hold a tag: it cannot be authentic. */
  if (ct_len < SP_AEAD_TAG_LEN)
    return SP_ERR_AUTH;
  if (aad_len > INT_MAX || ct_len > INT_MAX)
    return SP_ERR_INVALID_ARG;
  pt_len = ct_len - SP_AEAD_TAG_LEN;
  memcpy (tag, ct + pt_len, SP_AEAD_TAG_LEN);

  ERR_set_mark ();
  /* GCM decrypts before it authenticates: decrypt into scratch and hand
   * the plaintext over only once the tag has verified. */
  scratch = g_malloc (MAX (pt_len, 1));
  cctx = EVP_CIPHER_CTX_new ();
  if (cctx == NULL
      || !EVP_DecryptInit_ex2 (cctx, cipher, key, nonce, NULL)
      || !aead_crypt (cctx, aad, aad_len, ct, pt_len, scratch)
      || EVP_CIPHER_CTX_ctrl (cctx, EVP_CTRL_AEAD_SET_TAG, SP_AEAD_TAG_LEN,
                              tag) <= 0)
    goto out;
  if (EVP_DecryptFinal_ex (cctx, scratch + pt_len, &outl) <= 0)
    {
      ret = SP_ERR_AUTH;
      goto out;
    }

  if (pt_len > 0)
    memcpy (pt, scratch, pt_len);
  ret = SP_OK;

out:
  signet_secret_free (scratch, MAX (pt_len, 1));
  ERR_pop_to_mark ();
  return ret;
}

static sp_err
port_random (void    *ctx,
             uint8_t *out,
             size_t   len)
{
  sp_err ret = SP_OK;

  ERR_set_mark ();
  while (len > 0)
    {
      int chunk = (int) MIN (len, (size_t) INT_MAX);

      if (RAND_bytes (out, chunk) != 1)
        {
          ret = SP_ERR_CRYPTO;
          break;
        }
      out += chunk;
      len -= (size_t) chunk;
    }
  ERR_pop_to_mark ();
  return ret;
}

static const sp_crypto_port openssl_port = {
  .ctx = NULL,
  .sha256 = port_sha256,
  .hmac_sha256 = port_hmac_sha256,
  .ecdsa_p256_sign = port_ecdsa_p256_sign,
  .ecdsa_p256_verify = port_ecdsa_p256_verify,
  .ecdh_p256 = port_ecdh_p256,
  .p256_generate = port_p256_generate,
  .p256_import_private = port_p256_import_private,
  .p256_public = port_p256_public,
  .key_free = port_key_free,
  .aead_seal = port_aead_seal,
  .aead_open = port_aead_open,
  .random = port_random,
};

const sp_crypto_port *
signet_crypto_port_openssl (void)
{
  return &openssl_port;
}

sp_key *
signet_crypto_port_key_new (EVP_PKEY *pkey)
{
  sp_key *key;

  g_return_val_if_fail (pkey != NULL, NULL);
  g_return_val_if_fail (pkey_is_p256 (pkey), NULL);

  if (!EVP_PKEY_up_ref (pkey))
    g_error ("EVP_PKEY_up_ref failed");
  key = g_new0 (sp_key, 1);
  key->pkey = pkey;
  return key;
}

EVP_PKEY *
signet_crypto_port_key_get_pkey (const sp_key *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return key->pkey;
}
