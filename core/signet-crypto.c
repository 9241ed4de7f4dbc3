/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "signet-crypto.h"
#include "signet-secret.h"

G_DEFINE_QUARK (signet-crypto-error-quark, signet_crypto_error)

#define HKDF_SHA256_MAX_LEN (255 * SIGNET_SHA256_LEN)

gboolean
signet_crypto_set_openssl_error (GError     **error,
                                 GQuark       domain,
                                 gint         code,
                                 const char  *what)
{
  unsigned long e;
  unsigned long first = 0;
  const char *reason;

  /* ERR_get_error_all would also give the free-form data string, which
   * some decoders fill with pieces of their input: only the library's
   * static reason string is used. The first entry is the root cause; the
   * rest are the layers that passed it on. */
  while ((e = ERR_get_error ()) != 0)
    if (first == 0)
      first = e;

  reason = first != 0 ? ERR_reason_error_string (first) : NULL;
  if (reason != NULL)
    g_set_error (error, domain, code, "%s: %s", what, reason);
  else
    g_set_error (error, domain, code, "%s: OpenSSL failed", what);
  return FALSE;
}

void
signet_sha256_buf (gconstpointer data,
                   gsize         len,
                   guint8        out[SIGNET_SHA256_LEN])
{
  unsigned int out_len = 0;

  /* EVP_Digest only fails on allocation failure, which GLib treats as
   * fatal everywhere else too. */
  if (!EVP_Digest (len > 0 ? data : "", len, out, &out_len, EVP_sha256 (), NULL)
      || out_len != SIGNET_SHA256_LEN)
    g_error ("SHA-256 failed");
}

GBytes *
signet_sha256 (GBytes *data)
{
  guint8 digest[SIGNET_SHA256_LEN];
  gconstpointer p;
  gsize len;

  g_return_val_if_fail (data != NULL, NULL);

  p = g_bytes_get_data (data, &len);
  signet_sha256_buf (p, len, digest);
  return g_bytes_new (digest, sizeof digest);
}

GBytes *
signet_hmac_sha256 (GBytes  *key,
                    GBytes  *data,
                    GError **error)
{
  static const guint8 empty[1] = { 0 };
  g_autoptr(EVP_MAC) mac = NULL;
  g_autoptr(EVP_MAC_CTX) ctx = NULL;
  OSSL_PARAM params[2];
  guint8 tag[SIGNET_SHA256_LEN];
  gconstpointer k, d;
  gsize k_len, d_len;
  size_t out_len = 0;
  GBytes *ret;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  k = g_bytes_get_data (key, &k_len);
  d = g_bytes_get_data (data, &d_len);

  mac = EVP_MAC_fetch (NULL, "HMAC", NULL);
  ctx = mac != NULL ? EVP_MAC_CTX_new (mac) : NULL;
  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST,
                                                (char *) "SHA256", 0);
  params[1] = OSSL_PARAM_construct_end ();
  /* GBytes of length 0 may have a NULL data pointer, which EVP_MAC_init
   * takes for "no key given" rather than "empty key". */
  if (ctx == NULL
      || !EVP_MAC_init (ctx, k_len > 0 ? k : empty, k_len, params)
      || (d_len > 0 && !EVP_MAC_update (ctx, d, d_len))
      || !EVP_MAC_final (ctx, tag, &out_len, sizeof tag)
      || out_len != sizeof tag)
    {
      signet_secret_wipe (tag, sizeof tag);
      signet_crypto_set_openssl_error (error, SIGNET_CRYPTO_ERROR,
                                       SIGNET_CRYPTO_ERROR_FAILED, "HMAC-SHA-256");
      return NULL;
    }

  ret = signet_secret_bytes_new (tag, sizeof tag);
  signet_secret_wipe (tag, sizeof tag);
  return ret;
}

