/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-hpke: proto's HPKE (sp-hpke.h) against every vector of RFC 9180
 * A.3.1 (DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, base mode),
 * intermediates included, and core's single-shot wrapper (signet-hpke.h)
 * with its failure modes.
 */
#include "signet-test-util.h"
#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "signet-crypto-port.h"
#include "signet-hpke.h"
#include "signet-key.h"
#include "sp-hpke.h"

typedef struct {
  JsonObject *vector;
  const sp_crypto_port *port;
} Fixture;

/* hex member of a JSON object into a new GBytes */
static GBytes *
member_bytes (JsonObject *obj,
              const char *name)
{
  return signet_test_hex (json_object_get_string_member (obj, name));
}

/* a hex member that must be exactly len bytes, into out */
static void
member_fill (JsonObject *obj,
             const char *name,
             guint8     *out,
             gsize       len)
{
  g_autoptr(GBytes) b = member_bytes (obj, name);

  g_assert_cmpuint (g_bytes_get_size (b), ==, len);
  memcpy (out, g_bytes_get_data (b, NULL), len);
}

static void
assert_member_eq (JsonObject   *obj,
                  const char   *name,
                  const guint8 *got,
                  gsize         len)
{
  g_autoptr(GBytes) b = member_bytes (obj, name);

  g_assert_cmpmem (got, len, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
}

static JsonNode *vectors_root;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  JsonArray *array = json_node_get_array (vectors_root);

  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  f->vector = json_array_get_object_element (array, 0);
  f->port = signet_crypto_port_openssl ();

  /* the file holds the suite this code implements, base mode */
  g_assert_cmpint (json_object_get_int_member (f->vector, "mode"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (f->vector, "kem_id"), ==, 16);
  g_assert_cmpint (json_object_get_int_member (f->vector, "kdf_id"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (f->vector, "aead_id"), ==, 1);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
}

/* DeriveKeyPair(ikm) as a port key, checked against sk/pk */
static sp_key *
derive (Fixture    *f,
        const char *ikm_name,
        const char *sk_name,
        const char *pk_name)
{
  g_autoptr(GBytes) ikm = member_bytes (f->vector, ikm_name);
  g_autoptr(GBytes) sk_expected = member_bytes (f->vector, sk_name);
  g_autoptr(SignetKey) wrapped = NULL;
  g_autoptr(GBytes) sk = NULL;
  g_autoptr(GError) error = NULL;
  guint8 pub[SP_P256_PUB_LEN];
  sp_key *key = NULL;
  sp_key *copy = NULL;

  g_assert_cmpint (sp_hpke_derive_key_pair (f->port, g_bytes_get_data (ikm, NULL),
                                            g_bytes_get_size (ikm), &key),
                   ==, SP_OK);
  g_assert_cmpint (f->port->p256_public (f->port->ctx, key, pub), ==, SP_OK);
  assert_member_eq (f->vector, pk_name, pub, sizeof pub);

  /* the scalar itself, read back through a SignetKey around a second copy */
  g_assert_cmpint (sp_hpke_derive_key_pair (f->port, g_bytes_get_data (ikm, NULL),
                                            g_bytes_get_size (ikm), &copy),
                   ==, SP_OK);
  wrapped = signet_key_new_take_sp_key (copy, &error);
  g_assert_no_error (error);
  sk = signet_key_dup_private_bytes (wrapped, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (sk, sk_expected));
  return key;
}

static void
test_derive_key_pair (Fixture       *f,
                      gconstpointer  data)
{
  sp_key *skE = derive (f, "ikmE", "skEm", "pkEm");
  sp_key *skR = derive (f, "ikmR", "skRm", "pkRm");

  f->port->key_free (f->port->ctx, skE);
  f->port->key_free (f->port->ctx, skR);
}

static void
test_intermediates (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GBytes) info = member_bytes (f->vector, "info");
  sp_key *skE = derive (f, "ikmE", "skEm", "pkEm");
  sp_key *skR = derive (f, "ikmR", "skRm", "pkRm");
  guint8 pkR[SP_P256_PUB_LEN];
  guint8 enc[SP_HPKE_ENC_LEN];
  guint8 ss_s[SP_HPKE_SECRET_LEN], ss_r[SP_HPKE_SECRET_LEN];
  sp_hpke_ctx s, r;

  member_fill (f->vector, "pkRm", pkR, sizeof pkR);

  /* Encap / Decap */
  g_assert_cmpint (sp_hpke_encap (f->port, pkR, skE, ss_s, enc), ==, SP_OK);
  assert_member_eq (f->vector, "enc", enc, sizeof enc);
  assert_member_eq (f->vector, "shared_secret", ss_s, sizeof ss_s);
  g_assert_cmpint (sp_hpke_decap (f->port, enc, skR, ss_r), ==, SP_OK);
  assert_member_eq (f->vector, "shared_secret", ss_r, sizeof ss_r);

  /* KeySchedule */
  g_assert_cmpint (sp_hpke_key_schedule (f->port, ss_s, g_bytes_get_data (info, NULL),
                                         g_bytes_get_size (info), &s), ==, SP_OK);
  assert_member_eq (f->vector, "key", s.key, sizeof s.key);
  assert_member_eq (f->vector, "base_nonce", s.base_nonce, sizeof s.base_nonce);
  assert_member_eq (f->vector, "exporter_secret", s.exporter_secret,
                    sizeof s.exporter_secret);
  g_assert_cmpuint (s.seq, ==, 0);

  /* SetupBaseS with the vector's ephemeral key, SetupBaseR from its enc */
  memset (&s, 0, sizeof s);
  memset (enc, 0, sizeof enc);
  g_assert_cmpint (sp_hpke_setup_base_s (f->port, pkR, g_bytes_get_data (info, NULL),
                                         g_bytes_get_size (info), skE, enc, &s),
                   ==, SP_OK);
  assert_member_eq (f->vector, "enc", enc, sizeof enc);
  assert_member_eq (f->vector, "key", s.key, sizeof s.key);

  member_fill (f->vector, "enc", enc, sizeof enc);
  g_assert_cmpint (sp_hpke_setup_base_r (f->port, enc, skR, g_bytes_get_data (info, NULL),
                                         g_bytes_get_size (info), &r), ==, SP_OK);
  assert_member_eq (f->vector, "key", r.key, sizeof r.key);
  assert_member_eq (f->vector, "base_nonce", r.base_nonce, sizeof r.base_nonce);
  assert_member_eq (f->vector, "exporter_secret", r.exporter_secret,
                    sizeof r.exporter_secret);

  sp_hpke_ctx_wipe (&s);
  sp_hpke_ctx_wipe (&r);
  for (gsize i = 0; i < sizeof s; i++)
    g_assert_cmpint (((guint8 *) &s)[i], ==, 0);
  f->port->key_free (f->port->ctx, skE);
  f->port->key_free (f->port->ctx, skR);
}

/* the labeled functions by themselves: key_schedule_context and secret */
static void
test_labeled (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GBytes) info = member_bytes (f->vector, "info");
  g_autoptr(GBytes) ksc = member_bytes (f->vector, "key_schedule_context");
  guint8 ss[SP_HPKE_SECRET_LEN], psk_id_hash[32], info_hash[32], secret[32];
  sp_iovec info_iov = { g_bytes_get_data (info, NULL), g_bytes_get_size (info) };
  const guint8 *k = g_bytes_get_data (ksc, NULL);

  member_fill (f->vector, "shared_secret", ss, sizeof ss);
  g_assert_cmpuint (g_bytes_get_size (ksc), ==, 65);

  g_assert_cmpint (sp_hpke_labeled_extract (f->port, sp_hpke_suite_id,
                                            SP_HPKE_SUITE_ID_LEN, NULL, 0,
                                            "psk_id_hash", NULL, 0, psk_id_hash),
                   ==, SP_OK);
  g_assert_cmpint (sp_hpke_labeled_extract (f->port, sp_hpke_suite_id,
                                            SP_HPKE_SUITE_ID_LEN, NULL, 0,
                                            "info_hash", &info_iov, 1, info_hash),
                   ==, SP_OK);
  g_assert_cmpint (k[0], ==, 0);
  g_assert_cmpmem (k + 1, 32, psk_id_hash, 32);
  g_assert_cmpmem (k + 33, 32, info_hash, 32);

  g_assert_cmpint (sp_hpke_labeled_extract (f->port, sp_hpke_suite_id,
                                            SP_HPKE_SUITE_ID_LEN, ss, sizeof ss,
                                            "secret", NULL, 0, secret), ==, SP_OK);
  assert_member_eq (f->vector, "secret", secret, sizeof secret);

  /* out of range lengths */
  g_assert_cmpint (sp_hpke_labeled_expand (f->port, sp_hpke_suite_id,
                                           SP_HPKE_SUITE_ID_LEN, secret, "x",
                                           NULL, 0, secret, 0),
                   ==, SP_ERR_INVALID_ARG);
}

