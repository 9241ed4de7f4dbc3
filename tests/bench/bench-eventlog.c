/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-eventlog: event log throughput, each number next to a baseline
 * measured in the same run on the same bytes. Prints; asserts nothing.
 *
 *   verify a 100,000-record log (one pass: decode, chain, seals, key
 *     evolution) vs two baselines over the same bytes (DESIGN §9 asks for
 *     >= 50 %; docs/eventlog.md §5 says which one that is judged against):
 *       - SHA-256 record by record, one reused EVP_MD_CTX: the hashing the
 *         format itself requires, done the way the verifier does it;
 *       - SHA-256 over the whole file in one EVP_Digest call;
 *   append to a log in memory (encoding, hashing, sealing);
 *   append to a file with fdatasync per record (what a caller waits for
 *     before reporting a step done), and with set_defer_sync and one sync
 *     per GROUP records (signetd's group commit), each next to a plain
 *     write + fdatasync loop of the same record bytes to a plain file.
 *
 * This 2-vCPU machine's speed drifts by a third from one second to the
 * next, so each number and its baseline are measured in alternating short
 * slices, and what is printed is the median of the slices (and the median
 * of the per-slice ratios, with their range).
 *
 *   bench-eventlog --verify-only SECONDS   verify in a loop (for perf)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/evp.h>

#include "signet-eventlog.h"

#define N_RECORDS 100000
#define ROUNDS 9              /* slices per measurement (odd: a median) */
#define SLICE 0.15            /* seconds per slice */
#define IO_ROUNDS 5
#define IO_SLICE 0.4
#define GROUP 64              /* records per sync with set_defer_sync */
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

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

static void
append_one (SignetEventLog *log,
            guint           i)
{
  g_autoptr(SignetEventData) data = record_data (i);
  g_autoptr(GError) error = NULL;

  if (!signet_event_log_append (log, types[i % 4], "SN-000042", data, &error))
    g_error ("append: %s", error->message);
}

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
    append_one (log, (guint) signet_event_log_get_next_seq (log));
  if (!signet_event_log_close_session (log, NULL))
    g_error ("close failed");
  return signet_event_log_dup_contents (log);
}

