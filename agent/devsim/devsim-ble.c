/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A GATT peripheral through BlueZ for the simulated device (devsim-ble.h,
 * docs/ble.md). */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#ifdef DEVSIM_HAVE_L2CAP
#include <bluetooth/bluetooth.h>
#include <bluetooth/l2cap.h>
#endif

#include "devsim-ble.h"
#include "devsim-error.h"
#include "sp-frame.h"
#include "sp-seg.h"

#define BLUEZ "org.bluez"
#define SERVICE_PATH DEVSIM_BLE_APP_PATH "/service0"
#define RX_PATH SERVICE_PATH "/rx"
#define TX_PATH SERVICE_PATH "/tx"
#define GATT_CHRC "org.bluez.GattCharacteristic1"
#define L2CAP_SDU_MAX (SP_SEG_MSG_MAX + SP_SEG_CRC_LEN)
#define L2CAP_CHANNELS_MAX 4
#define DEVSIM_BLE_SEG_MTU_MAX (512 + 3)

typedef struct {
  DevsimBle *ble;
  guint id;                 /* channel number, 1.. */
  int fd;
  guint watch;
} L2capChannel;

struct _DevsimBle {
  DevsimBleOptions opts;
  char *adapter;
  char *adapter_path;
  char *local_name;
  DevsimBleMessageFunc on_message;
  DevsimBleEventFunc on_event;
  gpointer user_data;

  GDBusConnection *bus;
  GCancellable *cancel;
  guint reg_ids[5];
  guint name_watch;
  gboolean bluez_present;
  guint registered;         /* 2: application and advertisement */

  /* the segment layer */
  sp_seg seg;
  guint8 rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  guint16 mtu;              /* the ATT MTU BlueZ reported */
  GQueue sent;              /* GBytes given to sp_seg_send, oldest first */
  GQueue backlog;           /* GBytes not yet accepted by sp_seg_send */
  guint timer;

  /* RX: sockets from AcquireWrite (BlueZ may ask more than once) */
  GPtrArray *rx_sources;    /* GSource ids as GUINT_TO_POINTER */
  GHashTable *rx_fds;       /* source id -> fd */
  /* TX: the AcquireNotify socket, or notifications as PropertiesChanged */
  int tx_fd;
  guint tx_watch;           /* G_IO_OUT, while segments wait */
  guint tx_hup;             /* BlueZ closing it */
  gboolean notifying;       /* StartNotify (no socket) */
  GQueue tx_pending;        /* GBytes segments waiting for a writable socket */
  gboolean connected;

  /* L2CAP */
  int l2_listen;
  guint l2_listen_watch;
  guint16 psm;
  GPtrArray *channels;      /* L2capChannel */
  guint next_channel;
};

static void pump (DevsimBle *self);
static void link_reset (DevsimBle *self, const char *why);

static guint32
now_ms (void)
{
  return (guint32) (g_get_monotonic_time () / 1000);
}

static void
emit (DevsimBle  *self,
      const char *event,
      const char *detail)
{
  if (self->on_event != NULL)
    self->on_event (event, detail, self->user_data);
}

/* ---- introspection ----------------------------------------------------------- */

static const char introspection_xml[] =
  "<node>"
  " <interface name='org.freedesktop.DBus.ObjectManager'>"
  "  <method name='GetManagedObjects'><arg type='a{oa{sa{sv}}}' direction='out'/></method>"
  " </interface>"
  " <interface name='org.bluez.GattService1'>"
  "  <property name='UUID' type='s' access='read'/>"
  "  <property name='Primary' type='b' access='read'/>"
  " </interface>"
  " <interface name='org.bluez.GattCharacteristic1'>"
  "  <method name='ReadValue'><arg type='a{sv}' direction='in'/>"
  "   <arg type='ay' direction='out'/></method>"
  "  <method name='WriteValue'><arg type='ay' direction='in'/>"
  "   <arg type='a{sv}' direction='in'/></method>"
  "  <method name='AcquireWrite'><arg type='a{sv}' direction='in'/>"
  "   <arg type='h' direction='out'/><arg type='q' direction='out'/></method>"
  "  <method name='AcquireNotify'><arg type='a{sv}' direction='in'/>"
  "   <arg type='h' direction='out'/><arg type='q' direction='out'/></method>"
  "  <method name='StartNotify'/>"
  "  <method name='StopNotify'/>"
  "  <property name='UUID' type='s' access='read'/>"
  "  <property name='Service' type='o' access='read'/>"
  "  <property name='Flags' type='as' access='read'/>"
  " </interface>"
  " <interface name='org.bluez.LEAdvertisement1'>"
  "  <method name='Release'/>"
  "  <property name='Type' type='s' access='read'/>"
  "  <property name='ServiceUUIDs' type='as' access='read'/>"
  "  <property name='LocalName' type='s' access='read'/>"
  "  <property name='Discoverable' type='b' access='read'/>"
  " </interface>"
  "</node>";

