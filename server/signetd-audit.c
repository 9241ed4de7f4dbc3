/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "signet-crypto.h"
#include "signet-eventlog.h"
#include "signet-secret.h"
#include "signetd-audit.h"
#include "sp-cbor.h"

struct _SignetdAudit {
  SignetdStore *store;   /* borrowed */
  char *id;
  char *path;
  SignetEventLog *log;
  /* What durability costs: appends and their time, for the log at close. */
  guint64 appends;
  gint64 total_us;
  gint64 max_us;
  guint64 syncs;         /* group commits (signetd_audit_sync) and their time */
  gint64 sync_us;
  gint64 sync_max_us;
  gboolean report;       /* a long-running writer: say what it cost at close */
};

G_DEFINE_QUARK (signetd-audit-error-quark, signetd_audit_error)

#define ID_RANDOM_LEN 4
/* An array member: a few digests or names, never more. */
#define ARRAY_MAX 64
#define ARRAY_CAP (ARRAY_MAX * 300)

static void
audit_free (SignetdAudit *self)
{
  g_clear_object (&self->log);
  g_free (self->id);
  g_free (self->path);
  g_free (self);
}

SignetdAudit *
signetd_audit_open (const char    *data_dir,
                    SignetdStore  *store,
                    SignetdKeys   *keys,
                    const char    *writer,
                    GError       **error)
{
  SignetdAudit *self;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree char *dir = g_build_filename (data_dir, SIGNETD_AUDIT_DIR, NULL);
  g_autofree char *file = NULL;
  g_autofree char *purpose = NULL;
  g_autoptr(GBytes) k0 = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 rnd[ID_RANDOM_LEN];
  guint8 key[SIGNET_EVENT_LOG_KEY_LEN];
  gint64 seconds = g_date_time_to_unix (now);

  g_return_val_if_fail (writer != NULL, NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, SIGNETD_AUDIT_ERROR, SIGNETD_AUDIT_ERROR_FAILED,
                   "audit log directory %s: %s", dir, g_strerror (saved));
      return NULL;
    }
  if (!signet_random_fill (rnd, sizeof rnd, error) ||
      !signet_random_fill (key, sizeof key, error))
    return NULL;
  k0 = signet_secret_bytes_new (key, sizeof key);
  signet_secret_wipe (key, sizeof key);

  self = g_new0 (SignetdAudit, 1);
  self->store = store;
  self->report = g_str_equal (writer, "serve");
  self->id = g_strdup_printf ("signetd-%s-%s-%02x%02x%02x%02x", writer, stamp, rnd[0], rnd[1],
                              rnd[2], rnd[3]);
  file = g_strconcat (self->id, SIGNETD_AUDIT_SUFFIX, NULL);
  self->path = g_build_filename (dir, file, NULL);

  /* The row first: a file whose K_0 is lost could never be verified. */
  purpose = g_strconcat ("audit-log-key:", self->id, NULL);
  sealed = signetd_keys_seal (keys, purpose, k0, error);
  if (sealed == NULL ||
      !signetd_store_run (store, NULL, error,
                          "INSERT INTO logs (id, kind, technician, started, last_time, file, "
                          "log_key, updated) VALUES (?, 'service', ?, ?, ?, ?, ?, ?)",
                          "ttiitBi", self->id, SIGNETD_AUDIT_ACTOR, seconds, seconds, file,
                          sealed, seconds))
    {
      audit_free (self);
      return NULL;
    }
  self->log = signet_event_log_create (self->path, k0, SIGNETD_AUDIT_ACTOR, self->id, NULL,
                                       &local_error);
  if (self->log == NULL)
    {
      g_set_error (error, SIGNETD_AUDIT_ERROR, SIGNETD_AUDIT_ERROR_FAILED, "audit log %s: %s",
                   self->path, local_error->message);
      (void) signetd_store_run (store, NULL, NULL, "DELETE FROM logs WHERE id = ?", "t",
                                self->id);
      audit_free (self);
      return NULL;
    }
  if (!signetd_audit_record (self, "audit.start", NULL, error, "tit", "writer", writer,
                             "pid", (gint64) getpid (), "version", PACKAGE_VERSION))
    {
      audit_free (self);
      return NULL;
    }
  return self;
}

/* A CBOR array of texts, for add_cbor. */
static GBytes *
text_array (const char * const *texts)
{
  g_autofree guint8 *buf = g_malloc (ARRAY_CAP);
  sp_cbor_writer w;
  size_t n = 0, len = 0;

  while (texts != NULL && texts[n] != NULL)
    n++;
  if (n > ARRAY_MAX)
    return NULL;
  sp_cbor_writer_init (&w, buf, ARRAY_CAP);
  sp_cbor_put_array (&w, n);
  for (size_t i = 0; i < n; i++)
    sp_cbor_put_textz (&w, texts[i]);
  if (sp_cbor_writer_finish (&w, &len) != SP_OK)
    return NULL;
  return g_bytes_new (buf, len);
}

