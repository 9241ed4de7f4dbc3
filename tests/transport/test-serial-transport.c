/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-serial-transport.c: SignetSerialTransport on a real pseudo-terminal
 * pair made here (posix_openpt): the test holds the master, as a device's
 * USB stack would, and frames with proto/sp-frame.h on its side.
 *
 * Random data comes from GRand with fixed seeds, so a failure reproduces.
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "transport-test-util.h"

static GBytes *
random_message (GRand *rand,
                gsize  len)
{
  guint8 *p = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    p[i] = (guint8) g_rand_int_range (rand, 0, 256);
  /* Plenty of zeros, to exercise COBS's short blocks. */
  for (gsize i = 0; i < len; i += (gsize) g_rand_int_range (rand, 1, 40))
    p[i] = 0;
  return g_bytes_new_take (p, len);
}

static SignetTransport *
open_on (TestPty *pty)
{
  SignetTransport *t = SIGNET_TRANSPORT (signet_serial_transport_new (pty->slave_path));
  TestResult r = { 0 };

  test_open (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  g_assert_true (signet_transport_is_connected (t));
  test_result_clear (&r);
  return t;
}

static void
assert_bytes_equal (GBytes *got,
                    GBytes *want)
{
  g_assert_nonnull (got);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got),
                   g_bytes_get_data (want, NULL), g_bytes_get_size (want));
}

/* ---- tests ---------------------------------------------------------------- */

static void
test_properties (void)
{
  g_autoptr(SignetSerialTransport) s = signet_serial_transport_new ("/dev/ttyACM9");
  SignetTransport *t = SIGNET_TRANSPORT (s);
  g_autofree char *name = signet_transport_dup_name (t);

  g_assert_cmpstr (name, ==, "/dev/ttyACM9");
  g_assert_cmpstr (signet_serial_transport_get_path (s), ==, "/dev/ttyACM9");
  g_assert_cmpuint (signet_transport_get_max_message (t), ==, 2048);
  g_assert_cmpuint (signet_transport_get_mtu (t), ==, 2048);
  g_assert_cmpuint (signet_transport_get_capabilities (t), ==,
                    SIGNET_TRANSPORT_CAPABILITY_PIPELINE | SIGNET_TRANSPORT_CAPABILITY_INTEGRITY);
  g_assert_false (signet_transport_is_connected (t));
  g_assert_cmpuint (signet_serial_transport_get_receive_timeout (s), ==,
                    SIGNET_SERIAL_TRANSPORT_RECEIVE_TIMEOUT_DEFAULT);
  signet_serial_transport_set_send_timeout (s, 123);
  g_assert_cmpuint (signet_serial_transport_get_send_timeout (s), ==, 123);
}

static void
test_open_errors (void)
{
  g_autoptr(SignetSerialTransport) missing = signet_serial_transport_new ("/nonexistent/ttyACM0");
  g_autoptr(SignetSerialTransport) null = signet_serial_transport_new ("/dev/null");
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GBytes) msg = g_bytes_new_static ("hi", 2);
  TestResult r = { 0 };

  test_open (SIGNET_TRANSPORT (missing), NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_NOT_FOUND);
  g_assert_false (signet_transport_is_connected (SIGNET_TRANSPORT (missing)));

  test_open (SIGNET_TRANSPORT (null), NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_IO);
  g_assert_nonnull (strstr (r.error->message, "not a serial port"));

  g_cancellable_cancel (cancelled);
  test_open (SIGNET_TRANSPORT (missing), cancelled, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CANCELLED);

  /* Nothing works on a transport that is not open. */
  test_send (SIGNET_TRANSPORT (missing), msg, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CLOSED);
  test_receive (SIGNET_TRANSPORT (missing), NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CLOSED);
  signet_transport_close (SIGNET_TRANSPORT (missing));
  test_result_clear (&r);
}

