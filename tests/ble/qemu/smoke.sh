#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The harness's smoke test, run in the guest (signet-qemu-ble run -f):
# two controllers in bluetoothctl, a Python GATT peripheral on hci0
# discovered and resolved from hci1. Prints TAP.
HERE=$(dirname "$0")
UUID=5c3a00ff-9d2e-4b8f-a6e1-3f7c2b9e4d10
n=$(bluetoothctl list | grep -c '^Controller')
[ "$n" = 2 ] && echo "ok 1 - bluetoothctl shows two controllers" \
  || echo "not ok 1 - bluetoothctl shows two controllers ($n)"
/usr/bin/python3 "$HERE/smoke-peripheral.py" hci0 signet-smoke $UUID >smoke-peripheral.out 2>&1 &
P=$!
i=0; until grep -q registered smoke-peripheral.out || [ $i -ge 20 ]; do sleep 1; i=$((i+1)); done
grep -q registered smoke-peripheral.out && echo "ok 2 - GATT application and advertisement registered on hci0" \
  || { echo "not ok 2 - registration on hci0"; sed 's/^/# /' smoke-peripheral.out; }
/usr/bin/python3 - "$HERE/../real" $UUID <<'PY'
import sys, time
sys.path.insert(0, sys.argv[1])
import dbus, ble_central as bc
bus = dbus.SystemBus()
try:
    t0 = time.monotonic()
    path, props = bc.discover(bus, "hci1", uuid=sys.argv[2], timeout=60)
    print("ok 3 - discovered %s (%s, RSSI %s) from hci1 in %.1f s"
          % (props.get("Name"), props.get("Address"), props.get("RSSI"), time.monotonic() - t0))
    dev = bus.get_object("org.bluez", path)
    dbus.Interface(dev, "org.bluez.Device1").Connect(timeout=30)
    p = dbus.Interface(dev, "org.freedesktop.DBus.Properties")
    end = time.monotonic() + 20
    while not p.Get("org.bluez.Device1", "ServicesResolved") and time.monotonic() < end:
        time.sleep(0.1)
    val = None
    for op, ifs in bc.managed(bus).items():
        c = ifs.get("org.bluez.GattCharacteristic1")
        if c and str(op).startswith(path) and str(c["UUID"]).lower() != sys.argv[2] \
                and str(c["UUID"]).lower().startswith("5c3a"):
            ch = dbus.Interface(bus.get_object("org.bluez", op), "org.bluez.GattCharacteristic1")
            val = bytes(ch.ReadValue({}))
    print(("ok" if val == b"signet-smoke" else "not ok") + " 4 - connected, resolved, read %r" % val)
except Exception as e:
    print("not ok 3 - discovery/connect from hci1: %s" % e)
    print("not ok 4 - skipped")
PY
kill $P
echo "1..4"
