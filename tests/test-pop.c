/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-pop.c: base64url, and proofs of possession: the round trip and every
 * way a proof must be refused (bad or other signer, stale either way,
 * another request or token, other signed objects of the same key, bit
 * flips, truncation, size, non-deterministic or ill-typed payloads), and
 * the Authorization header.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "signet-base64url.h"
#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-key.h"
#include "signet-pop.h"
#include "sp-cose.h"
#include "sp-cwt.h"

#define T_NOW 1700000000
#define SKEW SIGNET_POP_DEFAULT_MAX_SKEW

static const sp_crypto_port *port;
static const guint8 authority_kid[] = "authority-1";

/* ------------------------------------------------------------------ */
/* base64url                                                           */
/* ------------------------------------------------------------------ */

/* RFC 4648 §10, without the padding base64url drops (§5). */
static const struct {
  const char *in;
  const char *out;
} rfc4648[] = {
  { "", "" },
  { "f", "Zg" },
  { "fo", "Zm8" },
  { "foo", "Zm9v" },
  { "foob", "Zm9vYg" },
  { "fooba", "Zm9vYmE" },
  { "foobar", "Zm9vYmFy" },
};

static void
test_b64_rfc4648 (void)
{
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (rfc4648); i++)
    {
      gsize len = strlen (rfc4648[i].in);
      g_autofree char *enc = signet_base64url_encode ((const guint8 *) rfc4648[i].in, len);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) dec = NULL;

      g_assert_cmpstr (enc, ==, rfc4648[i].out);
      g_assert_cmpuint (strlen (enc), ==, SIGNET_BASE64URL_ENCODED_LEN (len));
      dec = signet_base64url_decode (rfc4648[i].out, -1, 64, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (dec, NULL), g_bytes_get_size (dec),
                       rfc4648[i].in, len);
    }
}

/* The two characters that differ from base64, and every byte value. */
static void
test_b64_alphabet (void)
{
  static const guint8 urlsafe[] = { 0xfb, 0xff, 0xbf };
  g_autofree char *enc = signet_base64url_encode (urlsafe, sizeof urlsafe);
  guint8 all[256];
  gsize i, len;

  g_assert_cmpstr (enc, ==, "-_-_");
  for (i = 0; i < sizeof all; i++)
    all[i] = (guint8) i;
  for (len = 0; len <= sizeof all; len++)
    {
      g_autofree char *e = signet_base64url_encode (all + (256 - len) / 2, len);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) d = signet_base64url_decode (e, -1, 400, &error);

      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (d, NULL), g_bytes_get_size (d),
                       all + (256 - len) / 2, len);
      g_assert_null (strpbrk (e, "+/="));
    }
}

static void
test_b64_invalid (void)
{
  static const char *bad[] = {
    "Zg==",     /* padding */
    "Zg=",
    "Z",        /* 4k + 1 characters */
    "Zm9vY",
    "Zh",       /* stray low bits: "Zg" is the only encoding of "f" */
    "Zm9",      /* "Zm8" is "fo" */
    "Zm9vYmF",
    "Zm9v\n",   /* whitespace */
    " Zm9v",
    "Zm 9v",
    "Zm9v\r\n",
    "Zm+v",     /* base64, not base64url */
    "Zm/v",
    "Zm9v\xc3\xa9",
    "Zm9v%3D",
    "=",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) d = signet_base64url_decode (bad[i], -1, 64, &error);

      g_assert_null (d);
      g_assert_error (error, SIGNET_BASE64URL_ERROR, SIGNET_BASE64URL_ERROR_INVALID);
      /* The message never quotes the input. */
      if (strlen (bad[i]) >= 3)
        g_assert_null (strstr (error->message, bad[i]));
    }

  /* An embedded NUL inside an explicit length. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) d = signet_base64url_decode ("Zm\0v", 4, 64, &error);

    g_assert_null (d);
    g_assert_error (error, SIGNET_BASE64URL_ERROR, SIGNET_BASE64URL_ERROR_INVALID);
  }
  /* An explicit length shorter than the string decodes only that part. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) d = signet_base64url_decode ("Zm9vYmFy", 4, 64, &error);

    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (d, NULL), g_bytes_get_size (d), "foo", 3);
  }
}

static void
test_b64_bound (void)
{
  g_autofree char *long_text = g_strnfill (1000, 'A');
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) d = NULL;

  d = signet_base64url_decode (long_text, -1, 999, &error);
  g_assert_null (d);
  g_assert_error (error, SIGNET_BASE64URL_ERROR, SIGNET_BASE64URL_ERROR_TOO_LONG);
  g_clear_error (&error);
  d = signet_base64url_decode (long_text, 1000, 999, &error);
  g_assert_null (d);
  g_assert_error (error, SIGNET_BASE64URL_ERROR, SIGNET_BASE64URL_ERROR_TOO_LONG);
  g_clear_error (&error);
  d = signet_base64url_decode (long_text, -1, 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (d), ==, 750);
  g_clear_pointer (&d, g_bytes_unref);
  /* A bound of 0 still takes the empty text. */
  d = signet_base64url_decode ("", -1, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (d), ==, 0);
}

