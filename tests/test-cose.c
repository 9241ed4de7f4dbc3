/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-cose.c: COSE_Sign1 against the COSE working group's examples
 * (tests/data/cose, see tests/data/README.md), then our own objects:
 * round trips and the ways they must fail.
 */
#include "config.h"

#include <glib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "signet-test-util.h"
#include "signet-crypto-port.h"
#include "sp-cose.h"

#define assert_err(expr, want)                                          \
  G_STMT_START {                                                        \
    sp_err e_ = (expr);                                                 \
    g_assert_cmpstr (sp_strerror (e_), ==, sp_strerror (want));         \
    g_assert_cmpint (e_, ==, want);                                     \
  } G_STMT_END

static const sp_crypto_port *port;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static GBytes *
b64url_bytes (const char *s)
{
  g_autoptr (GString) std = g_string_new (s);
  gsize i, len;
  guchar *raw;

  for (i = 0; i < std->len; i++)
    {
      if (std->str[i] == '-')
        std->str[i] = '+';
      else if (std->str[i] == '_')
        std->str[i] = '/';
    }
  while (std->len % 4 != 0)
    g_string_append_c (std, '=');
  raw = g_base64_decode (std->str, &len);
  return g_bytes_new_take (raw, len);
}

/* One COSE WG example file. */
typedef struct {
  JsonParser *parser;
  JsonObject *root;
  JsonObject *sign0;
  GBytes *cbor;         /* output.cbor */
  GBytes *tbs;          /* intermediates.ToBeSign_hex */
  GBytes *external;     /* input.sign0.external, or empty */
  guint8 pub[SP_P256_PUB_LEN];
  gboolean fail;
} Vector;

static void
vector_free (Vector *v)
{
  g_clear_object (&v->parser);
  g_clear_pointer (&v->cbor, g_bytes_unref);
  g_clear_pointer (&v->tbs, g_bytes_unref);
  g_clear_pointer (&v->external, g_bytes_unref);
  g_free (v);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Vector, vector_free)

static Vector *
vector_load (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "cose", name, NULL);
  g_autoptr (Vector) v = g_new0 (Vector, 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) x = NULL;
  g_autoptr (GBytes) y = NULL;
  JsonObject *input, *key;

  v->parser = json_parser_new ();
  json_parser_load_from_file (v->parser, path, &error);
  g_assert_no_error (error);
  v->root = json_node_get_object (json_parser_get_root (v->parser));
  input = json_object_get_object_member (v->root, "input");
  v->sign0 = json_object_get_object_member (input, "sign0");
  key = json_object_get_object_member (v->sign0, "key");
  v->fail = json_object_get_boolean_member_with_default (v->root, "fail", FALSE);
  v->cbor = signet_test_hex (json_object_get_string_member (
      json_object_get_object_member (v->root, "output"), "cbor"));
  v->tbs = signet_test_hex (json_object_get_string_member (
      json_object_get_object_member (v->root, "intermediates"), "ToBeSign_hex"));
  v->external = signet_test_hex (json_object_get_string_member_with_default (
      v->sign0, "external", ""));

  x = b64url_bytes (json_object_get_string_member (key, "x"));
  y = b64url_bytes (json_object_get_string_member (key, "y"));
  g_assert_cmpuint (g_bytes_get_size (x), ==, 32);
  g_assert_cmpuint (g_bytes_get_size (y), ==, 32);
  v->pub[0] = 0x04;
  memcpy (v->pub + 1, g_bytes_get_data (x, NULL), 32);
  memcpy (v->pub + 33, g_bytes_get_data (y, NULL), 32);
  return g_steal_pointer (&v);
}

/* The protected header the example was meant to have, encoded from its
 * input description: deterministic order, alg 1 and ctyp 3. */
static GBytes *
vector_input_protected (const Vector *v)
{
  JsonObject *prot;
  guint8 buf[64];
  sp_cbor_writer w;
  size_t len, n = 0;

  if (!json_object_has_member (v->sign0, "protected"))
    return g_bytes_new (NULL, 0);
  prot = json_object_get_object_member (v->sign0, "protected");
  n = json_object_get_size (prot);
  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_map (&w, n);
  if (json_object_has_member (prot, "alg"))
    {
      g_assert_cmpstr (json_object_get_string_member (prot, "alg"), ==, "ES256");
      sp_cbor_put_int (&w, SP_COSE_HDR_ALG);
      sp_cbor_put_int (&w, SP_COSE_ALG_ES256);
      n--;
    }
  if (json_object_has_member (prot, "ctyp"))
    {
      sp_cbor_put_int (&w, SP_COSE_HDR_CTY);
      sp_cbor_put_int (&w, json_object_get_int_member (prot, "ctyp"));
      n--;
    }
  g_assert_cmpuint (n, ==, 0);
  assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
  return g_bytes_new (buf, len);
}

static const char *vector_files[] = {
  "ecdsa-sig-01.json",
  "sign-pass-01.json", "sign-pass-02.json", "sign-pass-03.json",
  "sign-fail-01.json", "sign-fail-02.json", "sign-fail-03.json",
  "sign-fail-04.json", "sign-fail-06.json", "sign-fail-07.json",
};

/* ------------------------------------------------------------------ */
/* COSE WG examples                                                    */
/* ------------------------------------------------------------------ */