static GDBusNodeInfo *introspection;

static GDBusInterfaceInfo *
iface (const char *name)
{
  return g_dbus_node_info_lookup_interface (introspection, name);
}

/* The properties of one object's interface, as GetManagedObjects and Get
 * give them. RX and TX also carry WriteAcquired / NotifyAcquired, which
 * tell BlueZ that AcquireWrite / AcquireNotify are there (they are not
 * in the introspection above, so GDBus answers Get for them through
 * get_property). */
static GVariant *
chrc_props (const char *path)
{
  GVariantBuilder b;
  gboolean rx = g_str_equal (path, RX_PATH);
  const char *rx_flags[] = { "write-without-response", "write", NULL };
  const char *tx_flags[] = { "notify", NULL };

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&b, "{sv}", "UUID", g_variant_new_string (rx ? SP_SEG_UUID_RX : SP_SEG_UUID_TX));
  g_variant_builder_add (&b, "{sv}", "Service", g_variant_new_object_path (SERVICE_PATH));
  g_variant_builder_add (&b, "{sv}", "Flags", g_variant_new_strv (rx ? rx_flags : tx_flags, -1));
  g_variant_builder_add (&b, "{sv}", rx ? "WriteAcquired" : "NotifyAcquired",
                         g_variant_new_boolean (FALSE));
  return g_variant_builder_end (&b);
}

static GVariant *
managed_objects (void)
{
  GVariantBuilder b, svc;
  const char *paths[] = { RX_PATH, TX_PATH };

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{oa{sa{sv}}}"));
  g_variant_builder_init (&svc, G_VARIANT_TYPE ("a{sv}"));
  g_variant_builder_add (&svc, "{sv}", "UUID", g_variant_new_string (SP_SEG_UUID_SERVICE));
  g_variant_builder_add (&svc, "{sv}", "Primary", g_variant_new_boolean (TRUE));
  g_variant_builder_add (&b, "{o@a{sa{sv}}}", SERVICE_PATH,
                         g_variant_new_parsed ("{'org.bluez.GattService1': %@a{sv}}",
                                               g_variant_builder_end (&svc)));
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    g_variant_builder_add (&b, "{o@a{sa{sv}}}", paths[i],
                           g_variant_new_parsed ("{'org.bluez.GattCharacteristic1': %@a{sv}}",
                                                 chrc_props (paths[i])));
  return g_variant_builder_end (&b);
}

/* ---- segments out ------------------------------------------------------------- */

static void
report_fault (DevsimBle         *self,
              const char        *dir,
              DevsimFaultAction  action)
{
  g_autofree char *detail = NULL;

  if (action == DEVSIM_FAULT_PASS)
    return;
  detail = g_strdup_printf ("%s:%s", dir, devsim_fault_action_to_string (action));
  emit (self, "fault", detail);
}

static gboolean on_tx_writable (gint fd, GIOCondition cond, gpointer user_data);

/* Write one segment to the notify socket, or queue it. TRUE: it went. */
static gboolean
tx_write_now (DevsimBle    *self,
              const guint8 *data,
              gsize         len)
{
  for (;;)
    {
      ssize_t n = send (self->tx_fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

      if (n >= 0)
        return TRUE;
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return FALSE;
      /* The socket broke: the hang-up watch cleans up; the segment is
       * lost, as on the air. */
      return TRUE;
    }
}

static void
tx_segment (DevsimBle    *self,
            const guint8 *data,
            gsize         len)
{
  if (self->tx_fd >= 0)
    {
      if (g_queue_is_empty (&self->tx_pending) && tx_write_now (self, data, len))
        return;
      g_queue_push_tail (&self->tx_pending, g_bytes_new (data, len));
      if (self->tx_watch == 0)
        self->tx_watch = g_unix_fd_add (self->tx_fd, G_IO_OUT, on_tx_writable, self);
      return;
    }
  if (self->notifying && self->bus != NULL)
    {
      GVariantBuilder changed;

      g_variant_builder_init (&changed, G_VARIANT_TYPE ("a{sv}"));
      g_variant_builder_add (&changed, "{sv}", "Value",
                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1));
      g_dbus_connection_emit_signal (self->bus, NULL, TX_PATH, "org.freedesktop.DBus.Properties",
                                     "PropertiesChanged",
                                     g_variant_new ("(sa{sv}as)", GATT_CHRC, &changed, NULL),
                                     NULL);
    }
}

