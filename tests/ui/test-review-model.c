/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-review-model.c: the Review view's lazy log model and the keyless
 * chain check (no display needed).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "signet-eventlog-chain.h"
#include "signet-review-log-model.h"

static const guint8 k0_bytes[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31 };

static guint64
fake_clock (gpointer data)
{
  guint64 *t = data;

  *t += 7000;   /* several minutes' buckets */
  return *t;
}

/* A closed log of n appended events (plus session.start, session.end and
 * seals) with a receipt every 5th, sealed every 8. */
static GBytes *
make_log (guint n)
{
  g_autoptr(GBytes) k0 = g_bytes_new_static (k0_bytes, sizeof k0_bytes);
  g_autoptr(GBytes) receipt = g_bytes_new_static ("receipt-bytes", 13);
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(GError) error = NULL;
  guint64 t = 1700000000000;
  SignetEventLogOptions opts = { .seal_interval = 8, .clock = fake_clock, .clock_data = &t };

  log = signet_event_log_new_in_memory (k0, "alice", "s-1", &opts, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SignetEventData) data = signet_event_data_new ();

      signet_event_data_add_text (data, "note", "abcdefgh", NULL);
      if (i % 5 == 4)
        {
          signet_event_data_add_uint (data, "op", 1, NULL);
          signet_event_data_add_bytes (data, "receipt", receipt, NULL);
        }
      g_assert_true (signet_event_log_append (log, i % 5 == 4 ? "device.receipt" : "device.apply",
                                              "SN-1", data, &error));
    }
  g_assert_true (signet_event_log_close_session (log, &error));
  return signet_event_log_dup_contents (log);
}

/* Byte offsets of the records of log. */
static GArray *
offsets_of (GBytes *log)
{
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (log);
  GArray *offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  SignetEventRecord *record;
  gsize pos = 0;

  while (signet_event_log_reader_next (reader, &record, NULL))
    {
      g_autoptr(GBytes) raw = signet_event_record_dup_raw (record);

      g_array_append_val (offsets, pos);
      pos += g_bytes_get_size (raw);
      signet_event_record_unref (record);
    }
  return offsets;
}

static GBytes *
edit (GBytes *log,
      gsize   cut_from,
      gsize   cut_to)    /* remove [cut_from, cut_to) */
{
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, p, (guint) cut_from);
  g_byte_array_append (out, p + cut_to, (guint) (len - cut_to));
  return g_byte_array_free_to_bytes (out);
}

static SignetEventLogChainResult *
check (GBytes *log)
{
  return signet_event_log_check_chain (g_bytes_get_data (log, NULL), g_bytes_get_size (log),
                                       NULL);
}

static void
test_chain_valid (void)
{
  g_autoptr(GBytes) log = make_log (40);
  g_autoptr(SignetEventLogChainResult) r = check (log);

  g_assert_cmpint (r->verdict, ==, SIGNET_EVENT_LOG_VERIFIED);
  g_assert_cmpint (r->reason, ==, SIGNET_EVENT_LOG_REASON_NONE);
  g_assert_cmpint (r->index, ==, -1);
  g_assert_cmpstr (r->session_id, ==, "s-1");
  g_assert_cmpstr (r->actor, ==, "alice");
  g_assert_cmpuint (r->n_seals, ==, 6);   /* 42 records / 8, + the final seal */
}

static void
test_chain_empty (void)
{
  g_autoptr(SignetEventLogChainResult) r = signet_event_log_check_chain (NULL, 0, NULL);

  g_assert_cmpint (r->verdict, ==, SIGNET_EVENT_LOG_TRUNCATED);
  g_assert_cmpint (r->reason, ==, SIGNET_EVENT_LOG_REASON_EMPTY);
}

static void
test_chain_removed (void)
{
  g_autoptr(GBytes) log = make_log (40);
  g_autoptr(GArray) off = offsets_of (log);
  g_autoptr(GBytes) cut = edit (log, g_array_index (off, gsize, 10), g_array_index (off, gsize, 11));
  g_autoptr(SignetEventLogChainResult) r = check (cut);

  g_assert_cmpint (r->verdict, ==, SIGNET_EVENT_LOG_TAMPERED);
  g_assert_cmpint (r->reason, ==, SIGNET_EVENT_LOG_REASON_SEQ_GAP);
  g_assert_cmpint (r->index, ==, 10);
  g_assert_cmpint (r->seq, ==, 11);
  g_assert_cmpint (r->offset, ==, (gint64) g_array_index (off, gsize, 10));
}