static void
test_vectors_sig_structure (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (vector_files); i++)
    {
      g_autoptr (Vector) v = vector_load (vector_files[i]);
      g_autoptr (GBytes) prot = vector_input_protected (v);
      const char *plaintext = json_object_get_string_member (
          json_object_get_object_member (v->root, "input"), "plaintext");
      guint8 out[256];
      size_t len, cap;

      assert_err (sp_cose_sig_structure_write (
                      g_bytes_get_data (prot, NULL), g_bytes_get_size (prot),
                      g_bytes_get_data (v->external, NULL), g_bytes_get_size (v->external),
                      (const guint8 *) plaintext, strlen (plaintext),
                      out, sizeof out, &len), SP_OK);
      g_assert_cmpmem (out, len, g_bytes_get_data (v->tbs, NULL), g_bytes_get_size (v->tbs));

      /* Never past the end of a short buffer. */
      for (cap = 0; cap < len; cap++)
        assert_err (sp_cose_sig_structure_write (
                        g_bytes_get_data (prot, NULL), g_bytes_get_size (prot),
                        g_bytes_get_data (v->external, NULL), g_bytes_get_size (v->external),
                        (const guint8 *) plaintext, strlen (plaintext),
                        out, cap, &len), SP_ERR_BUFFER_TOO_SMALL);
    }
}

/* Each example and the error it must give: the fail cases each break
 * one thing, and each must be refused for that reason. */
static const struct {
  const char *file;
  sp_err decode;
  sp_err verify;
} vector_results[] = {
  { "ecdsa-sig-01.json", SP_OK, SP_OK },
  { "sign-pass-01.json", SP_OK, SP_OK },      /* alg only unprotected */
  { "sign-pass-02.json", SP_OK, SP_OK },      /* external AAD */
  { "sign-pass-03.json", SP_OK, SP_OK },      /* untagged */
  { "sign-fail-01.json", SP_ERR_COSE_TAG, SP_OK },  /* tag 998 */
  { "sign-fail-02.json", SP_OK, SP_ERR_BAD_SIGNATURE },  /* payload changed */
  { "sign-fail-03.json", SP_OK, SP_ERR_COSE_ALG },  /* alg -999 */
  { "sign-fail-04.json", SP_OK, SP_ERR_COSE_ALG },  /* alg "unknown" */
  { "sign-fail-06.json", SP_OK, SP_ERR_BAD_SIGNATURE },  /* added ctyp */
  { "sign-fail-07.json", SP_OK, SP_ERR_BAD_SIGNATURE },  /* removed ctyp */
};

static void
test_vectors_verify (void)
{
  gsize i;

  G_STATIC_ASSERT (G_N_ELEMENTS (vector_results) == G_N_ELEMENTS (vector_files));
  for (i = 0; i < G_N_ELEMENTS (vector_results); i++)
    {
      g_autoptr (Vector) v = vector_load (vector_results[i].file);
      sp_cose_sign1 msg;
      sp_err err;

      g_test_message ("%s", vector_results[i].file);
      err = sp_cose_sign1_decode (g_bytes_get_data (v->cbor, NULL),
                                  g_bytes_get_size (v->cbor), NULL, &msg);
      assert_err (err, vector_results[i].decode);
      if (err != SP_OK)
        {
          g_assert_true (v->fail);
          continue;
        }
      err = sp_cose_sign1_verify (port, &msg, v->pub,
                                  g_bytes_get_data (v->external, NULL),
                                  g_bytes_get_size (v->external));
      assert_err (err, vector_results[i].verify);
      g_assert_true (v->fail == (err != SP_OK));

      /* The Sig_structure of the object as received is the example's
       * ToBeSign (sign-pass-01 included: its h'A0' counts as h''). */
      if (!v->fail)
        {
          guint8 out[256];
          size_t len;

          assert_err (sp_cose_sign1_sig_structure (
                          &msg, g_bytes_get_data (v->external, NULL),
                          g_bytes_get_size (v->external), out, sizeof out, &len), SP_OK);
          g_assert_cmpmem (out, len, g_bytes_get_data (v->tbs, NULL),
                           g_bytes_get_size (v->tbs));
        }
    }
}

