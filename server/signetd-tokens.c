/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include "signet-base64url.h"
#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-pop.h"
#include "signet-proto-error.h"
#include "signet-secret.h"
#include "signetd-tokens.h"

struct _SignetdTokens {
  SignetdStore *store;   /* borrowed */
  SignetdKeys *keys;     /* borrowed */
  SignetdTrust *trust;   /* borrowed */
  char *issuer;
  gint64 lifetime;
  gint64 session_max;
};

G_DEFINE_QUARK (signetd-tokens-error-quark, signetd_tokens_error)

#define CTI_LEN 16
#define SESSION_ID_LEN 16
#define TOKEN_CAP 2048

void
signetd_issued_free (SignetdIssued *issued)
{
  if (issued == NULL)
    return;
  signet_secret_string_free (issued->token);
  g_free (issued->session);
  g_free (issued->scope);
  g_free (issued->role);
  g_clear_pointer (&issued->cti, g_bytes_unref);
  g_clear_pointer (&issued->log_key, g_bytes_unref);
  g_free (issued);
}

void
signetd_caller_free (SignetdCaller *caller)
{
  if (caller == NULL)
    return;
  g_clear_pointer (&caller->token, g_bytes_unref);
  g_free (caller->session);
  g_free (caller->user);
  g_free (caller);
}

SignetdTokens *
signetd_tokens_new (SignetdStore *store,
                    SignetdKeys  *keys,
                    SignetdTrust *trust,
                    const char   *issuer,
                    gint64        lifetime,
                    gint64        session_max)
{
  SignetdTokens *self = g_new0 (SignetdTokens, 1);

  self->store = store;
  self->keys = keys;
  self->trust = trust;
  self->issuer = g_strdup (issuer);
  self->lifetime = lifetime;
  self->session_max = session_max;
  return self;
}

void
signetd_tokens_free (SignetdTokens *self)
{
  if (self == NULL)
    return;
  g_free (self->issuer);
  g_free (self);
}

void
signetd_tokens_set_issuer (SignetdTokens *self,
                           const char    *issuer)
{
  g_free (self->issuer);
  self->issuer = g_strdup (issuer);
}

/* An id that sorts by creation time, as a UUIDv7 does: 48 bits of
 * milliseconds since the epoch, big-endian, then random bytes (80 bits in
 * a 16-byte id). New rows then land at the right edge of the id's index
 * instead of on a random page: an issuance dirties a page or two, not one
 * per index -- what group commit then writes (docs/operations.md). */
static gboolean
time_ordered_id (guint8  *id,
                 gsize    len,
                 GError **error)
{
  guint64 ms = (guint64) (g_get_real_time () / 1000);

  g_assert (len > 6);
  for (int i = 5; i >= 0; i--, ms >>= 8)
    id[i] = (guint8) ms;
  return signet_random_fill (id + 6, len - 6, error);
}

static gboolean
unauthorized (GError     **error,
              const char  *why)
{
  g_set_error_literal (error, SIGNETD_TOKENS_ERROR, SIGNETD_TOKENS_ERROR_UNAUTHORIZED, why);
  return FALSE;
}

/* Sign and record a token in session_id; runs inside the caller's
 * transaction. */