static void
setup_pair (Fixture     *f,
            sp_hpke_ctx *s,
            sp_hpke_ctx *r)
{
  g_autoptr(GBytes) info = member_bytes (f->vector, "info");
  sp_key *skE = derive (f, "ikmE", "skEm", "pkEm");
  sp_key *skR = derive (f, "ikmR", "skRm", "pkRm");
  guint8 pkR[SP_P256_PUB_LEN], enc[SP_HPKE_ENC_LEN];

  member_fill (f->vector, "pkRm", pkR, sizeof pkR);
  g_assert_cmpint (sp_hpke_setup_base_s (f->port, pkR, g_bytes_get_data (info, NULL),
                                         g_bytes_get_size (info), skE, enc, s),
                   ==, SP_OK);
  g_assert_cmpint (sp_hpke_setup_base_r (f->port, enc, skR, g_bytes_get_data (info, NULL),
                                         g_bytes_get_size (info), r), ==, SP_OK);
  f->port->key_free (f->port->ctx, skE);
  f->port->key_free (f->port->ctx, skR);
}

static void
test_encryptions (Fixture       *f,
                  gconstpointer  data)
{
  JsonArray *encryptions = json_object_get_array_member (f->vector, "encryptions");
  guint n = json_array_get_length (encryptions);
  sp_hpke_ctx s, r;
  guint i;

  /* RFC 9180's vectors are 257 consecutive messages: seq 0..256 crosses a
   * byte boundary of the nonce */
  g_assert_cmpuint (n, ==, 257);
  setup_pair (f, &s, &r);

  for (i = 0; i < n; i++)
    {
      JsonObject *e = json_array_get_object_element (encryptions, i);
      g_autoptr(GBytes) aad = member_bytes (e, "aad");
      g_autoptr(GBytes) pt = member_bytes (e, "pt");
      g_autoptr(GBytes) ct = member_bytes (e, "ct");
      g_autoptr(GBytes) nonce = member_bytes (e, "nonce");
      g_autofree guint8 *out_ct = g_malloc (g_bytes_get_size (pt) + SP_HPKE_TAG_LEN);
      g_autofree guint8 *out_pt = g_malloc (g_bytes_get_size (pt) + 1);
      guint8 expected_nonce[SP_HPKE_NONCE_LEN];
      guint j;

      /* ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn) */
      g_assert_cmpuint (s.seq, ==, i);
      memcpy (expected_nonce, s.base_nonce, sizeof expected_nonce);
      for (j = 0; j < 8; j++)
        expected_nonce[11 - j] ^= (guint8) ((guint64) i >> (8 * j));
      g_assert_cmpmem (expected_nonce, 12, g_bytes_get_data (nonce, NULL),
                       g_bytes_get_size (nonce));

      g_assert_cmpint (sp_hpke_seal (&s, g_bytes_get_data (aad, NULL),
                                     g_bytes_get_size (aad),
                                     g_bytes_get_data (pt, NULL),
                                     g_bytes_get_size (pt), out_ct), ==, SP_OK);
      g_assert_cmpmem (out_ct, g_bytes_get_size (pt) + SP_HPKE_TAG_LEN,
                       g_bytes_get_data (ct, NULL), g_bytes_get_size (ct));

      g_assert_cmpint (sp_hpke_open (&r, g_bytes_get_data (aad, NULL),
                                     g_bytes_get_size (aad),
                                     g_bytes_get_data (ct, NULL),
                                     g_bytes_get_size (ct), out_pt), ==, SP_OK);
      g_assert_cmpmem (out_pt, g_bytes_get_size (pt), g_bytes_get_data (pt, NULL),
                       g_bytes_get_size (pt));
    }
  g_assert_cmpuint (r.seq, ==, n);

  sp_hpke_ctx_wipe (&s);
  sp_hpke_ctx_wipe (&r);
}

