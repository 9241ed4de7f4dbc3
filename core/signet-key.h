/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-key.h: a P-256 key pair or public key.
 *
 * SignetKey is an immutable, refcounted boxed type. It wraps an sp_key
 * handle of the OpenSSL crypto port, so the same key serves core (JWK,
 * PEM, ECDSA, ECDH) and proto (COSE signing, HPKE) without conversion.
 *
 * Every import checks everything a peer could get wrong: the curve, the
 * coordinate lengths, that the point is on the curve, that a private scalar
 * is in [1, n-1] and matches the public key given with it. Error messages
 * say which of these failed and never quote key material. Private material
 * leaves a SignetKey only through functions that say "private" in their
 * name or take include_private, always in wiping containers.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>

#include "sp-crypto-port.h"

G_BEGIN_DECLS

#define SIGNET_KEY_ERROR (signet_key_error_quark ())
GQuark signet_key_error_quark (void);

typedef enum {
  SIGNET_KEY_ERROR_FAILED,        /* OpenSSL failed (not the input's fault) */
  SIGNET_KEY_ERROR_INVALID,       /* malformed: syntax, encoding, lengths, missing members */
  SIGNET_KEY_ERROR_UNSUPPORTED,   /* well-formed, but not an EC P-256 key */
  SIGNET_KEY_ERROR_NOT_ON_CURVE,  /* the point is not on P-256 */
  SIGNET_KEY_ERROR_BAD_SCALAR,    /* the private scalar is 0 or >= the group order */
  SIGNET_KEY_ERROR_MISMATCH,      /* the private scalar does not match the public key */
  SIGNET_KEY_ERROR_NO_PRIVATE,    /* the operation needs the private key */
  SIGNET_KEY_ERROR_BAD_SIGNATURE, /* the signature does not verify */
} SignetKeyError;

#define SIGNET_KEY_PUBLIC_LEN 65     /* 0x04 || x || y */
#define SIGNET_KEY_PRIVATE_LEN 32
#define SIGNET_KEY_SIGNATURE_LEN 64  /* raw r || s */

typedef struct _SignetKey SignetKey;

#define SIGNET_TYPE_KEY (signet_key_get_type ())
GType      signet_key_get_type              (void) G_GNUC_CONST;

SignetKey *signet_key_ref                   (SignetKey     *key);
/* The private scalar is wiped when the last reference goes. */
void       signet_key_unref                 (SignetKey     *key);

/* A fresh key pair. Returns: (transfer full) (nullable) */
SignetKey *signet_key_generate              (GError       **error);

/* Wrap a port key handle (from sp_hpke_derive_key_pair, say), taking
 * ownership of it. Returns: (transfer full) (nullable) */
SignetKey *signet_key_new_take_sp_key       (sp_key        *sp,
                                             GError       **error);

/* From a 65-byte uncompressed SEC1 point. Returns: (transfer full) (nullable) */
SignetKey *signet_key_new_from_public_bytes (GBytes        *point,
                                             GError       **error);

/* From a 32-byte big-endian private scalar (the public key is derived).
 * Returns: (transfer full) (nullable) */
SignetKey *signet_key_new_from_private_bytes (GBytes       *scalar,
                                              GError      **error);

/* From an encoded COSE_Key (EC2, P-256; with or without d).
 * Returns: (transfer full) (nullable) */
SignetKey *signet_key_new_from_cose_key     (GBytes        *cose_key,
                                             GError       **error);

/* From a JWK (RFC 7517/7518: kty "EC", crv "P-256", x, y, optional d), as
 * JSON text or as an already parsed object. json-glib keeps its own copy
 * of a parsed d that it does not wipe: prefer PKCS#8 for stored private
 * keys. Returns: (transfer full) (nullable) */
SignetKey *signet_key_new_from_jwk          (const char    *json,
                                             GError       **error);
SignetKey *signet_key_new_from_jwk_node     (JsonNode      *node,
                                             GError       **error);