static void
test_vectors_decode (void)
{
  g_autoptr (Vector) ecdsa = vector_load ("ecdsa-sig-01.json");
  g_autoptr (Vector) pass1 = vector_load ("sign-pass-01.json");
  g_autoptr (Vector) pass2 = vector_load ("sign-pass-02.json");
  g_autoptr (Vector) pass3 = vector_load ("sign-pass-03.json");
  g_autoptr (Vector) fail4 = vector_load ("sign-fail-04.json");
  sp_cose_sign1 msg;

  /* ecdsa-sig-01: alg and ctyp 0 protected, kid unprotected. */
  assert_err (sp_cose_sign1_decode (g_bytes_get_data (ecdsa->cbor, NULL),
                                    g_bytes_get_size (ecdsa->cbor), NULL, &msg), SP_OK);
  g_assert_true (msg.tagged);
  g_assert_cmpint (msg.alg_in, ==, SP_COSE_PROTECTED);
  g_assert_true (msg.alg_is_int);
  g_assert_cmpint (msg.alg, ==, SP_COSE_ALG_ES256);
  g_assert_cmpint (msg.cty_in, ==, SP_COSE_PROTECTED);
  g_assert_false (msg.cty_is_text);
  g_assert_cmpuint (msg.cty_uint, ==, 0);
  g_assert_false (sp_cose_sign1_content_type_is (&msg, "application/cwt"));
  g_assert_cmpint (msg.kid_in, ==, SP_COSE_UNPROTECTED);
  g_assert_cmpmem (msg.kid, msg.kid_len, "11", 2);
  g_assert_cmpmem (msg.payload, msg.payload_len, "This is the content.", 20);
  g_assert_cmpuint (msg.signature_len, ==, 64);
  g_assert_cmpuint (msg.unprotected_count, ==, 1);
  /* Not our own kind of object: the kid is unprotected. */
  assert_err (sp_cose_sign1_check_strict (&msg, NULL), SP_ERR_COSE_HEADER);

  /* sign-pass-01: everything unprotected, protected is h'A0'. */
  assert_err (sp_cose_sign1_decode (g_bytes_get_data (pass1->cbor, NULL),
                                    g_bytes_get_size (pass1->cbor), NULL, &msg), SP_OK);
  g_assert_cmpint (msg.alg_in, ==, SP_COSE_UNPROTECTED);
  g_assert_cmpint (msg.kid_in, ==, SP_COSE_UNPROTECTED);
  g_assert_cmpint (msg.cty_in, ==, SP_COSE_ABSENT);
  g_assert_cmpmem (msg.protected_hdr, msg.protected_len, "\xa0", 1);
  g_assert_true (msg.protected_empty);
  assert_err (sp_cose_sign1_check_strict (&msg, NULL), SP_ERR_COSE_HEADER);

  /* sign-pass-02 verifies only with its external AAD. */
  assert_err (sp_cose_sign1_decode (g_bytes_get_data (pass2->cbor, NULL),
                                    g_bytes_get_size (pass2->cbor), NULL, &msg), SP_OK);
  assert_err (sp_cose_sign1_verify (port, &msg, pass2->pub, NULL, 0),
              SP_ERR_BAD_SIGNATURE);

  /* sign-pass-03 is untagged. */
  assert_err (sp_cose_sign1_decode (g_bytes_get_data (pass3->cbor, NULL),
                                    g_bytes_get_size (pass3->cbor), NULL, &msg), SP_OK);
  g_assert_false (msg.tagged);

  /* sign-fail-04: a text alg decodes, and is refused as an algorithm. */
  assert_err (sp_cose_sign1_decode (g_bytes_get_data (fail4->cbor, NULL),
                                    g_bytes_get_size (fail4->cbor), NULL, &msg), SP_OK);
  g_assert_cmpint (msg.alg_in, ==, SP_COSE_PROTECTED);
  g_assert_false (msg.alg_is_int);
  assert_err (sp_cose_sign1_check_strict (&msg, NULL), SP_ERR_COSE_ALG);

  /* A public key that is not theirs (here off the curve) fails. */
  {
    guint8 other[SP_P256_PUB_LEN];

    assert_err (sp_cose_sign1_decode (g_bytes_get_data (ecdsa->cbor, NULL),
                                      g_bytes_get_size (ecdsa->cbor), NULL, &msg), SP_OK);
    memcpy (other, ecdsa->pub, sizeof other);
    other[64] ^= 1;   /* now off the curve */
    g_assert_cmpint (sp_cose_sign1_verify (port, &msg, other, NULL, 0), !=, SP_OK);
  }
}

/* ------------------------------------------------------------------ */
/* Our own objects                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
  sp_key *key;
  guint8 pub[SP_P256_PUB_LEN];
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  assert_err (port->p256_generate (port->ctx, &f->key), SP_OK);
  assert_err (port->p256_public (port->ctx, f->key, f->pub), SP_OK);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  port->key_free (port->ctx, f->key);
}

static const guint8 test_kid[] = "signet-test-kid";
static const char test_payload[] = "{\"op\":\"set\",\"key\":\"wifi\"}";
static const guint8 test_aad[] = { 0xde, 0xad, 0xbe, 0xef };
#define TEST_CTY "application/signet-test"

static gsize
sign_test_object (Fixture *f, guint8 *out, gsize cap, const char *cty,
                  const guint8 *aad, gsize aad_len)
{
  sp_cose_sign1_params params = {
    .kid = test_kid,
    .kid_len = sizeof test_kid - 1,
    .content_type = cty,
    .external_aad = aad,
    .external_aad_len = aad_len,
  };
  size_t len = 0;

  assert_err (sp_cose_sign1_sign (port, f->key, &params,
                                  (const guint8 *) test_payload, strlen (test_payload),
                                  out, cap, &len), SP_OK);
  return len;
}

/* Decode with the default limits and verify. */
static sp_err
decode_verify (const guint8 *buf, gsize len, const guint8 *pub,
               const guint8 *aad, gsize aad_len)
{
  sp_cose_sign1 msg;
  sp_err err = sp_cose_sign1_decode (buf, len, NULL, &msg);

  if (err != SP_OK)
    return err;
  err = sp_cose_sign1_check_strict (&msg, TEST_CTY);
  if (err != SP_OK)
    return err;
  return sp_cose_sign1_verify (port, &msg, pub, aad, aad_len);
}

