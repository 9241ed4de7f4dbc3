/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* signet-ble-transport.c: see signet-ble-transport.h and docs/ble.md. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>

#ifdef SIGNET_HAVE_LIBBLUETOOTH
#include <bluetooth/bluetooth.h>
#include <bluetooth/l2cap.h>
#endif

#include "signet-ble-transport.h"
#include "sp-frame.h"
#include "sp-seg.h"

#define BLUEZ "org.bluez"
#define IFACE_DEVICE "org.bluez.Device1"
#define IFACE_SERVICE "org.bluez.GattService1"
#define IFACE_CHAR "org.bluez.GattCharacteristic1"
#define IFACE_PROPS "org.freedesktop.DBus.Properties"
#define IFACE_OM "org.freedesktop.DBus.ObjectManager"

/* WriteValue calls in flight on the fallback path. */
#define WRITES_IN_FLIGHT_MAX 16
/* While connected but the Signet objects are not there yet: look again. */
#define OBJECTS_RETRY_MS 200
#define L2CAP_SDU_MAX (SP_SEG_MSG_MAX + SP_CRC32_LEN)

typedef enum {
  STATE_CLOSED,
  STATE_OPENING,
  STATE_OPEN,
  STATE_DISCONNECTED,
} State;

typedef enum {
  OP_SEND,
  OP_RECEIVE,
} OpKind;

typedef struct _Op Op;
struct _Op {
  SignetBleTransport *self;
  OpKind kind;
  GTask *task;              /* NULL once completed (a send still in flight) */
  GBytes *message;          /* send */
  gboolean given;           /* send: handed to sp_seg */
  GSource *timeout_source;
  GSource *cancel_source;
};

struct _SignetBleTransport {
  GObject parent_instance;

  char *path;
  GDBusConnection *given_bus;
  GDBusConnection *bus;
  guint receive_timeout;
  guint open_timeout;
  guint rto;
  guint retries;
  guint window;
  guint max_att_mtu;          /* 0: what BlueZ says */
  gboolean use_acquire;

  GMainContext *context;
  State state;
  GCancellable *cancellable;  /* of this open's D-Bus calls; cancelled on close */
  GTask *open_task;
  GSource *open_cancel_source;
  GSource *open_timeout_source;
  gboolean connect_called;    /* we asked BlueZ to connect */
  gboolean we_connected;      /* and it did: close disconnects */
  guint disconnecting;        /* our Disconnect calls not answered yet */
  gboolean open_waits;        /* an open waits for them */
  gboolean waiting_resolved;
  const char *waiting_for;    /* connected and resolved, but this is not there yet */
  GSource *objects_retry_source;
  char *rx_path;
  char *tx_path;
  guint16 char_mtu;           /* the characteristics' MTU property, if any */
  guint sub_device;
  guint sub_removed;
  guint sub_tx;
  guint name_watch;

  int rx_fd;                  /* AcquireWrite: we write segments */
  int tx_fd;                  /* AcquireNotify: we read segments */
  guint16 att_mtu;
  gboolean acquired;
  guint writes_in_flight;     /* WriteValue */
  GSource *tx_source;
  GSource *rx_out_source;
  GSource *timer_source;
  guint8 pending[SP_SEG_MAX]; /* a segment the socket would not take yet */
  gsize pending_len;

  int l2cap_fd;
  int l2cap_pending_fd;       /* connecting */
  GTask *l2cap_task;
  GSource *l2cap_source;
  GSource *l2cap_out_source;  /* waiting for the channel's credits */
  char *address;              /* Device1 Address, AddressType */
  gboolean address_random;
  char *local_address;        /* its Adapter1's Address */

  sp_seg seg;
  guint8 rxbuf[SP_SEG_RXBUF_SIZE (SP_SEG_MSG_MAX)];
  guint32 epoch_ms;

  GQueue sends;               /* (element-type Op): the first `given` are in seg */
  GQueue receives;
  GQueue inbox;               /* (element-type GBytes), at most SIGNET_BLE_TRANSPORT_INBOX_MAX */

  SignetBleStats stats;
  sp_seg_stats seg_base;      /* seg's stats at open, to accumulate */
};

static void signet_ble_transport_iface_init (SignetTransportInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SignetBleTransport, signet_ble_transport, G_TYPE_OBJECT,
  G_IMPLEMENT_INTERFACE (SIGNET_TYPE_TRANSPORT, signet_ble_transport_iface_init))

enum {
  PROP_0,
  PROP_NAME,
  PROP_MAX_MESSAGE,
  PROP_MTU,
  PROP_CAPABILITIES,
  PROP_CONNECTED,
  N_PROPS
};

static void pump (SignetBleTransport *self);
static void disconnect (SignetBleTransport *self, GError *error);
static void open_step (SignetBleTransport *self);

/* ---- helpers ------------------------------------------------------------- */

static GError *
error_new (SignetTransportError code, const char *format, ...) G_GNUC_PRINTF (2, 3);

static GError *
error_new (SignetTransportError code, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  return g_error_new_literal (SIGNET_TRANSPORT_ERROR, code, message);
}

