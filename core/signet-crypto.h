/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-crypto.h: the primitives the tool needs, on OpenSSL 3.
 *
 * SHA-256, HMAC-SHA-256, HKDF-SHA256, AES-GCM and random bytes, with GBytes
 * in and out. Anything that may be (or become) a secret comes back in a
 * GBytes that wipes itself (signet_secret_bytes_new*): MACs, derived keys,
 * plaintexts, random bytes. Errors are in the SIGNET_CRYPTO_ERROR domain and
 * never quote key material.
 *
 * This header also gives g_autoptr() support to the OpenSSL types core
 * uses, so that every OpenSSL object in core is freed on every path; define
 * them nowhere else.
 */
#pragma once

#include <glib.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free_all)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BN_CTX, BN_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ECDSA_SIG, ECDSA_SIG_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EC_GROUP, EC_GROUP_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EC_POINT, EC_POINT_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_CIPHER, EVP_CIPHER_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_KDF, EVP_KDF_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_KDF_CTX, EVP_KDF_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MAC, EVP_MAC_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MAC_CTX, EVP_MAC_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD, EVP_MD_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY_CTX, EVP_PKEY_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_DECODER_CTX, OSSL_DECODER_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_ENCODER_CTX, OSSL_ENCODER_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_PARAM, OSSL_PARAM_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_NAME, X509_NAME_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_EXTENSION, X509_EXTENSION_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE, X509_STORE_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509_STORE_CTX, X509_STORE_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_INTEGER, ASN1_INTEGER_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_OCTET_STRING, ASN1_OCTET_STRING_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_TIME, ASN1_TIME_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (AUTHORITY_KEYID, AUTHORITY_KEYID_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GENERAL_NAME, GENERAL_NAME_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GENERAL_NAMES, GENERAL_NAMES_free)
/* BIGNUM is used both for public values and for private scalars: always
 * clear it, so a g_autoptr(BIGNUM) can never leave a scalar behind. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_clear_free)

#define SIGNET_CRYPTO_ERROR (signet_crypto_error_quark ())
GQuark signet_crypto_error_quark (void);

typedef enum {
  SIGNET_CRYPTO_ERROR_FAILED,           /* OpenSSL failed (see the message) */
  SIGNET_CRYPTO_ERROR_INVALID_ARGUMENT, /* wrong key or nonce size, input too large */
  SIGNET_CRYPTO_ERROR_AUTHENTICATION,   /* AEAD tag did not verify */
} SignetCryptoError;

#define SIGNET_SHA256_LEN 32
#define SIGNET_AES_GCM_NONCE_LEN 12
#define SIGNET_AES_GCM_TAG_LEN 16

/* Set error to domain/code with the message "<what>: <reason>",
 * where reason comes from the calling thread's OpenSSL error queue (library
 * reason strings only, never the free-form error data, which may carry
 * input bytes). Empties the queue. Always returns FALSE, so a caller can
 * `return signet_crypto_set_openssl_error (...)`. */
gboolean signet_crypto_set_openssl_error (GError     **error,
                                          GQuark       domain,
                                          gint         code,
                                          const char  *what);

/* SHA-256 of data[0..len) into out. Aborts only on memory exhaustion. */
void     signet_sha256_buf     (gconstpointer data,
                                gsize         len,
                                guint8        out[SIGNET_SHA256_LEN]);

/* SHA-256 of data. Returns: (transfer full): 32 bytes */
GBytes  *signet_sha256         (GBytes       *data);

/* HMAC-SHA-256 of data under key (any length, may be empty).
 * Returns: (transfer full) (nullable): 32 bytes in a wiping GBytes */
GBytes  *signet_hmac_sha256    (GBytes       *key,
                                GBytes       *data,
                                GError      **error);

/* HKDF-SHA256 (RFC 5869), extract then expand. salt and info may be NULL
 * (empty). length is 1..8160 (255 * 32).
 * Returns: (transfer full) (nullable): a wiping GBytes of length bytes */
GBytes  *signet_hkdf_sha256    (GBytes       *ikm,
                                GBytes       *salt,
                                GBytes       *info,
                                gsize         length,
                                GError      **error);

/* AES-GCM with a 16-byte (AES-128) or 32-byte (AES-256) key and a 12-byte
 * nonce; aad may be NULL. Returns: (transfer full) (nullable): ciphertext
 * with the 16-byte tag appended. */
GBytes  *signet_aes_gcm_seal   (GBytes       *key,
                                GBytes       *nonce,
                                GBytes       *aad,
                                GBytes       *plaintext,
                                GError      **error);

/* The inverse of signet_aes_gcm_seal: SIGNET_CRYPTO_ERROR_AUTHENTICATION if
 * the tag does not verify (or the input is shorter than a tag); no
 * plaintext is ever returned unauthenticated.
 * Returns: (transfer full) (nullable): the plaintext in a wiping GBytes */
GBytes  *signet_aes_gcm_open   (GBytes       *key,
                                GBytes       *nonce,
                                GBytes       *aad,
                                GBytes       *ciphertext,
                                GError      **error);

/* Fill buf with len bytes from OpenSSL's CSPRNG. */
gboolean signet_random_fill    (gpointer      buf,
                                gsize         len,
                                GError      **error);

/* len random bytes. Returns: (transfer full) (nullable): a wiping GBytes,
 * since random bytes usually become keys. */
GBytes  *signet_random_bytes   (gsize         len,
                                GError      **error);

G_END_DECLS
