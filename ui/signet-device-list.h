/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device-list.h: the live list of devices (docs/app.md
 * "Devices"): USB and Bluetooth LE devices from the SignetDeviceMonitor
 * as they come and go (BLE rows follow the RSSI), plus serial ports the
 * technician adds by path (a devsim pseudo-terminal, /dev/pts/N); a
 * search filter over model, serial, port and address; a status line
 * (named "Bluetooth Status") saying why BLE devices cannot be found, while
 * that is so. Signal "device-activated" (SignetDevice *).
 */
#pragma once

#include <gtk/gtk.h>

#include "signet-device.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_DEVICE_LIST (signet_device_list_get_type ())
G_DECLARE_FINAL_TYPE (SignetDeviceList, signet_device_list, SIGNET, DEVICE_LIST, GtkWidget)

/* Start following monitor (once). When its BLE discovery is off, the
 * status line says so. */
void          signet_device_list_set_monitor      (SignetDeviceList    *self,
                                                   SignetDeviceMonitor *monitor);
/* Add the tty at path (if it is not listed yet) and activate it.
 * Returns: (transfer none) */
SignetDevice *signet_device_list_add_serial_port  (SignetDeviceList    *self,
                                                   const char          *path);
/* Ask for a tty path in a dialog, then add_serial_port. */
void          signet_device_list_ask_serial_port  (SignetDeviceList    *self);
void          signet_device_list_focus_search     (SignetDeviceList    *self);
/* Close every device's link (sign-out). */
void          signet_device_list_disconnect_all   (SignetDeviceList    *self);

G_END_DECLS
