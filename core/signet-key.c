/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-base64url.h"
#include "signet-key.h"
#include "signet-secret.h"
#include "sp-cose-key.h"

struct _SignetKey {
  gatomicrefcount ref_count;
  sp_key *sp;                         /* owns the EVP_PKEY */
  guint8 pub[SIGNET_KEY_PUBLIC_LEN];  /* cached: compared and exported often */
  gboolean has_private;
};

G_DEFINE_BOXED_TYPE (SignetKey, signet_key, signet_key_ref, signet_key_unref)

G_DEFINE_QUARK (signet-key-error-quark, signet_key_error)

/* base64url of 32 bytes, without padding */
#define B64_32_LEN 43

/* Decode a JWK member that must be exactly `expected` bytes into out
 * (strict base64url: one encoding per value). The message names the
 * member, never its value. */
static gboolean
b64url_decode_fixed (const char  *member,
                     const char  *in,
                     guint8      *out,
                     gsize        expected,
                     GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gsize n = strlen (in);

  if (signet_base64url_decode_into (in, n, out, expected, &local_error))
    return TRUE;
  if (g_error_matches (local_error, SIGNET_BASE64URL_ERROR, SIGNET_BASE64URL_ERROR_LENGTH))
    g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                 "JWK: \"%s\" must be %" G_GSIZE_FORMAT " bytes, not %" G_GSIZE_FORMAT,
                 member, expected, n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1));
  else
    g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                 "JWK: \"%s\" is not base64url (%s)", member, local_error->message);
  return FALSE;
}

/* ---- construction --------------------------------------------------------- */

/* The new key takes sp; on failure sp is freed. */
static SignetKey *
key_new_take (sp_key    *sp,
              gboolean   has_private,
              GError   **error)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  SignetKey *key;

  key = g_new0 (SignetKey, 1);
  g_atomic_ref_count_init (&key->ref_count);
  key->sp = sp;
  key->has_private = has_private;
  if (port->p256_public (port->ctx, sp, key->pub) != SP_OK)
    {
      signet_key_unref (key);
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_FAILED,
                           "Key: could not read the public key");
      return NULL;
    }
  return key;
}

/* An EVP_PKEY for the 65-byte point, or a NOT_ON_CURVE/INVALID error. */
static EVP_PKEY *
pkey_from_public (const guint8  pub[SIGNET_KEY_PUBLIC_LEN],
                  const char   *what,
                  GError      **error)
{
  g_autoptr(OSSL_PARAM_BLD) bld = NULL;
  g_autoptr(OSSL_PARAM) params = NULL;
  g_autoptr(EVP_PKEY_CTX) ctx = NULL;
  g_autoptr(EVP_PKEY_CTX) check = NULL;
  g_autoptr(EVP_PKEY) pkey = NULL;

  if (pub[0] != 0x04)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                   "%s: the public key is not an uncompressed point", what);
      return NULL;
    }

  bld = OSSL_PARAM_BLD_new ();
  if (bld == NULL
      || !OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                           "prime256v1", 0)
      || !OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY,
                                            pub, SIGNET_KEY_PUBLIC_LEN)
      || (params = OSSL_PARAM_BLD_to_param (bld)) == NULL
      || (ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL)) == NULL
      || EVP_PKEY_fromdata_init (ctx) <= 0)
    {
      signet_crypto_set_openssl_error (error, SIGNET_KEY_ERROR,
                                       SIGNET_KEY_ERROR_FAILED, what);
      return NULL;
    }

  /* as in the port: the decoder refuses points off the curve, and the
   * explicit check makes that independent of the decoder (the quick check
   * is complete for P-256, whose cofactor is 1) */
  if (EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0
      || (check = EVP_PKEY_CTX_new_from_pkey (NULL, pkey, NULL)) == NULL
      || EVP_PKEY_public_check_quick (check) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NOT_ON_CURVE,
                   "%s: the public key is not a point on the P-256 curve", what);
      return NULL;
    }

  return g_steal_pointer (&pkey);
}

