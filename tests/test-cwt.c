/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-cwt.c: CWT claims: deterministic encoding, strict decoding (every
 * claim's wrong type, missing and unknown claims), signed tokens and the
 * ways they must fail, time and audience validation.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "signet-crypto-port.h"
#include "sp-cwt.h"

#define assert_err(expr, want)                                          \
  G_STMT_START {                                                        \
    sp_err e_ = (expr);                                                 \
    g_assert_cmpstr (sp_strerror (e_), ==, sp_strerror (want));         \
    g_assert_cmpint (e_, ==, want);                                     \
  } G_STMT_END

static const sp_crypto_port *port;

static const guint8 test_cti[] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };
static const guint8 issuer_kid[] = "signet-authority-1";
#define T_IAT 1700000000
#define T_EXP (T_IAT + 900)

/* A fixed P-256 point (the COSE WG examples' key "11"), so encodings can
 * be compared with bytes computed elsewhere. */
static const guint8 fixed_pub[SP_P256_PUB_LEN] = {
  0x04,
  0xba, 0xc5, 0xb1, 0x1c, 0xad, 0x8f, 0x99, 0xf9, 0xc7, 0x2b, 0x05, 0xcf,
  0x4b, 0x9e, 0x26, 0xd2, 0x44, 0xdc, 0x18, 0x9f, 0x74, 0x52, 0x28, 0x25,
  0x5a, 0x21, 0x9a, 0x86, 0xd6, 0xa0, 0x9e, 0xff,
  0x20, 0x13, 0x8b, 0xf8, 0x2d, 0xc1, 0xb6, 0xd5, 0x62, 0xbe, 0x0f, 0xa5,
  0x4a, 0xb7, 0x80, 0x4a, 0x3a, 0x64, 0xb6, 0xd7, 0x2c, 0xcf, 0xed, 0x6b,
  0x6f, 0xb6, 0xed, 0x28, 0xbb, 0xfc, 0x11, 0x7e,
};

static void
full_claims (sp_cwt_claims *c)
{
  memset (c, 0, sizeof *c);
  c->present = SP_CWT_ISS | SP_CWT_SUB | SP_CWT_AUD | SP_CWT_EXP | SP_CWT_NBF |
               SP_CWT_IAT | SP_CWT_CTI | SP_CWT_CNF | SP_CWT_SCOPE | SP_CWT_AMR |
               SP_CWT_ROLE | SP_CWT_AUTH_TIME;
  c->iss = sp_cwt_text_from ("https://signet.example/");
  c->sub = sp_cwt_text_from ("alice");
  c->aud = sp_cwt_text_from ("site-a");
  c->exp = T_EXP;
  c->nbf = T_IAT - 5;
  c->iat = T_IAT;
  c->cti = test_cti;
  c->cti_len = sizeof test_cti;
  memcpy (c->cnf.pub, fixed_pub, sizeof fixed_pub);
  memcpy (c->cnf.kid, "pop", 3);
  c->cnf.kid_len = 3;
  c->scope = sp_cwt_text_from ("config.read config.write firmware");
  c->amr[0] = sp_cwt_text_from ("pwd");
  c->amr[1] = sp_cwt_text_from ("otp");
  c->amr_count = 2;
  c->role = sp_cwt_text_from ("technician");
  c->auth_time = T_IAT - 60;
}

static void
assert_text (const sp_cwt_text *t, const char *want)
{
  g_assert_cmpmem (t->ptr, t->len, want, strlen (want));
}

static void
assert_claims_equal (const sp_cwt_claims *a, const sp_cwt_claims *b)
{
  gsize i;

  g_assert_cmphex (a->present, ==, b->present);
  g_assert_cmpmem (a->iss.ptr, a->iss.len, b->iss.ptr, b->iss.len);
  g_assert_cmpmem (a->sub.ptr, a->sub.len, b->sub.ptr, b->sub.len);
  g_assert_cmpmem (a->aud.ptr, a->aud.len, b->aud.ptr, b->aud.len);
  g_assert_cmpint (a->exp, ==, b->exp);
  g_assert_cmpint (a->nbf, ==, b->nbf);
  g_assert_cmpint (a->iat, ==, b->iat);
  g_assert_cmpmem (a->cti, a->cti_len, b->cti, b->cti_len);
  g_assert_cmpmem (a->cnf.pub, sizeof a->cnf.pub, b->cnf.pub, sizeof b->cnf.pub);
  g_assert_cmpmem (a->cnf.kid, a->cnf.kid_len, b->cnf.kid, b->cnf.kid_len);
  g_assert_false (a->cnf.has_d || b->cnf.has_d);
  g_assert_cmpmem (a->scope.ptr, a->scope.len, b->scope.ptr, b->scope.len);
  g_assert_cmpuint (a->amr_count, ==, b->amr_count);
  for (i = 0; i < a->amr_count; i++)
    g_assert_cmpmem (a->amr[i].ptr, a->amr[i].len, b->amr[i].ptr, b->amr[i].len);
  g_assert_cmpmem (a->role.ptr, a->role.len, b->role.ptr, b->role.len);
  g_assert_cmpint (a->auth_time, ==, b->auth_time);
}

