/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-key: SignetKey through every format it speaks (raw, COSE_Key, JWK,
 * SPKI DER/PEM, PKCS#8 PEM), ECDSA and ECDH, and every way an imported key
 * can be wrong, with a look at each error message.
 *
 * The fixed key is RFC 6979 A.2.5's P-256 key; its PEM, DER and thumbprint
 * below were produced by python3-cryptography (an independent encoder).
 */
#include "signet-test-util.h"
#include "config.h"

#include <string.h>

#include <openssl/core_names.h>

#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-key.h"
#include "signet-secret.h"
#include "sp-cose-key.h"

#define K_D "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
#define K_PUB "04" \
  "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6" \
  "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
#define K_X64 "YP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Y"
#define K_Y64 "eQP-EAi4vJmkGunpVii8ZPLxsgwtfp9Rd6PClNRGIpk"
#define K_D64 "ya-p2EW6dRZrXCFXZ7HWk05Qw9s26JsSe4piKxIPZyE"
#define K_THUMBPRINT "DOvxvJiAdIqVWIkFt5hDtCunXLF0BV4-JGv4f-ALSm0"
#define K_SPKI_DER "3059301306072a8648ce3d020106082a8648ce3d03010703420004" \
  "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6" \
  "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299"
/* the same key as a compressed point in its SPKI */
#define K_SPKI_DER_COMPRESSED "3039301306072a8648ce3d020106082a8648ce3d03010703220003" \
  "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
#define P256_N "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"

static const char k_pkcs8_pem[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgya+p2EW6dRZrXCFX\n"
  "Z7HWk05Qw9s26JsSe4piKxIPZyGhRANCAARg/tS6JVqdMclh63TGNW1owEm4kjth\n"
  "+mzmaWIuYPKftnkD/hAIuLyZpBrp6VYovGTy8bIMLX6fUXejwpTURiKZ\n"
  "-----END PRIVATE KEY-----\n";

static const char k_sec1_pem[] =
  "-----BEGIN EC PRIVATE KEY-----\n"
  "MHcCAQEEIMmvqdhFunUWa1whV2ex1pNOUMPbNuibEnuKYisSD2choAoGCCqGSM49\n"
  "AwEHoUQDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Z5A/4QCLi8\n"
  "maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"
  "-----END EC PRIVATE KEY-----\n";

static const char k_spki_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7\n"
  "Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"
  "-----END PUBLIC KEY-----\n";

static const char p384_spki_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEqlvZeU5qo3G9Y3sayUYneE/qgNNr1O9S\n"
  "NdotEh9y+p8xKAKECndwlP/wn24nLxCwxB2O4j5YIcZVDiEL6fLHGh1gbPgyaZYS\n"
  "NFGTilJ46KEui3nr+vnRPcp7xVxYPu+K\n"
  "-----END PUBLIC KEY-----\n";

/* memmem() is a GNU extension */
static gboolean
contains (const guint8 *hay,
          gsize         hay_len,
          const guint8 *needle,
          gsize         needle_len)
{
  gsize i;

  for (i = 0; i + needle_len <= hay_len; i++)
    if (memcmp (hay + i, needle, needle_len) == 0)
      return TRUE;
  return FALSE;
}

static SignetKey *
fixed_key (void)
{
  g_autoptr(GBytes) d = signet_test_hex (K_D);
  g_autoptr(GError) error = NULL;
  SignetKey *key;

  key = signet_key_new_from_private_bytes (d, &error);
  g_assert_no_error (error);
  return key;
}

static void
assert_is_fixed_key (SignetKey *key,
                     gboolean   with_private)
{
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (key);
  g_autoptr(GBytes) expected = signet_test_hex (K_PUB);

  g_assert_true (g_bytes_equal (pub, expected));
  g_assert_cmpint (signet_key_has_private (key), ==, with_private);
  if (with_private)
    {
      g_autoptr(GBytes) d = NULL;
      g_autoptr(GBytes) d_expected = signet_test_hex (K_D);
      g_autoptr(GError) error = NULL;

      d = signet_key_dup_private_bytes (key, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (d, d_expected));
    }
}

/* error matches domain/code and its message contains every needle */
static void
assert_error_says (GError     *error,
                   gint        code,
                   const char *needle1,
                   const char *needle2)
{
  g_assert_error (error, SIGNET_KEY_ERROR, code);
  g_test_message ("error: %s", error->message);
  if (needle1 != NULL)
    g_assert_nonnull (strstr (error->message, needle1));
  if (needle2 != NULL)
    g_assert_nonnull (strstr (error->message, needle2));
}

/* ---- raw -------------------------------------------------------------------- */

static void
test_raw (void)
{
  g_autoptr(SignetKey) key = fixed_key ();
  g_autoptr(SignetKey) pub_only = NULL;
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (key);
  g_autoptr(GBytes) d = NULL;
  g_autoptr(GError) error = NULL;

  assert_is_fixed_key (key, TRUE);
  pub_only = signet_key_new_from_public_bytes (pub, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (pub_only, FALSE);
  g_assert_true (signet_key_equal (key, pub_only));

  d = signet_key_dup_private_bytes (pub_only, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_NO_PRIVATE, "public key", NULL);
  g_assert_null (d);
}

static void
test_raw_rejects (void)
{
  const char *bad_scalars[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    P256_N,
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
  };
  g_autoptr(GBytes) short_pub = signet_test_hex ("04" "00");
  g_autoptr(GBytes) off_curve = signet_test_hex (K_PUB);
  g_autoptr(GBytes) short_d = signet_test_hex ("01");
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *p;
  gsize i;

  key = signet_key_new_from_public_bytes (short_pub, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "65 bytes", "not 2");
  g_clear_error (&error);

  p = (guint8 *) g_bytes_get_data (off_curve, NULL);
  p[64] ^= 1;
  key = signet_key_new_from_public_bytes (off_curve, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_NOT_ON_CURVE, "not a point on the P-256 curve", NULL);
  g_clear_error (&error);
  p[64] ^= 1;
  p[0] = 0x02;
  key = signet_key_new_from_public_bytes (off_curve, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "uncompressed", NULL);
  g_clear_error (&error);

  key = signet_key_new_from_private_bytes (short_d, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "32 bytes", "not 1");
  g_clear_error (&error);

  for (i = 0; i < G_N_ELEMENTS (bad_scalars); i++)
    {
      g_autoptr(GBytes) d = signet_test_hex (bad_scalars[i]);

      key = signet_key_new_from_private_bytes (d, &error);
      assert_error_says (error, SIGNET_KEY_ERROR_BAD_SCALAR, "not a valid P-256 scalar", NULL);
      g_assert_null (key);
      g_clear_error (&error);
    }
}

static void
test_generate_equal (void)
{
  g_autoptr(SignetKey) a = NULL;
  g_autoptr(SignetKey) b = NULL;
  g_autoptr(SignetKey) a2 = NULL;
  g_autoptr(GBytes) d = NULL;
  g_autoptr(GError) error = NULL;

  a = signet_key_generate (&error);
  g_assert_no_error (error);
  b = signet_key_generate (&error);
  g_assert_no_error (error);
  g_assert_true (signet_key_has_private (a));
  g_assert_false (signet_key_equal (a, b));
  g_assert_true (signet_key_equal (a, a));

  d = signet_key_dup_private_bytes (a, &error);
  g_assert_no_error (error);
  a2 = signet_key_new_from_private_bytes (d, &error);
  g_assert_no_error (error);
  g_assert_true (signet_key_equal (a, a2));

  /* boxed type: copy is a ref */
  {
    SignetKey *copy = g_boxed_copy (SIGNET_TYPE_KEY, a);

    g_assert_true (copy == a);
    g_boxed_free (SIGNET_TYPE_KEY, copy);
  }
  g_assert_nonnull (signet_key_get_sp_key (a));
  g_assert_nonnull (signet_key_get_pkey (a));
}

/* ---- COSE_Key ---------------------------------------------------------------- */

static void
test_cose_round_trip (void)
{
  g_autoptr(SignetKey) key = fixed_key ();
  g_autoptr(GBytes) kid = g_bytes_new_static ("kid-1", 5);
  g_autoptr(GBytes) pub_cbor = NULL;
  g_autoptr(GBytes) priv_cbor = NULL;
  g_autoptr(SignetKey) back = NULL;
  g_autoptr(GBytes) d = signet_test_hex (K_D);
  g_autoptr(GError) error = NULL;
  sp_cose_key ck;

  pub_cbor = signet_key_to_cose_key (key, kid, FALSE, &error);
  g_assert_no_error (error);
  back = signet_key_new_from_cose_key (pub_cbor, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, FALSE);
  g_clear_pointer (&back, signet_key_unref);

  /* the public encoding carries no d (decoded by proto independently) */
  g_assert_cmpint (sp_cose_key_decode (g_bytes_get_data (pub_cbor, NULL),
                                       g_bytes_get_size (pub_cbor), &ck), ==, SP_OK);
  g_assert_false (ck.has_d);
  g_assert_cmpmem (ck.kid, ck.kid_len, "kid-1", 5);
  g_assert_false (contains (g_bytes_get_data (pub_cbor, NULL), g_bytes_get_size (pub_cbor),
                            g_bytes_get_data (d, NULL), 32));

  priv_cbor = signet_key_to_cose_key (key, NULL, TRUE, &error);
  g_assert_no_error (error);
  g_assert_true (contains (g_bytes_get_data (priv_cbor, NULL), g_bytes_get_size (priv_cbor),
                           g_bytes_get_data (d, NULL), 32));
  back = signet_key_new_from_cose_key (priv_cbor, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, TRUE);
  sp_wipe (&ck, sizeof ck);
}

/* a COSE_Key for ck, encoded by proto */
static GBytes *
encode_cose (const sp_cose_key *ck)
{
  guint8 buf[256];
  size_t len = 0;

  g_assert_cmpint (sp_cose_key_encode (ck, ck->has_d, buf, sizeof buf, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

static void
test_cose_rejects (void)
{
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(SignetKey) pub_only = NULL;
  g_autoptr(GBytes) pub = signet_test_hex (K_PUB);
  g_autoptr(GBytes) d = signet_test_hex (K_D);
  g_autoptr(GBytes) enc = NULL;
  g_autoptr(GBytes) junk = g_bytes_new_static ("\xa1\x01\x01", 3); /* {1: 1}: kty OKP */
  g_autoptr(GBytes) long_kid = g_bytes_new_take (g_malloc0 (65), 65);
  g_autoptr(GError) error = NULL;
  sp_cose_key ck;

  /* not on the curve */
  memset (&ck, 0, sizeof ck);
  memcpy (ck.pub, g_bytes_get_data (pub, NULL), 65);
  ck.pub[64] ^= 1;
  enc = encode_cose (&ck);
  key = signet_key_new_from_cose_key (enc, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_NOT_ON_CURVE, "COSE_Key", "curve");
  g_clear_error (&error);
  g_clear_pointer (&enc, g_bytes_unref);

  /* d that belongs to another point */
  ck.pub[64] ^= 1;
  memset (ck.d, 0, 32);
  ck.d[31] = 1;
  ck.has_d = true;
  enc = encode_cose (&ck);
  key = signet_key_new_from_cose_key (enc, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_MISMATCH, "COSE_Key", "does not match");
  g_clear_error (&error);
  g_clear_pointer (&enc, g_bytes_unref);

  /* d = 0 */
  ck.d[31] = 0;
  enc = encode_cose (&ck);
  key = signet_key_new_from_cose_key (enc, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_BAD_SCALAR, "COSE_Key", NULL);
  g_clear_error (&error);

  /* the wrong key type, and not CBOR at all */
  key = signet_key_new_from_cose_key (junk, &error);
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "COSE_Key: "));
  g_clear_error (&error);
  key = signet_key_new_from_cose_key (d, &error);
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID);
  g_clear_error (&error);

  /* export: kid too long, private part of a public key */
  pub_only = signet_key_new_from_public_bytes (pub, &error);
  g_assert_no_error (error);
  g_assert_null (signet_key_to_cose_key (pub_only, long_kid, FALSE, &error));
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "kid", NULL);
  g_clear_error (&error);
  g_assert_null (signet_key_to_cose_key (pub_only, NULL, TRUE, &error));
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE);
  sp_wipe (&ck, sizeof ck);
}

/* ---- JWK -------------------------------------------------------------------- */

static void
test_jwk_round_trip (void)
{
  g_autoptr(SignetKey) key = fixed_key ();
  g_autoptr(SignetKey) back = NULL;
  g_autofree char *pub_json = NULL;
  g_auto(SignetSecretString) priv_json = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *node_json = NULL;
  g_autoptr(GError) error = NULL;

  pub_json = signet_key_to_jwk (key, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pub_json, ==,
                   "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"" K_X64 "\",\"y\":\"" K_Y64 "\"}");
  back = signet_key_new_from_jwk (pub_json, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, FALSE);
  g_clear_pointer (&back, signet_key_unref);

  priv_json = signet_key_to_jwk (key, TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (priv_json, "\"d\":\"" K_D64 "\""));
  back = signet_key_new_from_jwk (priv_json, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, TRUE);
  g_clear_pointer (&back, signet_key_unref);

  node = signet_key_to_jwk_node (key);
  node_json = json_to_string (node, FALSE);
  g_assert_null (strstr (node_json, "\"d\""));
  back = signet_key_new_from_jwk_node (node, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, FALSE);
  g_clear_pointer (&back, signet_key_unref);

  /* other members (alg, use, kid) are allowed and ignored */
  back = signet_key_new_from_jwk ("{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\","
                                  "\"use\":\"sig\",\"kid\":\"k\",\"x\":\"" K_X64 "\","
                                  "\"y\":\"" K_Y64 "\"}", &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, FALSE);
}

static void
test_jwk_private_needs_private (void)
{
  g_autoptr(GBytes) pub = signet_test_hex (K_PUB);
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GError) error = NULL;
  char *json;

  key = signet_key_new_from_public_bytes (pub, &error);
  g_assert_no_error (error);
  json = signet_key_to_jwk (key, TRUE, &error);
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE);
  g_assert_null (json);
}

