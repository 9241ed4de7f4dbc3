/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-http-logs.c: POST /v1/logs, GET /v1/logs, GET /v1/logs/{id}
 * (docs/api.md, "Logs"), and the audit records the other handlers write
 * before they answer.
 */
#include "config.h"

#include <string.h>

#include "signet-base64url.h"
#include "signet-crypto.h"
#include "signetd-http-private.h"

#define STATUS_CONFLICT 409
#define STATUS_UNSUPPORTED_MEDIA_TYPE 415
#define SEARCH_DEFAULT_LIMIT 50
#define LOGS_PATH "/v1/logs"

void
signetd_http_set_logs (SignetdHttp  *self,
                       SignetdLogs  *logs,
                       SignetdAudit *audit)
{
  /* What the old audit log holds must be durable before it goes. */
  _signetd_http_group_commit (self);
  signetd_audit_set_group_commit (self->audit, FALSE);
  self->logs = logs;
  self->audit = audit;
  signetd_audit_set_group_commit (self->audit, TRUE);
}

gsize
_signetd_http_body_limit (const char *method,
                          const char *path)
{
  if (g_strcmp0 (method, "POST") == 0 && g_strcmp0 (path, LOGS_PATH) == 0)
    return SIGNETD_LOGS_SEGMENT_MAX;
  return SIGNETD_HTTP_MAX_BODY;
}

gboolean
_signetd_http_audit (SignetdHttp       *self,
                     SoupServerMessage *msg,
                     const char        *type,
                     const char        *device,
                     const char        *fmt,
                     ...)
{
  g_autoptr(GError) error = NULL;
  va_list ap;
  gboolean ok;

  va_start (ap, fmt);
  ok = signetd_audit_record_valist (self->audit, type, device, &error, fmt, ap);
  va_end (ap);
  if (!ok)
    {
      /* No answer of a step the log could not keep. */
      _signetd_http_respond_internal (msg, error);
      return FALSE;
    }
  return TRUE;
}

static char *
hex (const guint8 *p,
     gsize         len)
{
  GString *s = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}

static gboolean
require_scope (SoupServerMessage *msg,
               SignetdCaller     *caller,
               const char        *scope)
{
  if (sp_cwt_scope_has (&caller->claims, scope))
    return TRUE;
  _signetd_http_respond_error (msg, SOUP_STATUS_FORBIDDEN, "forbidden",
                               g_str_equal (scope, "log.read")
                                 ? "reading logs needs the log.read scope (supervisor or admin)"
                                 : "uploading logs needs the log.upload scope");
  return FALSE;
}

/* ---- POST /v1/logs ------------------------------------------------------ */

/* The log a POST /v1/logs goes to: the token's session's, or the one
 * ?session= names. Sends the 400 itself and returns NULL for any other
 * query. Returns: (transfer none) (nullable) */
static const char *
upload_target (SoupServerMessage *msg,
               SignetdCaller     *caller,
               GHashTable        *query)
{
  const char *named;

  if (g_uri_get_query (soup_server_message_get_uri (msg)) == NULL)
    return caller->session;
  named = query != NULL ? g_hash_table_lookup (query, "session") : NULL;
  if (named == NULL || g_hash_table_size (query) != 1)
    {
      _signetd_http_respond_bad_request (msg, "the query is session=ID or nothing");
      return NULL;
    }
  if (!signetd_logs_id_is_valid (named))
    {
      _signetd_http_respond_bad_request (msg, "session: a session id");
      return NULL;
    }
  return named;
}

