/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-cwt.c: CWT claims with cnf, signed and verified as COSE_Sign1.
 */
#include "sp-cwt.h"

#include <string.h>

#define ALL_CLAIMS (SP_CWT_ISS | SP_CWT_SUB | SP_CWT_AUD | SP_CWT_EXP | \
                    SP_CWT_NBF | SP_CWT_IAT | SP_CWT_CTI | SP_CWT_CNF | \
                    SP_CWT_SCOPE | SP_CWT_AMR | SP_CWT_ROLE | SP_CWT_AUTH_TIME)

sp_cwt_text
sp_cwt_text_from (const char *s)
{
  sp_cwt_text t;

  t.ptr = s;
  t.len = s != NULL ? strlen (s) : 0;
  return t;
}

/* ------------------------------------------------------------------ */
/* Encode                                                              */
/* ------------------------------------------------------------------ */

static bool
text_ok (const sp_cwt_text *t)
{
  return t->ptr != NULL || t->len == 0;
}

/* What the decoder would refuse, refused before writing anything. */
static sp_err
check_for_encode (const sp_cwt_claims *c)
{
  size_t i;

  if ((c->present & ~(unsigned int) ALL_CLAIMS) != 0)
    return SP_ERR_INVALID_ARG;
  if ((c->present & SP_CWT_REQUIRED) != SP_CWT_REQUIRED)
    return SP_ERR_MISSING;
  if (c->cti == NULL || c->cti_len == 0 || c->cti_len > SP_CWT_CTI_MAX)
    return SP_ERR_VALUE;
  if (c->exp < 0 || c->iat < 0 ||
      ((c->present & SP_CWT_NBF) && c->nbf < 0) ||
      ((c->present & SP_CWT_AUTH_TIME) && c->auth_time < 0))
    return SP_ERR_VALUE;
  if ((c->present & SP_CWT_AMR) && c->amr_count > SP_CWT_AMR_MAX)
    return SP_ERR_VALUE;
  if (!text_ok (&c->iss) || !text_ok (&c->sub) || !text_ok (&c->aud) ||
      !text_ok (&c->scope) || !text_ok (&c->role))
    return SP_ERR_INVALID_ARG;
  for (i = 0; (c->present & SP_CWT_AMR) && i < c->amr_count; i++)
    if (!text_ok (&c->amr[i]))
      return SP_ERR_INVALID_ARG;
  return SP_OK;
}

static size_t
count_bits (unsigned int v)
{
  size_t n = 0;

  for (; v != 0; v &= v - 1)
    n++;
  return n;
}

