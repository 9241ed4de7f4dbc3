/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The offline upload queue of event logs: see signet-log-uploader.h and
 * docs/eventlog.md "Uploading".
 */
#include "config.h"

#include "signet-log-uploader.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "signet-service-error.h"

G_DEFINE_QUARK (signet-log-uploader-error-quark, signet_log_uploader_error)

#define STATE_GROUP "upload"
#define STATE_SUFFIX ".upload"

typedef struct {
  char *path;           /* the log, absolute */
  char *state_path;     /* its state file */
  SignetEventLog *live; /* (nullable) its writer */
  guint64 next_seq;     /* acknowledged records */
  GBytes *head;         /* (nullable) acknowledged chain head */
  char *session;        /* (nullable) the log's session (record 0), once read */
} Entry;

struct _SignetLogUploader
{
  GObject parent_instance;

  SignetServiceClient *client;
  SignetServiceSession *session;
  char *state_dir;
  char *watch_dir;
  GPtrArray *entries;    /* Entry, in the order queued */
  gboolean auto_retry;
  guint retry_delay;     /* ms of the next automatic retry; 0: none */
  guint retry_source;
  GMainContext *retry_context;
  guint next_delay;      /* back-off for the next failure */
  gboolean flushing;
  guint64 bytes_sent;
};

G_DEFINE_FINAL_TYPE (SignetLogUploader, signet_log_uploader, G_TYPE_OBJECT)

/* The retry source lives on the flush's context, not necessarily the
 * global default one, so it is found there. */
static void
clear_retry (SignetLogUploader *self)
{
  if (self->retry_source != 0)
    {
      GSource *source = g_main_context_find_source_by_id (self->retry_context,
                                                          self->retry_source);

      if (source != NULL)
        g_source_destroy (source);
      self->retry_source = 0;
    }
  g_clear_pointer (&self->retry_context, g_main_context_unref);
}

static void
entry_free (Entry *e)
{
  g_free (e->path);
  g_free (e->state_path);
  g_clear_object (&e->live);
  g_clear_pointer (&e->head, g_bytes_unref);
  g_free (e->session);
  g_free (e);
}

static void
signet_log_uploader_dispose (GObject *object)
{
  SignetLogUploader *self = SIGNET_LOG_UPLOADER (object);

  clear_retry (self);
  g_clear_object (&self->client);
  g_clear_pointer (&self->session, signet_service_session_unref);
  g_clear_pointer (&self->entries, g_ptr_array_unref);
  G_OBJECT_CLASS (signet_log_uploader_parent_class)->dispose (object);
}

static void
signet_log_uploader_finalize (GObject *object)
{
  SignetLogUploader *self = SIGNET_LOG_UPLOADER (object);

  g_free (self->state_dir);
  g_free (self->watch_dir);
  G_OBJECT_CLASS (signet_log_uploader_parent_class)->finalize (object);
}

static void
signet_log_uploader_class_init (SignetLogUploaderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signet_log_uploader_dispose;
  object_class->finalize = signet_log_uploader_finalize;
}

static void
signet_log_uploader_init (SignetLogUploader *self)
{
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  self->auto_retry = TRUE;
  self->next_delay = SIGNET_LOG_UPLOADER_RETRY_MIN_MS;
}

/* ---- state files ---------------------------------------------------------- */

static gboolean
entry_save (Entry   *e,
            GError **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *data = NULL;
  g_autofree char *head_hex = NULL;
  gsize len;

  g_key_file_set_string (kf, STATE_GROUP, "path", e->path);
  g_key_file_set_uint64 (kf, STATE_GROUP, "next_seq", e->next_seq);
  if (e->session != NULL)
    g_key_file_set_string (kf, STATE_GROUP, "session", e->session);
  if (e->head != NULL)
    {
      gsize n;
      const guint8 *h = g_bytes_get_data (e->head, &n);
      GString *s = g_string_sized_new (2 * n);

      for (gsize i = 0; i < n; i++)
        g_string_append_printf (s, "%02x", h[i]);
      head_hex = g_string_free (s, FALSE);
      g_key_file_set_string (kf, STATE_GROUP, "head", head_hex);
    }
  data = g_key_file_to_data (kf, &len, NULL);
  /* Temporary file, fsync, rename (and the directory synced by GLib's
   * DURABLE): a crash leaves the old state or the new one. */
  if (!g_file_set_contents_full (e->state_path, data, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, error))
    {
      g_prefix_error (error, "Could not write the upload state of %s: ", e->path);
      if (error != NULL && (*error)->domain != SIGNET_LOG_UPLOADER_ERROR)
        {
          GError *e2 = g_error_new_literal (SIGNET_LOG_UPLOADER_ERROR,
                                            SIGNET_LOG_UPLOADER_ERROR_IO, (*error)->message);
          g_clear_error (error);
          g_propagate_error (error, e2);
        }
      return FALSE;
    }
  return TRUE;
}