/* A D-Bus error from BlueZ as a transport error. */
static GError *
error_from_dbus (const GError *e, const char *what)
{
  g_autofree char *remote = g_dbus_error_get_remote_error (e);
  SignetTransportError code = SIGNET_TRANSPORT_ERROR_IO;

  if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    code = SIGNET_TRANSPORT_ERROR_CANCELLED;
  else if (remote != NULL && (g_str_equal (remote, "org.freedesktop.DBus.Error.UnknownObject") ||
                              g_str_equal (remote, "org.freedesktop.DBus.Error.UnknownMethod") ||
                              g_str_equal (remote, "org.bluez.Error.DoesNotExist")))
    code = SIGNET_TRANSPORT_ERROR_NOT_FOUND;
  else if (remote != NULL && (g_str_equal (remote, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                              g_str_equal (remote, "org.freedesktop.DBus.Error.NameHasNoOwner")))
    return error_new (SIGNET_TRANSPORT_ERROR_NOT_FOUND,
                      "%s: BlueZ is not running (org.bluez is not on the system bus)", what);
  else if (remote != NULL && (g_str_equal (remote, "org.bluez.Error.NotPermitted") ||
                              g_str_equal (remote, "org.bluez.Error.NotAuthorized") ||
                              g_str_equal (remote, "org.freedesktop.DBus.Error.AccessDenied")))
    code = SIGNET_TRANSPORT_ERROR_PERMISSION_DENIED;
  else if (remote != NULL && g_str_equal (remote, "org.bluez.Error.InProgress"))
    code = SIGNET_TRANSPORT_ERROR_BUSY;
  else if (g_error_matches (e, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    code = SIGNET_TRANSPORT_ERROR_TIMEOUT;
  if (remote != NULL)
    g_dbus_error_strip_remote_error ((GError *) e);
  return error_new (code, "%s: %s", what, e->message);
}

static guint32
now_ms (SignetBleTransport *self)
{
  return (guint32) (g_get_monotonic_time () / 1000) - self->epoch_ms;
}

static void
source_clear (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static GSource *
attach (SignetBleTransport *self, GSource *source, GSourceFunc func, gpointer data)
{
  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, self->context);
  return source;
}

static GTask *
task_new (SignetBleTransport *self, GCancellable *cancellable, GAsyncReadyCallback callback,
          gpointer user_data, gpointer tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, tag);
  g_task_set_check_cancellable (task, FALSE);
  return task;
}

static void
op_free (Op *op)
{
  source_clear (&op->timeout_source);
  source_clear (&op->cancel_source);
  g_clear_pointer (&op->message, g_bytes_unref);
  g_clear_object (&op->task);
  g_free (op);
}

/* Complete op's task (if not yet) with error (taken) or success. */
static void
op_complete (Op *op, GError *error)
{
  GTask *task = g_steal_pointer (&op->task);

  source_clear (&op->timeout_source);
  source_clear (&op->cancel_source);
  if (task == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

static gboolean
on_op_cancelled (GCancellable *cancellable, gpointer user_data)
{
  Op *op = user_data;
  SignetBleTransport *self = op->self;
  GQueue *q = op->kind == OP_SEND ? &self->sends : &self->receives;

  (void) cancellable;
  op_complete (op, error_new (SIGNET_TRANSPORT_ERROR_CANCELLED, "Cancelled"));
  /* A receive, or a send not handed to the segment layer, goes; a send
   * already in it stays until acknowledged (its bytes are needed). */
  if (op->kind == OP_RECEIVE || !op->given)
    {
      g_queue_remove (q, op);
      op_free (op);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
on_receive_timeout (gpointer user_data)
{
  Op *op = user_data;
  SignetBleTransport *self = op->self;

  g_queue_remove (&self->receives, op);
  op_complete (op, error_new (SIGNET_TRANSPORT_ERROR_TIMEOUT, "%s: no message in %u ms",
                              self->path, self->receive_timeout));
  op_free (op);
  return G_SOURCE_REMOVE;
}

static Op *
op_new (SignetBleTransport *self, OpKind kind, GTask *task)
{
  Op *op = g_new0 (Op, 1);
  GCancellable *cancellable = g_task_get_cancellable (task);

  op->self = self;
  op->kind = kind;
  op->task = g_object_ref (task);
  if (cancellable != NULL)
    {
      op->cancel_source = g_cancellable_source_new (cancellable);
      attach (self, op->cancel_source, G_SOURCE_FUNC (on_op_cancelled), op);
    }
  return op;
}

static void
fail_queue (GQueue *q, SignetTransportError code, const char *message)
{
  Op *op;

  while ((op = g_queue_pop_head (q)) != NULL)
    {
      op_complete (op, error_new (code, "%s", message));
      op_free (op);
    }
}

static void
accumulate_stats (SignetBleTransport *self)
{
  const sp_seg_stats *s = &self->seg.stats, *b = &self->seg_base;

  self->stats.segments_sent += s->segments_sent - b->segments_sent;
  self->stats.segments_resent += s->segments_resent - b->segments_resent;
  self->stats.segments_received += s->segments_received - b->segments_received;
  self->stats.control_sent += s->control_sent - b->control_sent;
  self->stats.bytes_sent += s->bytes_sent - b->bytes_sent;
  self->stats.bytes_received += s->bytes_received - b->bytes_received;
  self->stats.duplicates += s->duplicates - b->duplicates;
  self->stats.out_of_order += s->out_of_order - b->out_of_order;
  self->stats.timeouts += s->timeouts - b->timeouts;
  self->stats.dropped += (s->bad_segment + s->bad_crc + s->bad_length + s->oversize) -
                         (b->bad_segment + b->bad_crc + b->bad_length + b->oversize);
  self->stats.messages_sent += s->messages_sent - b->messages_sent;
  self->stats.messages_received += s->messages_received - b->messages_received;
  self->seg_base = *s;
}

/* Drop everything of the link (fds, watches, signal subscriptions). */
static void
release_link (SignetBleTransport *self)
{
  if (self->state == STATE_OPEN || self->state == STATE_OPENING)
    accumulate_stats (self);
  source_clear (&self->tx_source);
  source_clear (&self->rx_out_source);
  source_clear (&self->timer_source);
  source_clear (&self->l2cap_source);
  source_clear (&self->l2cap_out_source);
  source_clear (&self->open_timeout_source);
  source_clear (&self->open_cancel_source);
  source_clear (&self->objects_retry_source);
  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }
  if (self->bus != NULL)
    {
      if (self->sub_device != 0)
        g_dbus_connection_signal_unsubscribe (self->bus, self->sub_device);
      if (self->sub_removed != 0)
        g_dbus_connection_signal_unsubscribe (self->bus, self->sub_removed);
      if (self->sub_tx != 0)
        {
          g_dbus_connection_signal_unsubscribe (self->bus, self->sub_tx);
          /* Tell BlueZ we stopped listening (nobody waits for the answer). */
          if (!self->acquired && self->tx_path != NULL)
            g_dbus_connection_call (self->bus, BLUEZ, self->tx_path, IFACE_CHAR, "StopNotify",
                                    NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
        }
    }
  self->sub_device = self->sub_removed = self->sub_tx = 0;
  if (self->name_watch != 0)
    g_bus_unwatch_name (self->name_watch);
  self->name_watch = 0;
  if (self->rx_fd >= 0)
    close (self->rx_fd);
  if (self->tx_fd >= 0)
    close (self->tx_fd);
  if (self->l2cap_fd >= 0)
    close (self->l2cap_fd);
  if (self->l2cap_pending_fd >= 0)
    close (self->l2cap_pending_fd);
  self->rx_fd = self->tx_fd = self->l2cap_fd = self->l2cap_pending_fd = -1;
  if (self->l2cap_task != NULL)
    {
      GTask *task = g_steal_pointer (&self->l2cap_task);

      g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_CLOSED, "closed"));
      g_object_unref (task);
    }
  self->pending_len = 0;
  self->acquired = FALSE;
  self->att_mtu = 0;
  self->writes_in_flight = 0;
  self->waiting_resolved = FALSE;
  self->waiting_for = NULL;
  g_clear_pointer (&self->rx_path, g_free);
  g_clear_pointer (&self->tx_path, g_free);
  g_clear_object (&self->bus);
}

static void
notify_state (SignetBleTransport *self)
{
  g_object_notify (G_OBJECT (self), "connected");
  g_object_notify (G_OBJECT (self), "mtu");
  g_object_notify (G_OBJECT (self), "capabilities");
}

static void open_begin (SignetBleTransport *self);

static void
on_disconnect (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleTransport) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                           &error);

  /* NotConnected (the link had gone already) is as good */
  if (ret == NULL)
    g_debug ("%s: Disconnect: %s", self->path, error->message);
  if (--self->disconnecting > 0 || !self->open_waits)
    return;
  self->open_waits = FALSE;
  if (self->state == STATE_OPENING)
    open_begin (self);
}

/* A link this transport made (Connect) goes with it: a device connected
 * to the laptop neither advertises nor takes another central, so left
 * up it would be out of everyone else's reach. A link someone else made
 * stays. BlueZ answers once the link is down. */
static void
disconnect_ours (SignetBleTransport *self)
{
  if (!self->we_connected || self->bus == NULL)
    return;
  self->we_connected = FALSE;
  self->disconnecting++;
  g_debug ("%s: disconnecting", self->path);
  g_dbus_connection_call (self->bus, BLUEZ, self->path, IFACE_DEVICE, "Disconnect", NULL, NULL,
                          G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_disconnect, g_object_ref (self));
}

static void
open_fail (SignetBleTransport *self, GError *error)
{
  GTask *task = g_steal_pointer (&self->open_task);

  g_debug ("%s: open failed: %s", self->path, error->message);
  disconnect_ours (self);
  release_link (self);
  self->state = STATE_CLOSED;
  if (task != NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
    }
  else
    g_error_free (error);
}

/* The link went away by itself. */
static void
disconnect (SignetBleTransport *self, GError *error)
{
  GQueue sends, receives;
  Op *op;

  if (self->state == STATE_OPENING)
    {
      open_fail (self, error);
      return;
    }
  if (self->state != STATE_OPEN)
    {
      g_error_free (error);
      return;
    }
  g_debug ("%s: %s", self->path, error->message);
  g_object_ref (self);
  accumulate_stats (self);
  self->state = STATE_DISCONNECTED;
  /* the segment layer may have given up on a link BlueZ still holds */
  disconnect_ours (self);
  release_link (self);
  sends = self->sends;
  receives = self->receives;
  g_queue_init (&self->sends);
  g_queue_init (&self->receives);
  while ((op = g_queue_pop_head (&sends)) != NULL)
    {
      op_complete (op, g_error_copy (error));
      op_free (op);
    }
  /* Messages received before are still given: receives wait on the inbox
   * only if it is empty. */
  while ((op = g_queue_pop_head (&receives)) != NULL)
    {
      op_complete (op, g_error_copy (error));
      op_free (op);
    }
  notify_state (self);
  g_signal_emit_by_name (self, "disconnected", error);
  g_error_free (error);
  g_object_unref (self);
}

/* ---- receiving ----------------------------------------------------------- */

static void
deliver (SignetBleTransport *self, GBytes *message)
{
  Op *op = g_queue_pop_head (&self->receives);

  if (op == NULL)
    {
      g_queue_push_tail (&self->inbox, message);
      return;
    }
  {
    GTask *task = g_steal_pointer (&op->task);

    op_free (op);
    g_task_return_pointer (task, message, (GDestroyNotify) g_bytes_unref);
    g_object_unref (task);
  }
}

/* The first n sends in seg were acknowledged: their bytes may go. */
static void
forget_sent (SignetBleTransport *self, unsigned n)
{
  while (n-- > 0)
    {
      Op *op = g_queue_pop_head (&self->sends);

      g_assert (op != NULL && op->given);
      op_complete (op, NULL);
      op_free (op);
    }
}

static void
input_segment (SignetBleTransport *self, const guint8 *data, gsize len)
{
  gsize mlen = 0;
  unsigned ev;

  /* Nobody receives: leave the device's DATA with the device (it is not
   * acknowledged, so it comes again); ACK/NAK still count, so our sends
   * go on. */
  if (len > 0 && (data[0] & 0x80) == 0 &&
      g_queue_get_length (&self->inbox) >= SIGNET_BLE_TRANSPORT_INBOX_MAX)
    {
      self->stats.inbox_full++;
      return;
    }

  ev = sp_seg_input (&self->seg, now_ms (self), data, len, &mlen);
  if (ev & SP_SEG_EV_ACKED)
    forget_sent (self, sp_seg_take_sent (&self->seg));
  if (ev & SP_SEG_EV_MESSAGE)
    deliver (self, g_bytes_new (self->rxbuf, mlen));
  if ((ev & SP_SEG_EV_OPEN) && self->state == STATE_OPENING)
    open_step (self);
}

static gboolean
on_tx_readable (int fd, GIOCondition cond, gpointer user_data)
{
  SignetBleTransport *self = user_data;
  guint8 buf[SP_SEG_MAX + 1];

  g_object_ref (self);
  for (int i = 0; i < 64 && self->tx_fd == fd; i++)
    {
      ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);

      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                       "%s: the notification socket was closed (%s)", self->path,
                                       n < 0 ? g_strerror (errno) : "hang-up"));
          g_object_unref (self);
          return G_SOURCE_REMOVE;
        }
      input_segment (self, buf, (gsize) n);
    }
  if (self->tx_fd == fd && (cond & (G_IO_HUP | G_IO_ERR)) && !(cond & G_IO_IN))
    {
      disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                   "%s: the notification socket hung up", self->path));
      g_object_unref (self);
      return G_SOURCE_REMOVE;
    }
  pump (self);
  g_object_unref (self);
  return G_SOURCE_CONTINUE;
}

