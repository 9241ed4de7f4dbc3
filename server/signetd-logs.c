/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include "signet-base64url.h"
#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-proto-error.h"
#include "signet-secret.h"
#include "signetd-audit.h"
#include "signetd-logs.h"
#include "sp-cbor.h"
#include "sp-cose.h"

struct _SignetdLogs {
  SignetdStore *store;   /* borrowed */
  SignetdKeys *keys;     /* borrowed */
  char *data_dir;
  char *live_audit;
  /* Verdicts of service logs, by id, while their files do not change:
   * a search lists them all and must not re-verify every file each time. */
  GHashTable *verdicts;  /* id -> ServiceVerdict */
};

/* The file as it was verified: any write changes its size or ctime (which
 * no one can set back, unlike mtime). */
typedef struct {
  dev_t dev;
  ino_t ino;
  goffset size;
  gint64 mtime_ns;
  gint64 ctime_ns;
  SignetdLogOutcome outcome;
  guint64 records;
  gint64 ended;
  gint64 last_time;      /* seconds; -1 without records */
} ServiceVerdict;

G_DEFINE_QUARK (signetd-logs-error-quark, signetd_logs_error)

#define ID_MAX 64
#define HEAD_LEN SIGNET_EVENT_LOG_HASH_LEN
#define HEAD_PAYLOAD_CAP (32 + ID_MAX + 3 * 9 + HEAD_LEN + 2)

void
signetd_logs_accepted_free (SignetdLogsAccepted *accepted)
{
  if (accepted == NULL)
    return;
  g_free (accepted->log_id);
  g_free (accepted);
}

void
signetd_log_summary_free (SignetdLogSummary *summary)
{
  if (summary == NULL)
    return;
  g_free (summary->id);
  g_free (summary->kind);
  g_free (summary->technician);
  g_strfreev (summary->devices);
  g_free (summary);
}

static const char * const outcome_names[] = {
  [SIGNETD_LOG_OUTCOME_VERIFIED] = "verified",
  [SIGNETD_LOG_OUTCOME_TAMPERED] = "tampered",
  [SIGNETD_LOG_OUTCOME_INCOMPLETE] = "incomplete",
  [SIGNETD_LOG_OUTCOME_OPEN] = "open",
};

const char *
signetd_log_outcome_to_string (SignetdLogOutcome outcome)
{
  g_return_val_if_fail ((guint) outcome < G_N_ELEMENTS (outcome_names), "unknown");
  return outcome_names[outcome];
}

gboolean
signetd_log_outcome_from_string (const char        *text,
                                 SignetdLogOutcome *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (outcome_names); i++)
    if (g_strcmp0 (text, outcome_names[i]) == 0)
      {
        *out = (SignetdLogOutcome) i;
        return TRUE;
      }
  return FALSE;
}

gboolean
signetd_logs_id_is_valid (const char *id)
{
  gsize len = id != NULL ? strlen (id) : 0;

  if (len == 0 || len > ID_MAX)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '-' && id[i] != '_')
      return FALSE;
  return TRUE;
}