static SignetKey *
key_new_public (const guint8  pub[SIGNET_KEY_PUBLIC_LEN],
                const char   *what,
                GError      **error)
{
  g_autoptr(EVP_PKEY) pkey = pkey_from_public (pub, what, error);

  if (pkey == NULL)
    return NULL;
  return key_new_take (signet_crypto_port_key_new (pkey), FALSE, error);
}

/* A key pair from the scalar d. If expected_pub is given (a format that
 * carries both halves), it must be on the curve and equal d·G. */
static SignetKey *
key_new_private (const guint8  d[SIGNET_KEY_PRIVATE_LEN],
                 const guint8 *expected_pub,
                 const char   *what,
                 GError      **error)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  SignetKey *key;
  sp_key *sp = NULL;
  sp_err err;

  if (expected_pub != NULL)
    {
      /* report a bad point before a mismatch: it is the more specific fault */
      g_autoptr(EVP_PKEY) check = pkey_from_public (expected_pub, what, error);

      if (check == NULL)
        return NULL;
    }

  err = port->p256_import_private (port->ctx, d, &sp);
  if (err == SP_ERR_KEY)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_BAD_SCALAR,
                   "%s: the private key is not a valid P-256 scalar "
                   "(0 or not below the group order)", what);
      return NULL;
    }
  if (err != SP_OK)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_FAILED,
                   "%s: could not import the private key", what);
      return NULL;
    }

  key = key_new_take (sp, TRUE, error);
  if (key == NULL)
    return NULL;
  if (expected_pub != NULL
      && CRYPTO_memcmp (key->pub, expected_pub, SIGNET_KEY_PUBLIC_LEN) != 0)
    {
      signet_key_unref (key);
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_MISMATCH,
                   "%s: the private key does not match the public key", what);
      return NULL;
    }
  return key;
}

SignetKey *
signet_key_ref (SignetKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  g_atomic_ref_count_inc (&key->ref_count);
  return key;
}

void
signet_key_unref (SignetKey *key)
{
  g_return_if_fail (key != NULL);

  if (!g_atomic_ref_count_dec (&key->ref_count))
    return;
  /* the port frees the EVP_PKEY, which clears its scalar */
  if (key->sp != NULL)
    signet_crypto_port_openssl ()->key_free (NULL, key->sp);
  g_free (key);
}

SignetKey *
signet_key_generate (GError **error)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  sp_key *sp = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (port->p256_generate (port->ctx, &sp) != SP_OK)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_FAILED,
                           "Key: could not generate a P-256 key pair");
      return NULL;
    }
  return key_new_take (sp, TRUE, error);
}

/* TRUE if pkey holds a private scalar. */
static gboolean
pkey_has_private (EVP_PKEY *pkey)
{
  g_autoptr(BIGNUM) d = NULL;
  gboolean ret;

  ret = EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1;
  ERR_clear_error ();
  return ret;
}

SignetKey *
signet_key_new_take_sp_key (sp_key  *sp,
                            GError **error)
{
  g_return_val_if_fail (sp != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return key_new_take (sp, pkey_has_private (signet_crypto_port_key_get_pkey (sp)),
                       error);
}

SignetKey *
signet_key_new_from_public_bytes (GBytes  *point,
                                  GError **error)
{
  g_return_val_if_fail (point != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_bytes_get_size (point) != SIGNET_KEY_PUBLIC_LEN)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                   "Public key: an uncompressed P-256 point is %d bytes, not %"
                   G_GSIZE_FORMAT, SIGNET_KEY_PUBLIC_LEN, g_bytes_get_size (point));
      return NULL;
    }
  return key_new_public (g_bytes_get_data (point, NULL), "Public key", error);
}

SignetKey *
signet_key_new_from_private_bytes (GBytes  *scalar,
                                   GError **error)
{
  g_return_val_if_fail (scalar != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_bytes_get_size (scalar) != SIGNET_KEY_PRIVATE_LEN)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                   "Private key: a P-256 scalar is %d bytes, not %" G_GSIZE_FORMAT,
                   SIGNET_KEY_PRIVATE_LEN, g_bytes_get_size (scalar));
      return NULL;
    }
  return key_new_private (g_bytes_get_data (scalar, NULL), NULL, "Private key",
                          error);
}

