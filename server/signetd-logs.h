/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-logs.h: uploaded event logs (DESIGN §6, docs/eventlog.md,
 * docs/api.md "Logs") and the search over them and the service's own
 * audit logs.
 *
 * A session's log arrives in segments (POST /v1/logs, from that session
 * or, with ?session=, from a later session of the same user: the seals
 * verify only with the log's own session's K_0). For each log the
 * service keeps a row in `logs` with core's verifier state after the
 * last accepted record (serialized and sealed under the master key,
 * purpose "log-state:ID": it holds the current epoch key), the chain
 * head, next seq and last sealed seq in clear for the answers, and the
 * accepted segments in `log_segments`. A new segment is fed to a
 * verifier resumed from that state, so it must continue the stored chain
 * exactly (first seq = next seq, prev_hash = head) and every seal in it
 * must verify with the session's key schedule from K_0. It is stored
 * with the new state in one transaction, or refused and kept aside in
 * `rejected_segments` (reason, message, bytes) -- never merged:
 *
 *  - MALFORMED (400): not whole, well-formed records (also a partial
 *    record at the end);
 *  - CONFLICT (409): a gap, an overlap whose bytes differ from what is
 *    stored, a broken chain, a seal that fails, a log of another session
 *    or actor, anything after the final seal.
 *
 * A segment whose records are all stored already, byte for byte, is a
 * retry: it is answered as the segment was (`repeated`), and an overlap
 * that is byte-identical and goes further is accepted from the first new
 * record on.
 *
 * Borrows store and keys; main-loop thread only, like the store.
 */
#pragma once

#include <glib.h>

#include "signet-eventlog.h"
#include "signetd-keys.h"
#include "signetd-store.h"

G_BEGIN_DECLS

#define SIGNETD_LOGS_ERROR (signetd_logs_error_quark ())
GQuark signetd_logs_error_quark (void);

typedef enum {
  SIGNETD_LOGS_ERROR_FAILED,      /* the database or the crypto library */
  SIGNETD_LOGS_ERROR_MALFORMED,   /* not whole well-formed records (400) */
  SIGNETD_LOGS_ERROR_CONFLICT,    /* does not continue the stored log (409) */
  SIGNETD_LOGS_ERROR_NOT_FOUND,   /* no such log (404) */
  SIGNETD_LOGS_ERROR_INVALID,     /* a bad search parameter or cursor (400) */
} SignetdLogsError;

#define SIGNETD_LOGS_SEGMENT_MAX (1024 * 1024)
#define SIGNETD_LOGS_SEARCH_MAX 200
#define SIGNETD_LOGS_CONTENT_TYPE "application/cbor-seq"
#define SIGNETD_LOGS_HEAD_CONTENT_TYPE "application/signet-log-head+cbor"
/* Refused segments kept whole per log; later ones keep their digest only,
 * so one session cannot fill the disk. */
#define SIGNETD_LOGS_REJECTED_KEEP 32

typedef struct _SignetdLogs SignetdLogs;

/* What an accepted (or repeated) segment leaves the log at. */
typedef struct {
  char *log_id;
  guint64 first_seq;          /* the segment's first record */
  guint64 records;            /* records in the segment */
  guint64 next_seq;           /* records in the log = the next seq */
  guint8 head[32];            /* chain head after the segment */
  gint64 sealed_seq;          /* last verified seal's seq, -1: none */
  gboolean complete;          /* session.end and its final seal are in */
  gboolean repeated;          /* a retry of stored records: nothing was added */
} SignetdLogsAccepted;

void signetd_logs_accepted_free (SignetdLogsAccepted *accepted);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdLogsAccepted, signetd_logs_accepted_free)

typedef enum {
  SIGNETD_LOG_OUTCOME_VERIFIED,     /* complete: session.end and its final seal verified */
  SIGNETD_LOG_OUTCOME_TAMPERED,     /* a segment was refused for it, or it does not verify */
  SIGNETD_LOG_OUTCOME_INCOMPLETE,   /* will not be completed: its session or writer is over */
  SIGNETD_LOG_OUTCOME_OPEN,         /* may still grow: session (or service run) live */
} SignetdLogOutcome;