static void
test_chain_changed (void)
{
  g_autoptr(GBytes) log = make_log (40);
  g_autoptr(GArray) off = offsets_of (log);
  gsize len;
  guint8 *p = g_memdup2 (g_bytes_get_data (log, &len), g_bytes_get_size (log));
  g_autoptr(GBytes) changed = NULL;
  g_autoptr(SignetEventLogChainResult) r = NULL;
  guint8 *hit;

  /* "abcdefgh" of record 12 becomes "abcdefgX": still a record, so the
   * next record's prev_hash no longer matches. */
  hit = NULL;
  for (gsize i = g_array_index (off, gsize, 12); hit == NULL && i + 8 <= len; i++)
    if (memcmp (p + i, "abcdefgh", 8) == 0)
      hit = p + i;
  g_assert_nonnull (hit);
  hit[7] = 'X';
  changed = g_bytes_new_take (p, len);
  r = check (changed);
  g_assert_cmpint (r->verdict, ==, SIGNET_EVENT_LOG_TAMPERED);
  g_assert_cmpint (r->reason, ==, SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN);
  g_assert_cmpint (r->index, ==, 13);
}

static void
test_chain_truncated (void)
{
  g_autoptr(GBytes) log = make_log (40);
  g_autoptr(GArray) off = offsets_of (log);
  gsize len = g_bytes_get_size (log);
  g_autoptr(GBytes) cut = edit (log, g_array_index (off, gsize, 20) + 5, len);
  g_autoptr(GBytes) whole = edit (log, g_array_index (off, gsize, 20), len);
  g_autoptr(SignetEventLogChainResult) r = check (cut);
  g_autoptr(SignetEventLogChainResult) r2 = check (whole);

  g_assert_cmpint (r->verdict, ==, SIGNET_EVENT_LOG_TRUNCATED);
  g_assert_cmpint (r->reason, ==, SIGNET_EVENT_LOG_REASON_PARTIAL_RECORD);
  g_assert_cmpint (r->index, ==, 20);
  /* Cut at a record boundary: records after the last seal, or a log
   * ending at a seal without session.end. */
  g_assert_cmpint (r2->verdict, !=, SIGNET_EVENT_LOG_VERIFIED);
}

/* Every truncation and every single-byte change of a small log: the
 * keyless check gives the verifier's verdict, reason and record, except
 * where only the key can tell (seal-mac, where it must say less). */
static void
test_chain_matches_verifier (void)
{
  g_autoptr(GBytes) log = make_log (12);
  g_autoptr(GBytes) k0 = g_bytes_new_static (k0_bytes, sizeof k0_bytes);
  gsize len = g_bytes_get_size (log);
  const guint8 *src = g_bytes_get_data (log, NULL);

  for (gsize i = 0; i < len; i++)
    {
      for (int pass = 0; pass < 2; pass++)
        {
          g_autoptr(GBytes) bad = NULL;
          g_autoptr(SignetEventLogResult) v = NULL;
          g_autoptr(SignetEventLogChainResult) c = NULL;

          if (pass == 0)
            bad = g_bytes_new (src, i);
          else
            {
              guint8 *p = g_memdup2 (src, len);

              p[i] ^= 0x01;
              bad = g_bytes_new_take (p, len);
            }
          v = signet_event_log_verify (bad, k0);
          c = check (bad);
          g_assert_cmpint (signet_event_log_result_get_verdict (v), !=, SIGNET_EVENT_LOG_VERIFIED);
          if (signet_event_log_result_get_reason (v) == SIGNET_EVENT_LOG_REASON_SEAL_MAC)
            {
              /* The chain may still be consistent; if not, the fault it
               * names comes later than the seal that failed. */
              g_assert_true (c->verdict == SIGNET_EVENT_LOG_VERIFIED ||
                             c->index > signet_event_log_result_get_index (v));
              continue;
            }
          g_assert_cmpint (c->verdict, ==, signet_event_log_result_get_verdict (v));
          g_assert_cmpint (c->reason, ==, signet_event_log_result_get_reason (v));
          g_assert_cmpint (c->index, ==, signet_event_log_result_get_index (v));
          g_assert_cmpint (c->offset, ==, signet_event_log_result_get_offset (v));
        }
    }
}