/* ------------------------------------------------------------------ */
/* Fixture: an authority, a token bound to a PoP key                   */
/* ------------------------------------------------------------------ */

typedef struct {
  SignetKey *authority;
  SignetKey *pop;
  SignetKey *other;
  GBytes *token;
  char *token_b64;
  sp_cwt_claims claims;   /* verified; views into token */
  guint8 cti[16];
} Fixture;

/* A token for cnf_key signed by authority, with the given cti and exp. */
static GBytes *
make_token (SignetKey *authority, SignetKey *cnf_key, const guint8 *cti,
            gsize cti_len, gint64 exp)
{
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (cnf_key);
  sp_cwt_claims c;
  guint8 buf[1024];
  size_t len;

  memset (&c, 0, sizeof c);
  c.present = SP_CWT_ISS | SP_CWT_SUB | SP_CWT_AUD | SP_CWT_EXP | SP_CWT_IAT |
              SP_CWT_CTI | SP_CWT_CNF | SP_CWT_SCOPE;
  c.iss = sp_cwt_text_from ("https://signet.example/");
  c.sub = sp_cwt_text_from ("alice");
  c.aud = sp_cwt_text_from ("signet");
  c.exp = exp;
  c.iat = T_NOW - 10;
  c.cti = cti;
  c.cti_len = cti_len;
  memcpy (c.cnf.pub, g_bytes_get_data (pub, NULL), SP_P256_PUB_LEN);
  c.scope = sp_cwt_text_from ("refresh logout");
  g_assert_cmpint (sp_cwt_sign (port, signet_key_get_sp_key (authority),
                                authority_kid, sizeof authority_kid - 1, &c,
                                buf, sizeof buf, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

/* Verify token with the authority, as a server would before the proof. */
static void
verify_token (SignetKey *authority, GBytes *token, sp_cwt_claims *claims)
{
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (authority);
  sp_cose_key trusted;
  gsize len;
  const guint8 *p = g_bytes_get_data (token, &len);

  memset (&trusted, 0, sizeof trusted);
  memcpy (trusted.pub, g_bytes_get_data (pub, NULL), SP_P256_PUB_LEN);
  memcpy (trusted.kid, authority_kid, sizeof authority_kid - 1);
  trusted.kid_len = sizeof authority_kid - 1;
  g_assert_cmpint (sp_cwt_verify (port, p, len, &trusted, 1, claims, NULL), ==, SP_OK);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  memset (f, 0, sizeof *f);
  f->authority = signet_key_generate (&error);
  g_assert_no_error (error);
  f->pop = signet_key_generate (&error);
  g_assert_no_error (error);
  f->other = signet_key_generate (&error);
  g_assert_no_error (error);
  g_assert_true (signet_random_fill (f->cti, sizeof f->cti, &error));
  f->token = make_token (f->authority, f->pop, f->cti, sizeof f->cti, T_NOW + 900);
  f->token_b64 = signet_base64url_encode (g_bytes_get_data (f->token, NULL),
                                          g_bytes_get_size (f->token));
  verify_token (f->authority, f->token, &f->claims);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->authority, signet_key_unref);
  g_clear_pointer (&f->pop, signet_key_unref);
  g_clear_pointer (&f->other, signet_key_unref);
  g_clear_pointer (&f->token, g_bytes_unref);
  g_clear_pointer (&f->token_b64, g_free);
}

static char *
create (Fixture *f, const char *method, const char *path, const char *body,
        gint64 now)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) b = body != NULL ? g_bytes_new (body, strlen (body)) : NULL;
  char *proof = signet_pop_create (f->pop, f->token, method, path, b, now, &error);

  g_assert_no_error (error);
  g_assert_nonnull (proof);
  return proof;
}

/* Verify proof against the fixture's token, for a request with body
 * (NULL: none), and check the error: code 0 with domain 0 means success. */
static void
check (Fixture *f, const char *proof, const char *method, const char *path,
       const char *body, gint64 now, gint code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) b = body != NULL ? g_bytes_new (body, strlen (body)) : NULL;
  g_autoptr(GBytes) jti = NULL;
  gint64 iat = -1;
  gboolean ok;

  ok = signet_pop_verify (proof, f->token, &f->claims, method, path, b, now,
                          SKEW, &jti, &iat, &error);
  if (code < 0)
    {
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpuint (g_bytes_get_size (jti), ==, SIGNET_POP_JTI_LEN);
      g_assert_cmpint (iat, >=, 0);
      return;
    }
  g_assert_false (ok);
  g_assert_error (error, SIGNET_POP_ERROR, code);
  g_assert_null (jti);
  g_assert_cmpint (iat, ==, -1);
  /* No proof or token bytes in messages (their base64url, at least a
   * recognisable piece of it). */
  if (strlen (proof) >= 12)
    {
      g_autofree char *piece = g_strndup (proof, 12);

      g_assert_null (strstr (error->message, piece));
    }
  {
    g_autofree char *piece = g_strndup (f->token_b64, 12);

    g_assert_null (strstr (error->message, piece));
  }
}

#define OK (-1)

/* ------------------------------------------------------------------ */
/* Round trip, replay, freshness                                       */
/* ------------------------------------------------------------------ */