SignetdLogs *
signetd_logs_new (SignetdStore *store,
                  SignetdKeys  *keys,
                  const char   *data_dir)
{
  SignetdLogs *self = g_new0 (SignetdLogs, 1);

  self->store = store;
  self->keys = keys;
  self->data_dir = g_strdup (data_dir);
  self->verdicts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
signetd_logs_free (SignetdLogs *self)
{
  if (self == NULL)
    return;
  g_free (self->live_audit);
  g_free (self->data_dir);
  g_clear_pointer (&self->verdicts, g_hash_table_unref);
  g_free (self);
}

void
signetd_logs_set_live_audit (SignetdLogs *self,
                             const char  *id)
{
  g_free (self->live_audit);
  self->live_audit = g_strdup (id);
}

static char *
key_purpose (const char *kind,
             const char *id)
{
  return g_strconcat (g_str_equal (kind, "service") ? "audit-log-key:" : "log-key:", id, NULL);
}

/* ---- ingestion ---------------------------------------------------------- */

gboolean
signetd_logs_check_session_owner (SignetdLogs  *self,
                                  const char   *session,
                                  const char   *token_session,
                                  GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int r;

  g_return_val_if_fail (session != NULL && token_session != NULL, FALSE);

  /* By account id, not by name: a user deleted and made again under the
   * same name does not inherit the old account's sessions (they went
   * with it). */
  stmt = signetd_store_prepare (self->store,
                                "SELECT 1 FROM sessions s JOIN sessions t "
                                "ON t.user_id = s.user_id WHERE s.id = ? AND t.id = ?", error);
  if (stmt == NULL ||
      !signetd_store_bind (self->store, stmt, error, "tt", session, token_session) ||
      (r = signetd_store_step (self->store, stmt, error)) < 0)
    return FALSE;
  if (r == 0)
    {
      g_set_error_literal (error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_NOT_FOUND,
                           "no such session of this user");
      return FALSE;
    }
  return TRUE;
}

/* What the database holds about a session's log. */
typedef struct {
  gboolean exists;
  guint64 next_seq;
  guint64 bytes;
  SignetEventLogState *state;
  GBytes *sealed_k0;        /* from the session row or the log row */
} Stored;

static void
stored_clear (Stored *st)
{
  g_clear_pointer (&st->state, signet_event_log_state_unref);
  g_clear_pointer (&st->sealed_k0, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Stored, stored_clear)

static gboolean
refuse (GError     **error,
        int          code,
        char       **out_reason,
        const char  *reason,
        const char  *format,
        ...) G_GNUC_PRINTF (5, 6);

static gboolean
refuse (GError     **error,
        int          code,
        char       **out_reason,
        const char  *reason,
        const char  *format,
        ...)
{
  va_list ap;
  g_autofree char *message = NULL;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error_literal (error, SIGNETD_LOGS_ERROR, code, message);
  if (out_reason != NULL)
    *out_reason = g_strdup (reason);
  return FALSE;
}

static gboolean
load_stored (SignetdLogs  *self,
             const char   *session,
             Stored       *st,
             GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) sealed_state = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autofree char *purpose = NULL;
  g_autoptr(GError) local_error = NULL;
  int r;

  stmt = signetd_store_prepare (self->store,
                                "SELECT state, records, bytes, log_key FROM logs "
                                "WHERE id = ? AND kind = 'session'", error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", session) ||
      (r = signetd_store_step (self->store, stmt, error)) < 0)
    return FALSE;
  if (r == 0)
    {
      g_clear_pointer (&stmt, signetd_store_release);
      stmt = signetd_store_prepare (self->store, "SELECT log_key FROM sessions WHERE id = ?",
                                    error);
      if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", session) ||
          (r = signetd_store_step (self->store, stmt, error)) < 0)
        return FALSE;
      if (r == 1)
        st->sealed_k0 = signetd_store_column_bytes (stmt, 0);
      return TRUE;
    }
  st->exists = TRUE;
  sealed_state = signetd_store_column_bytes (stmt, 0);
  st->next_seq = (guint64) sqlite3_column_int64 (stmt, 1);
  st->bytes = (guint64) sqlite3_column_int64 (stmt, 2);
  st->sealed_k0 = signetd_store_column_bytes (stmt, 3);
  if (sealed_state == NULL)
    {
      g_set_error (error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_FAILED,
                   "log %s has no verifier state", session);
      return FALSE;
    }
  purpose = g_strconcat ("log-state:", session, NULL);
  plain = signetd_keys_open (self->keys, purpose, sealed_state, error);
  if (plain == NULL)
    return FALSE;
  st->state = signet_event_log_state_deserialize (plain, &local_error);
  if (st->state == NULL)
    {
      g_set_error (error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_FAILED, "log %s: %s", session,
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* The stored records of a log, in order. Returns: (transfer full) (nullable) */
static GBytes *
load_segments (SignetdLogs  *self,
               const char   *id,
               GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GByteArray) all = g_byte_array_new ();
  int r;

  stmt = signetd_store_prepare (self->store,
                                "SELECT data FROM log_segments WHERE log_id = ? "
                                "ORDER BY first_seq", error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", id))
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    g_byte_array_append (all, sqlite3_column_blob (stmt, 0),
                         (guint) sqlite3_column_bytes (stmt, 0));
  if (r < 0)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&all));
}

/* Keep a refused segment as evidence. Failing to keep it is logged, not
 * answered: the refusal stands either way. */
static void
keep_aside (SignetdLogs  *self,
            const char   *session,
            const char   *user,
            GBytes       *segment,
            int           code,
            const char   *reason,
            const char   *message,
            gint64        now)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) digest = signet_sha256 (segment);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 kept = 0;

  stmt = signetd_store_prepare (self->store,
                                "SELECT count(*) FROM rejected_segments WHERE log_id = ?", &error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, &error, "t", session) ||
      signetd_store_step (self->store, stmt, &error) < 0)
    goto out;
  kept = sqlite3_column_int64 (stmt, 0);
  if (!signetd_store_run (self->store, NULL, &error,
                          "INSERT INTO rejected_segments (log_id, user, received, status, "
                          "reason, message, data, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                          "ttiittBB", session, user, now,
                          (gint64) (code == SIGNETD_LOGS_ERROR_MALFORMED ? 400 : 409), reason,
                          message, kept < SIGNETD_LOGS_REJECTED_KEEP ? segment : empty, digest))
    goto out;
  g_message ("log %s: segment refused (%s) and kept aside: %s", session, reason, message);
  return;

