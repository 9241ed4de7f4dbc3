/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device-row.h: one device in the list: transport icon, model,
 * serial and port, attestation badge (not attested / trusted / refused);
 * for Bluetooth LE the signal strength (icon and dBm, live) and the
 * address. The row is a button (so AT-SPI and the keyboard can activate
 * it), named "MODEL, SERIAL on PORT, BADGE" (BLE: "MODEL, SERIAL on
 * ADDRESS, Bluetooth LE, signal Good (−67 dBm), BADGE"); "activated"
 * when pressed.
 */
#pragma once

#include <gtk/gtk.h>

#include "signet-device.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_DEVICE_ROW (signet_device_row_get_type ())
G_DECLARE_FINAL_TYPE (SignetDeviceRow, signet_device_row, SIGNET, DEVICE_ROW, GtkWidget)

/* Returns: (transfer floating) */
GtkWidget    *signet_device_row_new        (void);
void          signet_device_row_set_device (SignetDeviceRow *self,
                                            SignetDevice    *device);
/* (nullable) */
SignetDevice *signet_device_row_get_device (SignetDeviceRow *self);

/* The badge text of an attestation state. */
const char   *signet_attestation_label     (SignetAttestation attestation);

G_END_DECLS
