/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-first-window-helper.c: the two programs bench-first-window needs.
 *
 *   bench-first-window-helper window
 *       the baseline: the smallest GTK 4 program that shows a window (an
 *       empty GtkWindow, no GApplication, no libadwaita), measured the
 *       same way as `signet`;
 *   bench-first-window-helper log PATH N
 *       writes a sealed, closed log of N events to PATH with core's
 *       writer in memory (the mix of bench-log-open.c: hello, attest,
 *       apply, receipts, bulk, errors; one event every 20 ms).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gtk/gtk.h>

#include "signet-eventlog.h"

static guint64
fake_clock (gpointer data)
{
  guint64 *t = data;

  *t += 20;
  return *t;
}

static GBytes *
filled_bytes (gsize  n,
              guint8 seed)
{
  guint8 *p = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    p[i] = (guint8) (seed + i * 31);
  return g_bytes_new_take (p, n);
}

static int
write_log (const char *path,
           guint       n_events)
{
  g_autoptr(GBytes) digest = filled_bytes (32, 7);
  g_autoptr(GBytes) receipt = filled_bytes (140, 11);
  g_autoptr(GBytes) k0 = filled_bytes (32, 1);
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetEventLog) log = NULL;
  guint64 t = 1700000000000;
  SignetEventLogOptions opts = { .clock = fake_clock, .clock_data = &t };
  char device[32];

  log = signet_event_log_new_in_memory (k0, "alice", "bench-session", &opts, &error);
  if (log == NULL)
    g_error ("%s", error->message);
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
  contents = signet_event_log_dup_contents (log);
  if (!g_file_set_contents (path, g_bytes_get_data (contents, NULL),
                            (gssize) g_bytes_get_size (contents), &error))
    g_error ("%s", error->message);
  return 0;
}

static void
destroy_cb (GtkWidget *window,
            gpointer   data)
{
  gboolean *done = data;

  *done = TRUE;
  g_main_context_wakeup (NULL);
}

int
main (int    argc,
      char **argv)
{
  if (argc == 4 && strcmp (argv[1], "log") == 0)
    return write_log (argv[2], (guint) strtoul (argv[3], NULL, 10));
  if (argc == 2 && strcmp (argv[1], "window") == 0)
    {
      gboolean done = FALSE;
      GtkWidget *window;

      gtk_init ();
      window = gtk_window_new ();
      gtk_window_set_title (GTK_WINDOW (window), "Baseline");
      gtk_window_set_default_size (GTK_WINDOW (window), 1000, 720);
      g_signal_connect (window, "destroy", G_CALLBACK (destroy_cb), &done);
      gtk_window_present (GTK_WINDOW (window));
      while (!done)
        g_main_context_iteration (NULL, TRUE);
      return 0;
    }
  fprintf (stderr, "usage: %s window | log PATH N\n", argv[0]);
  return 2;
}