/* Messages of every interesting length, both ways, in order and intact. */
static void
test_round_trip (void)
{
  static const gsize lengths[] = { 0, 1, 2, 3, 4, 250, 253, 254, 255, 256, 507, 508, 509,
                                   1000, 2047, 2048 };
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GByteArray) all_values = g_byte_array_new ();
  TestResult r = { 0 };
  SignetSerialStats stats;

  for (guint i = 0; i < 256; i++)
    {
      guint8 b = (guint8) i;

      g_byte_array_append (all_values, &b, 1);
    }
  g_ptr_array_add (sent, g_bytes_new (all_values->data, all_values->len));
  for (gsize i = 0; i < G_N_ELEMENTS (lengths); i++)
    g_ptr_array_add (sent, random_message (rand, lengths[i]));

  /* Tool -> device. */
  for (guint i = 0; i < sent->len; i++)
    {
      test_send (t, sent->pdata[i], &r);
      g_assert_no_error (r.error);
    }
  g_assert_cmpuint (test_pty_collect (pty, got, sent->len, 5000), ==, sent->len);
  for (guint i = 0; i < sent->len; i++)
    assert_bytes_equal (got->pdata[i], sent->pdata[i]);
  /* The first frame after open is preceded by one resync 0x00, and only
   * the first. */
  g_assert_cmpuint (pty->raw->len, >, 1);
  g_assert_cmpuint (pty->raw->data[0], ==, 0);
  g_assert_cmpuint (pty->raw->data[1], !=, 0);
  g_assert_cmpuint (pty->deframer.stats.empty, ==, 1);
  g_assert_cmpuint (pty->deframer.stats.crc + pty->deframer.stats.cobs, ==, 0);

  /* Device -> tool. */
  for (guint i = 0; i < sent->len; i++)
    test_pty_write_frame (pty, g_bytes_get_data (sent->pdata[i], NULL),
                          g_bytes_get_size (sent->pdata[i]));
  for (guint i = 0; i < sent->len; i++)
    {
      test_receive (t, NULL, &r);
      g_assert_no_error (r.error);
      assert_bytes_equal (r.message, sent->pdata[i]);
    }

  signet_serial_transport_get_stats (SIGNET_SERIAL_TRANSPORT (t), &stats);
  g_assert_cmpuint (stats.frames_sent, ==, sent->len);
  g_assert_cmpuint (stats.frames_received, ==, sent->len);
  g_assert_cmpuint (signet_serial_transport_get_frames_dropped (SIGNET_SERIAL_TRANSPORT (t)),
                    ==, 0);
  test_result_clear (&r);
  signet_transport_close (t);
  test_pty_free (pty);
}

/* The device's bytes arrive in pieces of 1 to 7 bytes, with the main loop
 * running between them; and many frames in a single write. */
static void
test_partial_reads (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  g_autoptr(GRand) rand = g_rand_new_with_seed (2);
  g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GByteArray) stream = g_byte_array_new ();
  TestResult results[40] = { 0 };
  gsize pos = 0;

  for (guint i = 0; i < 8; i++)
    {
      g_autoptr(GBytes) frame = NULL;

      g_ptr_array_add (msgs, random_message (rand, (gsize) g_rand_int_range (rand, 1, 600)));
      frame = test_frame_encode (g_bytes_get_data (msgs->pdata[i], NULL),
                                 g_bytes_get_size (msgs->pdata[i]));
      g_byte_array_append (stream, g_bytes_get_data (frame, NULL),
                           (guint) g_bytes_get_size (frame));
    }
  for (guint i = 0; i < 8; i++)
    signet_transport_receive_async (t, NULL, test_on_receive, &results[i]);
  while (pos < stream->len)
    {
      gsize n = MIN ((gsize) g_rand_int_range (rand, 1, 8), stream->len - pos);

      test_pty_write (pty, stream->data + pos, n);
      pos += n;
      test_spin (g_rand_int_range (rand, 0, 3) == 0 ? 1 : 0);
    }
  test_wait_for (&results[7].done, 5000);
  for (guint i = 0; i < 8; i++)
    {
      g_assert_true (results[i].done);
      g_assert_no_error (results[i].error);
      assert_bytes_equal (results[i].message, msgs->pdata[i]);
      test_result_clear (&results[i]);
    }

  /* 40 small frames in one write. */
  g_byte_array_set_size (stream, 0);
  g_ptr_array_set_size (msgs, 0);
  for (guint i = 0; i < 40; i++)
    {
      g_autoptr(GBytes) frame = NULL;

      g_ptr_array_add (msgs, random_message (rand, (gsize) g_rand_int_range (rand, 1, 20)));
      frame = test_frame_encode (g_bytes_get_data (msgs->pdata[i], NULL),
                                 g_bytes_get_size (msgs->pdata[i]));
      g_byte_array_append (stream, g_bytes_get_data (frame, NULL),
                           (guint) g_bytes_get_size (frame));
    }
  for (guint i = 0; i < 40; i++)
    signet_transport_receive_async (t, NULL, test_on_receive, &results[i]);
  test_pty_write (pty, stream->data, stream->len);
  test_wait_for (&results[39].done, 5000);
  for (guint i = 0; i < 40; i++)
    {
      g_assert_no_error (results[i].error);
      assert_bytes_equal (results[i].message, msgs->pdata[i]);
      test_result_clear (&results[i]);
    }
  signet_transport_close (t);
  test_pty_free (pty);
}