static const struct {
  const char *name;
  const char *json;
  SignetKeyError code;
  const char *needle1;
  const char *needle2;
} jwk_rejects[] = {
#define XY "\"x\":\"" K_X64 "\",\"y\":\"" K_Y64 "\""
  { "not-json", "{\"kty\":", SIGNET_KEY_ERROR_INVALID, "not valid JSON", NULL },
  { "empty", "", SIGNET_KEY_ERROR_INVALID, "not valid JSON", NULL },
  { "array", "[1,2]", SIGNET_KEY_ERROR_INVALID, "not a JSON object", NULL },
  { "no-kty", "{\"crv\":\"P-256\"," XY "}", SIGNET_KEY_ERROR_INVALID, "\"kty\"", "missing" },
  { "kty-rsa", "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}",
    SIGNET_KEY_ERROR_UNSUPPORTED, "kty", "\"EC\"" },
  { "kty-okp", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AA\"}",
    SIGNET_KEY_ERROR_UNSUPPORTED, "kty", NULL },
  { "kty-number", "{\"kty\":2,\"crv\":\"P-256\"," XY "}",
    SIGNET_KEY_ERROR_INVALID, "\"kty\"", "not a string" },
  { "no-crv", "{\"kty\":\"EC\"," XY "}", SIGNET_KEY_ERROR_INVALID, "\"crv\"", "missing" },
  { "crv-p384", "{\"kty\":\"EC\",\"crv\":\"P-384\"," XY "}",
    SIGNET_KEY_ERROR_UNSUPPORTED, "crv", "P-256" },
  { "crv-secp256k1", "{\"kty\":\"EC\",\"crv\":\"secp256k1\"," XY "}",
    SIGNET_KEY_ERROR_UNSUPPORTED, "crv", NULL },
  { "no-x", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"y\":\"" K_Y64 "\"}",
    SIGNET_KEY_ERROR_INVALID, "\"x\"", "missing" },
  { "no-y", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" K_X64 "\"}",
    SIGNET_KEY_ERROR_INVALID, "\"y\"", "missing" },
  { "x-null", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":null,\"y\":\"" K_Y64 "\"}",
    SIGNET_KEY_ERROR_INVALID, "\"x\"", "not a string" },
  { "x-30-bytes", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"YP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDy\","
    "\"y\":\"" K_Y64 "\"}", SIGNET_KEY_ERROR_INVALID, "\"x\" must be 32 bytes", "not 30" },
  { "y-33-bytes", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" K_X64 "\","
    "\"y\":\"AeQP-EAi4vJmkGunpVii8ZPLxsgwtfp9Rd6PClNRGIpk\"}",
    SIGNET_KEY_ERROR_INVALID, "\"y\" must be 32 bytes", "not 33" },
  { "x-padding", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" K_X64 "=\",\"y\":\"" K_Y64 "\"}",
    SIGNET_KEY_ERROR_INVALID, "\"x\"", "padding" },
  { "x-base64-not-url", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"YP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Y\","
    "\"y\":\"eQP+EAi4vJmkGunpVii8ZPLxsgwtfp9Rd6PClNRGIpk\"}",
    SIGNET_KEY_ERROR_INVALID, "\"y\"", "not base64url" },
  { "x-space", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"YP7UuiVanTHJYet0xjVt aMBJuJI7Yfps5mliLmDyn7Y\","
    "\"y\":\"" K_Y64 "\"}", SIGNET_KEY_ERROR_INVALID, "\"x\"", "not base64url" },
  { "x-truncated-quantum", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"YP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn\","
    "\"y\":\"" K_Y64 "\"}", SIGNET_KEY_ERROR_INVALID, "\"x\"", "truncated" },
  /* ...Y -> ...Z: the same 32 bytes plus a stray low bit */
  { "x-non-canonical", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"YP7UuiVanTHJYet0xjVtaMBJuJI7Yfps5mliLmDyn7Z\","
    "\"y\":\"" K_Y64 "\"}", SIGNET_KEY_ERROR_INVALID, "\"x\"", "canonical" },
  /* y of the fixed key with its last bit flipped */
  { "off-curve", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"" K_X64 "\","
    "\"y\":\"eQP-EAi4vJmkGunpVii8ZPLxsgwtfp9Rd6PClNRGIpg\"}",
    SIGNET_KEY_ERROR_NOT_ON_CURVE, "JWK", "not a point on the P-256 curve" },
  { "zero-point", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
    "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
    SIGNET_KEY_ERROR_NOT_ON_CURVE, "JWK", "curve" },
  { "d-number", "{\"kty\":\"EC\",\"crv\":\"P-256\"," XY ",\"d\":1}",
    SIGNET_KEY_ERROR_INVALID, "\"d\"", "not a string" },
  { "d-short", "{\"kty\":\"EC\",\"crv\":\"P-256\"," XY ",\"d\":\"AQ\"}",
    SIGNET_KEY_ERROR_INVALID, "\"d\" must be 32 bytes", "not 1" },
  { "d-bad-base64url", "{\"kty\":\"EC\",\"crv\":\"P-256\"," XY ",\"d\":\"ya-p2EW6dRZrXCFXZ7HWk05Qw9s26JsSe4piKxIPZy/\"}",
    SIGNET_KEY_ERROR_INVALID, "\"d\"", "not base64url" },
  { "d-zero", "{\"kty\":\"EC\",\"crv\":\"P-256\"," XY ",\"d\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
    SIGNET_KEY_ERROR_BAD_SCALAR, "JWK", "not a valid P-256 scalar" },
  { "d-order", "{\"kty\":\"EC\",\"crv\":\"P-256\"," XY ",\"d\":\"_____wAAAAD__________7zm-q2nF56E87nKwvxjJVE\"}",
    SIGNET_KEY_ERROR_BAD_SCALAR, "JWK", "group order" },
  /* d = 1: a valid scalar, but its public key is G, not (x, y) */
  { "d-mismatch", "{\"kty\":\"EC\",\"crv\":\"P-256\"," XY ",\"d\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}",
    SIGNET_KEY_ERROR_MISMATCH, "JWK", "does not match" },
#undef XY
};