static double
now_s (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

static int
cmp_double (gconstpointer a,
            gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *v,
        guint   n)
{
  qsort (v, n, sizeof v[0], cmp_double);
  return v[n / 2];
}

/* ---- verification ---------------------------------------------------------- */

typedef struct {
  GBytes *log;
  GBytes *k0;
  const guint8 *p;
  gsize len;
  GArray *bounds;      /* record offsets, then len */
  EVP_MD *md;
  EVP_MD_CTX *ctx;
} VerifyBench;

/* Bytes per second of whole passes over the log during about `seconds`. */
static double
verify_rate (VerifyBench *b,
             double       seconds)
{
  double start = now_s (), t;
  guint n = 0;

  do
    {
      g_autoptr(SignetEventLogResult) r = signet_event_log_verify (b->log, b->k0);

      if (signet_event_log_result_get_verdict (r) != SIGNET_EVENT_LOG_VERIFIED)
        g_error ("benchmark log does not verify: %s", signet_event_log_result_get_message (r));
      n++;
    }
  while ((t = now_s () - start) < seconds);
  return (double) b->len * n / t;
}

static double
one_shot_rate (VerifyBench *b,
               double       seconds)
{
  double start = now_s (), t;
  guint8 md[32];
  guint n = 0;

  do
    {
      if (EVP_Digest (b->p, b->len, md, NULL, b->md, NULL) != 1)
        g_error ("EVP_Digest failed");
      n++;
    }
  while ((t = now_s () - start) < seconds);
  return (double) b->len * n / t;
}

/* What the chain needs at the least: each record hashed on its own, with
 * the verifier's own way of doing it (one EVP_MD_CTX, re-initialised). */
static double
per_record_rate (VerifyBench *b,
                 double       seconds)
{
  double start = now_s (), t;
  guint8 md[32];
  guint n = 0;

  do
    {
      for (guint i = 0; i + 1 < b->bounds->len; i++)
        {
          gsize a = g_array_index (b->bounds, gsize, i);
          gsize e = g_array_index (b->bounds, gsize, i + 1);

          if (EVP_DigestInit_ex (b->ctx, b->md, NULL) != 1 ||
              EVP_DigestUpdate (b->ctx, b->p + a, e - a) != 1 ||
              EVP_DigestFinal_ex (b->ctx, md, NULL) != 1)
            g_error ("SHA-256 failed");
        }
      n++;
    }
  while ((t = now_s () - start) < seconds);
  return (double) b->len * n / t;
}

static void
bench_verify (VerifyBench *b,
              guint64      n_records)
{
  double ver[ROUNDS], one[ROUNDS], per[ROUNDS], r_one[ROUNDS], r_per[ROUNDS];
  double v, o, pr, ro, rp;

  for (guint i = 0; i < ROUNDS; i++)
    {
      /* Rotate the order, so that no measurement always runs first. */
      for (guint k = 0; k < 3; k++)
        switch ((i + k) % 3)
          {
          case 0: ver[i] = verify_rate (b, SLICE); break;
          case 1: one[i] = one_shot_rate (b, SLICE); break;
          default: per[i] = per_record_rate (b, SLICE); break;
          }
      r_one[i] = ver[i] / one[i];
      r_per[i] = ver[i] / per[i];
    }
  v = median (ver, ROUNDS);
  o = median (one, ROUNDS);
  pr = median (per, ROUNDS);
  ro = median (r_one, ROUNDS);
  rp = median (r_per, ROUNDS);
  g_print ("event log: %" G_GUINT64_FORMAT " records, %" G_GSIZE_FORMAT " bytes "
           "(%.0f B/record); medians of %d alternating slices of %.2f s\n",
           n_records, b->len, (double) b->len / (double) n_records, ROUNDS, SLICE);
  g_print ("%-38s %8.1f MB/s %10.0f records/s\n", "verify (one pass)",
           v / 1e6, v / (double) b->len * (double) n_records);
  g_print ("%-38s %8.1f MB/s   ratio %.2f (slices %.2f..%.2f)  target >= 0.50\n",
           "baseline: SHA-256 per record, 1 ctx", pr / 1e6, rp, r_per[0], r_per[ROUNDS - 1]);
  g_print ("%-38s %8.1f MB/s   ratio %.2f (slices %.2f..%.2f)\n",
           "baseline: SHA-256 of the file, 1 call", o / 1e6, ro, r_one[0], r_one[ROUNDS - 1]);
}

/* ---- appends ------------------------------------------------------------- */

/* A directory on a real disk: fdatasync on tmpfs costs nothing. */
static char *
disk_tmp_dir (const char *argv0)
{
  struct statfs sfs;
  g_autofree char *parent = NULL;
  g_autofree char *tmpl = NULL;
  char *dir;

  if (statfs (g_get_tmp_dir (), &sfs) == 0 && sfs.f_type != TMPFS_MAGIC)
    parent = g_strdup (g_get_tmp_dir ());
  else
    {
      /* The build directory, where the binary is. */
      g_autofree char *d = g_path_get_dirname (argv0);

      parent = g_canonicalize_filename (d, NULL);
    }
  tmpl = g_build_filename (parent, "signet-bench-XXXXXX", NULL);
  dir = g_mkdtemp (g_steal_pointer (&tmpl));
  if (dir == NULL)
    g_error ("mkdtemp in %s: %s", parent, g_strerror (errno));
  return dir;
}

/* Records per second appended in memory during about `seconds`. */
static double
append_memory_rate (GBytes *k0,
                    double  seconds)
{
  g_autoptr(SignetEventLog) log = NULL;
  guint64 tick = 0;
  SignetEventLogOptions options = { 0, bench_clock, &tick };
  double start, t;
  guint n = 0;

  log = signet_event_log_new_in_memory (k0, "alice", "bench-session", &options, NULL);
  g_assert (log != NULL);
  start = now_s ();
  do
    {
      for (guint k = 0; k < 256; k++)
        append_one (log, n++);
    }
  while ((t = now_s () - start) < seconds);
  return n / t;
}

/* Appends per second to a file: group 1 is fdatasync per append;
 * otherwise set_defer_sync and one signet_event_log_sync per group. */
static double
append_file_rate (GBytes     *k0,
                  const char *dir,
                  guint       group,
                  double      seconds)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, "bench.log", NULL);
  g_autoptr(SignetEventLog) log = NULL;
  double start, t;
  guint n = 0;

  log = signet_event_log_create (path, k0, "alice", "bench-session", NULL, &error);
  g_assert_no_error (error);
  if (group > 1)
    signet_event_log_set_defer_sync (log, TRUE);
  start = now_s ();
  do
    {
      for (guint k = 0; k < group; k++)
        append_one (log, n++);
      if (group > 1 && !signet_event_log_sync (log, &error))
        g_error ("sync: %s", error->message);
    }
  while ((t = now_s () - start) < seconds);
  g_clear_object (&log);
  g_unlink (path);
  return n / t;
}

