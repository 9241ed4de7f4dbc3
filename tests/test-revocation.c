/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-revocation.c: the signed revocation list: the round trip, the
 * order (sorted, unique) on both sides, lookups, the ways a list must be
 * refused (wrong signer or kid, wrong content type, bit flips,
 * truncation, limits), and which list supersedes which.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "signet-crypto-port.h"
#include "sp-cwt.h"
#include "sp-revocation.h"

#define assert_err(expr, want)                                          \
  G_STMT_START {                                                        \
    sp_err e_ = (expr);                                                 \
    g_assert_cmpstr (sp_strerror (e_), ==, sp_strerror (want));         \
    g_assert_cmpint (e_, ==, want);                                     \
  } G_STMT_END

#define T_IAT 1700000000
#define ITEMS_MAX SP_REVOCATION_ITEMS (SP_REVOCATION_MAX_ENTRIES)

static const sp_crypto_port *port;
static const guint8 kid[] = "authority-1";

static sp_revocation_view
view (const char *s)
{
  sp_revocation_view v;

  v.ptr = (const uint8_t *) s;
  v.len = strlen (s);
  return v;
}

static guint8 *
from_hex (const char *hex, gsize *len)
{
  gsize n = strlen (hex), i;
  guint8 *out = g_malloc (n / 2 + 1);

  g_assert_cmpuint (n % 2, ==, 0);
  for (i = 0; i < n / 2; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 |
                       g_ascii_xdigit_value (hex[2 * i + 1]));
  *len = n / 2;
  return out;
}

typedef struct {
  sp_key *key;
  sp_key *other;
  sp_cose_key trusted[2];   /* [0] another authority, [1] ours */
  sp_cbor_item *items;
  guint8 ctis[5][16];
  sp_revocation_view cti[5];
  sp_revocation_view sub[3];
  sp_revocation_view serial[2];
  sp_revocation_content content;
  guint8 signed_list[4096];
  size_t signed_len;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  gsize i;

  memset (f, 0, sizeof *f);
  assert_err (port->p256_generate (port->ctx, &f->other), SP_OK);
  assert_err (port->p256_public (port->ctx, f->other, f->trusted[0].pub), SP_OK);
  memcpy (f->trusted[0].kid, "authority-0", 11);
  f->trusted[0].kid_len = 11;
  assert_err (port->p256_generate (port->ctx, &f->key), SP_OK);
  assert_err (port->p256_public (port->ctx, f->key, f->trusted[1].pub), SP_OK);
  memcpy (f->trusted[1].kid, kid, sizeof kid - 1);
  f->trusted[1].kid_len = sizeof kid - 1;
  f->items = g_new0 (sp_cbor_item, ITEMS_MAX);

  for (i = 0; i < G_N_ELEMENTS (f->ctis); i++)
    {
      assert_err (port->random (port->ctx, f->ctis[i], 16), SP_OK);
      f->cti[i].ptr = f->ctis[i];
      f->cti[i].len = 16;
    }
  g_assert_cmpuint (sp_revocation_sort (f->cti, 5), ==, 5);
  /* Already in the list order: shorter first. */
  f->sub[0] = view ("bob");
  f->sub[1] = view ("alice");
  f->sub[2] = view ("carol");
  f->serial[0] = view ("SN-0001");
  f->serial[1] = view ("SN-0042");

  f->content.version = 7;
  f->content.iat = T_IAT;
  f->content.cti = f->cti;
  f->content.n_cti = 5;
  f->content.sub = f->sub;
  f->content.n_sub = 3;
  f->content.serial = f->serial;
  f->content.n_serial = 2;
  assert_err (sp_revocation_sign (port, f->key, kid, sizeof kid - 1, &f->content,
                                  f->signed_list, sizeof f->signed_list,
                                  &f->signed_len), SP_OK);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  port->key_free (port->ctx, f->key);
  port->key_free (port->ctx, f->other);
  g_free (f->items);
}

/* ------------------------------------------------------------------ */
/* Round trip and lookups                                              */
/* ------------------------------------------------------------------ */

static void
assert_entries (const sp_revocation_list *l, sp_revocation_kind kind,
                const sp_revocation_view *want, gsize n)
{
  gsize i;

  g_assert_cmpuint (sp_revocation_count (l, kind), ==, n);
  for (i = 0; i < n; i++)
    {
      sp_revocation_view e;

      assert_err (sp_revocation_get (l, kind, i, &e), SP_OK);
      g_assert_cmpmem (e.ptr, e.len, want[i].ptr, want[i].len);
      g_assert_true (sp_revocation_has (l, kind, want[i].ptr, want[i].len));
    }
  {
    sp_revocation_view e;

    assert_err (sp_revocation_get (l, kind, n, &e), SP_ERR_INVALID_ARG);
  }
}

