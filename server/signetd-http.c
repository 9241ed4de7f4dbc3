/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "signet-base64url.h"
#include "signet-key.h"
#include "signet-pop.h"
#include "signet-secret.h"
#include "signetd-http-private.h"
#include "signetd-lockout.h"

G_DEFINE_TYPE (SignetdHttp, signetd_http, G_TYPE_OBJECT)

G_DEFINE_QUARK (signetd-http-error-quark, signetd_http_error)

#define REQUEST_STATE_KEY "signetd-request"

/* Not in libsoup 3.2's SoupStatus. */
#define STATUS_LOCKED 423
#define STATUS_TOO_MANY_REQUESTS 429

/* What this module keeps about one request. */
typedef struct {
  gint64 start_us;
  GByteArray *body;        /* collected by got-chunk, at most limit */
  gsize limit;             /* the route's body bound (_signetd_http_body_limit) */
  gboolean too_large;
  gboolean headers_too_large;
  char *user;              /* for the access log, once known */
  gboolean async;          /* its handler answers later (and paused it) */
} RequestState;

static void
request_state_free (gpointer data)
{
  RequestState *state = data;

  if (state->body != NULL)
    {
      signet_secret_wipe (state->body->data, state->body->len);
      g_byte_array_unref (state->body);
    }
  g_free (state->user);
  g_free (state);
}

static RequestState *
get_state (SoupServerMessage *msg)
{
  return g_object_get_data (G_OBJECT (msg), REQUEST_STATE_KEY);
}

/* ---- responses ---------------------------------------------------------- */

void
_signetd_http_respond_json (SoupServerMessage *msg,
                            guint              status,
                            JsonNode          *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autofree char *text = NULL;
  gsize len = 0;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, &len);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_message_headers_replace (headers, "X-Content-Type-Options", "nosniff");
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, len);
  /* Token responses pass through here: do not leave them in the heap. */
  signet_secret_wipe (text, len);
}

void
_signetd_http_respond_error (SoupServerMessage *msg,
                             guint              status,
                             const char        *code,
                             const char        *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  _signetd_http_respond_json (msg, status, root);
}

void
_signetd_http_respond_internal (SoupServerMessage *msg,
                                const GError      *error)
{
  g_warning ("internal error: %s", error != NULL ? error->message : "unknown");
  _signetd_http_respond_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal_error",
                               "internal error");
}

void
_signetd_http_respond_bad_request (SoupServerMessage *msg,
                                   const char        *message)
{
  _signetd_http_respond_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid_request", message);
}

static void
respond_unauthorized (SoupServerMessage *msg,
                      const GError      *error)
{
  /* The reason goes to the log, not to the client. */
  g_message ("refused: %s", error->message);
  _signetd_http_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                               "missing, invalid, expired or revoked token or proof");
}

static void
respond_invalid_credentials (SoupServerMessage *msg)
{
  _signetd_http_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "invalid_credentials",
                               "wrong user name, password or code");
}

static void
respond_issued (SoupServerMessage *msg,
                SignetdIssued     *issued)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, issued->token);
  json_builder_set_member_name (b, "expires_at");
  json_builder_add_int_value (b, issued->expires_at);
  json_builder_set_member_name (b, "scope");
  json_builder_add_string_value (b, issued->scope);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, issued->role);
  json_builder_set_member_name (b, "auth_time");
  json_builder_add_int_value (b, issued->auth_time);
  json_builder_set_member_name (b, "session");
  json_builder_add_string_value (b, issued->session);
  if (issued->log_key != NULL)
    {
      /* K_0 of the session's event log: at sign-in only (DESIGN §6). */
      g_autofree char *log_key = signet_base64url_encode (g_bytes_get_data (issued->log_key, NULL),
                                                          g_bytes_get_size (issued->log_key));

      json_builder_set_member_name (b, "log_key");
      json_builder_add_string_value (b, log_key);
      signet_secret_wipe (log_key, strlen (log_key));
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  _signetd_http_respond_json (msg, SOUP_STATUS_OK, root);
}

static void
respond_lockout (SoupServerMessage     *msg,
                 SignetdLockoutVerdict  verdict,
                 gint64                 retry_after)
{
  if (verdict == SIGNETD_LOCKOUT_LOCKED)
    {
      _signetd_http_respond_error (msg, STATUS_LOCKED, "locked",
                                   "the account is locked after repeated failures; an "
                                   "administrator can unlock it");
    }
  else
    {
      g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, MAX (retry_after, 1));

      _signetd_http_respond_error (msg, STATUS_TOO_MANY_REQUESTS, "rate_limited",
                                   "too many failed attempts; retry later");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", value);
    }
}