/* ---- transmitting -------------------------------------------------------- */

static void
on_write_value (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleTransport) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                           &error);

  (void) ret;
  if (self->state != STATE_OPEN && self->state != STATE_OPENING)
    return;
  if (self->writes_in_flight > 0)
    self->writes_in_flight--;
  if (error != NULL)
    {
      /* A lost write is a lost segment: the window recovers. A missing
       * object is a device gone. */
      g_debug ("%s: WriteValue: %s", self->path, error->message);
      if (g_dbus_error_is_remote_error (error))
        {
          g_autofree char *remote = g_dbus_error_get_remote_error (error);

          if (g_str_equal (remote, "org.freedesktop.DBus.Error.UnknownObject") ||
              g_str_equal (remote, "org.bluez.Error.NotConnected"))
            {
              disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                           "%s: %s", self->path, error->message));
              return;
            }
        }
    }
  pump (self);
}

static gboolean on_rx_writable (int fd, GIOCondition cond, gpointer user_data);

/* Hand one segment to BlueZ. FALSE: it could not take it now (kept). */
static gboolean
put_segment (SignetBleTransport *self, const guint8 *data, gsize len)
{
  if (self->rx_fd >= 0)
    {
      ssize_t n = send (self->rx_fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n == (ssize_t) len)
        return TRUE;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
        {
          memcpy (self->pending, data, len);
          self->pending_len = len;
          if (self->rx_out_source == NULL)
            self->rx_out_source = attach (self, g_unix_fd_source_new (self->rx_fd, G_IO_OUT),
                                          G_SOURCE_FUNC (on_rx_writable), self);
          return FALSE;
        }
      disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                   "%s: the write socket failed (%s)", self->path,
                                   n < 0 ? g_strerror (errno) : "short write"));
      return FALSE;
    }
  else
    {
      GVariantBuilder opts;

      if (self->writes_in_flight >= WRITES_IN_FLIGHT_MAX)
        {
          memcpy (self->pending, data, len);
          self->pending_len = len;
          return FALSE;
        }
      g_variant_builder_init (&opts, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&opts, "{sv}", "type", g_variant_new_string ("command"));
      self->writes_in_flight++;
      g_dbus_connection_call (self->bus, BLUEZ, self->rx_path, IFACE_CHAR, "WriteValue",
                              g_variant_new ("(@aya{sv})",
                                             g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data,
                                                                        len, 1),
                                             &opts),
                              NULL, G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable,
                              on_write_value, g_object_ref (self));
      return TRUE;
    }
}