static void
test_sign_roundtrip (Fixture *f, gconstpointer data)
{
  guint8 out[512], tbs[512], tbs2[512];
  gsize len, tbs_len, tbs2_len;
  sp_cose_sign1 msg;
  static const char prot_hex[] =
    "a3 01 26 03 77 6170706c69636174696f6e2f7369676e65742d74657374"
    " 04 4f 7369676e65742d746573742d6b6964";
  g_autoptr (GBytes) prot = signet_test_hex (prot_hex);

  len = sign_test_object (f, out, sizeof out, TEST_CTY, test_aad, sizeof test_aad);
  assert_err (sp_cose_sign1_decode (out, len, NULL, &msg), SP_OK);
  g_assert_true (msg.tagged);
  g_assert_cmpmem (msg.protected_hdr, msg.protected_len,
                   g_bytes_get_data (prot, NULL), g_bytes_get_size (prot));
  g_assert_cmpuint (msg.unprotected_count, ==, 0);
  g_assert_cmpint (msg.alg_in, ==, SP_COSE_PROTECTED);
  g_assert_cmpint (msg.alg, ==, SP_COSE_ALG_ES256);
  g_assert_cmpint (msg.kid_in, ==, SP_COSE_PROTECTED);
  g_assert_cmpmem (msg.kid, msg.kid_len, test_kid, sizeof test_kid - 1);
  g_assert_true (sp_cose_sign1_content_type_is (&msg, TEST_CTY));
  g_assert_false (sp_cose_sign1_content_type_is (&msg, "application/cwt"));
  g_assert_cmpmem (msg.payload, msg.payload_len, test_payload, strlen (test_payload));
  g_assert_cmpuint (msg.signature_len, ==, SP_P256_SIG_LEN);

  assert_err (sp_cose_sign1_check_strict (&msg, TEST_CTY), SP_OK);
  assert_err (sp_cose_sign1_verify (port, &msg, f->pub, test_aad, sizeof test_aad), SP_OK);

  /* Every byte but the signature is deterministic. */
  {
    guint8 again[512];
    gsize again_len = sign_test_object (f, again, sizeof again, TEST_CTY,
                                        test_aad, sizeof test_aad);

    g_assert_cmpuint (again_len, ==, len);
    g_assert_cmpmem (again, len - SP_P256_SIG_LEN, out, len - SP_P256_SIG_LEN);
  }

  /* The Sig_structure written out is the one RFC 9052 §4.4 describes. */
  assert_err (sp_cose_sig_structure_write (msg.protected_hdr, msg.protected_len,
                                           test_aad, sizeof test_aad,
                                           msg.payload, msg.payload_len,
                                           tbs, sizeof tbs, &tbs_len), SP_OK);
  {
    sp_cbor_writer w;

    sp_cbor_writer_init (&w, tbs2, sizeof tbs2);
    sp_cbor_put_array (&w, 4);
    sp_cbor_put_textz (&w, "Signature1");
    sp_cbor_put_bytes (&w, msg.protected_hdr, msg.protected_len);
    sp_cbor_put_bytes (&w, test_aad, sizeof test_aad);
    sp_cbor_put_bytes (&w, test_payload, strlen (test_payload));
    assert_err (sp_cbor_writer_finish (&w, &tbs2_len), SP_OK);
    g_assert_cmpmem (tbs, tbs_len, tbs2, tbs2_len);
  }

  /* Without a content type: {1: -7, 4: kid}. */
  len = sign_test_object (f, out, sizeof out, NULL, NULL, 0);
  assert_err (sp_cose_sign1_decode (out, len, NULL, &msg), SP_OK);
  g_assert_cmpint (msg.cty_in, ==, SP_COSE_ABSENT);
  assert_err (sp_cose_sign1_check_strict (&msg, NULL), SP_OK);
  assert_err (sp_cose_sign1_check_strict (&msg, TEST_CTY), SP_ERR_COSE_HEADER);
  assert_err (sp_cose_sign1_verify (port, &msg, f->pub, NULL, 0), SP_OK);
}

static void
test_sign_in_place (Fixture *f, gconstpointer data)
{
  guint8 out[512];
  gsize plen = strlen (test_payload), off, len;
  sp_cose_sign1_params params = {
    .kid = test_kid, .kid_len = sizeof test_kid - 1, .content_type = TEST_CTY,
  };

  /* The payload may already sit anywhere inside the output buffer. */
  for (off = 0; off <= SP_COSE_SIGN1_OVERHEAD; off += 7)
    {
      memset (out, 0xAA, sizeof out);
      memcpy (out + off, test_payload, plen);
      assert_err (sp_cose_sign1_sign (port, f->key, &params, out + off, plen,
                                      out, sizeof out, &len), SP_OK);
      assert_err (decode_verify (out, len, f->pub, NULL, 0), SP_OK);
    }
}

static void
test_sign_bad_args (Fixture *f, gconstpointer data)
{
  guint8 out[512], big_kid[SP_COSE_KID_MAX + 1] = { 0 };
  gsize len, need, cap;
  char long_cty[SP_COSE_CTY_MAX + 2];
  sp_cose_sign1_params params = {
    .kid = test_kid, .kid_len = sizeof test_kid - 1, .content_type = TEST_CTY,
  };

  need = sign_test_object (f, out, sizeof out, TEST_CTY, NULL, 0);
  for (cap = 0; cap < need; cap++)
    assert_err (sp_cose_sign1_sign (port, f->key, &params,
                                    (const guint8 *) test_payload, strlen (test_payload),
                                    out, cap, &len), SP_ERR_BUFFER_TOO_SMALL);
  assert_err (sp_cose_sign1_sign (port, f->key, &params,
                                  (const guint8 *) test_payload, strlen (test_payload),
                                  out, need, &len), SP_OK);
  g_assert_cmpuint (len, ==, need);

  params.kid_len = 0;
  assert_err (sp_cose_sign1_sign (port, f->key, &params, NULL, 0, out, sizeof out, &len),
              SP_ERR_INVALID_ARG);
  params.kid = big_kid;
  params.kid_len = sizeof big_kid;
  assert_err (sp_cose_sign1_sign (port, f->key, &params, NULL, 0, out, sizeof out, &len),
              SP_ERR_INVALID_ARG);
  params.kid_len = SP_COSE_KID_MAX;
  memset (long_cty, 'a', sizeof long_cty - 1);
  long_cty[sizeof long_cty - 1] = '\0';
  params.content_type = long_cty;
  assert_err (sp_cose_sign1_sign (port, f->key, &params, NULL, 0, out, sizeof out, &len),
              SP_ERR_INVALID_ARG);
  /* The longest kid and content type fit in the documented overhead. */
  long_cty[SP_COSE_CTY_MAX] = '\0';
  assert_err (sp_cose_sign1_sign (port, f->key, &params, NULL, 0, out, sizeof out, &len),
              SP_OK);
  g_assert_cmpuint (len, <=, SP_COSE_SIGN1_OVERHEAD);
  /* An empty payload is a valid one. */
  params.content_type = NULL;
  assert_err (sp_cose_sign1_sign (port, f->key, &params, NULL, 0, out, sizeof out, &len),
              SP_OK);
  {
    sp_cose_sign1 msg;

    assert_err (sp_cose_sign1_decode (out, len, NULL, &msg), SP_OK);
    g_assert_cmpuint (msg.payload_len, ==, 0);
    assert_err (sp_cose_sign1_verify (port, &msg, f->pub, NULL, 0), SP_OK);
  }
}