static void
test_roundtrip (Fixture *f, gconstpointer data)
{
  sp_revocation_list l;
  sp_cose_sign1 msg;
  size_t idx = 99;
  guint8 other_cti[16];

  assert_err (sp_revocation_verify (port, f->signed_list, f->signed_len, f->trusted, 2,
                                    f->items, ITEMS_MAX, &l, &idx), SP_OK);
  g_assert_cmpuint (idx, ==, 1);
  g_assert_cmpuint (l.version, ==, 7);
  g_assert_cmpint (l.iat, ==, T_IAT);
  assert_entries (&l, SP_REVOCATION_CTI, f->cti, 5);
  assert_entries (&l, SP_REVOCATION_SUB, f->sub, 3);
  assert_entries (&l, SP_REVOCATION_SERIAL, f->serial, 2);

  g_assert_true (sp_revocation_has_cti (&l, f->ctis[3], 16));
  g_assert_true (sp_revocation_has_sub (&l, "alice", 5));
  g_assert_true (sp_revocation_has_serial (&l, "SN-0042", 7));
  memcpy (other_cti, f->ctis[3], 16);
  other_cti[15] ^= 1;
  g_assert_false (sp_revocation_has_cti (&l, other_cti, 16));
  g_assert_false (sp_revocation_has_cti (&l, f->ctis[3], 15));
  g_assert_false (sp_revocation_has_sub (&l, "alic", 4));
  g_assert_false (sp_revocation_has_sub (&l, "alicf", 5));
  g_assert_false (sp_revocation_has_sub (&l, "Alice", 5));
  g_assert_false (sp_revocation_has_sub (&l, "", 0));
  /* Kinds do not mix. */
  g_assert_false (sp_revocation_has_serial (&l, "alice", 5));
  g_assert_false (sp_revocation_has_sub (&l, "SN-0042", 7));
  g_assert_false (sp_revocation_has_sub (NULL, "alice", 5));
  g_assert_false (sp_revocation_has (&l, (sp_revocation_kind) 9, (const guint8 *) "alice", 5));

  /* Its envelope is what docs/api.md says. */
  assert_err (sp_cose_sign1_decode (f->signed_list, f->signed_len, NULL, &msg), SP_OK);
  g_assert_true (msg.tagged);
  assert_err (sp_cose_sign1_check_strict (&msg, "application/signet-revocation+cbor"), SP_OK);
  g_assert_cmpmem (msg.kid, msg.kid_len, kid, sizeof kid - 1);
  g_assert_true (l.payload == msg.payload);
}

/* The exact bytes for a small list, worked out by hand from RFC 8949. */
static void
test_encoding (void)
{
  static const sp_revocation_view cti[] = { { (const uint8_t *) "\x01", 1 } };
  sp_revocation_view sub[] = { view ("bob"), view ("alice") };
  sp_revocation_content c;
  guint8 buf[128];
  size_t len;
  gsize want_len;
  g_autofree guint8 *want = from_hex ("a5" "0107" "021a6553f100" "03814101"
                                      "048263626f6265616c696365" "0580", &want_len);

  memset (&c, 0, sizeof c);
  c.version = 7;
  c.iat = T_IAT;
  c.cti = cti;
  c.n_cti = 1;
  c.sub = sub;
  c.n_sub = 2;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_OK);
  g_assert_cmpmem (buf, len, want, want_len);
  assert_err (sp_revocation_encode (&c, buf, len - 1, &len), SP_ERR_BUFFER_TOO_SMALL);

  /* The empty list. */
  memset (&c, 0, sizeof c);
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_OK);
  g_assert_cmpmem (buf, len, "\xa5\x01\x00\x02\x00\x03\x80\x04\x80\x05\x80", 11);
}