static void
respond_too_large (SoupServerMessage *msg,
                   gsize              limit)
{
  g_autofree char *text = g_strdup_printf ("the request body is larger than %s",
                                           limit >= 1024 * 1024 ? "1 MiB" : "64 KiB");

  _signetd_http_respond_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                               text);
}

/* ---- strict JSON -------------------------------------------------------- */

/* Parse body as a JSON object holding exactly the members of spec (all
 * required). An empty body counts as {} when spec is empty (then
 * *out_obj may be NULL). Sends the 400 itself and returns FALSE on
 * failure. *out_obj belongs to *out_parser. */
gboolean
_signetd_http_parse_body (SoupServerMessage        *msg,
                          GBytes                   *body,
                          const SignetdHttpMember  *spec,
                          gsize                     n_spec,
                          JsonParser              **out_parser,
                          JsonObject              **out_obj)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *ctype = soup_message_headers_get_content_type (headers, NULL);
  gsize len = 0;
  const char *data = g_bytes_get_data (body, &len);
  g_autoptr(GError) error = NULL;

  *out_parser = NULL;
  *out_obj = NULL;
  if (len == 0 && n_spec == 0)
    return TRUE;
  if (ctype == NULL || g_ascii_strcasecmp (ctype, "application/json") != 0)
    {
      _signetd_http_respond_bad_request (msg, "Content-Type must be application/json");
      return FALSE;
    }
  /* Strict (signetd-json.h): duplicate members, deep nesting and
   * non-standard JSON are refused; the message never quotes the body. */
  if (!signetd_json_body_parse (data, len, spec, n_spec, out_parser, out_obj, &error))
    {
      _signetd_http_respond_bad_request (msg, error->message);
      return FALSE;
    }
  return TRUE;
}

static const char *
string_member (JsonObject *obj,
               const char *name)
{
  return json_object_get_string_member (obj, name);
}

gint64
_signetd_http_now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static void
set_log_user (SoupServerMessage *msg,
              const char        *user)
{
  RequestState *state = get_state (msg);

  if (state != NULL && user != NULL)
    {
      g_free (state->user);
      state->user = g_strdup (user);
    }
}

/* ---- POST /v1/login ----------------------------------------------------- */

typedef struct {
  SoupServerMessage *msg;
  char *name;               /* NULL when the name is not valid */
  char *address;
  char *password;           /* secret */
  char *otp;                /* secret */
  char *hash;               /* NULL: unknown user, verify the dummy */
  SignetdUser *user;
  SignetKey *pop_key;
  gboolean password_ok;
} LoginJob;

/* ---- group commit ------------------------------------------------------- */

/* A group is committed when the main loop has nothing else to do, or
 * before a request would join a group that is already this large or old:
 * under a steady stream of requests the loop is never idle, and an answer
 * must not wait for long. */
#define GROUP_MAX_REQUESTS 64
#define GROUP_MAX_AGE_US 20000

void
_signetd_http_group_commit (SignetdHttp *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) held = NULL;
  gboolean ok;

  g_clear_handle_id (&self->group_idle, g_source_remove);
  if (!signetd_store_in_group (self->store))
    return;
  /* The audit records first: a state change is never durable without
   * its record (a record of a change that then failed to commit is
   * possible, and says so by the 500 that follows it in the access log). */
  ok = signetd_audit_sync (self->audit, &error);
  if (ok)
    ok = signetd_store_group_commit (self->store, &error);
  else
    signetd_store_group_rollback (self->store);
  if (!ok)
    g_warning ("group commit of %u requests failed: %s", self->held->len, error->message);

  held = g_steal_pointer (&self->held);
  self->held = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < held->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (held, i);

      if (!ok)
        _signetd_http_respond_internal (msg, NULL);
      soup_server_message_unpause (msg);
    }
}

static gboolean
group_idle_cb (gpointer data)
{
  SignetdHttp *self = data;

  self->group_idle = 0;
  _signetd_http_group_commit (self);
  return G_SOURCE_REMOVE;
}

/* Run what follows inside the open group (or a new one). FALSE if no
 * group can be opened; msg has its 500 then. */