out:
  g_warning ("log %s: cannot keep a refused segment: %s", session, error->message);
}

/* Records in data[0..len) and the devices they name (reading only). */
static guint64
scan_records (const guint8 *data,
              gsize         len,
              GHashTable   *devices)
{
  g_autoptr(GBytes) bytes = g_bytes_new_static (data, len);
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (bytes);
  guint64 n = 0;

  for (;;)
    {
      g_autoptr(SignetEventRecord) rec = NULL;

      if (!signet_event_log_reader_next (reader, &rec, NULL))
        break;
      n++;
      if (devices != NULL && signet_event_record_get_device (rec) != NULL)
        g_hash_table_add (devices, g_strdup (signet_event_record_get_device (rec)));
    }
  return n;
}

/* A retry: the segment starting at first_seq is stored already, or all
 * its bytes are. Sets *out (repeated) or *out_tail_offset (where the new
 * records start in segment), or refuses an overlap that differs. */
static gboolean
check_overlap (SignetdLogs          *self,
               const char           *session,
               const Stored         *st,
               GBytes               *segment,
               guint64               first_seq,
               SignetdLogsAccepted **out,
               gsize                *out_tail_offset,
               char                **out_reason,
               GError              **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GBytes) stored = NULL;
  g_autoptr(SignetEventLogReader) reader = NULL;
  gsize len = 0, stored_len = 0, off = 0, common;
  const guint8 *data = g_bytes_get_data (segment, &len);
  const guint8 *sdata;
  gboolean found = FALSE;
  int r;

  *out = NULL;
  *out_tail_offset = 0;

  /* The same segment again: answer what it was answered. */
  stmt = signetd_store_prepare (self->store,
                                "SELECT next_seq, head, sealed_seq FROM log_segments "
                                "WHERE log_id = ? AND first_seq = ? AND data = ?", error);
  if (stmt == NULL ||
      !signetd_store_bind (self->store, stmt, error, "tiB", session, (gint64) first_seq,
                           segment) ||
      (r = signetd_store_step (self->store, stmt, error)) < 0)
    return FALSE;
  if (r == 1 && sqlite3_column_bytes (stmt, 1) == HEAD_LEN)
    {
      SignetdLogsAccepted *a = g_new0 (SignetdLogsAccepted, 1);

      a->log_id = g_strdup (session);
      a->first_seq = first_seq;
      a->next_seq = (guint64) sqlite3_column_int64 (stmt, 0);
      a->records = a->next_seq - first_seq;
      memcpy (a->head, sqlite3_column_blob (stmt, 1), HEAD_LEN);
      a->sealed_seq = sqlite3_column_int64 (stmt, 2);
      a->complete = signet_event_log_state_is_complete (st->state) &&
                    a->next_seq == st->next_seq;
      a->repeated = TRUE;
      *out = a;
      return TRUE;
    }

  /* Otherwise its stored part must be the same bytes. */
  stored = load_segments (self, session, error);
  if (stored == NULL)
    return FALSE;
  sdata = g_bytes_get_data (stored, &stored_len);
  reader = signet_event_log_reader_new (stored);
  for (;;)
    {
      g_autoptr(SignetEventRecord) rec = NULL;

      if (!signet_event_log_reader_next (reader, &rec, NULL))
        break;
      if (signet_event_record_get_seq (rec) == first_seq)
        {
          off = signet_event_record_get_offset (rec);
          found = TRUE;
          break;
        }
    }
  common = found ? MIN (len, stored_len - off) : 0;
  if (!found || memcmp (data, sdata + off, common) != 0)
    return refuse (error, SIGNETD_LOGS_ERROR_CONFLICT, out_reason, "overlap",
                   "The segment starts at seq %" G_GUINT64_FORMAT ", which is stored already, "
                   "and its records differ from the stored ones: refused and kept aside.",
                   first_seq);
  if (len <= stored_len - off)
    {
      SignetdLogsAccepted *a = g_new0 (SignetdLogsAccepted, 1);

      a->log_id = g_strdup (session);
      a->first_seq = first_seq;
      a->records = scan_records (data, len, NULL);
      a->next_seq = st->next_seq;
      memcpy (a->head, signet_event_log_state_get_chain_head (st->state), HEAD_LEN);
      a->sealed_seq = signet_event_log_state_get_last_sealed_seq (st->state);
      a->complete = signet_event_log_state_is_complete (st->state);
      a->repeated = TRUE;
      *out = a;
      return TRUE;
    }
  *out_tail_offset = stored_len - off;
  return TRUE;
}

