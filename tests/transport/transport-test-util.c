/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE   /* posix_openpt, ptsname */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "transport-test-util.h"

void
test_result_clear (TestResult *r)
{
  g_clear_pointer (&r->message, g_bytes_unref);
  g_clear_error (&r->error);
  r->done = FALSE;
  r->ok = FALSE;
}

void
test_on_open (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  TestResult *r = user_data;

  g_assert_false (r->done);
  r->ok = signet_transport_open_finish (SIGNET_TRANSPORT (source), result, &r->error);
  r->done = TRUE;
}

void
test_on_send (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  TestResult *r = user_data;

  g_assert_false (r->done);
  r->ok = signet_transport_send_finish (SIGNET_TRANSPORT (source), result, &r->error);
  r->done = TRUE;
}

void
test_on_receive (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  TestResult *r = user_data;

  g_assert_false (r->done);
  r->message = signet_transport_receive_finish (SIGNET_TRANSPORT (source), result, &r->error);
  r->ok = r->message != NULL;
  g_assert_true (r->ok == (r->error == NULL));
  r->done = TRUE;
}

void
test_wait_for (const gboolean *flag,
               guint           timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!*flag)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("nothing happened within %u ms", timeout_ms);
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (500);
    }
}

void
test_spin (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (500);
}

void
test_open (SignetTransport *t,
           GCancellable    *c,
           TestResult      *r)
{
  test_result_clear (r);
  signet_transport_open_async (t, c, test_on_open, r);
  test_wait_for (&r->done, 10000);
}

void
test_send (SignetTransport *t,
           GBytes          *message,
           TestResult      *r)
{
  test_result_clear (r);
  signet_transport_send_async (t, message, NULL, test_on_send, r);
  test_wait_for (&r->done, 10000);
}

void
test_receive (SignetTransport *t,
              GCancellable    *c,
              TestResult      *r)
{
  test_result_clear (r);
  signet_transport_receive_async (t, c, test_on_receive, r);
  test_wait_for (&r->done, 20000);
}

TestPty *
test_pty_new (void)
{
  TestPty *pty = g_new0 (TestPty, 1);
  struct termios tio;
  const char *name;

  pty->master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert_cmpint (pty->master, >=, 0);
  g_assert_cmpint (grantpt (pty->master), ==, 0);
  g_assert_cmpint (unlockpt (pty->master), ==, 0);
  name = ptsname (pty->master);
  g_assert_nonnull (name);
  pty->slave_path = g_strdup (name);
  /* The device's side is raw too, as devsim's (docs/devsim.md). */
  g_assert_cmpint (tcgetattr (pty->master, &tio), ==, 0);
  cfmakeraw (&tio);
  g_assert_cmpint (tcsetattr (pty->master, TCSANOW, &tio), ==, 0);
  g_assert_cmpint (fcntl (pty->master, F_SETFL, fcntl (pty->master, F_GETFL) | O_NONBLOCK),
                   ==, 0);
  sp_deframer_init (&pty->deframer, pty->deframe_buf, sizeof pty->deframe_buf);
  pty->raw = g_byte_array_new ();
  return pty;
}

void
test_pty_hang_up (TestPty *pty)
{
  if (pty->master >= 0)
    close (pty->master);
  pty->master = -1;
}

void
test_pty_free (TestPty *pty)
{
  test_pty_hang_up (pty);
  g_free (pty->slave_path);
  g_byte_array_unref (pty->raw);
  g_free (pty);
}

void
test_pty_write (TestPty    *pty,
                const void *data,
                gsize       len)
{
  const guint8 *p = data;

  while (len > 0)
    {
      gssize n = write (pty->master, p, len);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          struct pollfd pfd = { .fd = pty->master, .events = POLLOUT };

          /* The transport must read for room to appear. */
          g_main_context_iteration (NULL, FALSE);
          poll (&pfd, 1, 1);
          continue;
        }
      g_assert_cmpint (n, >, 0);
      p += n;
      len -= (gsize) n;
    }
}

GBytes *
test_frame_encode (const void *payload,
                   gsize       len)
{
  guint8 *out = g_malloc (SP_FRAME_ENCODED_SIZE (len));
  size_t out_len = 0;

  g_assert_cmpint (sp_frame_encode (payload, len, out, SP_FRAME_ENCODED_SIZE (len), &out_len),
                   ==, SP_OK);
  return g_bytes_new_take (out, out_len);
}

void
test_pty_write_frame (TestPty    *pty,
                      const void *payload,
                      gsize       len)
{
  g_autoptr(GBytes) frame = test_frame_encode (payload, len);

  test_pty_write (pty, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

/* Read what the master has now (non-blocking) into raw and the deframer. */
static gsize
pty_read_some (TestPty   *pty,
               GPtrArray *frames,
               guint      want)
{
  guint8 buf[4096];
  gsize total = 0;

  for (;;)
    {
      gssize n = read (pty->master, buf, sizeof buf);
      const guint8 *p = buf;
      gsize left;

      if (n <= 0)
        break;
      g_byte_array_append (pty->raw, buf, (guint) n);
      total += (gsize) n;
      left = (gsize) n;
      while (left > 0)
        {
          const uint8_t *payload = NULL;
          size_t payload_len = 0;
          size_t used = sp_deframer_push (&pty->deframer, p, left, &payload, &payload_len);

          p += used;
          left -= used;
          if (payload != NULL && frames != NULL)
            g_ptr_array_add (frames, g_bytes_new (payload, payload_len));
        }
      if (frames != NULL && frames->len >= want)
        break;
    }
  return total;
}

guint
test_pty_collect (TestPty   *pty,
                  GPtrArray *frames,
                  guint      n,
                  guint      timeout_ms)
{
  guint before = frames->len;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (frames->len - before < n && g_get_monotonic_time () < deadline)
    {
      struct pollfd pfd = { .fd = pty->master, .events = POLLIN };

      while (g_main_context_iteration (NULL, FALSE))
        ;
      if (pty_read_some (pty, frames, before + n) == 0)
        poll (&pfd, 1, 1);
    }
  return frames->len - before;
}

gsize
test_pty_drain (TestPty *pty,
                guint    ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;
  gsize total = 0;

  while (g_get_monotonic_time () < deadline)
    {
      struct pollfd pfd = { .fd = pty->master, .events = POLLIN };

      while (g_main_context_iteration (NULL, FALSE))
        ;
      total += pty_read_some (pty, NULL, 0);
      poll (&pfd, 1, 1);
    }
  return total;
}
