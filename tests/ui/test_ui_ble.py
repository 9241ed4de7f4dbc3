# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Bluetooth LE devices in the real `signet` app (docs/app.md "Bluetooth
# LE"), under Xvfb and driven through the accessibility tree like
# test_ui_flow.py. BlueZ is python3-dbusmock with
# tests/ble/bluez_gatt_template.py on a private bus that the app takes for
# the system bus (DBUS_SYSTEM_BUS_ADDRESS); the template bridges the
# Signet GATT service to a real `signet-devsim run --pty`, so the app's
# SignetBleTransport and engine talk to a real device agent.
#
#   (a) sign in; the device list says nothing about Bluetooth (BlueZ runs);
#   (b) a BLE device appears with its RSSI (row: "Bluetooth LE",
#       "−79 dBm"), its address as the subtitle;
#   (c) BlueZ reports a new RSSI: the row follows ("Strong (−51 dBm)");
#   (d) open it: it attests Trusted over BLE; the device page shows the
#       address and the ATT MTU of the link;
#   (e) BlueZ leaves the bus: the "Bluetooth Status" line says BlueZ is
#       not running and the device goes;
#   (f) BlueZ comes back: the status line goes, the device is listed again;
#   (g) the preferences have the Bluetooth LE switch (on);
#   (h) switched off, discovery stops at once: the device goes and the
#       status line says scanning is off; switched on, the device is back.
# On the screens of (b), (e) and (g) every interactive widget has an
# accessible name.
#
#   test_ui_ble.py SIGNET SIGNETD SIGNET_DEVSIM MODELS_DIR TEMPLATE
#                  SCHEMA_BUILD_DIR SCHEMA_SRC_DIR ARTIFACTS_DIR
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "devsim"))
sys.path.insert(0, os.path.join(HERE, "..", "server"))

import ui_harness as ui  # noqa: E402

reason = ui.skip_reason()
if reason:
    ui.tap_skip_all(reason)
try:
    import dbus  # noqa: E402
    import dbusmock  # noqa: E402,F401  (only checks that it is there)
except ImportError as e:
    ui.tap_skip_all("python3-dbusmock missing (%s)" % e)

from devsim_harness import Devsim, Factory, Tap  # noqa: E402
from signetd_harness import PASSWORD, Server, totp  # noqa: E402

SIGNET, SIGNETD, DEVSIM, MODELS, TEMPLATE, SCHEMA_BUILD, SCHEMA_SRC, ARTIFACTS = sys.argv[1:9]
SERIAL = "GW1-9001"
ADDRESS = "C0:FF:EE:00:90:01"
MTU = 185
KEEP = bool(os.environ.get("SIGNET_UI_TEST_KEEP"))
T0 = time.monotonic()

t = Tap()
shutil.rmtree(ARTIFACTS, ignore_errors=True)
os.makedirs(ARTIFACTS)
tmp = tempfile.mkdtemp(prefix="signet-ui-ble-")


note = t.note
step = t.step


class SystemBus:
    """A private bus standing in for the system bus (what the app and
    dbusmock's BlueZ see as DBUS_SYSTEM_BUS_ADDRESS)."""

    def __init__(self, tmp):
        run = os.path.join(tmp, "system-bus")
        os.makedirs(run, mode=0o700)
        conf = os.path.join(run, "bus.conf")
        with open(conf, "w") as f:
            f.write(ui._BUS_CONF % {"dir": run, "services": run})
        self.proc = subprocess.Popen(["/usr/bin/dbus-daemon", "--config-file", conf, "--nofork",
                                      "--print-address=1"], stdout=subprocess.PIPE, text=True)
        self.address = self.proc.stdout.readline().strip()
        if not self.address:
            raise RuntimeError("dbus-daemon (system bus) did not start")
        self.conn = dbus.bus.BusConnection(self.address)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc.stdout.close()


class BlueZ:
    """python3-dbusmock's BlueZ with the Signet GATT template."""

    def __init__(self, bus):
        self.bus = bus
        self.proc = None

    def owned(self):
        return bool(self.bus.conn.call_blocking("org.freedesktop.DBus", "/org/freedesktop/DBus",
                                                "org.freedesktop.DBus", "NameHasOwner", "s",
                                                ["org.bluez"]))

    def start(self):
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address)
        self.log = open(os.path.join(ARTIFACTS, "dbusmock.log"), "a")
        self.proc = subprocess.Popen(["/usr/bin/python3", "-m", "dbusmock", "--system", "-t",
                                      TEMPLATE], env=env, stdout=self.log, stderr=self.log)
        wait(self.owned, "org.bluez on the bus", 20)
        self.call("org.bluez.Mock", "AddAdapter", "ss", ["hci0", "signet-test"])

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.proc = None
        self.log.close()
        wait(lambda: not self.owned(), "org.bluez gone from the bus", 10)

    def call(self, iface, method, sig, args):
        return self.bus.conn.call_blocking("org.bluez", "/", iface, method, sig, args,
                                           timeout=10)