static void
test_exports (Fixture       *f,
              gconstpointer  data)
{
  JsonArray *exports = json_object_get_array_member (f->vector, "exports");
  sp_hpke_ctx s, r;
  guint i;

  g_assert_cmpuint (json_array_get_length (exports), ==, 3);
  setup_pair (f, &s, &r);
  for (i = 0; i < json_array_get_length (exports); i++)
    {
      JsonObject *e = json_array_get_object_element (exports, i);
      g_autoptr(GBytes) context = member_bytes (e, "exporter_context");
      gsize L = (gsize) json_object_get_int_member (e, "L");
      g_autofree guint8 *out = g_malloc (L);

      g_assert_cmpint (sp_hpke_export (&s, g_bytes_get_data (context, NULL),
                                       g_bytes_get_size (context), out, L), ==, SP_OK);
      assert_member_eq (e, "exported_value", out, L);
      memset (out, 0, L);
      g_assert_cmpint (sp_hpke_export (&r, g_bytes_get_data (context, NULL),
                                       g_bytes_get_size (context), out, L), ==, SP_OK);
      assert_member_eq (e, "exported_value", out, L);
    }
  sp_hpke_ctx_wipe (&s);
  sp_hpke_ctx_wipe (&r);
}

static void
test_open_failures_keep_seq (Fixture       *f,
                             gconstpointer  data)
{
  JsonArray *encryptions = json_object_get_array_member (f->vector, "encryptions");
  JsonObject *e0 = json_array_get_object_element (encryptions, 0);
  g_autoptr(GBytes) aad = member_bytes (e0, "aad");
  g_autoptr(GBytes) ct = member_bytes (e0, "ct");
  g_autofree guint8 *bad = g_memdup2 (g_bytes_get_data (ct, NULL), g_bytes_get_size (ct));
  guint8 pt[256];
  sp_hpke_ctx s, r;

  setup_pair (f, &s, &r);

  /* a failed open neither advances seq nor spoils the next good one */
  bad[0] ^= 1;
  g_assert_cmpint (sp_hpke_open (&r, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                 bad, g_bytes_get_size (ct), pt), ==, SP_ERR_AUTH);
  g_assert_cmpint (sp_hpke_open (&r, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                 bad, 15, pt), ==, SP_ERR_AUTH);
  g_assert_cmpuint (r.seq, ==, 0);
  g_assert_cmpint (sp_hpke_open (&r, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                 g_bytes_get_data (ct, NULL), g_bytes_get_size (ct), pt),
                   ==, SP_OK);
  g_assert_cmpuint (r.seq, ==, 1);

  /* replaying message 0 at seq 1 fails */
  g_assert_cmpint (sp_hpke_open (&r, g_bytes_get_data (aad, NULL), g_bytes_get_size (aad),
                                 g_bytes_get_data (ct, NULL), g_bytes_get_size (ct), pt),
                   ==, SP_ERR_AUTH);

  sp_hpke_ctx_wipe (&s);
  sp_hpke_ctx_wipe (&r);
}