static void
test_verify_bit_flip (Fixture *f, gconstpointer data)
{
  guint8 out[512];
  gsize len = sign_test_object (f, out, sizeof out, TEST_CTY, test_aad, sizeof test_aad);
  gsize bit, decoded = 0;

  assert_err (decode_verify (out, len, f->pub, test_aad, sizeof test_aad), SP_OK);
  for (bit = 0; bit < len * 8; bit++)
    {
      g_autofree guint8 *copy = g_memdup2 (out, len);
      sp_cose_sign1 msg;

      copy[bit / 8] ^= (guint8) (1u << (bit % 8));
      if (sp_cose_sign1_decode (copy, len, NULL, &msg) == SP_OK)
        {
          decoded++;
          /* Even without our policy check it must never verify. */
          g_assert_cmpint (sp_cose_sign1_verify (port, &msg, f->pub, test_aad,
                                                 sizeof test_aad), !=, SP_OK);
        }
      g_assert_cmpint (decode_verify (copy, len, f->pub, test_aad, sizeof test_aad), !=, SP_OK);
    }
  /* Flips inside the strings decode fine and fail on the signature. */
  g_assert_cmpuint (decoded, >, len * 4);
}

static void
test_verify_wrong_key (Fixture *f, gconstpointer data)
{
  guint8 out[512];
  gsize len = sign_test_object (f, out, sizeof out, TEST_CTY, NULL, 0);
  Fixture other;

  fixture_setup (&other, NULL);
  assert_err (decode_verify (out, len, other.pub, NULL, 0), SP_ERR_BAD_SIGNATURE);
  assert_err (decode_verify (out, len, f->pub, NULL, 0), SP_OK);
  fixture_teardown (&other, NULL);
}

static void
test_verify_wrong_aad (Fixture *f, gconstpointer data)
{
  guint8 out[512];
  gsize len = sign_test_object (f, out, sizeof out, TEST_CTY, test_aad, sizeof test_aad);
  guint8 aad[sizeof test_aad];

  assert_err (decode_verify (out, len, f->pub, test_aad, sizeof test_aad), SP_OK);
  assert_err (decode_verify (out, len, f->pub, NULL, 0), SP_ERR_BAD_SIGNATURE);
  assert_err (decode_verify (out, len, f->pub, test_aad, sizeof test_aad - 1),
              SP_ERR_BAD_SIGNATURE);
  memcpy (aad, test_aad, sizeof aad);
  aad[0] ^= 0x80;
  assert_err (decode_verify (out, len, f->pub, aad, sizeof aad), SP_ERR_BAD_SIGNATURE);

  /* And an object signed without AAD does not verify with one. */
  len = sign_test_object (f, out, sizeof out, TEST_CTY, NULL, 0);
  assert_err (decode_verify (out, len, f->pub, test_aad, sizeof test_aad),
              SP_ERR_BAD_SIGNATURE);
}

static void
test_verify_truncated (Fixture *f, gconstpointer data)
{
  guint8 out[512];
  gsize len = sign_test_object (f, out, sizeof out, TEST_CTY, NULL, 0);
  gsize cut;

  for (cut = 0; cut < len; cut++)
    {
      g_autofree guint8 *copy = g_memdup2 (out, cut);
      sp_cose_sign1 msg;

      assert_err (sp_cose_sign1_decode (copy, cut, NULL, &msg), SP_ERR_CBOR_TRUNCATED);
    }
  {
    /* One byte more is trailing garbage, not a longer object. */
    g_autofree guint8 *longer = g_malloc0 (len + 1);
    sp_cose_sign1 msg;

    memcpy (longer, out, len);
    assert_err (sp_cose_sign1_decode (longer, len + 1, NULL, &msg), SP_ERR_CBOR_TRAILING);
  }
}

/* Content type confusion: an object of one kind is refused as another. */
static void
test_strict_content_type (Fixture *f, gconstpointer data)
{
  guint8 out[512];
  gsize len = sign_test_object (f, out, sizeof out, "application/signet-pop", NULL, 0);
  sp_cose_sign1 msg;

  assert_err (sp_cose_sign1_decode (out, len, NULL, &msg), SP_OK);
  assert_err (sp_cose_sign1_verify (port, &msg, f->pub, NULL, 0), SP_OK);
  assert_err (sp_cose_sign1_check_strict (&msg, "application/signet-pop"), SP_OK);
  assert_err (sp_cose_sign1_check_strict (&msg, TEST_CTY), SP_ERR_COSE_HEADER);
  assert_err (sp_cose_sign1_check_strict (&msg, "application/signet-po"), SP_ERR_COSE_HEADER);
  assert_err (sp_cose_sign1_check_strict (&msg, NULL), SP_ERR_COSE_HEADER);
}

