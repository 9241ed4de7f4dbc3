/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device.h: one device as the app knows it -- the item of the
 * device list and the owner of its link and device session.
 *
 * A device comes from USB or BLE discovery (SignetDeviceMonitor) or from a tty
 * path the technician added (a devsim pseudo-terminal). connect brings
 * its session as far as a change needs, one step at a time and never
 * repeating HELLO (which would roll back a pending change): open, HELLO,
 * ATTEST (the badge: trusted, or refused and why), REVOCATION,
 * AUTHORIZE with the current token (again whenever the token changed:
 * after a step-up or a refresh), then READ of the configuration.
 * Everything runs on the engine's async API; nothing here blocks.
 */
#pragma once

#include <gio/gio.h>

#include "signet-device-monitor.h"
#include "signet-device-session.h"
#include "signet-session.h"

G_BEGIN_DECLS

typedef enum {
  SIGNET_ATTESTATION_UNKNOWN,
  SIGNET_ATTESTATION_TRUSTED,
  SIGNET_ATTESTATION_REFUSED,
} SignetAttestation;

#define SIGNET_TYPE_DEVICE (signet_device_get_type ())
G_DECLARE_FINAL_TYPE (SignetDevice, signet_device, SIGNET, DEVICE, GObject)

/* Returns: (transfer full) */
SignetDevice        *signet_device_new_discovered   (SignetDiscoveredDevice *info);
/* A device on the tty at path. Returns: (transfer full) */
SignetDevice        *signet_device_new_serial       (const char             *path);

/* "usb", "ble" or "serial". */
const char          *signet_device_get_transport_kind (SignetDevice *self);
/* The tty, or for BLE BlueZ's Device1 object path. */
const char          *signet_device_get_path          (SignetDevice *self);
/* BLE only: the Bluetooth address. (nullable) */
const char          *signet_device_get_address       (SignetDevice *self);
/* BLE only: the latest RSSI in dBm ("rssi", notified), G_MININT16 when
 * unknown or not BLE. */
gint                 signet_device_get_rssi          (SignetDevice *self);
/* The link, once a connect made it (open or not). (nullable) */
SignetTransport     *signet_device_get_transport     (SignetDevice *self);
/* Properties (notified): "title" (the model after HELLO, else what USB
 * or the BLE advertisement says), "subtitle" (serial and port, or the
 * Bluetooth address), "attestation", "busy", "present", "rssi". */
const char          *signet_device_get_title         (SignetDevice *self);
const char          *signet_device_get_subtitle      (SignetDevice *self);
/* HELLO's serial, else the USB serial (a hint). (nullable) */
const char          *signet_device_get_serial        (SignetDevice *self);
SignetAttestation    signet_device_get_attestation   (SignetDevice *self);
/* Why attestation failed, or what it verified. (nullable) */
const char          *signet_device_get_attestation_message (SignetDevice *self);
gboolean             signet_device_get_busy          (SignetDevice *self);
gboolean             signet_device_get_present       (SignetDevice *self);
/* (nullable) */
SignetDiscoveredDevice *signet_device_get_discovered (SignetDevice *self);
/* After HELLO. (nullable) */
const SignetDeviceInfo *signet_device_get_info       (SignetDevice *self);
/* (nullable) */
SignetDeviceSession *signet_device_get_session       (SignetDevice *self);
/* The configuration of the last READ, a{sv}. (transfer none) (nullable) */
GVariant            *signet_device_get_config        (SignetDevice *self);
/* TRUE when search (case-insensitive) is in the title, serial, path or
 * Bluetooth address. */
gboolean             signet_device_matches           (SignetDevice *self,
                                                      const char   *search);

/* Bring the session up to AUTHORIZE with session's token (see above) and
 * READ the configuration. Signals "changed" () after each step,
 * "progress" (step, fraction) as the engine reports it. */
void                 signet_device_connect_async     (SignetDevice        *self,
                                                      SignetSession       *session,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
gboolean             signet_device_connect_finish    (SignetDevice        *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
/* ATTEST again with a fresh challenge. */
void                 signet_device_reattest          (SignetDevice        *self);
/* The engine's session changed the configuration: READ it again. */
void                 signet_device_refresh_config_async  (SignetDevice        *self,
                                                          GCancellable        *cancellable,
                                                          GAsyncReadyCallback  callback,
                                                          gpointer             user_data);
gboolean             signet_device_refresh_config_finish (SignetDevice        *self,
                                                          GAsyncResult        *result,
                                                          GError             **error);
/* Discovery updated the device's info (BLE: RSSI, name): read it again. */
void                 signet_device_discovered_changed (SignetDevice       *self);
/* Unplugged (or the port went away): close the link; "present" FALSE. */
void                 signet_device_set_removed       (SignetDevice        *self);
/* Close the link and forget the device session (sign-out). */
void                 signet_device_disconnect        (SignetDevice        *self);

G_END_DECLS