static char *
to_hex (const guint8 *p, gsize len)
{
  GString *s = g_string_new (NULL);
  gsize i;

  for (i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}

static gboolean
contains (const guint8 *hay, gsize hay_len, const guint8 *needle, gsize len)
{
  gsize i;

  for (i = 0; i + len <= hay_len; i++)
    if (memcmp (hay + i, needle, len) == 0)
      return TRUE;
  return FALSE;
}

/* ------------------------------------------------------------------ */
/* Claims encoding                                                     */
/* ------------------------------------------------------------------ */

/* The full claim set, as python3-cbor2 (canonical=True) encodes the same
 * map; RFC 7049 canonical order equals RFC 8949 bytewise order for these
 * keys. */
static const char full_claims_hex[] =
  "ac017768747470733a2f2f7369676e65742e6578616d706c652f0265616c6963"
  "650366736974652d61041a6553f484051a6553f0fb061a6553f1000748012345"
  "6789abcdef08a101a601020243706f7003262001215820bac5b11cad8f99f9c7"
  "2b05cf4b9e26d244dc189f745228255a219a86d6a09eff22582020138bf82dc1"
  "b6d562be0fa54ab7804a3a64b6d72ccfed6b6fb6ed28bbfc117e097821636f6e"
  "6669672e7265616420636f6e6669672e7772697465206669726d776172656361"
  "6d728263707764636f747064726f6c656a746563686e696369616e6961757468"
  "5f74696d651a6553f0c4";

static void
test_claims_roundtrip (void)
{
  sp_cwt_claims c, d;
  guint8 buf[512];
  size_t len, cap;
  g_autofree char *hex = NULL;

  full_claims (&c);
  assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_OK);
  hex = to_hex (buf, len);
  g_assert_cmpstr (hex, ==, full_claims_hex);

  assert_err (sp_cwt_claims_decode (buf, len, &d), SP_OK);
  assert_claims_equal (&c, &d);
  /* Views point into the encoded buffer. */
  g_assert_true ((const guint8 *) d.iss.ptr > buf && (const guint8 *) d.iss.ptr < buf + len);

  for (cap = 0; cap < len; cap++)
    assert_err (sp_cwt_claims_encode (&c, buf, cap, &len), SP_ERR_BUFFER_TOO_SMALL);
}

static void
test_claims_minimal (void)
{
  sp_cwt_claims c, d;
  guint8 buf[512];
  size_t len;

  full_claims (&c);
  c.present = SP_CWT_REQUIRED;
  c.cnf.kid_len = 0;
  assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_OK);
  assert_err (sp_cwt_claims_decode (buf, len, &d), SP_OK);
  g_assert_cmphex (d.present, ==, SP_CWT_REQUIRED);
  assert_text (&d.iss, "https://signet.example/");
  assert_text (&d.sub, "alice");
  g_assert_cmpint (d.exp, ==, T_EXP);
  g_assert_cmpint (d.iat, ==, T_IAT);
  g_assert_cmpuint (d.cnf.kid_len, ==, 0);
  g_assert_cmpuint (d.amr_count, ==, 0);
  g_assert_false (sp_cwt_scope_has (&d, "config.read"));
}

static void
test_claims_encode_refuse (void)
{
  static const unsigned int required[] = {
    SP_CWT_ISS, SP_CWT_SUB, SP_CWT_EXP, SP_CWT_IAT, SP_CWT_CTI, SP_CWT_CNF,
  };
  sp_cwt_claims c, d;
  guint8 buf[512], long_cti[SP_CWT_CTI_MAX + 1] = { 0 };
  size_t len;
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (required); i++)
    {
      full_claims (&c);
      c.present &= ~required[i];
      assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_ERR_MISSING);
    }

  full_claims (&c);
  c.cti = long_cti;
  c.cti_len = sizeof long_cti;
  assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  c.cti_len = 0;
  assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);

  full_claims (&c);
  c.exp = -1;
  assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  full_claims (&c);
  c.amr_count = SP_CWT_AMR_MAX + 1;
  assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_ERR_VALUE);
  full_claims (&c);
  c.present |= 1u << 20;
  assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_ERR_INVALID_ARG);
  full_claims (&c);
  c.role.ptr = "\xff";
  c.role.len = 1;
  assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_ERR_CBOR_INVALID_UTF8);

  /* A private cnf key is never written. */
  full_claims (&c);
  memset (c.cnf.d, 0x42, sizeof c.cnf.d);
  c.cnf.has_d = TRUE;
  assert_err (sp_cwt_claims_encode (&c, buf, sizeof buf, &len), SP_OK);
  g_assert_false (contains (buf, len, c.cnf.d, sizeof c.cnf.d));
  assert_err (sp_cwt_claims_decode (buf, len, &d), SP_OK);
  g_assert_false (d.cnf.has_d);
}