static void
test_sort (void)
{
  sp_revocation_view v[] = {
    view ("carol"), view ("bob"), view ("alice"), view ("bob"), view ("al"),
    view ("carol"), view ("zz"), view ("alice"), view ("b"),
  };
  static const char *want[] = { "b", "al", "zz", "bob", "alice", "carol" };
  gsize n, i;
  guint8 rnd[200][3];
  gsize lens[200];
  sp_revocation_view r[200];

  n = sp_revocation_sort (v, G_N_ELEMENTS (v));
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (want));
  for (i = 0; i < n; i++)
    g_assert_cmpmem (v[i].ptr, v[i].len, want[i], strlen (want[i]));
  g_assert_cmpuint (sp_revocation_sort (NULL, 0), ==, 0);
  g_assert_cmpuint (sp_revocation_sort (v, 1), ==, 1);

  /* Random entries of mixed length, with many duplicates: strictly
   * increasing afterwards, and no value lost. */
  for (i = 0; i < G_N_ELEMENTS (r); i++)
    {
      rnd[i][0] = (guint8) g_test_rand_int_range (0, 3);
      rnd[i][1] = (guint8) g_test_rand_int_range (0, 3);
      rnd[i][2] = (guint8) g_test_rand_int_range (0, 3);
      lens[i] = (gsize) g_test_rand_int_range (1, 4);
      r[i].ptr = rnd[i];
      r[i].len = lens[i];
    }
  n = sp_revocation_sort (r, G_N_ELEMENTS (r));
  g_assert_cmpuint (n, <, G_N_ELEMENTS (r));
  for (i = 1; i < n; i++)
    g_assert_true (r[i - 1].len < r[i].len ||
                   (r[i - 1].len == r[i].len &&
                    memcmp (r[i - 1].ptr, r[i].ptr, r[i].len) < 0));
  for (i = 0; i < G_N_ELEMENTS (rnd); i++)
    {
      gsize j;
      gboolean found = FALSE;

      for (j = 0; j < n && !found; j++)
        found = r[j].len == lens[i] && memcmp (r[j].ptr, rnd[i], lens[i]) == 0;
      g_assert_true (found);
    }
}

/* Same content in any input order: the same bytes once sorted. */
static void
test_deterministic (void)
{
  sp_revocation_view a[] = { view ("carol"), view ("alice"), view ("bob") };
  sp_revocation_view b[] = { view ("bob"), view ("carol"), view ("alice"), view ("bob") };
  sp_revocation_content c;
  guint8 buf_a[128], buf_b[128];
  size_t len_a, len_b;

  memset (&c, 0, sizeof c);
  c.version = 1;
  c.sub = a;
  c.n_sub = 3;
  assert_err (sp_revocation_encode (&c, buf_a, sizeof buf_a, &len_a), SP_ERR_VALUE);
  c.n_sub = sp_revocation_sort (a, 3);
  assert_err (sp_revocation_encode (&c, buf_a, sizeof buf_a, &len_a), SP_OK);
  c.sub = b;
  c.n_sub = sp_revocation_sort (b, 4);
  assert_err (sp_revocation_encode (&c, buf_b, sizeof buf_b, &len_b), SP_OK);
  g_assert_cmpmem (buf_a, len_a, buf_b, len_b);
}

static void
test_encode_refuse (void)
{
  guint8 long_cti[SP_REVOCATION_CTI_MAX + 1] = { 0 };
  g_autofree char *long_text = g_strnfill (SP_REVOCATION_TEXT_MAX + 1, 'a');
  sp_revocation_view ok_sub[] = { view ("bob") };
  sp_revocation_view unsorted[] = { view ("carol"), view ("bob") };
  sp_revocation_view dup[] = { view ("bob"), view ("bob") };
  sp_revocation_view empty[] = { view ("") };
  sp_revocation_view bad_utf8[] = { view ("b\xc3") };
  sp_revocation_view too_long[] = { view (long_text) };
  sp_revocation_view null_ptr[] = { { NULL, 3 } };
  sp_revocation_view cti_long[] = { { long_cti, sizeof long_cti } };
  sp_revocation_view cti_max[] = { { long_cti, SP_REVOCATION_CTI_MAX } };
  sp_revocation_content c;
  static guint8 buf[SP_REVOCATION_MAX_SIZE * 2];
  size_t len;

  memset (&c, 0, sizeof c);
  c.sub = ok_sub;
  c.n_sub = 1;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_OK);
  c.iat = -1;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.iat = 0;
  c.sub = unsorted;
  c.n_sub = 2;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.sub = dup;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.n_sub = 1;
  c.sub = empty;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.sub = bad_utf8;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.sub = too_long;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.sub = null_ptr;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_INVALID_ARG);
  c.sub = NULL;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_INVALID_ARG);
  c.n_sub = 0;
  /* The same checks on serials and ctis. */
  c.serial = unsorted;
  c.n_serial = 2;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.n_serial = 0;
  c.cti = dup;
  c.n_cti = 2;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.cti = cti_long;
  c.n_cti = 1;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.cti = cti_max;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_OK);
  /* ctis are bytes: any value, not UTF-8. */
  c.cti = bad_utf8;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_OK);

  assert_err (sp_revocation_encode (NULL, buf, sizeof buf, &len), SP_ERR_INVALID_ARG);
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, NULL), SP_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------------ */
/* Strict decoding                                                     */
/* ------------------------------------------------------------------ */