static void
test_roundtrip (Fixture *f, gconstpointer data)
{
  g_autofree char *p1 = create (f, "POST", "/v1/refresh", "{}", T_NOW);
  g_autofree char *p2 = create (f, "GET", "/v1/profiles?model=M&x=%20", NULL, T_NOW);
  g_autofree char *p3 = create (f, "POST", "/v1/logout", "", T_NOW);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) jti = NULL;
  g_autoptr(GBytes) proof = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
  sp_cose_sign1 msg;
  gint64 iat = 0;

  check (f, p1, "POST", "/v1/refresh", "{}", T_NOW, OK);
  check (f, p2, "GET", "/v1/profiles?model=M&x=%20", NULL, T_NOW, OK);
  /* No body and an empty body are the same: bh is SHA-256 of "". */
  check (f, p2, "GET", "/v1/profiles?model=M&x=%20", "", T_NOW, OK);
  check (f, p3, "POST", "/v1/logout", NULL, T_NOW, OK);

  g_assert_true (signet_pop_verify (p1, f->token, &f->claims, "POST",
                                    "/v1/refresh", NULL, T_NOW, SKEW, NULL,
                                    NULL, &error) == FALSE);
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MISMATCH);
  g_clear_error (&error);
  g_assert_true (signet_pop_verify (p1, f->token, &f->claims, "POST",
                                    "/v1/refresh", body, T_NOW + 3, SKEW, &jti,
                                    &iat, &error));
  g_assert_no_error (error);
  g_assert_cmpint (iat, ==, T_NOW);
  g_assert_cmpuint (g_bytes_get_size (jti), ==, SIGNET_POP_JTI_LEN);

  /* The shape docs/api.md gives: a tagged COSE_Sign1 with the PoP
   * content type and the token's cti as kid. */
  proof = signet_base64url_decode (p1, -1, SIGNET_POP_HEADER_MAX, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sp_cose_sign1_decode (g_bytes_get_data (proof, NULL),
                                         g_bytes_get_size (proof), NULL, &msg), ==, SP_OK);
  g_assert_true (msg.tagged);
  g_assert_cmpint (sp_cose_sign1_check_strict (&msg, "application/signet-pop+cbor"), ==, SP_OK);
  g_assert_cmpmem (msg.kid, msg.kid_len, f->cti, sizeof f->cti);
}

/* The replay cache is the caller's: each proof has its own jti, and the
 * same proof verifies twice with the same jti, for the caller to refuse. */
static void
test_jti (Fixture *f, gconstpointer data)
{
  g_autofree char *p1 = create (f, "POST", "/v1/refresh", "{}", T_NOW);
  g_autofree char *p2 = create (f, "POST", "/v1/refresh", "{}", T_NOW);
  g_autoptr(GBytes) j1 = NULL;
  g_autoptr(GBytes) j2 = NULL;
  g_autoptr(GBytes) j1again = NULL;
  GBytes *body = g_bytes_new_static ("{}", 2);

  g_assert_cmpstr (p1, !=, p2);
  g_assert_true (signet_pop_verify (p1, f->token, &f->claims, "POST", "/v1/refresh",
                                    body, T_NOW, SKEW, &j1, NULL, NULL));
  g_assert_true (signet_pop_verify (p2, f->token, &f->claims, "POST", "/v1/refresh",
                                    body, T_NOW, SKEW, &j2, NULL, NULL));
  g_assert_true (signet_pop_verify (p1, f->token, &f->claims, "POST", "/v1/refresh",
                                    body, T_NOW, SKEW, &j1again, NULL, NULL));
  g_assert_false (g_bytes_equal (j1, j2));
  g_assert_true (g_bytes_equal (j1, j1again));
  g_bytes_unref (body);
}

static void
test_stale (Fixture *f, gconstpointer data)
{
  g_autofree char *p = create (f, "POST", "/v1/refresh", NULL, T_NOW);

  check (f, p, "POST", "/v1/refresh", NULL, T_NOW + SKEW, OK);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW - SKEW, OK);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW + SKEW + 1, SIGNET_POP_ERROR_STALE);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW - SKEW - 1, SIGNET_POP_ERROR_STALE);
  /* Extremes of the verifier's clock do not overflow. */
  check (f, p, "POST", "/v1/refresh", NULL, G_MININT64, SIGNET_POP_ERROR_STALE);
  check (f, p, "POST", "/v1/refresh", NULL, G_MAXINT64, SIGNET_POP_ERROR_STALE);
  {
    g_autofree char *p0 = create (f, "POST", "/v1/refresh", NULL, 0);

    check (f, p0, "POST", "/v1/refresh", NULL, 0, OK);
    check (f, p0, "POST", "/v1/refresh", NULL, G_MAXINT64, SIGNET_POP_ERROR_STALE);
  }
  {
    g_autoptr(GError) error = NULL;

    /* A skew of 0 takes only the same second. */
    g_assert_true (signet_pop_verify (p, f->token, &f->claims, "POST", "/v1/refresh",
                                      NULL, T_NOW, 0, NULL, NULL, &error));
    g_assert_false (signet_pop_verify (p, f->token, &f->claims, "POST", "/v1/refresh",
                                       NULL, T_NOW + 1, 0, NULL, NULL, &error));
    g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_STALE);
  }
}