sp_err
sp_cwt_claims_write (const sp_cwt_claims *c, sp_cbor_writer *w)
{
  size_t i;
  sp_err err;

  if (c == NULL || w == NULL)
    return SP_ERR_INVALID_ARG;
  err = check_for_encode (c);
  if (err != SP_OK)
    return err;

  /* Deterministic order: 1..9, then "amr", "role", "auth_time". */
  sp_cbor_put_map (w, count_bits (c->present));
  sp_cbor_put_int (w, SP_CWT_KEY_ISS);
  sp_cbor_put_text (w, c->iss.ptr, c->iss.len);
  sp_cbor_put_int (w, SP_CWT_KEY_SUB);
  sp_cbor_put_text (w, c->sub.ptr, c->sub.len);
  if (c->present & SP_CWT_AUD)
    {
      sp_cbor_put_int (w, SP_CWT_KEY_AUD);
      sp_cbor_put_text (w, c->aud.ptr, c->aud.len);
    }
  sp_cbor_put_int (w, SP_CWT_KEY_EXP);
  sp_cbor_put_int (w, c->exp);
  if (c->present & SP_CWT_NBF)
    {
      sp_cbor_put_int (w, SP_CWT_KEY_NBF);
      sp_cbor_put_int (w, c->nbf);
    }
  sp_cbor_put_int (w, SP_CWT_KEY_IAT);
  sp_cbor_put_int (w, c->iat);
  sp_cbor_put_int (w, SP_CWT_KEY_CTI);
  sp_cbor_put_bytes (w, c->cti, c->cti_len);
  sp_cbor_put_int (w, SP_CWT_KEY_CNF);
  sp_cbor_put_map (w, 1);
  sp_cbor_put_int (w, SP_CWT_CNF_COSE_KEY);
  /* Never the private part: a token is shown to everyone it is used with. */
  err = sp_cose_key_write (&c->cnf, false, w);
  if (err != SP_OK)
    return err;
  if (c->present & SP_CWT_SCOPE)
    {
      sp_cbor_put_int (w, SP_CWT_KEY_SCOPE);
      sp_cbor_put_text (w, c->scope.ptr, c->scope.len);
    }
  if (c->present & SP_CWT_AMR)
    {
      sp_cbor_put_textz (w, SP_CWT_KEY_AMR);
      sp_cbor_put_array (w, c->amr_count);
      for (i = 0; i < c->amr_count; i++)
        sp_cbor_put_text (w, c->amr[i].ptr, c->amr[i].len);
    }
  if (c->present & SP_CWT_ROLE)
    {
      sp_cbor_put_textz (w, SP_CWT_KEY_ROLE);
      sp_cbor_put_text (w, c->role.ptr, c->role.len);
    }
  if (c->present & SP_CWT_AUTH_TIME)
    {
      sp_cbor_put_textz (w, SP_CWT_KEY_AUTH_TIME);
      sp_cbor_put_int (w, c->auth_time);
    }
  return sp_cbor_writer_finish (w, NULL);
}

sp_err
sp_cwt_claims_encode (const sp_cwt_claims *claims, uint8_t *out, size_t cap,
                      size_t *out_len)
{
  sp_cbor_writer w;
  sp_err err;

  if (out_len == NULL)
    return SP_ERR_INVALID_ARG;
  sp_cbor_writer_init (&w, out, cap);
  err = sp_cwt_claims_write (claims, &w);
  if (err != SP_OK)
    return err;
  return sp_cbor_writer_finish (&w, out_len);
}

/* ------------------------------------------------------------------ */
/* Decode                                                              */
/* ------------------------------------------------------------------ */

/* The value of an int (text == NULL) or text claim key. */
static sp_err
find_claim (const sp_cbor_doc *doc, size_t map, int64_t num, const char *text,
            size_t *v)
{
  if (text != NULL)
    return sp_cbor_map_find_text (doc, map, text, v);
  return sp_cbor_map_find_int (doc, map, num, v);
}

static sp_err
read_text (const sp_cbor_doc *doc, size_t map, int64_t num, const char *text,
           unsigned int flag, sp_cwt_claims *c, sp_cwt_text *out)
{
  size_t v;
  sp_err err = find_claim (doc, map, num, text, &v);

  if (err == SP_ERR_MISSING)
    return SP_OK;
  if (err == SP_OK)
    err = sp_cbor_get_text (doc, v, &out->ptr, &out->len);
  if (err == SP_OK)
    c->present |= flag;
  return err;
}

/* A NumericDate: an integer number of seconds, not before the epoch.
 * RFC 8392 also allows floats; we never send them and refuse them. */
static sp_err
read_time (const sp_cbor_doc *doc, size_t map, int64_t num, const char *text,
           unsigned int flag, sp_cwt_claims *c, int64_t *out)
{
  size_t v;
  sp_err err = find_claim (doc, map, num, text, &v);

  if (err == SP_ERR_MISSING)
    return SP_OK;
  if (err == SP_OK)
    err = sp_cbor_get_int (doc, v, out);
  if (err == SP_OK && *out < 0)
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    c->present |= flag;
  return err;
}

