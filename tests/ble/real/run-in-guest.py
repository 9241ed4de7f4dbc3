#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the `ble` suite runs in the QEMU guest (one boot, many tests),
as one TAP stream:

  * the engine's end-to-end, attack and fault tests of the USB path
    (tests/engine/test-*.c), the same test bodies with
    SIGNET_TEST_TRANSPORT=ble: devsim `run --ble` on the peripheral
    controllers, the tool through the real bluetoothd on the central one
    (tests/engine/engine-fixture.h);
  * the independent Python central's link tests (test_ble_real.py);
(The benchmark over the real link, bench_ble.py, boots on its own:
`meson test --benchmark --suite ble`.)

Each program's TAP is renumbered into one plan; its test names are
prefixed with the program's name and "[ble]". A program that dies
before its plan is complete gives a failure naming it (with the tail of
its stderr), never a silent pass.

Usage: run-in-guest.py SIGNETD DEVSIM MODELS_DIR ENGINE_TEST...
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESULT = re.compile(r"^(not ok|ok)\s+\d+\s*-?\s*(.*)$")
PLAN = re.compile(r"^1\.\.(\d+)(.*)$")


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name):
        self.n += 1
        if not ok and "# TODO" not in name:
            self.failed += 1
        print("%s %d %s" % ("ok" if ok else "not ok", self.n, name), flush=True)

    def comment(self, text):
        for line in text.splitlines():
            print("# " + line, flush=True)


def run(tap, label, argv, env):
    """Run one TAP program; fold its results into tap."""
    start = time.monotonic()
    tap.comment("%s: %s" % (label, " ".join(os.path.basename(a) for a in argv)))
    errpath = os.path.join(os.environ.get("SIGNET_RESULTS", "/var/tmp"), label + ".stderr")
    with open(errpath, "w") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        planned = None
        seen = 0
        last = start
        for line in proc.stdout:
            line = line.rstrip("\n")
            m = RESULT.match(line)
            p = PLAN.match(line)
            if m:
                seen += 1
                tap.result(m.group(1) == "ok", "%s [ble] %s" % (label, m.group(2)))
                now = time.monotonic()
                tap.comment("%.1f s" % (now - last))
                last = now
            elif p:
                planned = int(p.group(1))
                if planned == 0:   # "1..0 # SKIP reason"
                    tap.result(True, "%s [ble] # SKIP%s" % (label, p.group(2).split("SKIP", 1)[-1]))
            elif line.startswith("Bail out!"):
                tap.result(False, "%s [ble] %s" % (label, line))
            elif line.startswith("#"):
                # when, in the program's run: where a test's time goes
                print("# [%.1f]%s" % (time.monotonic() - start, line[1:]), flush=True)
        rc = proc.wait()
    tap.comment("%s: exit %d, %d results, %.1f s" % (label, rc, seen, time.monotonic() - start))
    if rc != 0 or (planned is not None and seen < planned):
        with open(errpath, errors="replace") as f:
            tail = f.read()[-1500:]
        tap.result(False, "%s [ble] exited %d after %d of %s results" %
                   (label, rc, seen, planned if planned is not None else "?"))
        tap.comment(tail)


def fresh_controllers(tap, timeout=20.0):
    """Power every controller off and on: the kernel drops whatever LE
    connection the program before left (after the engine tests bluetoothd
    logged "Device ... is already connected" for the peripheral: its view
    and the kernel's had parted), and a connected peripheral does not
    advertise. A central that hears nothing was another matter: the
    discovery race of docs/ble.md "Tests"."""
    import dbus
    bus = dbus.SystemBus()
    om = dbus.Interface(bus.get_object("org.bluez", "/"), "org.freedesktop.DBus.ObjectManager")
    adapters = sorted(str(p) for p, i in om.GetManagedObjects().items()
                      if "org.bluez.Adapter1" in i)
    start = time.monotonic()
    for want in (False, True):
        for a in adapters:
            props = dbus.Interface(bus.get_object("org.bluez", a),
                                   "org.freedesktop.DBus.Properties")
            try:
                props.Set("org.bluez.Adapter1", "Powered", dbus.Boolean(want))
            except dbus.DBusException as e:
                tap.comment("%s: Powered=%s: %s" % (a, want, e))
        deadline = time.monotonic() + timeout
        while True:
            states = [bool(dbus.Interface(bus.get_object("org.bluez", a),
                                          "org.freedesktop.DBus.Properties")
                           .Get("org.bluez.Adapter1", "Powered")) for a in adapters]
            if all(st == want for st in states) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    tap.comment("controllers %s power-cycled in %.1f s" % (
        " ".join(a.rsplit("/", 1)[-1] for a in adapters), time.monotonic() - start))


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    signetd, devsim, models = args[:3]
    tap = Tap()
    env = dict(os.environ)
    env.update({
        "SIGNET_TEST_TRANSPORT": "ble",
        "G_DEBUG": "fatal-warnings",
        "GSETTINGS_BACKEND": "memory",
        "LC_ALL": "C.UTF-8",
        # as tests/engine/meson.build and build-aux/test.sh set them (the
        # guest starts with an empty environment): used by sanitizer builds
        "LSAN_OPTIONS": "suppressions=" + os.path.join(HERE, "..", "..", "engine", "lsan.supp"),
        "ASAN_OPTIONS": "intercept_tls_get_addr=0:detect_leaks=1:abort_on_error=1:"
                        "detect_stack_use_after_return=1",
        "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    })
    for prog in args[3:]:
        label = os.path.basename(prog)
        fresh_controllers(tap)
        run(tap, label, [prog, signetd, devsim, models, "--tap"], env)
    fresh_controllers(tap)
    run(tap, "ble-central", ["/usr/bin/python3", os.path.join(HERE, "test_ble_real.py"),
                             devsim, models], dict(os.environ))
    print("1..%d" % tap.n, flush=True)
    return 1 if tap.failed else 0


if __name__ == "__main__":
    sys.exit(main())
