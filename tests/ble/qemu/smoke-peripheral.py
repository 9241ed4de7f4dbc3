#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A minimal GATT peripheral for the harness's smoke test: one service
(a test UUID) with one readable/notifying characteristic whose value is
b"signet-smoke", registered on an adapter with an advertisement (local
name NAME). Calls BlueZ asynchronously (it serves objects bluetoothd
calls back). Prints "registered" once both registrations succeeded.
Usage: smoke-peripheral.py HCI NAME SERVICE_UUID"""

import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

BLUEZ = "org.bluez"
OM = "org.freedesktop.DBus.ObjectManager"
PROPS = "org.freedesktop.DBus.Properties"
APP = "/org/signet/smoke"


class Chrc(dbus.service.Object):
    PATH = APP + "/service0/char0"

    def __init__(self, bus, uuid):
        self.uuid = uuid
        dbus.service.Object.__init__(self, bus, self.PATH)

    def props(self):
        return {"org.bluez.GattCharacteristic1": {
            "Service": dbus.ObjectPath(APP + "/service0"),
            "UUID": self.uuid,
            "Flags": dbus.Array(["read", "notify"], signature="s")}}

    @dbus.service.method("org.bluez.GattCharacteristic1", in_signature="a{sv}",
                         out_signature="ay")
    def ReadValue(self, options):
        return dbus.ByteArray(b"signet-smoke")

    @dbus.service.method("org.bluez.GattCharacteristic1")
    def StartNotify(self):
        pass

    @dbus.service.method("org.bluez.GattCharacteristic1")
    def StopNotify(self):
        pass


class Service(dbus.service.Object):
    PATH = APP + "/service0"

    def __init__(self, bus, uuid):
        self.uuid = uuid
        dbus.service.Object.__init__(self, bus, self.PATH)

    def props(self):
        return {"org.bluez.GattService1": {"UUID": self.uuid, "Primary": True}}


class App(dbus.service.Object):
    def __init__(self, bus, objs):
        self.objs = objs
        dbus.service.Object.__init__(self, bus, APP)

    @dbus.service.method(OM, out_signature="a{oa{sa{sv}}}")
    def GetManagedObjects(self):
        return {o.PATH: o.props() for o in self.objs}


class Adv(dbus.service.Object):
    PATH = "/org/signet/smoke/adv0"

    def __init__(self, bus, name, uuid):
        self.name, self.uuid = name, uuid
        dbus.service.Object.__init__(self, bus, self.PATH)

    @dbus.service.method(PROPS, in_signature="s", out_signature="a{sv}")
    def GetAll(self, iface):
        return {"Type": "peripheral", "ServiceUUIDs": dbus.Array([self.uuid], signature="s"),
                "LocalName": self.name, "Discoverable": True}

    @dbus.service.method("org.bluez.LEAdvertisement1")
    def Release(self):
        pass


def main():
    hci, name, uuid = sys.argv[1:4]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SystemBus()
    loop = GLib.MainLoop()
    svc, chrc = Service(bus, uuid), Chrc(bus, uuid[:-1] + ("1" if uuid[-1] != "1" else "2"))
    App(bus, [svc, chrc])
    Adv(bus, name, uuid)
    adapter = bus.get_object(BLUEZ, "/org/bluez/" + hci)
    done = []

    def ok(what):
        def cb(*_):
            done.append(what)
            if len(done) == 2:
                print("registered", flush=True)
        return cb

    def err(what):
        def cb(e):
            print("%s failed: %s" % (what, e), file=sys.stderr, flush=True)
            loop.quit()
            sys.exit(1)
        return cb

    dbus.Interface(adapter, "org.bluez.GattManager1").RegisterApplication(
        APP, {}, reply_handler=ok("app"), error_handler=err("RegisterApplication"))
    dbus.Interface(adapter, "org.bluez.LEAdvertisingManager1").RegisterAdvertisement(
        Adv.PATH, {}, reply_handler=ok("adv"), error_handler=err("RegisterAdvertisement"))
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, 15, loop.quit)
    loop.run()


if __name__ == "__main__":
    main()
