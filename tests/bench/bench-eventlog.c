/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-eventlog: event log throughput, each number next to a baseline
 * measured in the same run on the same bytes. Prints; asserts nothing.
 *
 *   verify a 100,000-record log (one pass: decode, chain, seals, key
 *     evolution) vs raw SHA-256 (EVP_Digest) over the same bytes in one
 *     call -- DESIGN §9 asks for >= 50 % -- and vs EVP_Digest record by
 *     record (the hashing the format itself requires);
 *   append to a log in memory (encoding, hashing, sealing);
 *   append to a file (the same plus write + fdatasync per record, which
 *     is what a caller waits for before reporting a step done).
 */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>

#include "signet-eventlog.h"

#define N_RECORDS 100000
#define RUNS 5

static guint64
bench_clock (gpointer user_data)
{
  guint64 *t = user_data;

  return 1700000000000 + 250 * (*t)++;
}

/* A realistic record mix: mostly applies with a receipt and digests. */
static SignetEventData *
record_data (guint i)
{
  static guint8 receipt[180];
  static guint8 digest[32];
  SignetEventData *data = signet_event_data_new ();
  g_autoptr(GBytes) r = g_bytes_new_static (receipt, sizeof receipt);
  g_autoptr(GBytes) d = g_bytes_new_static (digest, sizeof digest);

  digest[0] = (guint8) i;
  receipt[0] = (guint8) (i >> 8);
  switch (i % 4)
    {
    case 0:
      signet_event_data_add_text (data, "fw", "1.4.2", NULL);
      signet_event_data_add_bytes (data, "nonce", d, NULL);
      break;
    case 3:
      signet_event_data_add_uint (data, "version", i, NULL);
      break;
    default:
      signet_event_data_add_text (data, "op", "config.set", NULL);
      signet_event_data_add_uint (data, "seq", i, NULL);
      signet_event_data_add_bytes (data, "args_sha256", d, NULL);
      signet_event_data_add_bytes (data, "receipt", r, NULL);
      break;
    }
  return data;
}

static const char * const types[] = { "device.hello", "device.apply", "device.apply", "device.commit" };

static GBytes *
build_log (GBytes *k0,
           guint   n)
{
  g_autoptr(SignetEventLog) log = NULL;
  guint64 tick = 0;
  SignetEventLogOptions options = { 0, bench_clock, &tick };

  log = signet_event_log_new_in_memory (k0, "alice", "bench-session", &options, NULL);
  g_assert (log != NULL);
  /* Leave room for session.start, session.end and the seals. */
  while (signet_event_log_get_next_seq (log) < n - 2)
    {
      g_autoptr(SignetEventData) data = record_data ((guint) signet_event_log_get_next_seq (log));

      if (!signet_event_log_append (log, types[signet_event_log_get_next_seq (log) % 4],
                                    "SN-000042", data, NULL))
        g_error ("append failed");
    }
  if (!signet_event_log_close_session (log, NULL))
    g_error ("close failed");
  return signet_event_log_dup_contents (log);
}

static double
seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

int
main (int argc, char **argv)
{
  static const guint8 k[32] = { 42 };
  g_autoptr(GBytes) k0 = g_bytes_new_static (k, sizeof k);
  g_autoptr(GBytes) log = NULL;
  g_autoptr(SignetEventLogReader) reader = NULL;
  g_autoptr(GArray) bounds = g_array_new (FALSE, FALSE, sizeof (gsize));
  const guint8 *p;
  gsize len;
  double best_verify = G_MAXDOUBLE, best_raw = G_MAXDOUBLE, best_per_record = G_MAXDOUBLE;
  guint64 n_records = 0;
  SignetEventRecord *rec;

  log = build_log (k0, N_RECORDS);
  p = g_bytes_get_data (log, &len);
  reader = signet_event_log_reader_new (log);
  while (signet_event_log_reader_next (reader, &rec, NULL))
    {
      gsize off = signet_event_record_get_offset (rec);

      g_array_append_val (bounds, off);
      signet_event_record_unref (rec);
    }
  g_array_append_val (bounds, len);

  for (int run = 0; run < RUNS; run++)
    {
      g_autoptr(SignetEventLogResult) r = NULL;
      guint8 md[32];
      gint64 start;
      double t;

      start = g_get_monotonic_time ();
      r = signet_event_log_verify (log, k0);
      t = seconds_since (start);
      if (signet_event_log_result_get_verdict (r) != SIGNET_EVENT_LOG_VERIFIED)
        g_error ("benchmark log does not verify: %s", signet_event_log_result_get_message (r));
      n_records = signet_event_log_result_get_n_records (r);
      best_verify = MIN (best_verify, t);

      start = g_get_monotonic_time ();
      if (EVP_Digest (p, len, md, NULL, EVP_sha256 (), NULL) != 1)
        g_error ("EVP_Digest failed");
      best_raw = MIN (best_raw, seconds_since (start));

      start = g_get_monotonic_time ();
      for (guint i = 0; i + 1 < bounds->len; i++)
        {
          gsize a = g_array_index (bounds, gsize, i), b = g_array_index (bounds, gsize, i + 1);

          if (EVP_Digest (p + a, b - a, md, NULL, EVP_sha256 (), NULL) != 1)
            g_error ("EVP_Digest failed");
        }
      best_per_record = MIN (best_per_record, seconds_since (start));
    }

  g_print ("event log: %" G_GUINT64_FORMAT " records, %" G_GSIZE_FORMAT " bytes (%.0f B/record), "
           "best of %d runs\n", n_records, len, (double) len / (double) n_records, RUNS);
  g_print ("%-34s %9.1f MB/s %11.0f records/s\n", "verify (one pass)",
           (double) len / best_verify / 1e6, (double) n_records / best_verify);
  g_print ("%-34s %9.1f MB/s   ratio %.2f (DESIGN sec. 9 target: >= 0.50)\n",
           "baseline: raw SHA-256, one call", (double) len / best_raw / 1e6, best_raw / best_verify);
  g_print ("%-34s %9.1f MB/s   ratio %.2f\n", "baseline: SHA-256 per record",
           (double) len / best_per_record / 1e6, best_per_record / best_verify);

  /* Appends in memory: encoding, hashing and sealing, no I/O. */
  {
    gint64 start = g_get_monotonic_time ();
    g_autoptr(GBytes) again = build_log (k0, 20000);
    double t = seconds_since (start);

    g_print ("%-34s %9.0f records/s  (%" G_GSIZE_FORMAT " bytes)\n", "append, in memory",
             20000 / t, g_bytes_get_size (again));
  }

  /* Appends to a file: each one on stable storage before it returns. */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp ("signet-bench-XXXXXX", &error);
    g_autofree char *path = NULL;
    g_autoptr(SignetEventLog) flog = NULL;
    guint n = 0;
    gint64 start;
    double t;

    g_assert_no_error (error);
    path = g_build_filename (dir, "bench.log", NULL);
    flog = signet_event_log_create (path, k0, "alice", "bench-session", NULL, &error);
    g_assert_no_error (error);
    start = g_get_monotonic_time ();
    do
      {
        g_autoptr(SignetEventData) data = record_data (n);

        if (!signet_event_log_append (flog, types[n % 4], "SN-000042", data, &error))
          g_error ("append: %s", error->message);
        n++;
      }
    while ((t = seconds_since (start)) < 1.0 && n < 5000);
    g_print ("%-34s %9.0f records/s  (%.2f ms each, in %s)\n", "append + fdatasync, file",
             n / t, t * 1000 / n, dir);
    g_clear_object (&flog);
    g_unlink (path);
    g_rmdir (dir);
  }
  return 0;
}