/* ---- COSE_Key ------------------------------------------------------------- */

SignetKey *
signet_key_new_from_cose_key (GBytes  *cose_key,
                              GError **error)
{
  sp_cose_key ck;
  const guint8 *data;
  gsize len;
  SignetKey *key;
  sp_err err;

  g_return_val_if_fail (cose_key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (cose_key, &len);
  memset (&ck, 0, sizeof ck);
  err = sp_cose_key_decode (data, len, &ck);
  if (err != SP_OK)
    {
      sp_wipe (&ck, sizeof ck);
      g_set_error (error, SIGNET_KEY_ERROR,
                   err == SP_ERR_COSE_ALG ? SIGNET_KEY_ERROR_UNSUPPORTED
                                          : SIGNET_KEY_ERROR_INVALID,
                   "COSE_Key: %s", sp_strerror (err));
      return NULL;
    }

  if (ck.has_d)
    key = key_new_private (ck.d, ck.pub, "COSE_Key", error);
  else
    key = key_new_public (ck.pub, "COSE_Key", error);
  sp_wipe (&ck, sizeof ck);
  return key;
}

GBytes *
signet_key_to_cose_key (SignetKey *key,
                        GBytes    *kid,
                        gboolean   include_private,
                        GError   **error)
{
  g_autoptr(GBytes) d = NULL;
  sp_cose_key ck;
  /* a P-256 COSE_Key with d and a 64-byte kid is under 200 bytes */
  guint8 buf[256];
  size_t len = 0;
  GBytes *ret;
  sp_err err;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (kid != NULL && g_bytes_get_size (kid) > SP_COSE_KID_MAX)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                   "COSE_Key: a kid is at most %d bytes", SP_COSE_KID_MAX);
      return NULL;
    }
  if (include_private)
    {
      d = signet_key_dup_private_bytes (key, error);
      if (d == NULL)
        return NULL;
    }

  memset (&ck, 0, sizeof ck);
  memcpy (ck.pub, key->pub, sizeof ck.pub);
  if (d != NULL)
    {
      memcpy (ck.d, g_bytes_get_data (d, NULL), sizeof ck.d);
      ck.has_d = true;
    }
  if (kid != NULL && g_bytes_get_size (kid) > 0)
    {
      memcpy (ck.kid, g_bytes_get_data (kid, NULL), g_bytes_get_size (kid));
      ck.kid_len = g_bytes_get_size (kid);
    }

  err = sp_cose_key_encode (&ck, include_private, buf, sizeof buf, &len);
  sp_wipe (&ck, sizeof ck);
  if (err != SP_OK)
    {
      sp_wipe (buf, sizeof buf);
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_FAILED,
                   "COSE_Key: %s", sp_strerror (err));
      return NULL;
    }

  ret = include_private ? signet_secret_bytes_new (buf, len)
                        : g_bytes_new (buf, len);
  sp_wipe (buf, sizeof buf);
  return ret;
}

/* ---- JWK ------------------------------------------------------------------ */

/* The string member name of obj, or NULL (with error if required or if it
 * is there but not a string). */
static const char *
jwk_get_string (JsonObject  *obj,
                const char  *name,
                gboolean     required,
                GError     **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL)
    {
      if (required)
        g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                     "JWK: the \"%s\" member is missing", name);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                   "JWK: the \"%s\" member is not a string", name);
      return NULL;
    }
  return json_node_get_string (node);
}