const char *signetd_log_outcome_to_string   (SignetdLogOutcome outcome);
gboolean    signetd_log_outcome_from_string (const char        *text,
                                             SignetdLogOutcome *out);

typedef struct {
  char *id;
  char *kind;                 /* "session" or "service" */
  char *technician;
  gint64 started;             /* seconds */
  gint64 ended;               /* seconds, -1: not ended */
  guint64 records;
  SignetdLogOutcome outcome;
  GStrv devices;              /* sorted */
} SignetdLogSummary;

void signetd_log_summary_free (SignetdLogSummary *summary);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdLogSummary, signetd_log_summary_free)

typedef struct {
  const char *technician;     /* nullable: any */
  const char *device;         /* nullable: any */
  gint64 from;                /* seconds; G_MININT64: no bound */
  gint64 to;                  /* seconds; G_MAXINT64: no bound */
  gboolean has_outcome;
  SignetdLogOutcome outcome;
  guint limit;                /* 1..SIGNETD_LOGS_SEARCH_MAX */
  const char *cursor;         /* nullable: from the newest */
} SignetdLogsFilter;

/* data_dir: where DATA_DIR/audit/ is. Returns: (transfer full) */
SignetdLogs *signetd_logs_new   (SignetdStore  *store,
                                 SignetdKeys   *keys,
                                 const char    *data_dir);
void         signetd_logs_free  (SignetdLogs   *self);

/* The id of the service's audit log being written by this process
 * (nullable): it is "open", not "incomplete", while unsealed. */
void         signetd_logs_set_live_audit (SignetdLogs  *self,
                                          const char   *id);

/* Whether session (the log to upload to) is a session of the same
 * account as token_session (the token's): TRUE for token_session itself.
 * NOT_FOUND for an unknown session and for another user's alike, so
 * that the answer does not tell whether another user's session exists
 * (docs/api.md, POST /v1/logs?session=). */
gboolean     signetd_logs_check_session_owner (SignetdLogs  *self,
                                               const char   *session,
                                               const char   *token_session,
                                               GError      **error);

/* Feed segment to the log of session (whose user is user) and store it.
 * On MALFORMED or CONFLICT the segment is kept aside and *out_reason
 * (nullable) says why in one word (core's reason names, "overlap",
 * "another-session", "another-actor", "partial-record", "empty").
 * Returns: (transfer full) (nullable) */
SignetdLogsAccepted *signetd_logs_ingest (SignetdLogs  *self,
                                          const char   *session,
                                          const char   *user,
                                          GBytes       *segment,
                                          gint64        now,
                                          char        **out_reason,
                                          GError      **error);

/* The countersignature of a chain head: a tagged COSE_Sign1 by the
 * current authority key, content type SIGNETD_LOGS_HEAD_CONTENT_TYPE,
 * over {1: log id, 2: next seq, 3: head (bstr 32), 4: sealed seq,
 * 5: now}. Returns: (transfer full) (nullable) */
GBytes      *signetd_logs_countersign (SignetdLogs                *self,
                                       const SignetdLogsAccepted  *accepted,
                                       gint64                      now,
                                       GError                    **error);

/* Search, newest first. *out_next_cursor (nullable) is set when more
 * may follow. Returns: (transfer full) (element-type SignetdLogSummary) (nullable) */
GPtrArray   *signetd_logs_search (SignetdLogs              *self,
                                  const SignetdLogsFilter  *filter,
                                  gint64                    now,
                                  char                    **out_next_cursor,
                                  GError                  **error);

/* The whole stored log of id, verified again from K_0: *out_log its
 * bytes, *out_result the verdict, *out_summary what search would say.
 * NOT_FOUND for an unknown id. */
gboolean     signetd_logs_fetch  (SignetdLogs           *self,
                                  const char            *id,
                                  gint64                 now,
                                  GBytes               **out_log,
                                  SignetEventLogResult **out_result,
                                  SignetdLogSummary    **out_summary,
                                  guint                 *out_rejected,
                                  GError               **error);

/* A well-formed log id ([A-Za-z0-9_-], 1 to 64 characters). */
gboolean     signetd_logs_id_is_valid (const char *id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetdLogs, signetd_logs_free)

G_END_DECLS
