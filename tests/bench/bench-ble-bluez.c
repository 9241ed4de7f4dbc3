/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-ble-bluez: the BLE link's throughput over a real BlueZ (the QEMU
 * guest of tests/ble/qemu/, run by the ble-bluez benchmark), with the
 * tool's real code: SignetBleTransport and its segment layer (sp-seg),
 * through bluetoothd, the kernel and btvirt's virtual controllers, to
 * `signet-devsim run --ble` (the agent's sp-seg) on the other controller.
 *
 * It needs no signetd and no sign-in: the payload is BULK_DATA requests
 * of a full chunk (1900 data bytes, the largest message a bulk transfer
 * sends), which an unauthorised device judges -- it decodes the whole
 * request -- and refuses with a short answer (docs/protocol.md "Bulk
 * transfer": any refusal is answered at once). So every request is one
 * full-size message tool -> device and one answer back, as a bulk
 * transfer's acknowledged chunks are. Two ways, in the same run, on the
 * same connection:
 *
 *   windowed       up to --inflight requests in flight (the engine's way:
 *                  the segment layer's window carries several messages)
 *   stop-and-wait  the next request only when the previous answer came
 *
 * Prints, for each: the ATT MTU, payload (data) bytes per ATT value byte
 * on the link (both directions, every segment, acknowledgements and
 * resent ones included: SignetBleStats), payload bytes/s, and the
 * segment layer's counters (resent, timeouts, duplicates, out of order);
 * then windowed / stop-and-wait. Then, with --l2cap and a device that
 * offers an LE L2CAP channel (its PSM in HELLO, `devsim run --ble
 * --l2cap`), the same requests over that channel (one SDU per message,
 * the kernel's credit-based flow control: what the engine's bulk
 * transfer uses when the device offers it), windowed, against GATT
 * windowed on the same connection. Asserts nothing about time.
 *
 *   bench-ble-bluez --adapter hci1 --name SERIAL [--count N] [--inflight N]
 *                   [--att-mtu N] [--rto MS] [--rounds N] [--l2cap]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "signet-ble-transport.h"
#include "sp-msg.h"
#include "sp-seg.h"

#define BLUEZ "org.bluez"

static void
got_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  (void) source;
  *slot = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* ---- finding the device ----------------------------------------------------- */

static char *
find_device (GDBusConnection *bus, const char *adapter, const char *name)
{
  g_autofree char *prefix = g_strdup_printf ("/org/bluez/%s/", adapter);
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) dict = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter it;
  const char *path;
  GVariant *ifaces;

  objects = g_dbus_connection_call_sync (bus, BLUEZ, "/", "org.freedesktop.DBus.ObjectManager",
                                         "GetManagedObjects", NULL,
                                         G_VARIANT_TYPE ("(a{oa{sa{sv}}})"),
                                         G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (objects == NULL)
    g_error ("GetManagedObjects: %s", error->message);
  dict = g_variant_get_child_value (objects, 0);
  g_variant_iter_init (&it, dict);
  while (g_variant_iter_next (&it, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      g_autoptr(GVariant) dev = NULL;
      g_autofree const char **uuids = NULL;
      const char *dname = NULL;
      gboolean ours = FALSE;

      dev = g_str_has_prefix (path, prefix)
            ? g_variant_lookup_value (ifaces, "org.bluez.Device1", NULL) : NULL;
      g_variant_unref (ifaces);
      if (dev == NULL)
        continue;
      if (g_variant_lookup (dev, "UUIDs", "^a&s", &uuids))
        for (guint i = 0; uuids[i] != NULL; i++)
          ours |= g_ascii_strcasecmp (uuids[i], SP_SEG_UUID_SERVICE) == 0;
      g_variant_lookup (dev, "Name", "&s", &dname);
      if (ours && (name == NULL || g_strcmp0 (dname, name) == 0))
        return g_strdup (path);
    }
  return NULL;
}

static void
adapter_call (GDBusConnection *bus, const char *apath, const char *method, GVariant *args,
              gboolean must)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) r = g_dbus_connection_call_sync (bus, BLUEZ, apath, "org.bluez.Adapter1",
                                                       method, args, NULL,
                                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

  if (r == NULL && must)
    g_error ("%s on %s: %s", method, apath, error->message);
}

/* Discovery with the service UUID filter until the device shows. Start the
 * device once the adapter's Discovering is true (bench_ble.py does): under
 * btvirt a device already advertising when the scan starts is reported
 * once, in a race the kernel's discovery state usually loses, one that
 * starts advertising during the scan always (docs/ble.md "Tests"). After
 * 5 s discovery starts again every second, each start another chance. */
static char *
discover (GDBusConnection *bus, const char *adapter, const char *name, guint timeout_s)
{
  g_autofree char *apath = g_strdup_printf ("/org/bluez/%s", adapter);
  GVariantBuilder filter;
  const char *uuids[] = { SP_SEG_UUID_SERVICE, NULL };
  gint64 end = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  gint64 again = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  guint starts = 1;
  char *path;

  if ((path = find_device (bus, adapter, name)) != NULL)
    return path;
  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&filter, "{sv}", "UUIDs", g_variant_new_strv (uuids, -1));
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  adapter_call (bus, apath, "SetDiscoveryFilter", g_variant_new ("(a{sv})", &filter), TRUE);
  adapter_call (bus, apath, "StartDiscovery", NULL, TRUE);
  while ((path = find_device (bus, adapter, name)) == NULL && g_get_monotonic_time () < end)
    {
      g_usleep (200 * 1000);
      if (g_get_monotonic_time () >= again)
        {
          adapter_call (bus, apath, "StopDiscovery", NULL, FALSE);
          adapter_call (bus, apath, "StartDiscovery", NULL, TRUE);
          starts++;
          again = g_get_monotonic_time () + G_USEC_PER_SEC;
        }
    }
  adapter_call (bus, apath, "StopDiscovery", NULL, FALSE);
  if (path == NULL)
    g_error ("no device %s with the Signet service on %s in %u s (%u discovery starts)",
             name ? name : "", adapter, timeout_s, starts);
  return path;
}

/* ---- the benchmark ------------------------------------------------------------ */

typedef struct {
  SignetTransport *t;
  guint count;
  guint inflight;
  guint sent;
  guint answered;
  guint in_flight;
  guint32 id_base;
  GPtrArray *messages;      /* GBytes, one per request */
  GError *error;
  gboolean receiving;
} Run;

static GBytes *
bulk_data (guint32 id, guint64 offset)
{
  static guint8 data[SP_MSG_BULK_CHUNK_MAX];
  guint8 out[SP_MSG_MAX];
  sp_msg_request req;
  size_t len = 0;

  for (gsize i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i * 31 + id);
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_BULK_DATA;
  req.id = id;
  req.offset = offset;
  req.data.ptr = data;
  req.data.len = sizeof data;
  if (sp_msg_request_encode (&req, out, sizeof out, &len) != SP_OK)
    g_error ("sp_msg_request_encode");
  return g_bytes_new (out, len);
}

/* The PSM of the device's L2CAP channel from HELLO (0: none offered). */
static guint16
hello_psm (SignetTransport *t)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GBytes) msg = NULL;
  sp_msg_request req;
  sp_msg_response resp;
  guint8 out[64];
  size_t len = 0;
  gsize alen;
  const guint8 *p;

  memset (&req, 0, sizeof req);
  req.type = SP_MSG_HELLO;
  req.id = 0x7fff0000u;
  if (sp_msg_request_encode (&req, out, sizeof out, &len) != SP_OK)
    g_error ("sp_msg_request_encode (HELLO)");
  msg = g_bytes_new (out, len);
  signet_transport_send_async (t, msg, NULL, got_result, &res);
  if (!signet_transport_send_finish (t, wait_for (&res), &error))
    g_error ("HELLO: %s", error->message);
  g_clear_object (&res);
  signet_transport_receive_async (t, NULL, got_result, &res);
  answer = signet_transport_receive_finish (t, wait_for (&res), &error);
  if (answer == NULL)
    g_error ("HELLO: %s", error->message);
  p = g_bytes_get_data (answer, &alen);
  if (sp_msg_response_decode (p, alen, &resp) != SP_OK || resp.id != req.id)
    g_error ("HELLO: not its answer");
  return (resp.capabilities & SP_MSG_CAP_L2CAP) != 0 && resp.has_psm && resp.psm <= G_MAXUINT16
         ? (guint16) resp.psm : 0;
}