static gboolean
on_rx_writable (int fd, GIOCondition cond, gpointer user_data)
{
  SignetBleTransport *self = user_data;

  (void) fd;
  (void) cond;
  g_clear_pointer (&self->rx_out_source, g_source_unref);
  g_object_ref (self);
  pump (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_timer (gpointer user_data)
{
  SignetBleTransport *self = user_data;

  g_clear_pointer (&self->timer_source, g_source_unref);
  g_object_ref (self);
  pump (self);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Move messages into the segment layer, segments onto the link, complete
 * the sends that were handed whole, and set the retransmission timer. */
static void
pump (SignetBleTransport *self)
{
  guint8 buf[SP_SEG_MAX];
  guint32 deadline;
  unsigned handed, i;
  GList *l;

  if (self->state != STATE_OPEN && self->state != STATE_OPENING)
    return;
  if (self->l2cap_fd >= 0)
    return;

  /* Give queued messages to sp_seg while it has slots. */
  for (l = self->sends.head; l != NULL; l = l->next)
    {
      Op *op = l->data;
      gsize len;
      const void *data;

      if (op->given)
        continue;
      data = g_bytes_get_data (op->message, &len);
      if (sp_seg_send (&self->seg, data, len) != SP_SEG_OK)
        break;
      op->given = TRUE;
    }

  /* A segment the socket refused before goes first. */
  if (self->pending_len > 0)
    {
      gsize len = self->pending_len;

      if (self->rx_out_source != NULL)
        goto timer;
      self->pending_len = 0;
      if (!put_segment (self, self->pending, len))
        goto timer;
    }
  for (;;)
    {
      gsize n;

      if (self->state != STATE_OPEN && self->state != STATE_OPENING)
        return;
      n = sp_seg_poll (&self->seg, now_ms (self), buf, sizeof buf);
      if (n == 0)
        break;
      if (!put_segment (self, buf, n))
        break;
    }
  if (self->state != STATE_OPEN && self->state != STATE_OPENING)
    return;

  if (sp_seg_get_state (&self->seg) == SP_SEG_STATE_FAILED)
    {
      disconnect (self, error_new (self->state == STATE_OPENING
                                   ? SIGNET_TRANSPORT_ERROR_TIMEOUT
                                   : SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                   "%s: the device stopped acknowledging", self->path));
      return;
    }

  /* Sends whose every segment went out once are complete for the caller. */
  handed = sp_seg_handed (&self->seg);
  i = 0;
  for (l = self->sends.head; l != NULL && i < handed; l = l->next, i++)
    {
      Op *op = l->data;

      if (op->task != NULL)
        op_complete (op, NULL);
    }

timer:
  source_clear (&self->timer_source);
  if (sp_seg_next_deadline (&self->seg, &deadline))
    {
      gint32 wait = (gint32) (deadline - now_ms (self));

      self->timer_source = attach (self, g_timeout_source_new (wait > 0 ? (guint) wait : 0),
                                   on_timer, self);
    }
}

/* ---- L2CAP --------------------------------------------------------------- */

static gboolean
on_l2cap_readable (int fd, GIOCondition cond, gpointer user_data)
{
  SignetBleTransport *self = user_data;
  guint8 buf[L2CAP_SDU_MAX + 1];
  ssize_t n;

  (void) cond;
  if (g_queue_get_length (&self->inbox) >= SIGNET_BLE_TRANSPORT_INBOX_MAX)
    {
      /* Nobody receives: stop reading (the kernel's LE credits hold the
       * device back) until a receive takes one (l2cap_resume). */
      g_clear_pointer (&self->l2cap_source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      /* The channel went: back to GATT, which is still there. */
      g_debug ("%s: L2CAP channel closed", self->path);
      close (self->l2cap_fd);
      self->l2cap_fd = -1;
      g_clear_pointer (&self->l2cap_source, g_source_unref);
      source_clear (&self->l2cap_out_source);
      g_object_notify (G_OBJECT (self), "capabilities");
      pump (self);
      return G_SOURCE_REMOVE;
    }
  if (n > SP_CRC32_LEN && n <= L2CAP_SDU_MAX)
    {
      gsize len = (gsize) n - SP_CRC32_LEN;
      guint32 want = (guint32) buf[len] | ((guint32) buf[len + 1] << 8) |
                     ((guint32) buf[len + 2] << 16) | ((guint32) buf[len + 3] << 24);

      if (sp_crc32_update (0, buf, len) == want)
        {
          self->stats.l2cap_received++;
          deliver (self, g_bytes_new (buf, len));
          return G_SOURCE_CONTINUE;
        }
    }
  self->stats.dropped++;
  return G_SOURCE_CONTINUE;
}

/* Read the channel again after the inbox was full. */
static void
l2cap_resume (SignetBleTransport *self)
{
  if (self->l2cap_fd >= 0 && self->l2cap_source == NULL && self->l2cap_task == NULL)
    self->l2cap_source = attach (self, g_unix_fd_source_new (self->l2cap_fd,
                                                             G_IO_IN | G_IO_HUP | G_IO_ERR),
                                 G_SOURCE_FUNC (on_l2cap_readable), self);
}

static void l2cap_flush (SignetBleTransport *self);

static gboolean
on_l2cap_writable (int fd, GIOCondition cond, gpointer user_data)
{
  SignetBleTransport *self = user_data;

  g_clear_pointer (&self->l2cap_out_source, g_source_unref);
  l2cap_flush (self);
  return G_SOURCE_REMOVE;
}

/* Sends go over the channel while it is open (one SDU each); when the
 * device's LE credits run out the kernel says EAGAIN and the rest waits
 * until the socket is writable again. */
static void
l2cap_flush (SignetBleTransport *self)
{
  Op *op;

  while (self->l2cap_fd >= 0 && self->l2cap_out_source == NULL
         && (op = g_queue_peek_head (&self->sends)) != NULL && !op->given)
    {
      guint8 buf[L2CAP_SDU_MAX];
      gsize len;
      const guint8 *data = g_bytes_get_data (op->message, &len);
      guint32 crc = sp_crc32_update (0, data, len);
      ssize_t n;

      memcpy (buf, data, len);
      for (int k = 0; k < 4; k++)
        buf[len + (gsize) k] = (guint8) (crc >> (8 * k));
      n = send (self->l2cap_fd, buf, len + SP_CRC32_LEN, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          self->l2cap_out_source =
            attach (self, g_unix_fd_source_new (self->l2cap_fd, G_IO_OUT | G_IO_HUP | G_IO_ERR),
                    G_SOURCE_FUNC (on_l2cap_writable), self);
          return;
        }
      g_queue_pop_head (&self->sends);
      if (n != (ssize_t) (len + SP_CRC32_LEN))
        op_complete (op, error_new (SIGNET_TRANSPORT_ERROR_IO, "%s: L2CAP send: %s", self->path,
                                    n < 0 ? g_strerror (errno) : "short"));
      else
        {
          self->stats.l2cap_sent++;
          op_complete (op, NULL);
        }
      op_free (op);
    }
}

#ifdef SIGNET_HAVE_LIBBLUETOOTH
static gboolean
on_l2cap_connected (int fd, GIOCondition cond, gpointer user_data)
{
  SignetBleTransport *self = user_data;
  GTask *task = g_steal_pointer (&self->l2cap_task);
  int err = 0;
  socklen_t len = sizeof err;

  (void) cond;
  g_clear_pointer (&self->l2cap_source, g_source_unref);
  self->l2cap_pending_fd = -1;
  if (getsockopt (fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (err != 0)
    {
      close (fd);
      g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_IO, "%s: L2CAP: %s",
                                            self->path, g_strerror (err)));
      g_object_unref (task);
      return G_SOURCE_REMOVE;
    }
  self->l2cap_fd = fd;
  self->l2cap_source = attach (self, g_unix_fd_source_new (fd, G_IO_IN | G_IO_HUP | G_IO_ERR),
                               G_SOURCE_FUNC (on_l2cap_readable), self);
  g_object_notify (G_OBJECT (self), "capabilities");
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  return G_SOURCE_REMOVE;
}
#endif

void
signet_ble_transport_open_l2cap_async (SignetBleTransport  *self,
                                       guint16              psm,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (SIGNET_IS_BLE_TRANSPORT (self));
  task = task_new (self, cancellable, callback, user_data, signet_ble_transport_open_l2cap_async);
  if (self->state != STATE_OPEN)
    {
      g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_CLOSED, "not open"));
      return;
    }
#ifdef SIGNET_HAVE_LIBBLUETOOTH
  {
    struct sockaddr_l2 sa;
    struct bt_security sec = { .level = BT_SECURITY_LOW };
    struct sockaddr_l2 local;
    int fd;

    if (self->l2cap_fd >= 0 || self->l2cap_task != NULL)
      {
        g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_BUSY,
                                              "%s: L2CAP already open", self->path));
        return;
      }
    memset (&sa, 0, sizeof sa);
    sa.l2_family = AF_BLUETOOTH;
    sa.l2_psm = htobs (psm);
    sa.l2_bdaddr_type = self->address_random ? BDADDR_LE_RANDOM : BDADDR_LE_PUBLIC;
    if (self->address == NULL || str2ba (self->address, &sa.l2_bdaddr) < 0)
      {
        g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_NOT_FOUND,
                                              "%s: no Bluetooth address", self->path));
        return;
      }
    fd = socket (AF_BLUETOOTH, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, BTPROTO_L2CAP);
    if (fd < 0)
      {
        g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_NOT_FOUND,
                                              "no Bluetooth sockets: %s", g_strerror (errno)));
        return;
      }
    (void) setsockopt (fd, SOL_BLUETOOTH, BT_SECURITY, &sec, sizeof sec);
    /* From the controller BlueZ connected the device through (with
     * several, the kernel's own choice may be another one). */
    memset (&local, 0, sizeof local);
    local.l2_family = AF_BLUETOOTH;
    local.l2_bdaddr_type = BDADDR_LE_PUBLIC;
    if (self->local_address != NULL)
      (void) str2ba (self->local_address, &local.l2_bdaddr);
    if (bind (fd, (struct sockaddr *) &local, sizeof local) < 0)
      {
        int err = errno;

        close (fd);
        g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_IO,
                                              "L2CAP: cannot bind to %s: %s",
                                              self->local_address != NULL
                                              ? self->local_address : "any controller",
                                              g_strerror (err)));
        return;
      }
    /* Non-blocking: the channel's set-up completes when the socket turns
     * writable. */
    if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)
      {
        int err = errno;

        close (fd);
        g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_IO, "L2CAP PSM 0x%04x: %s",
                                              psm, g_strerror (err)));
        return;
      }
    self->l2cap_pending_fd = fd;
    self->l2cap_task = g_steal_pointer (&task);
    self->l2cap_source = attach (self, g_unix_fd_source_new (fd, G_IO_OUT | G_IO_HUP | G_IO_ERR),
                                 G_SOURCE_FUNC (on_l2cap_connected), self);
  }
#else
  (void) psm;
  g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_NOT_FOUND,
                                        "built without libbluetooth: no L2CAP"));
#endif
}