/* ------------------------------------------------------------------ */
/* Another request, another token, another signer                      */
/* ------------------------------------------------------------------ */

static void
test_mismatch (Fixture *f, gconstpointer data)
{
  g_autofree char *p = create (f, "POST", "/v1/step-up", "{\"otp\":\"123456\"}", T_NOW);
  const char *body = "{\"otp\":\"123456\"}";
  g_autoptr(GError) error = NULL;

  check (f, p, "POST", "/v1/step-up", body, T_NOW, OK);
  check (f, p, "post", "/v1/step-up", body, T_NOW, SIGNET_POP_ERROR_MISMATCH);
  check (f, p, "PUT", "/v1/step-up", body, T_NOW, SIGNET_POP_ERROR_MISMATCH);
  check (f, p, "POS", "/v1/step-up", body, T_NOW, SIGNET_POP_ERROR_MISMATCH);
  check (f, p, "POST", "/v1/refresh", body, T_NOW, SIGNET_POP_ERROR_MISMATCH);
  check (f, p, "POST", "/v1/step-up?", body, T_NOW, SIGNET_POP_ERROR_MISMATCH);
  check (f, p, "POST", "/v1/step-up/", body, T_NOW, SIGNET_POP_ERROR_MISMATCH);
  check (f, p, "POST", "/v1/step-up", "{\"otp\":\"123457\"}", T_NOW, SIGNET_POP_ERROR_MISMATCH);
  check (f, p, "POST", "/v1/step-up", NULL, T_NOW, SIGNET_POP_ERROR_MISMATCH);

  /* The message says which field. */
  g_assert_false (signet_pop_verify (p, f->token, &f->claims, "GET", "/v1/step-up",
                                     NULL, T_NOW, SKEW, NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, "htm"));
  g_clear_error (&error);
  g_assert_false (signet_pop_verify (p, f->token, &f->claims, "POST", "/v1/x",
                                     NULL, T_NOW, SKEW, NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, "htu"));
  g_clear_error (&error);
  g_assert_false (signet_pop_verify (p, f->token, &f->claims, "POST", "/v1/step-up",
                                     NULL, T_NOW, SKEW, NULL, NULL, &error));
  g_assert_nonnull (strstr (error->message, "bh"));
}

static void
test_wrong_token (Fixture *f, gconstpointer data)
{
  g_autofree char *p = create (f, "POST", "/v1/refresh", NULL, T_NOW);
  guint8 cti2[16];
  g_autoptr(GBytes) token2 = NULL;
  g_autoptr(GBytes) token3 = NULL;
  g_autoptr(GError) error = NULL;
  sp_cwt_claims claims2, claims3;

  /* A second token for the same key: the proof names the first one. */
  memcpy (cti2, f->cti, sizeof cti2);
  cti2[0] ^= 1;
  token2 = make_token (f->authority, f->pop, cti2, sizeof cti2, T_NOW + 900);
  verify_token (f->authority, token2, &claims2);
  g_assert_false (signet_pop_verify (p, token2, &claims2, "POST", "/v1/refresh",
                                     NULL, T_NOW, SKEW, NULL, NULL, &error));
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_WRONG_TOKEN);
  g_assert_nonnull (strstr (error->message, "kid"));
  g_clear_error (&error);

  /* Same cti, other bytes (another exp): kid matches, ath does not. */
  token3 = make_token (f->authority, f->pop, f->cti, sizeof f->cti, T_NOW + 901);
  verify_token (f->authority, token3, &claims3);
  g_assert_false (signet_pop_verify (p, token3, &claims3, "POST", "/v1/refresh",
                                     NULL, T_NOW, SKEW, NULL, NULL, &error));
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_WRONG_TOKEN);
  g_assert_nonnull (strstr (error->message, "ath"));
  g_clear_error (&error);

  /* The right claims with the wrong token bytes: ath again. */
  g_assert_false (signet_pop_verify (p, token3, &f->claims, "POST", "/v1/refresh",
                                     NULL, T_NOW, SKEW, NULL, NULL, &error));
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_WRONG_TOKEN);
}

static void
test_other_key (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *p = NULL;
  g_autoptr(GBytes) token2 = NULL;
  sp_cwt_claims claims2;

  /* Someone else's key, with the right kid. */
  p = signet_pop_create (f->other, f->token, "POST", "/v1/refresh", NULL, T_NOW, &error);
  g_assert_no_error (error);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_BAD_SIGNATURE);

  /* Our proof checked against a token bound to another key. */
  g_clear_pointer (&p, g_free);
  p = create (f, "POST", "/v1/refresh", NULL, T_NOW);
  token2 = make_token (f->authority, f->other, f->cti, sizeof f->cti, T_NOW + 900);
  verify_token (f->authority, token2, &claims2);
  g_assert_false (signet_pop_verify (p, token2, &claims2, "POST", "/v1/refresh",
                                     NULL, T_NOW, SKEW, NULL, NULL, &error));
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_BAD_SIGNATURE);
}

/* ------------------------------------------------------------------ */
/* Hand-made proofs                                                    */
/* ------------------------------------------------------------------ */

/* Sign payload with key as a COSE_Sign1 with kid and content type cty
 * (NULL: none), tagged or not; returns the base64url. */
