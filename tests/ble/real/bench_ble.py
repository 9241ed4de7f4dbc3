#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The BLE benchmark over the real BlueZ, run INSIDE the QEMU guest
(the `ble-bluez` benchmark, tests/ble/qemu/meson.build): for each ATT MTU, bluetoothd is started again
with `[GATT] ExchangeMTU = N` in a configuration file under /var/tmp (the
guest's root is the host's, read-only), so that the link itself -- both
ends, the MTU exchange, every ATT PDU -- runs at that MTU. BlueZ 5.66
will not take ExchangeMTU below 48 (its BR/EDR ATT listener's
L2CAP_OPTIONS fails with EINVAL and no adapter registers), so for 23 the
link runs at 48 and the tool cuts its segments to 23 (bench-ble-bluez
--att-mtu, SignetBleTransport's max-att-mtu); the device's answers fit
one segment either way. Then
`signet-devsim run --ble` on the peripheral controller and
tests/bench/bench-ble-bluez (the tool's SignetBleTransport) on the
central one. At the end bluetoothd runs again with the system's own
configuration, as the guest started it.

Prints TAP comments only (the numbers); a failure is a "Bail out!".

Usage: bench_ble.py DEVSIM MODELS_DIR BENCH [MTU...]"""

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "devsim"))
sys.path.insert(0, os.path.join(HERE, "..", "qemu"))

import dbus  # noqa: E402

import ble_central  # noqa: E402
from devsim_harness import Factory  # noqa: E402

PERIPHERAL = os.environ.get("SIGNET_PERIPHERAL_HCI", "hci0")
CENTRAL = os.environ.get("SIGNET_CENTRAL_HCI", "hci1")
RESULTS = os.environ.get("SIGNET_RESULTS", tempfile.gettempdir())
BLUETOOTHD = "/usr/libexec/bluetooth/bluetoothd"


def note(text):
    for line in str(text).splitlines():
        print("# " + line)
    sys.stdout.flush()


def bail(text):
    print("Bail out! BLE benchmark: " + str(text).replace("\n", " "))
    sys.stdout.flush()
    sys.exit(1)


def pids_of(name):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % d) as f:
                if f.read().strip() == name:
                    out.append(int(d))
        except OSError:
            pass
    return out


def stop_bluetoothd():
    pids = pids_of("bluetoothd")
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(os.path.exists("/proc/%d" % p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)


def disconnect_all():
    """Drop every LE connection the tests before left up: they outlive
    bluetoothd (the kernel keeps them), and a controller still connected
    to the central is not found by the next discovery."""
    try:
        bus = dbus.SystemBus()
        om = dbus.Interface(bus.get_object("org.bluez", "/"),
                            "org.freedesktop.DBus.ObjectManager")
        for path, ifaces in om.GetManagedObjects().items():
            dev = ifaces.get("org.bluez.Device1")
            if dev is not None and dev.get("Connected"):
                try:
                    dbus.Interface(bus.get_object("org.bluez", path),
                                   "org.bluez.Device1").Disconnect(timeout=10)
                    note("disconnected %s (left connected before the benchmark)" % path)
                except dbus.DBusException as e:
                    note("%s: Disconnect: %s" % (path, e))
    except Exception as e:  # no bus or no BlueZ: nothing to drop
        note("disconnect_all: %s" % e)


def start_bluetoothd(mtu, log):
    # what the last one learnt (names, services of the peer) goes: a tmpfs
    for d in os.listdir("/var/lib/bluetooth"):
        shutil.rmtree(os.path.join("/var/lib/bluetooth", d), ignore_errors=True)
    args = [BLUETOOTHD, "-n"]
    if os.environ.get("SIGNET_QEMU_BT_DEBUG"):
        args.append("-d")
    if mtu is not None:
        conf = "/var/tmp/signet-bench-mtu%d.conf" % mtu
        with open(conf, "w") as f:
            f.write("[GATT]\nExchangeMTU = %d\n" % max(mtu, 48))
            if os.environ.get("SIGNET_BENCH_BLE_CHANNELS"):
                f.write("Channels = %s\n" % os.environ["SIGNET_BENCH_BLE_CHANNELS"])
        args += ["-f", conf]
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    # every controller of the guest (guest-stage2.sh), not only ours:
    # what runs next may use them all
    hcis = set((os.environ.get("SIGNET_PERIPHERAL_HCIS", "") + " " +
                os.environ.get("SIGNET_CENTRAL_HCIS", "") + " " + PERIPHERAL + " " +
                CENTRAL).split())
    r = subprocess.run(["/usr/bin/python3", os.path.join(HERE, "..", "qemu", "bt-wait.py"),
                        "30", str(len(hcis))], capture_output=True, text=True)
    if r.returncode != 0:
        bail("bluetoothd (ExchangeMTU %s): controllers not up: %s" % (mtu, r.stderr.strip()))
    return proc


class BleDevsim:
    def __init__(self, devsim, state):
        self.err = open(state + ".ble-stderr", "w")
        self.proc = subprocess.Popen([devsim, "run", "--state", state, "--ble", "--adapter",
                                      PERIPHERAL, "--l2cap"], stdout=subprocess.PIPE, stderr=self.err,
                                     text=True)
        r, _, _ = select.select([self.proc.stdout], [], [], 30)
        self.line = self.proc.stdout.readline().strip() if r else ""

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()


def main():
    devsim, models, bench = sys.argv[1], sys.argv[2], sys.argv[3]
    mtus = [int(a) for a in sys.argv[4:]] or [23, 185, 247]
    count = os.environ.get("SIGNET_BENCH_BLE_COUNT", "24")
    extra = os.environ.get("SIGNET_BENCH_BLE_ARGS", "").split()
    fac = Factory(devsim, models)
    results = []
    t0 = time.monotonic()
    try:
        note("BLE link benchmark over the real BlueZ (bench-ble-bluez): SignetBleTransport on "
             "%s -> bluetoothd -> btvirt -> bluetoothd -> signet-devsim --ble on %s"
             % (CENTRAL, PERIPHERAL))
        disconnect_all()
        for mtu in mtus:
            stop_bluetoothd()
            log = open(os.path.join(RESULTS, "bluetoothd-mtu%d.log" % mtu), "w")
            start_bluetoothd(mtu, log)
            serial = "GW1-BENCH"
            state, _, _ = fac.provision("bench%d" % mtu, "acme-gw1", serial)
            # L2CAP where the link really runs at that MTU: at 23 the tool
            # only cuts its own segments, and HELLO's answer comes in the
            # device's larger ones.
            l2cap = ["--l2cap"] if mtu >= 48 else []
            r = subprocess.Popen([bench, "--adapter", CENTRAL, "--name", serial, "--count", count,
                                  "--att-mtu", str(mtu)] + l2cap + extra,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # the device only once the bench discovers (bench-ble-bluez.c,
            # discover(): a device advertising before is found by chance)
            if not ble_central.wait_discovering(dbus.SystemBus(), CENTRAL, 30):
                r.kill()
                bail("bench-ble-bluez did not start discovery on %s: %s"
                     % (CENTRAL, r.communicate()[1][-500:]))
            sim = BleDevsim(devsim, state)
            if not sim.line.startswith("ble "):
                r.kill()
                bail("devsim --ble did not register: " + open(state + ".ble-stderr").read()[-500:])
            out, err = r.communicate(timeout=600)
            sim.stop()
            note(out.rstrip())
            if r.returncode != 0:
                bail("ExchangeMTU %d: %s" % (mtu, (err.strip() or "failed")[-500:]))
            results += [line for line in out.splitlines() if line.startswith("RESULT")]
        note("%d MTUs in %.1f s" % (len(mtus), time.monotonic() - t0))
    finally:
        # bluetoothd as the guest started it, for what runs next
        stop_bluetoothd()
        start_bluetoothd(None, open(os.path.join(RESULTS, "bluetoothd-after-bench.log"), "w"))
        shutil.rmtree(fac.tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