SignetKey *
signet_key_new_from_jwk_node (JsonNode  *node,
                              GError   **error)
{
  JsonObject *obj;
  const char *kty, *crv, *x, *y, *d;
  guint8 pub[SIGNET_KEY_PUBLIC_LEN];
  guint8 scalar[SIGNET_KEY_PRIVATE_LEN];
  SignetKey *key;

  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                           "JWK: not a JSON object");
      return NULL;
    }
  obj = json_node_get_object (node);

  if ((kty = jwk_get_string (obj, "kty", TRUE, error)) == NULL)
    return NULL;
  if (strcmp (kty, "EC") != 0)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_UNSUPPORTED,
                           "JWK: the key type (kty) is not \"EC\"");
      return NULL;
    }
  if ((crv = jwk_get_string (obj, "crv", TRUE, error)) == NULL)
    return NULL;
  if (strcmp (crv, "P-256") != 0)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_UNSUPPORTED,
                           "JWK: the curve (crv) is not \"P-256\"");
      return NULL;
    }

  pub[0] = 0x04;
  if ((x = jwk_get_string (obj, "x", TRUE, error)) == NULL
      || !b64url_decode_fixed ("x", x, pub + 1, 32, error)
      || (y = jwk_get_string (obj, "y", TRUE, error)) == NULL
      || !b64url_decode_fixed ("y", y, pub + 33, 32, error))
    return NULL;

  if (!json_object_has_member (obj, "d"))
    return key_new_public (pub, "JWK", error);

  if ((d = jwk_get_string (obj, "d", FALSE, error)) == NULL
      || !b64url_decode_fixed ("d", d, scalar, sizeof scalar, error))
    return NULL;
  key = key_new_private (scalar, pub, "JWK", error);
  signet_secret_wipe (scalar, sizeof scalar);
  return key;
}

SignetKey *
signet_key_new_from_jwk (const char  *json,
                         GError     **error)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (json != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  node = json_from_string (json, &local_error);
  if (node == NULL)
    {
      guint line = 0, column = 0;

      /* json-glib's message quotes the token it choked on, which may be a
       * private key: keep only the position from its "<data>:L:C:" prefix */
      if (local_error != NULL
          && sscanf (local_error->message, "<data>:%u:%u:", &line, &column) == 2)
        g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                     "JWK: not valid JSON (error at line %u, column %u)",
                     line, column);
      else
        g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                             local_error != NULL ? "JWK: not valid JSON"
                                                 : "JWK: not valid JSON (empty)");
      return NULL;
    }
  return signet_key_new_from_jwk_node (node, error);
}

/* {"crv":"P-256",["d":"...",]"kty":"EC","x":"...","y":"..."}: members in
 * lexicographic order and no whitespace, which is also the RFC 7638
 * thumbprint input when d is left out. Written into a fixed buffer so a
 * private JWK never goes through a growing (copying) string. */
#define JWK_MAX_LEN 200

static void
jwk_format (const guint8  pub[SIGNET_KEY_PUBLIC_LEN],
            const guint8 *d,
            char          out[JWK_MAX_LEN])
{
  char x[B64_32_LEN + 1], y[B64_32_LEN + 1], ds[B64_32_LEN + 1];

  signet_base64url_encode_into (pub + 1, 32, x);
  signet_base64url_encode_into (pub + 33, 32, y);
  if (d != NULL)
    {
      signet_base64url_encode_into (d, 32, ds);
      g_snprintf (out, JWK_MAX_LEN,
                  "{\"crv\":\"P-256\",\"d\":\"%s\",\"kty\":\"EC\","
                  "\"x\":\"%s\",\"y\":\"%s\"}", ds, x, y);
      signet_secret_wipe (ds, sizeof ds);
    }
  else
    g_snprintf (out, JWK_MAX_LEN,
                "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                x, y);
}

char *
signet_key_to_jwk (SignetKey *key,
                   gboolean   include_private,
                   GError   **error)
{
  g_autoptr(GBytes) d = NULL;
  char buf[JWK_MAX_LEN];
  char *ret;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (include_private)
    {
      d = signet_key_dup_private_bytes (key, error);
      if (d == NULL)
        return NULL;
    }
  jwk_format (key->pub, d != NULL ? g_bytes_get_data (d, NULL) : NULL, buf);
  ret = g_strdup (buf);
  signet_secret_wipe (buf, sizeof buf);
  return ret;
}

JsonNode *
signet_key_to_jwk_node (SignetKey *key)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  char x[B64_32_LEN + 1], y[B64_32_LEN + 1];

  g_return_val_if_fail (key != NULL, NULL);

  signet_base64url_encode_into (key->pub + 1, 32, x);
  signet_base64url_encode_into (key->pub + 33, 32, y);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "kty");
  json_builder_add_string_value (builder, "EC");
  json_builder_set_member_name (builder, "crv");
  json_builder_add_string_value (builder, "P-256");
  json_builder_set_member_name (builder, "x");
  json_builder_add_string_value (builder, x);
  json_builder_set_member_name (builder, "y");
  json_builder_add_string_value (builder, y);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