static GBytes *
hex_to_bytes (const char *hex)
{
  gsize n = strlen (hex);
  guint8 *out;

  if (n != 2 * SIGNET_EVENT_LOG_HASH_LEN)
    return NULL;
  out = g_malloc (n / 2);
  for (gsize i = 0; i < n / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        {
          g_free (out);
          return NULL;
        }
      out[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (out, n / 2);
}

/* A session id as the service makes and takes them ([A-Za-z0-9_-], 1 to
 * 64): safe in the query it goes in. */
static gboolean
is_session_id (const char *id)
{
  gsize len = id != NULL ? strlen (id) : 0;

  if (len == 0 || len > 64)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '-' && id[i] != '_')
      return FALSE;
  return TRUE;
}

/* The session record 0 names (docs/eventlog.md §2: session.start's
 * data "session"), or NULL if rec is not such a record. */
static char *
record_session (SignetEventRecord *rec)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *json = NULL;
  JsonNode *root, *member;

  if (signet_event_record_get_seq (rec) != 0 ||
      g_strcmp0 (signet_event_record_get_record_type (rec), "session.start") != 0)
    return NULL;
  json = signet_event_record_data_to_json (rec);
  parser = json_parser_new ();
  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  member = json_object_get_member (json_node_get_object (root), "session");
  if (member == NULL || !JSON_NODE_HOLDS_VALUE (member) ||
      json_node_get_value_type (member) != G_TYPE_STRING ||
      !is_session_id (json_node_get_string (member)))
    return NULL;
  return g_strdup (json_node_get_string (member));
}

/* The session of the log at path, from its record 0, or NULL while it
 * cannot be read (the next cut tries again). */
static char *
log_file_session (const char *path)
{
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new_for_path (path, NULL);
  g_autoptr(SignetEventRecord) rec = NULL;

  if (reader == NULL || !signet_event_log_reader_next (reader, &rec, NULL))
    return NULL;
  return record_session (rec);
}

static char *
state_path_for (SignetLogUploader *self,
                const char        *path)
{
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, path, -1);
  g_autofree char *name = NULL;

  digest[32] = '\0';
  name = g_strconcat (digest, STATE_SUFFIX, NULL);
  return g_build_filename (self->state_dir, name, NULL);
}

static Entry *
find_entry (SignetLogUploader *self,
            const char        *path)
{
  g_autofree char *abs = g_canonicalize_filename (path, NULL);

  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *e = g_ptr_array_index (self->entries, i);

      if (g_str_equal (e->path, abs))
        return e;
    }
  return NULL;
}

static gboolean
load_state_file (SignetLogUploader *self,
                 const char        *state_path,
                 GError           **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *path = NULL;
  g_autofree char *head = NULL;
  g_autofree char *session = NULL;
  g_autoptr(GError) local_error = NULL;
  Entry *e;

  if (!g_key_file_load_from_file (kf, state_path, G_KEY_FILE_NONE, &local_error) ||
      (path = g_key_file_get_string (kf, STATE_GROUP, "path", &local_error)) == NULL)
    {
      g_set_error (error, SIGNET_LOG_UPLOADER_ERROR, SIGNET_LOG_UPLOADER_ERROR_IO,
                   "Could not read the upload state %s: %s", state_path, local_error->message);
      return FALSE;
    }
  if (find_entry (self, path) != NULL)
    return TRUE;
  e = g_new0 (Entry, 1);
  e->path = g_steal_pointer (&path);
  e->state_path = g_strdup (state_path);
  e->next_seq = g_key_file_get_uint64 (kf, STATE_GROUP, "next_seq", NULL);
  head = g_key_file_get_string (kf, STATE_GROUP, "head", NULL);
  if (head != NULL)
    e->head = hex_to_bytes (head);
  /* State files of an uploader before ?session= have none: it is read
   * from the log again. */
  session = g_key_file_get_string (kf, STATE_GROUP, "session", NULL);
  if (is_session_id (session))
    e->session = g_steal_pointer (&session);
  if (e->next_seq > 0 && e->head == NULL)
    {
      g_set_error (error, SIGNET_LOG_UPLOADER_ERROR, SIGNET_LOG_UPLOADER_ERROR_IO,
                   "The upload state %s has no valid head", state_path);
      entry_free (e);
      return FALSE;
    }
  g_ptr_array_add (self->entries, e);
  return TRUE;
}

