/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-cbor.c: sp-cbor's writer against RFC 8949 Appendix A, round trips
 * of every boundary value, and one negative test per decoder error.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "signet-test-util.h"
#include "sp-cbor.h"

#define N_ITEMS 512

/* Compare errors by name so a failure says which one it got. */
#define assert_err(expr, want)                                          \
  G_STMT_START {                                                        \
    sp_err e_ = (expr);                                                 \
    g_assert_cmpstr (sp_strerror (e_), ==, sp_strerror (want));         \
    g_assert_cmpint (e_, ==, want);                                     \
  } G_STMT_END

static sp_err
decode_hex (const char *hex, const sp_cbor_limits *limits)
{
  g_autoptr (GBytes) b = signet_test_hex (hex);
  sp_cbor_item items[N_ITEMS];
  sp_cbor_doc doc;
  gsize len;
  const guint8 *p = g_bytes_get_data (b, &len);

  return sp_cbor_decode (p, len, limits, items, N_ITEMS, &doc);
}

/* Write a decoded item back with the writer (the same walk the fuzzer
 * does); returns the index after its subtree. */
static size_t
reencode (const sp_cbor_doc *doc, size_t idx, sp_cbor_writer *w)
{
  const sp_cbor_item *it = &doc->items[idx];
  size_t child = idx + 1;
  uint64_t i, n = 0;

  switch ((sp_cbor_type) it->type)
    {
    case SP_CBOR_UINT: sp_cbor_put_uint (w, it->value); break;
    case SP_CBOR_NINT: sp_cbor_put_nint (w, it->value); break;
    case SP_CBOR_BYTES: sp_cbor_put_bytes (w, doc->buf + it->payload, it->value); break;
    case SP_CBOR_TEXT:
      sp_cbor_put_text (w, (const char *) doc->buf + it->payload, it->value);
      break;
    case SP_CBOR_ARRAY: sp_cbor_put_array (w, it->value); n = it->value; break;
    case SP_CBOR_MAP: sp_cbor_put_map (w, it->value); n = 2 * it->value; break;
    case SP_CBOR_TAG: sp_cbor_put_tag (w, it->value); n = 1; break;
    case SP_CBOR_BOOL: sp_cbor_put_bool (w, it->value != 0); break;
    case SP_CBOR_NULL: sp_cbor_put_null (w); break;
    default: g_assert_not_reached ();
    }
  for (i = 0; i < n; i++)
    child = reencode (doc, child, w);
  g_assert_cmpuint (child, ==, it->next);
  return it->next;
}

