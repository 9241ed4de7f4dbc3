/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-log-open.c: opening a 1,000,000-event log for review (issue 6,
 * DESIGN §9: "opens in under 3 s and scrolls smoothly").
 *
 * Generates a sealed, closed log of N events (default 1,000,000; argv[1]
 * overrides) with a realistic mix (hello, attest, apply with a digest,
 * device receipts with a ~140-byte receipt, bulk progress, errors), one
 * event every 20 ms, writes it once to a temporary file (not timed), then
 * prints, in the same run over the same warm file:
 *
 *   raw read          g_file_get_contents of the file (the floor of any reader)
 *   verification      core's signet_event_log_verify_file with K_0
 *   chain check       signet_event_log_check_chain (keyless, what the app runs)
 *   model: first rows time from signet_review_log_model_new_for_file to
 *                     the first items-changed, plus decoding 40 rows
 *   model: indexed    time until every record is indexed ("loading" FALSE)
 *   memory/record     the model's index + histogram bytes per record
 *   row decode        a random row's record decoded (what binding costs)
 *   chart             folding the histogram into 200 bars
 *
 * Medians of 5 runs. Numbers only: nothing here fails on time.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "signet-eventlog-chain.h"
#include "signet-review-chart.h"
#include "signet-review-log-model.h"

#define RUNS 5

static guint64
fake_clock (gpointer data)
{
  guint64 *t = data;

  *t += 20;
  return *t;
}

static GBytes *
random_bytes (gsize n)
{
  guint8 *p = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    p[i] = (guint8) g_random_int ();
  return g_bytes_new_take (p, n);
}

static GBytes *
generate (guint   n_events,
          GBytes *k0)
{
  g_autoptr(GBytes) digest = random_bytes (32);
  g_autoptr(GBytes) receipt = random_bytes (140);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetEventLog) log = NULL;
  guint64 t = 1700000000000;
  SignetEventLogOptions opts = { .clock = fake_clock, .clock_data = &t };
  char device[32];

  log = signet_event_log_new_in_memory (k0, "alice", "bench-session", &opts, &error);
  g_assert_no_error (error);
  for (guint i = 1; i + 2 < n_events; i++)
    {
      g_autoptr(SignetEventData) data = signet_event_data_new ();
      const char *type;

      g_snprintf (device, sizeof device, "SN-%06u", (i / 50) % 1000);
      switch (i % 10)
        {
        case 0:
          type = "device.hello";
          signet_event_data_add_text (data, "model", "gw-200", NULL);
          signet_event_data_add_text (data, "firmware", "1.4.2", NULL);
          signet_event_data_add_uint (data, "config_version", i, NULL);
          break;
        case 1:
          type = "device.attest";
          signet_event_data_add_bool (data, "verified", TRUE, NULL);
          signet_event_data_add_bytes (data, "chain_sha256", digest, NULL);
          break;
        case 2:
        case 3:
        case 4:
          type = "device.apply";
          signet_event_data_add_text (data, "op", "config.set", NULL);
          signet_event_data_add_uint (data, "seq", i, NULL);
          signet_event_data_add_bytes (data, "args_sha256", digest, NULL);
          break;
        case 5:
        case 6:
          type = "device.receipt";
          signet_event_data_add_uint (data, "op", 1 + i % 3, NULL);
          signet_event_data_add_uint (data, "seq", i, NULL);
          signet_event_data_add_uint (data, "committed_version", i / 10, NULL);
          signet_event_data_add_uint (data, "pending_version", i / 10 + 1, NULL);
          signet_event_data_add_bytes (data, "config_digest", digest, NULL);
          signet_event_data_add_bytes (data, "receipt", receipt, NULL);
          break;
        case 7:
        case 8:
          type = "device.bulk";
          signet_event_data_add_uint (data, "offset", (guint64) i * 4096, NULL);
          signet_event_data_add_uint (data, "size", 1 << 20, NULL);
          break;
        default:
          type = i % 1000 == 9 ? "device.error" : "session.step_up";
          signet_event_data_add_text (data, "message", "link dropped; resumed", NULL);
          break;
        }
      if (!signet_event_log_append (log, type, type[0] == 'd' ? device : NULL, data, &error))
        g_error ("%s", error->message);
    }
  if (!signet_event_log_close_session (log, &error))
    g_error ("%s", error->message);
  return signet_event_log_dup_contents (log);
}

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (double *v)
{
  qsort (v, RUNS, sizeof *v, cmp_double);
  return v[RUNS / 2];
}