void
_signetd_http_handle_logs_upload (SignetdHttp       *self,
                                  SoupServerMessage *msg,
                                  GBytes            *body,
                                  GHashTable        *query)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr(SignetdCaller) caller = NULL;
  g_autoptr(SignetdLogsAccepted) accepted = NULL;
  g_autoptr(GBytes) countersignature = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *head_hex = NULL;
  g_autofree char *cs_b64 = NULL;
  const char *ctype;
  const char *session;
  gint64 now = _signetd_http_now_seconds ();

  if (self->logs == NULL)
    {
      _signetd_http_respond_internal (msg, NULL);
      return;
    }
  caller = _signetd_http_authenticate (self, msg, body);
  if (caller == NULL || !require_scope (msg, caller, "log.upload") ||
      (session = upload_target (msg, caller, query)) == NULL)
    return;
  ctype = soup_message_headers_get_content_type (headers, NULL);
  if (ctype == NULL || g_ascii_strcasecmp (ctype, SIGNETD_LOGS_CONTENT_TYPE) != 0)
    {
      _signetd_http_respond_error (msg, STATUS_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                                   "Content-Type must be " SIGNETD_LOGS_CONTENT_TYPE);
      return;
    }
  /* An earlier session of the same user (over, revoked or not): its log
   * verifies only with its own K_0, so this token can deliver only what
   * that session's holder wrote. Unknown and another user's: one answer. */
  if (!g_str_equal (session, caller->session) &&
      !signetd_logs_check_session_owner (self->logs, session, caller->session, &error))
    {
      if (!g_error_matches (error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_NOT_FOUND))
        {
          _signetd_http_respond_internal (msg, error);
          return;
        }
      if (!_signetd_http_audit (self, msg, "log.refused", NULL, "tttit",
                                "user", caller->user, "session", session,
                                "token_session", caller->session, "status", (gint64) 404,
                                "reason", "unknown-session"))
        return;
      _signetd_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found",
                                   "No session of this user has that id.");
      return;
    }

  accepted = signetd_logs_ingest (self->logs, session, caller->user, body, now, &reason,
                                  &error);
  if (accepted == NULL)
    {
      g_autoptr(GBytes) digest = NULL;
      gboolean malformed;

      if (error->domain != SIGNETD_LOGS_ERROR ||
          (error->code != SIGNETD_LOGS_ERROR_MALFORMED &&
           error->code != SIGNETD_LOGS_ERROR_CONFLICT))
        {
          _signetd_http_respond_internal (msg, error);
          return;
        }
      malformed = error->code == SIGNETD_LOGS_ERROR_MALFORMED;
      digest = signet_sha256 (body);
      if (!_signetd_http_audit (self, msg, "log.refused", NULL, "tttitx",
                                "user", caller->user, "session", session,
                                "token_session", caller->session,
                                "status", (gint64) (malformed ? 400 : 409),
                                "reason", reason != NULL ? reason : "refused",
                                "sha256", digest))
        return;
      /* The verifier's sentence names the record and the check, no secret. */
      if (malformed)
        _signetd_http_respond_bad_request (msg, error->message);
      else
        _signetd_http_respond_error (msg, STATUS_CONFLICT, "conflict", error->message);
      return;
    }

  countersignature = signetd_logs_countersign (self->logs, accepted, now, &error);
  if (countersignature == NULL)
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  if (!accepted->repeated &&
      !_signetd_http_audit (self, msg, "log.upload", NULL, "tttiiii",
                            "user", caller->user, "session", session,
                            "token_session", caller->session,
                            "first_seq", (gint64) accepted->first_seq,
                            "next_seq", (gint64) accepted->next_seq,
                            "sealed_seq", accepted->sealed_seq,
                            "complete", (gint64) accepted->complete))
    return;

  head_hex = hex (accepted->head, sizeof accepted->head);
  cs_b64 = signet_base64url_encode (g_bytes_get_data (countersignature, NULL),
                                    g_bytes_get_size (countersignature));
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "session");
  json_builder_add_string_value (b, accepted->log_id);
  json_builder_set_member_name (b, "records");
  json_builder_add_int_value (b, (gint64) accepted->records);
  json_builder_set_member_name (b, "next_seq");
  json_builder_add_int_value (b, (gint64) accepted->next_seq);
  json_builder_set_member_name (b, "head");
  json_builder_add_string_value (b, head_hex);
  json_builder_set_member_name (b, "sealed_seq");
  json_builder_add_int_value (b, accepted->sealed_seq);
  json_builder_set_member_name (b, "countersignature");
  json_builder_add_string_value (b, cs_b64);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  _signetd_http_respond_json (msg, SOUP_STATUS_OK, root);
}

/* ---- GET /v1/logs ------------------------------------------------------- */

/* A non-negative decimal integer of at most 18 digits. */
static gboolean
parse_uint (const char *text,
            gint64     *out)
{
  gsize len = text != NULL ? strlen (text) : 0;

  if (len == 0 || len > 18)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (text[i]))
      return FALSE;
  *out = g_ascii_strtoll (text, NULL, 10);
  return TRUE;
}

