#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Wait until bluetoothd shows hci0 .. hci(N-1) powered (guest side of
tests/ble/qemu/signet-qemu-ble). Prints hciN=ADDRESS per controller.
Usage: bt-wait.py [TIMEOUT_S [N]]"""

import sys
import time

import dbus

WANTED = ["hci0", "hci1"]


def adapters(bus):
    om = dbus.Interface(bus.get_object("org.bluez", "/"),
                        "org.freedesktop.DBus.ObjectManager")
    found = {}
    for path, ifaces in om.GetManagedObjects().items():
        a = ifaces.get("org.bluez.Adapter1")
        if a is not None:
            found[str(path).rsplit("/", 1)[-1]] = a
    return found


def main():
    global WANTED
    timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
    if len(sys.argv) > 2:
        WANTED = ["hci%d" % i for i in range(int(sys.argv[2]))]
    deadline = time.monotonic() + timeout
    bus = dbus.SystemBus()
    last = "bluetoothd not on the bus"
    powered_once = set()
    while time.monotonic() < deadline:
        try:
            found = adapters(bus)
        except dbus.DBusException as e:
            last = e.get_dbus_name() or str(e)
            time.sleep(0.2)
            continue
        missing = [h for h in WANTED if h not in found]
        if missing:
            last = "no adapter " + ", ".join(missing)
            time.sleep(0.2)
            continue
        for h in WANTED:
            if not found[h]["Powered"] and h not in powered_once:
                # AutoEnable normally powers them; ask once if it did not.
                powered_once.add(h)
                props = dbus.Interface(bus.get_object("org.bluez", "/org/bluez/" + h),
                                       "org.freedesktop.DBus.Properties")
                try:
                    props.Set("org.bluez.Adapter1", "Powered", dbus.Boolean(True))
                except dbus.DBusException as e:
                    last = "%s: power on: %s" % (h, e)
        if all(found[h]["Powered"] for h in WANTED):
            for h in WANTED:
                print("%s=%s" % (h, found[h]["Address"]))
            return 0
        last = "not powered: " + ", ".join(h for h in WANTED if not found[h]["Powered"])
        time.sleep(0.2)
    print("timeout after %.0f s: %s" % (timeout, last), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
