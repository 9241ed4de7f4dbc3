/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device-monitor.h: finds Signet devices on USB and follows them as
 * they are plugged in and out (docs/transport.md "Discovery").
 *
 * A Signet device on USB offers a CDC-ACM function, which Linux shows as a
 * tty (/dev/ttyACM0) below the USB interface. The monitor asks udev
 * (GUdev) for tty devices and keeps those whose USB parent is a Signet
 * device:
 *
 *  - its USB device has a VID:PID of the monitor's list -- by default
 *    SIGNET_USB_VENDOR_ID:SIGNET_USB_PRODUCT_ID (1209:0001), or
 *  - its USB interface's string (iInterface, sysfs "interface") is one of
 *    the monitor's names -- by default SIGNET_USB_INTERFACE_NAME, "Signet".
 *
 * A vendor that ships the agent under its own VID:PID names its CDC-ACM
 * interface "Signet" (needing no change here), or adds its id with
 * signet_device_monitor_add_usb_id (). Discovery is only a hint of what to
 * open: which device it is, and whether it is genuine, is established by
 * HELLO and ATTEST (docs/protocol.md), never by USB descriptors, which any
 * device can fake.
 */
#pragma once

#include <gio/gio.h>

#include "signet-transport.h"

G_BEGIN_DECLS

/* pid.codes' VID and its test PID (https://pid.codes/1209/0001/): for
 * development and in-house test units. A product line gets its own PID
 * (or keeps the interface name, which is what identifies a Signet
 * function). */
#define SIGNET_USB_VENDOR_ID 0x1209
#define SIGNET_USB_PRODUCT_ID 0x0001
/* The iInterface string of the CDC-ACM (communications) interface. */
#define SIGNET_USB_INTERFACE_NAME "Signet"

/* ---- a discovered device ------------------------------------------------- */

/* What discovery knows of one device: an immutable, refcounted boxed type. */
typedef struct _SignetDiscoveredDevice SignetDiscoveredDevice;

#define SIGNET_TYPE_DISCOVERED_DEVICE (signet_discovered_device_get_type ())
GType             signet_discovered_device_get_type           (void) G_GNUC_CONST;

SignetDiscoveredDevice *signet_discovered_device_ref                (SignetDiscoveredDevice *info);
void              signet_discovered_device_unref              (SignetDiscoveredDevice *info);

/* "usb" or "ble" (docs/ble.md). */
const char       *signet_discovered_device_get_transport      (SignetDiscoveredDevice *info);
/* What to open: "/dev/ttyACM0" for USB; for BLE, BlueZ's Device1 object
 * path ("/org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF"). */
const char       *signet_discovered_device_get_device_node    (SignetDiscoveredDevice *info);
/* The tty's sysfs path: what identifies the device while it is plugged in. */
const char       *signet_discovered_device_get_sysfs_path     (SignetDiscoveredDevice *info);
/* The USB serial number (udev's ID_SERIAL_SHORT, else the device's
 * "serial" attribute), as the device says it: a hint, shown to the user;
 * the device serial that counts is the one HELLO and ATTEST give.
 * Returns: (nullable) */
const char       *signet_discovered_device_get_serial         (SignetDiscoveredDevice *info);
guint16           signet_discovered_device_get_vendor_id      (SignetDiscoveredDevice *info);
guint16           signet_discovered_device_get_product_id     (SignetDiscoveredDevice *info);
/* The USB interface, manufacturer and product strings. Returns: (nullable) */
const char       *signet_discovered_device_get_interface_name (SignetDiscoveredDevice *info);
const char       *signet_discovered_device_get_manufacturer   (SignetDiscoveredDevice *info);
const char       *signet_discovered_device_get_product        (SignetDiscoveredDevice *info);

/* BLE only (NULL / G_MININT16 for USB): the Device1 object path, the
 * Bluetooth address, the advertised name (a hint, from the air), and the
 * latest RSSI in dBm (it changes while discovery runs: "device-changed").
 * Returns: (nullable) */
const char       *signet_discovered_device_get_object_path    (SignetDiscoveredDevice *info);
const char       *signet_discovered_device_get_address        (SignetDiscoveredDevice *info);
const char       *signet_discovered_device_get_name           (SignetDiscoveredDevice *info);
gint              signet_discovered_device_get_rssi           (SignetDiscoveredDevice *info);

/* A transport for the device (not opened yet): a SignetSerialTransport
 * on its node, or a SignetBleTransport on its Device1 object.
 * Returns: (transfer full) */
SignetTransport  *signet_discovered_device_create_transport   (SignetDiscoveredDevice *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SignetDiscoveredDevice, signet_discovered_device_unref)

/* ---- the monitor --------------------------------------------------------- */

#define SIGNET_TYPE_DEVICE_MONITOR (signet_device_monitor_get_type ())
G_DECLARE_FINAL_TYPE (SignetDeviceMonitor, signet_device_monitor, SIGNET, DEVICE_MONITOR, GObject)

/*
 * Signals (emitted in the thread-default main context of the thread that
 * called signet_device_monitor_start ()):
 *  "device-added"    (SignetDiscoveredDevice *info): a device appeared (or was
 *                    there at start)
 *  "device-removed"  (SignetDiscoveredDevice *info): it went away (the info is
 *                    the one "device-added" gave)
 *  "device-changed"  (SignetDiscoveredDevice *info): a BLE device's RSSI or
 *                    name changed (the same info, updated)
 *  "devices-changed" (): after one or more of the above, once per change
 *                    of the list
 * Property "ble-status" (string, nullable): NULL while BLE discovery runs,
 * else why not (BlueZ not running, no adapter, discovery refused).
 */

/* A monitor with the default VID:PID and interface name. It looks at
 * nothing until signet_device_monitor_start (). Returns: (transfer full) */
SignetDeviceMonitor *signet_device_monitor_new                (void);

/* Also take devices with this VID:PID, or this interface string. When the
 * monitor is running, devices present that now match are added at once. */
void                 signet_device_monitor_add_usb_id         (SignetDeviceMonitor *self,
                                                               guint16              vendor_id,
                                                               guint16              product_id);
void                 signet_device_monitor_add_interface_name (SignetDeviceMonitor *self,
                                                               const char          *name);

/* Enumerate the tty devices present ("device-added" for each match, then
 * "devices-changed" if there was any) and follow udev's events from now
 * on. Connect to the signals first. Calling it again does nothing. */
void                 signet_device_monitor_start              (SignetDeviceMonitor *self);

/* Also discover BLE devices through BlueZ (the default: TRUE). Before
 * start it says whether start () begins BLE discovery; on a running
 * monitor it begins it now, or ends it and removes the BLE devices
 * ("device-removed" for each, then "devices-changed"). The bus is the
 * system bus, or bus (nullable) if given; it counts from the next time
 * BLE discovery begins. */
void                 signet_device_monitor_set_ble            (SignetDeviceMonitor *self,
                                                               gboolean             enabled,
                                                               GDBusConnection     *bus);
gboolean             signet_device_monitor_get_ble_enabled    (SignetDeviceMonitor *self);
/* Returns: (nullable) */
const char          *signet_device_monitor_get_ble_status     (SignetDeviceMonitor *self);

/* The devices present (USB and BLE), sorted by device node.
 * Returns: (transfer full) (element-type SignetDiscoveredDevice): free with
 * g_ptr_array_unref () */
GPtrArray           *signet_device_monitor_dup_devices        (SignetDeviceMonitor *self);

G_END_DECLS