static gboolean
group_join (SignetdHttp       *self,
            SoupServerMessage *msg)
{
  g_autoptr(GError) error = NULL;

  if (signetd_store_in_group (self->store) &&
      (self->held->len >= GROUP_MAX_REQUESTS ||
       g_get_monotonic_time () - self->group_started_us >= GROUP_MAX_AGE_US))
    _signetd_http_group_commit (self);
  if (signetd_store_in_group (self->store))
    return TRUE;
  if (!signetd_store_group_begin (self->store, &error))
    {
      _signetd_http_respond_internal (msg, error);
      return FALSE;
    }
  self->group_started_us = g_get_monotonic_time ();
  self->group_idle = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, group_idle_cb, self, NULL);
  return TRUE;
}

/* msg is answered: hold the answer until the group commits. paused: the
 * message is paused already (an async handler). */
static void
group_hold (SignetdHttp       *self,
            SoupServerMessage *msg,
            gboolean           paused)
{
  if (!signetd_store_in_group (self->store))
    {
      if (paused)
        soup_server_message_unpause (msg);
      return;
    }
  if (!paused)
    soup_server_message_pause (msg);
  g_ptr_array_add (self->held, g_object_ref (msg));
}

/* ---- sign-in ------------------------------------------------------------ */

static void
login_job_free (LoginJob *job)
{
  g_clear_object (&job->msg);
  g_free (job->name);
  g_free (job->address);
  signet_secret_string_free (job->password);
  signet_secret_string_free (job->otp);
  g_free (job->hash);
  g_clear_pointer (&job->user, signetd_user_free);
  g_clear_pointer (&job->pop_key, signet_key_unref);
  g_free (job);
}

static void
login_verify_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  LoginJob *job = task_data;

  job->password_ok = signetd_password_verify (job->hash, job->password);
  g_task_return_boolean (task, TRUE);
}

static void
login_finish (SignetdHttp *self,
              LoginJob    *job)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetdIssued) issued = NULL;
  gint64 now = _signetd_http_now_seconds ();

  if (!job->password_ok || job->user == NULL)
    {
      if (!_signetd_http_audit (self, job->msg, "auth.login-failed", NULL, "ttt",
                                "user", job->name, "address", job->address,
                                "reason", job->user == NULL ? "unknown-user" : "bad-password"))
        return;
      respond_invalid_credentials (job->msg);
      return;
    }
  if (!signetd_accounts_check_totp (self->accounts, job->user, job->otp, now,
                                    self->config->totp_window, &error))
    {
      if (error->domain == SIGNETD_ACCOUNTS_ERROR)
        {
          g_message ("sign-in refused: %s", error->message);
          if (!_signetd_http_audit (self, job->msg, "auth.login-failed", NULL, "ttt",
                                    "user", job->name, "address", job->address, "reason",
                                    g_error_matches (error, SIGNETD_ACCOUNTS_ERROR,
                                                     SIGNETD_ACCOUNTS_ERROR_REPLAYED)
                                      ? "replayed-code" : "bad-code"))
            return;
          respond_invalid_credentials (job->msg);
        }
      else
        _signetd_http_respond_internal (job->msg, error);
      return;
    }
  /* The credentials were right: forget the attempt whatever comes next. */
  if (!signetd_lockout_reset (self->store, job->name, job->address, &error))
    {
      _signetd_http_respond_internal (job->msg, error);
      return;
    }
  if (job->user->disabled)
    {
      if (!_signetd_http_audit (self, job->msg, "auth.login-failed", NULL, "ttt",
                                "user", job->name, "address", job->address, "reason", "disabled"))
        return;
      _signetd_http_respond_error (job->msg, STATUS_LOCKED, "locked", "the account is disabled");
      return;
    }
  issued = signetd_tokens_login (self->tokens, job->user, job->pop_key, now, &error);
  if (issued == NULL)
    {
      _signetd_http_respond_internal (job->msg, error);
      return;
    }
  if (!_signetd_http_audit (self, job->msg, "auth.login", NULL, "tttxtit",
                            "user", job->name, "role", issued->role, "session", issued->session,
                            "cti", issued->cti, "scope", issued->scope,
                            "exp", issued->expires_at, "address", job->address))
    return;
  respond_issued (job->msg, issued);
}

static void
login_verify_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  SignetdHttp *self = SIGNETD_HTTP (source);
  GTask *task = G_TASK (result);
  LoginJob *job = g_task_get_task_data (task);

  if (group_join (self, job->msg))
    login_finish (self, job);
  group_hold (self, job->msg, TRUE);
}