#define P_VER "0107"
#define P_IAT "021a6553f100"
#define P_CTI "03814101"
#define P_SUB "048263626f6265616c696365"
#define P_SER "0580"

static void
test_decode_strict (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *hex;
    sp_err want;
  } cases[] = {
    { "a5" P_VER P_IAT P_CTI P_SUB P_SER, SP_OK },
    { "a5" P_VER P_IAT "0380" "0480" P_SER, SP_OK },
    { "a5" "011bffffffffffffffff" P_IAT P_CTI P_SUB P_SER, SP_OK },
    /* order inside arrays */
    { "a5" P_VER P_IAT P_CTI "048265616c69636563626f62" P_SER, SP_ERR_VALUE },
    { "a5" P_VER P_IAT "038241014101" P_SUB P_SER, SP_ERR_VALUE },
    { "a5" P_VER P_IAT "038241024101" P_SUB P_SER, SP_ERR_VALUE },
    { "a5" P_VER P_IAT "03824201004101" P_SUB P_SER, SP_ERR_VALUE },
    { "a5" P_VER P_IAT P_CTI "048263626f6263626f62" P_SER, SP_ERR_VALUE },
    { "a5" P_VER P_IAT P_CTI P_SUB "058261536141", SP_ERR_VALUE },
    /* entries */
    { "a5" P_VER P_IAT "038140" P_SUB P_SER, SP_ERR_VALUE },
    { "a5" P_VER P_IAT P_CTI "048160" P_SER, SP_ERR_VALUE },
    { "a5" P_VER P_IAT "03816101" P_SUB P_SER, SP_ERR_TYPE },
    { "a5" P_VER P_IAT P_CTI "048143626f62" P_SER, SP_ERR_TYPE },
    { "a5" P_VER P_IAT P_CTI P_SUB "058101", SP_ERR_TYPE },
    { "a5" P_VER P_IAT P_CTI P_SUB "0581f6", SP_ERR_TYPE },
    { "a5" P_VER P_IAT P_CTI "048162c328" P_SER, SP_ERR_CBOR_INVALID_UTF8 },
    /* scalars */
    { "a5" "0120" P_IAT P_CTI P_SUB P_SER, SP_ERR_TYPE },
    { "a5" "016131" P_IAT P_CTI P_SUB P_SER, SP_ERR_TYPE },
    { "a5" "01f5" P_IAT P_CTI P_SUB P_SER, SP_ERR_TYPE },
    { "a5" P_VER "0220" P_CTI P_SUB P_SER, SP_ERR_TYPE },
    { "a5" P_VER "02c11a6553f100" P_CTI P_SUB P_SER, SP_ERR_TYPE },
    { "a5" P_VER "021bffffffffffffffff" P_CTI P_SUB P_SER, SP_ERR_VALUE },
    { "a5" P_VER "02fb41d954fc40000000" P_CTI P_SUB P_SER, SP_ERR_CBOR_UNSUPPORTED },
    /* containers */
    { "a5" P_VER P_IAT P_CTI P_SUB "05a0", SP_ERR_TYPE },
    { "a5" P_VER P_IAT P_CTI P_SUB "05f6", SP_ERR_TYPE },
    { "a5" P_VER P_IAT P_CTI P_SUB "058181614a", SP_ERR_CBOR_TOO_DEEP },
    { "a5" P_VER P_IAT P_CTI P_SUB "059fff", SP_ERR_CBOR_INDEFINITE },
    { "8a" P_VER P_IAT P_CTI P_SUB P_SER, SP_ERR_TYPE },
    /* keys */
    { "a4" P_VER P_IAT P_CTI P_SUB, SP_ERR_MISSING },
    { "a4" P_IAT P_CTI P_SUB P_SER, SP_ERR_MISSING },
    { "a4" P_VER P_IAT P_SUB P_SER, SP_ERR_MISSING },
    { "a6" P_VER P_IAT P_CTI P_SUB P_SER "0680", SP_ERR_UNKNOWN_FIELD },
    { "a6" P_VER P_IAT P_CTI P_SUB P_SER "6176f6", SP_ERR_UNKNOWN_FIELD },
    { "a6" P_VER P_IAT P_CTI P_SUB P_SER P_SER, SP_ERR_CBOR_DUPLICATE_KEY },
    { "a5" P_IAT P_VER P_CTI P_SUB P_SER, SP_ERR_CBOR_UNSORTED_KEYS },
    { "a5" "181807" P_IAT P_CTI P_SUB P_SER, SP_ERR_CBOR_UNSORTED_KEYS },
    { "a5" "011807" P_IAT P_CTI P_SUB P_SER, SP_ERR_CBOR_NON_MINIMAL },
    /* whole input */
    { "a5" P_VER P_IAT P_CTI P_SUB P_SER "00", SP_ERR_CBOR_TRAILING },
    { "a5" P_VER P_IAT P_CTI P_SUB, SP_ERR_CBOR_TRUNCATED },
    { "", SP_ERR_CBOR_TRUNCATED },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len;
      g_autofree guint8 *buf = from_hex (cases[i].hex, &len);
      sp_revocation_list l;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].hex);
      memset (&l, 0xa5, sizeof l);
      assert_err (sp_revocation_decode (buf, len, f->items, ITEMS_MAX, &l), cases[i].want);
      if (cases[i].want != SP_OK)
        {
          g_assert_cmpuint (l.version, ==, 0);
          g_assert_null (l.payload);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Signer, kid, content type                                           */
/* ------------------------------------------------------------------ */

static void
test_wrong_signer (Fixture *f, gconstpointer data)
{
  guint8 buf[4096];
  size_t len;
  sp_revocation_list l;

  /* Another key under our kid. */
  assert_err (sp_revocation_sign (port, f->other, kid, sizeof kid - 1, &f->content,
                                  buf, sizeof buf, &len), SP_OK);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, ITEMS_MAX,
                                    &l, NULL), SP_ERR_BAD_SIGNATURE);
  /* Our key under another trusted kid. */
  assert_err (sp_revocation_sign (port, f->key, (const guint8 *) "authority-0", 11,
                                  &f->content, buf, sizeof buf, &len), SP_OK);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, ITEMS_MAX,
                                    &l, NULL), SP_ERR_BAD_SIGNATURE);
  /* An unknown kid, and no trusted keys at all. */
  assert_err (sp_revocation_sign (port, f->key, (const guint8 *) "authority-9", 11,
                                  &f->content, buf, sizeof buf, &len), SP_OK);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, ITEMS_MAX,
                                    &l, NULL), SP_ERR_UNKNOWN_KEY);
  assert_err (sp_revocation_verify (port, f->signed_list, f->signed_len, f->trusted, 0,
                                    f->items, ITEMS_MAX, &l, NULL), SP_ERR_UNKNOWN_KEY);
  assert_err (sp_revocation_verify (port, f->signed_list, f->signed_len, f->trusted, 1,
                                    f->items, ITEMS_MAX, &l, NULL), SP_ERR_UNKNOWN_KEY);
  g_assert_cmpuint (l.version, ==, 0);
}