static void
test_jwk_rejects (gconstpointer data)
{
  gsize i = GPOINTER_TO_SIZE (data);
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GError) error = NULL;

  key = signet_key_new_from_jwk (jwk_rejects[i].json, &error);
  g_assert_null (key);
  assert_error_says (error, jwk_rejects[i].code, jwk_rejects[i].needle1,
                     jwk_rejects[i].needle2);
  g_assert_true (g_str_has_prefix (error->message, "JWK: "));
  /* no error quotes a value from the input */
  g_assert_null (strstr (error->message, "ya-p2EW6"));
  g_assert_null (strstr (error->message, K_X64));
}

static void
test_jwk_error_no_secret (void)
{
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GError) error = NULL;

  /* broken JSON right after a d: the parser's message must not echo it */
  key = signet_key_new_from_jwk ("{\"d\":\"" K_D64 "\" \"kty\"", &error);
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID);
  g_test_message ("error: %s", error->message);
  g_assert_null (strstr (error->message, "ya-p2EW6"));
}

static void
test_thumbprint (void)
{
  g_autoptr(SignetKey) key = fixed_key ();
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (key);
  g_autoptr(SignetKey) pub_only = NULL;
  g_autofree char *t1 = NULL;
  g_autofree char *t2 = NULL;
  g_autoptr(GError) error = NULL;

  t1 = signet_key_dup_thumbprint (key);
  g_assert_cmpstr (t1, ==, K_THUMBPRINT);
  pub_only = signet_key_new_from_public_bytes (pub, &error);
  g_assert_no_error (error);
  t2 = signet_key_dup_thumbprint (pub_only);
  g_assert_cmpstr (t2, ==, K_THUMBPRINT);
}