/* Hand-made objects, each broken in one way. The signature does not
 * matter: all of these fail before it is checked. */
static void
test_decode_reject (void)
{
  static const struct { const char *hex; sp_err err; } cases[] = {
    { "d2 84 46 a2012602 8101 a0 41 00 40", SP_ERR_COSE_HEADER },   /* crit */
    { "d2 84 40 a1 02 81 01 41 00 40", SP_ERR_COSE_HEADER },        /* crit, unprotected */
    { "d2 84 43 a10126 a1 01 26 41 00 40", SP_ERR_COSE_HEADER },    /* alg in both */
    { "d2 84 43 a10126 a1 01 27 41 00 40", SP_ERR_COSE_HEADER },    /* alg in both, differing */
    { "d2 84 43 a10126 a0 f6 40", SP_ERR_COSE_HEADER },             /* detached */
    { "d2 83 43 a10126 a0 41 00", SP_ERR_VALUE },                   /* 3 elements */
    { "d2 85 43 a10126 a0 41 00 40 40", SP_ERR_VALUE },             /* 5 elements */
    { "d2 a0", SP_ERR_TYPE },                                       /* not an array */
    { "d2 84 a10126 a0 41 00 40", SP_ERR_TYPE },                    /* protected a map */
    { "d2 84 42 8100 a0 41 00 40", SP_ERR_COSE_HEADER },            /* protected an array */
    { "d2 84 41 01 a0 41 00 40", SP_ERR_COSE_HEADER },              /* protected an int */
    { "d2 84 42 a101 a0 41 00 40", SP_ERR_CBOR_TRUNCATED },         /* protected cut */
    { "d2 84 44 a1012600 a0 41 00 40", SP_ERR_CBOR_TRAILING },      /* protected + junk */
    { "d2 84 45 a2 04 40 01 26 a0 41 00 40", SP_ERR_CBOR_UNSORTED_KEYS },
    { "d2 84 43 a10126 80 41 00 40", SP_ERR_TYPE },                 /* unprotected array */
    { "d2 84 43 a10126 a0 61 61 40", SP_ERR_TYPE },                 /* text payload */
    { "d2 84 43 a10126 a0 41 00 00", SP_ERR_TYPE },                 /* int signature */
    { "d2 84 43 a10126 a0 41 00 f6", SP_ERR_TYPE },                 /* nil signature */
    { "d2 84 43 a10126 a1 04 01 41 00 40", SP_ERR_COSE_HEADER },    /* int kid */
    { "d2 84 43 a10126 a1 04 61 31 41 00 40", SP_ERR_COSE_HEADER }, /* text kid */
    { "d2 84 43 a10126 a1 03 40 41 00 40", SP_ERR_COSE_HEADER },    /* bytes cty */
    { "d2 84 43 a10126 a1 03 1a00010000 41 00 40", SP_ERR_COSE_HEADER }, /* cty > 16 bit */
    { "d2 84 44 a1014100 a0 41 00 40", SP_ERR_COSE_HEADER },        /* bytes alg */
    { "d2 84 43 a101f6 a0 41 00 40", SP_ERR_COSE_HEADER },          /* nil alg */
    { "d2 84 43 a10126 a1 41 00 00 41 00 40", SP_ERR_COSE_HEADER }, /* bytes label */
    { "d2 84 43 a10126 a1 f4 00 41 00 40", SP_ERR_COSE_HEADER },    /* bool label */
    { "d2 d2 84 43 a10126 a0 41 00 40", SP_ERR_COSE_TAG },          /* 18(18(...)) */
    { "d8 3d 84 43 a10126 a0 41 00 40", SP_ERR_COSE_TAG },          /* CWT tag 61 */
    { "d1 84 43 a10126 a0 41 00 40", SP_ERR_COSE_TAG },             /* COSE_Mac0 */
    { "d8 12 84 43 a10126 a0 41 00 40", SP_ERR_CBOR_NON_MINIMAL },  /* tag 18, long */
    { "d2 84 43 a10126 a0 5f 41 00 ff 40", SP_ERR_CBOR_INDEFINITE },
    { "", SP_ERR_CBOR_TRUNCATED },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) b = signet_test_hex (cases[i].hex);
      sp_cose_sign1 msg;

      g_test_message ("%s", cases[i].hex);
      assert_err (sp_cose_sign1_decode (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
                                        NULL, &msg), cases[i].err);
    }
}

/* These decode, and fail at verify for the right reason. */
static void
test_verify_reject (Fixture *f, gconstpointer data)
{
  static const struct { const char *hex; sp_err err; } cases[] = {
    { "d2 84 40 a0 41 00 40", SP_ERR_COSE_ALG },                      /* no alg */
    { "d2 84 41 a0 a0 41 00 40", SP_ERR_COSE_ALG },                   /* h'A0', no alg */
    { "d2 84 43 a10127 a0 41 00 40", SP_ERR_COSE_ALG },               /* EdDSA */
    { "d2 84 4b a1013bffffffffffffffff a0 41 00 40", SP_ERR_COSE_ALG }, /* alg < INT64_MIN */
    { "d2 84 43 a10126 a0 41 00 40", SP_ERR_BAD_SIGNATURE },          /* empty signature */
    { "d2 84 43 a10126 a0 41 00 58 3f"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "00000000000000000000000000000000000000000000000000000000000000", SP_ERR_BAD_SIGNATURE },
    { "d2 84 43 a10126 a0 41 00 58 40"
      "0000000000000000000000000000000000000000000000000000000000000000"
      "0000000000000000000000000000000000000000000000000000000000000000", SP_ERR_BAD_SIGNATURE },
    { "d2 84 43 a10126 a0 41 00 58 40"
      "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
      "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", SP_ERR_BAD_SIGNATURE },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) b = signet_test_hex (cases[i].hex);
      sp_cose_sign1 msg;

      g_test_message ("%s", cases[i].hex);
      assert_err (sp_cose_sign1_decode (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
                                        NULL, &msg), SP_OK);
      assert_err (sp_cose_sign1_verify (port, &msg, f->pub, NULL, 0), cases[i].err);
    }
}

