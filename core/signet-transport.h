/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-transport.h: the link between the tool and one device, as the
 * session engine sees it (DESIGN.md §3 "Device session", §4; docs/transport.md).
 *
 * A transport carries whole messages (docs/protocol.md: one CBOR item of at
 * most SP_MSG_MAX bytes) both ways: open, send a message, receive a
 * message, close. How a message travels -- one COBS + CRC-32 frame on a
 * USB CDC-ACM tty (SignetSerialTransport), segments on BLE -- is the
 * implementation's business; a corrupted unit is dropped by the transport
 * and never delivered, so what receive gives is exactly what the peer sent
 * (or nothing: the link may lose a message, and the session engine retries
 * after a timeout, docs/protocol.md "Retries").
 *
 * Every operation is an _async/_finish pair on a GTask with a GCancellable;
 * callbacks run in the thread-default main context of the thread that made
 * the transport, and a transport is used from that thread only. Several
 * sends may be pending at once (they go out in call order, one message
 * after the other); so may several receives (served in call order). close
 * is synchronous and never blocks: what is pending fails with
 * SIGNET_TRANSPORT_ERROR_CLOSED.
 *
 * Errors are in the SIGNET_TRANSPORT_ERROR domain, cancellation included
 * (SIGNET_TRANSPORT_ERROR_CANCELLED, not G_IO_ERROR_CANCELLED).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SIGNET_TRANSPORT_ERROR (signet_transport_error_quark ())
GQuark signet_transport_error_quark (void);

/**
 * SignetTransportError:
 * @SIGNET_TRANSPORT_ERROR_CLOSED: the transport is not open (never opened,
 *   or closed by the caller); pending operations fail with it on close
 * @SIGNET_TRANSPORT_ERROR_DISCONNECTED: the link went away: the device was
 *   unplugged or reset, the peer hung up (EIO or a hang-up on a tty). The
 *   transport must be closed, and may then be opened again
 * @SIGNET_TRANSPORT_ERROR_TIMEOUT: no message arrived, or a message could
 *   not be handed to the link, in the configured time
 * @SIGNET_TRANSPORT_ERROR_TOO_LARGE: a message longer than the
 *   transport's max-message; nothing was sent
 * @SIGNET_TRANSPORT_ERROR_IO: any other failure of the link or the
 *   system (not a serial port, termios refused, an unexpected errno)
 * @SIGNET_TRANSPORT_ERROR_CANCELLED: the caller cancelled the operation
 * @SIGNET_TRANSPORT_ERROR_NOT_FOUND: open: no such device (unplugged
 *   between discovery and open, a wrong path)
 * @SIGNET_TRANSPORT_ERROR_PERMISSION_DENIED: open: the user may not open
 *   the device node (on Debian: not in group dialout)
 * @SIGNET_TRANSPORT_ERROR_BUSY: open: another program, or another
 *   transport of this one, has the device open; or this transport is
 *   already open
 */
typedef enum {
  SIGNET_TRANSPORT_ERROR_CLOSED,
  SIGNET_TRANSPORT_ERROR_DISCONNECTED,
  SIGNET_TRANSPORT_ERROR_TIMEOUT,
  SIGNET_TRANSPORT_ERROR_TOO_LARGE,
  SIGNET_TRANSPORT_ERROR_IO,
  SIGNET_TRANSPORT_ERROR_CANCELLED,
  SIGNET_TRANSPORT_ERROR_NOT_FOUND,
  SIGNET_TRANSPORT_ERROR_PERMISSION_DENIED,
  SIGNET_TRANSPORT_ERROR_BUSY,
} SignetTransportError;

/**
 * SignetTransportCapabilities:
 * @SIGNET_TRANSPORT_CAPABILITY_NONE: none of the below
 * @SIGNET_TRANSPORT_CAPABILITY_PIPELINE: several messages may be in flight
 *   at once (sent before the answer to the first arrives), as BULK_DATA
 *   wants (docs/protocol.md)
 * @SIGNET_TRANSPORT_CAPABILITY_INTEGRITY: the link checks every unit
 *   (CRC-32) and drops a damaged one, so a receive never gives a message
 *   altered by line noise
 * @SIGNET_TRANSPORT_CAPABILITY_RELIABLE: the link itself retransmits: a
 *   message is never lost silently (BLE's link layer); without it a
 *   message may be lost and the caller retries after a timeout
 * @SIGNET_TRANSPORT_CAPABILITY_BULK_CHANNEL: a separate channel for bulk
 *   transfer (an LE L2CAP connection-oriented channel)
 */
typedef enum /*< flags >*/ {
  SIGNET_TRANSPORT_CAPABILITY_NONE = 0,
  SIGNET_TRANSPORT_CAPABILITY_PIPELINE = 1 << 0,
  SIGNET_TRANSPORT_CAPABILITY_INTEGRITY = 1 << 1,
  SIGNET_TRANSPORT_CAPABILITY_RELIABLE = 1 << 2,
  SIGNET_TRANSPORT_CAPABILITY_BULK_CHANNEL = 1 << 3,
} SignetTransportCapabilities;

#define SIGNET_TYPE_TRANSPORT_CAPABILITIES (signet_transport_capabilities_get_type ())
GType signet_transport_capabilities_get_type (void) G_GNUC_CONST;

#define SIGNET_TYPE_TRANSPORT (signet_transport_get_type ())
G_DECLARE_INTERFACE (SignetTransport, signet_transport, SIGNET, TRANSPORT, GObject)