static SignetdIssued *
issue_locked (SignetdTokens  *self,
              const char     *session_id,
              const char     *user,
              SignetdRole     role,
              const guint8    cnf_pub[SP_P256_PUB_LEN],
              gint64          auth_time,
              gint64          max_until,
              gint64          now,
              GError        **error)
{
  g_autoptr(SignetdIssued) issued = g_new0 (SignetdIssued, 1);
  g_autoptr(SignetKey) key = NULL;
  g_autofree char *kid = NULL;
  guint8 cti[CTI_LEN];
  guint8 out[TOKEN_CAP];
  sp_cwt_claims claims = { 0 };
  size_t len = 0;
  gint64 exp = MIN (now + self->lifetime, max_until);

  key = signetd_keys_get_current (self->keys, &kid, error);
  if (key == NULL || !time_ordered_id (cti, sizeof cti, error))
    return NULL;

  claims.present = SP_CWT_ISS | SP_CWT_SUB | SP_CWT_AUD | SP_CWT_EXP | SP_CWT_IAT |
                   SP_CWT_CTI | SP_CWT_CNF | SP_CWT_SCOPE | SP_CWT_AMR | SP_CWT_ROLE |
                   SP_CWT_AUTH_TIME;
  claims.iss = sp_cwt_text_from (self->issuer);
  claims.sub = sp_cwt_text_from (user);
  claims.aud = sp_cwt_text_from (SIGNETD_AUDIENCE);
  claims.exp = exp;
  claims.iat = now;
  claims.cti = cti;
  claims.cti_len = sizeof cti;
  memcpy (claims.cnf.pub, cnf_pub, SP_P256_PUB_LEN);
  claims.scope = sp_cwt_text_from (signetd_role_get_scope (role));
  claims.amr[0] = sp_cwt_text_from ("pwd");
  claims.amr[1] = sp_cwt_text_from ("otp");
  claims.amr_count = 2;
  claims.role = sp_cwt_text_from (signetd_role_to_string (role));
  claims.auth_time = auth_time;

  if (!signet_proto_check (sp_cwt_sign (signet_crypto_port_openssl (),
                                        signet_key_get_sp_key (key),
                                        (const guint8 *) kid, strlen (kid), &claims,
                                        out, sizeof out, &len),
                           "service token", error))
    return NULL;

  if (!signetd_store_run (self->store, NULL, error,
                          "INSERT INTO tokens (cti, session_id, kid, iat, exp) "
                          "VALUES (?, ?, ?, ?, ?)",
                          "bttii", cti, sizeof cti, session_id, kid, now, exp) ||
      !signetd_keys_note_issued (self->keys, kid, exp, error))
    return NULL;

  issued->token = signet_base64url_encode (out, len);
  issued->expires_at = exp;
  issued->auth_time = auth_time;
  issued->session = g_strdup (session_id);
  issued->scope = g_strdup (signetd_role_get_scope (role));
  issued->role = g_strdup (signetd_role_to_string (role));
  issued->cti = g_bytes_new (cti, sizeof cti);
  return g_steal_pointer (&issued);
}

SignetdIssued *
signetd_tokens_login (SignetdTokens  *self,
                      SignetdUser    *user,
                      SignetKey      *pop_key,
                      gint64          now,
                      GError        **error)
{
  g_autoptr(GBytes) pub = signet_key_get_public_bytes (pop_key);
  g_autoptr(GBytes) log_key = NULL;
  g_autoptr(GBytes) sealed_log_key = NULL;
  g_autofree char *purpose = NULL;
  guint8 sid_bytes[SESSION_ID_LEN];
  guint8 k0[SIGNETD_LOG_KEY_LEN];
  g_autofree char *sid = NULL;
  gint64 max_until = now + self->session_max;
  SignetdIssued *issued;

  if (!time_ordered_id (sid_bytes, sizeof sid_bytes, error))
    return NULL;
  sid = signet_base64url_encode (sid_bytes, sizeof sid_bytes);
  if (!signet_random_fill (k0, sizeof k0, error))
    return NULL;
  log_key = signet_secret_bytes_new (k0, sizeof k0);
  signet_secret_wipe (k0, sizeof k0);
  purpose = g_strconcat ("log-key:", sid, NULL);
  sealed_log_key = signetd_keys_seal (self->keys, purpose, log_key, error);
  if (sealed_log_key == NULL)
    return NULL;

  if (!signetd_store_begin (self->store, error))
    return NULL;
  if (!signetd_store_run (self->store, NULL, error,
                          "INSERT INTO sessions (id, user_id, created, max_until, auth_time, "
                          "log_key) VALUES (?, ?, ?, ?, ?, ?)",
                          "tiiiiB", sid, user->id, now, max_until, now, sealed_log_key) ||
      (issued = issue_locked (self, sid, user->name, user->role,
                              g_bytes_get_data (pub, NULL), now, max_until, now,
                              error)) == NULL)
    {
      signetd_store_rollback (self->store);
      return NULL;
    }
  if (!signetd_store_commit (self->store, error))
    {
      signetd_store_rollback (self->store);
      signetd_issued_free (issued);
      return NULL;
    }
  issued->log_key = g_steal_pointer (&log_key);
  return issued;
}