static sp_err
read_cti (const sp_cbor_doc *doc, size_t map, sp_cwt_claims *c)
{
  size_t v;
  sp_err err = sp_cbor_map_find_int (doc, map, SP_CWT_KEY_CTI, &v);

  if (err == SP_ERR_MISSING)
    return SP_OK;
  if (err == SP_OK)
    err = sp_cbor_get_bytes (doc, v, &c->cti, &c->cti_len);
  if (err == SP_OK && (c->cti_len == 0 || c->cti_len > SP_CWT_CTI_MAX))
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    c->present |= SP_CWT_CTI;
  return err;
}

/* cnf (RFC 8747 §3.1): {1: COSE_Key}. The other confirmation methods
 * (an encrypted key, a kid) are unknown fields to us. */
static sp_err
read_cnf (const sp_cbor_doc *doc, size_t map, sp_cwt_claims *c)
{
  static const sp_cbor_key allowed[] = { SP_CBOR_KEY_INT (SP_CWT_CNF_COSE_KEY) };
  size_t v, k;
  sp_err err = sp_cbor_map_find_int (doc, map, SP_CWT_KEY_CNF, &v);

  if (err == SP_ERR_MISSING)
    return SP_OK;
  if (err == SP_OK)
    err = sp_cbor_map_check_keys (doc, v, allowed, 1);
  if (err == SP_OK)
    err = sp_cbor_map_find_int (doc, v, SP_CWT_CNF_COSE_KEY, &k);
  if (err == SP_OK)
    err = sp_cose_key_read (doc, k, &c->cnf);
  /* A private key in a token is a leaked key: refuse the token. */
  if (err == SP_OK && c->cnf.has_d)
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    c->present |= SP_CWT_CNF;
  return err;
}

static sp_err
read_amr (const sp_cbor_doc *doc, size_t map, sp_cwt_claims *c)
{
  sp_cbor_iter it;
  size_t v, child, n = 0;
  sp_err err = sp_cbor_map_find_text (doc, map, SP_CWT_KEY_AMR, &v);

  if (err == SP_ERR_MISSING)
    return SP_OK;
  if (err == SP_OK)
    err = sp_cbor_iter_init (&it, doc, v, SP_CBOR_ARRAY);
  if (err != SP_OK)
    return err;
  if (it.left > SP_CWT_AMR_MAX)
    return SP_ERR_VALUE;
  while (sp_cbor_iter_next (&it, &child))
    {
      err = sp_cbor_get_text (doc, child, &c->amr[n].ptr, &c->amr[n].len);
      if (err != SP_OK)
        return err;
      n++;
    }
  c->amr_count = n;
  c->present |= SP_CWT_AMR;
  return SP_OK;
}