SignetLogUploader *
signet_log_uploader_new (SignetServiceClient  *client,
                         const char           *state_dir,
                         GError              **error)
{
  g_autoptr(SignetLogUploader) self = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (client), NULL);
  g_return_val_if_fail (state_dir != NULL, NULL);

  if (g_mkdir_with_parents (state_dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, SIGNET_LOG_UPLOADER_ERROR, SIGNET_LOG_UPLOADER_ERROR_IO,
                   "Could not create %s: %s", state_dir, g_strerror (errsv));
      return NULL;
    }
  self = g_object_new (SIGNET_TYPE_LOG_UPLOADER, NULL);
  self->client = g_object_ref (client);
  self->state_dir = g_canonicalize_filename (state_dir, NULL);

  dir = g_dir_open (self->state_dir, 0, error);
  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, STATE_SUFFIX))
      g_ptr_array_add (names, g_build_filename (self->state_dir, name, NULL));
  /* Same order at every start. */
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    if (!load_state_file (self, g_ptr_array_index (names, i), error))
      return NULL;
  return g_steal_pointer (&self);
}

void
signet_log_uploader_set_session (SignetLogUploader    *self,
                                 SignetServiceSession *session)
{
  g_return_if_fail (SIGNET_IS_LOG_UPLOADER (self));

  if (session != NULL)
    signet_service_session_ref (session);
  g_clear_pointer (&self->session, signet_service_session_unref);
  self->session = session;
}