/* ---- SPKI and PKCS#8 ------------------------------------------------------ */

static void
test_spki (void)
{
  g_autoptr(SignetKey) key = fixed_key ();
  g_autoptr(GBytes) expected = signet_test_hex (K_SPKI_DER);
  g_autoptr(GBytes) compressed = signet_test_hex (K_SPKI_DER_COMPRESSED);
  g_autoptr(GBytes) der = NULL;
  g_autofree char *pem = NULL;
  g_autoptr(SignetKey) back = NULL;
  g_autoptr(GError) error = NULL;

  der = signet_key_to_spki_der (key, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (der, expected));
  back = signet_key_new_from_spki_der (der, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, FALSE);
  g_clear_pointer (&back, signet_key_unref);

  pem = signet_key_to_spki_pem (key, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pem, ==, k_spki_pem);
  back = signet_key_new_from_pem (pem, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, FALSE);
  g_clear_pointer (&back, signet_key_unref);

  /* a compressed point is accepted and comes out uncompressed */
  back = signet_key_new_from_spki_der (compressed, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, FALSE);
}

static void
test_pkcs8 (void)
{
  g_autoptr(SignetKey) key = fixed_key ();
  g_auto(SignetSecretString) pem = NULL;
  g_autoptr(SignetKey) back = NULL;
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (key);
  g_autoptr(SignetKey) pub_only = NULL;
  g_autoptr(GError) error = NULL;
  char *none;

  pem = signet_key_to_pkcs8_pem (key, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (pem, "-----BEGIN PRIVATE KEY-----\n"));
  back = signet_key_new_from_pem (pem, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, TRUE);
  g_clear_pointer (&back, signet_key_unref);

  /* python3-cryptography's PKCS#8 and SEC1 ("EC PRIVATE KEY") */
  back = signet_key_new_from_pem (k_pkcs8_pem, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, TRUE);
  g_clear_pointer (&back, signet_key_unref);
  back = signet_key_new_from_pem (k_sec1_pem, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (back, TRUE);
  g_clear_pointer (&back, signet_key_unref);

  pub_only = signet_key_new_from_public_bytes (pub, &error);
  g_assert_no_error (error);
  none = signet_key_to_pkcs8_pem (pub_only, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_NO_PRIVATE, "PKCS#8", NULL);
  g_assert_null (none);
}

/* a PEM block of type label around der */
static char *
pem_wrap (const char   *label,
          const guint8 *der,
          gsize         len)
{
  g_autofree char *b64 = g_base64_encode (der, len);
  GString *s = g_string_new (NULL);
  gsize i;

  g_string_append_printf (s, "-----BEGIN %s-----\n", label);
  for (i = 0; i < strlen (b64); i += 64)
    {
      g_string_append_len (s, b64 + i, MIN (64, strlen (b64) - i));
      g_string_append_c (s, '\n');
    }
  g_string_append_printf (s, "-----END %s-----\n", label);
  return g_string_free (s, FALSE);
}

static char *
encode_pkey_pem (EVP_PKEY   *pkey,
                 int         selection,
                 const char *structure)
{
  g_autoptr(OSSL_ENCODER_CTX) ectx = NULL;
  unsigned char *data = NULL;
  size_t len = 0;
  char *ret;

  ectx = OSSL_ENCODER_CTX_new_for_pkey (pkey, selection, "PEM", structure, NULL);
  g_assert_nonnull (ectx);
  g_assert_true (OSSL_ENCODER_to_data (ectx, &data, &len));
  ret = g_strndup ((const char *) data, len);
  OPENSSL_free (data);
  return ret;
}

static void
test_pem_rejects (void)
{
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EVP_PKEY) rsa = EVP_PKEY_Q_keygen (NULL, NULL, "RSA", (size_t) 1024);
  g_autoptr(EVP_PKEY) ed = EVP_PKEY_Q_keygen (NULL, NULL, "ED25519");
  g_autofree char *rsa_pem = NULL;
  g_autofree char *ed_pem = NULL;
  g_autofree char *truncated = g_strndup (k_spki_pem, 60);
  g_autofree char *mismatch = NULL;
  g_autofree char *encrypted = NULL;
  g_autofree guchar *der = NULL;
  g_autoptr(GBytes) g_point = signet_test_hex ("04"
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5");
  g_autoptr(GBytes) k_pub = signet_test_hex (K_PUB);
  gsize der_len = 0;
  guint8 *hit;

  g_assert_nonnull (rsa);
  g_assert_nonnull (ed);

  key = signet_key_new_from_pem ("", &error);
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "PEM", "not a PEM");
  g_clear_error (&error);

  key = signet_key_new_from_pem ("hello", &error);
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "PEM", NULL);
  g_clear_error (&error);

  key = signet_key_new_from_pem (truncated, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "PEM", NULL);
  g_clear_error (&error);

  key = signet_key_new_from_pem (p384_spki_pem, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_UNSUPPORTED, "secp384r1", "not P-256");
  g_clear_error (&error);

  rsa_pem = encode_pkey_pem (rsa, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
  key = signet_key_new_from_pem (rsa_pem, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_UNSUPPORTED, "RSA", "not EC P-256");
  g_clear_error (&error);

  ed_pem = encode_pkey_pem (ed, EVP_PKEY_KEYPAIR, "PrivateKeyInfo");
  key = signet_key_new_from_pem (ed_pem, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_UNSUPPORTED, "ED25519", NULL);
  g_clear_error (&error);

  /* PKCS#8 whose embedded public key (G) is not d·G */
  der = g_base64_decode ("MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgya+p2EW6dRZrXCFX"
                         "Z7HWk05Qw9s26JsSe4piKxIPZyGhRANCAARg/tS6JVqdMclh63TGNW1owEm4kjth"
                         "+mzmaWIuYPKftnkD/hAIuLyZpBrp6VYovGTy8bIMLX6fUXejwpTURiKZ", &der_len);
  hit = NULL;
  for (gsize j = 0; j + 65 <= der_len; j++)
    if (memcmp (der + j, g_bytes_get_data (k_pub, NULL), 65) == 0)
      hit = der + j;
  g_assert_nonnull (hit);
  memcpy (hit, g_bytes_get_data (g_point, NULL), 65);
  mismatch = pem_wrap ("PRIVATE KEY", der, der_len);
  key = signet_key_new_from_pem (mismatch, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_MISMATCH, "PEM", "does not match");
  g_clear_error (&error);

  /* encrypted PKCS#8: refused without prompting for a passphrase */
  {
    g_autoptr(SignetKey) fk = fixed_key ();
    g_autoptr(OSSL_ENCODER_CTX) ectx = NULL;
    unsigned char *data = NULL;
    size_t len = 0;

    ectx = OSSL_ENCODER_CTX_new_for_pkey (signet_key_get_pkey (fk), EVP_PKEY_KEYPAIR,
                                          "PEM", "EncryptedPrivateKeyInfo", NULL);
    g_assert_true (OSSL_ENCODER_CTX_set_cipher (ectx, "AES-256-CBC", NULL));
    g_assert_true (OSSL_ENCODER_CTX_set_passphrase (ectx, (const unsigned char *) "pw", 2));
    g_assert_true (OSSL_ENCODER_to_data (ectx, &data, &len));
    encrypted = g_strndup ((const char *) data, len);
    OPENSSL_free (data);
    g_assert_true (g_str_has_prefix (encrypted, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
  }
  key = signet_key_new_from_pem (encrypted, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "PEM", "unencrypted");
  g_clear_error (&error);
}

static void
test_spki_rejects (void)
{
  g_autoptr(GBytes) good = signet_test_hex (K_SPKI_DER);
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (good, 0, g_bytes_get_size (good) - 1);
  g_autoptr(GBytes) off_curve = NULL;
  g_autoptr(GBytes) trailing = NULL;
  g_autoptr(GBytes) pem = g_bytes_new_static (k_pkcs8_pem, sizeof k_pkcs8_pem - 1);
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = NULL;
  gsize len = g_bytes_get_size (good);

  key = signet_key_new_from_spki_der (truncated, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "SPKI", "SubjectPublicKeyInfo");
  g_clear_error (&error);

  buf = g_malloc (len + 1);
  memcpy (buf, g_bytes_get_data (good, NULL), len);
  buf[len - 1] ^= 1;
  off_curve = g_bytes_new (buf, len);
  key = signet_key_new_from_spki_der (off_curve, &error);
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID);
  g_clear_error (&error);

  buf[len - 1] ^= 1;
  buf[len] = 0;
  trailing = g_bytes_new (buf, len + 1);
  key = signet_key_new_from_spki_der (trailing, &error);
  assert_error_says (error, SIGNET_KEY_ERROR_INVALID, "SPKI", NULL);
  g_clear_error (&error);

  /* a private-key PEM is not an SPKI */
  key = signet_key_new_from_spki_der (pem, &error);
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_INVALID);
}