sp_err
sp_cwt_claims_read (const sp_cbor_doc *doc, size_t idx, sp_cwt_claims *claims)
{
  static const sp_cbor_key allowed[] = {
    SP_CBOR_KEY_INT (SP_CWT_KEY_ISS), SP_CBOR_KEY_INT (SP_CWT_KEY_SUB),
    SP_CBOR_KEY_INT (SP_CWT_KEY_AUD), SP_CBOR_KEY_INT (SP_CWT_KEY_EXP),
    SP_CBOR_KEY_INT (SP_CWT_KEY_NBF), SP_CBOR_KEY_INT (SP_CWT_KEY_IAT),
    SP_CBOR_KEY_INT (SP_CWT_KEY_CTI), SP_CBOR_KEY_INT (SP_CWT_KEY_CNF),
    SP_CBOR_KEY_INT (SP_CWT_KEY_SCOPE), SP_CBOR_KEY_TEXT (SP_CWT_KEY_AMR),
    SP_CBOR_KEY_TEXT (SP_CWT_KEY_ROLE), SP_CBOR_KEY_TEXT (SP_CWT_KEY_AUTH_TIME),
  };
  sp_cwt_claims c;
  sp_err err;

  if (doc == NULL || claims == NULL)
    return SP_ERR_INVALID_ARG;
  memset (claims, 0, sizeof *claims);
  memset (&c, 0, sizeof c);

  /* Unknown claims first: see the header for why they are fatal. */
  err = sp_cbor_map_check_keys (doc, idx, allowed,
                                sizeof allowed / sizeof allowed[0]);
  if (err == SP_OK)
    err = read_text (doc, idx, SP_CWT_KEY_ISS, NULL, SP_CWT_ISS, &c, &c.iss);
  if (err == SP_OK)
    err = read_text (doc, idx, SP_CWT_KEY_SUB, NULL, SP_CWT_SUB, &c, &c.sub);
  if (err == SP_OK)
    err = read_text (doc, idx, SP_CWT_KEY_AUD, NULL, SP_CWT_AUD, &c, &c.aud);
  if (err == SP_OK)
    err = read_time (doc, idx, SP_CWT_KEY_EXP, NULL, SP_CWT_EXP, &c, &c.exp);
  if (err == SP_OK)
    err = read_time (doc, idx, SP_CWT_KEY_NBF, NULL, SP_CWT_NBF, &c, &c.nbf);
  if (err == SP_OK)
    err = read_time (doc, idx, SP_CWT_KEY_IAT, NULL, SP_CWT_IAT, &c, &c.iat);
  if (err == SP_OK)
    err = read_cti (doc, idx, &c);
  if (err == SP_OK)
    err = read_cnf (doc, idx, &c);
  if (err == SP_OK)
    err = read_text (doc, idx, SP_CWT_KEY_SCOPE, NULL, SP_CWT_SCOPE, &c, &c.scope);
  if (err == SP_OK)
    err = read_amr (doc, idx, &c);
  if (err == SP_OK)
    err = read_text (doc, idx, 0, SP_CWT_KEY_ROLE, SP_CWT_ROLE, &c, &c.role);
  if (err == SP_OK)
    err = read_time (doc, idx, 0, SP_CWT_KEY_AUTH_TIME, SP_CWT_AUTH_TIME, &c,
                     &c.auth_time);
  if (err == SP_OK && (c.present & SP_CWT_REQUIRED) != SP_CWT_REQUIRED)
    err = SP_ERR_MISSING;

  if (err == SP_OK)
    *claims = c;
  sp_wipe (&c, sizeof c);
  return err;
}

sp_err
sp_cwt_claims_decode (const uint8_t *buf, size_t len, sp_cwt_claims *claims)
{
  sp_cbor_item items[SP_CWT_MAX_ITEMS];
  sp_cbor_doc doc;
  sp_err err;

  if (claims == NULL)
    return SP_ERR_INVALID_ARG;
  memset (claims, 0, sizeof *claims);
  err = sp_cbor_decode (buf, len, NULL, items, SP_CWT_MAX_ITEMS, &doc);
  if (err != SP_OK)
    return err;
  return sp_cwt_claims_read (&doc, 0, claims);
}

/* ------------------------------------------------------------------ */
/* Sign and verify                                                     */
/* ------------------------------------------------------------------ */

sp_err
sp_cwt_sign (const sp_crypto_port *port, const sp_key *key,
             const uint8_t *kid, size_t kid_len, const sp_cwt_claims *claims,
             uint8_t *out, size_t cap, size_t *out_len)
{
  sp_cose_sign1_params params;
  sp_cbor_writer w;
  size_t claims_len;
  sp_err err;

  if (out == NULL || claims == NULL)
    return SP_ERR_INVALID_ARG;
  /* Encode the claims where no COSE prefix can reach them, then let
   * sp_cose_sign1_sign move them into place: no second buffer needed. */
  if (cap <= SP_COSE_SIGN1_OVERHEAD)
    return SP_ERR_BUFFER_TOO_SMALL;
  sp_cbor_writer_init (&w, out + SP_COSE_SIGN1_OVERHEAD,
                       cap - SP_COSE_SIGN1_OVERHEAD);
  err = sp_cwt_claims_write (claims, &w);
  if (err == SP_OK)
    err = sp_cbor_writer_finish (&w, &claims_len);
  if (err != SP_OK)
    return err;

  memset (&params, 0, sizeof params);
  params.kid = kid;
  params.kid_len = kid_len;
  params.content_type = SP_CWT_CONTENT_TYPE;
  return sp_cose_sign1_sign (port, key, &params, out + SP_COSE_SIGN1_OVERHEAD,
                             claims_len, out, cap, out_len);
}