static void run_next (Run *r);

static void
on_sent (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *r = user_data;
  g_autoptr(GError) error = NULL;

  if (!signet_transport_send_finish (SIGNET_TRANSPORT (source), result, &error) &&
      r->error == NULL)
    r->error = g_steal_pointer (&error);
}

static void
on_received (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *r = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) msg = signet_transport_receive_finish (SIGNET_TRANSPORT (source), result,
                                                           &error);
  sp_msg_response resp;
  gsize len;
  const guint8 *p;

  r->receiving = FALSE;
  if (msg == NULL)
    {
      if (r->error == NULL)
        r->error = g_steal_pointer (&error);
      return;
    }
  p = g_bytes_get_data (msg, &len);
  if (sp_msg_response_decode (p, len, &resp) != SP_OK ||
      resp.type != (SP_MSG_BULK_DATA | SP_MSG_RESPONSE_BIT) ||
      resp.id != r->id_base + r->answered)
    {
      if (r->error == NULL)
        r->error = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                "answer %u: not the BULK_DATA answer expected", r->answered);
      return;
    }
  r->answered++;
  r->in_flight--;
  run_next (r);
}

static void
run_next (Run *r)
{
  while (r->sent < r->count && r->in_flight < r->inflight)
    {
      signet_transport_send_async (r->t, g_ptr_array_index (r->messages, r->sent), NULL, on_sent,
                                   r);
      r->sent++;
      r->in_flight++;
    }
  if (r->answered < r->count && !r->receiving)
    {
      r->receiving = TRUE;
      signet_transport_receive_async (r->t, NULL, on_received, r);
    }
}