gboolean
signet_log_uploader_add_log (SignetLogUploader *self,
                             const char        *path,
                             SignetEventLog    *live,
                             GError           **error)
{
  Entry *e;

  g_return_val_if_fail (SIGNET_IS_LOG_UPLOADER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  e = find_entry (self, path);
  if (e == NULL)
    {
      e = g_new0 (Entry, 1);
      e->path = g_canonicalize_filename (path, NULL);
      e->state_path = state_path_for (self, e->path);
      /* Which session the log belongs to is known from now on, even if
       * the session ends before anything reaches the service. */
      e->session = log_file_session (e->path);
      /* Queued is durable: the state file exists from now on. */
      if (!entry_save (e, error))
        {
          entry_free (e);
          return FALSE;
        }
      g_ptr_array_add (self->entries, e);
    }
  if (live != NULL)
    g_object_ref (live);
  g_clear_object (&e->live);
  e->live = live;
  return TRUE;
}

void
signet_log_uploader_watch_directory (SignetLogUploader *self,
                                     const char        *dir)
{
  g_return_if_fail (SIGNET_IS_LOG_UPLOADER (self));

  g_free (self->watch_dir);
  self->watch_dir = dir != NULL ? g_canonicalize_filename (dir, NULL) : NULL;
}

void
signet_log_uploader_set_auto_retry (SignetLogUploader *self,
                                    gboolean           auto_retry)
{
  g_return_if_fail (SIGNET_IS_LOG_UPLOADER (self));

  self->auto_retry = auto_retry;
  if (!auto_retry)
    {
      clear_retry (self);
      self->retry_delay = 0;
    }
}

guint
signet_log_uploader_get_retry_delay (SignetLogUploader *self)
{
  g_return_val_if_fail (SIGNET_IS_LOG_UPLOADER (self), 0);

  return self->retry_source != 0 ? self->retry_delay : 0;
}

/* ---- cutting segments ----------------------------------------------------- */

typedef struct {
  GBytes *file;        /* the whole file as read */
  gsize start;         /* byte offset of the first unacknowledged record */
  gsize end;           /* end of the segment (whole records, <= SEGMENT_MAX) */
  guint64 first_seq;   /* seq of the record at start */
  guint64 pending;     /* unacknowledged whole records in the file */
} Cut;

static void
cut_clear (Cut *cut)
{
  g_clear_pointer (&cut->file, g_bytes_unref);
}

/* Find the records after the acknowledged ones (from_seq: send from that
 * seq instead, to re-read the acknowledgement). */
static gboolean
cut_segment (Entry    *e,
             guint64   from_seq,
             Cut      *cut,
             GError  **error)
{
  g_autoptr(SignetEventLogReader) reader = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  gboolean found_start = (from_seq == 0);
  gboolean checked_head = (e->next_seq == 0);

  memset (cut, 0, sizeof *cut);
  if (e->live != NULL && !signet_event_log_is_closed (e->live) &&
      !signet_event_log_is_broken (e->live) && !signet_event_log_seal (e->live, error))
    return FALSE;
  if (!g_file_get_contents (e->path, &contents, &len, &local_error))
    {
      g_set_error (error, SIGNET_LOG_UPLOADER_ERROR, SIGNET_LOG_UPLOADER_ERROR_IO,
                   "Could not read the event log %s: %s", e->path, local_error->message);
      return FALSE;
    }
  cut->file = g_bytes_new_take (g_steal_pointer (&contents), len);
  reader = signet_event_log_reader_new (cut->file);
  cut->start = 0;
  cut->end = 0;
  cut->first_seq = from_seq;
  for (;;)
    {
      g_autoptr(SignetEventRecord) rec = NULL;
      guint64 seq, off, rec_end;

      /* A partial record at the end (a write in progress) ends the cut;
       * so does anything unreadable: only whole records go. */
      if (!signet_event_log_reader_next (reader, &rec, NULL))
        break;
      seq = signet_event_record_get_seq (rec);
      off = signet_event_record_get_offset (rec);
      if (seq == 0 && off == 0)
        {
          g_autofree char *session = record_session (rec);

          if (e->session != NULL && g_strcmp0 (session, e->session) != 0)
            {
              g_set_error (error, SIGNET_LOG_UPLOADER_ERROR, SIGNET_LOG_UPLOADER_ERROR_DIVERGED,
                           "The event log %s no longer starts the session it was queued for",
                           e->path);
              return FALSE;
            }
          if (e->session == NULL)
            e->session = g_steal_pointer (&session);
        }
      {
        g_autoptr(GBytes) raw = signet_event_record_dup_raw (rec);

        rec_end = off + g_bytes_get_size (raw);
      }
      if (e->next_seq > 0 && seq == e->next_seq - 1)
        {
          if (memcmp (signet_event_record_get_hash (rec), g_bytes_get_data (e->head, NULL),
                      SIGNET_EVENT_LOG_HASH_LEN) != 0)
            {
              g_set_error (error, SIGNET_LOG_UPLOADER_ERROR, SIGNET_LOG_UPLOADER_ERROR_DIVERGED,
                           "The event log %s differs from what the service acknowledged "
                           "(record %" G_GUINT64_FORMAT ")", e->path, seq);
              return FALSE;
            }
          checked_head = TRUE;
        }
      if (!found_start && seq == from_seq)
        {
          found_start = TRUE;
          cut->start = off;
          cut->end = off;
        }
      if (seq >= e->next_seq)
        cut->pending++;
      if (found_start && seq >= from_seq &&
          rec_end - cut->start <= SIGNET_SERVICE_LOG_SEGMENT_MAX && cut->end == off)
        cut->end = rec_end;
    }
  if (!checked_head)
    {
      g_set_error (error, SIGNET_LOG_UPLOADER_ERROR, SIGNET_LOG_UPLOADER_ERROR_DIVERGED,
                   "The event log %s is shorter than what the service acknowledged "
                   "(%" G_GUINT64_FORMAT " records)", e->path, e->next_seq);
      return FALSE;
    }
  if (!found_start)
    cut->start = cut->end = len;
  return TRUE;
}

/* ---- flush ---------------------------------------------------------------- */

typedef struct {
  GPtrArray *entries;    /* Entry (borrowed from self->entries, kept alive below) */
  guint index;
  gboolean from_zero;    /* cut the next segment from seq 0 (after a 409) */
  gboolean resent;       /* this log was resent from seq 0 once already */
  guint64 sent_from;
  gsize sent_len;
  GError *first_error;
  GCancellable *cancellable;
} Flush;

static void
flush_free (Flush *f)
{
  g_clear_pointer (&f->entries, g_ptr_array_unref);
  g_clear_error (&f->first_error);
  g_clear_object (&f->cancellable);
  g_free (f);
}

static void flush_step (GTask *task);
static gboolean retry_cb (gpointer data);

static gboolean
is_transient (const GError *error)
{
  return error->domain == SIGNET_SERVICE_ERROR &&
         (error->code == SIGNET_SERVICE_ERROR_UNREACHABLE ||
          error->code == SIGNET_SERVICE_ERROR_TIMEOUT ||
          error->code == SIGNET_SERVICE_ERROR_SERVER_ERROR ||
          error->code == SIGNET_SERVICE_ERROR_RATE_LIMITED);
}

static void
flush_fail_entry (GTask  *task,
                  GError *error)
{
  Flush *f = g_task_get_task_data (task);

  if (f->first_error == NULL)
    f->first_error = error;
  else
    g_error_free (error);
  f->index++;
  f->resent = FALSE;
  f->from_zero = FALSE;
  flush_step (task);
}

static void
upload_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetLogUploader *self = g_task_get_source_object (task);
  Flush *f = g_task_get_task_data (task);
  Entry *e = g_ptr_array_index (f->entries, f->index);
  g_autoptr(SignetServiceLogReceipt) receipt = NULL;
  GError *error = NULL;

  receipt = signet_service_client_logs_upload_finish (SIGNET_SERVICE_CLIENT (source), result,
                                                      &error);
  if (receipt == NULL)
    {
      if (g_error_matches (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CONFLICT) &&
          !f->resent && e->next_seq > 0)
        {
          /* Not where the service is: send from record 0, which the
           * service takes byte for byte up to what it holds and answers
           * with its acknowledgement. */
          g_debug ("upload of %s refused (%s): re-reading the acknowledgement", e->path,
                   error->message);
          g_error_free (error);
          f->resent = TRUE;
          f->from_zero = TRUE;
          e->next_seq = 0;
          g_clear_pointer (&e->head, g_bytes_unref);
          f->sent_from = 0;
          flush_step (task);
          return;
        }
      flush_fail_entry (task, error);
      return;
    }
  if (receipt->next_seq < f->sent_from || receipt->head == NULL ||
      g_bytes_get_size (receipt->head) != SIGNET_EVENT_LOG_HASH_LEN ||
      (e->session != NULL && g_strcmp0 (receipt->session, e->session) != 0))
    {
      flush_fail_entry (task, g_error_new (SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE,
                                           "The service acknowledged %" G_GUINT64_FORMAT
                                           " records of %s, fewer than sent or of "
                                           "another log",
                                           receipt->next_seq, e->path));
      return;
    }
  f->from_zero = FALSE;
  self->bytes_sent += f->sent_len;
  e->next_seq = receipt->next_seq;
  g_clear_pointer (&e->head, g_bytes_unref);
  e->head = g_bytes_ref (receipt->head);
  if (!entry_save (e, &error))
    {
      flush_fail_entry (task, error);
      return;
    }
  self->next_delay = SIGNET_LOG_UPLOADER_RETRY_MIN_MS;
  /* The same log again: more may be left (segments of at most 1 MiB). */
  flush_step (task);
}