sp_err
sp_cwt_verify (const sp_crypto_port *port, const uint8_t *buf, size_t len,
               const sp_cose_key *trusted, size_t n_trusted,
               sp_cwt_claims *claims, size_t *key_index)
{
  sp_cose_sign1 msg;
  size_t i;
  sp_err err;

  if (claims == NULL || port == NULL || (trusted == NULL && n_trusted > 0))
    return SP_ERR_INVALID_ARG;
  memset (claims, 0, sizeof *claims);

  err = sp_cose_sign1_decode (buf, len, NULL, &msg);
  if (err == SP_OK)
    err = sp_cose_sign1_check_strict (&msg, SP_CWT_CONTENT_TYPE);
  if (err != SP_OK)
    return err;

  /* kids are public labels, so a plain comparison is fine here. */
  for (i = 0; i < n_trusted; i++)
    if (trusted[i].kid_len > 0 && trusted[i].kid_len == msg.kid_len &&
        memcmp (trusted[i].kid, msg.kid, msg.kid_len) == 0)
      break;
  if (i == n_trusted)
    return SP_ERR_UNKNOWN_KEY;

  err = sp_cose_sign1_verify (port, &msg, trusted[i].pub, NULL, 0);
  if (err == SP_OK)
    err = sp_cwt_claims_decode (msg.payload, msg.payload_len, claims);
  if (err == SP_OK && key_index != NULL)
    *key_index = i;
  return err;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* a + b, clamped to the int64_t range (b >= 0). */
static int64_t
add_sat (int64_t a, int64_t b)
{
  return a > INT64_MAX - b ? INT64_MAX : a + b;
}

sp_err
sp_cwt_validate (const sp_cwt_claims *c, int64_t now, int64_t leeway,
                 const char *audience)
{
  if (c == NULL || leeway < 0)
    return SP_ERR_INVALID_ARG;
  if (!(c->present & SP_CWT_EXP))
    return SP_ERR_MISSING;
  /* RFC 7519 §4.1.4: valid only *before* exp. */
  if (now >= add_sat (c->exp, leeway))
    return SP_ERR_EXPIRED;
  if ((c->present & SP_CWT_NBF) && add_sat (now, leeway) < c->nbf)
    return SP_ERR_NOT_YET_VALID;
  if (audience != NULL)
    {
      size_t len = strlen (audience);

      if (!(c->present & SP_CWT_AUD) || c->aud.len != len ||
          (len > 0 && memcmp (c->aud.ptr, audience, len) != 0))
        return SP_ERR_AUDIENCE;
    }
  return SP_OK;
}

sp_err
sp_cwt_check_auth_age (const sp_cwt_claims *c, int64_t now, int64_t max_age)
{
  if (c == NULL || max_age < 0)
    return SP_ERR_INVALID_ARG;
  if (!(c->present & SP_CWT_AUTH_TIME))
    return SP_ERR_MISSING;
  /* An auth_time ahead of our clock is skew, not age: accept it. */
  if (now > add_sat (c->auth_time, max_age))
    return SP_ERR_EXPIRED;
  return SP_OK;
}

bool
sp_cwt_scope_has (const sp_cwt_claims *c, const char *word)
{
  size_t wlen, i = 0;

  if (c == NULL || word == NULL || !(c->present & SP_CWT_SCOPE))
    return false;
  wlen = strlen (word);
  if (wlen == 0)
    return false;
  while (i < c->scope.len)
    {
      size_t start = i;

      while (i < c->scope.len && c->scope.ptr[i] != ' ')
        i++;
      if (i - start == wlen && memcmp (c->scope.ptr + start, word, wlen) == 0)
        return true;
      i++;  /* skip the space */
    }
  return false;
}