/* One segment from sp_seg_poll, through the fault injection. */
static void
send_segment (DevsimBle    *self,
              const guint8 *data,
              gsize         len)
{
  g_autoptr(GByteArray) out = NULL;
  DevsimFaultAction action;

  if (self->opts.faults == NULL || !self->opts.faults_out
      || !devsim_faults_enabled (self->opts.faults))
    {
      tx_segment (self, data, len);
      return;
    }
  out = g_byte_array_new ();
  action = devsim_faults_apply (self->opts.faults, data, len, out);
  report_fault (self, "out", action);
  for (gsize off = 0; off + len <= out->len && len > 0; off += len)
    tx_segment (self, out->data + off, len);
}

static gboolean
on_tx_writable (gint         fd,
                GIOCondition cond,
                gpointer     user_data)
{
  DevsimBle *self = user_data;
  GBytes *b;

  while ((b = g_queue_peek_head (&self->tx_pending)) != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (b, &len);

      if (!tx_write_now (self, data, len))
        return G_SOURCE_CONTINUE;
      g_bytes_unref (g_queue_pop_head (&self->tx_pending));
    }
  self->tx_watch = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

static gboolean
can_transmit (DevsimBle *self)
{
  return (self->tx_fd >= 0 && g_queue_is_empty (&self->tx_pending)) || self->notifying;
}

static void
take_sent (DevsimBle *self)
{
  unsigned n = sp_seg_take_sent (&self->seg);

  while (n-- > 0 && !g_queue_is_empty (&self->sent))
    g_bytes_unref (g_queue_pop_head (&self->sent));
  /* Room again: answers that waited. */
  while (!g_queue_is_empty (&self->backlog))
    {
      GBytes *b = g_queue_peek_head (&self->backlog);
      gsize len;
      const guint8 *data = g_bytes_get_data (b, &len);

      if (sp_seg_send (&self->seg, data, len) != SP_SEG_OK)
        break;
      g_queue_push_tail (&self->sent, g_queue_pop_head (&self->backlog));
    }
}

static gboolean
on_timer (gpointer user_data)
{
  DevsimBle *self = user_data;

  self->timer = 0;
  pump (self);
  return G_SOURCE_REMOVE;
}

/* Send what the segment layer has, and arm its timer. */
static void
pump (DevsimBle *self)
{
  guint8 seg[SP_SEG_MAX];
  guint32 deadline;
  gsize n;

  take_sent (self);
  if (sp_seg_get_state (&self->seg) == SP_SEG_STATE_FAILED)
    {
      /* The tool stopped acknowledging: forget the answers, wait for its
       * RESET (or a new connection). */
      link_reset (self, "the tool stopped acknowledging");
      return;
    }
  while (can_transmit (self) && (n = sp_seg_poll (&self->seg, now_ms (), seg, sizeof seg)) > 0)
    send_segment (self, seg, n);
  take_sent (self);
  g_clear_handle_id (&self->timer, g_source_remove);
  if (sp_seg_next_deadline (&self->seg, &deadline))
    {
      gint32 wait = (gint32) (deadline - now_ms ());

      self->timer = g_timeout_add ((guint) CLAMP (wait, 1, 60000), on_timer, self);
    }
}

static void
clear_queues (DevsimBle *self)
{
  g_queue_clear_full (&self->sent, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&self->backlog, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&self->tx_pending, (GDestroyNotify) g_bytes_unref);
}

/* A fresh segment layer: seq 0 both ways (a new connection). */
static void
link_reset (DevsimBle  *self,
            const char *why)
{
  clear_queues (self);
  g_clear_handle_id (&self->timer, g_source_remove);
  sp_seg_init (&self->seg, SP_SEG_ROLE_DEVICE, self->mtu, self->opts.window, self->rxbuf,
               sizeof self->rxbuf, now_ms ());
  if (why != NULL)
    g_debug ("link reset: %s", why);
}

void
devsim_ble_send (DevsimBle    *self,
                 guint         channel,
                 const guint8 *msg,
                 gsize         len)
{
  GBytes *b;

  if (channel != 0)
    {
#ifdef DEVSIM_HAVE_L2CAP
      for (guint i = 0; i < self->channels->len; i++)
        {
          L2capChannel *ch = g_ptr_array_index (self->channels, i);
          guint8 sdu[L2CAP_SDU_MAX];
          guint32 crc;

          if (ch->id != channel || len > SP_SEG_MSG_MAX)
            continue;
          memcpy (sdu, msg, len);
          crc = sp_crc32 (msg, len);
          sdu[len] = (guint8) crc;
          sdu[len + 1] = (guint8) (crc >> 8);
          sdu[len + 2] = (guint8) (crc >> 16);
          sdu[len + 3] = (guint8) (crc >> 24);
          /* Blocking for at most the kernel's credits: the answer is one
           * SDU and the tool reads. */
          if (send (ch->fd, sdu, len + 4, MSG_NOSIGNAL) < 0)
            g_debug ("l2cap send: %s", g_strerror (errno));
        }
#endif
      return;
    }
  b = g_bytes_new (msg, len);
  if (g_queue_is_empty (&self->backlog) && sp_seg_send (&self->seg, msg, len) == SP_SEG_OK)
    g_queue_push_tail (&self->sent, b);
  else
    g_queue_push_tail (&self->backlog, b);
  pump (self);
}

/* ---- segments in ---------------------------------------------------------------- */

static void
input_one (DevsimBle    *self,
           const guint8 *data,
           gsize         len)
{
  size_t msg_len = 0;
  unsigned ev = sp_seg_input (&self->seg, now_ms (), data, len, &msg_len);

  if (ev & SP_SEG_EV_RESET)
    {
      /* Every queued answer was dropped by the layer; so are ours. */
      take_sent (self);
      g_queue_clear_full (&self->backlog, (GDestroyNotify) g_bytes_unref);
      g_queue_clear_full (&self->sent, (GDestroyNotify) g_bytes_unref);
    }
  if ((ev & SP_SEG_EV_MESSAGE) && self->on_message != NULL)
    self->on_message (self->rxbuf, msg_len, 0, self->user_data);
}

static void
input_segment (DevsimBle    *self,
               const guint8 *data,
               gsize         len)
{
  g_autoptr(GByteArray) out = NULL;
  DevsimFaultAction action;

  if (!self->connected)
    {
      self->connected = TRUE;
      emit (self, "connected", NULL);
    }
  if (self->opts.faults == NULL || !self->opts.faults_in
      || !devsim_faults_enabled (self->opts.faults))
    {
      input_one (self, data, len);
    }
  else
    {
      out = g_byte_array_new ();
      action = devsim_faults_apply (self->opts.faults, data, len, out);
      report_fault (self, "in", action);
      for (gsize off = 0; off + len <= out->len && len > 0; off += len)
        input_one (self, out->data + off, len);
    }
  pump (self);
}

static void
note_mtu (DevsimBle *self,
          GVariant  *options)
{
  guint16 mtu;

  if (options != NULL && g_variant_lookup (options, "mtu", "q", &mtu)
      && mtu >= SP_SEG_ATT_MTU_MIN && mtu != self->mtu)
    {
      /* An ATT value is at most 512 bytes (BlueZ's notify socket reads
       * no more), so at MTU 517 a segment is 512, not 514. */
      self->mtu = MIN (mtu, DEVSIM_BLE_SEG_MTU_MAX);
      sp_seg_set_mtu (&self->seg, self->mtu);
    }
}

static gboolean
on_rx_readable (gint         fd,
                GIOCondition cond,
                gpointer     user_data)
{
  DevsimBle *self = user_data;
  guint8 buf[SP_SEG_ATT_MTU_MAX + 8];

  for (;;)
    {
      ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);

      if (n > 0)
        {
          input_segment (self, buf, (gsize) n);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return G_SOURCE_CONTINUE;
      break;   /* 0 or an error: BlueZ closed it (the tool went away) */
    }
  for (guint i = 0; i < self->rx_sources->len; i++)
    {
      guint id = GPOINTER_TO_UINT (g_ptr_array_index (self->rx_sources, i));
      int rfd = GPOINTER_TO_INT (g_hash_table_lookup (self->rx_fds, GUINT_TO_POINTER (id)));

      if (rfd == fd)
        {
          g_hash_table_remove (self->rx_fds, GUINT_TO_POINTER (id));
          g_ptr_array_remove_index (self->rx_sources, i);
          break;
        }
    }
  close (fd);
  return G_SOURCE_REMOVE;
}

static void
tx_close (DevsimBle *self)
{
  g_clear_handle_id (&self->tx_watch, g_source_remove);
  g_clear_handle_id (&self->tx_hup, g_source_remove);
  if (self->tx_fd >= 0)
    close (self->tx_fd);
  self->tx_fd = -1;
}

static gboolean
on_tx_hup (gint         fd,
           GIOCondition cond,
           gpointer     user_data)
{
  DevsimBle *self = user_data;
  guint8 junk[64];

  if ((cond & G_IO_IN) && recv (fd, junk, sizeof junk, MSG_DONTWAIT) > 0)
    return G_SOURCE_CONTINUE;
  /* BlueZ closed the notify socket: notifications off, or disconnected. */
  self->tx_hup = 0;
  tx_close (self);
  if (self->connected)
    {
      self->connected = FALSE;
      emit (self, "disconnected", NULL);
    }
  link_reset (self, "notifications stopped");
  return G_SOURCE_REMOVE;
}

/* ---- method calls --------------------------------------------------------------- */

static gboolean
make_pair (int      fds[2],
           GError **error)
{
  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "socketpair: %s",
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static void
return_fd (GDBusMethodInvocation *invocation,
           int                    fd,
           guint16                mtu)
{
  g_autoptr(GUnixFDList) list = g_unix_fd_list_new ();
  g_autoptr(GError) error = NULL;
  int idx = g_unix_fd_list_append (list, fd, &error);

  close (fd);
  if (idx < 0)
    {
      g_dbus_method_invocation_return_gerror (invocation, error);
      return;
    }
  g_dbus_method_invocation_return_value_with_unix_fd_list (invocation,
                                                           g_variant_new ("(hq)", idx, mtu),
                                                           list);
}

static void
on_chrc_call (DevsimBle             *self,
              const char            *path,
              const char            *method,
              GVariant              *params,
              GDBusMethodInvocation *invocation)
{
  gboolean rx = g_str_equal (path, RX_PATH);
  g_autoptr(GError) error = NULL;
  int fds[2];

  if (g_str_equal (method, "ReadValue"))
    {
      /* TX keeps an empty value (docs/ble.md). */
      g_dbus_method_invocation_return_value (invocation,
          g_variant_new ("(@ay)", g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, "", 0, 1)));
    }
  else if (g_str_equal (method, "WriteValue") && rx)
    {
      g_autoptr(GVariant) value = NULL, options = NULL;
      gsize len;
      const guint8 *data;

      g_variant_get (params, "(@ay@a{sv})", &value, &options);
      note_mtu (self, options);
      data = g_variant_get_fixed_array (value, &len, 1);
      g_dbus_method_invocation_return_value (invocation, NULL);
      input_segment (self, data, len);
    }
  else if (g_str_equal (method, "AcquireWrite") && rx)
    {
      g_autoptr(GVariant) options = NULL;
      guint id;

      g_variant_get (params, "(@a{sv})", &options);
      note_mtu (self, options);
      if (!make_pair (fds, &error))
        {
          g_dbus_method_invocation_return_gerror (invocation, error);
          return;
        }
      id = g_unix_fd_add (fds[0], G_IO_IN | G_IO_HUP | G_IO_ERR, on_rx_readable, self);
      g_ptr_array_add (self->rx_sources, GUINT_TO_POINTER (id));
      g_hash_table_insert (self->rx_fds, GUINT_TO_POINTER (id), GINT_TO_POINTER (fds[0]));
      return_fd (invocation, fds[1], self->mtu);
    }
  else if (g_str_equal (method, "AcquireNotify") && !rx)
    {
      g_autoptr(GVariant) options = NULL;

      g_variant_get (params, "(@a{sv})", &options);
      if (!make_pair (fds, &error))
        {
          g_dbus_method_invocation_return_gerror (invocation, error);
          return;
        }
      tx_close (self);
      g_queue_clear_full (&self->tx_pending, (GDestroyNotify) g_bytes_unref);
      /* A new subscriber: a new connection, so seq 0 (docs/ble.md). */
      link_reset (self, "AcquireNotify");
      note_mtu (self, options);
      self->tx_fd = fds[0];
      self->notifying = FALSE;
      self->tx_hup = g_unix_fd_add (fds[0], G_IO_HUP | G_IO_ERR | G_IO_IN, on_tx_hup, self);
      return_fd (invocation, fds[1], self->mtu);
      self->connected = TRUE;
      emit (self, "connected", NULL);
      pump (self);
    }
  else if (g_str_equal (method, "StartNotify") && !rx)
    {
      link_reset (self, "StartNotify");
      self->notifying = TRUE;
      g_dbus_method_invocation_return_value (invocation, NULL);
      self->connected = TRUE;
      emit (self, "connected", NULL);
    }
  else if (g_str_equal (method, "StopNotify") && !rx)
    {
      self->notifying = FALSE;
      g_dbus_method_invocation_return_value (invocation, NULL);
      if (self->connected)
        {
          self->connected = FALSE;
          emit (self, "disconnected", NULL);
        }
    }
  else
    {
      g_dbus_method_invocation_return_dbus_error (invocation, "org.bluez.Error.NotSupported",
                                                  "Not supported");
    }
}

static void
on_method_call (GDBusConnection       *connection,
                const char            *sender,
                const char            *path,
                const char            *interface,
                const char            *method,
                GVariant              *params,
                GDBusMethodInvocation *invocation,
                gpointer               user_data)
{
  DevsimBle *self = user_data;

  if (g_str_equal (interface, "org.freedesktop.DBus.ObjectManager"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(@a{oa{sa{sv}}})", managed_objects ()));
  else if (g_str_equal (interface, GATT_CHRC))
    on_chrc_call (self, path, method, params, invocation);
  else if (g_str_equal (interface, "org.bluez.LEAdvertisement1"))
    {
      /* Release: BlueZ dropped the advertisement (adapter gone). */
      g_dbus_method_invocation_return_value (invocation, NULL);
      emit (self, "unregistered", "advertisement released");
    }
  else
    g_dbus_method_invocation_return_dbus_error (invocation, "org.freedesktop.DBus.Error.UnknownMethod",
                                                "Unknown method");
}

static GVariant *
on_get_property (GDBusConnection *connection,
                 const char      *sender,
                 const char      *path,
                 const char      *interface,
                 const char      *property,
                 GError         **error,
                 gpointer         user_data)
{
  DevsimBle *self = user_data;

  if (g_str_equal (interface, "org.bluez.GattService1"))
    {
      if (g_str_equal (property, "UUID"))
        return g_variant_new_string (SP_SEG_UUID_SERVICE);
      if (g_str_equal (property, "Primary"))
        return g_variant_new_boolean (TRUE);
    }
  else if (g_str_equal (interface, GATT_CHRC))
    {
      g_autoptr(GVariant) props = chrc_props (path);
      GVariant *v = g_variant_lookup_value (props, property, NULL);

      if (v != NULL)
        return v;
    }
  else if (g_str_equal (interface, "org.bluez.LEAdvertisement1"))
    {
      const char *uuids[] = { SP_SEG_UUID_SERVICE, NULL };

      if (g_str_equal (property, "Type"))
        return g_variant_new_string ("peripheral");
      if (g_str_equal (property, "ServiceUUIDs"))
        return g_variant_new_strv (uuids, -1);
      if (g_str_equal (property, "LocalName"))
        return g_variant_new_string (self->local_name);
      /* The "LE General Discoverable" flag: without it BlueZ's discovery
       * on the tool's side ignores the advertisement. */
      if (g_str_equal (property, "Discoverable"))
        return g_variant_new_boolean (TRUE);
    }
  g_set_error (error, G_DBUS_ERROR, G_DBUS_ERROR_INVALID_ARGS, "No property %s", property);
  return NULL;
}

static const GDBusInterfaceVTable vtable = { on_method_call, on_get_property, NULL, { 0 } };

/* ---- registration ----------------------------------------------------------------- */

static void
on_registered (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  DevsimBle *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  if (ret == NULL)
    {
      g_autofree char *msg = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_dbus_error_strip_remote_error (error);
      msg = g_strdup_printf ("registering with BlueZ on %s: %s", self->adapter, error->message);
      emit (self, "error", msg);
      return;
    }
  if (++self->registered == 2)
    emit (self, "registered", self->adapter);
}

static void
register_all (DevsimBle *self)
{
  self->registered = 0;
  g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path, "org.bluez.GattManager1",
                          "RegisterApplication",
                          g_variant_new ("(oa{sv})", DEVSIM_BLE_APP_PATH, NULL), NULL,
                          G_DBUS_CALL_FLAGS_NONE, 25000, self->cancel, on_registered, self);
  g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path, "org.bluez.LEAdvertisingManager1",
                          "RegisterAdvertisement",
                          g_variant_new ("(oa{sv})", DEVSIM_BLE_ADV_PATH, NULL), NULL,
                          G_DBUS_CALL_FLAGS_NONE, 25000, self->cancel, on_registered, self);
}

static void
on_bluez_appeared (GDBusConnection *connection,
                   const char      *name,
                   const char      *owner,
                   gpointer         user_data)
{
  DevsimBle *self = user_data;

  self->bluez_present = TRUE;
  register_all (self);
}

static void
on_bluez_vanished (GDBusConnection *connection,
                   const char      *name,
                   gpointer         user_data)
{
  DevsimBle *self = user_data;

  if (!self->bluez_present)
    {
      g_message ("waiting for BlueZ (org.bluez) on the system bus");
      return;
    }
  self->bluez_present = FALSE;
  self->registered = 0;
  tx_close (self);
  self->notifying = FALSE;
  link_reset (self, "BlueZ left the bus");
  if (self->connected)
    {
      self->connected = FALSE;
      emit (self, "disconnected", NULL);
    }
  emit (self, "unregistered", "BlueZ left the bus");
}

/* ---- L2CAP ------------------------------------------------------------------------- */

#ifdef DEVSIM_HAVE_L2CAP
static void
channel_free (gpointer data)
{
  L2capChannel *ch = data;

  g_clear_handle_id (&ch->watch, g_source_remove);
  if (ch->fd >= 0)
    close (ch->fd);
  g_free (ch);
}

static gboolean
on_channel_readable (gint         fd,
                     GIOCondition cond,
                     gpointer     user_data)
{
  L2capChannel *ch = user_data;
  DevsimBle *self = ch->ble;
  guint8 sdu[L2CAP_SDU_MAX + 16];
  ssize_t n = recv (fd, sdu, sizeof sdu, MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      g_autofree char *detail = g_strdup_printf ("%u", ch->id);

      ch->watch = 0;
      g_ptr_array_remove (self->channels, ch);
      emit (self, "l2cap-closed", detail);
      return G_SOURCE_REMOVE;
    }
  if (n > SP_SEG_CRC_LEN && n <= L2CAP_SDU_MAX)
    {
      gsize len = (gsize) n - SP_SEG_CRC_LEN;
      guint32 crc = (guint32) sdu[len] | (guint32) sdu[len + 1] << 8
                    | (guint32) sdu[len + 2] << 16 | (guint32) sdu[len + 3] << 24;

      if (crc == sp_crc32 (sdu, len) && self->on_message != NULL)
        {
          self->on_message (sdu, len, ch->id, self->user_data);
          return G_SOURCE_CONTINUE;
        }
    }
  g_debug ("l2cap: dropped an SDU of %zd bytes (size or CRC)", n);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_l2cap_accept (gint         fd,
                 GIOCondition cond,
                 gpointer     user_data)
{
  DevsimBle *self = user_data;
  int cfd = accept4 (fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  L2capChannel *ch;
  g_autofree char *detail = NULL;

  if (cfd < 0)
    return G_SOURCE_CONTINUE;
  if (self->channels->len >= L2CAP_CHANNELS_MAX)
    {
      close (cfd);
      return G_SOURCE_CONTINUE;
    }
  /* Answers are written blocking (one SDU, the kernel's credits). */
  g_unix_set_fd_nonblocking (cfd, FALSE, NULL);
  ch = g_new0 (L2capChannel, 1);
  ch->ble = self;
  ch->fd = cfd;
  ch->id = ++self->next_channel;
  ch->watch = g_unix_fd_add (cfd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_channel_readable, ch);
  g_ptr_array_add (self->channels, ch);
  detail = g_strdup_printf ("%u", ch->id);
  emit (self, "l2cap-open", detail);
  return G_SOURCE_CONTINUE;
}

static gboolean
l2cap_listen (DevsimBle *self,
              GError   **error)
{
  struct sockaddr_l2 addr;
  socklen_t alen = sizeof addr;
  struct bt_security sec = { BT_SECURITY_LOW, 0 };
  guint16 imtu = L2CAP_SDU_MAX;
  int fd = socket (AF_BLUETOOTH, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, BTPROTO_L2CAP);

  if (fd < 0)
    goto fail;
  memset (&addr, 0, sizeof addr);
  addr.l2_family = AF_BLUETOOTH;
  addr.l2_psm = htobs (self->opts.psm);        /* 0: the kernel picks an LE dynamic one */
  addr.l2_bdaddr_type = BDADDR_LE_PUBLIC;
  /* BDADDR_ANY: on every adapter (the tool's controller does not connect
   * to itself). */
  if (bind (fd, (struct sockaddr *) &addr, sizeof addr) != 0
      || setsockopt (fd, SOL_BLUETOOTH, BT_SECURITY, &sec, sizeof sec) != 0
      || setsockopt (fd, SOL_BLUETOOTH, BT_RCVMTU, &imtu, sizeof imtu) != 0
      || listen (fd, 2) != 0
      || getsockname (fd, (struct sockaddr *) &addr, &alen) != 0)
    goto fail;
  self->psm = btohs (addr.l2_psm);
  self->l2_listen = fd;
  self->l2_listen_watch = g_unix_fd_add (fd, G_IO_IN, on_l2cap_accept, self);
  return TRUE;

fail:
  g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "L2CAP channel (PSM %u): %s",
               self->opts.psm, g_strerror (errno));
  if (fd >= 0)
    close (fd);
  return FALSE;
}
#endif

/* ---- life --------------------------------------------------------------------------- */

DevsimBle *
devsim_ble_new (const DevsimBleOptions *options,
                DevsimBleMessageFunc    on_message,
                DevsimBleEventFunc      on_event,
                gpointer                user_data)
{
  DevsimBle *self = g_new0 (DevsimBle, 1);

  self->opts = *options;
  self->adapter = g_strdup (options->adapter != NULL ? options->adapter : "hci0");
  self->adapter_path = g_strconcat ("/org/bluez/", self->adapter, NULL);
  self->local_name = g_strdup (options->local_name != NULL ? options->local_name : "Signet");
  self->opts.adapter = self->adapter;
  self->opts.local_name = self->local_name;
  self->on_message = on_message;
  self->on_event = on_event;
  self->user_data = user_data;
  self->mtu = SP_SEG_ATT_MTU_MIN;
  self->tx_fd = -1;
  self->l2_listen = -1;
  self->rx_sources = g_ptr_array_new ();
  self->rx_fds = g_hash_table_new (NULL, NULL);
#ifdef DEVSIM_HAVE_L2CAP
  self->channels = g_ptr_array_new_with_free_func (channel_free);
#else
  self->channels = g_ptr_array_new ();
#endif
  self->cancel = g_cancellable_new ();
  g_queue_init (&self->sent);
  g_queue_init (&self->backlog);
  g_queue_init (&self->tx_pending);
  link_reset (self, NULL);
  return self;
}

gboolean
devsim_ble_start (DevsimBle  *self,
                  GError    **error)
{
  const struct { const char *path, *iface; } objs[] = {
    { DEVSIM_BLE_APP_PATH, "org.freedesktop.DBus.ObjectManager" },
    { SERVICE_PATH, "org.bluez.GattService1" },
    { RX_PATH, GATT_CHRC },
    { TX_PATH, GATT_CHRC },
    { DEVSIM_BLE_ADV_PATH, "org.bluez.LEAdvertisement1" },
  };

  if (!g_regex_match_simple ("^hci[0-9]{1,3}$", self->adapter, 0, 0))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "--adapter %s: not an adapter name (hci0, hci1, ...)", self->adapter);
      return FALSE;
    }
  if (introspection == NULL)
    introspection = g_dbus_node_info_new_for_xml (introspection_xml, NULL);
#ifdef DEVSIM_HAVE_L2CAP
  if (self->opts.l2cap && !l2cap_listen (self, error))
    return FALSE;
#else
  if (self->opts.l2cap)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED,
                   "built without libbluetooth headers: no L2CAP channel");
      return FALSE;
    }