/**
 * SignetTransportInterface:
 * @open_async: start opening the link
 * @open_finish: the result of @open_async
 * @send_async: queue one whole message; completes when the link has taken
 *   all of it (handed to the kernel, for a tty), not when the peer got it
 * @send_finish: the result of @send_async
 * @receive_async: wait for the next whole message
 * @receive_finish: the message, or an error
 * @close: drop the link at once; pending operations fail with CLOSED
 * @open_channel_async: (optional) open the separate bulk channel the
 *   device offered (HELLO's PSM: an LE L2CAP channel); from then on the
 *   capabilities include BULK_CHANNEL
 * @open_channel_finish: the result of @open_channel_async
 *
 * Implementations also implement the properties below (override them with
 * g_object_class_override_property()) and emit #SignetTransport::disconnected.
 */
struct _SignetTransportInterface {
  GTypeInterface parent_iface;

  void      (*open_async)     (SignetTransport      *self,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data);
  gboolean  (*open_finish)    (SignetTransport      *self,
                               GAsyncResult         *result,
                               GError              **error);
  void      (*send_async)     (SignetTransport      *self,
                               GBytes               *message,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data);
  gboolean  (*send_finish)    (SignetTransport      *self,
                               GAsyncResult         *result,
                               GError              **error);
  void      (*receive_async)  (SignetTransport      *self,
                               GCancellable         *cancellable,
                               GAsyncReadyCallback   callback,
                               gpointer              user_data);
  GBytes   *(*receive_finish) (SignetTransport      *self,
                               GAsyncResult         *result,
                               GError              **error);
  void      (*close)          (SignetTransport      *self);
  void      (*open_channel_async)  (SignetTransport      *self,
                                    guint16               psm,
                                    GCancellable         *cancellable,
                                    GAsyncReadyCallback   callback,
                                    gpointer              user_data);
  gboolean  (*open_channel_finish) (SignetTransport      *self,
                                    GAsyncResult         *result,
                                    GError              **error);

  /*< private >*/
  gpointer padding[6];
};

/*
 * Properties (all read-only, notified on change):
 *  "name"          string: what the link is called in logs and the UI
 *                  (a serial transport: its device path)
 *  "max-message"   uint: the longest message it carries, in bytes
 *                  (SP_MSG_MAX for the serial transport)
 *  "mtu"           uint: the longest unit the link carries at once, in
 *                  bytes of message; a message longer than this is
 *                  segmented by the transport. A transport that carries
 *                  every message as one unit (serial) has mtu == max-message
 *  "capabilities"  SignetTransportCapabilities
 *  "connected"     boolean: TRUE from a successful open until close or a
 *                  disconnection
 *
 * Signal "disconnected" (GError *error): the link went away by itself
 * (never on close), once per open; error is of the
 * SIGNET_TRANSPORT_ERROR domain, usually DISCONNECTED.
 */

/* Open the link; SIGNET_TRANSPORT_ERROR_NOT_FOUND, _PERMISSION_DENIED,
 * _BUSY, _IO, _CANCELLED, _CLOSED (closed while opening). A transport
 * that was closed or disconnected may be opened again. */
void        signet_transport_open_async      (SignetTransport      *self,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
gboolean    signet_transport_open_finish     (SignetTransport      *self,
                                              GAsyncResult         *result,
                                              GError              **error);

/* Send one whole message (at most max-message bytes, else TOO_LARGE at
 * once). Messages go out whole and in call order. A send cancelled or
 * timed out halfway through its bytes leaves a partial unit on the link,
 * which the peer drops as damaged (the next message is sent with a resync,
 * proto/sp-frame.h). message: (transfer none) */
void        signet_transport_send_async      (SignetTransport      *self,
                                              GBytes               *message,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
gboolean    signet_transport_send_finish     (SignetTransport      *self,
                                              GAsyncResult         *result,
                                              GError              **error);

/* Receive the next whole message. Messages that arrived before the call
 * are kept (in a bounded queue) and given first; messages received
 * before a disconnection are still given, then DISCONNECTED.
 * Returns: (transfer full) (nullable): the message */
void        signet_transport_receive_async   (SignetTransport      *self,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
GBytes     *signet_transport_receive_finish  (SignetTransport      *self,
                                              GAsyncResult         *result,
                                              GError              **error);

/* Drop the link; does not block and may be called in any state. Pending
 * operations complete with SIGNET_TRANSPORT_ERROR_CLOSED; unsent bytes are
 * discarded. */
void        signet_transport_close           (SignetTransport      *self);

/* Open the device's separate bulk channel (HELLO key 14, a PSM, with
 * capability bit SP_MSG_CAP_L2CAP: docs/ble.md "L2CAP"); the link must be
 * open. Messages then go over it and the capabilities gain BULK_CHANNEL;
 * when it closes, the link goes on without it. NOT_FOUND when this kind
 * of link has no such channel (serial) or this system cannot open one;
 * any other error of the domain when the channel did not open. */
void        signet_transport_open_channel_async  (SignetTransport      *self,
                                                  guint16               psm,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean    signet_transport_open_channel_finish (SignetTransport      *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

/* The properties. name: (transfer full) */
char       *signet_transport_dup_name        (SignetTransport      *self);
guint       signet_transport_get_max_message (SignetTransport      *self);
guint       signet_transport_get_mtu         (SignetTransport      *self);
SignetTransportCapabilities
            signet_transport_get_capabilities (SignetTransport     *self);
gboolean    signet_transport_is_connected    (SignetTransport      *self);

G_END_DECLS
