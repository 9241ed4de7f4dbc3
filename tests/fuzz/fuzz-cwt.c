/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-cwt.c: CWT claims on arbitrary input, two ways: the input as a
 * claims map, and the input as a signed token (COSE_Sign1 whose payload
 * is decoded as claims), through sp_cwt_verify with a stand-in port that
 * accepts every signature so the fuzzer reaches the claims decoder.
 *
 * For accepted claims it checks that encoding them again and decoding
 * that gives the same claims and the same bytes a second time, and runs
 * the validation helpers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-port.h"
#include "sp-cwt.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static uint8_t enc1[SP_CBOR_DEFAULT_MAX_SIZE];
static uint8_t enc2[SP_CBOR_DEFAULT_MAX_SIZE];

static void
check (int ok)
{
  if (!ok)
    abort ();
}

static int
text_eq (const sp_cwt_text *a, const sp_cwt_text *b)
{
  return a->len == b->len && (a->len == 0 || memcmp (a->ptr, b->ptr, a->len) == 0);
}

static void
check_same (const sp_cwt_claims *a, const sp_cwt_claims *b)
{
  size_t i;

  check (a->present == b->present);
  check (text_eq (&a->iss, &b->iss) && text_eq (&a->sub, &b->sub) &&
         text_eq (&a->aud, &b->aud) && text_eq (&a->scope, &b->scope) &&
         text_eq (&a->role, &b->role));
  check (a->exp == b->exp && a->iat == b->iat);
  check (!(a->present & SP_CWT_NBF) || a->nbf == b->nbf);
  check (!(a->present & SP_CWT_AUTH_TIME) || a->auth_time == b->auth_time);
  check (a->cti_len == b->cti_len && memcmp (a->cti, b->cti, a->cti_len) == 0);
  check (memcmp (a->cnf.pub, b->cnf.pub, sizeof a->cnf.pub) == 0);
  check (a->cnf.kid_len == b->cnf.kid_len &&
         memcmp (a->cnf.kid, b->cnf.kid, a->cnf.kid_len) == 0);
  check (!a->cnf.has_d && !b->cnf.has_d);
  check (a->amr_count == b->amr_count);
  for (i = 0; i < a->amr_count; i++)
    check (text_eq (&a->amr[i], &b->amr[i]));
}

static void
check_claims (const sp_cwt_claims *c)
{
  sp_cwt_claims again;
  size_t len1, len2;

  check ((c->present & SP_CWT_REQUIRED) == SP_CWT_REQUIRED);
  check (c->exp >= 0 && c->iat >= 0 && c->amr_count <= SP_CWT_AMR_MAX);

  /* Our encoder's output of decoded claims is itself accepted, and is a
   * fixed point (the input may differ: alg in cnf is optional). */
  check (sp_cwt_claims_encode (c, enc1, sizeof enc1, &len1) == SP_OK);
  check (sp_cwt_claims_decode (enc1, len1, &again) == SP_OK);
  check_same (c, &again);
  check (sp_cwt_claims_encode (&again, enc2, sizeof enc2, &len2) == SP_OK);
  check (len1 == len2 && memcmp (enc1, enc2, len1) == 0);

  (void) sp_cwt_validate (c, 1700000000, 60, "site-a");
  (void) sp_cwt_validate (c, INT64_MAX, INT64_MAX, NULL);
  (void) sp_cwt_check_auth_age (c, 1700000000, 300);
  (void) sp_cwt_scope_has (c, "config.write");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  sp_cwt_claims c;
  sp_cose_sign1 msg;
  sp_cose_key trusted[2];
  size_t idx;

  if (sp_cwt_claims_decode (data, size, &c) == SP_OK)
    check_claims (&c);

  /* The payload of any COSE_Sign1 as claims, with no policy at all... */
  if (sp_cose_sign1_decode (data, size, NULL, &msg) == SP_OK &&
      sp_cwt_claims_decode (msg.payload, msg.payload_len, &c) == SP_OK)
    check_claims (&c);

  /* ...and the real token path, trusting whatever kid the corpus uses. */
  memset (trusted, 0, sizeof trusted);
  trusted[0].pub[0] = 0x04;
  memcpy (trusted[0].kid, "signet-authority-1", 18);
  trusted[0].kid_len = 18;
  trusted[1].pub[0] = 0x04;
  memcpy (trusted[1].kid, "11", 2);
  trusted[1].kid_len = 2;
  if (sp_cwt_verify (&fuzz_accept_port, data, size, trusted, 2, &c, &idx) == SP_OK)
    {
      check (idx < 2);
      check_claims (&c);
    }
  return 0;
}
