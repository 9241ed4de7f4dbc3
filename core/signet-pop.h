/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-pop.h: proof of possession for calls to the token service
 * (docs/api.md, "Tokens and proof of possession").
 *
 * A call marked PoP carries
 *
 *     Authorization: PoP <token, base64url>
 *     Signet-PoP: <proof, base64url>
 *
 * where the proof is a tagged COSE_Sign1 by the token's cnf key:
 *
 *     18([ << {1: -7, 3: "application/signet-pop+cbor", 4: cti} >>, {},
 *          << {1: htm, 2: htu, 3: iat, 4: jti, 5: ath, 6: bh} >>,
 *          signature ])
 *
 * htm is the request method and htu the request target (path and query,
 * exactly as sent on the request line), iat the client's clock, jti 16
 * random bytes, ath SHA-256 of the token bytes and bh SHA-256 of the body
 * (of the empty string when there is none). The kid is the token's cti,
 * so a proof names the one token it goes with.
 *
 * The verifier is strict: bounded size, a tagged COSE_Sign1 that passes
 * sp_cose_sign1_check_strict with the PoP content type (so a token, a
 * device command or any other object signed by the same key is never a
 * proof), deterministic CBOR, exactly the six keys above with their types
 * and sizes. It does NOT keep a replay cache: it returns jti and iat, and
 * the caller refuses a jti it has seen within the skew window (a jti only
 * needs remembering until iat + max_skew has passed).
 *
 * Error messages name the check that failed and never carry the token or
 * proof bytes.
 */
#pragma once

#include <glib.h>

#include "signet-key.h"
#include "sp-cwt.h"

G_BEGIN_DECLS

#define SIGNET_POP_ERROR (signet_pop_error_quark ())
GQuark signet_pop_error_quark (void);

typedef enum {
  SIGNET_POP_ERROR_FAILED,        /* the crypto library failed (not the input's fault) */
  SIGNET_POP_ERROR_MALFORMED,     /* not a well-formed proof or token, or too large */
  SIGNET_POP_ERROR_BAD_SIGNATURE, /* the proof is not signed by the token's cnf key */
  SIGNET_POP_ERROR_STALE,         /* iat more than max_skew from now, either way */
  SIGNET_POP_ERROR_MISMATCH,      /* htm, htu or bh differ from the request (the message says which) */
  SIGNET_POP_ERROR_WRONG_TOKEN,   /* kid is not the token's cti, or ath not its hash */
} SignetPopError;

#define SIGNET_POP_CONTENT_TYPE "application/signet-pop+cbor"
#define SIGNET_POP_HEADER_NAME "Signet-PoP"

/* Longest Signet-PoP header value accepted or produced (characters of
 * base64url, i.e. at most 1536 bytes of COSE_Sign1). */
#define SIGNET_POP_HEADER_MAX 2048

/* Longest token accepted in an Authorization header (bytes), and the
 * longest header value that can carry it: "PoP " and ceil (4 * 4096 / 3)
 * characters. */
#define SIGNET_POP_TOKEN_MAX 4096
#define SIGNET_POP_AUTHORIZATION_MAX (4 + 5462)

#define SIGNET_POP_JTI_LEN 16

/* The service's window (docs/api.md): a proof more than 60 s from its
 * clock is refused. */
#define SIGNET_POP_DEFAULT_MAX_SKEW 60

/* Make the Signet-PoP header value for one request. token is the signed
 * service token as received (its cti is read from it without verifying
 * it: the client got it from the service); pop_key is the private key
 * whose public half is the token's cnf key. method ("POST") and
 * path_and_query ("/v1/refresh") are UTF-8 text as they go on the request
 * line; body may be NULL for no body. now is the client's clock.
 * Errors: SIGNET_POP_ERROR_MALFORMED for a token that does not decode or
 * a proof that would exceed SIGNET_POP_HEADER_MAX; SIGNET_KEY_ERROR_NO_PRIVATE
 * for a public key; SIGNET_POP_ERROR_FAILED if signing or the random
 * generator fails.
 * Returns: (transfer full) (nullable): the header value */
char     *signet_pop_create   (SignetKey     *pop_key,
                               GBytes        *token,
                               const char    *method,
                               const char    *path_and_query,
                               GBytes        *body,
                               gint64         now,
                               GError       **error);

/* Check the Signet-PoP header_value of a request that carries token.
 * claims are the claims of the token, which the caller has ALREADY
 * verified (sp_cwt_verify) and validated: the proof must be signed by
 * claims->cnf and name claims->cti. method and path_and_query are the
 * request's, exactly as received (the request target with its query,
 * not decoded or normalised); body may be NULL for an empty body.
 * A proof is fresh when |iat - now| <= max_skew_seconds.
 *
 * On success, *out_jti (if not NULL) receives the proof's 16-byte jti and
 * *out_iat (if not NULL) its iat, for the caller's replay cache: the
 * caller must refuse a jti it has already accepted.
 * Returns: TRUE if the proof is good; FALSE with error set otherwise */
gboolean  signet_pop_verify   (const char          *header_value,
                               GBytes              *token,
                               const sp_cwt_claims *claims,
                               const char          *method,
                               const char          *path_and_query,
                               GBytes              *body,
                               gint64               now,
                               guint                max_skew_seconds,
                               GBytes             **out_jti,
                               gint64              *out_iat,
                               GError             **error);

/* Parse an Authorization header value "PoP <token, base64url>": the scheme
 * is case-insensitive (RFC 9110 §11.1), followed by exactly one space and
 * strict base64url of a non-empty token; the whole value is at most
 * SIGNET_POP_AUTHORIZATION_MAX characters. SIGNET_POP_ERROR_MALFORMED
 * otherwise. The token is NOT verified.
 * Returns: (transfer full) (nullable): the token bytes */
GBytes   *signet_pop_parse_authorization (const char  *header_value,
                                          GError     **error);

G_END_DECLS