/* ------------------------------------------------------------------ */
/* Claims decoding: one claim broken at a time                         */
/* ------------------------------------------------------------------ */

enum {
  C_ISS, C_SUB, C_AUD, C_EXP, C_NBF, C_IAT, C_CTI, C_CNF, C_SCOPE,
  C_AMR, C_ROLE, C_AUTH_TIME, N_CLAIMS
};

static const char *claim_names[N_CLAIMS] = {
  "iss", "sub", "aud", "exp", "nbf", "iat", "cti", "cnf", "scope",
  "amr", "role", "auth_time",
};

typedef enum {
  MUT_NONE,
  MUT_SKIP,        /* leave the claim out */
  MUT_WRONG_TYPE,  /* give it a value of another type */
} Mutation;

/* Write a COSE_Key map for fixed_pub; with_d adds a private part, extra
 * adds key_ops (4). */
static void
put_cose_key (sp_cbor_writer *w, gboolean with_d, gboolean extra)
{
  sp_cbor_put_map (w, 5 + with_d + extra);
  sp_cbor_put_int (w, 1);
  sp_cbor_put_int (w, 2);
  sp_cbor_put_int (w, 3);
  sp_cbor_put_int (w, -7);
  if (extra)
    {
      sp_cbor_put_int (w, 4);
      sp_cbor_put_array (w, 0);
    }
  sp_cbor_put_int (w, -1);
  sp_cbor_put_int (w, 1);
  sp_cbor_put_int (w, -2);
  sp_cbor_put_bytes (w, fixed_pub + 1, 32);
  sp_cbor_put_int (w, -3);
  sp_cbor_put_bytes (w, fixed_pub + 33, 32);
  if (with_d)
    {
      sp_cbor_put_int (w, -4);
      sp_cbor_put_bytes (w, fixed_pub + 1, 32);
    }
}

/* The full claim set by hand, with claim `which` mutated. */
static gsize
build_claims (guint8 *buf, gsize cap, int which, Mutation mut)
{
  sp_cbor_writer w;
  size_t len;
  int i;

  sp_cbor_writer_init (&w, buf, cap);
  sp_cbor_put_map (&w, N_CLAIMS - (mut == MUT_SKIP ? 1 : 0));
  for (i = 0; i < N_CLAIMS; i++)
    {
      gboolean wrong = i == which && mut == MUT_WRONG_TYPE;

      if (i == which && mut == MUT_SKIP)
        continue;
      if (i <= C_SCOPE)
        sp_cbor_put_int (&w, i + 1);
      else
        sp_cbor_put_textz (&w, claim_names[i]);

      switch (i)
        {
        case C_ISS: case C_SUB: case C_AUD: case C_SCOPE: case C_ROLE:
          if (wrong)
            sp_cbor_put_bytes (&w, "x", 1);
          else
            sp_cbor_put_textz (&w, "x");
          break;
        case C_EXP: case C_NBF: case C_IAT: case C_AUTH_TIME:
          if (wrong)
            sp_cbor_put_textz (&w, "1700000000");
          else
            sp_cbor_put_uint (&w, T_IAT);
          break;
        case C_CTI:
          if (wrong)
            sp_cbor_put_textz (&w, "cti");
          else
            sp_cbor_put_bytes (&w, test_cti, sizeof test_cti);
          break;
        case C_CNF:
          if (wrong)
            sp_cbor_put_bytes (&w, fixed_pub, sizeof fixed_pub);
          else
            {
              sp_cbor_put_map (&w, 1);
              sp_cbor_put_int (&w, 1);
              put_cose_key (&w, FALSE, FALSE);
            }
          break;
        case C_AMR:
          if (wrong)
            sp_cbor_put_textz (&w, "pwd");
          else
            {
              sp_cbor_put_array (&w, 1);
              sp_cbor_put_textz (&w, "pwd");
            }
          break;
        default:
          g_assert_not_reached ();
        }
    }
  assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
  return len;
}

static void
test_claims_decode_all (void)
{
  guint8 buf[512];
  gsize len = build_claims (buf, sizeof buf, -1, MUT_NONE);
  sp_cwt_claims c;

  assert_err (sp_cwt_claims_decode (buf, len, &c), SP_OK);
  g_assert_cmphex (c.present, ==, (1u << N_CLAIMS) - 1);
  g_assert_cmpuint (c.amr_count, ==, 1);
}

static void
test_claims_wrong_type (void)
{
  int i;

  for (i = 0; i < N_CLAIMS; i++)
    {
      guint8 buf[512];
      gsize len = build_claims (buf, sizeof buf, i, MUT_WRONG_TYPE);
      sp_cwt_claims c;

      g_test_message ("%s", claim_names[i]);
      assert_err (sp_cwt_claims_decode (buf, len, &c), SP_ERR_TYPE);
      g_assert_cmphex (c.present, ==, 0);
    }
}