static char *
sign_raw (SignetKey *key, const guint8 *kid, gsize kid_len, const char *cty,
          const guint8 *payload, gsize payload_len, gboolean tagged)
{
  sp_cose_sign1_params params;
  guint8 out[4096];
  size_t len;

  memset (&params, 0, sizeof params);
  params.kid = kid;
  params.kid_len = kid_len;
  params.content_type = cty;
  g_assert_cmpint (sp_cose_sign1_sign (port, signet_key_get_sp_key (key), &params,
                                       payload, payload_len, out, sizeof out, &len),
                   ==, SP_OK);
  g_assert_cmphex (out[0], ==, 0xd2);  /* tag 18 */
  return tagged ? signet_base64url_encode (out, len)
                : signet_base64url_encode (out + 1, len - 1);
}

typedef enum {
  M_NONE,
  M_UNSORTED,
  M_NON_MINIMAL_IAT,
  M_NON_MINIMAL_KEY,
  M_INDEFINITE_MAP,
  M_INDEFINITE_HTU,
  M_UNKNOWN_KEY,
  M_TEXT_KEY,
  M_NEGATIVE_KEY,
  M_MISSING_HTM,
  M_MISSING_HTU,
  M_MISSING_IAT,
  M_MISSING_JTI,
  M_MISSING_ATH,
  M_MISSING_BH,
  M_DUPLICATE_HTM,
  M_HTM_BYTES,
  M_HTU_INT,
  M_HTU_INVALID_UTF8,
  M_IAT_TEXT,
  M_IAT_NEGATIVE,
  M_IAT_FLOAT,
  M_IAT_HUGE,
  M_IAT_TAGGED,
  M_JTI_SHORT,
  M_JTI_LONG,
  M_JTI_TEXT,
  M_ATH_SHORT,
  M_ATH_TEXT,
  M_BH_LONG,
  M_BH_NULL,
  M_NOT_A_MAP,
  M_TRAILING,
  M_NESTED,
  N_MUTATIONS,
} Mutation;

/* The payload create() would make for POST /v1/refresh, no body, at
 * T_NOW, with one mutation. */