GBytes *
signet_hkdf_sha256 (GBytes  *ikm,
                    GBytes  *salt,
                    GBytes  *info,
                    gsize    length,
                    GError **error)
{
  static const guint8 empty[1] = { 0 };
  g_autoptr(EVP_KDF) kdf = NULL;
  g_autoptr(EVP_KDF_CTX) ctx = NULL;
  OSSL_PARAM params[5];
  OSSL_PARAM *p = params;
  gconstpointer ikm_p, salt_p = NULL, info_p = NULL;
  gsize ikm_len, salt_len = 0, info_len = 0;
  guint8 *okm;

  g_return_val_if_fail (ikm != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length == 0 || length > HKDF_SHA256_MAX_LEN)
    {
      g_set_error (error, SIGNET_CRYPTO_ERROR,
                   SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT,
                   "HKDF-SHA256: output length %" G_GSIZE_FORMAT
                   " is not between 1 and %d bytes", length,
                   HKDF_SHA256_MAX_LEN);
      return NULL;
    }

  ikm_p = g_bytes_get_data (ikm, &ikm_len);
  if (salt != NULL)
    salt_p = g_bytes_get_data (salt, &salt_len);
  if (info != NULL)
    info_p = g_bytes_get_data (info, &info_len);

  /* OpenSSL's HKDF refuses an absent key but accepts an empty one; a
   * missing salt means HashLen zeros, which HMAC treats the same as an
   * empty key (RFC 5869 §2.2), so an empty salt is simply left out. */
  *p++ = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST,
                                           (char *) "SHA256", 0);
  *p++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY,
                                            (void *) (ikm_len > 0 ? ikm_p : empty),
                                            ikm_len);
  if (salt_len > 0)
    *p++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT,
                                              (void *) salt_p, salt_len);
  if (info_len > 0)
    *p++ = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO,
                                              (void *) info_p, info_len);
  *p = OSSL_PARAM_construct_end ();

  okm = g_malloc (length);
  kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
  ctx = kdf != NULL ? EVP_KDF_CTX_new (kdf) : NULL;
  if (ctx == NULL || EVP_KDF_derive (ctx, okm, length, params) <= 0)
    {
      signet_secret_free (okm, length);
      signet_crypto_set_openssl_error (error, SIGNET_CRYPTO_ERROR,
                                       SIGNET_CRYPTO_ERROR_FAILED, "HKDF-SHA256");
      return NULL;
    }

  return signet_secret_bytes_new_take (okm, length);
}

static const EVP_CIPHER *
aes_gcm_for_key (GBytes  *key,
                 GBytes  *nonce,
                 GError **error)
{
  const EVP_CIPHER *cipher = NULL;

  switch (g_bytes_get_size (key))
    {
    case 16:
      cipher = EVP_aes_128_gcm ();
      break;
    case 32:
      cipher = EVP_aes_256_gcm ();
      break;
    default:
      /* the size of a key is not secret */
      g_set_error (error, SIGNET_CRYPTO_ERROR,
                   SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT,
                   "AES-GCM: a key must be 16 or 32 bytes, not %" G_GSIZE_FORMAT,
                   g_bytes_get_size (key));
      return NULL;
    }

  if (g_bytes_get_size (nonce) != SIGNET_AES_GCM_NONCE_LEN)
    {
      g_set_error (error, SIGNET_CRYPTO_ERROR,
                   SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT,
                   "AES-GCM: a nonce must be %d bytes, not %" G_GSIZE_FORMAT,
                   SIGNET_AES_GCM_NONCE_LEN, g_bytes_get_size (nonce));
      return NULL;
    }

  return cipher;
}

/* Feed aad then in[0..len) through ctx into out. */
static gboolean
aes_gcm_update (EVP_CIPHER_CTX *ctx,
                GBytes         *aad,
                const guint8   *in,
                gsize           len,
                guint8         *out)
{
  gconstpointer aad_p = NULL;
  gsize aad_len = 0;
  int outl = 0;

  if (aad != NULL)
    aad_p = g_bytes_get_data (aad, &aad_len);
  if (aad_len > 0 && !EVP_CipherUpdate (ctx, NULL, &outl, aad_p, (int) aad_len))
    return FALSE;
  if (len > 0 && (!EVP_CipherUpdate (ctx, out, &outl, in, (int) len)
                  || (gsize) outl != len))
    return FALSE;
  return TRUE;
}

static gboolean
aes_gcm_check_sizes (GBytes  *aad,
                     gsize    len,
                     GError **error)
{
  /* EVP lengths are ints */
  if ((aad != NULL && g_bytes_get_size (aad) > INT_MAX)
      || len > INT_MAX - SIGNET_AES_GCM_TAG_LEN)
    {
      g_set_error_literal (error, SIGNET_CRYPTO_ERROR,
                           SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT,
                           "AES-GCM: input too large");
      return FALSE;
    }
  return TRUE;
}