gboolean
signet_ble_transport_open_l2cap_finish (SignetBleTransport  *self,
                                        GAsyncResult        *result,
                                        GError             **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- BlueZ signals ------------------------------------------------------- */

static void
on_device_props (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
                 const char *signal, GVariant *params, gpointer user_data)
{
  SignetBleTransport *self = user_data;
  g_autoptr(GVariant) changed = NULL;
  const char *which = NULL;
  gboolean value;

  (void) bus; (void) sender; (void) path; (void) iface; (void) signal;
  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  g_variant_get (params, "(&s@a{sv}@as)", &which, &changed, NULL);
  if (!g_str_equal (which, IFACE_DEVICE))
    return;
  if (g_variant_lookup (changed, "Connected", "b", &value) && !value)
    {
      /* Opening, before we asked BlueZ to connect: the end of the last
       * connection (its notice can come after our socket's hang-up and a
       * new open). GetManagedObjects, answered after this signal, sees
       * it too, and we connect. */
      if (self->state == STATE_OPENING && !self->connect_called)
        return;
      disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                   "%s: the device disconnected", self->path));
      return;
    }
  if (g_variant_lookup (changed, "ServicesResolved", "b", &value))
    {
      if (!value && self->state == STATE_OPEN)
        disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                     "%s: the device's services went away", self->path));
      else if (value && self->state == STATE_OPENING && self->waiting_resolved)
        {
          self->waiting_resolved = FALSE;
          open_step (self);
        }
    }
}

static void
on_interfaces_removed (GDBusConnection *bus, const char *sender, const char *path,
                       const char *iface, const char *signal, GVariant *params, gpointer user_data)
{
  SignetBleTransport *self = user_data;
  const char *object;

  (void) bus; (void) sender; (void) path; (void) iface; (void) signal;
  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(oas)")))
    return;
  g_variant_get (params, "(&oas)", &object, NULL);
  if (g_str_equal (object, self->path) ||
      (self->rx_path != NULL && g_str_equal (object, self->rx_path)) ||
      (self->tx_path != NULL && g_str_equal (object, self->tx_path)))
    disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED, "%s: the device went away",
                                 self->path));
}

static void
on_tx_value (GDBusConnection *bus, const char *sender, const char *path, const char *iface,
             const char *signal, GVariant *params, gpointer user_data)
{
  SignetBleTransport *self = user_data;
  g_autoptr(GVariant) changed = NULL;
  g_autoptr(GVariant) value = NULL;
  const char *which;

  (void) bus; (void) sender; (void) path; (void) iface; (void) signal;
  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  g_variant_get (params, "(&s@a{sv}@as)", &which, &changed, NULL);
  if (!g_str_equal (which, IFACE_CHAR))
    return;
  value = g_variant_lookup_value (changed, "Value", G_VARIANT_TYPE_BYTESTRING);
  if (value != NULL)
    {
      gsize len;
      const guint8 *data = g_variant_get_fixed_array (value, &len, 1);

      g_object_ref (self);
      input_segment (self, data, len);
      pump (self);
      g_object_unref (self);
    }
}

static void
on_bluez_vanished (GDBusConnection *bus, const char *name, gpointer user_data)
{
  SignetBleTransport *self = user_data;

  (void) bus; (void) name;
  if (self->state == STATE_OPENING)
    open_fail (self, error_new (SIGNET_TRANSPORT_ERROR_NOT_FOUND,
                                "%s: BlueZ is not running (org.bluez is not on the system bus)",
                                self->path));
  else
    disconnect (self, error_new (SIGNET_TRANSPORT_ERROR_DISCONNECTED,
                                 "%s: BlueZ left the bus", self->path));
}

/* ---- open ---------------------------------------------------------------- */

/* open_step's stages, decided from what is known. */
static void on_objects (GObject *source, GAsyncResult *result, gpointer user_data);

static gboolean
on_objects_retry (gpointer user_data)
{
  SignetBleTransport *self = user_data;

  g_clear_pointer (&self->objects_retry_source, g_source_unref);
  open_step (self);
  return G_SOURCE_REMOVE;
}

/* Connected and resolved, but the Signet service or a characteristic is
 * not (yet) among BlueZ's objects: look again shortly, until the open
 * timeout. A device whose GATT application restarted while the link
 * stayed up (a reboot of its firmware, devsim killed and run again)
 * registers its service anew; BlueZ learns it through Service Changed and
 * adds the objects some time after -- found on the real stack, where the
 * open right after such a restart failed at once. */
static void
wait_for_objects (SignetBleTransport *self, const char *what)
{
  if (self->waiting_for == NULL)
    g_debug ("%s: connected, but %s: waiting for it", self->path, what);
  self->waiting_for = what;
  g_clear_pointer (&self->rx_path, g_free);
  g_clear_pointer (&self->tx_path, g_free);
  source_clear (&self->objects_retry_source);
  self->objects_retry_source = attach (self, g_timeout_source_new (OBJECTS_RETRY_MS),
                                       on_objects_retry, self);
}

static void
open_finish_ok (SignetBleTransport *self)
{
  GTask *task = g_steal_pointer (&self->open_task);

  source_clear (&self->open_timeout_source);
  source_clear (&self->open_cancel_source);
  self->state = STATE_OPEN;
  g_debug ("%s: open, ATT MTU %u, %s", self->path, self->att_mtu,
           self->acquired ? "AcquireWrite/AcquireNotify" : "WriteValue/StartNotify");
  notify_state (self);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
  pump (self);
}

/* The MTU our segments are cut for: the link's, but never a 511- or
 * 512-byte write value, which BlueZ as a GATT server drops (sp-seg.h,
 * SP_SEG_WRITE_ATT_MTU_MAX). */
static guint16
seg_mtu (SignetBleTransport *self)
{
  return MIN (self->att_mtu, SP_SEG_WRITE_ATT_MTU_MAX);
}

static void
start_segments (SignetBleTransport *self)
{
  guint16 mtu;

  if (self->max_att_mtu != 0)
    self->att_mtu = MIN (self->att_mtu, self->max_att_mtu);
  mtu = seg_mtu (self);

  self->epoch_ms = (guint32) (g_get_monotonic_time () / 1000);
  sp_seg_init (&self->seg, SP_SEG_ROLE_TOOL, mtu, (guint8) self->window, self->rxbuf,
               sizeof self->rxbuf, now_ms (self));
  sp_seg_set_timeouts (&self->seg, self->rto, (guint8) MIN (self->retries, 255));
  sp_seg_set_reset_id (&self->seg, (guint8) g_random_int ());
  self->seg_base = self->seg.stats;
  if (self->acquired)
    self->tx_source = attach (self, g_unix_fd_source_new (self->tx_fd,
                                                          G_IO_IN | G_IO_HUP | G_IO_ERR),
                              G_SOURCE_FUNC (on_tx_readable), self);
  pump (self);
}

/* The reply of AcquireNotify/AcquireWrite: (h fd, q mtu). -1 on failure. */
static int
acquired_fd (GDBusConnection *bus, GAsyncResult *result, guint16 *mtu, GError **error)
{
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) ret = NULL;
  gint32 index;

  ret = g_dbus_connection_call_with_unix_fd_list_finish (bus, &fds, result, error);
  if (ret == NULL)
    return -1;
  if (!g_variant_is_of_type (ret, G_VARIANT_TYPE ("(hq)")) || fds == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "unexpected reply %s",
                   g_variant_get_type_string (ret));
      return -1;
    }
  g_variant_get (ret, "(hq)", &index, mtu);
  return g_unix_fd_list_get (fds, index, error);
}

static void
on_start_notify (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleTransport) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                           &error);

  if (self->state != STATE_OPENING || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (ret == NULL)
    {
      open_fail (self, error_from_dbus (error, "StartNotify"));
      return;
    }
  self->att_mtu = self->char_mtu >= SP_SEG_ATT_MTU_MIN ? self->char_mtu : SP_SEG_ATT_MTU_MIN;
  start_segments (self);
}