static gsize
build_payload (Fixture *f, Mutation m, guint8 *buf, gsize cap)
{
  static const guint8 jti[SIGNET_POP_JTI_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
  guint8 ath[32], bh[32];
  sp_cbor_writer w;
  size_t len;
  gsize n_pairs = 6;

  signet_sha256_buf (g_bytes_get_data (f->token, NULL), g_bytes_get_size (f->token), ath);
  signet_sha256_buf ("", 0, bh);
  if (m >= M_MISSING_HTM && m <= M_MISSING_BH)
    n_pairs = 5;
  if (m == M_UNKNOWN_KEY || m == M_TEXT_KEY || m == M_NEGATIVE_KEY || m == M_DUPLICATE_HTM)
    n_pairs = 7;

  sp_cbor_writer_init (&w, buf, cap);
  if (m == M_NOT_A_MAP)
    sp_cbor_put_array (&w, 12);
  else if (m == M_INDEFINITE_MAP)
    sp_cbor_put_raw (&w, "\xbf", 1);
  else
    sp_cbor_put_map (&w, n_pairs);

  if (m == M_UNSORTED)
    {
      sp_cbor_put_uint (&w, 2);
      sp_cbor_put_textz (&w, "/v1/refresh");
      sp_cbor_put_uint (&w, 1);
      sp_cbor_put_textz (&w, "POST");
    }
  else
    {
      if (m == M_DUPLICATE_HTM)
        {
          sp_cbor_put_uint (&w, 1);
          sp_cbor_put_textz (&w, "POST");
        }
      if (m != M_MISSING_HTM)
        {
          if (m == M_NON_MINIMAL_KEY)
            sp_cbor_put_raw (&w, "\x18\x01", 2);
          else
            sp_cbor_put_uint (&w, 1);
          if (m == M_HTM_BYTES)
            sp_cbor_put_bytes (&w, "POST", 4);
          else
            sp_cbor_put_textz (&w, "POST");
        }
      if (m != M_MISSING_HTU)
        {
          sp_cbor_put_uint (&w, 2);
          if (m == M_HTU_INT)
            sp_cbor_put_uint (&w, 1);
          else if (m == M_INDEFINITE_HTU)
            sp_cbor_put_raw (&w, "\x7f\x64/v1/\x67refresh\xff", 15);
          else if (m == M_HTU_INVALID_UTF8)
            sp_cbor_put_raw (&w, "\x6b/v1/refres\xc3", 12);
          else
            sp_cbor_put_textz (&w, "/v1/refresh");
        }
    }
  if (m != M_MISSING_IAT)
    {
      sp_cbor_put_uint (&w, 3);
      switch ((int) m)
        {
        case M_IAT_TEXT:
          sp_cbor_put_textz (&w, "1700000000");
          break;
        case M_IAT_NEGATIVE:
          sp_cbor_put_int (&w, -1);
          break;
        case M_IAT_FLOAT:
          /* 1700000000.0 as a double */
          sp_cbor_put_raw (&w, "\xfb\x41\xd9\x54\xfc\x40\x00\x00\x00", 9);
          break;
        case M_IAT_HUGE:
          sp_cbor_put_uint (&w, G_MAXUINT64);
          break;
        case M_IAT_TAGGED:
          sp_cbor_put_tag (&w, 1);
          sp_cbor_put_uint (&w, T_NOW);
          break;
        case M_NON_MINIMAL_IAT:
          sp_cbor_put_raw (&w, "\x1b\x00\x00\x00\x00\x65\x53\xf1\x00", 9);
          break;
        default:
          sp_cbor_put_uint (&w, T_NOW);
        }
    }
  if (m != M_MISSING_JTI)
    {
      sp_cbor_put_uint (&w, 4);
      if (m == M_JTI_SHORT)
        sp_cbor_put_bytes (&w, jti, 15);
      else if (m == M_JTI_LONG)
        sp_cbor_put_raw (&w, "\x51\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11", 18);
      else if (m == M_JTI_TEXT)
        sp_cbor_put_textz (&w, "0123456789abcdef");
      else
        sp_cbor_put_bytes (&w, jti, sizeof jti);
    }
  if (m != M_MISSING_ATH)
    {
      sp_cbor_put_uint (&w, 5);
      if (m == M_ATH_SHORT)
        sp_cbor_put_bytes (&w, ath, 31);
      else if (m == M_ATH_TEXT)
        sp_cbor_put_text (&w, "0123456789abcdef0123456789abcdef", 32);
      else
        sp_cbor_put_bytes (&w, ath, 32);
    }
  if (m != M_MISSING_BH)
    {
      sp_cbor_put_uint (&w, 6);
      if (m == M_BH_LONG)
        sp_cbor_put_raw (&w, "\x58\x21" "0123456789abcdef0123456789abcdef0", 35);
      else if (m == M_BH_NULL)
        sp_cbor_put_null (&w);
      else if (m == M_NESTED)
        {
          sp_cbor_put_array (&w, 1);
          sp_cbor_put_bytes (&w, bh, 32);
        }
      else
        sp_cbor_put_bytes (&w, bh, 32);
    }
  if (m == M_UNKNOWN_KEY)
    {
      sp_cbor_put_uint (&w, 7);
      sp_cbor_put_uint (&w, 0);
    }
  else if (m == M_NEGATIVE_KEY)
    {
      sp_cbor_put_int (&w, -1);
      sp_cbor_put_uint (&w, 0);
    }
  else if (m == M_TEXT_KEY)
    {
      sp_cbor_put_textz (&w, "htm");
      sp_cbor_put_textz (&w, "POST");
    }
  else if (m == M_INDEFINITE_MAP)
    sp_cbor_put_raw (&w, "\xff", 1);
  else if (m == M_TRAILING)
    sp_cbor_put_null (&w);
  g_assert_cmpint (sp_cbor_writer_finish (&w, &len), ==, SP_OK);
  return len;
}

static void
test_payload_strict (Fixture *f, gconstpointer data)
{
  guint8 buf[512];
  gsize len;
  int m;

  /* The builder itself makes a good proof. */
  {
    g_autofree char *p = NULL;

    len = build_payload (f, M_NONE, buf, sizeof buf);
    p = sign_raw (f->pop, f->cti, sizeof f->cti, SIGNET_POP_CONTENT_TYPE, buf, len, TRUE);
    check (f, p, "POST", "/v1/refresh", NULL, T_NOW, OK);
  }
  for (m = M_NONE + 1; m < N_MUTATIONS; m++)
    {
      g_autofree char *p = NULL;
      g_autoptr(GError) error = NULL;

      len = build_payload (f, (Mutation) m, buf, sizeof buf);
      p = sign_raw (f->pop, f->cti, sizeof f->cti, SIGNET_POP_CONTENT_TYPE, buf, len, TRUE);
      g_test_message ("mutation %d", m);
      check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
      /* Refused by the payload decoder, not by the envelope. */
      g_assert_false (signet_pop_verify (p, f->token, &f->claims, "POST", "/v1/refresh",
                                         NULL, T_NOW, SKEW, NULL, NULL, &error));
      g_assert_null (strstr (error->message, "COSE_Sign1"));
    }
}

/* Other objects the same key signs must never pass as a proof. */
static void
test_other_objects (Fixture *f, gconstpointer data)
{
  guint8 buf[512], tok[1024];
  g_autofree char *p = NULL;
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (f->pop);
  sp_cwt_claims c;
  gsize len;
  size_t tok_len;

  len = build_payload (f, M_NONE, buf, sizeof buf);

  /* The token itself. */
  check (f, f->token_b64, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);

  /* A valid proof payload under another content type, none, a CoAP
   * content format number, untagged. */
  p = sign_raw (f->pop, f->cti, sizeof f->cti, "application/cwt", buf, len, TRUE);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
  g_clear_pointer (&p, g_free);
  p = sign_raw (f->pop, f->cti, sizeof f->cti, "application/signet-command+cbor", buf, len, TRUE);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
  g_clear_pointer (&p, g_free);
  p = sign_raw (f->pop, f->cti, sizeof f->cti, "application/signet-pop+cbor ", buf, len, TRUE);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
  g_clear_pointer (&p, g_free);
  p = sign_raw (f->pop, f->cti, sizeof f->cti, NULL, buf, len, TRUE);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
  g_clear_pointer (&p, g_free);
  p = sign_raw (f->pop, f->cti, sizeof f->cti, SIGNET_POP_CONTENT_TYPE, buf, len, FALSE);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
  g_clear_pointer (&p, g_free);

  /* A CWT signed by the PoP key, kid = cti. */
  verify_token (f->authority, f->token, &c);
  memcpy (c.cnf.pub, g_bytes_get_data (pub, NULL), SP_P256_PUB_LEN);
  g_assert_cmpint (sp_cwt_sign (port, signet_key_get_sp_key (f->pop), f->cti,
                                sizeof f->cti, &c, tok, sizeof tok, &tok_len), ==, SP_OK);
  p = signet_base64url_encode (tok, tok_len);
  check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
  g_clear_pointer (&p, g_free);

  /* A proof by the right key that names another token's cti. */
  {
    guint8 cti2[16];

    memcpy (cti2, f->cti, sizeof cti2);
    cti2[15] ^= 0x80;
    p = sign_raw (f->pop, cti2, sizeof cti2, SIGNET_POP_CONTENT_TYPE, buf, len, TRUE);
    check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_WRONG_TOKEN);
    g_clear_pointer (&p, g_free);
    p = sign_raw (f->pop, f->cti, sizeof f->cti - 1, SIGNET_POP_CONTENT_TYPE, buf, len, TRUE);
    check (f, p, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_WRONG_TOKEN);
    g_clear_pointer (&p, g_free);
  }
}