SignetdCaller *
signetd_tokens_authenticate (SignetdTokens  *self,
                             const char     *authorization,
                             const char     *proof,
                             const char     *method,
                             const char     *path_and_query,
                             GBytes         *body,
                             gint64          now,
                             GError        **error)
{
  g_autoptr(SignetdCaller) caller = g_new0 (SignetdCaller, 1);
  g_autoptr(GPtrArray) published = NULL;
  g_autoptr(GArray) trusted = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) jti = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = NULL;
  gint64 iat = 0;
  gint changes = 0;
  gsize token_len = 0;
  const guint8 *token_data;
  sp_err err;
  int r;

  if (authorization == NULL)
    return unauthorized (error, "no Authorization header"), NULL;
  caller->token = signet_pop_parse_authorization (authorization, &local_error);
  if (caller->token == NULL)
    return unauthorized (error, "malformed Authorization header"), NULL;
  token_data = g_bytes_get_data (caller->token, &token_len);

  published = signetd_keys_list_published (self->keys, now, error);
  if (published == NULL)
    return NULL;
  trusted = g_array_sized_new (FALSE, TRUE, sizeof (sp_cose_key), published->len);
  for (guint i = 0; i < published->len; i++)
    {
      SignetdAuthorityKey *ak = g_ptr_array_index (published, i);
      g_autoptr(GBytes) pub = signet_key_get_public_bytes (ak->key);
      sp_cose_key k = { 0 };
      gsize kid_len = strlen (ak->kid);

      if (kid_len == 0 || kid_len > SP_COSE_KID_MAX)
        continue;
      memcpy (k.pub, g_bytes_get_data (pub, NULL), SP_P256_PUB_LEN);
      memcpy (k.kid, ak->kid, kid_len);
      k.kid_len = kid_len;
      g_array_append_val (trusted, k);
    }

  err = sp_cwt_verify (signet_crypto_port_openssl (), token_data, token_len,
                       (const sp_cose_key *) (gpointer) trusted->data, trusted->len,
                       &caller->claims, NULL);
  if (err != SP_OK)
    {
      g_set_error (error, SIGNETD_TOKENS_ERROR, SIGNETD_TOKENS_ERROR_UNAUTHORIZED,
                   "token: %s", sp_strerror (err));
      return NULL;
    }
  err = sp_cwt_validate (&caller->claims, now, 0, SIGNETD_AUDIENCE);
  if (err != SP_OK)
    {
      g_set_error (error, SIGNETD_TOKENS_ERROR, SIGNETD_TOKENS_ERROR_UNAUTHORIZED,
                   "token: %s", sp_strerror (err));
      return NULL;
    }
  if (caller->claims.iss.len != strlen (self->issuer) ||
      memcmp (caller->claims.iss.ptr, self->issuer, caller->claims.iss.len) != 0)
    return unauthorized (error, "token: another issuer"), NULL;

  stmt = signetd_store_prepare (self->store,
                                "SELECT s.id, s.revoked, u.id, u.name, u.disabled "
                                "FROM tokens t JOIN sessions s ON s.id = t.session_id "
                                "JOIN users u ON u.id = s.user_id WHERE t.cti = ?", error);
  if (stmt == NULL ||
      !signetd_store_bind (self->store, stmt, error, "b", caller->claims.cti,
                           (gsize) caller->claims.cti_len))
    return NULL;
  r = signetd_store_step (self->store, stmt, error);
  if (r < 0)
    return NULL;
  if (r == 0)
    return unauthorized (error, "token: unknown to this service"), NULL;
  caller->session = signetd_store_column_text (stmt, 0);
  caller->user_id = sqlite3_column_int64 (stmt, 2);
  name = signetd_store_column_text (stmt, 3);
  if (sqlite3_column_int (stmt, 1) != 0)
    return unauthorized (error, "token: session revoked"), NULL;
  if (sqlite3_column_int (stmt, 4) != 0)
    return unauthorized (error, "token: user disabled"), NULL;
  if (name == NULL || caller->claims.sub.len != strlen (name) ||
      memcmp (caller->claims.sub.ptr, name, caller->claims.sub.len) != 0)
    return unauthorized (error, "token: subject does not match its session"), NULL;
  caller->user = g_steal_pointer (&name);

  if (proof == NULL)
    return unauthorized (error, "no Signet-PoP header"), NULL;
  if (!signet_pop_verify (proof, caller->token, &caller->claims, method, path_and_query,
                          body, now, SIGNETD_POP_MAX_SKEW, &jti, &iat, &local_error))
    {
      g_set_error (error, SIGNETD_TOKENS_ERROR, SIGNETD_TOKENS_ERROR_UNAUTHORIZED,
                   "proof of possession: %s", local_error->message);
      return NULL;
    }

  /* The replay cache: a jti needs remembering while its proof is fresh. */
  if (!signetd_store_run (self->store, NULL, error,
                          "DELETE FROM pop_jti WHERE expires < ?", "i", now) ||
      !signetd_store_run (self->store, &changes, error,
                          "INSERT OR IGNORE INTO pop_jti (session_id, jti, expires) "
                          "VALUES (?, ?, ?)",
                          "tBi", caller->session, jti, iat + SIGNETD_POP_MAX_SKEW))
    return NULL;
  if (changes != 1)
    return unauthorized (error, "proof of possession: replayed"), NULL;

  return g_steal_pointer (&caller);
}