static void
test_peek (void)
{
  static const guint8 not_array[] = { 0x01 };
  static const guint8 partial[] = { 0x87, 0x00 };
  g_autoptr(GBytes) log = make_log (3);
  gsize len = 0, type_len = 0;
  guint64 time_ms = 0;
  const char *type = NULL;

  g_assert_cmpint (signet_event_log_peek (not_array, 1, &len, &time_ms, &type, &type_len), ==,
                   SIGNET_EVENT_LOG_PEEK_INVALID);
  g_assert_cmpint (signet_event_log_peek (partial, 2, &len, &time_ms, &type, &type_len), ==,
                   SIGNET_EVENT_LOG_PEEK_PARTIAL);
  g_assert_cmpint (signet_event_log_peek (g_bytes_get_data (log, NULL), g_bytes_get_size (log),
                                          &len, &time_ms, &type, &type_len), ==,
                   SIGNET_EVENT_LOG_PEEK_OK);
  g_assert_cmpmem (type, type_len, "session.start", 13);
  g_assert_cmpuint (time_ms, ==, 1700000007000);
}

/* ---- the model ----------------------------------------------------------- */

typedef struct {
  guint changes;
  guint total;
  GMainLoop *loop;
} Watch;

static void
on_changed (GListModel *list,
            guint       position,
            guint       removed,
            guint       added,
            Watch      *w)
{
  g_assert_cmpuint (removed, ==, 0);
  g_assert_cmpuint (position, ==, w->total);   /* only appends, in order */
  w->total += added;
  w->changes++;
}

static void
on_loading (SignetReviewLogModel *model,
            GParamSpec           *pspec,
            Watch                *w)
{
  if (!signet_review_log_model_get_loading (model))
    g_main_loop_quit (w->loop);
}

static SignetReviewLogModel *
load (GFile *file,
      GBytes *bytes,
      Watch  *w)
{
  SignetReviewLogModel *model = file != NULL ? signet_review_log_model_new_for_file (file)
                                             : signet_review_log_model_new_for_bytes (bytes);

  w->loop = g_main_loop_new (NULL, FALSE);
  g_assert_true (signet_review_log_model_get_loading (model));
  g_signal_connect (model, "items-changed", G_CALLBACK (on_changed), w);
  g_signal_connect (model, "notify::loading", G_CALLBACK (on_loading), w);
  g_main_loop_run (w->loop);
  g_main_loop_unref (w->loop);
  return model;
}

static GFile *
write_tmp (GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("test-review-XXXXXX.log", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      (gssize) g_bytes_get_size (bytes), &error));
  return g_file_new_for_path (path);
}