static void
test_seq_exhausted (Fixture       *f,
                    gconstpointer  data)
{
  sp_hpke_ctx s, r;
  guint8 ct[SP_HPKE_TAG_LEN + 1], pt[1] = { 'x' };

  setup_pair (f, &s, &r);
  s.seq = G_MAXUINT64 - 1;
  g_assert_cmpint (sp_hpke_seal (&s, NULL, 0, pt, 1, ct), ==, SP_OK);
  g_assert_cmpuint (s.seq, ==, G_MAXUINT64);
  /* the next would reuse a nonce after wrapping: refused, and it stays so */
  g_assert_cmpint (sp_hpke_seal (&s, NULL, 0, pt, 1, ct), ==, SP_ERR_INVALID_ARG);
  g_assert_cmpint (sp_hpke_seal (&s, NULL, 0, pt, 1, ct), ==, SP_ERR_INVALID_ARG);
  r.seq = G_MAXUINT64;
  g_assert_cmpint (sp_hpke_open (&r, NULL, 0, ct, sizeof ct, pt), ==, SP_ERR_INVALID_ARG);
  sp_hpke_ctx_wipe (&s);
  sp_hpke_ctx_wipe (&r);
}

static void
test_decap_bad_enc (Fixture       *f,
                    gconstpointer  data)
{
  sp_key *skR = derive (f, "ikmR", "skRm", "pkRm");
  guint8 enc[SP_HPKE_ENC_LEN], ss[SP_HPKE_SECRET_LEN];
  sp_hpke_ctx r;

  member_fill (f->vector, "enc", enc, sizeof enc);
  enc[64] ^= 0x01;
  g_assert_cmpint (sp_hpke_decap (f->port, enc, skR, ss), ==, SP_ERR_KEY);
  g_assert_cmpint (sp_hpke_setup_base_r (f->port, enc, skR, NULL, 0, &r), ==, SP_ERR_KEY);
  /* the encap side refuses such a recipient key just the same */
  g_assert_cmpint (sp_hpke_encap (f->port, enc, NULL, ss, enc), ==, SP_ERR_KEY);
  f->port->key_free (f->port->ctx, skR);
}