/* More than the pty buffers hold: the writes go out in pieces as the
 * device reads, and every message arrives whole and in order. */
static void
test_partial_writes (void)
{
  enum { N = 128 };
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  TestResult *results = g_new0 (TestResult, N);
  guint done = 0;
  SignetSerialStats stats;

  for (guint i = 0; i < N; i++)
    {
      g_ptr_array_add (msgs, random_message (rand, 2048));
      signet_transport_send_async (t, msgs->pdata[i], NULL, test_on_send, &results[i]);
    }
  /* The device does not read: the tty fills and the transport must wait
   * with a part of its queue unwritten. */
  test_spin (100);
  for (guint i = 0; i < N; i++)
    done += results[i].done;
  g_assert_cmpuint (done, <, N);
  g_assert_false (results[N - 1].done);
  signet_serial_transport_get_stats (SIGNET_SERIAL_TRANSPORT (t), &stats);
  g_assert_cmpuint (stats.frames_sent, ==, done);
  g_assert_cmpuint (stats.bytes_sent, >, 0);

  /* Now it reads. */
  g_assert_cmpuint (test_pty_collect (pty, got, N, 20000), ==, N);
  test_wait_for (&results[N - 1].done, 5000);
  for (guint i = 0; i < N; i++)
    {
      g_assert_true (results[i].done);
      g_assert_no_error (results[i].error);
      assert_bytes_equal (got->pdata[i], msgs->pdata[i]);
      test_result_clear (&results[i]);
    }
  g_assert_cmpuint (pty->deframer.stats.crc + pty->deframer.stats.cobs +
                    pty->deframer.stats.oversize, ==, 0);
  signet_serial_transport_get_stats (SIGNET_SERIAL_TRANSPORT (t), &stats);
  g_assert_cmpuint (stats.frames_sent, ==, N);
  g_free (results);
  signet_transport_close (t);
  test_pty_free (pty);
}

static void
on_notify_count (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  (*(guint *) user_data)++;
}

/* Damaged frames are dropped and counted; the good frame after each one is
 * delivered; nothing damaged is ever delivered. */