/* The floor under append_file_rate: the same record bytes written to a
 * plain file, one write per record and one fdatasync per group. */
static double
raw_write_rate (VerifyBench *b,
                const char  *dir,
                guint        group,
                double       seconds)
{
  g_autofree char *path = g_build_filename (dir, "raw.bin", NULL);
  double start, t;
  guint n = 0;
  int fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  if (fd < 0)
    g_error ("open %s: %s", path, g_strerror (errno));
  start = now_s ();
  do
    {
      for (guint k = 0; k < group; k++, n++)
        {
          guint i = n % (b->bounds->len - 1);
          gsize a = g_array_index (b->bounds, gsize, i);
          gsize e = g_array_index (b->bounds, gsize, i + 1);

          if (write (fd, b->p + a, e - a) != (gssize) (e - a))
            g_error ("write: %s", g_strerror (errno));
        }
      if (fdatasync (fd) != 0)
        g_error ("fdatasync: %s", g_strerror (errno));
    }
  while ((t = now_s () - start) < seconds);
  close (fd);
  g_unlink (path);
  return n / t;
}

static void
bench_append_file (VerifyBench *b,
                   const char  *dir,
                   guint        group,
                   const char  *what)
{
  double ours[IO_ROUNDS], base[IO_ROUNDS], ratio[IO_ROUNDS], o, r;

  for (guint i = 0; i < IO_ROUNDS; i++)
    {
      if (i % 2 == 0)
        {
          ours[i] = append_file_rate (b->k0, dir, group, IO_SLICE);
          base[i] = raw_write_rate (b, dir, group, IO_SLICE);
        }
      else
        {
          base[i] = raw_write_rate (b, dir, group, IO_SLICE);
          ours[i] = append_file_rate (b->k0, dir, group, IO_SLICE);
        }
      ratio[i] = ours[i] / base[i];
    }
  o = median (ours, IO_ROUNDS);
  r = median (ratio, IO_ROUNDS);
  g_print ("%-38s %8.0f records/s (%.3f ms)   raw write+fdatasync %8.0f/s   "
           "ratio %.2f (slices %.2f..%.2f)\n", what, o, 1000 / o, median (base, IO_ROUNDS),
           r, ratio[0], ratio[IO_ROUNDS - 1]);
}

int
main (int    argc,
      char **argv)
{
  static const guint8 k[32] = { 42 };
  g_autoptr(GBytes) k0 = g_bytes_new_static (k, sizeof k);
  g_autoptr(GBytes) log = NULL;
  g_autoptr(SignetEventLogReader) reader = NULL;
  g_autoptr(GArray) bounds = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autofree char *dir = NULL;
  VerifyBench b = { 0 };
  SignetEventRecord *rec;
  guint64 n_records = 0;
  double mem[ROUNDS];

  log = build_log (k0, N_RECORDS);
  reader = signet_event_log_reader_new (log);
  while (signet_event_log_reader_next (reader, &rec, NULL))
    {
      gsize off = signet_event_record_get_offset (rec);

      g_array_append_val (bounds, off);
      signet_event_record_unref (rec);
      n_records++;
    }
  b.log = log;
  b.k0 = k0;
  b.p = g_bytes_get_data (log, &b.len);
  g_array_append_val (bounds, b.len);
  b.bounds = bounds;
  b.md = EVP_MD_fetch (NULL, "SHA256", NULL);
  b.ctx = EVP_MD_CTX_new ();
  if (b.md == NULL || b.ctx == NULL)
    g_error ("no SHA-256");

  if (argc == 3 && strcmp (argv[1], "--verify-only") == 0)
    {
      double v = verify_rate (&b, g_ascii_strtod (argv[2], NULL));

      g_print ("verify: %.1f MB/s\n", v / 1e6);
      goto out;
    }

  bench_verify (&b, n_records);

  for (guint i = 0; i < ROUNDS; i++)
    mem[i] = append_memory_rate (k0, SLICE);
  g_print ("%-38s %8.0f records/s (median of %d slices)\n", "append, in memory",
           median (mem, ROUNDS), ROUNDS);

  dir = disk_tmp_dir (argv[0]);
  g_print ("appends to files in %s; medians of %d alternating slices of %.2f s\n",
           dir, IO_ROUNDS, IO_SLICE);
  bench_append_file (&b, dir, 1, "append + fdatasync each, file");
  bench_append_file (&b, dir, GROUP, "append, deferred, 1 sync / 64, file");
  g_rmdir (dir);

out:
  EVP_MD_CTX_free (b.ctx);
  EVP_MD_free (b.md);
  return 0;
}