/* Re-issue in caller's session; set_auth_time: step-up. */
static SignetdIssued *
reissue (SignetdTokens  *self,
         SignetdCaller  *caller,
         gboolean        set_auth_time,
         gint64          now,
         GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *role_text = NULL;
  SignetdRole role;
  SignetdIssued *issued;
  gint64 max_until, auth_time;
  int r;

  if (!signetd_store_begin (self->store, error))
    return NULL;
  stmt = signetd_store_prepare (self->store,
                                "SELECT s.max_until, s.auth_time, u.role FROM sessions s "
                                "JOIN users u ON u.id = s.user_id "
                                "WHERE s.id = ? AND s.revoked = 0 AND u.disabled = 0", error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", caller->session) ||
      (r = signetd_store_step (self->store, stmt, error)) < 0)
    goto fail;
  if (r == 0)
    {
      unauthorized (error, "session revoked");
      goto fail;
    }
  max_until = sqlite3_column_int64 (stmt, 0);
  auth_time = sqlite3_column_int64 (stmt, 1);
  role_text = signetd_store_column_text (stmt, 2);
  if (!signetd_role_from_string (role_text, &role))
    {
      unauthorized (error, "unknown role");
      goto fail;
    }
  if (now >= max_until)
    {
      g_set_error (error, SIGNETD_TOKENS_ERROR, SIGNETD_TOKENS_ERROR_SESSION_EXPIRED,
                   "session maximum reached: sign in again");
      goto fail;
    }
  if (set_auth_time)
    {
      auth_time = now;
      if (!signetd_store_run (self->store, NULL, error,
                              "UPDATE sessions SET auth_time = ? WHERE id = ?",
                              "it", now, caller->session))
        goto fail;
    }
  issued = issue_locked (self, caller->session, caller->user, role, caller->claims.cnf.pub,
                         auth_time, max_until, now, error);
  if (issued == NULL)
    goto fail;
  if (!signetd_store_commit (self->store, error))
    {
      signetd_issued_free (issued);
      goto fail;
    }
  return issued;

fail:
  signetd_store_rollback (self->store);
  return NULL;
}

SignetdIssued *
signetd_tokens_refresh (SignetdTokens  *self,
                        SignetdCaller  *caller,
                        gint64          now,
                        GError        **error)
{
  return reissue (self, caller, FALSE, now, error);
}

SignetdIssued *
signetd_tokens_step_up (SignetdTokens  *self,
                        SignetdCaller  *caller,
                        gint64          now,
                        GError        **error)
{
  return reissue (self, caller, TRUE, now, error);
}

gboolean
signetd_tokens_logout (SignetdTokens  *self,
                       SignetdCaller  *caller,
                       gint64          now,
                       GError        **error)
{
  return signetd_trust_revoke_session (self->trust, caller->session, now, error);
}