/* ------------------------------------------------------------------ */
/* Damage                                                              */
/* ------------------------------------------------------------------ */

static GBytes *
proof_bytes (const char *p)
{
  g_autoptr(GError) error = NULL;
  GBytes *b = signet_base64url_decode (p, -1, SIGNET_POP_HEADER_MAX, &error);

  g_assert_no_error (error);
  return b;
}

static void
test_bit_flip (Fixture *f, gconstpointer data)
{
  g_autofree char *p = create (f, "POST", "/v1/refresh", "{}", T_NOW);
  g_autoptr(GBytes) b = proof_bytes (p);
  g_autoptr(GBytes) body = g_bytes_new_static ("{}", 2);
  gsize len, bit;
  const guint8 *orig = g_bytes_get_data (b, &len);

  for (bit = 0; bit < len * 8; bit++)
    {
      g_autofree guint8 *copy = g_memdup2 (orig, len);
      g_autofree char *enc = NULL;
      g_autoptr(GError) error = NULL;

      copy[bit / 8] ^= (guint8) (1u << (bit % 8));
      enc = signet_base64url_encode (copy, len);
      g_assert_false (signet_pop_verify (enc, f->token, &f->claims, "POST",
                                         "/v1/refresh", body, T_NOW, SKEW,
                                         NULL, NULL, &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == SIGNET_POP_ERROR);
      g_assert_cmpint (error->code, !=, SIGNET_POP_ERROR_FAILED);
    }
}

static void
test_truncated (Fixture *f, gconstpointer data)
{
  g_autofree char *p = create (f, "POST", "/v1/refresh", NULL, T_NOW);
  g_autoptr(GBytes) b = proof_bytes (p);
  gsize len, cut;
  const guint8 *orig = g_bytes_get_data (b, &len);

  for (cut = 0; cut < len; cut++)
    {
      g_autofree char *enc = signet_base64url_encode (orig, cut);

      check (f, enc, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
    }
  /* And the text form cut anywhere (some cuts are not even base64url). */
  for (cut = 0; cut < strlen (p); cut++)
    {
      g_autofree char *t = g_strndup (p, cut);

      check (f, t, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
    }
  /* Junk after a good proof. */
  {
    g_autofree guint8 *longer = g_malloc (len + 1);
    g_autofree char *enc = NULL;

    memcpy (longer, orig, len);
    longer[len] = 0xf6;
    enc = signet_base64url_encode (longer, len + 1);
    check (f, enc, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
  }
  {
    g_autofree char *spaced = g_strconcat (p, " ", NULL);

    check (f, spaced, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
  }
}

static void
test_oversize (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) path = g_string_new ("/v1/refresh?q=");
  g_autofree char *p = NULL;
  g_autofree char *huge = g_strnfill (SIGNET_POP_HEADER_MAX + 1, 'A');
  g_autofree char *big = NULL;

  /* Over the header bound, before any decoding. */
  check (f, huge, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);

  /* create refuses what verify would refuse; just under the bound works. */
  while (path->len < SIGNET_POP_HEADER_MAX)
    g_string_append_c (path, 'x');
  p = signet_pop_create (f->pop, f->token, "POST", path->str, NULL, T_NOW, &error);
  g_assert_null (p);
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED);
  g_clear_error (&error);

  g_string_truncate (path, 1200);
  big = signet_pop_create (f->pop, f->token, "POST", path->str, NULL, T_NOW, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (big), <=, SIGNET_POP_HEADER_MAX);
  check (f, big, "POST", path->str, NULL, T_NOW, OK);

  /* A validly signed proof whose payload is over the bound. */
  {
    guint8 buf[3000];
    sp_cbor_writer w;
    size_t len;
    g_autofree char *pad = g_strnfill (1600, 'x');
    g_autofree char *q = NULL;

    sp_cbor_writer_init (&w, buf, sizeof buf);
    sp_cbor_put_map (&w, 1);
    sp_cbor_put_uint (&w, 2);
    sp_cbor_put_textz (&w, pad);
    g_assert_cmpint (sp_cbor_writer_finish (&w, &len), ==, SP_OK);
    q = sign_raw (f->pop, f->cti, sizeof f->cti, SIGNET_POP_CONTENT_TYPE, buf, len, TRUE);
    check (f, q, "POST", "/v1/refresh", NULL, T_NOW, SIGNET_POP_ERROR_MALFORMED);
  }
}

static void
test_create_errors (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (f->pop);
  g_autoptr(SignetKey) pub_only = signet_key_new_from_public_bytes (pub, &error);
  g_autoptr(GBytes) junk = g_bytes_new_static ("\xa0", 1);
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  char *p;

  g_assert_no_error (error);
  p = signet_pop_create (pub_only, f->token, "POST", "/v1/refresh", NULL, T_NOW, &error);
  g_assert_null (p);
  g_assert_error (error, SIGNET_KEY_ERROR, SIGNET_KEY_ERROR_NO_PRIVATE);
  g_clear_error (&error);

  p = signet_pop_create (f->pop, junk, "POST", "/v1/refresh", NULL, T_NOW, &error);
  g_assert_null (p);
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED);
  g_clear_error (&error);
  p = signet_pop_create (f->pop, empty, "POST", "/v1/refresh", NULL, T_NOW, &error);
  g_assert_null (p);
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED);
  g_clear_error (&error);

  p = signet_pop_create (f->pop, f->token, "", "/v1/refresh", NULL, T_NOW, &error);
  g_assert_null (p);
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED);
  g_clear_error (&error);
  p = signet_pop_create (f->pop, f->token, "POST", "/v1/\xff", NULL, T_NOW, &error);
  g_assert_null (p);
  g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED);
}

