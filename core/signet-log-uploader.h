/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The offline upload queue of event logs (DESIGN §3, docs/eventlog.md
 * "Uploading"): per log a small state file holds what the service
 * acknowledged (next_seq and head of the last POST /v1/logs answer)
 * and the log's session, written atomically; flush uploads the
 * unacknowledged tail of each log to its own session as segments of
 * whole records, and on a transient failure (service
 * unreachable, timeout, 5xx, 429) retries with back-off. Nothing is
 * lost (the file stays the source of truth) and nothing is duplicated
 * (the service takes overlapping records byte for byte; a 409 makes the
 * uploader re-read the acknowledgement by sending the log from seq 0).
 */
#pragma once

#include <gio/gio.h>

#include "signet-eventlog.h"
#include "signet-service-client.h"

G_BEGIN_DECLS

#define SIGNET_LOG_UPLOADER_ERROR (signet_log_uploader_error_quark ())
GQuark signet_log_uploader_error_quark (void);

typedef enum {
  SIGNET_LOG_UPLOADER_ERROR_IO,         /* the state dir or a log could not be read or written */
  SIGNET_LOG_UPLOADER_ERROR_DIVERGED,   /* the local log no longer matches what was acknowledged */
  SIGNET_LOG_UPLOADER_ERROR_BUSY,       /* a flush is already running */
} SignetLogUploaderError;

/* First and largest retry delay after a transient failure (ms). */
#define SIGNET_LOG_UPLOADER_RETRY_MIN_MS 1000
#define SIGNET_LOG_UPLOADER_RETRY_MAX_MS (5 * 60 * 1000)

#define SIGNET_TYPE_LOG_UPLOADER (signet_log_uploader_get_type ())
G_DECLARE_FINAL_TYPE (SignetLogUploader, signet_log_uploader, SIGNET, LOG_UPLOADER, GObject)

/* An uploader keeping its state files in state_dir (created 0700 if
 * missing). Existing state files are loaded: their logs are queued again.
 * Returns: (transfer full) (nullable) */
SignetLogUploader *signet_log_uploader_new           (SignetServiceClient  *client,
                                                      const char           *state_dir,
                                                      GError              **error);
/* The session whose token uploads. Each log goes to its own session,
 * the one its record 0 names (kept in the state file): the current
 * session's token delivers the logs of the same user's earlier sessions
 * too (POST /v1/logs?session=, docs/api.md), signed out or not. A log of
 * another user's session fails with SIGNET_SERVICE_ERROR_NOT_FOUND and
 * stays queued for that user. */
void               signet_log_uploader_set_session   (SignetLogUploader    *self,
                                                      SignetServiceSession *session);
/* Queue the log at path (absolute or relative; stored absolute). live
 * (nullable) is the writer of a log still being written: it is sealed
 * before each segment is cut. Adding a log twice is a no-op (live is
 * updated). */
gboolean           signet_log_uploader_add_log       (SignetLogUploader    *self,
                                                      const char           *path,
                                                      SignetEventLog       *live,
                                                      GError              **error);
/* Queue every regular file of dir whose name ends in ".log" at each
 * flush (nullable: stop watching). */
void               signet_log_uploader_watch_directory (SignetLogUploader  *self,
                                                        const char         *dir);
/* Automatic retries after a transient failure, with exponential back-off
 * from SIGNET_LOG_UPLOADER_RETRY_MIN_MS (doubling, capped at _MAX_MS) on
 * the thread-default main context of the flush. On by default. */
void               signet_log_uploader_set_auto_retry (SignetLogUploader   *self,
                                                       gboolean             auto_retry);
/* The delay of the next automatic retry in ms, 0 when none is scheduled. */
guint              signet_log_uploader_get_retry_delay (SignetLogUploader  *self);

/* Upload the unacknowledged tail of every queued log. Fails with the
 * service client's error (SIGNET_SERVICE_ERROR_UNREACHABLE when the
 * service is down: the logs stay queued) at the first log that fails;
 * the other logs are still tried. */
void               signet_log_uploader_flush_async   (SignetLogUploader    *self,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
gboolean           signet_log_uploader_flush_finish  (SignetLogUploader    *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

/* What the service acknowledged for the log at path: its next_seq (0:
 * nothing yet, -1: not queued) and, when head is not NULL, its chain
 * head (transfer full, NULL before the first acknowledgement). */
gint64             signet_log_uploader_get_acked     (SignetLogUploader    *self,
                                                      const char           *path,
                                                      GBytes              **head);
/* Records of the log at path not yet acknowledged (whole records on disk
 * after the acknowledged ones), or -1 if it is not queued or unreadable. */
gint64             signet_log_uploader_get_pending   (SignetLogUploader    *self,
                                                      const char           *path);

/* Bytes of segments the service accepted through this object (for tests
 * and statistics: a tail is sent once). */
guint64            signet_log_uploader_get_bytes_sent (SignetLogUploader   *self);

G_END_DECLS