static void
handle_login (SignetdHttp       *self,
              SoupServerMessage *msg,
              GBytes            *body)
{
  static const SignetdHttpMember spec[] = {
    { "username", SIGNETD_HTTP_MEMBER_STRING },
    { "password", SIGNETD_HTTP_MEMBER_STRING },
    { "otp", SIGNETD_HTTP_MEMBER_STRING },
    { "pop_key", SIGNETD_HTTP_MEMBER_OBJECT },
  };
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTask) task = NULL;
  JsonObject *obj = NULL;
  LoginJob *job;
  SignetdLockoutVerdict verdict;
  gint64 retry_after = 0;
  gint64 now = _signetd_http_now_seconds ();
  const char *name;
  const char *address = soup_server_message_get_remote_host (msg);

  if (!_signetd_http_parse_body (msg, body, spec, G_N_ELEMENTS (spec), &parser, &obj))
    return;

  job = g_new0 (LoginJob, 1);
  task = g_task_new (self, NULL, login_verify_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) login_job_free);
  job->msg = g_object_ref (msg);
  job->address = g_strdup (address != NULL ? address : "unknown");

  job->pop_key = signet_key_new_from_jwk_node (json_object_get_member (obj, "pop_key"),
                                               &error);
  if (job->pop_key == NULL)
    {
      _signetd_http_respond_bad_request (msg, "pop_key is not a P-256 public JWK");
      return;
    }
  if (signet_key_has_private (job->pop_key))
    {
      _signetd_http_respond_bad_request (msg, "pop_key must not contain a private key");
      return;
    }
  if (strlen (string_member (obj, "password")) > SIGNETD_PASSWORD_MAX ||
      strlen (string_member (obj, "otp")) > 16)
    {
      _signetd_http_respond_bad_request (msg, "password or otp too long");
      return;
    }

  name = string_member (obj, "username");
  if (signetd_accounts_validate_name (name, NULL))
    job->name = g_strdup (name);
  set_log_user (msg, job->name);

  if (!signetd_lockout_check (self->store, &self->policy, job->name, job->address, now,
                              &verdict, &retry_after, &error))
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  if (verdict != SIGNETD_LOCKOUT_OK)
    {
      if (!_signetd_http_audit (self, msg, "auth.lockout", NULL, "ttti",
                                "user", job->name, "address", job->address,
                                "verdict", verdict == SIGNETD_LOCKOUT_LOCKED ? "locked"
                                                                             : "rate-limited",
                                "retry_after", retry_after))
        return;
      respond_lockout (msg, verdict, retry_after);
      return;
    }
  /* Count the attempt before checking it, and clear it on success: many
   * attempts in flight at once cannot outrun the counter. */
  if (!signetd_lockout_record_failure (self->store, job->name, job->address, now, &error))
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }

  if (job->name != NULL)
    {
      job->user = signetd_accounts_lookup (self->accounts, job->name, &error);
      if (job->user == NULL &&
          !g_error_matches (error, SIGNETD_ACCOUNTS_ERROR, SIGNETD_ACCOUNTS_ERROR_NOT_FOUND))
        {
          _signetd_http_respond_internal (msg, error);
          return;
        }
      g_clear_error (&error);
    }
  if (job->user != NULL)
    job->hash = g_strdup (job->user->password_hash);
  job->password = g_strdup (string_member (obj, "password"));
  job->otp = g_strdup (string_member (obj, "otp"));

  get_state (msg)->async = TRUE;
  soup_server_message_pause (msg);
  g_task_run_in_thread (task, login_verify_thread);
}

/* ---- PoP endpoints ------------------------------------------------------ */

static char *
dup_path_and_query (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = g_uri_get_query (uri);

  if (query != NULL)
    return g_strconcat (g_uri_get_path (uri), "?", query, NULL);
  return g_strdup (g_uri_get_path (uri));
}

SignetdCaller *
_signetd_http_authenticate (SignetdHttp       *self,
                            SoupServerMessage *msg,
                            GBytes            *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autofree char *path = dup_path_and_query (msg);
  g_autoptr(GError) error = NULL;
  SignetdCaller *caller;

  caller = signetd_tokens_authenticate (self->tokens,
                                        soup_message_headers_get_one (headers, "Authorization"),
                                        soup_message_headers_get_one (headers,
                                                                      SIGNET_POP_HEADER_NAME),
                                        soup_server_message_get_method (msg), path, body,
                                        _signetd_http_now_seconds (), &error);
  if (caller == NULL)
    {
      if (g_error_matches (error, SIGNETD_TOKENS_ERROR, SIGNETD_TOKENS_ERROR_UNAUTHORIZED))
        respond_unauthorized (msg, error);
      else
        _signetd_http_respond_internal (msg, error);
      return NULL;
    }
  set_log_user (msg, caller->user);
  return caller;
}