/* Decode hex, check it re-encodes to itself byte for byte. */
static void
assert_canonical (const char *hex, const sp_cbor_limits *limits)
{
  g_autoptr (GBytes) b = signet_test_hex (hex);
  sp_cbor_item items[N_ITEMS];
  sp_cbor_doc doc;
  guint8 out[512];
  sp_cbor_writer w;
  gsize len, out_len;
  const guint8 *p = g_bytes_get_data (b, &len);

  assert_err (sp_cbor_decode (p, len, limits, items, N_ITEMS, &doc), SP_OK);
  g_assert_cmpuint (doc.items[0].end, ==, len);
  sp_cbor_writer_init (&w, out, sizeof out);
  g_assert_cmpuint (reencode (&doc, 0, &w), ==, doc.n_items);
  assert_err (sp_cbor_writer_finish (&w, &out_len), SP_OK);
  g_assert_cmpmem (out, out_len, p, len);
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

typedef void (*put_fn) (sp_cbor_writer *w);

static void
assert_written (const guint8 *buf, sp_cbor_writer *w, const char *hex)
{
  g_autoptr (GBytes) want = signet_test_hex (hex);
  size_t len = 0;

  assert_err (sp_cbor_writer_finish (w, &len), SP_OK);
  g_assert_cmpmem (buf, len, g_bytes_get_data (want, NULL), g_bytes_get_size (want));
}

/* RFC 8949 Appendix A, every example without floats or undefined. */
static void
test_writer_rfc8949_ints (void)
{
  static const struct { gboolean neg; guint64 v; const char *hex; } cases[] = {
    { FALSE, 0, "00" }, { FALSE, 1, "01" }, { FALSE, 10, "0a" },
    { FALSE, 23, "17" }, { FALSE, 24, "1818" }, { FALSE, 25, "1819" },
    { FALSE, 100, "1864" }, { FALSE, 1000, "1903e8" },
    { FALSE, 1000000, "1a000f4240" },
    { FALSE, 1000000000000, "1b000000e8d4a51000" },
    { FALSE, G_MAXUINT64, "1bffffffffffffffff" },
    /* neg: v is n for -1 - n */
    { TRUE, G_MAXUINT64, "3bffffffffffffffff" },   /* -18446744073709551616 */
    { TRUE, 0, "20" }, { TRUE, 9, "29" }, { TRUE, 99, "3863" },
    { TRUE, 999, "3903e7" },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint8 buf[16];
      sp_cbor_writer w;

      sp_cbor_writer_init (&w, buf, sizeof buf);
      if (cases[i].neg)
        sp_cbor_put_nint (&w, cases[i].v);
      else
        sp_cbor_put_uint (&w, cases[i].v);
      assert_written (buf, &w, cases[i].hex);
      assert_canonical (cases[i].hex, NULL);

      /* put_int gives the same bytes wherever int64_t reaches. */
      if (cases[i].v <= G_MAXINT64)
        {
          gint64 v = cases[i].neg ? -1 - (gint64) cases[i].v : (gint64) cases[i].v;

          sp_cbor_writer_init (&w, buf, sizeof buf);
          sp_cbor_put_int (&w, v);
          assert_written (buf, &w, cases[i].hex);
        }
    }
}

static void
test_writer_rfc8949_strings (void)
{
  static const struct { gboolean text; const char *v; gsize len; const char *hex; } cases[] = {
    { FALSE, "", 0, "40" },
    { FALSE, "\x01\x02\x03\x04", 4, "4401020304" },
    { TRUE, "", 0, "60" },
    { TRUE, "a", 1, "6161" },
    { TRUE, "IETF", 4, "6449455446" },
    { TRUE, "\"\\", 2, "62225c" },
    { TRUE, "\xc3\xbc", 2, "62c3bc" },                 /* ü */
    { TRUE, "\xe6\xb0\xb4", 3, "63e6b0b4" },           /* 水 */
    { TRUE, "\xf0\x90\x85\x91", 4, "64f0908591" },     /* 𐅑 */
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint8 buf[16];
      sp_cbor_writer w;

      sp_cbor_writer_init (&w, buf, sizeof buf);
      if (cases[i].text)
        sp_cbor_put_text (&w, cases[i].v, cases[i].len);
      else
        sp_cbor_put_bytes (&w, cases[i].v, cases[i].len);
      assert_written (buf, &w, cases[i].hex);
      assert_canonical (cases[i].hex, NULL);
    }
}

static void
test_writer_rfc8949_simple (void)
{
  guint8 buf[8];
  sp_cbor_writer w;

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_bool (&w, FALSE);
  sp_cbor_put_bool (&w, TRUE);
  sp_cbor_put_null (&w);
  assert_written (buf, &w, "f4f5f6");
  assert_canonical ("f4", NULL);
  assert_canonical ("f5", NULL);
  assert_canonical ("f6", NULL);
}

static void
test_writer_rfc8949_containers (void)
{
  guint8 buf[128];
  sp_cbor_writer w;
  int i;

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_array (&w, 0);
  assert_written (buf, &w, "80");

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_array (&w, 3);
  for (i = 1; i <= 3; i++)
    sp_cbor_put_uint (&w, i);
  assert_written (buf, &w, "83010203");

  /* [1, [2, 3], [4, 5]] */
  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_array (&w, 3);
  sp_cbor_put_uint (&w, 1);
  sp_cbor_put_array (&w, 2);
  sp_cbor_put_uint (&w, 2);
  sp_cbor_put_uint (&w, 3);
  sp_cbor_put_array (&w, 2);
  sp_cbor_put_uint (&w, 4);
  sp_cbor_put_uint (&w, 5);
  assert_written (buf, &w, "8301820203820405");

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_array (&w, 25);
  for (i = 1; i <= 25; i++)
    sp_cbor_put_uint (&w, i);
  assert_written (buf, &w,
                  "98190102030405060708090a0b0c0d0e0f101112131415161718181819");

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_map (&w, 0);
  assert_written (buf, &w, "a0");

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_map (&w, 2);
  sp_cbor_put_uint (&w, 1);
  sp_cbor_put_uint (&w, 2);
  sp_cbor_put_uint (&w, 3);
  sp_cbor_put_uint (&w, 4);
  assert_written (buf, &w, "a201020304");

  /* {"a": 1, "b": [2, 3]} */
  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_map (&w, 2);
  sp_cbor_put_textz (&w, "a");
  sp_cbor_put_uint (&w, 1);
  sp_cbor_put_textz (&w, "b");
  sp_cbor_put_array (&w, 2);
  sp_cbor_put_uint (&w, 2);
  sp_cbor_put_uint (&w, 3);
  assert_written (buf, &w, "a26161016162820203");

  /* ["a", {"b": "c"}] */
  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_array (&w, 2);
  sp_cbor_put_textz (&w, "a");
  sp_cbor_put_map (&w, 1);
  sp_cbor_put_textz (&w, "b");
  sp_cbor_put_textz (&w, "c");
  assert_written (buf, &w, "826161a161626163");

  /* {"a": "A", "b": "B", "c": "C", "d": "D", "e": "E"} */
  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_map (&w, 5);
  for (i = 0; i < 5; i++)
    {
      char k[2] = { (char) ('a' + i), 0 }, v[2] = { (char) ('A' + i), 0 };

      sp_cbor_put_textz (&w, k);
      sp_cbor_put_textz (&w, v);
    }
  assert_written (buf, &w, "a56161614161626142616361436164614461656145");

  assert_canonical ("80", NULL);
  assert_canonical ("83010203", NULL);
  assert_canonical ("8301820203820405", NULL);
  assert_canonical ("98190102030405060708090a0b0c0d0e0f101112131415161718181819", NULL);
  assert_canonical ("a0", NULL);
  assert_canonical ("a201020304", NULL);
  assert_canonical ("a26161016162820203", NULL);
  assert_canonical ("826161a161626163", NULL);
  assert_canonical ("a56161614161626142616361436164614461656145", NULL);
}

static void
test_writer_rfc8949_tags (void)
{
  guint8 buf[64];
  sp_cbor_writer w;

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_tag (&w, 0);
  sp_cbor_put_textz (&w, "2013-03-21T20:04:00Z");
  assert_written (buf, &w, "c074323031332d30332d32315432303a30343a30305a");

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_tag (&w, 1);
  sp_cbor_put_uint (&w, 1363896240);
  assert_written (buf, &w, "c11a514b67b0");

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_tag (&w, 23);
  sp_cbor_put_bytes (&w, "\x01\x02\x03\x04", 4);
  assert_written (buf, &w, "d74401020304");

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_tag (&w, 24);
  sp_cbor_put_bytes (&w, "\x64\x49\x45\x54\x46", 5);
  assert_written (buf, &w, "d818456449455446");

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_tag (&w, 32);
  sp_cbor_put_textz (&w, "http://www.example.com");
  assert_written (buf, &w, "d82076687474703a2f2f7777772e6578616d706c652e636f6d");

  assert_canonical ("c074323031332d30332d32315432303a30343a30305a", NULL);
  assert_canonical ("c11a514b67b0", NULL);
  assert_canonical ("d74401020304", NULL);
  assert_canonical ("d818456449455446", NULL);
  assert_canonical ("d82076687474703a2f2f7777772e6578616d706c652e636f6d", NULL);
}

/* Every tag head 0..23 is one byte and decodes, including 6..20 which
 * libcbor 0.8's streaming decoder refuses on its own. */
static void
test_decode_small_tags (void)
{
  guint t;

  for (t = 0; t < 24; t++)
    {
      guint8 in[2] = { (guint8) (0xC0 | t), 0x01 };
      sp_cbor_item items[4];
      sp_cbor_doc doc;
      guint64 tag;
      size_t content;
      guint64 v;

      assert_err (sp_cbor_decode (in, 2, NULL, items, 4, &doc), SP_OK);
      assert_err (sp_cbor_get_tag (&doc, 0, &tag, &content), SP_OK);
      g_assert_cmpuint (tag, ==, t);
      assert_err (sp_cbor_get_uint (&doc, content, &v), SP_OK);
      g_assert_cmpuint (v, ==, 1);
    }
}

static void
test_writer_sticky (void)
{
  guint8 buf[64];
  sp_cbor_writer w;
  size_t need, cap, len;

  /* Measure, then every smaller buffer fails, every larger succeeds. */
  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_map (&w, 2);
  sp_cbor_put_uint (&w, 1);
  sp_cbor_put_bytes (&w, "0123456789", 10);
  sp_cbor_put_int (&w, -300);
  sp_cbor_put_textz (&w, "hello");
  assert_err (sp_cbor_writer_finish (&w, &need), SP_OK);
  g_assert_cmpuint (need, ==, 1 + 1 + 11 + 3 + 6);

  for (cap = 0; cap <= need + 1; cap++)
    {
      guint8 small[64];

      sp_cbor_writer_init (&w, cap == 0 ? NULL : small, cap);
      sp_cbor_put_map (&w, 2);
      sp_cbor_put_uint (&w, 1);
      sp_cbor_put_bytes (&w, "0123456789", 10);
      sp_cbor_put_int (&w, -300);
      sp_cbor_put_textz (&w, "hello");
      /* A later small item must not "fit" after an earlier failure. */
      sp_cbor_put_null (&w);
      assert_err (sp_cbor_writer_finish (&w, &len),
                  cap < need + 1 ? SP_ERR_BUFFER_TOO_SMALL : SP_OK);
      g_assert_cmpuint (w.len, <=, cap);
    }

  /* The writer refuses to emit text its decoder would refuse. */
  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_text (&w, "\xc0\x80", 2);
  sp_cbor_put_uint (&w, 1);
  assert_err (sp_cbor_writer_finish (&w, &len), SP_ERR_CBOR_INVALID_UTF8);
  g_assert_cmpuint (w.len, ==, 0);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                         */
/* ------------------------------------------------------------------ */

static void
test_roundtrip_ints (void)
{
  static const gint64 ints[] = {
    0, 1, 23, 24, 255, 256, 65535, 65536, G_MAXUINT32, (gint64) G_MAXUINT32 + 1,
    G_MAXINT64, -1, -24, -25, -256, -257, -65536, -65537,
    -(gint64) G_MAXUINT32 - 1, -(gint64) G_MAXUINT32 - 2, G_MININT64 + 1, G_MININT64,
  };
  static const gsize lens[] = {
    1, 1, 1, 2, 2, 3, 3, 5, 5, 9,
    9, 1, 1, 2, 2, 3, 3, 5,
    5, 9, 9, 9,
  };
  static const guint64 uints[] = {
    0, 23, 24, 255, 256, 65535, 65536, G_MAXUINT32, (guint64) G_MAXUINT32 + 1,
    (guint64) G_MAXINT64 + 1, G_MAXUINT64,
  };
  gsize i;

  G_STATIC_ASSERT (G_N_ELEMENTS (ints) == G_N_ELEMENTS (lens));
  for (i = 0; i < G_N_ELEMENTS (ints); i++)
    {
      guint8 buf[16];
      sp_cbor_writer w;
      sp_cbor_item items[2];
      sp_cbor_doc doc;
      size_t len;
      gint64 v;

      sp_cbor_writer_init (&w, buf, sizeof buf);
      sp_cbor_put_int (&w, ints[i]);
      assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
      g_assert_cmpuint (len, ==, lens[i]);
      assert_err (sp_cbor_decode (buf, len, NULL, items, 2, &doc), SP_OK);
      g_assert_cmpint (sp_cbor_item_type (&doc, 0), ==,
                       ints[i] < 0 ? SP_CBOR_NINT : SP_CBOR_UINT);
      assert_err (sp_cbor_get_int (&doc, 0, &v), SP_OK);
      g_assert_cmpint (v, ==, ints[i]);
    }

  for (i = 0; i < G_N_ELEMENTS (uints); i++)
    {
      guint8 buf[16];
      sp_cbor_writer w;
      sp_cbor_item items[2];
      sp_cbor_doc doc;
      size_t len;
      guint64 v;
      gint64 iv;

      sp_cbor_writer_init (&w, buf, sizeof buf);
      sp_cbor_put_uint (&w, uints[i]);
      assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
      assert_err (sp_cbor_decode (buf, len, NULL, items, 2, &doc), SP_OK);
      assert_err (sp_cbor_get_uint (&doc, 0, &v), SP_OK);
      g_assert_cmpuint (v, ==, uints[i]);
      assert_err (sp_cbor_get_int (&doc, 0, &iv),
                  uints[i] > G_MAXINT64 ? SP_ERR_VALUE : SP_OK);

      /* The negative mirror image, -1 - n. */
      sp_cbor_writer_init (&w, buf, sizeof buf);
      sp_cbor_put_nint (&w, uints[i]);
      assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
      assert_err (sp_cbor_decode (buf, len, NULL, items, 2, &doc), SP_OK);
      g_assert_cmpint (sp_cbor_item_type (&doc, 0), ==, SP_CBOR_NINT);
      g_assert_cmpuint (doc.items[0].value, ==, uints[i]);
      assert_err (sp_cbor_get_int (&doc, 0, &iv),
                  uints[i] > G_MAXINT64 ? SP_ERR_VALUE : SP_OK);
      assert_err (sp_cbor_get_uint (&doc, 0, &v), SP_ERR_TYPE);
    }
}

static void
test_roundtrip_strings (void)
{
  static const gsize lens[] = { 0, 1, 23, 24, 255, 256, 65535, 65536 };
  sp_cbor_limits lim = sp_cbor_limits_default;
  gsize i;

  lim.max_size = 70000;
  lim.max_string_len = 65536;
  for (i = 0; i < G_N_ELEMENTS (lens); i++)
    {
      gsize cap = lens[i] + 16;
      g_autofree guint8 *buf = g_malloc (cap);
      g_autofree char *s = g_malloc (lens[i] + 1);
      sp_cbor_writer w;
      sp_cbor_item items[4];
      sp_cbor_doc doc;
      size_t len, got_len;
      const guint8 *got;
      const char *got_text;
      int text;

      memset (s, 'x', lens[i]);
      s[lens[i]] = '\0';
      for (text = 0; text < 2; text++)
        {
          sp_cbor_writer_init (&w, buf, cap);
          if (text)
            sp_cbor_put_text (&w, s, lens[i]);
          else
            sp_cbor_put_bytes (&w, s, lens[i]);
          assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
          g_assert_cmpuint (len - lens[i], ==,
                            lens[i] < 24 ? 1 : lens[i] < 256 ? 2 : lens[i] < 65536 ? 3 : 5);
          assert_err (sp_cbor_decode (buf, len, &lim, items, 4, &doc), SP_OK);
          if (text)
            {
              assert_err (sp_cbor_get_text (&doc, 0, &got_text, &got_len), SP_OK);
              g_assert_cmpmem (got_text, got_len, s, lens[i]);
              g_assert_true (sp_cbor_text_equals (&doc, 0, s));
              assert_err (sp_cbor_get_bytes (&doc, 0, &got, &got_len), SP_ERR_TYPE);
            }
          else
            {
              assert_err (sp_cbor_get_bytes (&doc, 0, &got, &got_len), SP_OK);
              g_assert_cmpmem (got, got_len, s, lens[i]);
              assert_err (sp_cbor_get_text (&doc, 0, &got_text, &got_len), SP_ERR_TYPE);
            }
        }
    }
}

/* A document with one of everything, used by the navigation and
 * truncation tests: {1: 24, 2: -25, 3: h'0102', 4: "text", 5: [true,
 * false, null], 6: 18([]), -1: {}, "k": 65536} */
static const char doc_hex[] =
  "a8" "01" "1818" "02" "3818" "03" "420102" "04" "6474657874"
  "05" "83f5f4f6" "06" "d280" "20" "a0" "616b" "1a00010000";

static void
test_roundtrip_document (void)
{
  guint8 buf[128];
  sp_cbor_writer w;
  size_t len;
  g_autoptr (GBytes) want = signet_test_hex (doc_hex);

  sp_cbor_writer_init (&w, buf, sizeof buf);
  sp_cbor_put_map (&w, 8);
  sp_cbor_put_uint (&w, 1);
  sp_cbor_put_uint (&w, 24);
  sp_cbor_put_int (&w, 2);
  sp_cbor_put_int (&w, -25);
  sp_cbor_put_uint (&w, 3);
  sp_cbor_put_bytes (&w, "\x01\x02", 2);
  sp_cbor_put_uint (&w, 4);
  sp_cbor_put_textz (&w, "text");
  sp_cbor_put_uint (&w, 5);
  sp_cbor_put_array (&w, 3);
  sp_cbor_put_bool (&w, TRUE);
  sp_cbor_put_bool (&w, FALSE);
  sp_cbor_put_null (&w);
  sp_cbor_put_uint (&w, 6);
  sp_cbor_put_tag (&w, 18);
  sp_cbor_put_array (&w, 0);
  sp_cbor_put_int (&w, -1);
  sp_cbor_put_map (&w, 0);
  sp_cbor_put_textz (&w, "k");
  sp_cbor_put_uint (&w, 65536);
  assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
  g_assert_cmpmem (buf, len, g_bytes_get_data (want, NULL), g_bytes_get_size (want));
  assert_canonical (doc_hex, NULL);
}

/* ------------------------------------------------------------------ */
/* Navigation                                                          */
/* ------------------------------------------------------------------ */

static void
test_navigation (void)
{
  g_autoptr (GBytes) b = signet_test_hex (doc_hex);
  sp_cbor_item items[32];
  sp_cbor_doc doc;
  size_t v, k, n, tag_content;
  guint64 u, tag;
  gint64 i;
  const guint8 *p;
  const char *t;
  size_t len;
  bool bo;
  sp_cbor_iter it;
  static const sp_cbor_key all[] = {
    SP_CBOR_KEY_INT (1), SP_CBOR_KEY_INT (2), SP_CBOR_KEY_INT (3),
    SP_CBOR_KEY_INT (4), SP_CBOR_KEY_INT (5), SP_CBOR_KEY_INT (6),
    SP_CBOR_KEY_INT (-1), SP_CBOR_KEY_TEXT ("k"),
  };

  assert_err (sp_cbor_decode (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
                              NULL, items, G_N_ELEMENTS (items), &doc), SP_OK);
  g_assert_cmpuint (doc.n_items, ==, 1 + 16 + 3 + 1);

  assert_err (sp_cbor_map_find_int (&doc, 0, 1, &v), SP_OK);
  assert_err (sp_cbor_get_uint (&doc, v, &u), SP_OK);
  g_assert_cmpuint (u, ==, 24);
  assert_err (sp_cbor_get_int (&doc, v, &i), SP_OK);
  g_assert_cmpint (i, ==, 24);
  assert_err (sp_cbor_get_text (&doc, v, &t, &len), SP_ERR_TYPE);
  assert_err (sp_cbor_get_bytes (&doc, v, &p, &len), SP_ERR_TYPE);
  assert_err (sp_cbor_get_bool (&doc, v, &bo), SP_ERR_TYPE);
  assert_err (sp_cbor_get_null (&doc, v), SP_ERR_TYPE);
  assert_err (sp_cbor_get_tag (&doc, v, &tag, NULL), SP_ERR_TYPE);
  assert_err (sp_cbor_map_find_int (&doc, v, 1, &k), SP_ERR_TYPE);
  assert_err (sp_cbor_iter_init (&it, &doc, v, SP_CBOR_ARRAY), SP_ERR_TYPE);

  assert_err (sp_cbor_map_find_int (&doc, 0, 2, &v), SP_OK);
  assert_err (sp_cbor_get_int (&doc, v, &i), SP_OK);
  g_assert_cmpint (i, ==, -25);
  assert_err (sp_cbor_get_uint (&doc, v, &u), SP_ERR_TYPE);

  assert_err (sp_cbor_map_find_int (&doc, 0, 3, &v), SP_OK);
  assert_err (sp_cbor_get_bytes (&doc, v, &p, &len), SP_OK);
  g_assert_cmpmem (p, len, "\x01\x02", 2);
  assert_err (sp_cbor_get_text (&doc, v, &t, &len), SP_ERR_TYPE);
  assert_err (sp_cbor_get_int (&doc, v, &i), SP_ERR_TYPE);

  assert_err (sp_cbor_map_find_int (&doc, 0, 4, &v), SP_OK);
  assert_err (sp_cbor_get_text (&doc, v, &t, &len), SP_OK);
  g_assert_cmpmem (t, len, "text", 4);
  g_assert_true (sp_cbor_text_equals (&doc, v, "text"));
  g_assert_false (sp_cbor_text_equals (&doc, v, "tex"));
  g_assert_false (sp_cbor_text_equals (&doc, v, "texts"));

  assert_err (sp_cbor_map_find_int (&doc, 0, 5, &v), SP_OK);
  assert_err (sp_cbor_get_count (&doc, v, SP_CBOR_ARRAY, &n), SP_OK);
  g_assert_cmpuint (n, ==, 3);
  assert_err (sp_cbor_get_count (&doc, v, SP_CBOR_MAP, &n), SP_ERR_TYPE);
  assert_err (sp_cbor_map_find_int (&doc, v, 0, &k), SP_ERR_TYPE);
  assert_err (sp_cbor_iter_init (&it, &doc, v, SP_CBOR_ARRAY), SP_OK);
  g_assert_true (sp_cbor_iter_next (&it, &k));
  assert_err (sp_cbor_get_bool (&doc, k, &bo), SP_OK);
  g_assert_true (bo);
  g_assert_true (sp_cbor_iter_next (&it, &k));
  assert_err (sp_cbor_get_bool (&doc, k, &bo), SP_OK);
  g_assert_false (bo);
  g_assert_true (sp_cbor_iter_next (&it, &k));
  assert_err (sp_cbor_get_null (&doc, k), SP_OK);
  assert_err (sp_cbor_get_bool (&doc, k, &bo), SP_ERR_TYPE);
  g_assert_false (sp_cbor_iter_next (&it, &k));

  assert_err (sp_cbor_map_find_int (&doc, 0, 6, &v), SP_OK);
  assert_err (sp_cbor_get_tag (&doc, v, &tag, &tag_content), SP_OK);
  g_assert_cmpuint (tag, ==, 18);
  assert_err (sp_cbor_get_count (&doc, tag_content, SP_CBOR_ARRAY, &n), SP_OK);
  g_assert_cmpuint (n, ==, 0);

  assert_err (sp_cbor_map_find_int (&doc, 0, -1, &v), SP_OK);
  assert_err (sp_cbor_get_count (&doc, v, SP_CBOR_MAP, &n), SP_OK);
  g_assert_cmpuint (n, ==, 0);
  assert_err (sp_cbor_map_find_text (&doc, 0, "k", &v), SP_OK);
  assert_err (sp_cbor_get_uint (&doc, v, &u), SP_OK);
  g_assert_cmpuint (u, ==, 65536);

  assert_err (sp_cbor_map_find_int (&doc, 0, 7, &v), SP_ERR_MISSING);
  assert_err (sp_cbor_map_find_int (&doc, 0, -2, &v), SP_ERR_MISSING);
  assert_err (sp_cbor_map_find_text (&doc, 0, "x", &v), SP_ERR_MISSING);
  assert_err (sp_cbor_map_find_text (&doc, 0, "", &v), SP_ERR_MISSING);

  /* Iterating pairs visits each key once, in order. */
  assert_err (sp_cbor_iter_init (&it, &doc, 0, SP_CBOR_MAP), SP_OK);
  n = 0;
  while (sp_cbor_iter_next_pair (&it, &k, &v))
    n++;
  g_assert_cmpuint (n, ==, 8);

  assert_err (sp_cbor_map_check_keys (&doc, 0, all, G_N_ELEMENTS (all)), SP_OK);
  assert_err (sp_cbor_map_check_keys (&doc, 0, all, G_N_ELEMENTS (all) - 1),
              SP_ERR_UNKNOWN_FIELD);
  assert_err (sp_cbor_map_check_keys (&doc, 0, all + 1, G_N_ELEMENTS (all) - 1),
              SP_ERR_UNKNOWN_FIELD);
  assert_err (sp_cbor_map_check_keys (&doc, 1, all, G_N_ELEMENTS (all)), SP_ERR_TYPE);

  /* Caller bugs are refused, never read out of bounds. */
  assert_err (sp_cbor_get_uint (&doc, doc.n_items, &u), SP_ERR_INVALID_ARG);
  assert_err (sp_cbor_get_raw (&doc, SP_CBOR_NONE, &p, &len), SP_ERR_INVALID_ARG);
  assert_err (sp_cbor_get_raw (&doc, 0, &p, &len), SP_OK);
  g_assert_cmpuint (len, ==, g_bytes_get_size (b));
}

/* ------------------------------------------------------------------ */
/* Rejections                                                          */
/* ------------------------------------------------------------------ */

static void
test_reject_truncated (void)
{
  g_autoptr (GBytes) b = signet_test_hex (doc_hex);
  gsize len, cut;
  const guint8 *p = g_bytes_get_data (b, &len);

  for (cut = 0; cut < len; cut++)
    {
      /* An exact-size copy so ASan catches any read past the end. */
      g_autofree guint8 *copy = g_memdup2 (p, cut);
      sp_cbor_item items[32];
      sp_cbor_doc doc;

      assert_err (sp_cbor_decode (copy, cut, NULL, items, 32, &doc),
                  SP_ERR_CBOR_TRUNCATED);
    }
  /* Every head cut inside its argument or payload. */
  g_assert_cmpint (decode_hex ("19 01", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  g_assert_cmpint (decode_hex ("1b 00 00 00 00 00 00 01", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  g_assert_cmpint (decode_hex ("43 01 02", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  g_assert_cmpint (decode_hex ("62 61", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  g_assert_cmpint (decode_hex ("82 01", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  g_assert_cmpint (decode_hex ("a1 01", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  g_assert_cmpint (decode_hex ("c1", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  g_assert_cmpint (decode_hex ("d2", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  g_assert_cmpint (decode_hex ("f8", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  /* A count that the remaining bytes cannot hold. */
  g_assert_cmpint (decode_hex ("98 20 00", NULL), ==, SP_ERR_CBOR_TRUNCATED);
  assert_err (decode_hex ("b8 20 00 00 00", NULL), SP_ERR_CBOR_TRUNCATED);
}

static void
test_reject_trailing (void)
{
  g_autofree char *hex = g_strconcat (doc_hex, "00", NULL);

  assert_err (decode_hex (hex, NULL), SP_ERR_CBOR_TRAILING);
  assert_err (decode_hex ("00 00", NULL), SP_ERR_CBOR_TRAILING);
  assert_err (decode_hex ("80 ff", NULL), SP_ERR_CBOR_TRAILING);
  assert_err (decode_hex ("a0 a0", NULL), SP_ERR_CBOR_TRAILING);
}

static void
test_reject_malformed (void)
{
  static const char *reserved[] = {
    "1c", "1d", "1e", "1f", "3c", "3d", "3e", "3f", "5c", "5d", "5e",
    "7c", "7d", "7e", "9c", "9d", "9e", "bc", "bd", "be", "dc", "dd",
    "de", "df", "fc", "fd", "fe",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (reserved); i++)
    assert_err (decode_hex (reserved[i], NULL), SP_ERR_CBOR_MALFORMED);
  /* Stray breaks, at the top and inside a definite container. */
  assert_err (decode_hex ("ff", NULL), SP_ERR_CBOR_MALFORMED);
  assert_err (decode_hex ("81 ff", NULL), SP_ERR_CBOR_MALFORMED);
  assert_err (decode_hex ("a1 01 ff", NULL), SP_ERR_CBOR_MALFORMED);
  /* Two-byte simple values below 32 are not well-formed. */
  assert_err (decode_hex ("f8 00", NULL), SP_ERR_CBOR_MALFORMED);
  assert_err (decode_hex ("f8 14", NULL), SP_ERR_CBOR_MALFORMED);
  assert_err (decode_hex ("f8 1f", NULL), SP_ERR_CBOR_MALFORMED);
  assert_err (decode_hex ("", NULL), SP_ERR_CBOR_TRUNCATED);
}

static void
test_reject_indefinite (void)
{
  assert_err (decode_hex ("5f 41 00 ff", NULL), SP_ERR_CBOR_INDEFINITE);
  assert_err (decode_hex ("7f 61 61 ff", NULL), SP_ERR_CBOR_INDEFINITE);
  assert_err (decode_hex ("9f ff", NULL), SP_ERR_CBOR_INDEFINITE);
  assert_err (decode_hex ("9f 01 02 ff", NULL), SP_ERR_CBOR_INDEFINITE);
  assert_err (decode_hex ("bf ff", NULL), SP_ERR_CBOR_INDEFINITE);
  assert_err (decode_hex ("82 01 9f ff", NULL), SP_ERR_CBOR_INDEFINITE);
  assert_err (decode_hex ("5f", NULL), SP_ERR_CBOR_INDEFINITE);
}

static void
test_reject_non_minimal (void)
{
  static const char *cases[] = {
    "18 17", "18 00", "19 00 ff", "19 00 00", "1a 00 00 ff ff",
    "1b 00 00 00 00 ff ff ff ff", "1b 00 00 00 00 00 00 00 00",
    "38 00", "38 17", "39 00 ff", "3a 00 00 ff ff", "3b 00 00 00 00 ff ff ff ff",
    "58 00", "58 02 00 00", "58 17 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
    "59 00 01 00", "78 01 61", "79 00 00",
    "98 00", "98 01 00", "99 00 00", "b8 00", "b8 01 00 00", "9a 00 00 00 01 00",
    "d8 12 80", "d8 00 00", "d9 00 01 00", "da 00 00 00 12 80",
    "db 00 00 00 00 00 00 00 01 00",
    /* inside containers too */
    "82 01 18 05", "a1 18 01 00",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_err (decode_hex (cases[i], NULL), SP_ERR_CBOR_NON_MINIMAL);
}

static void
test_reject_unsupported (void)
{
  static const char *cases[] = {
    "f9 3c 00", "fa 3f 80 00 00", "fb 3f f0 00 00 00 00 00 00", "f9 7e 00",
    "f7", "e0", "f0", "f3", "f8 20", "f8 ff", "81 f7", "a1 01 fa 00 00 00 00",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    assert_err (decode_hex (cases[i], NULL), SP_ERR_CBOR_UNSUPPORTED);
}

static void
test_reject_utf8 (void)
{
  static const char *bad[] = {
    "61 ff", "61 80", "61 c3", "62 c0 80", "62 c1 bf", "63 e0 80 80",
    "63 ed a0 80", "63 ed bf bf", "64 f0 80 80 80", "64 f4 90 80 80",
    "64 f5 80 80 80", "62 c3 41", "63 e6 b0 41", "62 61 fe",
    "a1 62 c3 28 00",
  };
  static const char *good[] = {
    "61 7f", "62 c2 80", "62 df bf", "63 e0 a0 80", "63 ed 9f bf",
    "63 ee 80 80", "63 ef bf bf", "64 f0 90 80 80", "64 f4 8f bf bf",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_err (decode_hex (bad[i], NULL), SP_ERR_CBOR_INVALID_UTF8);
  for (i = 0; i < G_N_ELEMENTS (good); i++)
    assert_canonical (good[i], NULL);
  /* Invalid UTF-8 in a byte string is just bytes. */
  assert_canonical ("42 c0 80", NULL);
}

/* n nested arrays around a 0. */
static GBytes *
nested (gsize n, guint8 head)
{
  GByteArray *a = g_byte_array_new ();
  guint8 zero = 0;
  gsize i;

  for (i = 0; i < n; i++)
    g_byte_array_append (a, &head, 1);
  g_byte_array_append (a, &zero, 1);
  return g_byte_array_free_to_bytes (a);
}

static void
test_reject_too_deep (void)
{
  sp_cbor_item items[64];
  sp_cbor_doc doc;
  sp_cbor_limits lim = sp_cbor_limits_default;
  g_autoptr (GBytes) ok = nested (SP_CBOR_DEFAULT_MAX_DEPTH, 0x81);
  g_autoptr (GBytes) deep = nested (SP_CBOR_DEFAULT_MAX_DEPTH + 1, 0x81);
  g_autoptr (GBytes) tags = nested (SP_CBOR_DEFAULT_MAX_DEPTH + 1, 0xc1);
  g_autoptr (GBytes) max = nested (SP_CBOR_DEPTH_MAX, 0x81);
  g_autoptr (GBytes) past = nested (SP_CBOR_DEPTH_MAX + 1, 0x81);

  assert_err (sp_cbor_decode (g_bytes_get_data (ok, NULL), g_bytes_get_size (ok),
                              NULL, items, 64, &doc), SP_OK);
  assert_err (sp_cbor_decode (g_bytes_get_data (deep, NULL), g_bytes_get_size (deep),
                              NULL, items, 64, &doc), SP_ERR_CBOR_TOO_DEEP);
  assert_err (sp_cbor_decode (g_bytes_get_data (tags, NULL), g_bytes_get_size (tags),
                              NULL, items, 64, &doc), SP_ERR_CBOR_TOO_DEEP);
  /* Empty containers at the limit are fine: nothing sits below them. */
  assert_err (decode_hex ("81 81 81 81 81 81 81 81 80", NULL), SP_OK);
  assert_err (decode_hex ("81 81 81 81 81 81 81 81 a0", NULL), SP_OK);
  assert_err (decode_hex ("81 81 81 81 81 81 81 81 81 80", NULL), SP_ERR_CBOR_TOO_DEEP);
  /* Map values nest too. */
  assert_err (decode_hex ("a1 00 a1 00 a1 00 a1 00 a1 00 a1 00 a1 00 a1 00 a1 00 00", NULL),
              SP_ERR_CBOR_TOO_DEEP);

  lim.max_depth = 0;
  assert_err (decode_hex ("00", &lim), SP_OK);
  assert_err (decode_hex ("80", &lim), SP_OK);
  assert_err (decode_hex ("81 00", &lim), SP_ERR_CBOR_TOO_DEEP);

  lim.max_depth = SP_CBOR_DEPTH_MAX;
  assert_err (sp_cbor_decode (g_bytes_get_data (max, NULL), g_bytes_get_size (max),
                              &lim, items, 64, &doc), SP_OK);
  assert_err (sp_cbor_decode (g_bytes_get_data (past, NULL), g_bytes_get_size (past),
                              &lim, items, 64, &doc), SP_ERR_CBOR_TOO_DEEP);
  lim.max_depth = SP_CBOR_DEPTH_MAX + 1;
  assert_err (decode_hex ("00", &lim), SP_ERR_INVALID_ARG);
}

static void
test_reject_too_long (void)
{
  sp_cbor_limits lim = sp_cbor_limits_default;
  g_autofree guint8 *big = g_malloc0 (SP_CBOR_DEFAULT_MAX_STRING_LEN + 3);
  sp_cbor_item items[4];
  sp_cbor_doc doc;
  GString *hex;
  int i;

  /* A string one byte over the limit, complete in the input... */
  big[0] = 0x59;
  big[1] = (SP_CBOR_DEFAULT_MAX_STRING_LEN + 1) >> 8;
  big[2] = (SP_CBOR_DEFAULT_MAX_STRING_LEN + 1) & 0xff;
  assert_err (sp_cbor_decode (big, SP_CBOR_DEFAULT_MAX_STRING_LEN + 3, NULL, items, 4, &doc),
              SP_ERR_CBOR_TOO_LONG);
  big[0] = 0x79;
  assert_err (sp_cbor_decode (big, SP_CBOR_DEFAULT_MAX_STRING_LEN + 3, NULL, items, 4, &doc),
              SP_ERR_CBOR_TOO_LONG);
  /* ...exactly at the limit... */
  big[0] = 0x59;
  big[1] = SP_CBOR_DEFAULT_MAX_STRING_LEN >> 8;
  big[2] = SP_CBOR_DEFAULT_MAX_STRING_LEN & 0xff;
  assert_err (sp_cbor_decode (big, SP_CBOR_DEFAULT_MAX_STRING_LEN + 3, NULL, items, 4, &doc),
              SP_OK);

  /* ...or only announced: a length libcbor cannot even add up. */
  assert_err (decode_hex ("5b ff ff ff ff ff ff ff f0 00", NULL), SP_ERR_CBOR_TOO_LONG);
  assert_err (decode_hex ("7b 00 00 00 01 00 00 00 05 61 61 61 61 61", NULL),
              SP_ERR_CBOR_TOO_LONG);
  assert_err (decode_hex ("5a ff ff ff ff", NULL), SP_ERR_CBOR_TOO_LONG);
  lim.max_string_len = 3;
  assert_err (decode_hex ("44 01 02 03 04", &lim), SP_ERR_CBOR_TOO_LONG);
  assert_err (decode_hex ("44 01 02", &lim), SP_ERR_CBOR_TOO_LONG);
  assert_err (decode_hex ("43 01 02 03", &lim), SP_OK);

  /* Containers: array elements and map pairs. */
  assert_err (decode_hex ("9b ff ff ff ff ff ff ff ff 00", NULL), SP_ERR_CBOR_TOO_LONG);
  assert_err (decode_hex ("bb 80 00 00 00 00 00 00 00 00", NULL), SP_ERR_CBOR_TOO_LONG);
  hex = g_string_new ("98 41");
  for (i = 0; i < 65; i++)
    g_string_append (hex, " 00");
  assert_err (decode_hex (hex->str, NULL), SP_ERR_CBOR_TOO_LONG);
  g_string_assign (hex, "98 40");
  for (i = 0; i < 64; i++)
    g_string_append (hex, " 00");
  assert_err (decode_hex (hex->str, NULL), SP_OK);
  g_string_assign (hex, "b8 41");
  for (i = 0; i < 65; i++)
    g_string_append_printf (hex, " 18 %02x 00", 24 + i);
  assert_err (decode_hex (hex->str, NULL), SP_ERR_CBOR_TOO_LONG);
  g_string_free (hex, TRUE);
}

static void
test_reject_too_large (void)
{
  gsize len = SP_CBOR_DEFAULT_MAX_SIZE + 1;
  g_autofree guint8 *buf = g_malloc0 (len);
  sp_cbor_limits lim = sp_cbor_limits_default;
  sp_cbor_item items[4];
  sp_cbor_doc doc;

  assert_err (sp_cbor_decode (buf, len, NULL, items, 4, &doc), SP_ERR_CBOR_TOO_LARGE);
  lim.max_size = 1;
  assert_err (decode_hex ("00", &lim), SP_OK);
  assert_err (decode_hex ("18 18", &lim), SP_ERR_CBOR_TOO_LARGE);
}

static void
test_reject_too_many_items (void)
{
  sp_cbor_limits lim = sp_cbor_limits_default;
  g_autoptr (GBytes) b = signet_test_hex ("83 01 02 03");
  sp_cbor_item items[4];
  sp_cbor_doc doc;
  GString *hex;
  int i;

  lim.max_items = 3;
  assert_err (decode_hex ("83 01 02 03", &lim), SP_ERR_CBOR_TOO_MANY_ITEMS);
  lim.max_items = 4;
  assert_err (decode_hex ("83 01 02 03", &lim), SP_OK);

  /* The caller's array is a limit too. */
  assert_err (sp_cbor_decode (g_bytes_get_data (b, NULL), 4, NULL, items, 3, &doc),
              SP_ERR_CBOR_TOO_MANY_ITEMS);
  assert_err (sp_cbor_decode (g_bytes_get_data (b, NULL), 4, NULL, items, 4, &doc),
              SP_OK);

  /* The default: 256 items. 4 arrays of 64 zeros are 1 + 4 * 65 items. */
  hex = g_string_new ("84");
  for (i = 0; i < 4; i++)
    {
      int j;

      g_string_append (hex, " 98 40");
      for (j = 0; j < 64; j++)
        g_string_append (hex, " 00");
    }
  assert_err (decode_hex (hex->str, NULL), SP_ERR_CBOR_TOO_MANY_ITEMS);
  g_string_free (hex, TRUE);
}

static void
test_reject_duplicate_keys (void)
{
  sp_cbor_limits loose = sp_cbor_limits_default;

  loose.deterministic = false;
  assert_err (decode_hex ("a2 01 00 01 00", NULL), SP_ERR_CBOR_DUPLICATE_KEY);
  assert_err (decode_hex ("a2 01 00 01 00", &loose), SP_ERR_CBOR_DUPLICATE_KEY);
  assert_err (decode_hex ("a2 61 61 00 61 61 01", NULL), SP_ERR_CBOR_DUPLICATE_KEY);
  assert_err (decode_hex ("a2 20 00 20 00", NULL), SP_ERR_CBOR_DUPLICATE_KEY);
  assert_err (decode_hex ("a2 81 01 00 81 01 00", NULL), SP_ERR_CBOR_DUPLICATE_KEY);
  assert_err (decode_hex ("a2 41 00 00 41 00 00", &loose), SP_ERR_CBOR_DUPLICATE_KEY);
  /* Unsorted and repeating: the duplicate is the worse news. */
  assert_err (decode_hex ("a3 02 00 01 00 02 00", &loose), SP_ERR_CBOR_DUPLICATE_KEY);
  assert_err (decode_hex ("a3 01 00 02 00 01 00", NULL), SP_ERR_CBOR_DUPLICATE_KEY);
  /* In a nested map, and the same key in two maps is fine. */
  assert_err (decode_hex ("a1 01 a2 02 00 02 00", NULL), SP_ERR_CBOR_DUPLICATE_KEY);
  assert_err (decode_hex ("a2 01 a1 01 00 02 a1 01 00", NULL), SP_OK);
  /* Equal values under different keys are fine. */
  assert_err (decode_hex ("a2 01 00 02 00", NULL), SP_OK);
}

static void
test_reject_unsorted_keys (void)
{
  sp_cbor_limits loose = sp_cbor_limits_default;

  loose.deterministic = false;
  assert_err (decode_hex ("a2 02 00 01 00", NULL), SP_ERR_CBOR_UNSORTED_KEYS);
  assert_err (decode_hex ("a2 02 00 01 00", &loose), SP_OK);
  /* Negative keys sort after all unsigned ones, -1 first. */
  assert_err (decode_hex ("a2 20 00 01 00", NULL), SP_ERR_CBOR_UNSORTED_KEYS);
  assert_err (decode_hex ("a2 21 00 20 00", NULL), SP_ERR_CBOR_UNSORTED_KEYS);
  assert_err (decode_hex ("a3 01 00 20 00 21 00", NULL), SP_OK);
  /* 24 (two bytes) sorts after 23 (one byte); 23 < -1. */
  assert_err (decode_hex ("a2 18 18 00 17 00", NULL), SP_ERR_CBOR_UNSORTED_KEYS);
  assert_err (decode_hex ("a3 17 00 18 18 00 20 00", NULL), SP_OK);
  /* Text: shorter first, then bytewise. */
  assert_err (decode_hex ("a2 62 61 61 00 61 62 00", NULL), SP_ERR_CBOR_UNSORTED_KEYS);
  assert_err (decode_hex ("a2 61 62 00 61 61 00", NULL), SP_ERR_CBOR_UNSORTED_KEYS);
  assert_err (decode_hex ("a2 61 62 00 62 61 61 00", NULL), SP_OK);
  /* Integers before text. */
  assert_err (decode_hex ("a2 61 61 00 01 00", NULL), SP_ERR_CBOR_UNSORTED_KEYS);
  assert_err (decode_hex ("a2 61 61 00 01 00", &loose), SP_OK);
}

static void
test_reject_bad_args (void)
{
  sp_cbor_item items[2];
  sp_cbor_doc doc;
  guint8 zero = 0;

  assert_err (sp_cbor_decode (NULL, 1, NULL, items, 2, &doc), SP_ERR_INVALID_ARG);
  assert_err (sp_cbor_decode (&zero, 1, NULL, NULL, 2, &doc), SP_ERR_INVALID_ARG);
  assert_err (sp_cbor_decode (&zero, 1, NULL, items, 2, NULL), SP_ERR_INVALID_ARG);
  assert_err (sp_cbor_decode (&zero, 1, NULL, items, 0, &doc), SP_ERR_CBOR_TOO_MANY_ITEMS);
  assert_err (sp_cbor_decode (NULL, 0, NULL, items, 2, &doc), SP_ERR_CBOR_TRUNCATED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/cbor/writer/rfc8949-ints", test_writer_rfc8949_ints);
  g_test_add_func ("/signet/cbor/writer/rfc8949-strings", test_writer_rfc8949_strings);
  g_test_add_func ("/signet/cbor/writer/rfc8949-simple", test_writer_rfc8949_simple);
  g_test_add_func ("/signet/cbor/writer/rfc8949-containers", test_writer_rfc8949_containers);
  g_test_add_func ("/signet/cbor/writer/rfc8949-tags", test_writer_rfc8949_tags);
  g_test_add_func ("/signet/cbor/writer/sticky-error", test_writer_sticky);
  g_test_add_func ("/signet/cbor/decode/small-tags", test_decode_small_tags);
  g_test_add_func ("/signet/cbor/roundtrip/ints", test_roundtrip_ints);
  g_test_add_func ("/signet/cbor/roundtrip/strings", test_roundtrip_strings);
  g_test_add_func ("/signet/cbor/roundtrip/document", test_roundtrip_document);
  g_test_add_func ("/signet/cbor/navigation", test_navigation);
  g_test_add_func ("/signet/cbor/reject/truncated", test_reject_truncated);
  g_test_add_func ("/signet/cbor/reject/trailing", test_reject_trailing);
  g_test_add_func ("/signet/cbor/reject/malformed", test_reject_malformed);
  g_test_add_func ("/signet/cbor/reject/indefinite", test_reject_indefinite);
  g_test_add_func ("/signet/cbor/reject/non-minimal", test_reject_non_minimal);
  g_test_add_func ("/signet/cbor/reject/unsupported", test_reject_unsupported);
  g_test_add_func ("/signet/cbor/reject/utf8", test_reject_utf8);
  g_test_add_func ("/signet/cbor/reject/too-deep", test_reject_too_deep);
  g_test_add_func ("/signet/cbor/reject/too-long", test_reject_too_long);
  g_test_add_func ("/signet/cbor/reject/too-large", test_reject_too_large);
  g_test_add_func ("/signet/cbor/reject/too-many-items", test_reject_too_many_items);
  g_test_add_func ("/signet/cbor/reject/duplicate-keys", test_reject_duplicate_keys);
  g_test_add_func ("/signet/cbor/reject/unsorted-keys", test_reject_unsorted_keys);
  g_test_add_func ("/signet/cbor/reject/bad-args", test_reject_bad_args);

  return g_test_run ();
}
