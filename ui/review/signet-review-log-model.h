/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-review-log-model.h: an event log as a GListModel that reads
 * lazily (docs/review.md).
 *
 * One pass in a worker thread finds where each record starts, reading
 * CBOR heads only (signet_event_log_peek), and keeps 4 bytes per record;
 * items appear as the pass goes (items-changed on the main thread every
 * few tens of milliseconds). A record is decoded only when its item is
 * asked for (a row binds). The same pass counts events per minute and
 * category for the chart and notes where the device receipts are.
 */
#pragma once

#include <gio/gio.h>

#include "signet-eventlog.h"

G_BEGIN_DECLS

/* What the chart colours by, from the record's type. */
typedef enum {
  SIGNET_REVIEW_CATEGORY_SESSION,   /* session.* */
  SIGNET_REVIEW_CATEGORY_DEVICE,    /* device.* but the two below */
  SIGNET_REVIEW_CATEGORY_RECEIPT,   /* device.receipt */
  SIGNET_REVIEW_CATEGORY_ERROR,     /* *.error */
  SIGNET_REVIEW_CATEGORY_SEAL,      /* seal */
  SIGNET_REVIEW_CATEGORY_OTHER,
  SIGNET_REVIEW_N_CATEGORIES
} SignetReviewCategory;

SignetReviewCategory signet_review_category_for_type (const char *type,
                                                      gsize       len);

/* Events of one minute. */
typedef struct {
  gint64 minute;                                 /* time_ms / 60000 */
  guint32 counts[SIGNET_REVIEW_N_CATEGORIES];
} SignetReviewBucket;

/* ---- one row ---------------------------------------------------------------- */

#define SIGNET_TYPE_REVIEW_EVENT (signet_review_event_get_type ())
G_DECLARE_FINAL_TYPE (SignetReviewEvent, signet_review_event, SIGNET, REVIEW_EVENT, GObject)

guint              signet_review_event_get_position (SignetReviewEvent *self);
guint64            signet_review_event_get_offset   (SignetReviewEvent *self);
/* Returns: (transfer none) (nullable): NULL if the bytes there are not a record */
SignetEventRecord *signet_review_event_get_record   (SignetReviewEvent *self);
/* Why there is no record. Returns: (nullable) */
const char        *signet_review_event_get_problem  (SignetReviewEvent *self);
SignetReviewCategory signet_review_event_get_category (SignetReviewEvent *self);

/* ---- the model -------------------------------------------------------------- */

#define SIGNET_TYPE_REVIEW_LOG_MODEL (signet_review_log_model_get_type ())
G_DECLARE_FINAL_TYPE (SignetReviewLogModel, signet_review_log_model, SIGNET, REVIEW_LOG_MODEL,
                      GObject)

/* Index file (mapped read-only in the worker). Indexing starts at once;
 * "loading" is TRUE until it ends. Returns: (transfer full) */
SignetReviewLogModel *signet_review_log_model_new_for_file  (GFile  *file);
/* Index a log held in memory (one fetched from the service).
 * Returns: (transfer full) */
SignetReviewLogModel *signet_review_log_model_new_for_bytes (GBytes *log);

/* Properties (notified on the main thread): "loading" (gboolean),
 * "n-items" (guint), "histogram-serial" (guint, bumped when the
 * histogram or receipts change). */
gboolean      signet_review_log_model_get_loading    (SignetReviewLogModel *self);
/* Why loading stopped early (the file could not be read, or bytes that
 * are not records at offset get_end_offset). Returns: (nullable) */
const GError *signet_review_log_model_get_error      (SignetReviewLogModel *self);
/* Bytes indexed as whole records. */
guint64       signet_review_log_model_get_end_offset (SignetReviewLogModel *self);
/* The whole log (after loading started successfully).
 * Returns: (transfer none) (nullable) */
GBytes       *signet_review_log_model_get_bytes      (SignetReviewLogModel *self);
/* Returns: (transfer none) (nullable) */
GFile        *signet_review_log_model_get_file       (SignetReviewLogModel *self);
/* Returns: (transfer full) (nullable) */
SignetReviewEvent *signet_review_log_model_get_event (SignetReviewLogModel *self,
                                                      guint                 position);
guint64       signet_review_log_model_get_offset     (SignetReviewLogModel *self,
                                                      guint                 position);

/* Per-minute counts so far, sorted by minute. Returns: (transfer none) */
const SignetReviewBucket *signet_review_log_model_get_histogram (SignetReviewLogModel *self,
                                                                 guint                *n_buckets);
/* Events per category so far. */
guint64       signet_review_log_model_get_category_count (SignetReviewLogModel *self,
                                                          SignetReviewCategory  category);
/* Positions of device.receipt records so far. Returns: (transfer none) */
const guint  *signet_review_log_model_get_receipts   (SignetReviewLogModel *self,
                                                      guint                *n_receipts);
/* time_ms of the first and last records indexed (0 when none). */
guint64       signet_review_log_model_get_first_time (SignetReviewLogModel *self);
guint64       signet_review_log_model_get_last_time  (SignetReviewLogModel *self);
/* Bytes the index and histogram hold (for the benchmark). */
gsize         signet_review_log_model_get_index_size (SignetReviewLogModel *self);

/* A model of the receipts of a log model: its items are the log model's
 * SignetReviewEvents at the receipt positions; it follows as the log
 * model indexes. Returns: (transfer full) */
GListModel   *signet_review_log_model_dup_receipts_model (SignetReviewLogModel *self);

G_END_DECLS