static void
test_bad_frames (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  SignetSerialTransport *s = SIGNET_SERIAL_TRANSPORT (t);
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  g_autoptr(GBytes) good = NULL;
  g_autoptr(GBytes) frame = NULL;
  g_autofree guint8 *bad = NULL;
  gsize frame_len;
  TestResult r = { 0 };
  SignetSerialStats stats;
  guint notified = 0;
  gsize flip;
  guint8 junk[3000];
  static const guint8 zero = 0;
  static const guint8 short_frame[] = { 0x03, 0x11, 0x22, 0x00 }; /* 2 bytes: no room for a CRC */

  g_signal_connect (t, "notify::frames-dropped", G_CALLBACK (on_notify_count), &notified);
  signet_serial_transport_set_receive_timeout (s, 200);

  /* One bit flipped in the middle of a frame (never into a 0x00, which
   * would cut the frame in two: that case is the junk below). */
  good = random_message (rand, 300);
  frame = test_frame_encode (g_bytes_get_data (good, NULL), g_bytes_get_size (good));
  frame_len = g_bytes_get_size (frame);
  bad = g_memdup2 (g_bytes_get_data (frame, NULL), frame_len);
  flip = frame_len / 2;
  for (guint bit = 0; bit < 8; bit++)
    if ((bad[flip] ^ (1u << bit)) != 0)
      {
        bad[flip] ^= (guint8) (1u << bit);
        break;
      }
  test_pty_write (pty, bad, frame_len);
  test_pty_write_frame (pty, "after-flip", 10);
  test_receive (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message),
                   "after-flip", 10);
  signet_serial_transport_get_stats (s, &stats);
  g_assert_cmpuint (stats.bad_crc + stats.bad_cobs, ==, 1);
  g_assert_cmpuint (signet_serial_transport_get_frames_dropped (s), ==, 1);
  g_assert_cmpuint (notified, >=, 1);

  /* Too short to hold a CRC. */
  test_pty_write (pty, short_frame, sizeof short_frame);
  test_pty_write_frame (pty, "after-short", 11);
  test_receive (t, NULL, &r);
  g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message),
                   "after-short", 11);
  signet_serial_transport_get_stats (s, &stats);
  g_assert_cmpuint (stats.bad_crc, >=, 1);
  g_assert_cmpuint (signet_serial_transport_get_frames_dropped (s), ==, 2);

  /* Longer than any frame: dropped as oversize, then resync at its end. */
  memset (junk, 0x5a, sizeof junk);
  test_pty_write (pty, junk, sizeof junk);
  test_pty_write (pty, &zero, 1);
  test_pty_write_frame (pty, "after-oversize", 14);
  test_receive (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message),
                   "after-oversize", 14);
  signet_serial_transport_get_stats (s, &stats);
  g_assert_cmpuint (stats.oversize, ==, 1);
  g_assert_cmpuint (signet_serial_transport_get_frames_dropped (s), ==, 3);

  /* A valid frame whose last payload byte changed: right COBS, wrong CRC. */
  {
    guint8 payload[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    g_autoptr(GBytes) f = test_frame_encode (payload, sizeof payload);
    g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (f, NULL), g_bytes_get_size (f));

    copy[8] ^= 0x40;    /* a payload byte (no zero anywhere: one COBS block) */
    test_pty_write (pty, copy, g_bytes_get_size (f));
  }
  /* Lone delimiters (a peer's resync) are no error. */
  test_pty_write (pty, &zero, 1);
  test_pty_write (pty, &zero, 1);
  test_pty_write_frame (pty, "last", 4);
  test_receive (t, NULL, &r);
  g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message), "last", 4);
  signet_serial_transport_get_stats (s, &stats);
  g_assert_cmpuint (stats.bad_crc, >=, 2);
  g_assert_cmpuint (stats.empty, >=, 2);
  g_assert_cmpuint (signet_serial_transport_get_frames_dropped (s), ==, 4);
  g_assert_cmpuint (stats.frames_received, ==, 4);

  /* And nothing else is waiting. */
  test_receive (t, NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_TIMEOUT);
  test_result_clear (&r);
  signet_transport_close (t);
  test_pty_free (pty);
}