static gboolean
store_accepted (SignetdLogs          *self,
                const char           *session,
                const char           *user,
                const Stored         *st,
                SignetEventLogState  *state,
                SignetEventLogResult *result,
                const guint8         *data,
                gsize                 len,
                guint64               first_seq,
                gint64                now,
                GError              **error)
{
  g_autoptr(GHashTable) devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GBytes) serialized = signet_event_log_state_serialize (state);
  g_autoptr(GBytes) sealed_state = NULL;
  g_autoptr(GBytes) part = g_bytes_new (data, len);
  g_autoptr(GBytes) digest = signet_sha256 (part);
  g_autoptr(GBytes) head = g_bytes_new (signet_event_log_state_get_chain_head (state), HEAD_LEN);
  g_autofree char *purpose = g_strconcat ("log-state:", session, NULL);
  gint64 started = (gint64) (signet_event_log_result_get_first_time (result) / 1000);
  gint64 last = (gint64) (signet_event_log_result_get_last_time (result) / 1000);
  gboolean complete = signet_event_log_state_is_complete (state);
  GHashTableIter iter;
  gpointer device;

  scan_records (data, len, devices);
  sealed_state = signetd_keys_seal (self->keys, purpose, serialized, error);
  if (sealed_state == NULL || !signetd_store_begin (self->store, error))
    return FALSE;
  if (!signetd_store_run (self->store, NULL, error,
                          "INSERT INTO logs (id, kind, technician, started, last_time, ended, "
                          "records, bytes, head, sealed_seq, complete, state, log_key, updated) "
                          "VALUES (?1, 'session', ?2, ?3, ?4, CASE WHEN ?9 = 1 THEN ?4 END, ?5, "
                          "?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (id) DO UPDATE SET "
                          "last_time = ?4, ended = CASE WHEN ?9 = 1 THEN ?4 END, records = ?5, "
                          "bytes = ?6, head = ?7, sealed_seq = ?8, complete = ?9, state = ?10, "
                          "updated = ?12",
                          "ttiiiiBiiBBi", session, user, started, last,
                          (gint64) signet_event_log_state_get_next_seq (state),
                          (gint64) (st->bytes + len), head,
                          signet_event_log_state_get_last_sealed_seq (state), (gint64) complete,
                          sealed_state, st->sealed_k0, now) ||
      !signetd_store_run (self->store, NULL, error,
                          "INSERT INTO log_segments (log_id, first_seq, next_seq, offset, data, "
                          "sha256, head, sealed_seq, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          "tiiiBBBii", session, (gint64) first_seq,
                          (gint64) signet_event_log_state_get_next_seq (state),
                          (gint64) st->bytes, part, digest, head,
                          signet_event_log_state_get_last_sealed_seq (state), now))
    goto fail;
  g_hash_table_iter_init (&iter, devices);
  while (g_hash_table_iter_next (&iter, &device, NULL))
    if (!signetd_store_run (self->store, NULL, error,
                            "INSERT OR IGNORE INTO log_devices (log_id, device) VALUES (?, ?)",
                            "tt", session, (const char *) device))
      goto fail;
  return signetd_store_commit (self->store, error) || (signetd_store_rollback (self->store), FALSE);

fail:
  signetd_store_rollback (self->store);
  return FALSE;
}