typedef struct {
  double seconds;
  double payload;
  SignetBleStats d;
} Result;

static void
stats_delta (const SignetBleStats *a, const SignetBleStats *b, SignetBleStats *d)
{
  d->segments_sent = b->segments_sent - a->segments_sent;
  d->segments_resent = b->segments_resent - a->segments_resent;
  d->segments_received = b->segments_received - a->segments_received;
  d->control_sent = b->control_sent - a->control_sent;
  d->bytes_sent = b->bytes_sent - a->bytes_sent;
  d->bytes_received = b->bytes_received - a->bytes_received;
  d->duplicates = b->duplicates - a->duplicates;
  d->out_of_order = b->out_of_order - a->out_of_order;
  d->timeouts = b->timeouts - a->timeouts;
  d->dropped = b->dropped - a->dropped;
}

static Result
measure (SignetBleTransport *ble, guint count, guint inflight, guint32 *next_id)
{
  Run r = { 0 };
  SignetBleStats before, after;
  Result res = { 0 };
  gint64 start;

  r.t = SIGNET_TRANSPORT (ble);
  r.count = count;
  r.inflight = inflight;
  r.id_base = *next_id;
  r.messages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < count; i++)
    g_ptr_array_add (r.messages, bulk_data (r.id_base + i, (guint64) i * SP_MSG_BULK_CHUNK_MAX));
  *next_id += count;
  signet_ble_transport_get_stats (ble, &before);
  start = g_get_monotonic_time ();
  run_next (&r);
  while (r.answered < r.count && r.error == NULL)
    g_main_context_iteration (NULL, TRUE);
  res.seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  if (r.error != NULL)
    g_error ("%s after %u of %u answers", r.error->message, r.answered, r.count);
  /* let the last acknowledgements settle before reading the counters */
  while (r.receiving)
    g_main_context_iteration (NULL, TRUE);
  signet_ble_transport_get_stats (ble, &after);
  stats_delta (&before, &after, &res.d);
  res.payload = (double) count * SP_MSG_BULK_CHUNK_MAX;
  g_ptr_array_unref (r.messages);
  return res;
}

static void
print_result (const char *what, guint mtu, const Result *x)
{
  double link = (double) (x->d.bytes_sent + x->d.bytes_received);

  g_print ("%-4u %-14s %8.0f %9.0f %6.3f %7.2f %9.0f %7" G_GUINT64_FORMAT " %6" G_GUINT64_FORMAT
           " %6" G_GUINT64_FORMAT " %6" G_GUINT64_FORMAT " %6" G_GUINT64_FORMAT "\n",
           mtu, what, x->payload, link, x->payload / link, x->seconds, x->payload / x->seconds,
           x->d.segments_sent, x->d.segments_resent, x->d.timeouts, x->d.duplicates,
           x->d.out_of_order);
}