static void
respond_reissue_error (SoupServerMessage *msg,
                       const GError      *error)
{
  if (g_error_matches (error, SIGNETD_TOKENS_ERROR, SIGNETD_TOKENS_ERROR_SESSION_EXPIRED))
    _signetd_http_respond_error (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                                 "the session has reached its maximum: sign in again");
  else if (g_error_matches (error, SIGNETD_TOKENS_ERROR, SIGNETD_TOKENS_ERROR_UNAUTHORIZED))
    respond_unauthorized (msg, error);
  else
    _signetd_http_respond_internal (msg, error);
}

/* The end of step-up and refresh: the error, or the audit record (written
 * before the answer) and the new token. */
static void
finish_reissue (SignetdHttp       *self,
                SoupServerMessage *msg,
                SignetdCaller     *caller,
                SignetdIssued     *issued,
                const GError      *error,
                const char        *event)
{
  if (issued == NULL)
    {
      respond_reissue_error (msg, error);
      return;
    }
  if (!_signetd_http_audit (self, msg, event, NULL, "ttxi",
                            "user", caller->user, "session", caller->session,
                            "cti", issued->cti, "exp", issued->expires_at))
    return;
  respond_issued (msg, issued);
}

static void
handle_step_up (SignetdHttp       *self,
                SoupServerMessage *msg,
                GBytes            *body)
{
  static const SignetdHttpMember spec[] = { { "otp", SIGNETD_HTTP_MEMBER_STRING } };
  g_autoptr(SignetdCaller) caller = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(SignetdUser) user = NULL;
  g_autoptr(SignetdIssued) issued = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj = NULL;
  SignetdLockoutVerdict verdict;
  gint64 retry_after = 0;
  gint64 now = _signetd_http_now_seconds ();
  const char *address = soup_server_message_get_remote_host (msg);

  caller = _signetd_http_authenticate (self, msg, body);
  if (caller == NULL ||
      !_signetd_http_parse_body (msg, body, spec, G_N_ELEMENTS (spec), &parser, &obj))
    return;

  if (!signetd_lockout_check (self->store, &self->policy, caller->user, address, now,
                              &verdict, &retry_after, &error))
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  if (verdict != SIGNETD_LOCKOUT_OK)
    {
      if (!_signetd_http_audit (self, msg, "auth.lockout", NULL, "tttti",
                                "user", caller->user, "session", caller->session,
                                "address", address,
                                "verdict", verdict == SIGNETD_LOCKOUT_LOCKED ? "locked"
                                                                             : "rate-limited",
                                "retry_after", retry_after))
        return;
      respond_lockout (msg, verdict, retry_after);
      return;
    }
  if (!signetd_lockout_record_failure (self->store, caller->user, address, now, &error))
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  user = signetd_accounts_lookup_id (self->accounts, caller->user_id, &error);
  if (user == NULL)
    {
      respond_unauthorized (msg, error);
      return;
    }
  if (strlen (string_member (obj, "otp")) > 16 ||
      !signetd_accounts_check_totp (self->accounts, user, string_member (obj, "otp"), now,
                                    self->config->totp_window, &error))
    {
      if (error == NULL || error->domain == SIGNETD_ACCOUNTS_ERROR)
        {
          if (!_signetd_http_audit (self, msg, "auth.step-up-failed", NULL, "ttt",
                                    "user", caller->user, "session", caller->session, "reason",
                                    g_error_matches (error, SIGNETD_ACCOUNTS_ERROR,
                                                     SIGNETD_ACCOUNTS_ERROR_REPLAYED)
                                      ? "replayed-code" : "bad-code"))
            return;
          respond_invalid_credentials (msg);
        }
      else
        _signetd_http_respond_internal (msg, error);
      return;
    }
  if (!signetd_lockout_reset (self->store, caller->user, address, &error))
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  issued = signetd_tokens_step_up (self->tokens, caller, now, &error);
  finish_reissue (self, msg, caller, issued, error, "token.step-up");
}

static void
handle_refresh (SignetdHttp       *self,
                SoupServerMessage *msg,
                GBytes            *body)
{
  g_autoptr(SignetdCaller) caller = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(SignetdIssued) issued = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj = NULL;

  caller = _signetd_http_authenticate (self, msg, body);
  if (caller == NULL || !_signetd_http_parse_body (msg, body, NULL, 0, &parser, &obj))
    return;
  issued = signetd_tokens_refresh (self->tokens, caller, _signetd_http_now_seconds (), &error);
  finish_reissue (self, msg, caller, issued, error, "token.refresh");
}