static void
test_wrong_content_type (Fixture *f, gconstpointer data)
{
  guint8 payload[512], buf[4096];
  size_t payload_len, len;
  sp_cose_sign1_params params;
  sp_revocation_list l;
  sp_cwt_claims c;
  static const guint8 cti[] = { 1, 2, 3, 4 };

  assert_err (sp_revocation_encode (&f->content, payload, sizeof payload, &payload_len), SP_OK);
  memset (&params, 0, sizeof params);
  params.kid = kid;
  params.kid_len = sizeof kid - 1;

  /* The same payload under another content type, or none. */
  params.content_type = SP_CWT_CONTENT_TYPE;
  assert_err (sp_cose_sign1_sign (port, f->key, &params, payload, payload_len, buf,
                                  sizeof buf, &len), SP_OK);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, ITEMS_MAX,
                                    &l, NULL), SP_ERR_COSE_HEADER);
  params.content_type = NULL;
  assert_err (sp_cose_sign1_sign (port, f->key, &params, payload, payload_len, buf,
                                  sizeof buf, &len), SP_OK);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, ITEMS_MAX,
                                    &l, NULL), SP_ERR_COSE_HEADER);
  /* Untagged. */
  params.content_type = SP_REVOCATION_CONTENT_TYPE;
  assert_err (sp_cose_sign1_sign (port, f->key, &params, payload, payload_len, buf,
                                  sizeof buf, &len), SP_OK);
  assert_err (sp_revocation_verify (port, buf + 1, len - 1, f->trusted, 2, f->items,
                                    ITEMS_MAX, &l, NULL), SP_ERR_COSE_TAG);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, ITEMS_MAX,
                                    &l, NULL), SP_OK);

  /* A token by the same authority key is not a list. */
  memset (&c, 0, sizeof c);
  c.present = SP_CWT_REQUIRED;
  c.iss = sp_cwt_text_from ("https://signet.example/");
  c.sub = sp_cwt_text_from ("alice");
  c.exp = T_IAT + 900;
  c.iat = T_IAT;
  c.cti = cti;
  c.cti_len = sizeof cti;
  memcpy (c.cnf.pub, f->trusted[0].pub, SP_P256_PUB_LEN);
  assert_err (sp_cwt_sign (port, f->key, kid, sizeof kid - 1, &c, buf, sizeof buf, &len),
              SP_OK);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, ITEMS_MAX,
                                    &l, NULL), SP_ERR_COSE_HEADER);
  /* ... and a list is not a token. */
  assert_err (sp_cwt_verify (port, f->signed_list, f->signed_len, f->trusted, 2, &c, NULL),
              SP_ERR_COSE_HEADER);
}