static void
flush_step (GTask *task)
{
  SignetLogUploader *self = g_task_get_source_object (task);
  Flush *f = g_task_get_task_data (task);
  GError *error = NULL;

  while (f->index < f->entries->len)
    {
      Entry *e = g_ptr_array_index (f->entries, f->index);
      gboolean knew_session = e->session != NULL;
      Cut cut;
      g_autoptr(GBytes) segment = NULL;

      if (g_cancellable_set_error_if_cancelled (f->cancellable, &error))
        {
          flush_fail_entry (task, error);
          return;
        }
      if (!cut_segment (e, f->from_zero ? 0 : e->next_seq, &cut, &error) ||
          (!knew_session && e->session != NULL && !entry_save (e, &error)))
        {
          cut_clear (&cut);
          flush_fail_entry (task, error);
          return;
        }
      if (cut.end <= cut.start || (cut.pending == 0 && !f->from_zero))
        {
          cut_clear (&cut);
          f->index++;
          f->resent = FALSE;
          f->from_zero = FALSE;
          continue;
        }
      if (self->session == NULL)
        {
          cut_clear (&cut);
          flush_fail_entry (task, g_error_new_literal (SIGNET_SERVICE_ERROR,
                                                       SIGNET_SERVICE_ERROR_UNAUTHORIZED,
                                                       "No session to upload event logs with"));
          return;
        }
      f->sent_from = cut.first_seq;
      segment = g_bytes_new_from_bytes (cut.file, cut.start, cut.end - cut.start);
      f->sent_len = cut.end - cut.start;
      cut_clear (&cut);
      /* Each log to its own session: the current session's token
       * delivers the logs of the user's earlier sessions too. */
      signet_service_client_logs_upload_async (self->client, self->session, e->session, segment,
                                               f->cancellable, upload_done,
                                               g_object_ref (task));
      return;
    }
  self->flushing = FALSE;
  if (f->first_error != NULL)
    {
      if (self->auto_retry && is_transient (f->first_error))
        {
          clear_retry (self);
          self->retry_delay = self->next_delay;
          self->next_delay = MIN (self->next_delay * 2, SIGNET_LOG_UPLOADER_RETRY_MAX_MS);
          {
            g_autoptr(GSource) source = g_timeout_source_new (self->retry_delay);

            g_source_set_callback (source, retry_cb, self, NULL);
            g_source_set_static_name (source, "[signet] log upload retry");
            self->retry_context = g_main_context_ref (g_task_get_context (task));
            self->retry_source = g_source_attach (source, self->retry_context);
          }
        }
      g_task_return_error (task, g_steal_pointer (&f->first_error));
    }
  else
    {
      clear_retry (self);
      self->retry_delay = 0;
      g_task_return_boolean (task, TRUE);
    }
}