/* ---- the GLib wrapper ------------------------------------------------------ */

typedef struct {
  SignetKey *recipient;
  GBytes *info;
  GBytes *aad;
  GBytes *pt;
  GBytes *enc;
  GBytes *ct;
} Sealed;

static void
sealed_setup (Sealed        *s,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetKey) pub = NULL;
  g_autoptr(GBytes) pub_bytes = NULL;

  s->recipient = signet_key_generate (&error);
  g_assert_no_error (error);
  s->info = g_bytes_new_static ("signet wifi credential v1", 25);
  s->aad = g_bytes_new_static ("device 0042", 11);
  s->pt = g_bytes_new_static ("correct horse battery staple", 28);

  /* seal to the public half only, as the service does */
  pub_bytes = signet_key_get_public_bytes (s->recipient);
  pub = signet_key_new_from_public_bytes (pub_bytes, &error);
  g_assert_no_error (error);
  s->ct = signet_hpke_seal (pub, s->info, s->aad, s->pt, &s->enc, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (s->enc), ==, SIGNET_HPKE_ENC_LEN);
  g_assert_cmpuint (g_bytes_get_size (s->ct), ==, 28 + SIGNET_HPKE_TAG_LEN);
}

static void
sealed_teardown (Sealed        *s,
                 gconstpointer  data)
{
  g_clear_pointer (&s->recipient, signet_key_unref);
  g_clear_pointer (&s->info, g_bytes_unref);
  g_clear_pointer (&s->aad, g_bytes_unref);
  g_clear_pointer (&s->pt, g_bytes_unref);
  g_clear_pointer (&s->enc, g_bytes_unref);
  g_clear_pointer (&s->ct, g_bytes_unref);
}

static void
test_wrapper_round_trip (Sealed        *s,
                         gconstpointer  data)
{
  g_autoptr(GBytes) pt = NULL;
  g_autoptr(GBytes) enc2 = NULL;
  g_autoptr(GBytes) ct2 = NULL;
  g_autoptr(GBytes) empty_pt = NULL;
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GError) error = NULL;

  pt = signet_hpke_open (s->recipient, s->enc, s->info, s->aad, s->ct, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (pt, s->pt));

  /* fresh ephemeral key each time */
  ct2 = signet_hpke_seal (s->recipient, s->info, s->aad, s->pt, &enc2, &error);
  g_assert_no_error (error);
  g_assert_false (g_bytes_equal (enc2, s->enc));
  g_assert_false (g_bytes_equal (ct2, s->ct));
  g_clear_pointer (&enc2, g_bytes_unref);
  g_clear_pointer (&ct2, g_bytes_unref);

  /* NULL info/aad and an empty plaintext */
  ct2 = signet_hpke_seal (s->recipient, NULL, NULL, empty, &enc2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (ct2), ==, SIGNET_HPKE_TAG_LEN);
  empty_pt = signet_hpke_open (s->recipient, enc2, empty, NULL, ct2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (empty_pt), ==, 0);
}

static void
assert_open_fails (Sealed *s,
                   GBytes *enc,
                   GBytes *info,
                   GBytes *aad,
                   GBytes *ct,
                   gint    code)
{
  g_autoptr(GBytes) pt = NULL;
  g_autoptr(GError) error = NULL;

  pt = signet_hpke_open (s->recipient, enc, info, aad, ct, &error);
  g_assert_error (error, SIGNET_HPKE_ERROR, code);
  g_assert_null (pt);
}

/* every single-bit flip of b, passed to check() */
static void
for_each_flip (GBytes *b,
               void  (*check) (Sealed *s, GBytes *flipped),
               Sealed *s)
{
  gsize len = g_bytes_get_size (b);
  gsize i;

  for (i = 0; i < len * 8; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (b, NULL), len);
      g_autoptr(GBytes) flipped = NULL;

      copy[i / 8] ^= (guint8) (1u << (i % 8));
      flipped = g_bytes_new (copy, len);
      check (s, flipped);
    }
}