static void
fallback (SignetBleTransport *self)
{
  if (self->tx_fd >= 0)
    close (self->tx_fd);
  if (self->rx_fd >= 0)
    close (self->rx_fd);
  self->tx_fd = self->rx_fd = -1;
  self->acquired = FALSE;
  self->sub_tx = g_dbus_connection_signal_subscribe (self->bus, BLUEZ, IFACE_PROPS,
                                                     "PropertiesChanged", self->tx_path, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_tx_value, self,
                                                     NULL);
  g_dbus_connection_call (self->bus, BLUEZ, self->tx_path, IFACE_CHAR, "StartNotify", NULL,
                          NULL, G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, on_start_notify,
                          g_object_ref (self));
}

/* The descriptor an Acquire* call (method) gave, non-blocking; -1 if the
 * open is no longer under way, or if BlueZ refused: then the D-Bus calls
 * (instead) take over. */
static int
take_acquired (SignetBleTransport *self,
               GObject            *source,
               GAsyncResult       *result,
               const char         *method,
               const char         *instead,
               guint16            *mtu)
{
  g_autoptr(GError) error = NULL;
  int fd = acquired_fd (G_DBUS_CONNECTION (source), result, mtu, &error);

  if (self->state != STATE_OPENING || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (fd >= 0)
        close (fd);
      return -1;
    }
  if (fd < 0)
    {
      g_debug ("%s: %s: %s; %s instead", self->path, method, error->message, instead);
      fallback (self);
      return -1;
    }
  g_unix_set_fd_nonblocking (fd, TRUE, NULL);
  return fd;
}

static void
on_acquire_write (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleTransport) self = user_data;
  guint16 mtu = 0;
  int fd = take_acquired (self, source, result, "AcquireWrite", "WriteValue", &mtu);

  if (fd < 0)
    return;
  self->rx_fd = fd;
  self->acquired = TRUE;
  self->att_mtu = MIN (self->att_mtu, mtu);
  self->att_mtu = CLAMP (self->att_mtu, SP_SEG_ATT_MTU_MIN, SP_SEG_ATT_MTU_MAX);
  start_segments (self);
}

static void
on_acquire_notify (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleTransport) self = user_data;
  guint16 mtu = 0;
  int fd = take_acquired (self, source, result, "AcquireNotify", "StartNotify", &mtu);

  if (fd < 0)
    return;
  self->tx_fd = fd;
  self->att_mtu = mtu;
  g_dbus_connection_call_with_unix_fd_list (self->bus, BLUEZ, self->rx_path, IFACE_CHAR,
                                            "AcquireWrite", g_variant_new ("(a{sv})", NULL),
                                            G_VARIANT_TYPE ("(hq)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                            NULL, self->cancellable, on_acquire_write,
                                            g_object_ref (self));
}

static void
on_connect (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleTransport) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                           &error);

  if (self->state != STATE_OPENING || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (ret == NULL)
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      /* "Already connected" is no failure. */
      if (remote == NULL || !g_str_equal (remote, "org.bluez.Error.AlreadyConnected"))
        {
          open_fail (self, error_from_dbus (error, "Connect"));
          return;
        }
    }
  else
    self->we_connected = TRUE;
  open_step (self);
}

/* Look at org.bluez's objects: the device, its state, our characteristics. */
static void
on_objects (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleTransport) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                           &error);
  g_autoptr(GVariant) objects = NULL;
  g_autoptr(GVariant) device = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *service_path = NULL;
  gboolean connected = FALSE, resolved = FALSE;
  GVariantIter iter;
  const char *path;
  GVariant *ifaces;

  if (self->state != STATE_OPENING || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (ret == NULL)
    {
      open_fail (self, error_from_dbus (error, "GetManagedObjects"));
      return;
    }
  objects = g_variant_get_child_value (ret, 0);
  prefix = g_strconcat (self->path, "/", NULL);

  /* The device, and the Signet service below it. */
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      g_autoptr(GVariant) props = NULL;

      if (g_str_equal (path, self->path))
        device = g_variant_lookup_value (ifaces, IFACE_DEVICE, G_VARIANT_TYPE_VARDICT);
      else if (g_str_has_prefix (path, prefix) &&
               (props = g_variant_lookup_value (ifaces, IFACE_SERVICE, G_VARIANT_TYPE_VARDICT)))
        {
          const char *uuid = NULL;

          if (g_variant_lookup (props, "UUID", "&s", &uuid) &&
              g_ascii_strcasecmp (uuid, SP_SEG_UUID_SERVICE) == 0 && service_path == NULL)
            service_path = g_strdup (path);
        }
      g_variant_unref (ifaces);
    }
  if (device == NULL)
    {
      open_fail (self, error_new (SIGNET_TRANSPORT_ERROR_NOT_FOUND,
                                  "%s: no such Bluetooth device", self->path));
      return;
    }
  g_variant_lookup (device, "Connected", "b", &connected);
  {
    const char *address = NULL, *type = NULL, *adapter = NULL;

    g_clear_pointer (&self->address, g_free);
    if (g_variant_lookup (device, "Address", "&s", &address))
      self->address = g_strdup (address);
    self->address_random = g_variant_lookup (device, "AddressType", "&s", &type) &&
                           g_str_equal (type, "random");
    /* The controller BlueZ reaches the device through: the L2CAP
     * channel must leave from the same one. */
    g_clear_pointer (&self->local_address, g_free);
    if (g_variant_lookup (device, "Adapter", "&o", &adapter))
      {
        g_autoptr(GVariant) a_ifaces = g_variant_lookup_value (objects, adapter, NULL);
        g_autoptr(GVariant) a_props = NULL;

        if (a_ifaces != NULL)
          a_props = g_variant_lookup_value (a_ifaces, "org.bluez.Adapter1",
                                            G_VARIANT_TYPE_VARDICT);
        if (a_props != NULL && g_variant_lookup (a_props, "Address", "&s", &address))
          self->local_address = g_strdup (address);
      }
  }
  g_variant_lookup (device, "ServicesResolved", "b", &resolved);
  if (!connected)
    {
      if (self->connect_called)
        {
          /* Connect answered but the device is not (yet) connected:
           * wait for the properties to say so. */
          self->waiting_resolved = TRUE;
          return;
        }
      self->connect_called = TRUE;
      g_debug ("%s: connecting", self->path);
      g_dbus_connection_call (self->bus, BLUEZ, self->path, IFACE_DEVICE, "Connect", NULL, NULL,
                              G_DBUS_CALL_FLAGS_NONE, (gint) self->open_timeout,
                              self->cancellable, on_connect, g_object_ref (self));
      return;
    }
  if (!resolved)
    {
      self->waiting_resolved = TRUE;
      return;
    }
  if (service_path == NULL)
    {
      wait_for_objects (self, "the device has no Signet service");
      return;
    }

  /* Its characteristics. */
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      g_autoptr(GVariant) props = g_variant_lookup_value (ifaces, IFACE_CHAR,
                                                          G_VARIANT_TYPE_VARDICT);
      const char *uuid = NULL, *service = NULL;
      guint16 mtu = 0;

      g_variant_unref (ifaces);
      if (props == NULL || !g_variant_lookup (props, "Service", "&o", &service) ||
          !g_str_equal (service, service_path) || !g_variant_lookup (props, "UUID", "&s", &uuid))
        continue;
      if (g_variant_lookup (props, "MTU", "q", &mtu) && mtu > self->char_mtu)
        self->char_mtu = mtu;
      if (g_ascii_strcasecmp (uuid, SP_SEG_UUID_RX) == 0 && self->rx_path == NULL)
        self->rx_path = g_strdup (path);
      else if (g_ascii_strcasecmp (uuid, SP_SEG_UUID_TX) == 0 && self->tx_path == NULL)
        self->tx_path = g_strdup (path);
    }
  if (self->rx_path == NULL || self->tx_path == NULL)
    {
      wait_for_objects (self, self->rx_path == NULL
                              ? "the Signet service lacks its RX characteristic"
                              : "the Signet service lacks its TX characteristic");
      return;
    }
  self->waiting_for = NULL;
  if (!self->use_acquire)
    {
      fallback (self);
      return;
    }
  g_dbus_connection_call_with_unix_fd_list (self->bus, BLUEZ, self->tx_path, IFACE_CHAR,
                                            "AcquireNotify", g_variant_new ("(a{sv})", NULL),
                                            G_VARIANT_TYPE ("(hq)"), G_DBUS_CALL_FLAGS_NONE, -1,
                                            NULL, self->cancellable, on_acquire_notify,
                                            g_object_ref (self));
}