static void
scan_watch_dir (SignetLogUploader *self)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (self->watch_dir == NULL || (dir = g_dir_open (self->watch_dir, 0, NULL)) == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".log") && name[0] != '.')
      g_ptr_array_add (names, g_build_filename (self->watch_dir, name, NULL));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      const char *path = g_ptr_array_index (names, i);
      g_autoptr(GError) error = NULL;

      if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && find_entry (self, path) == NULL &&
          !signet_log_uploader_add_log (self, path, NULL, &error))
        g_warning ("%s", error->message);
    }
}

void
signet_log_uploader_flush_async (SignetLogUploader   *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Flush *f;

  g_return_if_fail (SIGNET_IS_LOG_UPLOADER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, signet_log_uploader_flush_async);
  if (self->flushing)
    {
      g_task_return_new_error (task, SIGNET_LOG_UPLOADER_ERROR, SIGNET_LOG_UPLOADER_ERROR_BUSY,
                               "The event logs are being uploaded already");
      return;
    }
  clear_retry (self);
  scan_watch_dir (self);
  f = g_new0 (Flush, 1);
  /* A copy of the queue, so that add_log during the flush is safe. */
  f->entries = g_ptr_array_sized_new (self->entries->len);
  for (guint i = 0; i < self->entries->len; i++)
    g_ptr_array_add (f->entries, g_ptr_array_index (self->entries, i));
  f->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  g_task_set_task_data (task, f, (GDestroyNotify) flush_free);
  self->flushing = TRUE;
  flush_step (task);
}

gboolean
signet_log_uploader_flush_finish (SignetLogUploader  *self,
                                  GAsyncResult       *result,
                                  GError            **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
retry_cb (gpointer data)
{
  SignetLogUploader *self = data;

  self->retry_source = 0;
  g_clear_pointer (&self->retry_context, g_main_context_unref);
  signet_log_uploader_flush_async (self, NULL, NULL, NULL);
  return G_SOURCE_REMOVE;
}

gint64
signet_log_uploader_get_acked (SignetLogUploader  *self,
                               const char         *path,
                               GBytes            **head)
{
  Entry *e;

  g_return_val_if_fail (SIGNET_IS_LOG_UPLOADER (self), -1);

  if (head != NULL)
    *head = NULL;
  e = find_entry (self, path);
  if (e == NULL)
    return -1;
  if (head != NULL && e->head != NULL)
    *head = g_bytes_ref (e->head);
  return (gint64) e->next_seq;
}

gint64
signet_log_uploader_get_pending (SignetLogUploader *self,
                                 const char        *path)
{
  Entry *e;
  Cut cut;
  gint64 pending;
  SignetEventLog *live;

  g_return_val_if_fail (SIGNET_IS_LOG_UPLOADER (self), -1);

  e = find_entry (self, path);
  if (e == NULL)
    return -1;
  /* Counting must not seal. */
  live = g_steal_pointer (&e->live);
  if (!cut_segment (e, e->next_seq, &cut, NULL))
    pending = -1;
  else
    pending = (gint64) cut.pending;
  e->live = live;
  cut_clear (&cut);
  return pending;
}

guint64
signet_log_uploader_get_bytes_sent (SignetLogUploader *self)
{
  g_return_val_if_fail (SIGNET_IS_LOG_UPLOADER (self), 0);

  return self->bytes_sent;
}
