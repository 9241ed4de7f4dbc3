/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-tokens.h: sessions, service tokens and proof of possession.
 *
 * A sign-in opens a session (id: 16 bytes, 48 bits of milliseconds then
 * 80 random bits, base64url; created,
 * max_until = created + session_max, auth_time, revoked, log_key) and
 * issues its first token. log_key is the K_0 of the session's event log
 * (DESIGN §6): 32 random bytes, answered once at sign-in and kept sealed
 * under the master key (purpose "log-key:SESSION") to verify the log's
 * seals when it is uploaded; refresh and step-up do not change it. A token is a CWT signed by the current authority key
 * (docs/api.md): iss = the configured issuer, sub, aud "signet", iat, exp
 * = min (iat + lifetime, max_until), cti = 16 bytes made like a session id, cnf = the
 * client's PoP key, scope and role from the user's role, amr
 * ["pwd", "otp"], auth_time. Each token's cti is stored with its session,
 * so revoking the session revokes it.
 *
 * signetd_tokens_authenticate() checks a PoP request: the token's
 * signature against the published authority keys, its times, audience
 * and issuer, that its session exists, is not revoked and its user is
 * enabled, then the Signet-PoP proof (signet-pop.h) and that the proof's
 * jti was not seen for this session within the skew window (table
 * `pop_jti`). Every refusal is SIGNETD_TOKENS_ERROR_UNAUTHORIZED; the
 * message says why, for the log -- never the token or the proof.
 *
 * Borrows store, keys and trust.
 */
#pragma once

#include <glib.h>

#include "signet-key.h"
#include "signetd-accounts.h"
#include "signetd-keys.h"
#include "signetd-store.h"
#include "signetd-trust.h"
#include "sp-cwt.h"

G_BEGIN_DECLS

#define SIGNETD_TOKENS_ERROR (signetd_tokens_error_quark ())
GQuark signetd_tokens_error_quark (void);

typedef enum {
  SIGNETD_TOKENS_ERROR_FAILED,
  SIGNETD_TOKENS_ERROR_UNAUTHORIZED,    /* bad, expired, revoked token or proof */
  SIGNETD_TOKENS_ERROR_SESSION_EXPIRED, /* refresh past the session maximum */
} SignetdTokensError;

#define SIGNETD_AUDIENCE "signet"
#define SIGNETD_POP_MAX_SKEW 60
#define SIGNETD_LOG_KEY_LEN 32

typedef struct {
  char *token;          /* base64url */
  gint64 expires_at;
  gint64 auth_time;
  char *session;
  char *scope;
  char *role;
  GBytes *cti;          /* the token's id (16 bytes) */
  GBytes *log_key;      /* login only (else NULL): the session's event-log K_0, 32
                         * bytes, a wiping GBytes (docs/eventlog.md) */
} SignetdIssued;

void signetd_issued_free (SignetdIssued *issued);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdIssued, signetd_issued_free)

/* Who made an authenticated request. */
typedef struct {
  GBytes *token;        /* the token bytes; claims point into them */
  sp_cwt_claims claims;
  char *session;
  gint64 user_id;
  char *user;
} SignetdCaller;

void signetd_caller_free (SignetdCaller *caller);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdCaller, signetd_caller_free)

typedef struct _SignetdTokens SignetdTokens;

/* issuer is copied. Returns: (transfer full) */
SignetdTokens *signetd_tokens_new        (SignetdStore  *store,
                                          SignetdKeys   *keys,
                                          SignetdTrust  *trust,
                                          const char    *issuer,
                                          gint64         lifetime,
                                          gint64         session_max);
void           signetd_tokens_free       (SignetdTokens *self);

/* Change the issuer (once the real listening port is known). */
void           signetd_tokens_set_issuer (SignetdTokens *self,
                                          const char    *issuer);

/* A new session for user bound to pop_key, and its first token.
 * Returns: (transfer full) (nullable) */
SignetdIssued *signetd_tokens_login      (SignetdTokens *self,
                                          SignetdUser   *user,
                                          SignetKey     *pop_key,
                                          gint64         now,
                                          GError       **error);

/* Check a PoP request. authorization and proof are the header values
 * (nullable: missing). Returns: (transfer full) (nullable) */
SignetdCaller *signetd_tokens_authenticate (SignetdTokens *self,
                                            const char    *authorization,
                                            const char    *proof,
                                            const char    *method,
                                            const char    *path_and_query,
                                            GBytes        *body,
                                            gint64         now,
                                            GError       **error);

/* A new token in caller's session with the same auth_time (SESSION_EXPIRED
 * past max_until). Returns: (transfer full) (nullable) */
SignetdIssued *signetd_tokens_refresh    (SignetdTokens *self,
                                          SignetdCaller *caller,
                                          gint64         now,
                                          GError       **error);

/* auth_time = now (the caller checked a fresh TOTP code), and a new
 * token. Returns: (transfer full) (nullable) */
SignetdIssued *signetd_tokens_step_up    (SignetdTokens *self,
                                          SignetdCaller *caller,
                                          gint64         now,
                                          GError       **error);

/* Revoke caller's session and all its tokens. */
gboolean       signetd_tokens_logout     (SignetdTokens *self,
                                          SignetdCaller *caller,
                                          gint64         now,
                                          GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdTokens, signetd_tokens_free)

G_END_DECLS