static void
test_claims_missing (void)
{
  int i;

  for (i = 0; i < N_CLAIMS; i++)
    {
      guint8 buf[512];
      gsize len = build_claims (buf, sizeof buf, i, MUT_SKIP);
      sp_cwt_claims c;
      gboolean required = (SP_CWT_REQUIRED & (1u << i)) != 0;

      g_test_message ("%s", claim_names[i]);
      assert_err (sp_cwt_claims_decode (buf, len, &c), required ? SP_ERR_MISSING : SP_OK);
      if (!required)
        g_assert_cmphex (c.present, ==, ((1u << N_CLAIMS) - 1) & ~(1u << i));
    }
}

/* Hand-written claim sets around the required core
 * {1: "i", 2: "s", 4: 10, 6: 1, 7: h'01', 8: {1: key}}. */
static gsize
build_with (guint8 *buf, gsize cap, void (*extra) (sp_cbor_writer *w, int slot),
            gsize n_extra)
{
  sp_cbor_writer w;
  size_t len;

  sp_cbor_writer_init (&w, buf, cap);
  sp_cbor_put_map (&w, 6 + n_extra);
  extra (&w, 0);
  sp_cbor_put_int (&w, 1);
  sp_cbor_put_textz (&w, "i");
  sp_cbor_put_int (&w, 2);
  sp_cbor_put_textz (&w, "s");
  extra (&w, 3);
  sp_cbor_put_int (&w, 4);
  sp_cbor_put_uint (&w, 10);
  extra (&w, 5);
  sp_cbor_put_int (&w, 6);
  sp_cbor_put_uint (&w, 1);
  sp_cbor_put_int (&w, 7);
  sp_cbor_put_bytes (&w, "\x01", 1);
  sp_cbor_put_int (&w, 8);
  extra (&w, 8);
  extra (&w, 9);
  assert_err (sp_cbor_writer_finish (&w, &len), SP_OK);
  return len;
}

#define EXTRA(name, body)                                               \
  static void name (sp_cbor_writer *w, int slot) { body }

static void
plain_cnf (sp_cbor_writer *w)
{
  sp_cbor_put_map (w, 1);
  sp_cbor_put_int (w, 1);
  put_cose_key (w, FALSE, FALSE);
}

EXTRA (x_plain, if (slot == 8) plain_cnf (w);)
EXTRA (x_unknown_int, if (slot == 8) plain_cnf (w);
       if (slot == 9) { sp_cbor_put_int (w, 10); sp_cbor_put_uint (w, 0); })
EXTRA (x_unknown_zero, if (slot == 0) { sp_cbor_put_int (w, 0); sp_cbor_put_uint (w, 0); }
       if (slot == 8) plain_cnf (w);)
EXTRA (x_unknown_text, if (slot == 8) plain_cnf (w);
       if (slot == 9) { sp_cbor_put_textz (w, "zzz"); sp_cbor_put_uint (w, 0); })
EXTRA (x_cnf_kid, if (slot == 8) { sp_cbor_put_map (w, 2); sp_cbor_put_int (w, 1);
       put_cose_key (w, FALSE, FALSE); sp_cbor_put_int (w, 3); sp_cbor_put_bytes (w, "k", 1); })
EXTRA (x_cnf_empty, if (slot == 8) sp_cbor_put_map (w, 0);)
EXTRA (x_cnf_key_bytes, if (slot == 8) { sp_cbor_put_map (w, 1); sp_cbor_put_int (w, 1);
       sp_cbor_put_bytes (w, fixed_pub, sizeof fixed_pub); })
EXTRA (x_cnf_private, if (slot == 8) { sp_cbor_put_map (w, 1); sp_cbor_put_int (w, 1);
       put_cose_key (w, TRUE, FALSE); })
EXTRA (x_cnf_key_ops, if (slot == 8) { sp_cbor_put_map (w, 1); sp_cbor_put_int (w, 1);
       put_cose_key (w, FALSE, TRUE); })
EXTRA (x_nbf_negative, if (slot == 5) { sp_cbor_put_int (w, 5); sp_cbor_put_int (w, -1); }
       if (slot == 8) plain_cnf (w);)
EXTRA (x_nbf_huge, if (slot == 5) { sp_cbor_put_int (w, 5); sp_cbor_put_uint (w, G_MAXUINT64); }
       if (slot == 8) plain_cnf (w);)
EXTRA (x_aud_null, if (slot == 3) { sp_cbor_put_int (w, 3); sp_cbor_put_null (w); }
       if (slot == 8) plain_cnf (w);)
EXTRA (x_amr_too_many, if (slot == 8) plain_cnf (w);
       if (slot == 9) { int i; sp_cbor_put_textz (w, "amr"); sp_cbor_put_array (w, SP_CWT_AMR_MAX + 1);
         for (i = 0; i <= SP_CWT_AMR_MAX; i++) sp_cbor_put_textz (w, "otp"); })