char *
signet_key_dup_thumbprint (SignetKey *key)
{
  char jwk[JWK_MAX_LEN];
  guint8 digest[SIGNET_SHA256_LEN];
  char out[B64_32_LEN + 1];

  g_return_val_if_fail (key != NULL, NULL);

  /* RFC 7638 §3.2: the required members only (crv, kty, x, y for EC), in
   * lexicographic order, no whitespace */
  jwk_format (key->pub, NULL, jwk);
  signet_sha256_buf (jwk, strlen (jwk), digest);
  signet_base64url_encode_into (digest, sizeof digest, out);
  return g_strdup (out);
}

/* ---- SPKI and PKCS#8 ------------------------------------------------------ */

/* Turn whatever OpenSSL decoded into a SignetKey, re-importing it through
 * the same checks as every other format: P-256 only, point on the curve,
 * and for a private key, d in range and matching the public key it came
 * with. */
static SignetKey *
key_from_decoded (EVP_PKEY    *pkey,
                  const char  *what,
                  GError     **error)
{
  g_autoptr(BIGNUM) x = NULL;
  g_autoptr(BIGNUM) y = NULL;
  g_autoptr(BIGNUM) d = NULL;
  char group[64] = "";
  size_t group_len = 0;
  guint8 pub[SIGNET_KEY_PUBLIC_LEN];
  guint8 scalar[SIGNET_KEY_PRIVATE_LEN];
  SignetKey *key;

  if (!EVP_PKEY_is_a (pkey, "EC"))
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_UNSUPPORTED,
                   "%s: the key is %s, not EC P-256", what,
                   EVP_PKEY_get0_type_name (pkey) != NULL
                   ? EVP_PKEY_get0_type_name (pkey) : "non-EC");
      return NULL;
    }
  if (!EVP_PKEY_get_utf8_string_param (pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                       group, sizeof group, &group_len)
      || strcmp (group, "prime256v1") != 0)
    {
      ERR_clear_error ();
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_UNSUPPORTED,
                   "%s: an EC key on %s, not P-256", what,
                   group[0] != '\0' ? group : "explicit curve parameters");
      return NULL;
    }

  if (!EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x)
      || !EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y)
      || BN_bn2binpad (x, pub + 1, 32) != 32
      || BN_bn2binpad (y, pub + 33, 32) != 32)
    {
      ERR_clear_error ();
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                   "%s: the key has no usable public point", what);
      return NULL;
    }
  pub[0] = 0x04;

  if (EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1)
    {
      ERR_clear_error ();
      return key_new_public (pub, what, error);
    }
  if (BN_bn2binpad (d, scalar, sizeof scalar) != sizeof scalar)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_BAD_SCALAR,
                   "%s: the private key is not a valid P-256 scalar", what);
      return NULL;
    }
  key = key_new_private (scalar, pub, what, error);
  signet_secret_wipe (scalar, sizeof scalar);
  return key;
}

/* Refuse to prompt: without a callback a decoder may fall back to asking
 * on the terminal for an encrypted key's passphrase. */
static int
no_passphrase (char         *pass,
               size_t        pass_size,
               size_t       *pass_len,
               const OSSL_PARAM params[],
               void         *user_data)
{
  return 0;
}

static SignetKey *
key_decode (const guint8 *data,
            gsize         len,
            const char   *input_type,
            const char   *structure,
            int           selection,
            const char   *what,
            const char   *expected,
            GError      **error)
{
  g_autoptr(OSSL_DECODER_CTX) dctx = NULL;
  g_autoptr(EVP_PKEY) pkey = NULL;
  const unsigned char *p = data;
  size_t left = len;

  dctx = OSSL_DECODER_CTX_new_for_pkey (&pkey, input_type, structure, NULL,
                                        selection, NULL, NULL);
  if (dctx == NULL || !OSSL_DECODER_CTX_set_passphrase_cb (dctx, no_passphrase, NULL))
    {
      signet_crypto_set_openssl_error (error, SIGNET_KEY_ERROR,
                                       SIGNET_KEY_ERROR_FAILED, what);
      return NULL;
    }
  /* The decoder's own errors say little ("unsupported"), and their data
   * can quote the input: say what was expected instead. DER must be
   * consumed exactly; PEM may have text around the block. */
  if (!OSSL_DECODER_from_data (dctx, &p, &left) || pkey == NULL
      || (strcmp (input_type, "DER") == 0 && left != 0))
    {
      ERR_clear_error ();
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID,
                   "%s: not %s", what, expected);
      return NULL;
    }
  return key_from_decoded (pkey, what, error);
}

