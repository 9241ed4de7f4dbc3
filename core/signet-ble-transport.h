/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-ble-transport.h: SignetTransport over Bluetooth Low Energy
 * through BlueZ's D-Bus API (docs/ble.md).
 *
 * Given a BlueZ Device1 object path (from discovery: SignetDeviceMonitor),
 * open connects the device if it is not connected (Device1.Connect), waits
 * for ServicesResolved, finds the Signet GATT service and its RX/TX
 * characteristics in org.bluez's ObjectManager, and takes them with
 * AcquireNotify/AcquireWrite (sockets; they give the ATT MTU) or, where
 * BlueZ refuses those, StartNotify/WriteValue (ATT MTU 23 unless the
 * characteristic's MTU property says more). Messages are segmented with
 * proto/sp-seg.h (window, acknowledgements, go-back-N); open ends with its
 * RESET handshake. Every D-Bus call is asynchronous.
 *
 * Device1 Connected or ServicesResolved going false, the device object
 * removed, BlueZ leaving the bus, a hang-up on either socket, or the
 * device no longer acknowledging (sp-seg gave up) end the link with
 * SIGNET_TRANSPORT_ERROR_DISCONNECTED (signal "disconnected"); the
 * transport may be opened again, and the engine then resumes a bulk
 * transfer at the device's offset.
 *
 * A link the transport made itself (its Connect) is taken down when it
 * closes, when an open fails and when the link is lost (Device1.Disconnect,
 * answered once the link is down): a device connected to the laptop
 * neither advertises nor takes another central. A link someone else made
 * stays. An open while that Disconnect is under way waits for it.
 *
 * Nothing here knows which BlueZ it talks to: the bus is the system bus
 * ($DBUS_SYSTEM_BUS_ADDRESS), or one given.
 */
#pragma once

#include "signet-transport.h"

G_BEGIN_DECLS

#define SIGNET_BLE_TRANSPORT_RECEIVE_TIMEOUT_DEFAULT 5000
/* Messages received and not asked for yet that are kept; while that many
 * wait, DATA segments are not taken (the device keeps them, unacknowledged,
 * and sends them again), as SignetSerialTransport stops reading. */
#define SIGNET_BLE_TRANSPORT_INBOX_MAX 32
/* Connect + service resolution + RESET, ms. */
#define SIGNET_BLE_TRANSPORT_OPEN_TIMEOUT_DEFAULT 30000

typedef struct {
  guint64 messages_sent;      /* acknowledged whole by the device */
  guint64 messages_received;
  guint64 segments_sent;      /* every DATA segment, resent ones included */
  guint64 segments_resent;
  guint64 segments_received;
  guint64 control_sent;       /* ACK/NAK/RESET */
  guint64 bytes_sent;         /* ATT values (segments), all of them */
  guint64 bytes_received;
  guint64 duplicates;
  guint64 out_of_order;
  guint64 timeouts;           /* retransmission timeouts */
  guint64 dropped;            /* bad segments + messages dropped (CRC, size) */
  guint64 l2cap_sent;         /* messages over the L2CAP channel */
  guint64 l2cap_received;
  guint64 inbox_full;         /* DATA segments not taken: the inbox was full */
} SignetBleStats;

#define SIGNET_TYPE_BLE_TRANSPORT (signet_ble_transport_get_type ())
G_DECLARE_FINAL_TYPE (SignetBleTransport, signet_ble_transport, SIGNET, BLE_TRANSPORT, GObject)

/* A transport for the BlueZ device at object_path (not opened yet), on
 * the system bus. Returns: (transfer full) */
SignetBleTransport *signet_ble_transport_new             (const char          *object_path);
/* The same on a given connection (tests). */
SignetBleTransport *signet_ble_transport_new_for_bus     (GDBusConnection     *bus,
                                                          const char          *object_path);

const char *signet_ble_transport_get_object_path         (SignetBleTransport  *self);
/* The ATT MTU in use (0 when not open), and whether the Acquire* sockets
 * are used (else WriteValue/StartNotify). */
guint       signet_ble_transport_get_att_mtu             (SignetBleTransport  *self);
gboolean    signet_ble_transport_get_acquired            (SignetBleTransport  *self);

/* "receive-timeout" as in SignetSerialTransport (ms, 0: for ever). */
guint       signet_ble_transport_get_receive_timeout     (SignetBleTransport  *self);
void        signet_ble_transport_set_receive_timeout     (SignetBleTransport  *self,
                                                          guint                ms);
/* Segment layer timing for the next open (0: sp-seg's defaults). */
void        signet_ble_transport_set_retransmit          (SignetBleTransport  *self,
                                                          guint                rto_ms,
                                                          guint                max_retries);
/* The receive window advertised (2..64, 0: default) for the next open. */
void        signet_ble_transport_set_window              (SignetBleTransport  *self,
                                                          guint                window);
/* Use at most this ATT MTU (23..517; 0: the link's, as BlueZ gives it) from
 * the next open: the tool's segments are cut to it. The device still
 * cuts its own to the link's MTU (every size up to that is valid,
 * docs/ble.md "Segments"). For benchmarks and for links known to be bad. */
void        signet_ble_transport_set_max_att_mtu         (SignetBleTransport  *self,
                                                          guint                mtu);
/* Force the WriteValue/StartNotify path even where Acquire* works. */
void        signet_ble_transport_set_use_acquire         (SignetBleTransport  *self,
                                                          gboolean             use);

void        signet_ble_transport_get_stats               (SignetBleTransport  *self,
                                                          SignetBleStats      *stats);

/* Open the device's LE L2CAP connection-oriented channel at psm (HELLO
 * key 14 with capability SP_MSG_CAP_L2CAP, docs/ble.md "L2CAP"); from
 * then on messages go over it (one SDU each, message || CRC-32), and the
 * capabilities gain BULK_CHANNEL. The transport must be open.
 * SIGNET_TRANSPORT_ERROR_NOT_FOUND when this build or this system has no
 * Bluetooth sockets. */
void        signet_ble_transport_open_l2cap_async        (SignetBleTransport  *self,
                                                          guint16              psm,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
gboolean    signet_ble_transport_open_l2cap_finish       (SignetBleTransport  *self,
                                                          GAsyncResult        *result,
                                                          GError             **error);

G_END_DECLS