static void
test_too_large (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autoptr(GBytes) big = random_message (rand, 2049);
  g_autoptr(GBytes) ok = random_message (rand, 2048);
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  TestResult r = { 0 };

  test_send (t, big, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_TOO_LARGE);
  /* Refused before anything went out. */
  g_assert_cmpuint (test_pty_drain (pty, 50), ==, 0);

  test_send (t, ok, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (test_pty_collect (pty, got, 1, 5000), ==, 1);
  assert_bytes_equal (got->pdata[0], ok);
  test_result_clear (&r);
  signet_transport_close (t);
  test_pty_free (pty);
}

typedef struct {
  guint count;
  GError *error;
} Disconnected;

static void
on_disconnected (SignetTransport *t,
                 const GError    *error,
                 gpointer         user_data)
{
  Disconnected *d = user_data;

  d->count++;
  g_clear_error (&d->error);
  d->error = g_error_copy (error);
}

/* The device side goes away: a pending receive fails with DISCONNECTED,
 * the signal fires once, and nothing works until it is reopened. */
static void
test_hang_up (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  g_autoptr(GBytes) msg = g_bytes_new_static ("hello", 5);
  TestResult r = { 0 };
  TestResult pending = { 0 };
  Disconnected d = { 0 };
  guint notified = 0;

  g_signal_connect (t, "disconnected", G_CALLBACK (on_disconnected), &d);
  g_signal_connect (t, "notify::connected", G_CALLBACK (on_notify_count), &notified);
  signet_transport_receive_async (t, NULL, test_on_receive, &pending);
  test_spin (20);
  g_assert_false (pending.done);
  test_pty_hang_up (pty);
  test_wait_for (&pending.done, 5000);
  g_assert_error (pending.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_DISCONNECTED);
  g_assert_cmpuint (d.count, ==, 1);
  g_assert_error (d.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_DISCONNECTED);
  g_assert_false (signet_transport_is_connected (t));
  g_assert_cmpuint (notified, ==, 1);

  test_send (t, msg, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_DISCONNECTED);
  test_receive (t, NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_DISCONNECTED);
  test_spin (20);
  g_assert_cmpuint (d.count, ==, 1);

  signet_transport_close (t);
  test_receive (t, NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CLOSED);
  g_assert_cmpuint (d.count, ==, 1);   /* never on close */

  test_result_clear (&r);
  test_result_clear (&pending);
  g_clear_error (&d.error);
  test_pty_free (pty);
}

/* What the device said just before it went away is still given, then
 * DISCONNECTED. */
static void
test_hang_up_keeps_received (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  TestResult r = { 0 };
  Disconnected d = { 0 };

  g_signal_connect (t, "disconnected", G_CALLBACK (on_disconnected), &d);
  test_pty_write_frame (pty, "last words", 10);
  test_spin (20);
  test_pty_hang_up (pty);
  while (d.count == 0)
    test_spin (5);
  test_receive (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message),
                   "last words", 10);
  test_receive (t, NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_DISCONNECTED);
  test_result_clear (&r);
  g_clear_error (&d.error);
  signet_transport_close (t);
  test_pty_free (pty);
}

static void
test_cancel_receive (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  g_autoptr(GCancellable) c = g_cancellable_new ();
  TestResult a = { 0 }, b = { 0 }, r = { 0 };

  /* Two receives waiting; the first is cancelled; a message then goes to
   * the second. */
  signet_transport_receive_async (t, c, test_on_receive, &a);
  signet_transport_receive_async (t, NULL, test_on_receive, &b);
  test_spin (10);
  g_cancellable_cancel (c);
  test_wait_for (&a.done, 5000);
  g_assert_error (a.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CANCELLED);
  g_assert_false (b.done);
  test_pty_write_frame (pty, "for b", 5);
  test_wait_for (&b.done, 5000);
  g_assert_no_error (b.error);
  g_assert_cmpmem (g_bytes_get_data (b.message, NULL), g_bytes_get_size (b.message), "for b", 5);

  /* Already cancelled: fails at once, and takes no message. */
  test_pty_write_frame (pty, "kept", 4);
  test_spin (20);
  test_receive (t, c, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CANCELLED);
  test_receive (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message), "kept", 4);

  test_result_clear (&a);
  test_result_clear (&b);
  test_result_clear (&r);
  signet_transport_close (t);
  test_pty_free (pty);
}

/* Fill the pty until sends wait; returns how many were queued. */
static guint
queue_until_blocked (SignetTransport *t,
                     GPtrArray       *msgs,
                     TestResult      *results,
                     guint            max,
                     GRand           *rand)
{
  guint n = 0;

  while (n < max)
    {
      g_ptr_array_add (msgs, random_message (rand, 2048));
      signet_transport_send_async (t, msgs->pdata[n], NULL, test_on_send, &results[n]);
      n++;
      test_spin (1);
      if (n > 4 && !results[n - 1].done && !results[n - 2].done)
        break;
    }
  return n;
}

static gsize
encoded_size (GBytes *message)
{
  g_autoptr(GBytes) frame = test_frame_encode (g_bytes_get_data (message, NULL),
                                               g_bytes_get_size (message));

  return g_bytes_get_size (frame);
}

/* A send cancelled while it waits in the queue goes nowhere; one cut off
 * halfway is dropped by the device, thanks to the resync byte before the
 * next frame; everything else arrives intact. */