static void
test_public_exports_have_no_private (void)
{
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GBytes) d = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) cose = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autofree char *jwk = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *thumb = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *node_json = NULL;
  char d64[64];
  const guint8 *dp;
  gsize i;

  key = signet_key_generate (&error);
  g_assert_no_error (error);
  d = signet_key_dup_private_bytes (key, &error);
  g_assert_no_error (error);
  dp = g_bytes_get_data (d, NULL);

  /* base64url(d) as JWK would write it */
  {
    g_autofree char *b64 = g_base64_encode (dp, 32);

    g_strlcpy (d64, b64, sizeof d64);
    for (i = 0; d64[i] != '\0'; i++)
      d64[i] = d64[i] == '+' ? '-' : d64[i] == '/' ? '_' : d64[i];
    d64[43] = '\0';
  }

  cose = signet_key_to_cose_key (key, NULL, FALSE, &error);
  g_assert_no_error (error);
  der = signet_key_to_spki_der (key, &error);
  g_assert_no_error (error);
  jwk = signet_key_to_jwk (key, FALSE, &error);
  g_assert_no_error (error);
  pem = signet_key_to_spki_pem (key, &error);
  g_assert_no_error (error);
  thumb = signet_key_dup_thumbprint (key);
  node = signet_key_to_jwk_node (key);
  node_json = json_to_string (node, FALSE);

  /* 8 bytes of d anywhere would be a leak */
  for (i = 0; i + 8 <= 32; i++)
    {
      g_assert_false (contains (g_bytes_get_data (cose, NULL), g_bytes_get_size (cose), dp + i, 8));
      g_assert_false (contains (g_bytes_get_data (der, NULL), g_bytes_get_size (der), dp + i, 8));
    }
  g_assert_null (strstr (jwk, d64));
  g_assert_null (strstr (jwk, "\"d\""));
  g_assert_null (strstr (node_json, d64));
  g_assert_null (strstr (pem, "PRIVATE"));
}

