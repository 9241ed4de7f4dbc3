/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-bulk: bulk-transfer throughput of a firmware image through the
 * real engine (SignetDeviceSession over SignetSerialTransport) to a real
 * signet-devsim on a pty, next to a baseline measured in the same run: a
 * raw write/read copy of the same number of bytes through a pty pair
 * (DESIGN §9: >= 80 % of the raw copy). Prints numbers; asserts nothing
 * about time.
 *
 *   meson test -C _build --benchmark --verbose bulk
 *   bench-bulk SIGNETD SIGNET_DEVSIM MODELS_DIR       (or run it directly)
 *
 * Set-up (not timed): a signetd, a sign-in, a devsim provisioned with an
 * 8 MiB flash (its bulk area holds the image), HELLO, ATTEST, AUTHORIZE.
 * Each slice times, alternately, the raw copy and one whole transfer
 * (SHA-256 of the image, BULK_BEGIN, the BULK_DATA -- quiet, answered per
 * half window, when the device says it takes that -- and the device's own
 * SHA-256 check of what it received) of a fresh image (the same image
 * again would be found complete). Both sides move the same 4 MiB through
 * the same kind of pty pair (raw mode, 2 KiB writes for the copy, one
 * write per frame for the engine). The machine's speed drifts, so slices
 * alternate and medians are printed, with the median of the slices'
 * ratios. Then, once each, the transfer with other windows, to show what
 * pipelining buys.
 *
 * What bounds it (perf, 2-core VM): it was the simulator -- 80 % of the
 * CPU of a transfer went to programming its flash file 16 bytes per
 * pwrite (), and every chunk had its own answer. Now the per-chunk work
 * on both sides (docs/engine.md, "Bulk transfer"): CRC-32, COBS, CBOR,
 * the tty write/read of each frame, the simulator's flash check, and two
 * SHA-256 passes over the image. The device's file still lives on
 * /dev/shm when it can.
 */
#define _GNU_SOURCE   /* posix_openpt, ptsname */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "engine-fixture.h"

#define IMAGE_SIZE (4u * 1024u * 1024u)
#define SLICES 7

/* ---- baseline: a raw copy through a pty pair ------------------------------ */

typedef struct {
  int fd;
  guint64 bytes;
} Copy;