#endif
  self->bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, error);
  if (self->bus == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (objs); i++)
    {
      self->reg_ids[i] = g_dbus_connection_register_object (self->bus, objs[i].path,
                                                            iface (objs[i].iface), &vtable,
                                                            self, NULL, error);
      if (self->reg_ids[i] == 0)
        return FALSE;
    }
  self->name_watch = g_bus_watch_name_on_connection (self->bus, BLUEZ, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                     on_bluez_appeared, on_bluez_vanished,
                                                     self, NULL);
  return TRUE;
}

guint16
devsim_ble_get_psm (DevsimBle *self)
{
  return self->psm;
}

const char *
devsim_ble_get_adapter (DevsimBle *self)
{
  return self->adapter;
}

void
devsim_ble_free (DevsimBle *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->cancel);
  if (self->bus != NULL && self->registered == 2)
    {
      /* Best effort, not waited for: BlueZ also forgets us when we leave
       * the bus. */
      g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path, "org.bluez.LEAdvertisingManager1",
                              "UnregisterAdvertisement", g_variant_new ("(o)", DEVSIM_BLE_ADV_PATH),
                              NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
      g_dbus_connection_call (self->bus, BLUEZ, self->adapter_path, "org.bluez.GattManager1",
                              "UnregisterApplication", g_variant_new ("(o)", DEVSIM_BLE_APP_PATH),
                              NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, -1, NULL, NULL, NULL);
      g_dbus_connection_flush_sync (self->bus, NULL, NULL);
    }
  if (self->name_watch != 0)
    g_bus_unwatch_name (self->name_watch);
  for (guint i = 0; i < G_N_ELEMENTS (self->reg_ids); i++)
    if (self->reg_ids[i] != 0)
      g_dbus_connection_unregister_object (self->bus, self->reg_ids[i]);
  for (guint i = 0; i < self->rx_sources->len; i++)
    {
      gpointer id = g_ptr_array_index (self->rx_sources, i);

      close (GPOINTER_TO_INT (g_hash_table_lookup (self->rx_fds, id)));
      g_source_remove (GPOINTER_TO_UINT (id));
    }
  g_ptr_array_unref (self->rx_sources);
  g_hash_table_unref (self->rx_fds);
  tx_close (self);
  g_clear_handle_id (&self->timer, g_source_remove);
  g_clear_handle_id (&self->l2_listen_watch, g_source_remove);
  if (self->l2_listen >= 0)
    close (self->l2_listen);
  g_ptr_array_unref (self->channels);
  clear_queues (self);
  g_clear_object (&self->bus);
  g_clear_object (&self->cancel);
  g_free (self->adapter);
  g_free (self->adapter_path);
  g_free (self->local_name);
  g_free (self);
}