/* From a DER SubjectPublicKeyInfo. Returns: (transfer full) (nullable) */
SignetKey *signet_key_new_from_spki_der     (GBytes        *der,
                                             GError       **error);

/* From PEM: "PUBLIC KEY" (SPKI) or "PRIVATE KEY" (unencrypted PKCS#8).
 * Returns: (transfer full) (nullable) */
SignetKey *signet_key_new_from_pem          (const char    *pem,
                                             GError       **error);

gboolean   signet_key_has_private           (SignetKey     *key);

/* TRUE if both keys have the same public key (private parts are not
 * compared). */
gboolean   signet_key_equal                 (SignetKey     *a,
                                             SignetKey     *b);

/* The 65-byte public point. Returns: (transfer full) */
GBytes    *signet_key_get_public_bytes      (SignetKey     *key);

/* The 32-byte private scalar. Returns: (transfer full) (nullable): a
 * wiping GBytes; SIGNET_KEY_ERROR_NO_PRIVATE for a public key. */
GBytes    *signet_key_dup_private_bytes     (SignetKey     *key,
                                             GError       **error);

/* An encoded COSE_Key; kid may be NULL. d is included only if
 * include_private (SIGNET_KEY_ERROR_NO_PRIVATE if there is none), and then
 * the result is a wiping GBytes. Returns: (transfer full) (nullable) */
GBytes    *signet_key_to_cose_key           (SignetKey     *key,
                                             GBytes        *kid,
                                             gboolean       include_private,
                                             GError       **error);

/* A JWK as compact JSON with members in lexicographic order; d only if
 * include_private (free the result with signet_secret_string_free()).
 * Returns: (transfer full) (nullable) */
char      *signet_key_to_jwk                (SignetKey     *key,
                                             gboolean       include_private,
                                             GError       **error);

/* The public key as a JWK object (kty, crv, x, y).
 * Returns: (transfer full) */
JsonNode  *signet_key_to_jwk_node           (SignetKey     *key);

/* The RFC 7638 JWK thumbprint (SHA-256, base64url without padding), used as
 * a kid. Returns: (transfer full) */
char      *signet_key_dup_thumbprint        (SignetKey     *key);

/* SubjectPublicKeyInfo, DER or PEM. Returns: (transfer full) (nullable) */
GBytes    *signet_key_to_spki_der           (SignetKey     *key,
                                             GError       **error);
char      *signet_key_to_spki_pem           (SignetKey     *key,
                                             GError       **error);

/* Unencrypted PKCS#8 PEM of the private key, for a caller that encrypts it
 * before storing it; free it with signet_secret_string_free().
 * Returns: (transfer full) (nullable) */
char      *signet_key_to_pkcs8_pem          (SignetKey     *key,
                                             GError       **error);

/* ECDSA P-256 with SHA-256 over data; raw r || s (64 bytes).
 * Returns: (transfer full) (nullable) */
GBytes    *signet_key_sign                  (SignetKey     *key,
                                             GBytes        *data,
                                             GError       **error);

/* SIGNET_KEY_ERROR_BAD_SIGNATURE unless signature (64 bytes, raw r || s)
 * is a valid signature of data. */
gboolean   signet_key_verify                (SignetKey     *key,
                                             GBytes        *data,
                                             GBytes        *signature,
                                             GError       **error);

/* ECDH: the 32-byte x coordinate of key.d * peer.Q.
 * Returns: (transfer full) (nullable): a wiping GBytes */
GBytes    *signet_key_ecdh                  (SignetKey     *key,
                                             SignetKey     *peer,
                                             GError       **error);

/* The port handle, for proto (COSE signing, HPKE). Returns: (transfer none) */
const sp_key *signet_key_get_sp_key         (SignetKey     *key);

/* The OpenSSL key (for X.509 and the like). Returns: (transfer none) */
EVP_PKEY  *signet_key_get_pkey              (SignetKey     *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetKey, signet_key_unref)

G_END_DECLS