static gpointer
reader_thread (gpointer data)
{
  Copy *c = data;
  static guint8 buf[65536];
  guint64 got = 0;

  while (got < c->bytes)
    {
      ssize_t n = read (c->fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        g_error ("read from the pty master: %s", n < 0 ? g_strerror (errno) : "EOF");
      got += (guint64) n;
    }
  return NULL;
}

static gpointer
writer_thread (gpointer data)
{
  Copy *c = data;
  guint8 buf[2048];
  guint64 left = c->bytes;

  for (guint j = 0; j < sizeof buf; j++)
    buf[j] = (guint8) (j * 7);
  while (left > 0)
    {
      ssize_t n = write (c->fd, buf, MIN (left, sizeof buf));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        g_error ("write to the pty slave: %s", g_strerror (errno));
      left -= (guint64) n;
    }
  return NULL;
}

/* Seconds to copy bytes from a raw slave to the master, in 2 KiB writes. */
static double
run_raw (guint64 bytes)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct termios tio;
  int slave;
  Copy w, r;
  GThread *rt, *wt;
  gint64 start;

  if (master < 0 || grantpt (master) != 0 || unlockpt (master) != 0)
    g_error ("posix_openpt: %s", g_strerror (errno));
  slave = open (ptsname (master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    g_error ("open the pty slave: %s", g_strerror (errno));
  tcgetattr (master, &tio);
  cfmakeraw (&tio);
  tcsetattr (master, TCSANOW, &tio);
  tcsetattr (slave, TCSANOW, &tio);
  w.fd = slave;
  r.fd = master;
  w.bytes = r.bytes = bytes;
  start = g_get_monotonic_time ();
  rt = g_thread_new ("bench-bulk-reader", reader_thread, &r);
  wt = g_thread_new ("bench-bulk-writer", writer_thread, &w);
  g_thread_join (wt);
  g_thread_join (rt);
  close (slave);
  close (master);
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

/* ---- ours: the engine ------------------------------------------------------ */

static GBytes *
make_image (guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint32 *p = g_malloc (IMAGE_SIZE);

  for (gsize i = 0; i < IMAGE_SIZE / 4; i++)
    p[i] = g_rand_int (rand);
  return g_bytes_new_take (p, IMAGE_SIZE);
}

/* Seconds for one whole transfer of a fresh image. */
static double
run_transfer (FixtureDevice *d,
              guint          window,
              guint32        seed,
              guint         *out_chunk)
{
  g_autoptr(GBytes) image = make_image (seed);
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetDeviceTransfer) t = NULL;
  gint64 start;

  signet_device_session_set_bulk_window (d->session, window);
  start = g_get_monotonic_time ();
  FIXTURE_AWAIT (signet_device_session_transfer_async (d->session, image, NULL,
                                                       fixture_got_result, &res), res);
  t = signet_device_session_transfer_finish (d->session, res, &error);
  if (t == NULL)
    g_error ("transfer: %s", error->message);
  if (t->resumed_from != 0 || t->bytes_sent != IMAGE_SIZE)
    g_error ("transfer: resumed at %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " bytes sent",
             t->resumed_from, t->bytes_sent);
  *out_chunk = t->chunk_size;
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (double *v,
        guint   n)
{
  g_autofree double *s = g_memdup2 (v, n * sizeof *v);

  qsort (s, n, sizeof *s, compare_double);
  return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

int
main (int   argc,
      char *argv[])
{
  const char *provision[] = { "--flash-size", "8M", NULL };
  const guint windows[] = { 1, 4, 16, 32 };
  double raw[SLICES], ours[SLICES], ratio[SLICES];
  double mb = IMAGE_SIZE / 1e6;
  guint chunk = 0;
  guint32 seed = 1;
  Fixture f;
  FixtureDevice d;

  /* The simulator's flash is a file, written a flash operation per
   * pwrite () (docs/devsim.md): a tmpfs keeps the device's side of it
   * smaller than ext4 would. */
  if (g_getenv ("TMPDIR") == NULL && g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR)
      && access ("/dev/shm", W_OK) == 0)
    g_setenv ("TMPDIR", "/dev/shm", TRUE);
  g_test_init (&argc, &argv, NULL);
  if (!fixture_parse_args (argc, argv))
    {
      g_printerr ("usage: bench-bulk SIGNETD SIGNET_DEVSIM MODELS_DIR\n");
      return 77;
    }
  fixture_setup (&f, NULL, NULL);
  fixture_device_start_full (&f, &d, "bench", "acme-gw1", "GW1-BENCH", provision, NULL);
  fixture_device_set_receive_timeout (&d, 30000);
  fixture_device_open (&d);
  /* warm-up: page cache of the state file, code paths */
  run_raw (IMAGE_SIZE);
  run_transfer (&d, SIGNET_DEVICE_SESSION_BULK_WINDOW_DEFAULT, seed++, &chunk);

  for (guint i = 0; i < SLICES; i++)
    {
      raw[i] = run_raw (IMAGE_SIZE);
      ours[i] = run_transfer (&d, SIGNET_DEVICE_SESSION_BULK_WINDOW_DEFAULT, seed++, &chunk);
      ratio[i] = raw[i] / ours[i];
      g_print ("slice %u: raw %.4f s (%.1f MB/s), transfer %.4f s (%.1f MB/s), ratio %.2f\n",
               i, raw[i], mb / raw[i], ours[i], mb / ours[i], ratio[i]);
    }
  g_print ("bulk transfer of a %u-byte image through SignetDeviceSession to signet-devsim over "
           "a pty (its flash file in %s): %u data bytes per BULK_DATA, %u in flight; medians "
           "of %d slices\n", IMAGE_SIZE, g_get_tmp_dir (), chunk,
           SIGNET_DEVICE_SESSION_BULK_WINDOW_DEFAULT, SLICES);
  g_print ("%-44s %9.2f MB/s\n", "engine -> devsim, BULK_BEGIN..complete", mb / median (ours, SLICES));
  g_print ("%-44s %9.2f MB/s\n", "baseline: raw write/read, same bytes", mb / median (raw, SLICES));
  g_print ("ratio (median of the slices' ratios) %.2f (DESIGN sec. 9 target: >= 0.80)\n",
           median (ratio, SLICES));
  for (guint i = 0; i < G_N_ELEMENTS (windows); i++)
    {
      double s = run_transfer (&d, windows[i], seed++, &chunk);

      g_print ("window %2u: %.2f MB/s\n", windows[i], mb / s);
    }

  fixture_device_stop (&d);
  fixture_teardown (&f);
  return EXIT_SUCCESS;
}
