/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * transport-test-util.h: what the transport tests share: running async
 * calls to completion on the main loop, and the device's side of a pty
 * (its master), framed with proto/sp-frame.h as a device frames.
 */
#pragma once

#include <glib.h>

#include "signet-serial-transport.h"
#include "sp-frame.h"

/* The outcome of one async call. */
typedef struct {
  gboolean done;
  gboolean ok;
  GBytes *message;          /* receive */
  GError *error;
} TestResult;

void test_result_clear (TestResult *r);

/* Callbacks that fill a TestResult (user_data). */
void test_on_open    (GObject *source, GAsyncResult *result, gpointer user_data);
void test_on_send    (GObject *source, GAsyncResult *result, gpointer user_data);
void test_on_receive (GObject *source, GAsyncResult *result, gpointer user_data);

/* Iterate the default main context until *flag or timeout_ms passed
 * (then the test fails). */
void test_wait_for (const gboolean *flag, guint timeout_ms);
/* Iterate for ms milliseconds whatever happens. */
void test_spin (guint ms);

/* Blocking helpers on top of the above (they fail the test on a timeout,
 * not on an error: look at the result). */
void     test_open    (SignetTransport *t, GCancellable *c, TestResult *r);
void     test_send    (SignetTransport *t, GBytes *message, TestResult *r);
void     test_receive (SignetTransport *t, GCancellable *c, TestResult *r);

/* The device's end of a pty pair made with posix_openpt (): the master,
 * raw and non-blocking, and a deframer for what the transport sends. */
typedef struct {
  int master;
  char *slave_path;
  sp_deframer deframer;
  guint8 deframe_buf[SP_DEFRAMER_BUF_MAX];
  GByteArray *raw;          /* every byte read from the master, in order */
} TestPty;

TestPty *test_pty_new   (void);
void     test_pty_free  (TestPty *pty);
/* Close the master (a hang-up for the slave's holder); idempotent. */
void     test_pty_hang_up (TestPty *pty);
/* Write all of data to the master (polling as needed). */
void     test_pty_write (TestPty *pty, const void *data, gsize len);
/* Write the frame of payload. */
void     test_pty_write_frame (TestPty *pty, const void *payload, gsize len);
/* The frame of payload as bytes. */
GBytes  *test_frame_encode (const void *payload, gsize len);
/* Read from the master, iterating the main context meanwhile, until n
 * good frames were deframed (appended to frames, element-type GBytes) or
 * timeout_ms passed; returns how many were added. */
guint    test_pty_collect (TestPty *pty, GPtrArray *frames, guint n, guint timeout_ms);
/* Bytes readable on the master within ms (read and kept in raw). */
gsize    test_pty_drain (TestPty *pty, guint ms);