gboolean
signetd_audit_record_valist (SignetdAudit  *self,
                             const char    *type,
                             const char    *device,
                             GError       **error,
                             const char    *fmt,
                             va_list        ap)
{
  g_autoptr(SignetEventData) data = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 start, took;

  if (self == NULL)
    return TRUE;
  data = signet_event_data_new ();
  for (const char *f = fmt != NULL ? fmt : ""; *f != '\0'; f++)
    {
      const char *name = va_arg (ap, const char *);
      gboolean ok;

      switch (*f)
        {
        case 't':
          {
            const char *value = va_arg (ap, const char *);

            ok = value != NULL ? signet_event_data_add_text (data, name, value, &local_error)
                               : signet_event_data_add_null (data, name, &local_error);
          }
          break;
        case 'i':
          ok = signet_event_data_add_int (data, name, va_arg (ap, gint64), &local_error);
          break;
        case 'x':
          {
            GBytes *value = va_arg (ap, GBytes *);

            ok = value != NULL ? signet_event_data_add_bytes (data, name, value, &local_error)
                               : signet_event_data_add_null (data, name, &local_error);
          }
          break;
        case 'a':
          {
            g_autoptr(GBytes) array = text_array (va_arg (ap, const char * const *));

            ok = array != NULL && signet_event_data_add_cbor (data, name, array, &local_error);
          }
          break;
        default:
          g_assert_not_reached ();
        }
      if (!ok)
        {
          g_set_error (error, SIGNETD_AUDIT_ERROR, SIGNETD_AUDIT_ERROR_WRITE,
                       "audit record %s: member %s: %s", type, name,
                       local_error != NULL ? local_error->message : "too large");
          return FALSE;
        }
    }

  start = g_get_monotonic_time ();
  if (!signet_event_log_append (self->log, type, device, data, &local_error))
    {
      g_set_error (error, SIGNETD_AUDIT_ERROR, SIGNETD_AUDIT_ERROR_WRITE,
                   "audit log %s: %s", self->id, local_error->message);
      return FALSE;
    }
  took = g_get_monotonic_time () - start;
  self->appends++;
  self->total_us += took;
  self->max_us = MAX (self->max_us, took);

  /* The device index of GET /v1/logs?device=; the record is durable
   * already, so an index that fails is only reported. */
  if (device != NULL &&
      !signetd_store_run (self->store, NULL, &local_error,
                          "INSERT OR IGNORE INTO log_devices (log_id, device) VALUES (?, ?)",
                          "tt", self->id, device))
    g_warning ("audit log %s: device index: %s", self->id, local_error->message);
  return TRUE;
}

gboolean
signetd_audit_record (SignetdAudit  *self,
                      const char    *type,
                      const char    *device,
                      GError       **error,
                      const char    *fmt,
                      ...)
{
  va_list ap;
  gboolean ok;

  va_start (ap, fmt);
  ok = signetd_audit_record_valist (self, type, device, error, fmt, ap);
  va_end (ap);
  return ok;
}

gboolean
signetd_audit_seal (SignetdAudit  *self,
                    GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  if (self == NULL || signet_event_log_is_closed (self->log))
    return TRUE;
  if (!signet_event_log_seal (self->log, &local_error))
    {
      g_set_error (error, SIGNETD_AUDIT_ERROR, SIGNETD_AUDIT_ERROR_WRITE, "audit log %s: %s",
                   self->id, local_error->message);
      return FALSE;
    }
  return TRUE;
}

void
signetd_audit_set_group_commit (SignetdAudit *self,
                                gboolean      group)
{
  if (self != NULL)
    signet_event_log_set_defer_sync (self->log, group);
}

gboolean
signetd_audit_sync (SignetdAudit  *self,
                    GError       **error)
{
  g_autoptr(GError) local_error = NULL;
  gint64 start, took;

  if (self == NULL)
    return TRUE;
  start = g_get_monotonic_time ();
  if (!signet_event_log_sync (self->log, &local_error))
    {
      g_set_error (error, SIGNETD_AUDIT_ERROR, SIGNETD_AUDIT_ERROR_WRITE, "audit log %s: %s",
                   self->id, local_error->message);
      return FALSE;
    }
  took = g_get_monotonic_time () - start;
  self->syncs++;
  self->sync_us += took;
  self->sync_max_us = MAX (self->sync_max_us, took);
  return TRUE;
}

const char *
signetd_audit_get_id (SignetdAudit *self)
{
  return self != NULL ? self->id : NULL;
}

void
signetd_audit_close (SignetdAudit *self)
{
  g_autoptr(GError) error = NULL;

  if (self == NULL)
    return;
  if (!signet_event_log_is_closed (self->log) && !signet_event_log_is_broken (self->log) &&
      !signet_event_log_close_session (self->log, &error))
    g_warning ("audit log %s: %s", self->id, error->message);
  if (self->report && self->appends > 0)
    g_message ("audit log %s: %" G_GUINT64_FORMAT " records, append mean %.2f ms, "
               "max %.2f ms; %" G_GUINT64_FORMAT " group syncs, mean %.2f ms, max %.2f ms",
               self->id, self->appends,
               (double) self->total_us / (double) self->appends / 1000.0,
               (double) self->max_us / 1000.0, self->syncs,
               self->syncs > 0 ? (double) self->sync_us / (double) self->syncs / 1000.0 : 0.0,
               (double) self->sync_max_us / 1000.0);
  audit_free (self);
}