static void
test_cancel_send (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  SignetSerialTransport *s = SIGNET_SERIAL_TRANSPORT (t);
  g_autoptr(GRand) rand = g_rand_new_with_seed (6);
  g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GCancellable) c1 = g_cancellable_new ();
  g_autoptr(GCancellable) c2 = g_cancellable_new ();
  g_autoptr(GBytes) queued = NULL;
  g_autoptr(GBytes) after = g_bytes_new_static ("after", 5);
  TestResult results[200] = { 0 };
  TestResult rq = { 0 }, ra = { 0 };
  SignetSerialStats base, now;
  guint n, head, cancelled = 0, bad_before, need;
  gsize complete_bytes;

  /* Waiting in the queue. */
  n = queue_until_blocked (t, msgs, results, 150, rand);
  g_assert_cmpuint (n, <, 150);
  queued = random_message (rand, 100);
  signet_transport_send_async (t, queued, c1, test_on_send, &rq);
  g_cancellable_cancel (c1);
  test_wait_for (&rq.done, 5000);
  g_assert_error (rq.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CANCELLED);
  g_assert_cmpuint (test_pty_collect (pty, got, n, 20000), ==, n);
  for (guint i = 0; i < n; i++)
    {
      test_wait_for (&results[i].done, 5000);
      g_assert_no_error (results[i].error);
      assert_bytes_equal (got->pdata[i], msgs->pdata[i]);
      test_result_clear (&results[i]);
    }
  g_assert_cmpuint (test_pty_collect (pty, got, 1, 100), ==, 0);   /* not "queued" */
  signet_serial_transport_get_stats (s, &now);
  g_assert_cmpuint (now.sends_abandoned, ==, 0);

  /* Cut off halfway: fill the pty with sends that share c2, until the
   * head of the queue is partly written (the stats say how many bytes of
   * whole frames went out), then cancel them all. */
  g_ptr_array_set_size (got, 0);
  g_ptr_array_set_size (msgs, 0);
  signet_serial_transport_get_stats (s, &base);
  for (n = 0; n < 150; n++)
    {
      g_ptr_array_add (msgs, random_message (rand, 2048));
      signet_transport_send_async (t, msgs->pdata[n], c2, test_on_send, &results[n]);
      test_spin (1);
      if (n > 4 && !results[n].done && !results[n - 1].done)
        {
          n++;
          break;
        }
    }
  for (guint tries = 0;; tries++)
    {
      guint8 buf[97];
      gssize rd;

      signet_serial_transport_get_stats (s, &now);
      head = (guint) (now.frames_sent - base.frames_sent);
      g_assert_cmpuint (head, <, n);
      complete_bytes = 0;
      for (guint i = 0; i < head; i++)
        complete_bytes += encoded_size (msgs->pdata[i]);
      if (now.bytes_sent - base.bytes_sent > complete_bytes)
        break;
      /* At a frame boundary by chance: let the device read a little. */
      g_assert_cmpuint (tries, <, 100);
      rd = read (pty->master, buf, sizeof buf);
      if (rd > 0)
        {
          const guint8 *p = buf;
          gsize left = (gsize) rd;

          while (left > 0)
            {
              const uint8_t *payload = NULL;
              size_t payload_len = 0;
              size_t used = sp_deframer_push (&pty->deframer, p, left, &payload, &payload_len);

              p += used;
              left -= used;
              if (payload != NULL)
                g_ptr_array_add (got, g_bytes_new (payload, payload_len));
            }
        }
      test_spin (2);
    }
  g_assert_false (results[head].done);
  g_cancellable_cancel (c2);
  for (guint i = 0; i < n; i++)
    {
      test_wait_for (&results[i].done, 5000);
      if (i < head)
        g_assert_no_error (results[i].error);
      else
        {
          g_assert_error (results[i].error, SIGNET_TRANSPORT_ERROR,
                          SIGNET_TRANSPORT_ERROR_CANCELLED);
          cancelled++;
        }
      test_result_clear (&results[i]);
    }
  g_assert_cmpuint (cancelled, ==, n - head);
  signet_serial_transport_get_stats (s, &now);
  g_assert_cmpuint (now.sends_abandoned, ==, 1);

  /* The device gets the whole frames, drops the cut one as one bad frame,
   * and gets the next one. */
  bad_before = pty->deframer.stats.crc + pty->deframer.stats.cobs;
  test_send (t, after, &ra);
  g_assert_no_error (ra.error);
  need = head + 1 - got->len;
  g_assert_cmpuint (test_pty_collect (pty, got, need, 20000), ==, need);
  g_assert_cmpuint (got->len, ==, head + 1);
  for (guint i = 0; i < head; i++)
    assert_bytes_equal (got->pdata[i], msgs->pdata[i]);
  assert_bytes_equal (got->pdata[head], after);
  g_assert_cmpuint (pty->deframer.stats.crc + pty->deframer.stats.cobs, ==, bad_before + 1);

  test_result_clear (&rq);
  test_result_clear (&ra);
  signet_transport_close (t);
  test_pty_free (pty);
}