static void
handle_logout (SignetdHttp       *self,
               SoupServerMessage *msg,
               GBytes            *body)
{
  g_autoptr(SignetdCaller) caller = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *obj = NULL;

  caller = _signetd_http_authenticate (self, msg, body);
  if (caller == NULL || !_signetd_http_parse_body (msg, body, NULL, 0, &parser, &obj))
    return;
  if (!signetd_tokens_logout (self->tokens, caller, _signetd_http_now_seconds (), &error))
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  if (!_signetd_http_audit (self, msg, "auth.logout", NULL, "tt",
                            "user", caller->user, "session", caller->session))
    return;
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* ---- GET endpoints ------------------------------------------------------ */

static void
handle_trust (SignetdHttp       *self,
              SoupServerMessage *msg)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = signetd_trust_to_json (self->trust, _signetd_http_now_seconds (),
                                                    &error);

  if (node == NULL)
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  _signetd_http_respond_json (msg, SOUP_STATUS_OK, node);
}

static void
handle_health (SignetdHttp       *self,
               SoupServerMessage *msg)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "status");
  json_builder_add_string_value (b, "ok");
  json_builder_set_member_name (b, "version");
  json_builder_add_string_value (b, PACKAGE_VERSION);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  _signetd_http_respond_json (msg, SOUP_STATUS_OK, root);
}

/* ---- dispatch ----------------------------------------------------------- */

typedef enum {
  ROUTE_LOGIN,
  ROUTE_STEP_UP,
  ROUTE_REFRESH,
  ROUTE_LOGOUT,
  ROUTE_TRUST,
  ROUTE_HEALTH,
  ROUTE_PROFILES,
  ROUTE_SEAL,
  ROUTE_LOGS_UPLOAD,
  ROUTE_LOGS_SEARCH,
  ROUTE_LOG_FETCH,
} Route;

static const struct {
  const char *path;
  const char *method;
  Route route;
} routes[] = {
  { "/v1/login", "POST", ROUTE_LOGIN },
  { "/v1/step-up", "POST", ROUTE_STEP_UP },
  { "/v1/refresh", "POST", ROUTE_REFRESH },
  { "/v1/logout", "POST", ROUTE_LOGOUT },
  { "/v1/trust", "GET", ROUTE_TRUST },
  { "/v1/health", "GET", ROUTE_HEALTH },
  { "/v1/profiles", "GET", ROUTE_PROFILES },
  { "/v1/seal", "POST", ROUTE_SEAL },
  { "/v1/logs", "POST", ROUTE_LOGS_UPLOAD },
  { "/v1/logs", "GET", ROUTE_LOGS_SEARCH },
  { "/v1/logs/", "GET", ROUTE_LOG_FETCH },   /* a prefix: /v1/logs/{id} */
};

static void
dispatch (SignetdHttp       *self,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query)
{
  RequestState *state = get_state (msg);
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(GBytes) body = NULL;
  const char *allow = NULL;

  if (state == NULL)
    {
      _signetd_http_respond_internal (msg, NULL);
      return;
    }
  if (state->headers_too_large)
    {
      _signetd_http_respond_bad_request (msg, "request headers too large");
      return;
    }
  if (state->too_large)
    {
      respond_too_large (msg, state->limit);
      return;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      if (routes[i].route == ROUTE_LOG_FETCH
            ? !g_str_has_prefix (path, routes[i].path) || path[strlen (routes[i].path)] == '\0'
            : !g_str_equal (routes[i].path, path))
        continue;
      if (!g_str_equal (routes[i].method, method))
        {
          /* Another entry may serve this path with this method. */
          allow = allow == NULL ? routes[i].method : "GET, POST";
          continue;
        }
      /* A copy that wipes itself: the body may hold a password. */
      body = signet_secret_bytes_new (state->body->data, state->body->len);
      switch (routes[i].route)
        {
        case ROUTE_LOGIN:
          handle_login (self, msg, body);
          return;
        case ROUTE_STEP_UP:
          handle_step_up (self, msg, body);
          return;
        case ROUTE_REFRESH:
          handle_refresh (self, msg, body);
          return;
        case ROUTE_LOGOUT:
          handle_logout (self, msg, body);
          return;
        case ROUTE_TRUST:
          handle_trust (self, msg);
          return;
        case ROUTE_HEALTH:
          handle_health (self, msg);
          return;
        case ROUTE_PROFILES:
          _signetd_http_handle_profiles (self, msg, body, query);
          return;
        case ROUTE_SEAL:
          _signetd_http_handle_seal (self, msg, body);
          return;
        case ROUTE_LOGS_UPLOAD:
          _signetd_http_handle_logs_upload (self, msg, body, query);
          return;
        case ROUTE_LOGS_SEARCH:
          _signetd_http_handle_logs_search (self, msg, body, query);
          return;
        case ROUTE_LOG_FETCH:
          _signetd_http_handle_log_fetch (self, msg, body, path + strlen (routes[i].path), query);
          return;
        default:
          g_assert_not_reached ();
        }
    }
  if (allow != NULL)
    {
      _signetd_http_respond_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method_not_allowed",
                                   "method not allowed");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    allow);
      return;
    }
  _signetd_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "no such endpoint");
}

