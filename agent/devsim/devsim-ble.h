/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devsim-ble.h: the simulated device as a BLE GATT peripheral through
 * BlueZ (docs/ble.md), the way a Linux-based device would be one.
 *
 * On the system bus it exports a GattManager1 application -- an
 * ObjectManager at /org/signet/devsim/app, the Signet service and its RX
 * (write-without-response + write, AcquireWrite) and TX (notify,
 * AcquireNotify) characteristics -- and an LEAdvertisement1 with the
 * service UUID and the local name, and registers both on the adapter.
 * Every BlueZ call is asynchronous: bluetoothd calls this process back
 * (GetManagedObjects, AcquireWrite, ...) while it registers us, so a
 * blocking call would deadlock. BlueZ leaving the bus and coming back
 * registers everything again.
 *
 * Each RX write and each TX notification is one segment of proto/sp-seg
 * (device role): whole messages come out through DevsimBleMessageFunc,
 * answers go in with devsim_ble_send (). The segment MTU is the ATT MTU
 * BlueZ reports in AcquireNotify/AcquireWrite/WriteValue options.
 *
 * Faults: with a DevsimFaults set, each segment (in, out or both) passes
 * through devsim_faults_apply () -- dropped, corrupted, duplicated -- as
 * the pty path does with whole frames.
 *
 * Optionally an LE L2CAP connection-oriented channel (docs/ble.md): a
 * listening socket on the adapter (PSM given or dynamic); each SDU is
 * one message || CRC-32, answered on the same channel.
 */
#pragma once

#include <gio/gio.h>

#include "devsim-faults.h"

G_BEGIN_DECLS

#define DEVSIM_BLE_APP_PATH "/org/signet/devsim/app"
#define DEVSIM_BLE_ADV_PATH "/org/signet/devsim/adv0"

typedef struct {
  const char *adapter;      /* "hci0"; NULL: hci0 */
  const char *local_name;   /* advertised (the serial) */
  guint8 window;            /* 0: the reference window */
  gboolean l2cap;           /* offer an L2CAP channel */
  guint16 psm;              /* 0: a dynamic one */
  DevsimFaults *faults;     /* nullable, borrowed */
  gboolean faults_in;
  gboolean faults_out;
} DevsimBleOptions;

typedef struct _DevsimBle DevsimBle;

/* A whole message from the tool; answer with devsim_ble_send () (now or
 * later). channel: 0 for GATT, else the L2CAP channel it came in on. */
typedef void (*DevsimBleMessageFunc) (const guint8 *msg,
                                      gsize         len,
                                      guint         channel,
                                      gpointer      user_data);
/* Events for the status output: "registered", "unregistered",
 * "connected", "disconnected", "l2cap-open", "l2cap-closed", "error"
 * (detail: the message), "fault" (detail: "in:drop" ...). */
typedef void (*DevsimBleEventFunc)   (const char   *event,
                                      const char   *detail,
                                      gpointer      user_data);

DevsimBle *devsim_ble_new        (const DevsimBleOptions  *options,
                                  DevsimBleMessageFunc     on_message,
                                  DevsimBleEventFunc       on_event,
                                  gpointer                 user_data);
/* Connects to the system bus, exports the objects and starts the
 * (asynchronous) registration. FALSE: no system bus, or the L2CAP socket
 * could not be made. */
gboolean   devsim_ble_start      (DevsimBle               *self,
                                  GError                 **error);
/* Queue an answer (copied) on a channel (0: GATT). */
void       devsim_ble_send       (DevsimBle               *self,
                                  guint                    channel,
                                  const guint8            *msg,
                                  gsize                    len);
/* The L2CAP PSM listened on, or 0. */
guint16    devsim_ble_get_psm    (DevsimBle               *self);
/* "hci0". Returns: (transfer none) */
const char *devsim_ble_get_adapter (DevsimBle             *self);
void       devsim_ble_free       (DevsimBle               *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DevsimBle, devsim_ble_free)

G_END_DECLS