static void
test_model_index (void)
{
  g_autoptr(GBytes) log = make_log (3000);
  g_autoptr(GArray) off = offsets_of (log);
  g_autoptr(GFile) file = write_tmp (log);
  g_autoptr(SignetReviewLogModel) model = NULL;
  const SignetReviewBucket *b;
  const guint *receipts;
  guint n_b, n_r, n;
  guint64 sum = 0;
  Watch w = { 0 };

  model = load (file, NULL, &w);
  n = g_list_model_get_n_items (G_LIST_MODEL (model));
  g_assert_cmpuint (n, ==, off->len);
  g_assert_cmpuint (w.total, ==, n);
  g_assert_null (signet_review_log_model_get_error (model));
  g_assert_cmpuint (signet_review_log_model_get_end_offset (model), ==, g_bytes_get_size (log));
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (model)) == SIGNET_TYPE_REVIEW_EVENT);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (model), n));

  for (guint i = 0; i < n; i += 97)
    {
      g_autoptr(SignetReviewEvent) e = g_list_model_get_item (G_LIST_MODEL (model), i);

      g_assert_cmpuint (signet_review_event_get_offset (e), ==, g_array_index (off, gsize, i));
      g_assert_nonnull (signet_review_event_get_record (e));
      g_assert_cmpuint (signet_event_record_get_seq (signet_review_event_get_record (e)), ==, i);
    }

  b = signet_review_log_model_get_histogram (model, &n_b);
  g_assert_cmpuint (n_b, >, 1);
  for (guint i = 0; i < n_b; i++)
    {
      if (i > 0)
        g_assert_cmpint (b[i].minute, >, b[i - 1].minute);
      for (guint c = 0; c < SIGNET_REVIEW_N_CATEGORIES; c++)
        sum += b[i].counts[c];
    }
  g_assert_cmpuint (sum, ==, n);
  receipts = signet_review_log_model_get_receipts (model, &n_r);
  g_assert_cmpuint (n_r, ==, 600);
  g_assert_cmpuint (signet_review_log_model_get_category_count (model,
                                                                SIGNET_REVIEW_CATEGORY_RECEIPT),
                    ==, 600);
  for (guint i = 0; i < n_r; i += 50)
    {
      g_autoptr(SignetReviewEvent) e = signet_review_log_model_get_event (model, receipts[i]);

      g_assert_cmpstr (signet_event_record_get_record_type (signet_review_event_get_record (e)),
                       ==, "device.receipt");
    }
  {
    g_autoptr(GListModel) rm = signet_review_log_model_dup_receipts_model (model);

    g_assert_cmpuint (g_list_model_get_n_items (rm), ==, 600);
  }
  g_assert_cmpuint (signet_review_log_model_get_index_size (model), <, (gsize) n * 8 + 300000);
  g_file_delete (file, NULL, NULL);
}

static void
test_model_malformed_tail (void)
{
  g_autoptr(GBytes) log = make_log (50);
  g_autoptr(GArray) off = offsets_of (log);
  GByteArray *buf = g_byte_array_new ();
  g_autoptr(GBytes) bad = NULL;
  g_autoptr(SignetReviewLogModel) model = NULL;
  Watch w = { 0 };

  g_byte_array_append (buf, g_bytes_get_data (log, NULL), (guint) g_bytes_get_size (log));
  g_byte_array_append (buf, (const guint8 *) "\xff\xfe junk", 7);
  bad = g_byte_array_free_to_bytes (buf);
  model = load (NULL, bad, &w);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, off->len);
  g_assert_error (signet_review_log_model_get_error (model), SIGNET_EVENT_LOG_ERROR,
                  SIGNET_EVENT_LOG_ERROR_MALFORMED);
  g_assert_cmpuint (signet_review_log_model_get_end_offset (model), ==, g_bytes_get_size (log));
}

static void
test_model_missing_file (void)
{
  g_autoptr(GFile) file = g_file_new_for_path ("/nonexistent/signet/test.log");
  g_autoptr(SignetReviewLogModel) model = NULL;
  Watch w = { 0 };

  model = load (file, NULL, &w);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 0);
  g_assert_nonnull (signet_review_log_model_get_error (model));
  g_assert_null (signet_review_log_model_get_bytes (model));
}

static void
test_model_dispose_while_loading (void)
{
  g_autoptr(GBytes) log = make_log (20000);

  for (int i = 0; i < 20; i++)
    {
      SignetReviewLogModel *model = signet_review_log_model_new_for_bytes (log);

      if (i % 2)
        g_main_context_iteration (NULL, FALSE);
      g_object_unref (model);
    }
  /* Let the workers finish and their idles run against dead models. */
  for (int i = 0; i < 200; i++)
    {
      g_usleep (1000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/review/chain/valid", test_chain_valid);
  g_test_add_func ("/signet/review/chain/empty", test_chain_empty);
  g_test_add_func ("/signet/review/chain/removed", test_chain_removed);
  g_test_add_func ("/signet/review/chain/changed", test_chain_changed);
  g_test_add_func ("/signet/review/chain/truncated", test_chain_truncated);
  g_test_add_func ("/signet/review/chain/matches-verifier", test_chain_matches_verifier);
  g_test_add_func ("/signet/review/peek", test_peek);
  g_test_add_func ("/signet/review/model/index", test_model_index);
  g_test_add_func ("/signet/review/model/malformed-tail", test_model_malformed_tail);
  g_test_add_func ("/signet/review/model/missing-file", test_model_missing_file);
  g_test_add_func ("/signet/review/model/dispose-while-loading",
                   test_model_dispose_while_loading);
  return g_test_run ();
}