static void
server_callback (SoupServer        *server,
                 SoupServerMessage *msg,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  SignetdHttp *self = user_data;
  RequestState *state = get_state (msg);

  if (!group_join (self, msg))
    return;
  dispatch (self, msg, path, query);
  if (state == NULL || !state->async)
    group_hold (self, msg, FALSE);
}

/* ---- bounds and the access log ------------------------------------------ */

static void
on_got_chunk (SoupServerMessage *msg,
              GBytes            *chunk,
              gpointer           user_data)
{
  RequestState *state = get_state (msg);
  gsize len = g_bytes_get_size (chunk);

  if (state == NULL || state->too_large)
    return;
  if (len > state->limit - state->body->len)
    {
      /* Stop keeping it; the handler answers 413. */
      state->too_large = TRUE;
      signet_secret_wipe (state->body->data, state->body->len);
      g_byte_array_set_size (state->body, 0);
      return;
    }
  g_byte_array_append (state->body, g_bytes_get_data (chunk, NULL), (guint) len);
}

static void
on_got_headers (SoupServerMessage *msg,
                gpointer           user_data)
{
  RequestState *state = get_state (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageHeadersIter iter;
  const char *name, *value;
  gsize total = 0;
  goffset length;

  if (state == NULL)
    return;
  state->limit = _signetd_http_body_limit (soup_server_message_get_method (msg),
                                           g_uri_get_path (soup_server_message_get_uri (msg)));
  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    total += strlen (name) + strlen (value) + 4;
  if (total > SIGNETD_HTTP_MAX_HEADERS)
    state->headers_too_large = TRUE;

  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH)
    {
      length = soup_message_headers_get_content_length (headers);
      if (length > (goffset) state->limit)
        {
          /* Answer before the body is read: libsoup skips reading a body
           * once the status is set here, and closes the connection. */
          state->too_large = TRUE;
          respond_too_large (msg, state->limit);
          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Connection", "close");
        }
    }
}

static void
on_request_started (SoupServer        *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  RequestState *state = g_new0 (RequestState, 1);

  state->start_us = g_get_monotonic_time ();
  state->body = g_byte_array_new ();
  state->limit = SIGNETD_HTTP_MAX_BODY;
  g_object_set_data_full (G_OBJECT (msg), REQUEST_STATE_KEY, state, request_state_free);
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_signal_connect (msg, "got-headers", G_CALLBACK (on_got_headers), NULL);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), NULL);
}

static void
log_request (SoupServerMessage *msg,
             const char        *outcome)
{
  RequestState *state = get_state (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  const char *method = soup_server_message_get_method (msg);
  const char *path = uri != NULL ? g_uri_get_path (uri) : "-";
  const char *remote = soup_server_message_get_remote_host (msg);
  const char *user = state != NULL && state->user != NULL ? state->user : "-";
  guint status = soup_server_message_get_status (msg);
  gint64 ms = state != NULL ? (g_get_monotonic_time () - state->start_us) / 1000 : 0;
  g_autofree char *status_text = g_strdup_printf ("%u", status);
  g_autofree char *ms_text = g_strdup_printf ("%" G_GINT64_FORMAT, ms);

  if (method == NULL)
    method = "-";
  if (remote == NULL)
    remote = "-";
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
                    "MESSAGE", "%s %s %s %u %" G_GINT64_FORMAT " ms user=%s remote=%s",
                    outcome, method, path, status, ms, user, remote,
                    "SIGNETD_METHOD", method,
                    "SIGNETD_PATH", path,
                    "SIGNETD_STATUS", status_text,
                    "SIGNETD_DURATION_MS", ms_text,
                    "SIGNETD_USER", user,
                    "SIGNETD_REMOTE", remote);
}

