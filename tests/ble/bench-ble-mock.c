/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-ble-mock: a firmware image through the engine over the emulated
 * BLE link (docs/ble.md "Benchmarks"): SignetDeviceSession's bulk
 * transfer over the real SignetBleTransport and sp-seg, against
 * python3-dbusmock with tests/ble/bluez_gatt_template.py (its own Python
 * segment layer) bridged to a real signet-devsim -- at ATT MTU 23, 185
 * and 247, the engine's windowed transfer (quiet chunks,
 * SIGNET_DEVICE_SESSION_BULK_WINDOW_DEFAULT in flight) next to
 * stop-and-wait (bulk window 1: every chunk answered before the next) in
 * the same run on the same link. Prints payload (firmware) bytes per ATT
 * value byte on the link (SignetBleStats, both directions), throughput
 * and windowed / stop-and-wait. The emulated link has no air time: what
 * bounds it is the CPU of the template, the devsim and the tool, so this
 * measures the layers' cost and overhead, not a radio (the real-BlueZ
 * bench is tests/bench/bench-ble-bluez, the model bench-ble-model).
 *
 *   meson test -C _build --benchmark --suite ble-mock -v ble-mock-bulk
 *   bench-ble-mock SIGNETD SIGNET_DEVSIM MODELS_DIR TEMPLATE [KIB]   (default 256)
 *
 * Run under dbus-run-session with DBUS_SYSTEM_BUS_ADDRESS set to the
 * session bus (tests/ble/meson.build does it).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine-fixture.h"
#include "signet-ble-transport.h"

static const char firmware_profile_json[] =
  "{\"id\": \"acme-firmware\", \"version\": 1, \"model\": \"acme-gw1\", \"class\": \"firmware\",\n"
  " \"critical\": true, \"description\": \"Firmware image and update channel\",\n"
  " \"fields\": [\n"
  "   {\"key\": \"update.channel\", \"type\": \"enum\", \"values\": [\"stable\", \"beta\"]}]}\n";

static GDBusConnection *bus;

static gboolean
bluez_owned (void)
{
  g_autoptr(GVariant) ret = NULL;
  gboolean has = FALSE;

  ret = g_dbus_connection_call_sync (bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                     "org.freedesktop.DBus", "NameHasOwner",
                                     g_variant_new ("(s)", "org.bluez"), G_VARIANT_TYPE ("(b)"),
                                     G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
  if (ret != NULL)
    g_variant_get (ret, "(b)", &has);
  return has;
}

static GVariant *
mock_call (const char *iface, const char *method, GVariant *args, const char *reply)
{
  g_autoptr(GError) error = NULL;
  GVariant *ret = g_dbus_connection_call_sync (bus, "org.bluez", "/", iface, method, args,
                                               reply != NULL ? G_VARIANT_TYPE (reply) : NULL,
                                               G_DBUS_CALL_FLAGS_NONE, 10000, NULL, &error);

  if (ret == NULL)
    g_error ("%s: %s", method, error->message);
  return ret;
}

static GBytes *
make_image (gsize size, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint8 *p = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    p[i] = (guint8) g_rand_int (rand);
  return g_bytes_new_take (p, size);
}

typedef struct {
  double seconds;
  double payload;
  guint64 att;
  guint64 resent;
} Result;

static Result
transfer (FixtureDevice *d, SignetBleTransport *ble, gsize size, guint window, guint32 seed)
{
  g_autoptr(GBytes) image = make_image (size, seed);
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetDeviceTransfer) t = NULL;
  SignetBleStats a, b;
  Result r = { 0 };
  gint64 start;

  signet_device_session_set_bulk_window (d->session, window);
  signet_ble_transport_get_stats (ble, &a);
  start = g_get_monotonic_time ();
  FIXTURE_AWAIT (signet_device_session_transfer_async (d->session, image, NULL,
                                                       fixture_got_result, &res), res);
  t = signet_device_session_transfer_finish (d->session, res, &error);
  r.seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  if (t == NULL)
    g_error ("transfer: %s", error->message);
  if (t->resumed_from != 0 || t->bytes_sent != size)
    g_error ("transfer: resumed at %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " bytes sent",
             t->resumed_from, t->bytes_sent);
  signet_ble_transport_get_stats (ble, &b);
  r.payload = (double) size;
  r.att = (b.bytes_sent - a.bytes_sent) + (b.bytes_received - a.bytes_received);
  r.resent = b.segments_resent - a.segments_resent;
  return r;
}

static void
print_row (guint mtu, const char *mode, const Result *r)
{
  g_print ("%-4u %-14s %8.0f %9" G_GUINT64_FORMAT " %6.3f %7.2f %9.0f %7" G_GUINT64_FORMAT "\n",
           mtu, mode, r->payload, r->att, r->payload / (double) r->att, r->seconds,
           r->payload / r->seconds, r->resent);
}

