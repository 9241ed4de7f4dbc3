/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-test-log: writes a session log whose K_0 the test knows, for
 * `signetctl log verify --key-file` (test_signetctl.py).
 *
 *   signetctl-test-log PATH K0_HEX N [SEAL_INTERVAL]
 *
 * creates PATH with core's writer (signet_event_log_create: session.start
 * and the seals are the log's own), appends N records of type
 * "device.apply" (device "GW1-70NN", a little data) and closes the
 * session (session.end and the final seal). Then prints, one per line,
 * "INDEX SEQ OFFSET LENGTH TYPE" for every record of the file as the
 * reader finds it, for the test to cut and splice copies.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signet-eventlog.h"

static GBytes *
hex_to_bytes (const char *hex)
{
  gsize n = strlen (hex) / 2;
  guint8 *out = g_malloc (n);

  if (strlen (hex) % 2 != 0)
    g_error ("odd hex");
  for (gsize i = 0; i < n; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        g_error ("not hex: %s", hex);
      out[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (out, n);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GBytes) k0 = NULL;
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetEventLogReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  SignetEventLogOptions options = { 0 };
  SignetEventRecord *rec;
  guint n;

  if (argc < 4 || argc > 5)
    {
      fprintf (stderr, "usage: %s PATH K0_HEX N [SEAL_INTERVAL]\n", argv[0]);
      return 2;
    }
  k0 = hex_to_bytes (argv[2]);
  n = (guint) strtoul (argv[3], NULL, 10);
  options.seal_interval = argc > 4 ? (guint) strtoul (argv[4], NULL, 10) : 4;

  log = signet_event_log_create (argv[1], k0, "alice", "test-session-k0", &options, &error);
  if (log == NULL)
    g_error ("create: %s", error->message);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SignetEventData) data = signet_event_data_new ();
      g_autofree char *device = g_strdup_printf ("GW1-70%02u", i % 100);

      signet_event_data_add_text (data, "profile", "acme-wifi", NULL);
      signet_event_data_add_uint (data, "pending_version", i + 2, NULL);
      if (!signet_event_log_append (log, "device.apply", device, data, &error))
        g_error ("append: %s", error->message);
    }
  if (!signet_event_log_close_session (log, &error))
    g_error ("close: %s", error->message);

  reader = signet_event_log_reader_new_for_path (argv[1], &error);
  if (reader == NULL)
    g_error ("read: %s", error->message);
  for (guint i = 0; signet_event_log_reader_next (reader, &rec, &error); i++)
    {
      g_autoptr(GBytes) raw = signet_event_record_dup_raw (rec);

      printf ("%u %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GSIZE_FORMAT " %s\n", i,
              signet_event_record_get_seq (rec), signet_event_record_get_offset (rec),
              g_bytes_get_size (raw), signet_event_record_get_record_type (rec));
      signet_event_record_unref (rec);
    }
  if (error != NULL)
    g_error ("read: %s", error->message);
  return 0;
}