static void
test_timeouts (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  SignetSerialTransport *s = SIGNET_SERIAL_TRANSPORT (t);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) after = g_bytes_new_static ("after", 5);
  TestResult results[200] = { 0 };
  TestResult r = { 0 };
  gint64 start;
  guint n, timed_out = 0, sent_ok = 0;

  /* Receive: nothing comes. */
  signet_serial_transport_set_receive_timeout (s, 100);
  start = g_get_monotonic_time ();
  test_receive (t, NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * 1000);
  /* The transport still works. */
  test_pty_write_frame (pty, "late", 4);
  test_receive (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message), "late", 4);
  /* 0: no timeout. */
  signet_serial_transport_set_receive_timeout (s, 0);
  test_result_clear (&r);
  signet_transport_receive_async (t, NULL, test_on_receive, &r);
  test_spin (300);
  g_assert_false (r.done);
  test_pty_write_frame (pty, "x", 1);
  test_wait_for (&r.done, 5000);
  g_assert_no_error (r.error);

  /* Send: the device stops reading; queued sends time out, the one cut
   * halfway is abandoned, and after the device reads again a new frame
   * arrives intact. */
  signet_serial_transport_set_send_timeout (s, 150);
  n = queue_until_blocked (t, msgs, results, 150, rand);
  for (guint i = 0; i < n; i++)
    test_wait_for (&results[i].done, 5000);
  for (guint i = 0; i < n; i++)
    {
      if (results[i].error != NULL)
        {
          g_assert_error (results[i].error, SIGNET_TRANSPORT_ERROR,
                          SIGNET_TRANSPORT_ERROR_TIMEOUT);
          timed_out++;
        }
      else
        {
          sent_ok++;
        }
    }
  g_assert_cmpuint (timed_out, >, 0);
  signet_serial_transport_set_send_timeout (s, 5000);
  signet_transport_send_async (t, after, NULL, test_on_send, &r);
  /* Everything that went out whole arrives, then "after". */
  test_result_clear (&r);
  test_pty_collect (pty, got, sent_ok + 1, 20000);
  g_assert_cmpuint (got->len, >=, 1);
  assert_bytes_equal (got->pdata[got->len - 1], after);
  g_assert_cmpuint (got->len, ==, sent_ok + 1);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    test_result_clear (&results[i]);
  test_result_clear (&r);
  signet_transport_close (t);
  test_pty_free (pty);
}

/* One holder at a time; after close, the next may open it. */
static void
test_busy (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) a = open_on (pty);
  g_autoptr(SignetTransport) b = SIGNET_TRANSPORT (signet_serial_transport_new (pty->slave_path));
  TestResult r = { 0 };

  test_open (b, NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_BUSY);
  /* Opening an open transport again is refused too. */
  test_open (a, NULL, &r);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_BUSY);
  g_assert_true (signet_transport_is_connected (a));

  signet_transport_close (a);
  test_open (b, NULL, &r);
  g_assert_no_error (r.error);
  test_pty_write_frame (pty, "to b", 4);
  test_receive (b, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message), "to b", 4);
  signet_transport_close (b);

  /* And a again, on the same pty. */
  test_open (a, NULL, &r);
  g_assert_no_error (r.error);
  signet_transport_close (a);
  test_result_clear (&r);
  test_pty_free (pty);
}