static void
check_enc_flip (Sealed *s,
                GBytes *enc)
{
  /* a flipped point is (overwhelmingly) off the curve, and a flipped
   * prefix is not an uncompressed point: either way a malformed enc */
  assert_open_fails (s, enc, s->info, s->aad, s->ct, SIGNET_HPKE_ERROR_INVALID_ENC);
}

static void
check_ct_flip (Sealed *s,
               GBytes *ct)
{
  assert_open_fails (s, s->enc, s->info, s->aad, ct, SIGNET_HPKE_ERROR_AUTHENTICATION);
}

static void
check_aad_flip (Sealed *s,
                GBytes *aad)
{
  assert_open_fails (s, s->enc, s->info, aad, s->ct, SIGNET_HPKE_ERROR_AUTHENTICATION);
}

static void
check_info_flip (Sealed *s,
                 GBytes *info)
{
  assert_open_fails (s, s->enc, info, s->aad, s->ct, SIGNET_HPKE_ERROR_AUTHENTICATION);
}

static void
test_wrapper_flip_enc (Sealed *s, gconstpointer data)
{
  for_each_flip (s->enc, check_enc_flip, s);
}

static void
test_wrapper_flip_ct (Sealed *s, gconstpointer data)
{
  for_each_flip (s->ct, check_ct_flip, s);
}

static void
test_wrapper_flip_aad (Sealed *s, gconstpointer data)
{
  for_each_flip (s->aad, check_aad_flip, s);
}

static void
test_wrapper_flip_info (Sealed *s, gconstpointer data)
{
  for_each_flip (s->info, check_info_flip, s);
}

static void
test_wrapper_changed_context (Sealed        *s,
                              gconstpointer  data)
{
  g_autoptr(GBytes) shorter_info = g_bytes_new_from_bytes (s->info, 0, 24);
  g_autoptr(GBytes) longer_aad = g_bytes_new_static ("device 00420", 12);
  g_autoptr(GBytes) short_ct = g_bytes_new_from_bytes (s->ct, 0, 15);
  g_autoptr(GBytes) trunc_ct = g_bytes_new_from_bytes (s->ct, 0, g_bytes_get_size (s->ct) - 1);
  g_autoptr(GBytes) tag_only = g_bytes_new_from_bytes (s->ct, g_bytes_get_size (s->ct) - 16, 16);
  g_autoptr(GBytes) short_enc = g_bytes_new_from_bytes (s->enc, 0, 64);
  g_autoptr(SignetKey) other = NULL;
  g_autoptr(GBytes) pt = NULL;
  g_autoptr(GError) error = NULL;

  assert_open_fails (s, s->enc, shorter_info, s->aad, s->ct, SIGNET_HPKE_ERROR_AUTHENTICATION);
  assert_open_fails (s, s->enc, NULL, s->aad, s->ct, SIGNET_HPKE_ERROR_AUTHENTICATION);
  assert_open_fails (s, s->enc, s->info, longer_aad, s->ct, SIGNET_HPKE_ERROR_AUTHENTICATION);
  assert_open_fails (s, s->enc, s->info, NULL, s->ct, SIGNET_HPKE_ERROR_AUTHENTICATION);
  /* shorter than the tag, truncated, tag alone */
  assert_open_fails (s, s->enc, s->info, s->aad, short_ct, SIGNET_HPKE_ERROR_AUTHENTICATION);
  assert_open_fails (s, s->enc, s->info, s->aad, trunc_ct, SIGNET_HPKE_ERROR_AUTHENTICATION);
  assert_open_fails (s, s->enc, s->info, s->aad, tag_only, SIGNET_HPKE_ERROR_AUTHENTICATION);
  /* enc of the wrong length */
  assert_open_fails (s, short_enc, s->info, s->aad, s->ct, SIGNET_HPKE_ERROR_INVALID_ENC);

  /* another recipient's private key */
  other = signet_key_generate (&error);
  g_assert_no_error (error);
  pt = signet_hpke_open (other, s->enc, s->info, s->aad, s->ct, &error);
  g_assert_error (error, SIGNET_HPKE_ERROR, SIGNET_HPKE_ERROR_AUTHENTICATION);
  g_assert_null (pt);
}