GBytes *
signet_aes_gcm_seal (GBytes  *key,
                     GBytes  *nonce,
                     GBytes  *aad,
                     GBytes  *plaintext,
                     GError **error)
{
  const EVP_CIPHER *cipher;
  g_autoptr(EVP_CIPHER_CTX) ctx = NULL;
  g_autofree guint8 *ct = NULL;
  const guint8 *pt;
  gsize pt_len;
  int outl = 0;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (nonce != NULL, NULL);
  g_return_val_if_fail (plaintext != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  cipher = aes_gcm_for_key (key, nonce, error);
  if (cipher == NULL)
    return NULL;
  pt = g_bytes_get_data (plaintext, &pt_len);
  if (!aes_gcm_check_sizes (aad, pt_len, error))
    return NULL;

  ct = g_malloc (pt_len + SIGNET_AES_GCM_TAG_LEN);
  ctx = EVP_CIPHER_CTX_new ();
  if (ctx == NULL
      || !EVP_EncryptInit_ex2 (ctx, cipher, g_bytes_get_data (key, NULL),
                               g_bytes_get_data (nonce, NULL), NULL)
      || !aes_gcm_update (ctx, aad, pt, pt_len, ct)
      || !EVP_EncryptFinal_ex (ctx, ct + pt_len, &outl)
      || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_GET_TAG,
                              SIGNET_AES_GCM_TAG_LEN, ct + pt_len) <= 0)
    {
      signet_crypto_set_openssl_error (error, SIGNET_CRYPTO_ERROR,
                                       SIGNET_CRYPTO_ERROR_FAILED, "AES-GCM seal");
      return NULL;
    }

  return g_bytes_new_take (g_steal_pointer (&ct),
                           pt_len + SIGNET_AES_GCM_TAG_LEN);
}

GBytes *
signet_aes_gcm_open (GBytes  *key,
                     GBytes  *nonce,
                     GBytes  *aad,
                     GBytes  *ciphertext,
                     GError **error)
{
  const EVP_CIPHER *cipher;
  g_autoptr(EVP_CIPHER_CTX) ctx = NULL;
  guint8 tag[SIGNET_AES_GCM_TAG_LEN];
  guint8 *pt;
  const guint8 *ct;
  gsize ct_len, pt_len;
  int outl = 0;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (nonce != NULL, NULL);
  g_return_val_if_fail (ciphertext != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  cipher = aes_gcm_for_key (key, nonce, error);
  if (cipher == NULL)
    return NULL;
  ct = g_bytes_get_data (ciphertext, &ct_len);
  if (ct_len < SIGNET_AES_GCM_TAG_LEN)
    {
      g_set_error_literal (error, SIGNET_CRYPTO_ERROR,
                           SIGNET_CRYPTO_ERROR_AUTHENTICATION,
                           "AES-GCM open: ciphertext is shorter than the tag");
      return NULL;
    }
  if (!aes_gcm_check_sizes (aad, ct_len, error))
    return NULL;
  pt_len = ct_len - SIGNET_AES_GCM_TAG_LEN;
  memcpy (tag, ct + pt_len, sizeof tag);

  /* one spare byte: EVP_DecryptFinal_ex writes nothing for GCM, but wants
   * a pointer, and a zero-length plaintext still needs a buffer */
  pt = g_malloc (pt_len + 1);
  ctx = EVP_CIPHER_CTX_new ();
  if (ctx == NULL
      || !EVP_DecryptInit_ex2 (ctx, cipher, g_bytes_get_data (key, NULL),
                               g_bytes_get_data (nonce, NULL), NULL)
      || !aes_gcm_update (ctx, aad, ct, pt_len, pt)
      || EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_AEAD_SET_TAG,
                              SIGNET_AES_GCM_TAG_LEN, tag) <= 0)
    {
      signet_secret_free (pt, pt_len + 1);
      signet_crypto_set_openssl_error (error, SIGNET_CRYPTO_ERROR,
                                       SIGNET_CRYPTO_ERROR_FAILED, "AES-GCM open");
      return NULL;
    }
  if (EVP_DecryptFinal_ex (ctx, pt + pt_len, &outl) <= 0)
    {
      /* unauthenticated plaintext never leaves this function */
      signet_secret_free (pt, pt_len + 1);
      ERR_clear_error ();
      g_set_error_literal (error, SIGNET_CRYPTO_ERROR,
                           SIGNET_CRYPTO_ERROR_AUTHENTICATION,
                           "AES-GCM open: authentication failed");
      return NULL;
    }

  return signet_secret_bytes_new_take (pt, pt_len);
}

gboolean
signet_random_fill (gpointer  buf,
                    gsize     len,
                    GError  **error)
{
  guint8 *p = buf;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  while (len > 0)
    {
      int chunk = (int) MIN (len, (gsize) INT_MAX);

      if (RAND_bytes (p, chunk) != 1)
        return signet_crypto_set_openssl_error (error, SIGNET_CRYPTO_ERROR,
                                                SIGNET_CRYPTO_ERROR_FAILED,
                                                "Random bytes");
      p += chunk;
      len -= (gsize) chunk;
    }
  return TRUE;
}

GBytes *
signet_random_bytes (gsize    len,
                     GError **error)
{
  guint8 *buf;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  buf = g_malloc (MAX (len, 1));
  if (!signet_random_fill (buf, len, error))
    {
      signet_secret_free (buf, MAX (len, 1));
      return NULL;
    }
  return signet_secret_bytes_new_take (buf, len);
}