static void
test_bit_flip (Fixture *f, gconstpointer data)
{
  gsize bit;

  for (bit = 0; bit < f->signed_len * 8; bit++)
    {
      g_autofree guint8 *copy = g_memdup2 (f->signed_list, f->signed_len);
      sp_revocation_list l;

      copy[bit / 8] ^= (guint8) (1u << (bit % 8));
      g_assert_cmpint (sp_revocation_verify (port, copy, f->signed_len, f->trusted, 2,
                                             f->items, ITEMS_MAX, &l, NULL), !=, SP_OK);
      g_assert_cmpuint (l.n_cti + l.n_sub + l.n_serial, ==, 0);
    }
}

static void
test_truncated (Fixture *f, gconstpointer data)
{
  gsize cut;

  for (cut = 0; cut < f->signed_len; cut++)
    {
      g_autofree guint8 *copy = g_memdup2 (f->signed_list, cut);
      sp_revocation_list l;

      g_assert_cmpint (sp_revocation_verify (port, copy, cut, f->trusted, 2,
                                             f->items, ITEMS_MAX, &l, NULL), !=, SP_OK);
    }
}

/* ------------------------------------------------------------------ */
/* Supersedes                                                          */
/* ------------------------------------------------------------------ */

static void
test_supersedes (Fixture *f, gconstpointer data)
{
  static guint8 b_same[4096], b_next[4096], b_fork[4096], b_old[4096];
  size_t n_same, n_next, n_fork, n_old;
  sp_cbor_item i_cur[64], i_same[64], i_next[64], i_fork[64], i_old[64];
  sp_revocation_list cur, same, next, fork, old;
  sp_revocation_content c = f->content;
  bool s = true;

  /* The same content signed again: new signature bytes (ECDSA is
   * randomised), the same payload. */
  assert_err (sp_revocation_sign (port, f->key, kid, sizeof kid - 1, &c, b_same,
                                  sizeof b_same, &n_same), SP_OK);
  c.version = 8;
  assert_err (sp_revocation_sign (port, f->key, kid, sizeof kid - 1, &c, b_next,
                                  sizeof b_next, &n_next), SP_OK);
  c.version = 7;
  c.n_serial = 1;
  assert_err (sp_revocation_sign (port, f->key, kid, sizeof kid - 1, &c, b_fork,
                                  sizeof b_fork, &n_fork), SP_OK);
  c.version = 6;
  c.n_serial = 2;
  assert_err (sp_revocation_sign (port, f->key, kid, sizeof kid - 1, &c, b_old,
                                  sizeof b_old, &n_old), SP_OK);

  assert_err (sp_revocation_verify (port, f->signed_list, f->signed_len, f->trusted, 2,
                                    i_cur, 64, &cur, NULL), SP_OK);
  assert_err (sp_revocation_verify (port, b_same, n_same, f->trusted, 2, i_same, 64,
                                    &same, NULL), SP_OK);
  assert_err (sp_revocation_verify (port, b_next, n_next, f->trusted, 2, i_next, 64,
                                    &next, NULL), SP_OK);
  assert_err (sp_revocation_verify (port, b_fork, n_fork, f->trusted, 2, i_fork, 64,
                                    &fork, NULL), SP_OK);
  assert_err (sp_revocation_verify (port, b_old, n_old, f->trusted, 2, i_old, 64,
                                    &old, NULL), SP_OK);

  assert_err (sp_revocation_supersedes (&cur, NULL, &s), SP_OK);
  g_assert_true (s);
  assert_err (sp_revocation_supersedes (&next, &cur, &s), SP_OK);
  g_assert_true (s);
  assert_err (sp_revocation_supersedes (&cur, &next, &s), SP_OK);
  g_assert_false (s);
  s = true;
  assert_err (sp_revocation_supersedes (&old, &cur, &s), SP_OK);
  g_assert_false (s);
  s = true;
  assert_err (sp_revocation_supersedes (&same, &cur, &s), SP_OK);
  g_assert_false (s);
  s = true;
  assert_err (sp_revocation_supersedes (&cur, &cur, &s), SP_OK);
  g_assert_false (s);
  s = true;
  assert_err (sp_revocation_supersedes (&fork, &cur, &s), SP_ERR_VALUE);
  g_assert_false (s);
  assert_err (sp_revocation_supersedes (&cur, &fork, &s), SP_ERR_VALUE);
  assert_err (sp_revocation_supersedes (NULL, &cur, &s), SP_ERR_INVALID_ARG);
  assert_err (sp_revocation_supersedes (&cur, &cur, NULL), SP_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------------ */
/* Limits                                                              */
/* ------------------------------------------------------------------ */

static void
test_limits (Fixture *f, gconstpointer data)
{
  static guint8 ctis[SP_REVOCATION_MAX_ENTRIES + 1][16];
  static sp_revocation_view v[SP_REVOCATION_MAX_ENTRIES + 1];
  static guint8 buf[SP_REVOCATION_MAX_SIZE + 4096];
  static guint8 texts[SP_REVOCATION_MAX_ENTRIES][SP_REVOCATION_TEXT_MAX];
  static sp_revocation_view tv[SP_REVOCATION_MAX_ENTRIES];
  sp_revocation_view one_sub[] = { view ("alice") };
  sp_revocation_content c;
  sp_revocation_list l;
  size_t len;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (ctis); i++)
    {
      /* Big-endian counters: already in order. */
      memset (ctis[i], 0, 16);
      ctis[i][14] = (guint8) (i >> 8);
      ctis[i][15] = (guint8) i;
      v[i].ptr = ctis[i];
      v[i].len = 16;
    }
  memset (&c, 0, sizeof c);
  c.version = 1;
  c.iat = T_IAT;
  c.cti = v;

  /* The maximum: it signs, verifies and every entry is found. */
  c.n_cti = SP_REVOCATION_MAX_ENTRIES;
  assert_err (sp_revocation_sign (port, f->key, kid, sizeof kid - 1, &c, buf, sizeof buf,
                                  &len), SP_OK);
  g_test_message ("a list of %d ctis is %" G_GSIZE_FORMAT " bytes",
                  SP_REVOCATION_MAX_ENTRIES, len);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, ITEMS_MAX,
                                    &l, NULL), SP_OK);
  g_assert_cmpuint (l.n_cti, ==, SP_REVOCATION_MAX_ENTRIES);
  for (i = 0; i < SP_REVOCATION_MAX_ENTRIES; i++)
    g_assert_true (sp_revocation_has_cti (&l, ctis[i], 16));
  g_assert_false (sp_revocation_has_cti (&l, ctis[SP_REVOCATION_MAX_ENTRIES], 16));

  /* A device with a smaller item array cannot take it, and says so. */
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items,
                                    SP_REVOCATION_ITEMS (SP_REVOCATION_MAX_ENTRIES) - 1,
                                    &l, NULL), SP_ERR_CBOR_TOO_MANY_ITEMS);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, 64,
                                    &l, NULL), SP_ERR_CBOR_TOO_MANY_ITEMS);

  /* One more, in one array or over two. */
  c.n_cti = SP_REVOCATION_MAX_ENTRIES + 1;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.n_cti = SP_REVOCATION_MAX_ENTRIES;
  c.sub = one_sub;
  c.n_sub = 1;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);

  /* ... and a decoder meeting such a list (made by hand) refuses it. */
  {
    sp_cbor_writer w;
    static sp_cbor_item items[SP_REVOCATION_ITEMS (SP_REVOCATION_MAX_ENTRIES + 1)];

    sp_cbor_writer_init (&w, buf, sizeof buf);
    sp_cbor_put_map (&w, 5);
    sp_cbor_put_uint (&w, 1);
    sp_cbor_put_uint (&w, 1);
    sp_cbor_put_uint (&w, 2);
    sp_cbor_put_uint (&w, T_IAT);
    sp_cbor_put_uint (&w, 3);
    sp_cbor_put_array (&w, SP_REVOCATION_MAX_ENTRIES);
    for (i = 0; i < SP_REVOCATION_MAX_ENTRIES; i++)
      sp_cbor_put_bytes (&w, ctis[i], 16);
    sp_cbor_put_uint (&w, 4);
    sp_cbor_put_array (&w, 1);
    sp_cbor_put_textz (&w, "alice");
    sp_cbor_put_uint (&w, 5);
    sp_cbor_put_array (&w, 0);
    assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
    assert_err (sp_revocation_decode (buf, len, items, G_N_ELEMENTS (items), &l),
                SP_ERR_CBOR_TOO_MANY_ITEMS);

    sp_cbor_writer_init (&w, buf, sizeof buf);
    sp_cbor_put_map (&w, 5);
    sp_cbor_put_uint (&w, 1);
    sp_cbor_put_uint (&w, 1);
    sp_cbor_put_uint (&w, 2);
    sp_cbor_put_uint (&w, T_IAT);
    sp_cbor_put_uint (&w, 3);
    sp_cbor_put_array (&w, SP_REVOCATION_MAX_ENTRIES + 1);
    for (i = 0; i < SP_REVOCATION_MAX_ENTRIES + 1; i++)
      sp_cbor_put_bytes (&w, ctis[i], 16);
    sp_cbor_put_uint (&w, 4);
    sp_cbor_put_array (&w, 0);
    sp_cbor_put_uint (&w, 5);
    sp_cbor_put_array (&w, 0);
    assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
    assert_err (sp_revocation_decode (buf, len, items, G_N_ELEMENTS (items), &l),
                SP_ERR_CBOR_TOO_LONG);
  }

  /* Size: long subjects overflow SP_REVOCATION_MAX_SIZE well before the
   * entry count. */
  for (i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      memset (texts[i], 'a', SP_REVOCATION_TEXT_MAX);
      g_snprintf ((char *) texts[i], 8, "%06" G_GSIZE_FORMAT, i);
      texts[i][6] = 'a';
      tv[i].ptr = texts[i];
      tv[i].len = SP_REVOCATION_TEXT_MAX;
    }
  memset (&c, 0, sizeof c);
  c.sub = tv;
  c.n_sub = SP_REVOCATION_MAX_SIZE / (SP_REVOCATION_TEXT_MAX + 2) + 1;
  assert_err (sp_revocation_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  assert_err (sp_revocation_encode (&c, buf, 1000, &len), SP_ERR_BUFFER_TOO_SMALL);
  c.n_sub = (SP_REVOCATION_MAX_SIZE - 512) / (SP_REVOCATION_TEXT_MAX + 2);
  assert_err (sp_revocation_sign (port, f->key, kid, sizeof kid - 1, &c, buf, sizeof buf,
                                  &len), SP_OK);
  g_assert_cmpuint (len, <=, SP_REVOCATION_MAX_SIZE);
  assert_err (sp_revocation_verify (port, buf, len, f->trusted, 2, f->items, ITEMS_MAX,
                                    &l, NULL), SP_OK);
  g_assert_true (sp_revocation_has_sub (&l, (const char *) texts[100], SP_REVOCATION_TEXT_MAX));

  /* A signed object over the size limit is refused before anything else. */
  assert_err (sp_revocation_verify (port, buf, SP_REVOCATION_MAX_SIZE + 1, f->trusted, 2,
                                    f->items, ITEMS_MAX, &l, NULL), SP_ERR_CBOR_TOO_LARGE);
  /* A caller bug, not an input error. */
  assert_err (sp_revocation_verify (port, f->signed_list, f->signed_len, f->trusted, 2,
                                    NULL, 0, &l, NULL), SP_ERR_INVALID_ARG);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  port = signet_crypto_port_openssl ();

  g_test_add_func ("/signet/revocation/encoding", test_encoding);
  g_test_add_func ("/signet/revocation/sort", test_sort);
  g_test_add_func ("/signet/revocation/deterministic", test_deterministic);
  g_test_add_func ("/signet/revocation/encode-refuse", test_encode_refuse);
#define ADD(path, fn) \
  g_test_add ("/signet/revocation/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("roundtrip", test_roundtrip);
  ADD ("decode-strict", test_decode_strict);
  ADD ("wrong-signer", test_wrong_signer);
  ADD ("wrong-content-type", test_wrong_content_type);
  ADD ("bit-flip", test_bit_flip);
  ADD ("truncated", test_truncated);
  ADD ("supersedes", test_supersedes);
  ADD ("limits", test_limits);
#undef ADD

  return g_test_run ();
}