EXTRA (x_amr_max, if (slot == 8) plain_cnf (w);
       if (slot == 9) { int i; sp_cbor_put_textz (w, "amr"); sp_cbor_put_array (w, SP_CWT_AMR_MAX);
         for (i = 0; i < SP_CWT_AMR_MAX; i++) sp_cbor_put_textz (w, "otp"); })
EXTRA (x_amr_int, if (slot == 8) plain_cnf (w);
       if (slot == 9) { sp_cbor_put_textz (w, "amr"); sp_cbor_put_array (w, 2);
         sp_cbor_put_textz (w, "pwd"); sp_cbor_put_uint (w, 1); })
EXTRA (x_role_bytes, if (slot == 8) plain_cnf (w);
       if (slot == 9) { sp_cbor_put_textz (w, "role"); sp_cbor_put_bytes (w, "t", 1); })

static void
test_claims_reject (void)
{
  static const struct {
    const char *name;
    void (*extra) (sp_cbor_writer *w, int slot);
    gsize n_extra;
    sp_err err;
  } cases[] = {
    { "plain", x_plain, 0, SP_OK },
    { "unknown int claim", x_unknown_int, 1, SP_ERR_UNKNOWN_FIELD },
    { "unknown claim 0", x_unknown_zero, 1, SP_ERR_UNKNOWN_FIELD },
    { "unknown text claim", x_unknown_text, 1, SP_ERR_UNKNOWN_FIELD },
    { "cnf with a kid method", x_cnf_kid, 0, SP_ERR_UNKNOWN_FIELD },
    { "empty cnf", x_cnf_empty, 0, SP_ERR_MISSING },
    { "cnf key as bytes", x_cnf_key_bytes, 0, SP_ERR_TYPE },
    { "cnf with a private key", x_cnf_private, 0, SP_ERR_VALUE },
    { "cnf key with key_ops", x_cnf_key_ops, 0, SP_ERR_UNKNOWN_FIELD },
    { "negative nbf", x_nbf_negative, 1, SP_ERR_VALUE },
    { "nbf past int64", x_nbf_huge, 1, SP_ERR_VALUE },
    { "null aud", x_aud_null, 1, SP_ERR_TYPE },
    { "too many amr", x_amr_too_many, 1, SP_ERR_VALUE },
    { "most amr", x_amr_max, 1, SP_OK },
    { "int in amr", x_amr_int, 1, SP_ERR_TYPE },
    { "role as bytes", x_role_bytes, 1, SP_ERR_TYPE },
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint8 buf[512];
      gsize len = build_with (buf, sizeof buf, cases[i].extra, cases[i].n_extra);
      sp_cwt_claims c;

      g_test_message ("%s", cases[i].name);
      assert_err (sp_cwt_claims_decode (buf, len, &c), cases[i].err);
    }
}

static void
test_claims_reject_cbor (void)
{
  guint8 buf[512];
  gsize len = build_claims (buf, sizeof buf, -1, MUT_NONE);
  sp_cwt_claims c;
  gsize cut;

  for (cut = 0; cut < len; cut++)
    assert_err (sp_cwt_claims_decode (buf, cut, &c), SP_ERR_CBOR_TRUNCATED);
  /* Not a map at all; a CWT-tagged map (we never use tag 61). */
  assert_err (sp_cwt_claims_decode ((const guint8 *) "\x80", 1, &c), SP_ERR_TYPE);
  memmove (buf + 2, buf, len);
  buf[0] = 0xd8;
  buf[1] = 61;
  assert_err (sp_cwt_claims_decode (buf, len + 2, &c), SP_ERR_TYPE);
  /* A float exp: RFC 8392 allows it, we do not. */
  {
    static const guint8 float_exp[] = { 0xa1, 0x04, 0xfb, 0x41, 0xd9, 0, 0, 0, 0, 0, 0 };

    assert_err (sp_cwt_claims_decode (float_exp, sizeof float_exp, &c),
                SP_ERR_CBOR_UNSUPPORTED);
  }
  /* A repeated claim: the decoder sees it before any claim logic. */
  {
    static const guint8 dup[] = { 0xa2, 0x04, 0x01, 0x04, 0x02 };

    assert_err (sp_cwt_claims_decode (dup, sizeof dup, &c), SP_ERR_CBOR_DUPLICATE_KEY);
  }
}

/* ------------------------------------------------------------------ */
/* Signed tokens                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
  sp_key *key;
  sp_cose_key trusted[2];   /* [0] someone else, [1] our issuer */
  guint8 token[1024];
  gsize token_len;
  sp_cwt_claims claims;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  sp_key *other;

  memset (f, 0, sizeof *f);
  assert_err (port->p256_generate (port->ctx, &other), SP_OK);
  assert_err (port->p256_public (port->ctx, other, f->trusted[0].pub), SP_OK);
  memcpy (f->trusted[0].kid, "other-authority", 15);
  f->trusted[0].kid_len = 15;
  port->key_free (port->ctx, other);

  assert_err (port->p256_generate (port->ctx, &f->key), SP_OK);
  assert_err (port->p256_public (port->ctx, f->key, f->trusted[1].pub), SP_OK);
  memcpy (f->trusted[1].kid, issuer_kid, sizeof issuer_kid - 1);
  f->trusted[1].kid_len = sizeof issuer_kid - 1;

  full_claims (&f->claims);
  assert_err (sp_cwt_sign (port, f->key, issuer_kid, sizeof issuer_kid - 1, &f->claims,
                           f->token, sizeof f->token, &f->token_len), SP_OK);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  port->key_free (port->ctx, f->key);
}