static double
now_s (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

typedef struct {
  double t0, first, done;
  SignetReviewLogModel *model;
  GMainLoop *loop;
} OpenRun;

static void
on_items_changed (GListModel *list,
                  guint       position,
                  guint       removed,
                  guint       added,
                  OpenRun    *run)
{
  if (run->first == 0)
    {
      /* What a GtkListView does for a first screen: decode 40 rows. */
      for (guint i = 0; i < MIN (40, added); i++)
        g_object_unref (g_list_model_get_item (list, i));
      run->first = now_s ();
    }
}

static void
on_loading (SignetReviewLogModel *model,
            GParamSpec           *pspec,
            OpenRun              *run)
{
  if (!signet_review_log_model_get_loading (model))
    {
      run->done = now_s ();
      g_main_loop_quit (run->loop);
    }
}

int
main (int    argc,
      char **argv)
{
  guint n_events = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 1000000;
  g_autoptr(GBytes) k0 = random_bytes (32);
  g_autoptr(GBytes) log = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  double raw[RUNS], verify[RUNS], chain[RUNS], first[RUNS], indexed[RUNS], decode[RUNS],
         chart[RUNS];
  double mb, t;
  gsize size;
  guint n_records = 0;
  gsize index_size = 0;
  int fd;

  setlocale (LC_ALL, "");
  t = now_s ();
  log = generate (n_events, k0);
  size = g_bytes_get_size (log);
  mb = (double) size / 1e6;
  fd = g_file_open_tmp ("bench-log-open-XXXXXX.log", &path, &error);
  g_assert_no_error (error);
  close (fd);
  if (!g_file_set_contents (path, g_bytes_get_data (log, NULL), (gssize) size, &error))
    g_error ("%s", error->message);
  file = g_file_new_for_path (path);
  printf ("log-open: %u events, %.1f MB (%.0f B/record), generated in %.1f s (not counted)\n",
          n_events, mb, (double) size / n_events, now_s () - t);

  for (int r = 0; r < RUNS; r++)
    {
      g_autofree char *contents = NULL;
      g_autoptr(SignetEventLogResult) result = NULL;
      g_autoptr(SignetEventLogChainResult) cr = NULL;
      g_autoptr(GMappedFile) mapped = NULL;
      g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
      OpenRun run = { 0 };
      gsize len;
      const SignetReviewBucket *b;
      guint n_b, n_bars;
      gint64 first_minute, per;

      t = now_s ();
      if (!g_file_get_contents (path, &contents, &len, &error))
        g_error ("%s", error->message);
      raw[r] = now_s () - t;

      t = now_s ();
      result = signet_event_log_verify_file (path, k0, &error);
      g_assert_no_error (error);
      verify[r] = now_s () - t;
      g_assert_cmpint (signet_event_log_result_get_verdict (result), ==, SIGNET_EVENT_LOG_VERIFIED);

      t = now_s ();
      mapped = g_mapped_file_new (path, FALSE, &error);
      g_assert_no_error (error);
      cr = signet_event_log_check_chain ((const guint8 *) g_mapped_file_get_contents (mapped),
                                         g_mapped_file_get_length (mapped), NULL);
      chain[r] = now_s () - t;
      g_assert_cmpint (cr->verdict, ==, SIGNET_EVENT_LOG_VERIFIED);

      run.loop = loop;
      t = run.t0 = now_s ();
      run.model = signet_review_log_model_new_for_file (file);
      g_signal_connect (run.model, "items-changed", G_CALLBACK (on_items_changed), &run);
      g_signal_connect (run.model, "notify::loading", G_CALLBACK (on_loading), &run);
      g_main_loop_run (loop);
      first[r] = run.first - run.t0;
      indexed[r] = run.done - run.t0;
      n_records = g_list_model_get_n_items (G_LIST_MODEL (run.model));
      index_size = signet_review_log_model_get_index_size (run.model);
      g_assert_cmpuint (n_records, ==, cr->n_records);
      g_assert_null (signet_review_log_model_get_error (run.model));

      t = now_s ();
      for (guint i = 0; i < 10000; i++)
        g_object_unref (g_list_model_get_item (G_LIST_MODEL (run.model),
                                               g_random_int_range (0, (gint32) n_records)));
      decode[r] = (now_s () - t) / 10000;

      t = now_s ();
      b = signet_review_log_model_get_histogram (run.model, &n_b);
      g_free (signet_review_chart_compute_bars (b, n_b, 200, &n_bars, &first_minute, &per));
      chart[r] = now_s () - t;
      g_object_unref (run.model);
    }

  printf ("log-open: raw read (g_file_get_contents)   %7.3f s  %6.0f MB/s\n",
          median (raw), mb / median (raw));
  printf ("log-open: core verification (K_0, keyed)  %7.3f s  %6.0f MB/s  %.2f of raw read\n",
          median (verify), mb / median (verify), median (raw) / median (verify));
  printf ("log-open: chain check (keyless, app)      %7.3f s  %6.0f MB/s  %.2f of raw read\n",
          median (chain), mb / median (chain), median (raw) / median (chain));
  printf ("log-open: model, first rows (+40 decoded) %7.4f s\n", median (first));
  printf ("log-open: model, all %u records indexed   %7.3f s  %6.0f MB/s  %.2f of raw read\n",
          n_records, median (indexed), mb / median (indexed), median (raw) / median (indexed));
  printf ("log-open: model memory                    %zu bytes, %.2f bytes/record\n",
          index_size, (double) index_size / n_records);
  printf ("log-open: row decode (random, on bind)    %7.2f us/row\n", median (decode) * 1e6);
  printf ("log-open: chart, histogram to 200 bars    %7.4f ms\n", median (chart) * 1e3);
  g_unlink (path);
  return 0;
}