/* close () fails what is pending with CLOSED, also an open in progress. */
static void
test_close_pending (void)
{
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = open_on (pty);
  g_autoptr(GRand) rand = g_rand_new_with_seed (8);
  g_autoptr(GPtrArray) msgs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  TestResult results[200] = { 0 };
  TestResult rr = { 0 }, ro = { 0 };
  guint n, closed = 0;

  signet_transport_receive_async (t, NULL, test_on_receive, &rr);
  n = queue_until_blocked (t, msgs, results, 150, rand);
  signet_transport_close (t);
  test_wait_for (&rr.done, 5000);
  g_assert_error (rr.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CLOSED);
  for (guint i = 0; i < n; i++)
    {
      test_wait_for (&results[i].done, 5000);
      if (results[i].error != NULL)
        {
          g_assert_error (results[i].error, SIGNET_TRANSPORT_ERROR,
                          SIGNET_TRANSPORT_ERROR_CLOSED);
          closed++;
        }
    }
  g_assert_cmpuint (closed, >, 0);
  g_assert_false (signet_transport_is_connected (t));

  /* Closed while the open runs. */
  signet_transport_open_async (t, NULL, test_on_open, &ro);
  signet_transport_close (t);
  test_wait_for (&ro.done, 5000);
  g_assert_error (ro.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_CLOSED);
  /* Its late worker must not leave the tty locked. */
  test_spin (100);
  test_open (t, NULL, &ro);
  g_assert_no_error (ro.error);

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    test_result_clear (&results[i]);
  test_result_clear (&rr);
  test_result_clear (&ro);
  signet_transport_close (t);
  test_pty_free (pty);
}

/* Bytes the device sent before the port was opened are not taken for
 * answers; and messages arriving faster than they are asked for are all
 * kept, in order, past the inbox bound. */
static void
test_stale_and_inbox (void)
{
  enum { N = 3 * SIGNET_SERIAL_TRANSPORT_INBOX_MAX + 5 };
  TestPty *pty = test_pty_new ();
  g_autoptr(SignetTransport) t = NULL;
  TestResult r = { 0 };

  test_pty_write_frame (pty, "stale", 5);
  t = open_on (pty);
  for (guint i = 0; i < N; i++)
    {
      char text[16];

      g_snprintf (text, sizeof text, "m%u", i);
      test_pty_write_frame (pty, text, strlen (text));
    }
  test_spin (50);
  for (guint i = 0; i < N; i++)
    {
      char text[16];

      g_snprintf (text, sizeof text, "m%u", i);
      test_receive (t, NULL, &r);
      g_assert_no_error (r.error);
      g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message),
                       text, strlen (text));
    }
  test_result_clear (&r);
  signet_transport_close (t);
  test_pty_free (pty);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/serial-transport/properties", test_properties);
  g_test_add_func ("/signet/serial-transport/open-errors", test_open_errors);
  g_test_add_func ("/signet/serial-transport/round-trip", test_round_trip);
  g_test_add_func ("/signet/serial-transport/partial-reads", test_partial_reads);
  g_test_add_func ("/signet/serial-transport/partial-writes", test_partial_writes);
  g_test_add_func ("/signet/serial-transport/bad-frames", test_bad_frames);
  g_test_add_func ("/signet/serial-transport/too-large", test_too_large);
  g_test_add_func ("/signet/serial-transport/hang-up", test_hang_up);
  g_test_add_func ("/signet/serial-transport/hang-up-keeps-received",
                   test_hang_up_keeps_received);
  g_test_add_func ("/signet/serial-transport/cancel-receive", test_cancel_receive);
  g_test_add_func ("/signet/serial-transport/cancel-send", test_cancel_send);
  g_test_add_func ("/signet/serial-transport/timeouts", test_timeouts);
  g_test_add_func ("/signet/serial-transport/busy", test_busy);
  g_test_add_func ("/signet/serial-transport/close-pending", test_close_pending);
  g_test_add_func ("/signet/serial-transport/stale-and-inbox", test_stale_and_inbox);

  return g_test_run ();
}