static void
test_sign_verify (Fixture *f, gconstpointer data)
{
  sp_cwt_claims c;
  sp_cose_sign1 msg;
  size_t idx = 99, len;
  guint8 small[1024];

  assert_err (sp_cwt_verify (port, f->token, f->token_len, f->trusted, 2, &c, &idx), SP_OK);
  g_assert_cmpuint (idx, ==, 1);
  assert_claims_equal (&f->claims, &c);
  assert_err (sp_cwt_validate (&c, T_IAT, 0, "site-a"), SP_OK);

  /* It is a COSE_Sign1 any COSE library can take apart. */
  assert_err (sp_cose_sign1_decode (f->token, f->token_len, NULL, &msg), SP_OK);
  g_assert_true (msg.tagged);
  g_assert_true (sp_cose_sign1_content_type_is (&msg, SP_CWT_CONTENT_TYPE));
  assert_err (sp_cose_sign1_check_strict (&msg, SP_CWT_CONTENT_TYPE), SP_OK);

  /* The working room sp_cwt_sign needs is SP_COSE_SIGN1_OVERHEAD. */
  assert_err (sp_cwt_claims_encode (&f->claims, small, sizeof small, &len), SP_OK);
  assert_err (sp_cwt_sign (port, f->key, issuer_kid, sizeof issuer_kid - 1, &f->claims,
                           small, SP_COSE_SIGN1_OVERHEAD + len, &len), SP_OK);
  g_assert_cmpuint (len, ==, f->token_len);
  assert_err (sp_cwt_sign (port, f->key, issuer_kid, sizeof issuer_kid - 1, &f->claims,
                           small, SP_COSE_SIGN1_OVERHEAD + 10, &len),
              SP_ERR_BUFFER_TOO_SMALL);
  assert_err (sp_cwt_sign (port, f->key, issuer_kid, sizeof issuer_kid - 1, &f->claims,
                           small, 10, &len), SP_ERR_BUFFER_TOO_SMALL);
  /* Claims we would refuse are never signed. */
  f->claims.present &= ~SP_CWT_CNF;
  assert_err (sp_cwt_sign (port, f->key, issuer_kid, sizeof issuer_kid - 1, &f->claims,
                           small, sizeof small, &len), SP_ERR_MISSING);
}

static void
test_verify_bit_flip (Fixture *f, gconstpointer data)
{
  gsize bit;

  for (bit = 0; bit < f->token_len * 8; bit++)
    {
      g_autofree guint8 *copy = g_memdup2 (f->token, f->token_len);
      sp_cwt_claims c;
      sp_err err;

      copy[bit / 8] ^= (guint8) (1u << (bit % 8));
      err = sp_cwt_verify (port, copy, f->token_len, f->trusted, 2, &c, NULL);
      g_assert_cmpint (err, !=, SP_OK);
      g_assert_cmphex (c.present, ==, 0);
    }
}

static void
test_verify_truncated (Fixture *f, gconstpointer data)
{
  gsize cut;

  for (cut = 0; cut < f->token_len; cut++)
    {
      g_autofree guint8 *copy = g_memdup2 (f->token, cut);
      sp_cwt_claims c;

      assert_err (sp_cwt_verify (port, copy, cut, f->trusted, 2, &c, NULL),
                  SP_ERR_CBOR_TRUNCATED);
    }
}

static void
test_verify_wrong_kid (Fixture *f, gconstpointer data)
{
  sp_cwt_claims c;
  sp_cose_key swapped[2];

  /* Only someone else is trusted. */
  assert_err (sp_cwt_verify (port, f->token, f->token_len, f->trusted, 1, &c, NULL),
              SP_ERR_UNKNOWN_KEY);
  assert_err (sp_cwt_verify (port, f->token, f->token_len, NULL, 0, &c, NULL),
              SP_ERR_UNKNOWN_KEY);
  /* Our kid, someone else's key: the signature decides. */
  memcpy (swapped, f->trusted, sizeof swapped);
  memcpy (swapped[1].pub, f->trusted[0].pub, SP_P256_PUB_LEN);
  assert_err (sp_cwt_verify (port, f->token, f->token_len, swapped, 2, &c, NULL),
              SP_ERR_BAD_SIGNATURE);
  /* Our key under another kid is not our key. */
  memcpy (swapped, f->trusted, sizeof swapped);
  swapped[1].kid[0] ^= 1;
  assert_err (sp_cwt_verify (port, f->token, f->token_len, swapped, 2, &c, NULL),
              SP_ERR_UNKNOWN_KEY);
  /* A prefix of the kid is not the kid. */
  memcpy (swapped, f->trusted, sizeof swapped);
  swapped[1].kid_len--;
  assert_err (sp_cwt_verify (port, f->token, f->token_len, swapped, 2, &c, NULL),
              SP_ERR_UNKNOWN_KEY);
  /* A trusted key without a kid matches nothing. */
  memcpy (swapped, f->trusted, sizeof swapped);
  swapped[1].kid_len = 0;
  assert_err (sp_cwt_verify (port, f->token, f->token_len, swapped, 2, &c, NULL),
              SP_ERR_UNKNOWN_KEY);
}