static void
add_summary (JsonBuilder       *b,
             SignetdLogSummary *s)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "session");
  json_builder_add_string_value (b, s->id);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, s->kind);
  json_builder_set_member_name (b, "technician");
  json_builder_add_string_value (b, s->technician);
  json_builder_set_member_name (b, "started");
  json_builder_add_int_value (b, s->started);
  json_builder_set_member_name (b, "ended");
  if (s->ended >= 0)
    json_builder_add_int_value (b, s->ended);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "records");
  json_builder_add_int_value (b, (gint64) s->records);
  json_builder_set_member_name (b, "outcome");
  json_builder_add_string_value (b, signetd_log_outcome_to_string (s->outcome));
  json_builder_set_member_name (b, "devices");
  json_builder_begin_array (b);
  for (guint i = 0; s->devices != NULL && s->devices[i] != NULL; i++)
    json_builder_add_string_value (b, s->devices[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

void
_signetd_http_handle_logs_search (SignetdHttp       *self,
                                  SoupServerMessage *msg,
                                  GBytes            *body,
                                  GHashTable        *query)
{
  static const char * const known[] = {
    "technician", "device", "from", "to", "outcome", "limit", "cursor",
  };
  g_autoptr(SignetdCaller) caller = NULL;
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *next_cursor = NULL;
  SignetdLogsFilter filter = { 0 };
  GHashTableIter iter;
  gpointer key, value;
  const char *text;
  gint64 n;

  if (self->logs == NULL)
    {
      _signetd_http_respond_internal (msg, NULL);
      return;
    }
  caller = _signetd_http_authenticate (self, msg, body);
  if (caller == NULL || !require_scope (msg, caller, "log.read"))
    return;
  if (g_bytes_get_size (body) != 0)
    {
      _signetd_http_respond_bad_request (msg, "a GET has no body");
      return;
    }

  filter.from = G_MININT64;
  filter.to = G_MAXINT64;
  filter.limit = SEARCH_DEFAULT_LIMIT;
  if (query != NULL)
    {
      g_hash_table_iter_init (&iter, query);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          gboolean ok = FALSE;

          for (gsize i = 0; i < G_N_ELEMENTS (known); i++)
            ok |= g_str_equal (known[i], key);
          if (!ok)
            {
              _signetd_http_respond_bad_request (msg, "unknown query parameter");
              return;
            }
          if (*(const char *) value == '\0' || strlen (value) > 256 ||
              !g_utf8_validate (value, -1, NULL))
            {
              _signetd_http_respond_bad_request (msg, "empty or overlong query parameter");
              return;
            }
        }
      filter.technician = g_hash_table_lookup (query, "technician");
      filter.device = g_hash_table_lookup (query, "device");
      filter.cursor = g_hash_table_lookup (query, "cursor");
      if ((text = g_hash_table_lookup (query, "from")) != NULL)
        {
          if (!parse_uint (text, &filter.from))
            {
              _signetd_http_respond_bad_request (msg, "from: seconds since the epoch");
              return;
            }
        }
      if ((text = g_hash_table_lookup (query, "to")) != NULL)
        {
          if (!parse_uint (text, &filter.to))
            {
              _signetd_http_respond_bad_request (msg, "to: seconds since the epoch");
              return;
            }
        }
      if ((text = g_hash_table_lookup (query, "limit")) != NULL)
        {
          if (!parse_uint (text, &n) || n < 1 || n > SIGNETD_LOGS_SEARCH_MAX)
            {
              _signetd_http_respond_bad_request (msg, "limit: 1 to 200");
              return;
            }
          filter.limit = (guint) n;
        }
      if ((text = g_hash_table_lookup (query, "outcome")) != NULL)
        {
          if (!signetd_log_outcome_from_string (text, &filter.outcome))
            {
              _signetd_http_respond_bad_request (msg, "outcome: verified, tampered, "
                                                      "incomplete or open");
              return;
            }
          filter.has_outcome = TRUE;
        }
    }

  found = signetd_logs_search (self->logs, &filter, _signetd_http_now_seconds (), &next_cursor,
                               &error);
  if (found == NULL)
    {
      if (g_error_matches (error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_INVALID))
        _signetd_http_respond_bad_request (msg, error->message);
      else
        _signetd_http_respond_internal (msg, error);
      return;
    }
  b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "logs");
  json_builder_begin_array (b);
  for (guint i = 0; i < found->len; i++)
    add_summary (b, g_ptr_array_index (found, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "next_cursor");
  if (next_cursor != NULL)
    json_builder_add_string_value (b, next_cursor);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  _signetd_http_respond_json (msg, SOUP_STATUS_OK, root);
}

/* ---- GET /v1/logs/{id} -------------------------------------------------- */

void
_signetd_http_handle_log_fetch (SignetdHttp       *self,
                                SoupServerMessage *msg,
                                GBytes            *body,
                                const char        *id,
                                GHashTable        *query)
{
  SoupMessageHeaders *out_headers = soup_server_message_get_response_headers (msg);
  g_autoptr(SignetdCaller) caller = NULL;
  g_autoptr(SignetdLogSummary) summary = NULL;
  g_autoptr(SignetEventLogResult) result = NULL;
  g_autoptr(GBytes) log = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *records = NULL;
  g_autofree char *sealed = NULL;
  g_autofree char *rejected_text = NULL;
  const char *format = query != NULL ? g_hash_table_lookup (query, "format") : NULL;
  guint rejected = 0;
  gint64 index;

  if (self->logs == NULL)
    {
      _signetd_http_respond_internal (msg, NULL);
      return;
    }
  caller = _signetd_http_authenticate (self, msg, body);
  if (caller == NULL || !require_scope (msg, caller, "log.read"))
    return;
  if (g_bytes_get_size (body) != 0)
    {
      _signetd_http_respond_bad_request (msg, "a GET has no body");
      return;
    }
  if (query != NULL && (g_hash_table_size (query) != 1 || format == NULL ||
                        !g_str_equal (format, "json")))
    {
      _signetd_http_respond_bad_request (msg, "the query is format=json or nothing");
      return;
    }
  if (!signetd_logs_id_is_valid (id))
    {
      _signetd_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "no such log");
      return;
    }
  /* This run's own log: seal its tail first, so all of it can verify. */
  if (g_strcmp0 (id, signetd_audit_get_id (self->audit)) == 0 &&
      !signetd_audit_seal (self->audit, &error))
    {
      _signetd_http_respond_internal (msg, error);
      return;
    }
  if (!signetd_logs_fetch (self->logs, id, _signetd_http_now_seconds (), &log, &result, &summary,
                           &rejected, &error))
    {
      if (g_error_matches (error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_NOT_FOUND))
        _signetd_http_respond_error (msg, SOUP_STATUS_NOT_FOUND, "not_found", "no such log");
      else
        _signetd_http_respond_internal (msg, error);
      return;
    }

  records = g_strdup_printf ("%" G_GUINT64_FORMAT, signet_event_log_result_get_n_records (result));
  sealed = g_strdup_printf ("%" G_GINT64_FORMAT,
                            signet_event_log_result_get_last_sealed_seq (result));
  rejected_text = g_strdup_printf ("%u", rejected);
  soup_message_headers_replace (out_headers, "Signet-Log-Kind", summary->kind);
  soup_message_headers_replace (out_headers, "Signet-Log-Technician", summary->technician);
  soup_message_headers_replace (out_headers, "Signet-Log-Outcome",
                                signetd_log_outcome_to_string (summary->outcome));
  soup_message_headers_replace (out_headers, "Signet-Log-Verdict",
                                signet_event_log_verdict_to_string (
                                  signet_event_log_result_get_verdict (result)));
  soup_message_headers_replace (out_headers, "Signet-Log-Reason",
                                signet_event_log_reason_to_string (
                                  signet_event_log_result_get_reason (result)));
  soup_message_headers_replace (out_headers, "Signet-Log-Records", records);
  soup_message_headers_replace (out_headers, "Signet-Log-Sealed-Seq", sealed);
  soup_message_headers_replace (out_headers, "Signet-Log-Rejected", rejected_text);
  index = signet_event_log_result_get_index (result);
  if (index >= 0)
    {
      g_autofree char *index_text = g_strdup_printf ("%" G_GINT64_FORMAT, index);

      soup_message_headers_replace (out_headers, "Signet-Log-Index", index_text);
    }
  soup_message_headers_replace (out_headers, "Cache-Control", "no-store");
  soup_message_headers_replace (out_headers, "X-Content-Type-Options", "nosniff");

  if (format != NULL)
    {
      g_autofree char *json = signet_event_log_export_json (log, &error);

      if (json == NULL)
        {
          /* A log that does not read to the end (tampered bytes): the
           * verdict headers say why; the bytes are still there as CBOR. */
          _signetd_http_respond_error (msg, STATUS_CONFLICT, "conflict", error->message);
          return;
        }
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, json,
                                        strlen (json));
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, SIGNETD_LOGS_CONTENT_TYPE, SOUP_MEMORY_COPY,
                                    g_bytes_get_data (log, NULL), g_bytes_get_size (log));
}