static void
open_step (SignetBleTransport *self)
{
  if (self->state != STATE_OPENING)
    return;
  if (self->att_mtu != 0 && sp_seg_get_state (&self->seg) == SP_SEG_STATE_OPEN)
    {
      open_finish_ok (self);
      return;
    }
  g_dbus_connection_call (self->bus, BLUEZ, "/", IFACE_OM, "GetManagedObjects", NULL,
                          G_VARIANT_TYPE ("(a{oa{sa{sv}}})"), G_DBUS_CALL_FLAGS_NONE, -1,
                          self->cancellable, on_objects, g_object_ref (self));
}

static void
on_bus (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleTransport) self = user_data;
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish (result, &error);

  (void) source;
  if (self->state != STATE_OPENING || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_object (&bus);
      return;
    }
  if (bus == NULL)
    {
      open_fail (self, error_new (SIGNET_TRANSPORT_ERROR_NOT_FOUND,
                                  "%s: no system bus (%s)", self->path, error->message));
      return;
    }
  self->bus = bus;
  self->sub_device = g_dbus_connection_signal_subscribe (bus, BLUEZ, IFACE_PROPS,
                                                         "PropertiesChanged", self->path, NULL,
                                                         G_DBUS_SIGNAL_FLAGS_NONE,
                                                         on_device_props, self, NULL);
  self->sub_removed = g_dbus_connection_signal_subscribe (bus, BLUEZ, IFACE_OM,
                                                          "InterfacesRemoved", "/", NULL,
                                                          G_DBUS_SIGNAL_FLAGS_NONE,
                                                          on_interfaces_removed, self, NULL);
  self->name_watch = g_bus_watch_name_on_connection (bus, BLUEZ, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                     NULL, on_bluez_vanished, self, NULL);
  open_step (self);
}

static gboolean
on_open_cancelled (GCancellable *cancellable, gpointer user_data)
{
  SignetBleTransport *self = user_data;

  (void) cancellable;
  open_fail (self, error_new (SIGNET_TRANSPORT_ERROR_CANCELLED, "Cancelled"));
  return G_SOURCE_REMOVE;
}

static gboolean
on_open_timeout (gpointer user_data)
{
  SignetBleTransport *self = user_data;

  g_clear_pointer (&self->open_timeout_source, g_source_unref);
  if (self->waiting_for != NULL)
    open_fail (self, error_new (SIGNET_TRANSPORT_ERROR_NOT_FOUND, "%s: %s (waited %u ms)",
                                self->path, self->waiting_for, self->open_timeout));
  else
    open_fail (self, error_new (SIGNET_TRANSPORT_ERROR_TIMEOUT,
                                "%s: not connected and resolved in %u ms", self->path,
                                self->open_timeout));
  return G_SOURCE_REMOVE;
}

static void
open_begin (SignetBleTransport *self)
{
  if (self->given_bus != NULL)
    {
      self->bus = g_object_ref (self->given_bus);
      g_object_ref (self);
      on_bus (NULL, NULL, self);
    }
  else
    g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, on_bus, g_object_ref (self));
}

static void
signet_ble_transport_open_async (SignetTransport     *transport,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  SignetBleTransport *self = SIGNET_BLE_TRANSPORT (transport);
  g_autoptr(GTask) task = task_new (self, cancellable, callback, user_data,
                                    signet_ble_transport_open_async);

  if (self->state == STATE_OPEN || self->state == STATE_OPENING)
    {
      g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_BUSY, "%s: already open",
                                            self->path));
      return;
    }
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_CANCELLED, "Cancelled"));
      return;
    }
  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();
  g_queue_clear_full (&self->inbox, (GDestroyNotify) g_bytes_unref);
  self->state = STATE_OPENING;
  self->open_task = g_steal_pointer (&task);
  self->cancellable = g_cancellable_new ();
  self->connect_called = FALSE;
  self->we_connected = FALSE;
  self->char_mtu = 0;
  self->att_mtu = 0;
  memset (&self->seg, 0, sizeof self->seg);
  memset (&self->seg_base, 0, sizeof self->seg_base);
  if (cancellable != NULL)
    {
      self->open_cancel_source = g_cancellable_source_new (cancellable);
      attach (self, self->open_cancel_source, G_SOURCE_FUNC (on_open_cancelled), self);
    }
  if (self->open_timeout > 0)
    self->open_timeout_source = attach (self, g_timeout_source_new (self->open_timeout),
                                        on_open_timeout, self);
  if (self->disconnecting > 0)
    {
      /* the link we closed is still going down: connecting now would
       * find it up and then see it drop */
      g_debug ("%s: waiting for the previous link to go down", self->path);
      self->open_waits = TRUE;
      return;
    }
  open_begin (self);
}

static gboolean
signet_ble_transport_open_finish (SignetTransport  *transport,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- send, receive, close ------------------------------------------------ */

static void
signet_ble_transport_send_async (SignetTransport     *transport,
                                 GBytes              *message,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  SignetBleTransport *self = SIGNET_BLE_TRANSPORT (transport);
  g_autoptr(GTask) task = task_new (self, cancellable, callback, user_data,
                                    signet_ble_transport_send_async);
  gsize len = g_bytes_get_size (message);
  Op *op;

  if (self->state != STATE_OPEN)
    {
      g_task_return_error (task, error_new (self->state == STATE_DISCONNECTED
                                            ? SIGNET_TRANSPORT_ERROR_DISCONNECTED
                                            : SIGNET_TRANSPORT_ERROR_CLOSED,
                                            "%s: not open", self->path));
      return;
    }
  if (len == 0 || len > SP_SEG_MSG_MAX)
    {
      g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_TOO_LARGE,
                                            "a message of %" G_GSIZE_FORMAT " bytes", len));
      return;
    }
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_CANCELLED, "Cancelled"));
      return;
    }
  op = op_new (self, OP_SEND, task);
  op->message = g_bytes_ref (message);
  g_queue_push_tail (&self->sends, op);
  if (self->l2cap_fd >= 0)
    l2cap_flush (self);
  else
    pump (self);
}

