#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Real-BlueZ tests, run INSIDE the QEMU guest (tests/ble/qemu/
signet-qemu-ble): `signet-devsim run --ble` on hci0 as the peripheral,
the tool side on hci1 through bluetoothd -- discovery with the service
UUID filter, connect, GATT resolution, AcquireWrite/AcquireNotify, the
segment layer (tests/ble/real/ble_central.py, written from docs/ble.md),
HELLO/ATTEST (devsim_client.Device over the BLE link), the L2CAP channel
and its PSM from HELLO, segment faults. Prints TAP. (The benchmark is
tests/bench/bench-ble-bluez, the tool's own transport: bench_ble.py.)

Usage: test_ble_real.py DEVSIM MODELS_DIR"""

import json
import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "devsim"))
sys.path.insert(0, HERE)

import dbus  # noqa: E402

import ble_central as bc  # noqa: E402
from devsim_client import Device, verify_device_chain  # noqa: E402
from devsim_harness import Factory, Tap  # noqa: E402

CAP_L2CAP = 4
PERIPHERAL = os.environ.get("SIGNET_PERIPHERAL_HCI", "hci0")
CENTRAL = os.environ.get("SIGNET_CENTRAL_HCI", "hci1")


class LinkDevice(Device):
    """devsim_client.Device over any link with send/recv."""

    def __init__(self, link, timeout=5.0, retries=2):
        self.link = link
        self.timeout = timeout
        self.retries = retries
        self.next_id = 1
        self.attempts = 0
        self.stale = 0

    def close(self):
        self.link.close()


class BleDevsim:
    def __init__(self, devsim, state, *args):
        self.events_path = state + ".ble-events.jsonl"
        self.err = open(state + ".ble-stderr", "w")
        self.proc = subprocess.Popen([devsim, "run", "--state", state, "--ble", "--adapter",
                                      PERIPHERAL, "--json-status", self.events_path] + list(args),
                                     stdout=subprocess.PIPE, stderr=self.err, text=True)
        r, _, _ = select.select([self.proc.stdout], [], [], 30)
        self.line = self.proc.stdout.readline().strip() if r else ""

    def events(self):
        try:
            with open(self.events_path) as f:
                return [json.loads(line) for line in f if line.strip()]
        except OSError:
            return []

    def stop(self):
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def main():
    devsim, models = sys.argv[1], sys.argv[2]
    t = Tap()
    # What ran before in this boot (the engine's tests) may have left an
    # LE connection up; a peripheral still connected is not rediscovered.
    # And BlueZ's Device1 objects of those devices keep the names they had
    # (a complete name is not replaced by this device's shortened one):
    # forget them, so that discovery sees this device afresh.
    bus = dbus.SystemBus()
    for path, ifaces in bc.managed(bus).items():
        dev = ifaces.get("org.bluez.Device1")
        if dev is None:
            continue
        if dev.get("Connected"):
            t.note("disconnecting %s, left connected before" % path)
            bc.disconnect(bus, str(path))
        if str(path).startswith("/org/bluez/%s/" % CENTRAL):
            try:
                dbus.Interface(bus.get_object("org.bluez", "/org/bluez/" + CENTRAL),
                               "org.bluez.Adapter1").RemoveDevice(path)
            except dbus.DBusException as e:
                t.note("%s: RemoveDevice: %s" % (path, e))
    fac = Factory(devsim, models)
    serial = "GW1-BLE-0001"
    state, info, _ = fac.provision("ble", "acme-gw1", serial)
    # Discovery first, then the device: see ble_central.Discovery.
    disc = bc.Discovery(bus, CENTRAL)
    t0 = time.monotonic()
    sim = BleDevsim(devsim, state, "--l2cap")
    t.note("devsim --ble ready in %.1f s" % (time.monotonic() - t0))
    t.eq(sim.line, "ble %s %s" % (PERIPHERAL, serial), "devsim --ble registers on %s" % PERIPHERAL)
    if not sim.line:
        t.note(open(state + ".ble-stderr").read())
        t.done()
    ready = [e for e in sim.events() if e.get("event") == "ready"]
    psm = ready[0].get("psm", 0) if ready else 0
    t.ok(0x80 <= psm <= 0xFF, "an LE dynamic PSM is listened on", "psm %r" % psm)

    try:
        # By the peripheral controller's address: a name is what is
        # checked next, not what the device is found by.
        peripheral_address = str(dbus.Interface(
            bus.get_object("org.bluez", "/org/bluez/" + PERIPHERAL),
            "org.freedesktop.DBus.Properties").Get("org.bluez.Adapter1", "Address"))
        path, props = disc.wait(address=peripheral_address)
        disc.stop()
        t.ok(True, "discovered on %s with the service UUID filter (%.1f s after the "
             "device started, %d discovery starts)" % (CENTRAL, time.monotonic() - t0, disc.starts))
        t.eq(str(props.get("Name", "")), serial, "advertised local name is the serial")
        t.ok("RSSI" in props, "Device1 has an RSSI", sorted(props.keys()))
        address = str(props["Address"])
        addr_type = str(props.get("AddressType", "public"))
        t0 = time.monotonic()
        rx, tx = bc.connect(bus, path)
        t.ok(True, "connected, ServicesResolved, RX and TX found (%.1f s)"
             % (time.monotonic() - t0))
        link = bc.BleLink(bus, rx, tx)
        t.ok(link.att_mtu >= 23, "AcquireWrite/AcquireNotify, ATT MTU %d" % link.att_mtu)
        dev = LinkDevice(link)
        hello = dev.hello()
        t.eq(hello.get(2), 0, "HELLO over GATT: status OK")
        t.eq(hello.get(3), serial, "HELLO: serial")
        t.ok(hello.get(8, 0) & CAP_L2CAP, "HELLO: L2CAP capability bit", hello.get(8))
        t.eq(hello.get(14), psm, "HELLO: the PSM (key 14) is the one listened on")
        att = dev.attest(os.urandom(32))
        t.eq(att.get(2), 0, "ATTEST over GATT: status OK")
        try:
            verify_device_chain(att[4], fac.ca_pem, serial=serial)
            t.ok(True, "ATTEST: the device chain verifies to the factory CA")
        except Exception as e:  # noqa: BLE001
            t.ok(False, "ATTEST: the device chain verifies to the factory CA", e)
        # A long message both ways: ATTEST answers are ~1 KB.
        ok = all(dev.attest(os.urandom(32)).get(2) == 0 for _ in range(5))
        t.ok(ok, "5 more ATTEST round trips (multi-segment answers)")
        st = link.seg.stats
        t.note("segments: %r" % st)
        t.eq(st["bad_crc"], 0, "no message dropped for CRC")

        # L2CAP: the PSM from HELLO, one message per SDU.
        l2_name = "ATTEST over the L2CAP channel (PSM from HELLO)"
        try:
            l2 = bc.L2capLink(address, hello.get(14, psm), addr_type)
            ldev = LinkDevice(l2)
            a2 = ldev.attest(os.urandom(32))
            t.eq(a2.get(2), 0, l2_name)
            l2.close()
        except Exception as e:  # noqa: BLE001
            t.ok(False, l2_name, e)

        link.close()
        bc.disconnect(bus, path)
        time.sleep(0.5)
        ev = [e.get("event") for e in sim.events()]
        t.ok("connected" in ev and "disconnected" in ev,
             "devsim saw the connection come and go", ev[-6:])
    except Exception as e:  # noqa: BLE001
        disc.stop()
        t.ok(False, "BLE session", "%s: %s" % (type(e).__name__, e))
        t.note(open(state + ".ble-stderr").read()[-2000:])
    rc = sim.stop()
    t.eq(rc, 0, "devsim --ble ends cleanly on SIGTERM")
    fac.cleanup()
    t.done()


if __name__ == "__main__":
    main()