/* ---- ECDSA and ECDH ------------------------------------------------------- */

static void
test_sign_verify (void)
{
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(SignetKey) pub_only = NULL;
  g_autoptr(SignetKey) other = NULL;
  g_autoptr(GBytes) msg = g_bytes_new_static ("update firmware to 1.4.2", 24);
  g_autoptr(GBytes) sig = NULL;
  g_autoptr(GBytes) pub = NULL;
  g_autoptr(GBytes) short_sig = NULL;
  g_autoptr(GError) error = NULL;
  gsize i;

  key = signet_key_generate (&error);
  g_assert_no_error (error);
  other = signet_key_generate (&error);
  g_assert_no_error (error);
  pub = signet_key_get_public_bytes (key);
  pub_only = signet_key_new_from_public_bytes (pub, &error);
  g_assert_no_error (error);

  sig = signet_key_sign (key, msg, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (sig), ==, 64);
  g_assert_true (signet_key_verify (pub_only, msg, sig, &error));
  g_assert_no_error (error);
  g_assert_true (signet_key_verify (key, msg, sig, &error));
  g_assert_no_error (error);

  g_assert_false (signet_key_verify (other, msg, sig, &error));
  assert_error_says (error, SIGNET_KEY_ERROR_BAD_SIGNATURE, "does not verify", NULL);
  g_clear_error (&error);

  for (i = 0; i < 64 * 8; i++)
    {
      g_autofree guint8 *b = g_memdup2 (g_bytes_get_data (sig, NULL), 64);
      g_autoptr(GBytes) bad = NULL;

      b[i / 8] ^= (guint8) (1u << (i % 8));
      bad = g_bytes_new (b, 64);
      g_assert_false (signet_key_verify (pub_only, msg, bad, &error));
      g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_BAD_SIGNATURE);
      g_clear_error (&error);
    }
  for (i = 0; i < g_bytes_get_size (msg) * 8; i++)
    {
      g_autofree guint8 *m = g_memdup2 (g_bytes_get_data (msg, NULL), g_bytes_get_size (msg));
      g_autoptr(GBytes) bad = NULL;

      m[i / 8] ^= (guint8) (1u << (i % 8));
      bad = g_bytes_new (m, g_bytes_get_size (msg));
      g_assert_false (signet_key_verify (pub_only, bad, sig, &error));
      g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_BAD_SIGNATURE);
      g_clear_error (&error);
    }

  short_sig = g_bytes_new_from_bytes (sig, 0, 63);
  g_assert_false (signet_key_verify (pub_only, msg, short_sig, &error));
  assert_error_says (error, SIGNET_KEY_ERROR_BAD_SIGNATURE, "64", "63");
  g_clear_error (&error);

  g_assert_null (signet_key_sign (pub_only, msg, &error));
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE);
}

