/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-cwt.h: CWT claims (RFC 8392) with a proof-of-possession key (RFC
 * 8747), signed as COSE_Sign1 with content type "application/cwt".
 *
 * The claims map is encoded deterministically:
 *
 *     { 1: iss, 2: sub, 3: aud, 4: exp, 5: nbf, 6: iat, 7: cti,
 *       8: {1: COSE_Key}, 9: scope,
 *       "amr": [text, ...], "role": text, "auth_time": int }
 *
 * (integer keys first, then text keys shorter first: "amr" < "role" <
 * "auth_time" bytewise).
 *
 * Decoding is strict: each claim has one type, NumericDates are integers
 * (no floats, no negative times), and a claim we do not know is refused
 * with SP_ERR_UNKNOWN_FIELD rather than ignored. A token may carry
 * restrictions -- a narrower scope under a new claim, a binding to
 * something -- and a device that skipped a claim it does not understand
 * would grant more than the issuer meant. New claims therefore need a new
 * decoder, deliberately.
 *
 * Required claims (SP_ERR_MISSING otherwise, both when decoding and when
 * encoding, so we never mint a token we would refuse):
 *   iss  who issued it (picks the trust domain);
 *   sub  whom it was issued to: every receipt and log entry names it;
 *   exp  a token without an end is a standing credential;
 *   iat  to judge freshness and to order tokens;
 *   cti  revocation lists and commands name the token by it;
 *   cnf  the token is useless without the key it binds: a bearer token
 *        must not work.
 * aud, nbf, scope, amr, role and auth_time are optional here; callers
 * that depend on one check its presence flag (sp_cwt_validate checks aud
 * when given an audience).
 *
 * Decoded claims are views into the caller's buffer (text is NOT
 * NUL-terminated), except the cnf key, which is copied.
 */
#ifndef SP_CWT_H
#define SP_CWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-cbor.h"
#include "sp-cose-key.h"
#include "sp-cose.h"
#include "sp-crypto-port.h"
#include "sp-error.h"

#define SP_CWT_CONTENT_TYPE "application/cwt"

/* Claim keys (RFC 8392 §4, RFC 8747 §3, RFC 8693 §4.2 for scope). */
#define SP_CWT_KEY_ISS 1
#define SP_CWT_KEY_SUB 2
#define SP_CWT_KEY_AUD 3
#define SP_CWT_KEY_EXP 4
#define SP_CWT_KEY_NBF 5
#define SP_CWT_KEY_IAT 6
#define SP_CWT_KEY_CTI 7
#define SP_CWT_KEY_CNF 8
#define SP_CWT_KEY_SCOPE 9
#define SP_CWT_KEY_AMR "amr"
#define SP_CWT_KEY_ROLE "role"
#define SP_CWT_KEY_AUTH_TIME "auth_time"
#define SP_CWT_CNF_COSE_KEY 1

#define SP_CWT_AMR_MAX 8       /* authentication methods in amr */
#define SP_CWT_CTI_MAX 64      /* bytes of cti (at least 1) */
#define SP_CWT_MAX_ITEMS 64    /* CBOR items of a claims map, at most */

/* Presence flags, one per claim. */
typedef enum sp_cwt_claim {
  SP_CWT_ISS = 1u << 0,
  SP_CWT_SUB = 1u << 1,
  SP_CWT_AUD = 1u << 2,
  SP_CWT_EXP = 1u << 3,
  SP_CWT_NBF = 1u << 4,
  SP_CWT_IAT = 1u << 5,
  SP_CWT_CTI = 1u << 6,
  SP_CWT_CNF = 1u << 7,
  SP_CWT_SCOPE = 1u << 8,
  SP_CWT_AMR = 1u << 9,
  SP_CWT_ROLE = 1u << 10,
  SP_CWT_AUTH_TIME = 1u << 11,
} sp_cwt_claim;

#define SP_CWT_REQUIRED (SP_CWT_ISS | SP_CWT_SUB | SP_CWT_EXP | SP_CWT_IAT | \
                         SP_CWT_CTI | SP_CWT_CNF)

/* A UTF-8 string view, not NUL-terminated. */
typedef struct sp_cwt_text {
  const char *ptr;
  size_t len;
} sp_cwt_text;

