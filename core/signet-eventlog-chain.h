/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-eventlog-chain.h: what can be checked of an event log without
 * its key K_0, and fast access to a log's records for a viewer.
 *
 * Only the service holds K_0, so a reviewer's machine cannot verify a
 * log's seals. It can still check everything else of docs/eventlog.md
 * §5: that every record is well formed, that seqs count up, that each
 * record chains to the one before it, the grammar (session.start first,
 * at most seal_interval records per epoch, session.end then the final
 * seal) and the epoch number each seal claims. A log that passes is
 * *consistent*, not authentic: whoever rewrote it could re-make the
 * chain, and only the seals (checked by the service) catch that. So the
 * verdict SIGNET_EVENT_LOG_VERIFIED here means "consistent and complete,
 * seals not checked"; every other verdict and reason means what it means
 * for the keyed verifier, with the same first failing record.
 *
 * The index functions find record boundaries reading CBOR heads only, so
 * that a viewer can list a million records before decoding any of them.
 */
#pragma once

#include "signet-eventlog.h"

G_BEGIN_DECLS

typedef struct {
  SignetEventLogVerdict verdict;   /* VERIFIED: consistent and complete, seals unchecked */
  SignetEventLogReason reason;
  gint64 index;          /* the record the verdict is about, -1: the log as a whole */
  gint64 seq;            /* the seq it claims, -1: unreadable */
  gint64 offset;         /* its byte offset, -1 */
  guint64 n_records;     /* records that passed */
  guint64 n_seals;
  gint64 last_seal_seq;  /* the last seal that passed (its MAC unchecked), -1 */
  char *session_id;      /* nullable: from record 0 */
  char *actor;           /* nullable */
  char *message;         /* a sentence for people */
} SignetEventLogChainResult;

void signet_event_log_chain_result_free (SignetEventLogChainResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetEventLogChainResult, signet_event_log_chain_result_free)

/* Check data[0..len) as a whole log without the key (see above). May run
 * in any thread; cancellable is checked every few thousand records (a
 * cancelled check returns NULL).
 * Returns: (transfer full) (nullable) */
SignetEventLogChainResult *signet_event_log_check_chain (const guint8 *data,
                                                         gsize         len,
                                                         GCancellable *cancellable);

typedef enum {
  SIGNET_EVENT_LOG_PEEK_OK,        /* a record of *out_len bytes (heads checked only) */
  SIGNET_EVENT_LOG_PEEK_PARTIAL,   /* the bytes end inside a record */
  SIGNET_EVENT_LOG_PEEK_INVALID,   /* not a record */
} SignetEventLogPeek;

/* Where the record at p[0..avail) ends, and its time_ms and type (a view
 * into p, not NUL-terminated), reading CBOR heads only: the index pass
 * of a viewer. The record is NOT strictly decoded: decode it with
 * signet_event_log_record_new_at before showing more. */
SignetEventLogPeek signet_event_log_peek (const guint8  *p,
                                          gsize          avail,
                                          gsize         *out_len,
                                          guint64       *out_time_ms,
                                          const char   **out_type,
                                          gsize         *out_type_len);

/* Decode the one record at offset of log (strictly, as the reader does).
 * The record is read from a slice that starts at offset, so its own
 * signet_event_record_get_offset() is 0: the caller knows the offset.
 * Returns: (transfer full) (nullable): NULL with error MALFORMED */
SignetEventRecord *signet_event_log_record_new_at (GBytes  *log,
                                                   gsize    offset,
                                                   GError **error);

G_END_DECLS