SignetdLogsAccepted *
signetd_logs_ingest (SignetdLogs  *self,
                     const char   *session,
                     const char   *user,
                     GBytes       *segment,
                     gint64        now,
                     char        **out_reason,
                     GError      **error)
{
  g_auto(Stored) st = { 0 };
  g_autoptr(GBytes) k0 = NULL;
  g_autoptr(SignetEventLogVerifier) verifier = NULL;
  g_autoptr(SignetEventLogState) state = NULL;
  g_autoptr(SignetEventLogResult) result = NULL;
  g_autoptr(GError) refusal = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *purpose = NULL;
  g_autofree char *reason = NULL;
  g_autoptr(SignetdLogsAccepted) accepted = NULL;
  gsize len = 0, tail = 0;
  const guint8 *data = g_bytes_get_data (segment, &len);
  guint64 first_seq;
  gssize consumed;

  if (out_reason != NULL)
    *out_reason = NULL;
  if (len == 0)
    {
      refuse (error, SIGNETD_LOGS_ERROR_MALFORMED, out_reason, "empty",
              "The segment holds no record.");
      return NULL;
    }
  if (!load_stored (self, session, &st, error))
    return NULL;
  if (st.sealed_k0 == NULL)
    {
      /* A session of a signetd before logs (no K_0): nothing can verify it. */
      refuse (&refusal, SIGNETD_LOGS_ERROR_CONFLICT, &reason, "no-log-key",
              "This session has no log key: sign in again.");
      goto rejected;
    }
  purpose = g_strconcat ("log-key:", session, NULL);
  k0 = signetd_keys_open (self->keys, purpose, st.sealed_k0, error);
  if (k0 == NULL)
    return NULL;

  /* Where does it start? The verifier judges it; this only finds retries. */
  {
    g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (segment);
    g_autoptr(SignetEventRecord) rec = NULL;

    first_seq = signet_event_log_reader_next (reader, &rec, NULL)
                  ? signet_event_record_get_seq (rec) : st.next_seq;
  }
  if (st.exists && first_seq < st.next_seq)
    {
      if (!check_overlap (self, session, &st, segment, first_seq, &accepted, &tail, &reason,
                          &local_error))
        {
          if (g_error_matches (local_error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_CONFLICT))
            {
              refusal = g_steal_pointer (&local_error);
              goto rejected;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      if (accepted != NULL)
        return g_steal_pointer (&accepted);
      first_seq = st.next_seq;
    }

  verifier = st.state != NULL ? signet_event_log_verifier_new_from_state (st.state)
                              : signet_event_log_verifier_new (k0);
  consumed = signet_event_log_verifier_feed_data (verifier, data + tail, len - tail,
                                                  &local_error);
  result = signet_event_log_verifier_finish (verifier);
  if (consumed < 0)
    {
      SignetEventLogVerdict verdict = signet_event_log_result_get_verdict (result);

      refuse (&refusal, verdict == SIGNET_EVENT_LOG_MALFORMED ? SIGNETD_LOGS_ERROR_MALFORMED
                                                              : SIGNETD_LOGS_ERROR_CONFLICT,
              &reason,
              signet_event_log_reason_to_string (signet_event_log_result_get_reason (result)),
              "%s", signet_event_log_result_get_message (result));
      goto rejected;
    }
  if ((gsize) consumed < len - tail)
    {
      refuse (&refusal, SIGNETD_LOGS_ERROR_MALFORMED, &reason, "partial-record",
              "The segment ends inside a record: upload whole records only.");
      goto rejected;
    }
  if (g_strcmp0 (signet_event_log_result_get_session_id (result), session) != 0)
    {
      refuse (&refusal, SIGNETD_LOGS_ERROR_CONFLICT, &reason, "another-session",
              "Record 0 names another session than the one the log is uploaded to.");
      goto rejected;
    }
  if (g_strcmp0 (signet_event_log_result_get_actor (result), user) != 0)
    {
      refuse (&refusal, SIGNETD_LOGS_ERROR_CONFLICT, &reason, "another-actor",
              "The log is written by another user than the token's.");
      goto rejected;
    }

  state = signet_event_log_verifier_get_state (verifier);
  if (!store_accepted (self, session, user, &st, state, result, data + tail, len - tail,
                       first_seq, now, error))
    return NULL;

  accepted = g_new0 (SignetdLogsAccepted, 1);
  accepted->log_id = g_strdup (session);
  accepted->first_seq = first_seq;
  accepted->records = signet_event_log_state_get_next_seq (state) - first_seq;
  accepted->next_seq = signet_event_log_state_get_next_seq (state);
  memcpy (accepted->head, signet_event_log_state_get_chain_head (state), HEAD_LEN);
  accepted->sealed_seq = signet_event_log_state_get_last_sealed_seq (state);
  accepted->complete = signet_event_log_state_is_complete (state);
  return g_steal_pointer (&accepted);

rejected:
  keep_aside (self, session, user, segment, refusal->code, reason, refusal->message, now);
  if (out_reason != NULL)
    *out_reason = g_steal_pointer (&reason);
  g_propagate_error (error, g_steal_pointer (&refusal));
  return NULL;
}

GBytes *
signetd_logs_countersign (SignetdLogs                *self,
                          const SignetdLogsAccepted  *accepted,
                          gint64                      now,
                          GError                    **error)
{
  g_autoptr(SignetKey) key = NULL;
  g_autofree char *kid = NULL;
  guint8 payload[HEAD_PAYLOAD_CAP];
  guint8 out[HEAD_PAYLOAD_CAP + SP_COSE_SIGN1_OVERHEAD];
  sp_cose_sign1_params params = { 0 };
  sp_cbor_writer w;
  size_t payload_len = 0, len = 0;

  key = signetd_keys_get_current (self->keys, &kid, error);
  if (key == NULL)
    return NULL;
  sp_cbor_writer_init (&w, payload, sizeof payload);
  sp_cbor_put_map (&w, 5);
  sp_cbor_put_uint (&w, 1);
  sp_cbor_put_textz (&w, accepted->log_id);
  sp_cbor_put_uint (&w, 2);
  sp_cbor_put_uint (&w, accepted->next_seq);
  sp_cbor_put_uint (&w, 3);
  sp_cbor_put_bytes (&w, accepted->head, HEAD_LEN);
  sp_cbor_put_uint (&w, 4);
  sp_cbor_put_int (&w, accepted->sealed_seq);
  sp_cbor_put_uint (&w, 5);
  sp_cbor_put_uint (&w, (guint64) MAX (now, 0));
  if (!signet_proto_check (sp_cbor_writer_finish (&w, &payload_len), "log head", error))
    return NULL;
  params.kid = (const guint8 *) kid;
  params.kid_len = strlen (kid);
  params.content_type = SIGNETD_LOGS_HEAD_CONTENT_TYPE;
  if (!signet_proto_check (sp_cose_sign1_sign (signet_crypto_port_openssl (),
                                               signet_key_get_sp_key (key), &params, payload,
                                               payload_len, out, sizeof out, &len),
                           "log head countersignature", error))
    return NULL;
  return g_bytes_new (out, len);
}

/* ---- search and fetch --------------------------------------------------- */

static GStrv
load_devices (SignetdLogs  *self,
              const char   *id,
              GError      **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();
  int r;

  stmt = signetd_store_prepare (self->store,
                                "SELECT device FROM log_devices WHERE log_id = ? ORDER BY device",
                                error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", id))
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    g_strv_builder_add (b, (const char *) sqlite3_column_text (stmt, 0));
  if (r < 0)
    return NULL;
  return g_strv_builder_end (b);
}

static GBytes *
open_k0 (SignetdLogs  *self,
         const char   *kind,
         const char   *id,
         GBytes       *sealed,
         GError      **error)
{
  g_autofree char *purpose = key_purpose (kind, id);

  if (sealed == NULL)
    {
      g_set_error (error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_FAILED, "log %s has no key", id);
      return NULL;
    }
  return signetd_keys_open (self->keys, purpose, sealed, error);
}

/* The columns every row query selects, in this order. */
#define ROW_COLUMNS \
  "l.id, l.kind, l.technician, l.started, l.ended, l.records, l.complete, l.file, " \
  "l.log_key, s.revoked, s.max_until, " \
  "(SELECT count(*) FROM rejected_segments r WHERE r.log_id = l.id) "
#define ROW_FROM "FROM logs l LEFT JOIN sessions s ON s.id = l.id AND l.kind = 'session' "

/* A summary of the row stmt is on. For a service log the file is
 * verified (its records are not in the database): *out_log and
 * *out_result (nullable) receive its bytes and verdict. */
static gboolean
stat_verdict (const char     *path,
              ServiceVerdict *v)
{
  struct stat st;

  if (path == NULL || stat (path, &st) != 0)
    return FALSE;
  v->dev = st.st_dev;
  v->ino = st.st_ino;
  v->size = st.st_size;
  v->mtime_ns = (gint64) st.st_mtim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_mtim.tv_nsec;
  v->ctime_ns = (gint64) st.st_ctim.tv_sec * G_GINT64_CONSTANT (1000000000) + st.st_ctim.tv_nsec;
  return TRUE;
}

static gboolean
same_file (const ServiceVerdict *a,
           const ServiceVerdict *b)
{
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

static SignetdLogSummary *
summarize (SignetdLogs           *self,
           sqlite3_stmt          *stmt,
           const char            *data_dir,
           gint64                 now,
           GBytes               **out_log,
           SignetEventLogResult **out_result,
           gint64                *out_last_time,
           guint                 *out_rejected,
           GError               **error)
{
  g_autoptr(SignetdLogSummary) s = g_new0 (SignetdLogSummary, 1);
  gint64 rejected = sqlite3_column_int64 (stmt, 11);

  s->id = signetd_store_column_text (stmt, 0);
  s->kind = signetd_store_column_text (stmt, 1);
  s->technician = signetd_store_column_text (stmt, 2);
  s->started = sqlite3_column_int64 (stmt, 3);
  s->ended = sqlite3_column_type (stmt, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64 (stmt, 4);
  s->records = (guint64) sqlite3_column_int64 (stmt, 5);
  if (out_rejected != NULL)
    *out_rejected = (guint) rejected;

  if (g_str_equal (s->kind, "service"))
    {
      g_autofree char *file = signetd_store_column_text (stmt, 7);
      g_autofree char *path = NULL;
      g_autoptr(GBytes) sealed = signetd_store_column_bytes (stmt, 8);
      g_autoptr(GBytes) k0 = NULL;
      g_autoptr(GBytes) log = NULL;
      g_autoptr(SignetEventLogResult) result = NULL;
      g_autofree char *contents = NULL;
      gsize len = 0;
      ServiceVerdict before = { 0 }, after = { 0 };
      ServiceVerdict *cached;
      gboolean cacheable;

      if (file != NULL && strchr (file, '/') == NULL)
        path = g_build_filename (data_dir, SIGNETD_AUDIT_DIR, file, NULL);
      /* A search needs only the verdict: reuse it while the file is the
       * one that was verified. */
      cacheable = out_log == NULL && out_result == NULL && stat_verdict (path, &before);
      cached = cacheable ? g_hash_table_lookup (self->verdicts, s->id) : NULL;
      if (cached != NULL && same_file (cached, &before))
        {
          s->outcome = cached->outcome;
          s->records = cached->records;
          s->ended = cached->ended;
          if (out_last_time != NULL)
            *out_last_time = cached->last_time;
          goto devices;
        }
      k0 = open_k0 (self, s->kind, s->id, sealed, error);
      if (k0 == NULL)
        return NULL;
      if (path != NULL && g_file_get_contents (path, &contents, &len, NULL))
        log = g_bytes_new_take (g_steal_pointer (&contents), len);
      else
        log = g_bytes_new (NULL, 0);   /* a missing file is not an empty log: tampered below */
      result = signet_event_log_verify (log, k0);
      s->records = signet_event_log_result_get_n_records (result);
      switch (signet_event_log_result_get_verdict (result))
        {
        case SIGNET_EVENT_LOG_VERIFIED:
          s->outcome = SIGNETD_LOG_OUTCOME_VERIFIED;
          s->ended = (gint64) (signet_event_log_result_get_last_time (result) / 1000);
          break;
        case SIGNET_EVENT_LOG_TAMPERED:
        case SIGNET_EVENT_LOG_MALFORMED:
          s->outcome = SIGNETD_LOG_OUTCOME_TAMPERED;
          break;
        case SIGNET_EVENT_LOG_TRUNCATED:
        case SIGNET_EVENT_LOG_UNSEALED_TAIL:
        default:
          if (g_bytes_get_size (log) == 0)
            s->outcome = SIGNETD_LOG_OUTCOME_TAMPERED;
          else
            s->outcome = g_strcmp0 (self->live_audit, s->id) == 0 ? SIGNETD_LOG_OUTCOME_OPEN
                                                                  : SIGNETD_LOG_OUTCOME_INCOMPLETE;
          break;
        }
      after.last_time = signet_event_log_result_get_n_records (result) > 0
                          ? (gint64) (signet_event_log_result_get_last_time (result) / 1000)
                          : -1;
      if (out_last_time != NULL)
        *out_last_time = after.last_time;
      /* Cache it only if the file did not change while it was read. */
      if (cacheable && stat_verdict (path, &after) && same_file (&before, &after))
        {
          ServiceVerdict *v = g_memdup2 (&after, sizeof after);

          v->outcome = s->outcome;
          v->records = s->records;
          v->ended = s->ended;
          g_hash_table_replace (self->verdicts, g_strdup (s->id), v);
        }
      if (out_log != NULL)
        *out_log = g_steal_pointer (&log);
      if (out_result != NULL)
        *out_result = g_steal_pointer (&result);
    }
  else
    {
      gboolean live = sqlite3_column_type (stmt, 9) != SQLITE_NULL &&
                      sqlite3_column_int (stmt, 9) == 0 && now < sqlite3_column_int64 (stmt, 10);

      if (rejected > 0)
        s->outcome = SIGNETD_LOG_OUTCOME_TAMPERED;
      else if (sqlite3_column_int (stmt, 6) != 0)
        s->outcome = SIGNETD_LOG_OUTCOME_VERIFIED;
      else
        s->outcome = live ? SIGNETD_LOG_OUTCOME_OPEN : SIGNETD_LOG_OUTCOME_INCOMPLETE;
    }
devices:
  s->devices = load_devices (self, s->id, error);
  if (s->devices == NULL)
    return NULL;
  return g_steal_pointer (&s);
}

static gboolean
parse_cursor (const char  *cursor,
              gint64      *out_started,
              char       **out_id)
{
  g_autoptr(GBytes) raw = signet_base64url_decode (cursor, -1, 128, NULL);
  g_autofree char *text = NULL;
  const char *dot;
  char *end = NULL;

  if (raw == NULL)
    return FALSE;
  text = g_strndup (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  dot = strchr (text, '.');
  if (dot == NULL || !signetd_logs_id_is_valid (dot + 1))
    return FALSE;
  *out_started = g_ascii_strtoll (text, &end, 10);
  if (end != dot || end == text)
    return FALSE;
  *out_id = g_strdup (dot + 1);
  return TRUE;
}

GPtrArray *
signetd_logs_search (SignetdLogs              *self,
                     const SignetdLogsFilter  *filter,
                     gint64                    now,
                     char                    **out_next_cursor,
                     GError                  **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (
    (GDestroyNotify) signetd_log_summary_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *cursor_id = NULL;
  const char *data_dir = self->data_dir;
  gint64 cursor_started = 0;
  gboolean has_cursor = filter->cursor != NULL;
  int r;

  if (out_next_cursor != NULL)
    *out_next_cursor = NULL;
  if (has_cursor && !parse_cursor (filter->cursor, &cursor_started, &cursor_id))
    {
      g_set_error_literal (error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_INVALID,
                           "cursor: not one this service gave");
      return NULL;
    }
  stmt = signetd_store_prepare (self->store,
                                "SELECT " ROW_COLUMNS ROW_FROM
                                "WHERE (?1 IS NULL OR l.technician = ?1) "
                                "AND (?2 IS NULL OR EXISTS (SELECT 1 FROM log_devices d "
                                "     WHERE d.log_id = l.id AND d.device = ?2)) "
                                "AND (l.kind = 'service' OR l.last_time >= ?3) "
                                "AND l.started <= ?4 "
                                "AND (?5 = 0 OR l.started < ?6 OR (l.started = ?6 AND l.id < ?7)) "
                                "ORDER BY l.started DESC, l.id DESC", error);
  if (stmt == NULL ||
      !signetd_store_bind (self->store, stmt, error, "ttiiiit", filter->technician,
                           filter->device, filter->from, filter->to, (gint64) has_cursor,
                           cursor_started, cursor_id))
    return NULL;
  while ((r = signetd_store_step (self->store, stmt, error)) == 1)
    {
      g_autoptr(SignetdLogSummary) s = NULL;
      gint64 last_time = -1;

      if (out->len >= filter->limit)
        {
          SignetdLogSummary *last = g_ptr_array_index (out, out->len - 1);
          g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT ".%s", last->started,
                                                   last->id);

          if (out_next_cursor != NULL)
            *out_next_cursor = signet_base64url_encode ((const guint8 *) text, strlen (text));
          break;
        }
      s = summarize (self, stmt, data_dir, now, NULL, NULL, &last_time, NULL, error);
      if (s == NULL)
        return NULL;
      /* A service log's times are its records', known once verified. */
      if (g_str_equal (s->kind, "service") && last_time >= 0 && last_time < filter->from)
        continue;
      if (filter->has_outcome && s->outcome != filter->outcome)
        continue;
      g_ptr_array_add (out, g_steal_pointer (&s));
    }
  if (r < 0)
    return NULL;
  return g_steal_pointer (&out);
}

gboolean
signetd_logs_fetch (SignetdLogs           *self,
                    const char            *id,
                    gint64                 now,
                    GBytes               **out_log,
                    SignetEventLogResult **out_result,
                    SignetdLogSummary    **out_summary,
                    guint                 *out_rejected,
                    GError               **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(SignetdLogSummary) s = NULL;
  g_autoptr(GBytes) log = NULL;
  g_autoptr(SignetEventLogResult) result = NULL;
  const char *data_dir = self->data_dir;
  int r;

  stmt = signetd_store_prepare (self->store, "SELECT " ROW_COLUMNS ROW_FROM "WHERE l.id = ?",
                                error);
  if (stmt == NULL || !signetd_store_bind (self->store, stmt, error, "t", id) ||
      (r = signetd_store_step (self->store, stmt, error)) < 0)
    return FALSE;
  if (r == 0)
    {
      g_set_error (error, SIGNETD_LOGS_ERROR, SIGNETD_LOGS_ERROR_NOT_FOUND, "no log %s", id);
      return FALSE;
    }
  s = summarize (self, stmt, data_dir, now, &log, &result, NULL, out_rejected, error);
  if (s == NULL)
    return FALSE;
  if (g_str_equal (s->kind, "session"))
    {
      g_autoptr(GBytes) sealed = signetd_store_column_bytes (stmt, 8);
      g_autoptr(GBytes) k0 = open_k0 (self, s->kind, s->id, sealed, error);
      SignetEventLogVerdict verdict;

      if (k0 == NULL || (log = load_segments (self, id, error)) == NULL)
        return FALSE;
      /* Verified again, whole: what the database holds, not what it says. */
      result = signet_event_log_verify (log, k0);
      verdict = signet_event_log_result_get_verdict (result);
      if (verdict == SIGNET_EVENT_LOG_TAMPERED || verdict == SIGNET_EVENT_LOG_MALFORMED)
        s->outcome = SIGNETD_LOG_OUTCOME_TAMPERED;
    }
  *out_log = g_steal_pointer (&log);
  *out_result = g_steal_pointer (&result);
  *out_summary = g_steal_pointer (&s);
  return TRUE;
}
