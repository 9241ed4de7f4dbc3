/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-devices.h: USB discovery (SignetDeviceMonitor) as signetctl
 * shows it: each device an a{sv} {"device" (serial:PATH), "path",
 * "transport", "usb_serial", "vendor_id", "product_id", "manufacturer",
 * "product", "interface"}.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SignetctlDevices SignetctlDevices;

/* added: TRUE for a device that appeared, FALSE for one that went.
 * device: (transfer none): its a{sv} */
typedef void (*SignetctlDevicesFunc) (gboolean  added,
                                      GVariant *device,
                                      gpointer  user_data);

/* A running monitor; func (nullable) hears every change, from the
 * thread-default main context. Returns: (transfer full) */
SignetctlDevices *signetctl_devices_new  (SignetctlDevicesFunc func,
                                          gpointer             user_data);
void              signetctl_devices_free (SignetctlDevices    *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetctlDevices, signetctl_devices_free)

/* The devices present, sorted by path. Returns: (transfer full): aa{sv} */
GVariant         *signetctl_devices_list (SignetctlDevices    *self);

G_END_DECLS