static void
test_wrapper_bad_points (Sealed        *s,
                         gconstpointer  data)
{
  /* not on the curve: G with y + 1; the all-zero "point at infinity"; and
   * a compressed encoding padded to 65 bytes */
  static const char *bad[] = {
    "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f6",
    "0000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000",
    "036b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "0000000000000000000000000000000000000000000000000000000000000000",
  };
  g_autoptr(SignetKey) pub = NULL;
  g_autoptr(GBytes) pub_bytes = NULL;
  g_autoptr(GBytes) pt = NULL;
  g_autoptr(GError) error = NULL;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(JsonObject) o = json_object_new ();
      g_autoptr(GBytes) enc = NULL;

      json_object_set_string_member (o, "enc", bad[i]);
      enc = member_bytes (o, "enc");
      g_assert_cmpuint (g_bytes_get_size (enc), ==, 65);
      assert_open_fails (s, enc, s->info, s->aad, s->ct, SIGNET_HPKE_ERROR_INVALID_ENC);
    }

  /* opening needs the private key */
  pub_bytes = signet_key_get_public_bytes (s->recipient);
  pub = signet_key_new_from_public_bytes (pub_bytes, &error);
  g_assert_no_error (error);
  pt = signet_hpke_open (pub, s->enc, s->info, s->aad, s->ct, &error);
  g_assert_error (error, SIGNET_HPKE_ERROR, SIGNET_HPKE_ERROR_INVALID_KEY);
  g_assert_null (pt);
}

static void
test_wrapper_rfc_vector (void)
{
  /* the GLib wrapper opens the RFC's first ciphertext with skRm */
  JsonObject *v = json_array_get_object_element (json_node_get_array (vectors_root), 0);
  JsonObject *e0 = json_array_get_object_element (json_object_get_array_member (v, "encryptions"), 0);
  g_autoptr(GBytes) sk = member_bytes (v, "skRm");
  g_autoptr(GBytes) enc = member_bytes (v, "enc");
  g_autoptr(GBytes) info = member_bytes (v, "info");
  g_autoptr(GBytes) aad = member_bytes (e0, "aad");
  g_autoptr(GBytes) ct = member_bytes (e0, "ct");
  g_autoptr(GBytes) expected = member_bytes (e0, "pt");
  g_autoptr(SignetKey) key = NULL;
  g_autoptr(GBytes) pt = NULL;
  g_autoptr(GError) error = NULL;

  key = signet_key_new_from_private_bytes (sk, &error);
  g_assert_no_error (error);
  pt = signet_hpke_open (key, enc, info, aad, ct, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (pt, expected));
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *path = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  path = g_test_build_filename (G_TEST_DIST, "data", "hpke",
                                "p256-sha256-aes128gcm-base.json", NULL);
  parser = json_parser_new ();
  if (!json_parser_load_from_file (parser, path, &error))
    g_error ("%s: %s", path, error->message);
  vectors_root = json_parser_get_root (parser);

#define ADD(name, fn) \
  g_test_add ("/signet/hpke/rfc9180/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("derive-key-pair", test_derive_key_pair);
  ADD ("intermediates", test_intermediates);
  ADD ("labeled", test_labeled);
  ADD ("encryptions", test_encryptions);
  ADD ("exports", test_exports);
  ADD ("open-failure-keeps-seq", test_open_failures_keep_seq);
  ADD ("seq-exhausted", test_seq_exhausted);
  ADD ("decap-bad-enc", test_decap_bad_enc);
#undef ADD
  g_test_add_func ("/signet/hpke/wrapper/rfc9180-open", test_wrapper_rfc_vector);
#define ADD(name, fn) \
  g_test_add ("/signet/hpke/wrapper/" name, Sealed, NULL, sealed_setup, fn, sealed_teardown)
  ADD ("round-trip", test_wrapper_round_trip);
  ADD ("bit-flip/enc", test_wrapper_flip_enc);
  ADD ("bit-flip/ct", test_wrapper_flip_ct);
  ADD ("bit-flip/aad", test_wrapper_flip_aad);
  ADD ("bit-flip/info", test_wrapper_flip_info);
  ADD ("changed-context", test_wrapper_changed_context);
  ADD ("bad-points", test_wrapper_bad_points);
#undef ADD

  ret = g_test_run ();
  vectors_root = NULL;
  return ret;
}