SignetKey *
signet_key_new_from_spki_der (GBytes  *der,
                              GError **error)
{
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (der != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (der, &len);
  return key_decode (data, len, "DER", "SubjectPublicKeyInfo",
                     EVP_PKEY_PUBLIC_KEY, "SPKI",
                     "a DER SubjectPublicKeyInfo", error);
}

SignetKey *
signet_key_new_from_pem (const char  *pem,
                         GError     **error)
{
  g_return_val_if_fail (pem != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* No structure: both "PUBLIC KEY" and "PRIVATE KEY" blocks. An encrypted
   * PKCS#8 block fails, as there is no passphrase callback. */
  return key_decode ((const guint8 *) pem, strlen (pem), "PEM", NULL, 0, "PEM",
                     "a PEM public key or unencrypted PKCS#8 private key",
                     error);
}

/* Encode with OSSL_ENCODER into a fresh g_malloc() buffer (NUL-terminated,
 * for PEM). OpenSSL's own buffer is cleared before it is freed: for
 * PKCS#8 it holds the private key. */
static guint8 *
key_encode (SignetKey   *key,
            int          selection,
            const char  *output_type,
            const char  *structure,
            const char  *what,
            gsize       *out_len,
            GError     **error)
{
  g_autoptr(OSSL_ENCODER_CTX) ectx = NULL;
  unsigned char *data = NULL;
  size_t len = 0;
  guint8 *ret;

  ectx = OSSL_ENCODER_CTX_new_for_pkey (signet_key_get_pkey (key), selection,
                                        output_type, structure, NULL);
  if (ectx == NULL || OSSL_ENCODER_CTX_get_num_encoders (ectx) == 0
      || !OSSL_ENCODER_to_data (ectx, &data, &len))
    {
      signet_crypto_set_openssl_error (error, SIGNET_KEY_ERROR,
                                       SIGNET_KEY_ERROR_FAILED, what);
      return NULL;
    }

  ret = g_malloc (len + 1);
  memcpy (ret, data, len);
  ret[len] = '\0';
  OPENSSL_clear_free (data, len);
  *out_len = len;
  return ret;
}

GBytes *
signet_key_to_spki_der (SignetKey  *key,
                        GError    **error)
{
  guint8 *data;
  gsize len = 0;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = key_encode (key, EVP_PKEY_PUBLIC_KEY, "DER", "SubjectPublicKeyInfo",
                     "SPKI", &len, error);
  if (data == NULL)
    return NULL;
  return g_bytes_new_take (data, len);
}

char *
signet_key_to_spki_pem (SignetKey  *key,
                        GError    **error)
{
  gsize len = 0;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return (char *) key_encode (key, EVP_PKEY_PUBLIC_KEY, "PEM",
                              "SubjectPublicKeyInfo", "SPKI PEM", &len, error);
}

char *
signet_key_to_pkcs8_pem (SignetKey  *key,
                         GError    **error)
{
  gsize len = 0;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!key->has_private)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE,
                           "PKCS#8: this is a public key");
      return NULL;
    }
  return (char *) key_encode (key, EVP_PKEY_KEYPAIR, "PEM", "PrivateKeyInfo",
                              "PKCS#8 PEM", &len, error);
}

/* ---- accessors ------------------------------------------------------------ */

gboolean
signet_key_has_private (SignetKey *key)
{
  g_return_val_if_fail (key != NULL, FALSE);

  return key->has_private;
}