/* Headers we do not know are ignored (RFC 9052 allows it), and text
 * labels too; our strict policy still refuses anything unprotected. */
static void
test_decode_accept (void)
{
  static const char *cases[] = {
    "d2 84 43 a10126 a1 05 41 00 41 00 40",              /* IV, unprotected */
    "d2 84 43 a10126 a1 61 78 01 41 00 40",              /* text label */
    "84 43 a10126 a0 41 00 40",                          /* untagged */
    "d2 84 40 a2 01 26 04 42 3131 41 00 40",             /* all unprotected */
    "d2 84 46 a2 01 26 03 61 78 a0 41 00 40",            /* text cty */
    "d2 84 43 a10126 a0 40 40",                          /* empty payload */
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) b = signet_test_hex (cases[i]);
      sp_cose_sign1 msg;

      assert_err (sp_cose_sign1_decode (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
                                        NULL, &msg), SP_OK);
    }
}

/* ------------------------------------------------------------------ */
/* COSE_Key                                                            */
/* ------------------------------------------------------------------ */

/* The examples' key "11", as python3-cbor2 (canonical) encodes it. */
#define KEY_X "bac5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff"
#define KEY_Y "20138bf82dc1b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e"
#define KEY_D "57c92077664146e876760c9520d054aa93c3afb04e306705db6090308507b4d3"

static void
vector_key (sp_cose_key *key, gboolean with_kid, gboolean with_d)
{
  g_autoptr (GBytes) x = signet_test_hex (KEY_X);
  g_autoptr (GBytes) y = signet_test_hex (KEY_Y);
  g_autoptr (GBytes) d = signet_test_hex (KEY_D);

  memset (key, 0, sizeof *key);
  key->pub[0] = 0x04;
  memcpy (key->pub + 1, g_bytes_get_data (x, NULL), 32);
  memcpy (key->pub + 33, g_bytes_get_data (y, NULL), 32);
  if (with_kid)
    {
      memcpy (key->kid, "11", 2);
      key->kid_len = 2;
    }
  if (with_d)
    {
      memcpy (key->d, g_bytes_get_data (d, NULL), 32);
      key->has_d = TRUE;
    }
}