/* ------------------------------------------------------------------ */
/* Authorization                                                       */
/* ------------------------------------------------------------------ */

static void
test_authorization (Fixture *f, gconstpointer data)
{
  static const char *schemes[] = { "PoP ", "pop ", "POP ", "pOp " };
  static const char *bad_prefix[] = {
    "PoP  ", "PoP\t", "PoP", "Bearer ", "PoPx ", " PoP ", "DPoP ", "Po ",
  };
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (schemes); i++)
    {
      g_autofree char *h = g_strconcat (schemes[i], f->token_b64, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) t = signet_pop_parse_authorization (h, &error);

      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (t, f->token));
    }
  for (i = 0; i < G_N_ELEMENTS (bad_prefix); i++)
    {
      g_autofree char *h = g_strconcat (bad_prefix[i], f->token_b64, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) t = signet_pop_parse_authorization (h, &error);

      g_assert_null (t);
      g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED);
      g_assert_null (strstr (error->message, f->token_b64));
    }
  {
    const char *bad[] = { "", "PoP ", "PoP =", "PoP Zg==", "PoP Zh", "PoP Zg ", "PoP Z" };

    for (i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) t = signet_pop_parse_authorization (bad[i], &error);

        g_assert_null (t);
        g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED);
      }
  }
  {
    g_autofree char *body = g_strnfill (SIGNET_POP_AUTHORIZATION_MAX - 4, 'A');
    g_autofree char *h = g_strconcat ("PoP ", body, NULL);
    g_autofree char *h2 = g_strconcat ("PoP A", body, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) t = signet_pop_parse_authorization (h, &error);
    g_autoptr(GBytes) t2 = NULL;

    /* Exactly at the bound: 5462 characters, 4096 bytes. */
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (t), ==, SIGNET_POP_TOKEN_MAX);
    t2 = signet_pop_parse_authorization (h2, &error);
    g_assert_null (t2);
    g_assert_error (error, SIGNET_POP_ERROR, SIGNET_POP_ERROR_MALFORMED);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  port = signet_crypto_port_openssl ();

  g_test_add_func ("/signet/base64url/rfc4648", test_b64_rfc4648);
  g_test_add_func ("/signet/base64url/alphabet", test_b64_alphabet);
  g_test_add_func ("/signet/base64url/invalid", test_b64_invalid);
  g_test_add_func ("/signet/base64url/bound", test_b64_bound);

#define ADD(path, fn) \
  g_test_add ("/signet/pop/" path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("roundtrip", test_roundtrip);
  ADD ("jti", test_jti);
  ADD ("stale", test_stale);
  ADD ("mismatch", test_mismatch);
  ADD ("wrong-token", test_wrong_token);
  ADD ("other-key", test_other_key);
  ADD ("payload-strict", test_payload_strict);
  ADD ("other-objects", test_other_objects);
  ADD ("bit-flip", test_bit_flip);
  ADD ("truncated", test_truncated);
  ADD ("oversize", test_oversize);
  ADD ("create-errors", test_create_errors);
  ADD ("authorization", test_authorization);
#undef ADD

  return g_test_run ();
}