/* The same key signs other objects; none of them passes as a token. */
static void
test_verify_content_type (Fixture *f, gconstpointer data)
{
  guint8 claims[512], obj[1024];
  size_t claims_len, obj_len;
  sp_cwt_claims c;
  sp_cose_sign1_params params = {
    .kid = issuer_kid, .kid_len = sizeof issuer_kid - 1,
    .content_type = "application/signet-pop",
  };

  assert_err (sp_cwt_claims_encode (&f->claims, claims, sizeof claims, &claims_len), SP_OK);
  assert_err (sp_cose_sign1_sign (port, f->key, &params, claims, claims_len,
                                  obj, sizeof obj, &obj_len), SP_OK);
  assert_err (sp_cwt_verify (port, obj, obj_len, f->trusted, 2, &c, NULL),
              SP_ERR_COSE_HEADER);
  params.content_type = NULL;
  assert_err (sp_cose_sign1_sign (port, f->key, &params, claims, claims_len,
                                  obj, sizeof obj, &obj_len), SP_OK);
  assert_err (sp_cwt_verify (port, obj, obj_len, f->trusted, 2, &c, NULL),
              SP_ERR_COSE_HEADER);
  /* With the right content type it is a token. */
  params.content_type = SP_CWT_CONTENT_TYPE;
  assert_err (sp_cose_sign1_sign (port, f->key, &params, claims, claims_len,
                                  obj, sizeof obj, &obj_len), SP_OK);
  assert_err (sp_cwt_verify (port, obj, obj_len, f->trusted, 2, &c, NULL), SP_OK);
  /* A validly signed token whose claims we refuse is refused. */
  assert_err (sp_cose_sign1_sign (port, f->key, &params, (const guint8 *) "\xa0", 1,
                                  obj, sizeof obj, &obj_len), SP_OK);
  assert_err (sp_cwt_verify (port, obj, obj_len, f->trusted, 2, &c, NULL), SP_ERR_MISSING);
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

static void
test_validate_time (void)
{
  sp_cwt_claims c;

  full_claims (&c);
  /* exp is exclusive: valid up to exp - 1. */
  assert_err (sp_cwt_validate (&c, T_EXP - 1, 0, NULL), SP_OK);
  assert_err (sp_cwt_validate (&c, T_EXP, 0, NULL), SP_ERR_EXPIRED);
  assert_err (sp_cwt_validate (&c, T_EXP + 3600, 0, NULL), SP_ERR_EXPIRED);
  assert_err (sp_cwt_validate (&c, T_EXP + 29, 30, NULL), SP_OK);
  assert_err (sp_cwt_validate (&c, T_EXP + 30, 30, NULL), SP_ERR_EXPIRED);
  /* nbf is inclusive. */
  assert_err (sp_cwt_validate (&c, c.nbf, 0, NULL), SP_OK);
  assert_err (sp_cwt_validate (&c, c.nbf - 1, 0, NULL), SP_ERR_NOT_YET_VALID);
  assert_err (sp_cwt_validate (&c, c.nbf - 30, 30, NULL), SP_OK);
  assert_err (sp_cwt_validate (&c, c.nbf - 31, 30, NULL), SP_ERR_NOT_YET_VALID);
  assert_err (sp_cwt_validate (&c, 0, 0, NULL), SP_ERR_NOT_YET_VALID);
  /* Without nbf, the past is fine (iat is not a lower bound). */
  c.present &= ~SP_CWT_NBF;
  assert_err (sp_cwt_validate (&c, 0, 0, NULL), SP_OK);
  /* Extremes saturate instead of wrapping. */
  assert_err (sp_cwt_validate (&c, G_MAXINT64, G_MAXINT64, NULL), SP_ERR_EXPIRED);
  assert_err (sp_cwt_validate (&c, G_MININT64, G_MAXINT64, NULL), SP_OK);
  c.exp = G_MAXINT64;
  assert_err (sp_cwt_validate (&c, G_MAXINT64 - 1, G_MAXINT64, NULL), SP_OK);
  c.present |= SP_CWT_NBF;
  c.nbf = G_MAXINT64;
  assert_err (sp_cwt_validate (&c, G_MAXINT64 - 1, 0, NULL), SP_ERR_NOT_YET_VALID);
  assert_err (sp_cwt_validate (&c, G_MAXINT64 - 1, 1, NULL), SP_OK);

  assert_err (sp_cwt_validate (&c, T_IAT, -1, NULL), SP_ERR_INVALID_ARG);
  c.present &= ~SP_CWT_EXP;
  assert_err (sp_cwt_validate (&c, T_IAT, 0, NULL), SP_ERR_MISSING);
}

static void
test_validate_audience (void)
{
  sp_cwt_claims c;

  full_claims (&c);
  assert_err (sp_cwt_validate (&c, T_IAT, 0, "site-a"), SP_OK);
  assert_err (sp_cwt_validate (&c, T_IAT, 0, NULL), SP_OK);
  assert_err (sp_cwt_validate (&c, T_IAT, 0, "site-b"), SP_ERR_AUDIENCE);
  assert_err (sp_cwt_validate (&c, T_IAT, 0, "site-"), SP_ERR_AUDIENCE);
  assert_err (sp_cwt_validate (&c, T_IAT, 0, "site-aa"), SP_ERR_AUDIENCE);
  assert_err (sp_cwt_validate (&c, T_IAT, 0, ""), SP_ERR_AUDIENCE);
  c.present &= ~SP_CWT_AUD;
  assert_err (sp_cwt_validate (&c, T_IAT, 0, "site-a"), SP_ERR_AUDIENCE);
  /* Time errors come first: an expired token for us is still expired. */
  c.present |= SP_CWT_AUD;
  assert_err (sp_cwt_validate (&c, T_EXP, 0, "site-b"), SP_ERR_EXPIRED);
}

static void
test_auth_age (void)
{
  sp_cwt_claims c;

  full_claims (&c);
  assert_err (sp_cwt_check_auth_age (&c, c.auth_time + 300, 300), SP_OK);
  assert_err (sp_cwt_check_auth_age (&c, c.auth_time + 301, 300), SP_ERR_EXPIRED);
  assert_err (sp_cwt_check_auth_age (&c, c.auth_time - 10, 300), SP_OK);
  assert_err (sp_cwt_check_auth_age (&c, G_MAXINT64, G_MAXINT64), SP_OK);
  c.present &= ~SP_CWT_AUTH_TIME;
  assert_err (sp_cwt_check_auth_age (&c, T_IAT, 300), SP_ERR_MISSING);
}

static void
test_scope (void)
{
  sp_cwt_claims c;

  full_claims (&c);
  g_assert_true (sp_cwt_scope_has (&c, "config.read"));
  g_assert_true (sp_cwt_scope_has (&c, "config.write"));
  g_assert_true (sp_cwt_scope_has (&c, "firmware"));
  g_assert_false (sp_cwt_scope_has (&c, "config"));
  g_assert_false (sp_cwt_scope_has (&c, "firmwar"));
  g_assert_false (sp_cwt_scope_has (&c, "config.read config.write"));
  g_assert_false (sp_cwt_scope_has (&c, ""));
  c.scope = sp_cwt_text_from ("  a  b ");
  g_assert_true (sp_cwt_scope_has (&c, "a"));
  g_assert_true (sp_cwt_scope_has (&c, "b"));
  g_assert_false (sp_cwt_scope_has (&c, " "));
  c.present &= ~SP_CWT_SCOPE;
  g_assert_false (sp_cwt_scope_has (&c, "a"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  port = signet_crypto_port_openssl ();

  g_test_add_func ("/signet/cwt/claims/roundtrip", test_claims_roundtrip);
  g_test_add_func ("/signet/cwt/claims/minimal", test_claims_minimal);
  g_test_add_func ("/signet/cwt/claims/encode-refuse", test_claims_encode_refuse);
  g_test_add_func ("/signet/cwt/claims/decode-all", test_claims_decode_all);
  g_test_add_func ("/signet/cwt/claims/wrong-type", test_claims_wrong_type);
  g_test_add_func ("/signet/cwt/claims/missing", test_claims_missing);
  g_test_add_func ("/signet/cwt/claims/reject", test_claims_reject);
  g_test_add_func ("/signet/cwt/claims/reject-cbor", test_claims_reject_cbor);
#define ADD(path, fn) \
  g_test_add ("/signet/cwt/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("token/sign-verify", test_sign_verify);
  ADD ("token/bit-flip", test_verify_bit_flip);
  ADD ("token/truncated", test_verify_truncated);
  ADD ("token/wrong-kid", test_verify_wrong_kid);
  ADD ("token/content-type", test_verify_content_type);
#undef ADD
  g_test_add_func ("/signet/cwt/validate/time", test_validate_time);
  g_test_add_func ("/signet/cwt/validate/audience", test_validate_audience);
  g_test_add_func ("/signet/cwt/validate/auth-age", test_auth_age);
  g_test_add_func ("/signet/cwt/validate/scope", test_scope);

  return g_test_run ();
}