static void
on_request_finished (SoupServer        *server,
                     SoupServerMessage *msg,
                     gpointer           user_data)
{
  log_request (msg, "request");
}

static void
on_request_aborted (SoupServer        *server,
                    SoupServerMessage *msg,
                    gpointer           user_data)
{
  log_request (msg, "aborted");
}

/* ---- object ------------------------------------------------------------- */

static void
signetd_http_finalize (GObject *object)
{
  SignetdHttp *self = SIGNETD_HTTP (object);

  _signetd_http_group_commit (self);
  if (self->server != NULL)
    soup_server_disconnect (self->server);
  g_clear_object (&self->server);
  g_clear_pointer (&self->held, g_ptr_array_unref);
  G_OBJECT_CLASS (signetd_http_parent_class)->finalize (object);
}

static void
signetd_http_class_init (SignetdHttpClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signetd_http_finalize;
}

static void
signetd_http_init (SignetdHttp *self)
{
  self->held = g_ptr_array_new_with_free_func (g_object_unref);
}

SignetdHttp *
signetd_http_new (SignetdConfig    *config,
                  SignetdStore     *store,
                  SignetdAccounts  *accounts,
                  SignetdTrust     *trust,
                  SignetdTokens    *tokens,
                  GError          **error)
{
  g_autoptr(SignetdHttp) self = g_object_new (SIGNETD_TYPE_HTTP, NULL);
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(GError) local_error = NULL;

  self->config = config;
  self->store = store;
  self->accounts = accounts;
  self->trust = trust;
  self->tokens = tokens;
  self->policy.backoff_after = config->backoff_after;
  self->policy.lock_after = config->lock_after;
  self->policy.backoff_max = config->backoff_max;
  self->policy.address_backoff_after = config->address_backoff_after;

  cert = g_tls_certificate_new_from_files (config->tls_cert, config->tls_key, &local_error);
  if (cert == NULL)
    {
      g_set_error (error, SIGNETD_HTTP_ERROR, SIGNETD_HTTP_ERROR_TLS,
                   "TLS certificate %s / key %s: %s", config->tls_cert, config->tls_key,
                   local_error->message);
      return NULL;
    }
  self->server = soup_server_new ("tls-certificate", cert,
                                  "server-header", "signetd",
                                  NULL);
  soup_server_add_handler (self->server, NULL, server_callback, self, NULL);
  g_signal_connect (self->server, "request-started", G_CALLBACK (on_request_started), self);
  g_signal_connect (self->server, "request-finished", G_CALLBACK (on_request_finished), self);
  g_signal_connect (self->server, "request-aborted", G_CALLBACK (on_request_aborted), self);
  return g_steal_pointer (&self);
}

char *
signetd_http_listen (SignetdHttp  *self,
                     GError      **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) addr = NULL;
  g_autoptr(GError) local_error = NULL;
  GSList *uris;
  guint16 port = 0;
  int real_port = -1;

  if (!signetd_config_parse_listen (self->config->listen, &host, &port, error))
    return NULL;
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    {
      g_set_error (error, SIGNETD_HTTP_ERROR, SIGNETD_HTTP_ERROR_LISTEN,
                   "listen address %s is not an IP address", host);
      return NULL;
    }
  addr = g_inet_socket_address_new (inet, port);
  if (!soup_server_listen (self->server, addr, SOUP_SERVER_LISTEN_HTTPS, &local_error))
    {
      g_set_error (error, SIGNETD_HTTP_ERROR, SIGNETD_HTTP_ERROR_LISTEN,
                   "cannot listen on %s: %s", self->config->listen, local_error->message);
      return NULL;
    }
  uris = soup_server_get_uris (self->server);
  if (uris != NULL)
    real_port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  if (real_port <= 0)
    {
      g_set_error (error, SIGNETD_HTTP_ERROR, SIGNETD_HTTP_ERROR_LISTEN,
                   "cannot tell which port is served");
      return NULL;
    }
  if (strchr (host, ':') != NULL)
    return g_strdup_printf ("https://[%s]:%d", host, real_port);
  return g_strdup_printf ("https://%s:%d", host, real_port);
}

void
signetd_http_set_sealing (SignetdHttp     *self,
                          SignetdProfiles *profiles,
                          SignetdSeal     *seal)
{
  self->profiles = profiles;
  self->seal = seal;
}

void
signetd_http_stop (SignetdHttp *self)
{
  _signetd_http_group_commit (self);
  if (self->server != NULL)
    soup_server_disconnect (self->server);
}