int
main (int argc, char **argv)
{
  g_autofree char *adapter = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  gint count = 32, inflight = 8, rto = 0, rounds = 1, timeout = 60, att_mtu = 0;
  gboolean l2cap = FALSE;
  GOptionEntry entries[] = {
    { "adapter", 0, 0, G_OPTION_ARG_STRING, &adapter, "The tool's controller (hci1)", "HCI" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The device's advertised name", "NAME" },
    { "count", 0, 0, G_OPTION_ARG_INT, &count, "Requests per measurement (32)", "N" },
    { "inflight", 0, 0, G_OPTION_ARG_INT, &inflight, "Requests in flight, windowed (8)", "N" },
    { "att-mtu", 0, 0, G_OPTION_ARG_INT, &att_mtu, "Use at most this ATT MTU (the link's)", "N" },
    { "rto", 0, 0, G_OPTION_ARG_INT, &rto, "Segment retransmission timeout, ms (default)", "MS" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "Alternating measurements of each (1)", "N" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, "Discovery timeout, s (60)", "S" },
    { "l2cap", 0, 0, G_OPTION_ARG_NONE, &l2cap, "Also over the device's L2CAP channel", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- BLE link throughput over BlueZ");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) bus = NULL;
  g_autoptr(SignetBleTransport) ble = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  Result win = { 0 }, sw = { 0 };
  g_autoptr(GBytes) sample = bulk_data (0, 0);
  guint32 next_id = 1;
  guint mtu;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (adapter == NULL)
    adapter = g_strdup ("hci1");
  bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, &error);
  if (bus == NULL)
    g_error ("system bus: %s", error->message);
  path = discover (bus, adapter, name, (guint) timeout);

  ble = signet_ble_transport_new (path);
  signet_ble_transport_set_receive_timeout (ble, 20000);
  if (att_mtu > 0)
    signet_ble_transport_set_max_att_mtu (ble, (guint) att_mtu);
  if (rto > 0)
    signet_ble_transport_set_retransmit (ble, (guint) rto, 0);
  signet_transport_open_async (SIGNET_TRANSPORT (ble), NULL, got_result, &res);
  if (!signet_transport_open_finish (SIGNET_TRANSPORT (ble), wait_for (&res), &error))
    g_error ("open %s: %s", path, error->message);
  mtu = signet_ble_transport_get_att_mtu (ble);
  g_print ("# %s: ATT MTU %u (%s), %d requests of %u data bytes (%u-byte messages) each way"
           ", %d in flight windowed\n", path, mtu,
           signet_ble_transport_get_acquired (ble) ? "AcquireWrite/AcquireNotify"
                                                   : "WriteValue/StartNotify",
           count, SP_MSG_BULK_CHUNK_MAX, (guint) g_bytes_get_size (sample), inflight);
  g_print ("%-4s %-14s %8s %9s %6s %7s %9s %7s %6s %6s %6s %6s\n", "mtu", "mode", "payload",
           "att-bytes", "eff", "s", "B/s", "segs", "resent", "rto", "dup", "gap");
  /* warm-up: a few round trips (code paths, the connection's first events) */
  measure (ble, 4, 1, &next_id);
  for (gint i = 0; i < rounds; i++)
    {
      Result a = measure (ble, (guint) count, (guint) inflight, &next_id);
      Result b = measure (ble, (guint) count, 1, &next_id);

      print_result ("windowed", mtu, &a);
      print_result ("stop-and-wait", mtu, &b);
      win.seconds += a.seconds;
      win.payload += a.payload;
      sw.seconds += b.seconds;
      sw.payload += b.payload;
    }
  g_print ("RESULT mtu=%u windowed=%.0f stop-and-wait=%.0f ratio=%.2f\n", mtu,
           win.payload / win.seconds, sw.payload / sw.seconds,
           (win.payload / win.seconds) / (sw.payload / sw.seconds));
  if (l2cap)
    {
      guint16 psm = hello_psm (SIGNET_TRANSPORT (ble));
      SignetBleStats before, after;
      Result l = { 0 };
      gint64 start;

      if (psm == 0)
        g_error ("--l2cap: the device offers no L2CAP channel in HELLO");
      g_clear_object (&res);
      signet_ble_transport_open_l2cap_async (ble, psm, NULL, got_result, &res);
      if (!signet_ble_transport_open_l2cap_finish (ble, wait_for (&res), &error))
        g_error ("L2CAP PSM %u: %s", psm, error->message);
      g_clear_object (&res);
      signet_ble_transport_get_stats (ble, &before);
      start = g_get_monotonic_time ();
      for (gint i = 0; i < rounds; i++)
        {
          Result a = measure (ble, (guint) count, (guint) inflight, &next_id);

          l.payload += a.payload;
        }
      l.seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
      signet_ble_transport_get_stats (ble, &after);
      g_print ("%-4u %-14s %8.0f %9s %6s %7.2f %9.0f  (PSM %u: %" G_GUINT64_FORMAT " SDUs sent, %"
               G_GUINT64_FORMAT " received, %" G_GUINT64_FORMAT " GATT segments)\n", mtu,
               "l2cap", l.payload, "-", "-", l.seconds, l.payload / l.seconds, psm,
               after.l2cap_sent - before.l2cap_sent, after.l2cap_received - before.l2cap_received,
               after.segments_sent - before.segments_sent);
      g_print ("RESULT mtu=%u l2cap=%.0f gatt-windowed=%.0f ratio=%.2f\n", mtu,
               l.payload / l.seconds, win.payload / win.seconds,
               (l.payload / l.seconds) / (win.payload / win.seconds));
    }
  signet_transport_close (SIGNET_TRANSPORT (ble));
  /* Let the link go now (the next run may want the controllers). */
  g_clear_pointer (&res, g_object_unref);
  g_dbus_connection_call (bus, BLUEZ, path, "org.bluez.Device1", "Disconnect", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NONE, 10000, NULL, got_result, &res);
  g_variant_unref (g_dbus_connection_call_finish (bus, wait_for (&res), NULL) ?: g_variant_new ("()"));
  return EXIT_SUCCESS;
}