static void
test_verify_rfc6979 (void)
{
  g_autoptr(SignetKey) key = fixed_key ();
  g_autoptr(GBytes) msg = g_bytes_new_static ("sample", 6);
  g_autoptr(GBytes) sig = signet_test_hex (
    "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
    "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
  g_autoptr(GError) error = NULL;

  g_assert_true (signet_key_verify (key, msg, sig, &error));
  g_assert_no_error (error);
}

static void
test_ecdh (void)
{
  g_autoptr(SignetKey) a = NULL;
  g_autoptr(SignetKey) b = NULL;
  g_autoptr(SignetKey) b_pub = NULL;
  g_autoptr(GBytes) b_pub_bytes = NULL;
  g_autoptr(GBytes) ab = NULL;
  g_autoptr(GBytes) ba = NULL;
  g_autoptr(GBytes) none = NULL;
  g_autoptr(GError) error = NULL;

  a = signet_key_generate (&error);
  g_assert_no_error (error);
  b = signet_key_generate (&error);
  g_assert_no_error (error);
  b_pub_bytes = signet_key_get_public_bytes (b);
  b_pub = signet_key_new_from_public_bytes (b_pub_bytes, &error);
  g_assert_no_error (error);

  ab = signet_key_ecdh (a, b_pub, &error);
  g_assert_no_error (error);
  ba = signet_key_ecdh (b, a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (ab), ==, 32);
  g_assert_true (signet_secret_bytes_equal (ab, ba));

  none = signet_key_ecdh (b_pub, a, &error);
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE);
  g_assert_null (none);
}

