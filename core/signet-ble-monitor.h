/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-ble-monitor.h: finds Signet devices over Bluetooth LE through
 * BlueZ's D-Bus API (docs/ble.md "The tool side"), for
 * SignetDeviceMonitor, which shows them in the same list as USB ones.
 *
 * On the system bus (or one given), it watches org.bluez: while BlueZ is
 * there, it reads its objects (ObjectManager), sets on every Adapter1 a
 * discovery filter {UUIDs: [the Signet service], Transport: "le"} and
 * starts discovery, and follows InterfacesAdded/Removed and Device1's
 * PropertiesChanged: a Device1 whose UUIDs hold the Signet service is a
 * device ("device-added"), its RSSI and name are followed
 * ("device-changed"), and it goes when BlueZ removes it. When BlueZ
 * leaves the bus every device is removed and "status" says why; when it
 * comes back, discovery starts again. signet_ble_monitor_stop () ends
 * this client's discovery on every adapter (StopDiscovery: BlueZ counts
 * discovery per client, so another client's goes on) and removes every
 * device; start () again begins anew. Discovery is a hint, never trust:
 * HELLO and ATTEST say which device it is.
 */
#pragma once

#include "signet-device-monitor.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_BLE_MONITOR (signet_ble_monitor_get_type ())
G_DECLARE_FINAL_TYPE (SignetBleMonitor, signet_ble_monitor, SIGNET, BLE_MONITOR, GObject)

/*
 * Signals (in the thread-default main context of the thread that called
 * signet_ble_monitor_start ()):
 *  "device-added", "device-removed" (SignetDiscoveredDevice *info)
 *  "device-changed" (SignetDiscoveredDevice *info): its RSSI or name changed
 *  "devices-changed" (): after one or more of the above
 * Properties: "status" (string, nullable): NULL while discovery runs, else
 * why not ("BlueZ is not running ..."); "available" (boolean): BlueZ is
 * on the bus.
 */

/* bus: (nullable): NULL for the system bus. Returns: (transfer full) */
SignetBleMonitor *signet_ble_monitor_new          (GDBusConnection  *bus);
void              signet_ble_monitor_start        (SignetBleMonitor *self);
/* Emits "device-removed" for each device, then "devices-changed" if any;
 * "status" becomes NULL and "available" FALSE. Disposing a started
 * monitor stops its discovery too, without the signals. */
void              signet_ble_monitor_stop         (SignetBleMonitor *self);
/* Returns: (transfer full) (element-type SignetDiscoveredDevice) */
GPtrArray        *signet_ble_monitor_dup_devices  (SignetBleMonitor *self);
const char       *signet_ble_monitor_get_status   (SignetBleMonitor *self);
gboolean          signet_ble_monitor_get_available (SignetBleMonitor *self);

/* For the monitor: a BLE SignetDiscoveredDevice (signet-device-monitor.c).
 * name: (nullable). rssi: G_MININT16 when unknown. */
SignetDiscoveredDevice *_signet_discovered_device_new_ble (const char *object_path,
                                                           const char *address,
                                                           const char *name,
                                                           gint        rssi);
void              _signet_discovered_device_set_ble (SignetDiscoveredDevice *info,
                                                     const char             *name,
                                                     gint                    rssi);

G_END_DECLS