int
main (int argc, char **argv)
{
  const char *profiles[] = { firmware_profile_json, NULL };
  const char *provision[] = { "--flash-size", "8M", NULL };
  const guint16 mtus[] = { 23, 185, 247 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) mock = NULL;
  const char *template_path;
  gsize size;
  guint32 seed = 1;
  Fixture f;

  g_test_init (&argc, &argv, NULL);
  if (argc < 5 || !fixture_parse_args (argc, argv) || g_getenv ("DBUS_SYSTEM_BUS_ADDRESS") == NULL)
    {
      g_printerr ("usage: bench-ble-mock SIGNETD SIGNET_DEVSIM MODELS_DIR TEMPLATE [KIB]\n"
                  "(under dbus-run-session, DBUS_SYSTEM_BUS_ADDRESS set)\n");
      return 77;
    }
  template_path = argv[4];
  size = (argc > 5 ? (gsize) g_ascii_strtoull (argv[5], NULL, 10) : 256) * 1024;
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    g_error ("bus: %s", error->message);
  mock = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "/usr/bin/python3", "-m",
                           "dbusmock", "--system", "-t", template_path, NULL);
  if (mock == NULL)
    g_error ("dbusmock: %s", error->message);
  for (gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC; !bluez_owned ();)
    {
      if (g_get_monotonic_time () > end)
        g_error ("dbusmock did not take org.bluez");
      g_usleep (10000);
    }
  g_variant_unref (mock_call ("org.bluez.Mock", "AddAdapter",
                              g_variant_new ("(ss)", "hci0", "signet-bench"), "(s)"));
  fixture_setup (&f, NULL, profiles);

  g_print ("# firmware image of %" G_GSIZE_FORMAT " bytes through SignetDeviceSession over "
           "SignetBleTransport, emulated BlueZ (dbusmock + template) to signet-devsim; "
           "windowed: bulk window %u, stop-and-wait: 1\n", size,
           SIGNET_DEVICE_SESSION_BULK_WINDOW_DEFAULT);
  g_print ("%-4s %-14s %8s %9s %6s %7s %9s %7s\n", "mtu", "mode", "payload", "att-bytes", "eff",
           "s", "B/s", "resent");
  for (guint i = 0; i < G_N_ELEMENTS (mtus); i++)
    {
      g_autofree char *name = g_strdup_printf ("bench-%u", mtus[i]);
      g_autofree char *serial = g_strdup_printf ("GW1-8%03u", mtus[i]);
      g_autofree char *address = g_strdup_printf ("C0:FF:EE:BE:00:%02X", i);
      g_autofree char *path = NULL;
      g_autoptr(GVariant) ret = NULL;
      g_autoptr(SignetBleTransport) ble = NULL;
      g_autoptr(GAsyncResult) res = NULL;
      FixtureDevice d;
      Result w, s;

      fixture_device_start_full (&f, &d, name, "acme-gw1", serial, provision, NULL);
      /* the pty is the template's now */
      g_clear_object (&d.session);
      signet_transport_close (SIGNET_TRANSPORT (d.transport));
      g_clear_object (&d.transport);
      ret = mock_call ("org.bluez.SignetMock", "AddSignetDevice",
                       g_variant_new ("(sssnsqb)", "hci0", address, serial, (gint16) -60, d.pty,
                                      mtus[i], TRUE), "(o)");
      g_variant_get (ret, "(o)", &path);
      ble = signet_ble_transport_new (path);
      signet_ble_transport_set_receive_timeout (ble, 30000);
      FIXTURE_AWAIT (signet_transport_open_async (SIGNET_TRANSPORT (ble), NULL,
                                                  fixture_got_result, &res), res);
      if (!signet_transport_open_finish (SIGNET_TRANSPORT (ble), res, &error))
        g_error ("open: %s", error->message);
      d.session = signet_device_session_new (SIGNET_TRANSPORT (ble), f.client, f.session,
                                             f.trust, f.log);
      fixture_device_open (&d);
      transfer (&d, ble, 8 * 1024, SIGNET_DEVICE_SESSION_BULK_WINDOW_DEFAULT, seed++); /* warm-up */
      w = transfer (&d, ble, size, SIGNET_DEVICE_SESSION_BULK_WINDOW_DEFAULT, seed++);
      s = transfer (&d, ble, size, 1, seed++);
      print_row (mtus[i], "windowed", &w);
      print_row (mtus[i], "stop-and-wait", &s);
      g_print ("RESULT mtu=%u windowed=%.0f stop-and-wait=%.0f ratio=%.2f\n", mtus[i],
               w.payload / w.seconds, s.payload / s.seconds,
               (w.payload / w.seconds) / (s.payload / s.seconds));
      {
        g_autoptr(GVariant) st = mock_call ("org.bluez.SignetMock", "GetStats",
                                            g_variant_new ("(o)", path), "(a{st})");
        g_autoptr(GVariant) dict = g_variant_get_child_value (st, 0);
        guint64 to_device = 0, resent = 0, messages_in = 0;

        g_variant_lookup (dict, "to_device", "t", &to_device);
        g_variant_lookup (dict, "messages_in", "t", &messages_in);
        g_variant_lookup (dict, "seg_resent", "t", &resent);
        g_print ("# the template (device side): %" G_GUINT64_FORMAT " segments in, %"
                 G_GUINT64_FORMAT " messages in, %" G_GUINT64_FORMAT " segments resent\n",
                 to_device, messages_in, resent);
      }
      g_clear_object (&d.session);
      signet_transport_close (SIGNET_TRANSPORT (ble));
      fixture_device_stop (&d);
    }
  fixture_teardown (&f);
  g_subprocess_send_signal (mock, SIGTERM);
  g_subprocess_wait (mock, NULL, NULL);
  return EXIT_SUCCESS;
}