# Unnamed interactive widgets that are libadwaita 1.2's, not the app's:
# AdwPasswordEntryRow's show/hide button (as in test_ui_flow.py),
# AdwPreferencesWindow's own search entry (there with search disabled) and
# a toast's close button (the "Signed in as" toast may still be up).
UPSTREAM_UNNAMED = ("text 'Password' > panel '' > panel '' > push button",
                    "panel 'GtkStackPage' > panel '' > entry 'GtkSearchEntry'",
                    "filler 'AdwToastWidget' > push button")


def unnamed(app):
    return [(r, path) for r, path in ui.unnamed_interactive(app)
            if not any(u in path for u in UPSTREAM_UNNAMED)]


def wait(cond, what, timeout):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() >= deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


def ble_row(app, pred=lambda n: True, timeout=15):
    """The device row of our BLE device whose accessible name satisfies pred."""
    return app.find("push button", timeout=timeout,
                    pred=lambda a: "Bluetooth LE" in ui.name(a) and ADDRESS in ui.name(a)
                    and pred(ui.name(a)))


def no_ble_row(app):
    return not app.exists("push button",
                          pred=lambda a: "Bluetooth LE" in ui.name(a) and ADDRESS in ui.name(a))


def status_text(app):
    """The Bluetooth status line's text, or None when it is not shown."""
    for a in app.search("label", "Bluetooth Status"):
        return ui.text_of(a)
    return None