static void
test_take_sp_key (void)
{
  const sp_crypto_port *port = signet_crypto_port_openssl ();
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GBytes) d = signet_test_hex (K_D);
  g_autoptr(GError) error = NULL;
  sp_key *sp = NULL;

  g_assert_cmpint (port->p256_import_private (port->ctx, g_bytes_get_data (d, NULL), &sp),
                   ==, SP_OK);
  key = signet_key_new_take_sp_key (sp, &error);
  g_assert_no_error (error);
  assert_is_fixed_key (key, TRUE);
  g_assert_true (signet_key_get_sp_key (key) == sp);
}

int
main (int    argc,
      char **argv)
{
  gsize i;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/key/raw/round-trip", test_raw);
  g_test_add_func ("/signet/key/raw/rejects", test_raw_rejects);
  g_test_add_func ("/signet/key/generate-equal", test_generate_equal);
  g_test_add_func ("/signet/key/take-sp-key", test_take_sp_key);
  g_test_add_func ("/signet/key/cose/round-trip", test_cose_round_trip);
  g_test_add_func ("/signet/key/cose/rejects", test_cose_rejects);
  g_test_add_func ("/signet/key/jwk/round-trip", test_jwk_round_trip);
  g_test_add_func ("/signet/key/jwk/private-needs-private", test_jwk_private_needs_private);
  g_test_add_func ("/signet/key/jwk/error-no-secret", test_jwk_error_no_secret);
  for (i = 0; i < G_N_ELEMENTS (jwk_rejects); i++)
    {
      g_autofree char *path = g_strdup_printf ("/signet/key/jwk/rejects/%s",
                                               jwk_rejects[i].name);

      g_test_add_data_func (path, GSIZE_TO_POINTER (i), test_jwk_rejects);
    }
  g_test_add_func ("/signet/key/jwk/thumbprint", test_thumbprint);
  g_test_add_func ("/signet/key/spki/round-trip", test_spki);
  g_test_add_func ("/signet/key/spki/rejects", test_spki_rejects);
  g_test_add_func ("/signet/key/pkcs8/round-trip", test_pkcs8);
  g_test_add_func ("/signet/key/pem/rejects", test_pem_rejects);
  g_test_add_func ("/signet/key/public-exports-have-no-private",
                   test_public_exports_have_no_private);
  g_test_add_func ("/signet/key/ecdsa/sign-verify", test_sign_verify);
  g_test_add_func ("/signet/key/ecdsa/rfc6979", test_verify_rfc6979);
  g_test_add_func ("/signet/key/ecdh", test_ecdh);

  return g_test_run ();
}