gboolean
signet_key_equal (SignetKey *a,
                  SignetKey *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return memcmp (a->pub, b->pub, SIGNET_KEY_PUBLIC_LEN) == 0;
}

GBytes *
signet_key_get_public_bytes (SignetKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return g_bytes_new (key->pub, sizeof key->pub);
}

GBytes *
signet_key_dup_private_bytes (SignetKey  *key,
                              GError    **error)
{
  g_autoptr(BIGNUM) d = NULL;
  guint8 scalar[SIGNET_KEY_PRIVATE_LEN];
  GBytes *ret;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!key->has_private)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE,
                           "Key: this is a public key, it has no private part");
      return NULL;
    }
  if (EVP_PKEY_get_bn_param (signet_key_get_pkey (key), OSSL_PKEY_PARAM_PRIV_KEY,
                             &d) != 1
      || BN_bn2binpad (d, scalar, sizeof scalar) != sizeof scalar)
    {
      signet_crypto_set_openssl_error (error, SIGNET_KEY_ERROR,
                                       SIGNET_KEY_ERROR_FAILED, "Private key");
      return NULL;
    }
  ret = signet_secret_bytes_new (scalar, sizeof scalar);
  signet_secret_wipe (scalar, sizeof scalar);
  return ret;
}

const sp_key *
signet_key_get_sp_key (SignetKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return key->sp;
}

EVP_PKEY *
signet_key_get_pkey (SignetKey *key)
{
  g_return_val_if_fail (key != NULL, NULL);

  return signet_crypto_port_key_get_pkey (key->sp);
}

/* ---- operations ----------------------------------------------------------- */

GBytes *
signet_key_sign (SignetKey  *key,
                 GBytes     *data,
                 GError    **error)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 digest[SIGNET_SHA256_LEN];
  guint8 sig[SIGNET_KEY_SIGNATURE_LEN];
  gconstpointer p;
  gsize len;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!key->has_private)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE,
                           "ECDSA: signing needs the private key");
      return NULL;
    }
  p = g_bytes_get_data (data, &len);
  signet_sha256_buf (p, len, digest);
  if (port->ecdsa_p256_sign (port->ctx, key->sp, digest, sig) != SP_OK)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_FAILED,
                           "ECDSA: signing failed");
      return NULL;
    }
  return g_bytes_new (sig, sizeof sig);
}

gboolean
signet_key_verify (SignetKey  *key,
                   GBytes     *data,
                   GBytes     *signature,
                   GError    **error)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 digest[SIGNET_SHA256_LEN];
  gconstpointer p;
  gsize len;
  sp_err err;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (signature != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_bytes_get_size (signature) != SIGNET_KEY_SIGNATURE_LEN)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_BAD_SIGNATURE,
                   "ECDSA: a signature is %d bytes (r || s), not %" G_GSIZE_FORMAT,
                   SIGNET_KEY_SIGNATURE_LEN, g_bytes_get_size (signature));
      return FALSE;
    }
  p = g_bytes_get_data (data, &len);
  signet_sha256_buf (p, len, digest);
  err = port->ecdsa_p256_verify (port->ctx, key->pub, digest,
                                 g_bytes_get_data (signature, NULL));
  if (err == SP_ERR_BAD_SIGNATURE)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_BAD_SIGNATURE,
                           "ECDSA: the signature does not verify");
      return FALSE;
    }
  if (err != SP_OK)
    {
      g_set_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_FAILED,
                   "ECDSA: %s", sp_strerror (err));
      return FALSE;
    }
  return TRUE;
}

GBytes *
signet_key_ecdh (SignetKey  *key,
                 SignetKey  *peer,
                 GError    **error)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  guint8 shared[SP_ECDH_P256_LEN];
  GBytes *ret;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!key->has_private)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE,
                           "ECDH: needs the private key");
      return NULL;
    }
  if (port->ecdh_p256 (port->ctx, key->sp, peer->pub, shared) != SP_OK)
    {
      g_set_error_literal (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_FAILED,
                           "ECDH: key agreement failed");
      return NULL;
    }
  ret = signet_secret_bytes_new (shared, sizeof shared);
  signet_secret_wipe (shared, sizeof shared);
  return ret;
}