static void
test_key_encode (void)
{
  static const struct { gboolean kid, d, include_private; const char *hex; } cases[] = {
    { TRUE, TRUE, TRUE,
      "a7 01 02 02 42 3131 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y " 23 5820" KEY_D },
    { TRUE, TRUE, FALSE,
      "a6 01 02 02 42 3131 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y },
    { FALSE, FALSE, TRUE,
      "a5 01 02 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y },
    { FALSE, TRUE, TRUE,
      "a6 01 02 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y " 23 5820" KEY_D },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) want = signet_test_hex (cases[i].hex);
      sp_cose_key key, back;
      guint8 out[SP_COSE_KEY_MAX_LEN];
      size_t len, cap;

      vector_key (&key, cases[i].kid, cases[i].d);
      assert_err (sp_cose_key_encode (&key, cases[i].include_private, out, sizeof out, &len),
                  SP_OK);
      g_assert_cmpmem (out, len, g_bytes_get_data (want, NULL), g_bytes_get_size (want));

      assert_err (sp_cose_key_decode (out, len, &back), SP_OK);
      g_assert_cmpmem (back.pub, sizeof back.pub, key.pub, sizeof key.pub);
      g_assert_cmpmem (back.kid, back.kid_len, key.kid, key.kid_len);
      g_assert_true (back.has_d == (cases[i].d && cases[i].include_private));
      if (back.has_d)
        g_assert_cmpmem (back.d, sizeof back.d, key.d, sizeof key.d);
      sp_wipe (&back, sizeof back);

      /* A short buffer fails and keeps no piece of the private key. */
      for (cap = 0; cap < len; cap++)
        {
          memset (out, 0, sizeof out);
          assert_err (sp_cose_key_encode (&key, cases[i].include_private, out, cap, &len),
                      SP_ERR_BUFFER_TOO_SMALL);
          if (cases[i].include_private)
            g_assert_cmpuint (out[0], ==, 0);
        }
    }
}

/* The private scalar of the examples' key belongs to its public point:
 * the port agrees with what the COSE_Key says. */
static void
test_key_port (void)
{
  sp_cose_key key;
  sp_key *handle = NULL;
  guint8 pub[SP_P256_PUB_LEN];

  vector_key (&key, TRUE, TRUE);
  assert_err (port->p256_import_private (port->ctx, key.d, &handle), SP_OK);
  assert_err (port->p256_public (port->ctx, handle, pub), SP_OK);
  g_assert_cmpmem (pub, sizeof pub, key.pub, sizeof key.pub);
  port->key_free (port->ctx, handle);
  sp_wipe (&key, sizeof key);
}

static void
test_key_decode_reject (void)
{
  static const struct { const char *hex; sp_err err; } cases[] = {
    { "a5 01 02 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_OK },
    { "a4 01 02 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_OK },          /* no alg */
    { "a5 01 03 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_KEY }, /* kty RSA */
    { "a5 01 01 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_KEY }, /* kty OKP */
    { "a5 01 02 03 26 20 02 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_KEY }, /* P-384 */
    { "a5 01 02 03 38 22 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_KEY }, /* ES384 */
    { "a5 01 02 03 26 20 01 21 581f"   /* 31-byte x */
      "c5b11cad8f99f9c72b05cf4b9e26d244dc189f745228255a219a86d6a09eff"
      " 22 5820" KEY_Y, SP_ERR_KEY },
    { "a5 01 02 03 26 20 01 21 5821 00" KEY_X " 22 5820" KEY_Y, SP_ERR_KEY }, /* 33-byte x */
    { "a5 01 02 03 26 20 01 21 5820" KEY_X " 22 f5", SP_ERR_TYPE },      /* compressed */
    { "a5 01 02 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y " 23 5820" KEY_D,
      SP_ERR_CBOR_TRAILING },                                            /* 5 pairs said */
    { "a6 01 02 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y " 23 4100", SP_ERR_KEY },
    { "a6 01 02 03 26 04 80 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_UNKNOWN_FIELD },
    { "a6 01 02 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y " 24 00", SP_ERR_UNKNOWN_FIELD },
    { "a6 01 02 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y " 6178 00", SP_ERR_UNKNOWN_FIELD },
    { "a4 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_MISSING },    /* no kty */
    { "a4 01 02 03 26 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_MISSING },    /* no crv */
    { "a4 01 02 03 26 20 01 22 5820" KEY_Y, SP_ERR_MISSING },               /* no x */
    { "a4 01 02 03 26 20 01 21 5820" KEY_X, SP_ERR_MISSING },               /* no y */
    { "a6 01 02 02 40 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_KEY }, /* empty kid */
    { "a6 01 02 02 61 31 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_TYPE },
    { "a5 01 62 3032 03 26 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_TYPE }, /* kty "02" */
    { "a5 01 02 03 26 20 01 22 5820" KEY_Y " 21 5820" KEY_X, SP_ERR_CBOR_UNSORTED_KEYS },
    { "a5 03 26 01 02 20 01 21 5820" KEY_X " 22 5820" KEY_Y, SP_ERR_CBOR_UNSORTED_KEYS },
    { "85 01 02 03 04 05", SP_ERR_TYPE },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GBytes) b = signet_test_hex (cases[i].hex);
      sp_cose_key key;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      assert_err (sp_cose_key_decode (g_bytes_get_data (b, NULL), g_bytes_get_size (b), &key),
                  cases[i].err);
    }

  /* The longest kid fits SP_COSE_KEY_MAX_LEN; one more byte is refused. */
  {
    sp_cose_key key, back;
    guint8 out[SP_COSE_KEY_MAX_LEN + 8];
    size_t len;

    vector_key (&key, FALSE, TRUE);
    memset (key.kid, 'k', SP_COSE_KID_MAX);
    key.kid_len = SP_COSE_KID_MAX;
    assert_err (sp_cose_key_encode (&key, TRUE, out, SP_COSE_KEY_MAX_LEN, &len), SP_OK);
    g_assert_cmpuint (len, ==, SP_COSE_KEY_MAX_LEN);
    assert_err (sp_cose_key_decode (out, len, &back), SP_OK);
    g_assert_cmpuint (back.kid_len, ==, SP_COSE_KID_MAX);
    /* Bump the kid length (a 64-byte bstr at offset 4: 58 40) to 65. */
    g_assert_cmphex (out[4], ==, 0x58);
    g_assert_cmphex (out[5], ==, SP_COSE_KID_MAX);
    memmove (out + 7, out + 6, len - 6);
    out[5] = SP_COSE_KID_MAX + 1;
    out[6] = 'k';
    assert_err (sp_cose_key_decode (out, len + 1, &back), SP_ERR_KEY);
    key.kid_len = SP_COSE_KID_MAX + 1;
    assert_err (sp_cose_key_encode (&key, TRUE, out, sizeof out, &len), SP_ERR_INVALID_ARG);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  port = signet_crypto_port_openssl ();

  g_test_add_func ("/signet/cose/vectors/sig-structure", test_vectors_sig_structure);
  g_test_add_func ("/signet/cose/vectors/verify", test_vectors_verify);
  g_test_add_func ("/signet/cose/vectors/decode", test_vectors_decode);
  g_test_add_func ("/signet/cose/decode/reject", test_decode_reject);
  g_test_add_func ("/signet/cose/decode/accept", test_decode_accept);
  g_test_add_func ("/signet/cose/key/encode", test_key_encode);
  g_test_add_func ("/signet/cose/key/port", test_key_port);
  g_test_add_func ("/signet/cose/key/decode-reject", test_key_decode_reject);
#define ADD(path, fn) \
  g_test_add ("/signet/cose/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("sign/roundtrip", test_sign_roundtrip);
  ADD ("sign/in-place", test_sign_in_place);
  ADD ("sign/bad-args", test_sign_bad_args);
  ADD ("verify/bit-flip", test_verify_bit_flip);
  ADD ("verify/wrong-key", test_verify_wrong_key);
  ADD ("verify/wrong-aad", test_verify_wrong_aad);
  ADD ("verify/truncated", test_verify_truncated);
  ADD ("verify/reject", test_verify_reject);
  ADD ("strict/content-type", test_strict_content_type);
#undef ADD

  return g_test_run ();
}