factory = Factory(DEVSIM, MODELS)
srv = desktop = dev = sysbus = bluez = None
try:
    srv = Server(SIGNETD)
    r = srv.cli("ca", "add", os.path.join(factory.ca_dir, "ca-cert.pem"))
    if r.returncode != 0:
        raise RuntimeError("signetd ca add: " + r.stderr)
    srv.add_user("alice")
    srv.start()
    state = os.path.join(factory.tmp, SERIAL + ".state")
    r = factory.cli("provision", "--state", state, "--model-file", factory.model("acme-gw1"),
                    "--serial", SERIAL, "--ca-dir", factory.ca_dir, "--trust-url", srv.url,
                    "--trust-ca", os.path.join(srv.data, "tls-cert.pem"))
    if r.returncode != 0:
        raise RuntimeError("provision: " + r.stderr)
    dev = Devsim(DEVSIM, state)
    sysbus = SystemBus(tmp)
    bluez = BlueZ(sysbus)
    bluez.start()
    schemas = ui.schema_dir(SCHEMA_BUILD, SCHEMA_SRC, tmp)
    desktop = ui.Desktop(ARTIFACTS, keep=KEEP)
    note("set up in %.1f s" % (time.monotonic() - T0))

    app = desktop.launch(SIGNET, "--service", srv.url,
                         "--ca", os.path.join(srv.data, "tls-cert.pem"),
                         env={"GSETTINGS_SCHEMA_DIR": schemas,
                              "SIGNET_STATE_DIR": os.path.join(tmp, "state"),
                              "DBUS_SYSTEM_BUS_ADDRESS": sysbus.address})

    # ---- (a) sign in ----------------------------------------------------------
    def sign_in():
        app.find("text", "Username").set_text("alice")
        app.find("text", "Password").set_text(PASSWORD)
        app.find("text", "Code").set_text(totp(srv.secrets["alice"]))
        app.find("push button", "Sign In").wait_sensitive().click()
        app.wait_for(lambda: app.exists("page tab", "Devices")
                     and app.exists("push button", "Sign Out"), "signed in", 20)
        # BlueZ runs and discovery was accepted: no status line
        app.wait_for(lambda: status_text(app) is None, "no Bluetooth status line", 10)
        return True
    if not step("(a) sign in; no Bluetooth status line while BlueZ runs", sign_in):
        raise RuntimeError("not signed in: the rest needs it")

    # ---- (b) a BLE device appears --------------------------------------------
    path = None

    def appears():
        global path
        path = str(bluez.call("org.bluez.SignetMock", "AddSignetDevice", "sssnsqb",
                              ["hci0", ADDRESS, "Signet GW1", -79, dev.pty, MTU, True]))
        row = ble_row(app, lambda n: "−79 dBm" in n)
        note("row: %r" % row.name)
        app.screenshot("ble-device")
        bad = unnamed(app)
        assert not bad, "unnamed: %r" % bad
        return row.name.startswith("Signet GW1, %s, Bluetooth LE, signal " % ADDRESS)
    step("(b) a BLE device appears in the list: name, address, Bluetooth LE, −79 dBm", appears)

    # ---- (c) the RSSI follows -----------------------------------------------
    def rssi():
        bluez.call("org.bluez.SignetMock", "SetRSSI", "on", [path, -51])
        row = ble_row(app, lambda n: "Strong (−51 dBm)" in n)
        note("row: %r" % row.name)
        return True
    step("(c) BlueZ reports RSSI −51: the row reads Strong (−51 dBm)", rssi)

    # ---- (d) open, attest over BLE -------------------------------------------
    def attest():
        ble_row(app).click()
        row = ble_row(app, lambda n: n.endswith("Trusted") and SERIAL in n, timeout=40)
        note("row: %r" % row.name)
        app.find("push button", "Apply Profile…", timeout=20).wait_sensitive(20)
        mtu = app.find("list item", "ATT MTU", pred=lambda a: ui.describe(a) == str(MTU))
        addr = app.find("list item", "Address", pred=lambda a: ui.describe(a) == ADDRESS)
        chan = app.find("list item", "Channel", pred=lambda a: "GATT" in ui.describe(a))
        note("device page: ATT MTU %r, address %r, channel %r"
             % (mtu.description, addr.description, chan.description))
        app.screenshot("ble-device-page")
        return True
    step("(d) open it: Trusted over BLE (real SignetBleTransport, emulated BlueZ, real devsim); "
         "the page shows address and ATT MTU %d" % MTU, attest)

    # ---- (e) BlueZ leaves ---------------------------------------------------
    def vanish():
        bluez.stop()
        app.wait_for(lambda: "BlueZ is not running" in (status_text(app) or ""),
                     "the Bluetooth status line", 15)
        app.wait_for(lambda: no_ble_row(app), "the BLE row to go", 15)
        note("status: %r" % status_text(app))
        app.screenshot("bluez-gone")
        bad = unnamed(app)
        assert not bad, "unnamed: %r" % bad
        return True
    step("(e) BlueZ leaves the bus: the status line says so, the device goes", vanish)

    # ---- (f) BlueZ returns --------------------------------------------------
    def back():
        bluez.start()
        bluez.call("org.bluez.SignetMock", "AddSignetDevice", "sssnsqb",
                   ["hci0", ADDRESS, "Signet GW1", -67, dev.pty, MTU, True])
        row = ble_row(app, lambda n: "Good (−67 dBm)" in n)
        app.wait_for(lambda: status_text(app) is None, "the status line to go", 15)
        note("row: %r" % row.name)
        return True
    step("(f) BlueZ comes back: the status line goes, the device is listed again", back)

    # ---- (g) the preferences -------------------------------------------------
    def prefs():
        app.focus_window()
        app.keys("ctrl+comma")
        # GTK 4.8 gives a GtkSwitch the AT-SPI role "check box"
        sw = app.find("check box", "Bluetooth LE", timeout=10)
        on = sw.state(ui.pyatspi.STATE_CHECKED)
        app.screenshot("preferences")
        bad = unnamed(app)
        assert not bad, "unnamed: %r" % bad
        return on
    step("(g) the preferences have a Bluetooth LE switch, on", prefs)

    # ---- (h) the switch takes effect at once ----------------------------------
    def flip(want_on):
        sw = app.find("check box", "Bluetooth LE", timeout=10)
        sw.pointer_click()
        app.wait_for(lambda: sw.state(ui.pyatspi.STATE_CHECKED) == want_on,
                     "the switch to turn %s" % ("on" if want_on else "off"), 5)
        app.keys("Escape")

    def switch_off_on():
        flip(False)
        app.wait_for(lambda: no_ble_row(app), "the BLE device to leave the list", 15)
        app.wait_for(lambda: "scanning is off" in (status_text(app) or ""),
                     "the status line to say scanning is off", 15)
        note("status: %r" % status_text(app))
        app.screenshot("bluetooth-off")
        app.focus_window()
        app.keys("ctrl+comma")
        flip(True)
        row = ble_row(app)
        app.wait_for(lambda: status_text(app) is None, "the status line to go", 15)
        note("row: %r" % row.name)
        return True
    step("(h) switched off: the device goes and the status line says so at once; "
         "on again: it is back", switch_off_on)
except Exception:
    t.ok(False, "no exception", traceback.format_exc())
finally:
    if desktop is not None:
        desktop.close()
    if bluez is not None:
        try:
            bluez.stop()
        except Exception:
            pass
    if sysbus is not None:
        sysbus.close()
    if dev is not None:
        dev.stop()
    if srv is not None:
        srv.cleanup()
    factory.cleanup()
    if KEEP:
        note("kept " + tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    note("%.1f s" % (time.monotonic() - T0))
t.done()