static gboolean
signet_ble_transport_send_finish (SignetTransport  *transport,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
signet_ble_transport_receive_async (SignetTransport     *transport,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  SignetBleTransport *self = SIGNET_BLE_TRANSPORT (transport);
  g_autoptr(GTask) task = task_new (self, cancellable, callback, user_data,
                                    signet_ble_transport_receive_async);
  GBytes *message;
  Op *op;

  if (self->receives.length == 0 && (message = g_queue_pop_head (&self->inbox)) != NULL)
    {
      g_task_return_pointer (task, message, (GDestroyNotify) g_bytes_unref);
      l2cap_resume (self);
      return;
    }
  if (self->state != STATE_OPEN)
    {
      g_task_return_error (task, error_new (self->state == STATE_DISCONNECTED
                                            ? SIGNET_TRANSPORT_ERROR_DISCONNECTED
                                            : SIGNET_TRANSPORT_ERROR_CLOSED,
                                            "%s: not open", self->path));
      return;
    }
  if (cancellable != NULL && g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_error (task, error_new (SIGNET_TRANSPORT_ERROR_CANCELLED, "Cancelled"));
      return;
    }
  op = op_new (self, OP_RECEIVE, task);
  if (self->receive_timeout > 0)
    op->timeout_source = attach (self, g_timeout_source_new (self->receive_timeout),
                                 on_receive_timeout, op);
  g_queue_push_tail (&self->receives, op);
}

static GBytes *
signet_ble_transport_receive_finish (SignetTransport  *transport,
                                     GAsyncResult     *result,
                                     GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, transport), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
signet_ble_transport_close (SignetTransport *transport)
{
  SignetBleTransport *self = SIGNET_BLE_TRANSPORT (transport);
  gboolean was_open = self->state == STATE_OPEN;
  GTask *open_task = g_steal_pointer (&self->open_task);

  g_object_ref (self);
  disconnect_ours (self);
  self->open_waits = FALSE;
  release_link (self);
  self->state = STATE_CLOSED;
  if (open_task != NULL)
    {
      g_task_return_error (open_task, error_new (SIGNET_TRANSPORT_ERROR_CLOSED,
                                                 "closed while opening"));
      g_object_unref (open_task);
    }
  fail_queue (&self->sends, SIGNET_TRANSPORT_ERROR_CLOSED, "closed");
  fail_queue (&self->receives, SIGNET_TRANSPORT_ERROR_CLOSED, "closed");
  g_queue_clear_full (&self->inbox, (GDestroyNotify) g_bytes_unref);
  if (was_open)
    notify_state (self);
  g_object_unref (self);
}

/* ---- GObject ------------------------------------------------------------- */

static SignetTransportCapabilities
capabilities (SignetBleTransport *self)
{
  SignetTransportCapabilities caps = SIGNET_TRANSPORT_CAPABILITY_PIPELINE |
                                     SIGNET_TRANSPORT_CAPABILITY_INTEGRITY |
                                     SIGNET_TRANSPORT_CAPABILITY_RELIABLE;

  if (self->l2cap_fd >= 0)
    caps |= SIGNET_TRANSPORT_CAPABILITY_BULK_CHANNEL;
  return caps;
}

static void
signet_ble_transport_get_property (GObject *object, guint prop_id, GValue *value,
                                   GParamSpec *pspec)
{
  SignetBleTransport *self = SIGNET_BLE_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->path);
      break;
    case PROP_MAX_MESSAGE:
      g_value_set_uint (value, SP_SEG_MSG_MAX);
      break;
    case PROP_MTU:
      g_value_set_uint (value, self->att_mtu != 0 ? (guint) sp_seg_single_max (seg_mtu (self))
                                                  : (guint) sp_seg_single_max (SP_SEG_ATT_MTU_MIN));
      break;
    case PROP_CAPABILITIES:
      g_value_set_flags (value, capabilities (self));
      break;
    case PROP_CONNECTED:
      g_value_set_boolean (value, self->state == STATE_OPEN);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_ble_transport_dispose (GObject *object)
{
  SignetBleTransport *self = SIGNET_BLE_TRANSPORT (object);

  if (self->state != STATE_CLOSED || self->sends.length > 0 || self->receives.length > 0)
    signet_ble_transport_close (SIGNET_TRANSPORT (self));
  G_OBJECT_CLASS (signet_ble_transport_parent_class)->dispose (object);
}

static void
signet_ble_transport_finalize (GObject *object)
{
  SignetBleTransport *self = SIGNET_BLE_TRANSPORT (object);

  g_queue_clear_full (&self->inbox, (GDestroyNotify) g_bytes_unref);
  g_clear_object (&self->given_bus);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->path);
  g_free (self->address);
  g_free (self->local_address);
  G_OBJECT_CLASS (signet_ble_transport_parent_class)->finalize (object);
}

static void
signet_ble_transport_class_init (SignetBleTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = signet_ble_transport_get_property;
  object_class->dispose = signet_ble_transport_dispose;
  object_class->finalize = signet_ble_transport_finalize;
  g_object_class_override_property (object_class, PROP_NAME, "name");
  g_object_class_override_property (object_class, PROP_MAX_MESSAGE, "max-message");
  g_object_class_override_property (object_class, PROP_MTU, "mtu");
  g_object_class_override_property (object_class, PROP_CAPABILITIES, "capabilities");
  g_object_class_override_property (object_class, PROP_CONNECTED, "connected");
}

/* The L2CAP channel is the BLE link's bulk channel. */
static void
open_channel_async (SignetTransport     *transport,
                    guint16              psm,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  signet_ble_transport_open_l2cap_async (SIGNET_BLE_TRANSPORT (transport), psm, cancellable,
                                         callback, user_data);
}

static gboolean
open_channel_finish (SignetTransport  *transport,
                     GAsyncResult     *result,
                     GError          **error)
{
  return signet_ble_transport_open_l2cap_finish (SIGNET_BLE_TRANSPORT (transport), result, error);
}

static void
signet_ble_transport_iface_init (SignetTransportInterface *iface)
{
  iface->open_async = signet_ble_transport_open_async;
  iface->open_finish = signet_ble_transport_open_finish;
  iface->send_async = signet_ble_transport_send_async;
  iface->send_finish = signet_ble_transport_send_finish;
  iface->receive_async = signet_ble_transport_receive_async;
  iface->receive_finish = signet_ble_transport_receive_finish;
  iface->close = signet_ble_transport_close;
  iface->open_channel_async = open_channel_async;
  iface->open_channel_finish = open_channel_finish;
}

static void
signet_ble_transport_init (SignetBleTransport *self)
{
  self->receive_timeout = SIGNET_BLE_TRANSPORT_RECEIVE_TIMEOUT_DEFAULT;
  self->open_timeout = SIGNET_BLE_TRANSPORT_OPEN_TIMEOUT_DEFAULT;
  self->use_acquire = TRUE;
  self->rx_fd = self->tx_fd = self->l2cap_fd = self->l2cap_pending_fd = -1;
  g_queue_init (&self->sends);
  g_queue_init (&self->receives);
  g_queue_init (&self->inbox);
}

SignetBleTransport *
signet_ble_transport_new (const char *object_path)
{
  SignetBleTransport *self;

  g_return_val_if_fail (object_path != NULL && g_variant_is_object_path (object_path), NULL);
  self = g_object_new (SIGNET_TYPE_BLE_TRANSPORT, NULL);
  self->path = g_strdup (object_path);
  return self;
}

SignetBleTransport *
signet_ble_transport_new_for_bus (GDBusConnection *bus, const char *object_path)
{
  SignetBleTransport *self = signet_ble_transport_new (object_path);

  g_return_val_if_fail (G_IS_DBUS_CONNECTION (bus), self);
  self->given_bus = g_object_ref (bus);
  return self;
}

const char *
signet_ble_transport_get_object_path (SignetBleTransport *self)
{
  g_return_val_if_fail (SIGNET_IS_BLE_TRANSPORT (self), NULL);
  return self->path;
}

guint
signet_ble_transport_get_att_mtu (SignetBleTransport *self)
{
  g_return_val_if_fail (SIGNET_IS_BLE_TRANSPORT (self), 0);
  return self->state == STATE_OPEN ? self->att_mtu : 0;
}

gboolean
signet_ble_transport_get_acquired (SignetBleTransport *self)
{
  g_return_val_if_fail (SIGNET_IS_BLE_TRANSPORT (self), FALSE);
  return self->acquired;
}

guint
signet_ble_transport_get_receive_timeout (SignetBleTransport *self)
{
  g_return_val_if_fail (SIGNET_IS_BLE_TRANSPORT (self), 0);
  return self->receive_timeout;
}

void
signet_ble_transport_set_receive_timeout (SignetBleTransport *self, guint ms)
{
  g_return_if_fail (SIGNET_IS_BLE_TRANSPORT (self));
  self->receive_timeout = ms;
}

void
signet_ble_transport_set_retransmit (SignetBleTransport *self, guint rto_ms, guint max_retries)
{
  g_return_if_fail (SIGNET_IS_BLE_TRANSPORT (self));
  self->rto = rto_ms;
  self->retries = max_retries;
}

void
signet_ble_transport_set_max_att_mtu (SignetBleTransport *self, guint mtu)
{
  g_return_if_fail (SIGNET_IS_BLE_TRANSPORT (self));
  g_return_if_fail (mtu == 0 || (mtu >= SP_SEG_ATT_MTU_MIN && mtu <= 517));
  self->max_att_mtu = mtu;
}

void
signet_ble_transport_set_window (SignetBleTransport *self, guint window)
{
  g_return_if_fail (SIGNET_IS_BLE_TRANSPORT (self));
  self->window = MIN (window, SP_SEG_WINDOW_MAX);
}

void
signet_ble_transport_set_use_acquire (SignetBleTransport *self, gboolean use)
{
  g_return_if_fail (SIGNET_IS_BLE_TRANSPORT (self));
  self->use_acquire = use;
}

void
signet_ble_transport_get_stats (SignetBleTransport *self, SignetBleStats *stats)
{
  g_return_if_fail (SIGNET_IS_BLE_TRANSPORT (self));
  if (self->state == STATE_OPEN || self->state == STATE_OPENING)
    accumulate_stats (self);
  *stats = self->stats;
}