typedef struct sp_cwt_claims {
  unsigned int present;          /* sp_cwt_claim flags */
  sp_cwt_text iss;
  sp_cwt_text sub;
  sp_cwt_text aud;
  int64_t exp;                   /* seconds since the epoch, >= 0 */
  int64_t nbf;
  int64_t iat;
  const uint8_t *cti;
  size_t cti_len;
  sp_cose_key cnf;               /* public key only: has_d is never set */
  sp_cwt_text scope;             /* space-separated scope tokens */
  sp_cwt_text amr[SP_CWT_AMR_MAX];
  size_t amr_count;
  sp_cwt_text role;
  int64_t auth_time;
} sp_cwt_claims;

/* A view of a NUL-terminated string, for filling in claims. */
sp_cwt_text sp_cwt_text_from (const char *s);

/* Encode claims (the flags in claims->present say which) as a CWT claims
 * map. SP_ERR_MISSING without a required claim; SP_ERR_VALUE for a cti
 * outside 1..SP_CWT_CTI_MAX bytes, a negative time, or more than
 * SP_CWT_AMR_MAX amr values; the cnf key's private part is never
 * written. */
sp_err sp_cwt_claims_encode (const sp_cwt_claims *claims, uint8_t *out,
                             size_t cap, size_t *out_len);
sp_err sp_cwt_claims_write  (const sp_cwt_claims *claims, sp_cbor_writer *w);

/* Decode a claims map from buf[0..len) (default CBOR limits), or from item
 * idx of a decoded document. SP_ERR_TYPE for a claim of the wrong type,
 * SP_ERR_UNKNOWN_FIELD for an unknown claim (also inside cnf),
 * SP_ERR_MISSING for a missing required one, SP_ERR_VALUE for the value
 * errors above or a cnf key carrying a private part, and the COSE_Key
 * errors of sp_cose_key_read for a bad cnf key. On error claims is
 * zeroed. */
sp_err sp_cwt_claims_decode (const uint8_t *buf, size_t len,
                             sp_cwt_claims *claims);
sp_err sp_cwt_claims_read   (const sp_cbor_doc *doc, size_t idx,
                             sp_cwt_claims *claims);

/* Sign claims as a tagged COSE_Sign1 with content type "application/cwt"
 * and kid in the protected header. The claims are encoded in place inside
 * out, so cap must be at least SP_COSE_SIGN1_OVERHEAD plus the encoded
 * claims, a little more than the token needs. */
sp_err sp_cwt_sign (const sp_crypto_port *port, const sp_key *key,
                    const uint8_t *kid, size_t kid_len,
                    const sp_cwt_claims *claims,
                    uint8_t *out, size_t cap, size_t *out_len);

/* Verify a signed CWT and decode its claims. The signer must be one of
 * trusted[0..n_trusted), matched by kid (keys without a kid never
 * match): SP_ERR_UNKNOWN_KEY otherwise. The object must pass
 * sp_cose_sign1_check_strict with content type "application/cwt", so no
 * other signed object of the same key passes as a token. Time and
 * audience are NOT checked here: see sp_cwt_validate. If key_index is not
 * NULL it receives the index of the trusted key that signed. On error
 * claims is zeroed. */
sp_err sp_cwt_verify (const sp_crypto_port *port,
                      const uint8_t *buf, size_t len,
                      const sp_cose_key *trusted, size_t n_trusted,
                      sp_cwt_claims *claims, size_t *key_index);

/* Check a token's times against now (seconds since the epoch; a device
 * without a trusted clock passes its clock floor), allowing leeway
 * seconds of clock skew each way: SP_ERR_EXPIRED if now >= exp + leeway,
 * SP_ERR_NOT_YET_VALID if now + leeway < nbf, SP_ERR_MISSING without exp.
 * If audience is not NULL the token's aud must equal it exactly
 * (SP_ERR_AUDIENCE, also when aud is absent). */
sp_err sp_cwt_validate (const sp_cwt_claims *claims, int64_t now,
                        int64_t leeway, const char *audience);

/* Step-up: SP_OK if auth_time is at most max_age seconds before now;
 * SP_ERR_MISSING without auth_time, SP_ERR_EXPIRED if older. */
sp_err sp_cwt_check_auth_age (const sp_cwt_claims *claims, int64_t now,
                              int64_t max_age);

/* True if the space-separated scope claim contains the token word. */
bool   sp_cwt_scope_has (const sp_cwt_claims *claims, const char *word);

#endif /* SP_CWT_H */
