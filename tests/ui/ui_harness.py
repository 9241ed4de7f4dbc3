# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Drives the real `signet` app through the accessibility tree (AT-SPI,
# python3-pyatspi) for the UI tests and the first-window benchmark.
#
#   env = Desktop(artifacts_dir)      # a private D-Bus session (only the
#                                     # a11y bus is activatable: no keyring
#                                     # prompt, no dconf), private XDG_* and
#                                     # HOME; needs $DISPLAY (Xvfb)
#   app = env.launch(SIGNET, "--service", url, "--ca", ca)
#   app.find("text", "Username").set_text("alice")
#   app.find("push button", "Sign In").click()
#   app.wait_text("label", "Log Status", lambda s: "verified" in s)
#   app.screenshot("sign-in")
#
# Every lookup waits (default 10 s) and, when it gives up, saves a
# screenshot and a dump of the tree next to it and raises NotFound with
# both paths in the message. Import this module only after Desktop() has
# set DBUS_SESSION_BUS_ADDRESS: pyatspi connects when it is imported,
# which is why the pyatspi import is inside Desktop.
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

IMPORT = "/usr/bin/import"
CONVERT = "/usr/bin/convert"
XDOTOOL = "/usr/bin/xdotool"

_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=%(dir)s</listen>
  <auth>EXTERNAL</auth>
  <servicedir>%(services)s</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Interactive roles that must carry an accessible name (GTK 4 names, as
# AT-SPI reports them).
INTERACTIVE_ROLES = {"push button", "toggle button", "check box", "radio button",
                     "entry", "text", "password text", "combo box", "spin button",
                     "switch", "menu item", "page tab", "slider", "link"}

pyatspi = None  # set by Desktop ()


class NotFound(AssertionError):
    pass


def skip_reason():
    """Why the UI tests cannot run here, or None."""
    if not os.environ.get("DISPLAY"):
        return "no DISPLAY (run under xvfb-run -a)"
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        return "no session bus (run under dbus-run-session)"
    for tool in ("/usr/bin/dbus-daemon", IMPORT, XDOTOOL):
        if not os.access(tool, os.X_OK):
            return "%s missing" % tool
    if not os.path.exists("/usr/libexec/at-spi-bus-launcher"):
        return "at-spi2-core missing"
    r = subprocess.run([XDOTOOL, "getdisplaygeometry"], capture_output=True, timeout=10)
    if r.returncode != 0:
        return "cannot open DISPLAY %s" % os.environ["DISPLAY"]
    try:
        import pyatspi as _  # noqa: F401  (only checks that it is there)
    except ImportError:
        return "python3-pyatspi missing"
    return None


def schema_dir(builddir_data, srcdir_data, tmp):
    """A directory with the compiled org.signet.Signet schema: the build's
    data/ when data/meson.build compiled it there, else compiled here."""
    if builddir_data and os.path.exists(os.path.join(builddir_data, "gschemas.compiled")):
        return builddir_data
    out = os.path.join(tmp, "schemas")
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(srcdir_data, "org.signet.Signet.gschema.xml"), out)
    subprocess.run(["glib-compile-schemas", out], check=True)
    return out


class Desktop:
    """A private session bus (with its a11y bus) and home for the app."""

    def __init__(self, artifacts, keep=False):
        global pyatspi
        self.artifacts = artifacts
        os.makedirs(artifacts, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="signet-ui-")
        self.keep = keep
        self.apps = []
        home = os.path.join(self.tmp, "home")
        runtime = os.path.join(self.tmp, "run")
        services = os.path.join(self.tmp, "services")
        for d in (home, runtime, services):
            os.makedirs(d, mode=0o700)
        shutil.copy("/usr/share/dbus-1/services/org.a11y.Bus.service", services)
        conf = os.path.join(self.tmp, "bus.conf")
        with open(conf, "w") as f:
            f.write(_BUS_CONF % {"dir": runtime, "services": services})
        self.env = dict(os.environ, HOME=home, XDG_RUNTIME_DIR=runtime,
                        XDG_CONFIG_HOME=os.path.join(home, ".config"),
                        XDG_DATA_HOME=os.path.join(home, ".local", "share"),
                        XDG_STATE_HOME=os.path.join(home, ".local", "state"),
                        XDG_CACHE_HOME=os.path.join(home, ".cache"),
                        NO_AT_BRIDGE="0", GTK_A11Y="atspi", GSETTINGS_BACKEND="memory",
                        LC_ALL="C.UTF-8", LANGUAGE="")
        for k in ("SIGNET_SERVICE_URL", "SIGNET_SERVICE_CA", "SIGNET_STATE_DIR",
                  "AT_SPI_BUS_ADDRESS", "G_DEBUG", "MALLOC_PERTURB_"):
            self.env.pop(k, None)
        self.bus = subprocess.Popen(["/usr/bin/dbus-daemon", "--config-file", conf, "--nofork",
                                     "--print-address=1"], stdout=subprocess.PIPE, text=True,
                                    env=self.env)
        addr = self.bus.stdout.readline().strip()
        if not addr:
            raise RuntimeError("dbus-daemon did not start")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = addr
        # pyatspi (imported below) and the app talk to this bus only
        os.environ["DBUS_SESSION_BUS_ADDRESS"] = addr
        os.environ.pop("AT_SPI_BUS_ADDRESS", None)
        import pyatspi as _pyatspi
        pyatspi = _pyatspi

    def launch(self, program, *args, env=None, wait=True, name="signet", timeout=20):
        app = App(self, program, list(args), dict(self.env, **(env or {})), name)
        self.apps.append(app)
        if wait:
            app.wait_started(timeout)
        return app

    def screenshot(self, name, geometry=None):
        """The screen (or geometry "WxH+X+Y" of it) as <artifacts>/NAME.png."""
        path = os.path.join(self.artifacts, name + ".png")
        cmd = [IMPORT, "-window", "root"]
        if geometry:
            cmd += ["-crop", geometry, "+repage"]
        r = subprocess.run(cmd + ["-strip", path], capture_output=True, timeout=30)
        return path if r.returncode == 0 else None

    def close(self):
        for app in self.apps:
            app.stop()
        if self.bus.poll() is None:
            self.bus.terminate()
            try:
                self.bus.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.bus.kill()
                self.bus.wait()
        self.bus.stdout.close()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def role(acc):
    try:
        return acc.getRoleName()
    except Exception:
        return "?"


def name(acc):
    try:
        return acc.name or ""
    except Exception:
        return ""


def states(acc):
    try:
        return acc.getState()
    except Exception:
        return None


def is_showing(acc):
    st = states(acc)
    return st is not None and st.contains(pyatspi.STATE_SHOWING) and \
        st.contains(pyatspi.STATE_VISIBLE)


def children(acc):
    try:
        n = acc.childCount
    except Exception:
        return []
    out = []
    for i in range(n):
        try:
            c = acc.getChildAtIndex(i)
        except Exception:
            c = None
        if c is not None:
            out.append(c)
    return out


def walk(acc, showing=True, depth=0, max_depth=60):
    """(accessible, depth) of acc and its descendants, depth first.
    GTK 4.8 drops hidden widgets from the tree but keeps the unmapped
    pages of a stack, and sets SHOWING on toplevels only: lookups tell
    screens apart by names and by what each screen makes, not by what is
    on screen. (showing is kept for callers; nothing to filter.)"""
    if depth > max_depth:
        return
    yield acc, depth
    for c in children(acc):
        yield from walk(c, showing, depth + 1, max_depth)


def text_of(acc):
    """The text of an entry (the Text interface) or of a label (GTK 4.8
    gives labels no Text interface over AT-SPI: a label the app names
    ("Time Left") carries its text as its description, any other label's
    name is its text), else ''."""
    try:
        t = acc.queryText()
        got = t.getText(0, -1)
        if got:
            return got
    except Exception:
        pass
    if role(acc) != "label":
        return ""
    try:
        if acc.description:
            return acc.description
    except Exception:
        pass
    return name(acc)


def describe(acc):
    d = ""
    try:
        d = acc.description or ""
    except Exception:
        pass
    return d


class App:
    def __init__(self, desktop, program, args, env, name):
        self.desktop = desktop
        self.name = name
        self.errlog = os.path.join(desktop.artifacts, "%s-%d.stderr" % (name, len(desktop.apps)))
        err = open(self.errlog, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([program] + args, env=env, stdout=err, stderr=err,
                                     stdin=subprocess.DEVNULL)
        err.close()
        self.acc = None

    # -- the application in the registry ------------------------------------
    def _lookup(self):
        desk = pyatspi.Registry.getDesktop(0)
        for a in children(desk):
            try:
                if a.get_process_id() == self.proc.pid:
                    return a
            except Exception:
                continue
        return None

    def wait_started(self, timeout=20, period=0.05):
        """Wait for the app's first frame (window) in the tree."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before its window showed:\n%s"
                                   % (self.name, self.proc.returncode, self.stderr()))
            self.acc = self.acc or self._lookup()
            if self.acc is not None and self.window(0) is not None:
                return self.acc
            time.sleep(period)
        raise NotFound(self._fail("the app's window"))

    def window(self, timeout=10):
        """The app's (first showing) frame."""
        def get():
            for c in children(self.acc) if self.acc is not None else []:
                if role(c) == "frame" and is_showing(c):
                    return c
            return None
        return self._wait(get, timeout) if timeout else get()

    def windows(self):
        """The app's toplevels (frames, dialogs) in the tree."""
        if self.acc is None:
            return []
        try:
            self.acc.clear_cache()
        except Exception:
            pass
        # GTK 4.8 sets SHOWING on the main window only, not on dialogs;
        # dialogs (modal, on top) first
        wins = [c for c in children(self.acc)
                if states(c) is not None and states(c).contains(pyatspi.STATE_VISIBLE)]
        return sorted(wins, key=lambda c: role(c) != "dialog")

    def stderr(self):
        try:
            return open(self.errlog).read()[-4000:]
        except OSError:
            return ""

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    # -- finding ------------------------------------------------------------
    def _wait(self, get, timeout, period=0.05):
        deadline = time.monotonic() + timeout
        while True:
            got = get()
            if got is not None:
                return got
            if time.monotonic() >= deadline or not self.alive():
                return None
            time.sleep(period)

    def search(self, role_name=None, acc_name=None, root=None, showing=True, pred=None):
        """Matching accessibles, lazily (the first match costs least)."""
        roots = [root] if root is not None else self.windows()
        for r in roots:
            for a, _ in walk(r, showing):
                if role_name is not None and role(a) != role_name:
                    continue
                if acc_name is not None and name(a) != acc_name:
                    continue
                if pred is not None and not pred(a):
                    continue
                yield a

    def find_all(self, role_name=None, acc_name=None, root=None, showing=True, pred=None):
        return list(self.search(role_name, acc_name, root, showing, pred))

    def find(self, role_name, acc_name=None, timeout=10, root=None, showing=True, pred=None):
        """The first widget of that role and name (waiting up to timeout
        s); NotFound with a screenshot and a tree dump otherwise."""
        got = self._wait(lambda: next(self.search(role_name, acc_name, root, showing, pred),
                                      None), timeout)
        if got is None:
            raise NotFound(self._fail("%s %r" % (role_name, acc_name)))
        return Widget(self, got)

    def exists(self, role_name, acc_name=None, timeout=0, **kw):
        def get():
            return next(self.search(role_name, acc_name, **kw), None)
        return (self._wait(get, timeout) if timeout else get()) is not None

    def wait_for(self, cond, what, timeout=10):
        """Wait until cond () is true; NotFound naming what otherwise."""
        if self._wait(lambda: True if cond() else None, timeout) is None:
            raise NotFound(self._fail(what))

    def wait_text(self, role_name, acc_name, pred, timeout=10):
        """The widget once pred (its text) holds; its last text otherwise in
        NotFound."""
        last = [None]

        def get():
            for a in self.search(role_name, acc_name):
                last[0] = text_of(a) or describe(a)
                if pred(last[0]):
                    return a
            return None
        got = self._wait(get, timeout)
        if got is None:
            raise NotFound(self._fail("%s %r with the expected text (last: %r)"
                                      % (role_name, acc_name, last[0])))
        return Widget(self, got)

    # -- evidence -----------------------------------------------------------
    _fails = 0

    def dump(self, showing=True):
        lines = ["app children: %r" % [(role(c), name(c), str(states(c) and [str(x) for x in states(c).getStates()]))
                                       for c in children(self.acc)]]
        for w in self.windows():
            for a, depth in walk(w, showing):
                t = text_of(a)
                lines.append("%s%s %r%s%s" % ("  " * depth, role(a), name(a),
                                             (" text=%r" % t[:80]) if t else "",
                                             (" desc=%r" % describe(a)[:80])
                                             if describe(a) else ""))
        return "\n".join(lines)

    def _fail(self, what):
        App._fails += 1
        tag = "notfound-%d" % App._fails
        shot = self.screenshot(tag)
        tree = os.path.join(self.desktop.artifacts, tag + ".tree.txt")
        try:
            with open(tree, "w") as f:
                f.write(self.dump() if self.acc is not None else "(app not in the registry)")
        except Exception as e:  # the evidence must not hide the failure
            tree = "(no tree: %s)" % e
        return ("not found within the timeout: %s\n  screenshot %s\n  tree %s\n  app alive: %s"
                "\n  app stderr (tail): %s"
                % (what, shot, tree, self.alive(), self.stderr()[-1500:]))

    def geometry(self):
        """"WxH+X+Y" of the app's window (xdotool), or None."""
        r = subprocess.run([XDOTOOL, "search", "--onlyvisible", "--pid", str(self.proc.pid)],
                           capture_output=True, text=True, timeout=10)
        for wid in r.stdout.split():
            g = subprocess.run([XDOTOOL, "getwindowgeometry", "--shell", wid],
                               capture_output=True, text=True, timeout=10).stdout
            kv = dict(line.split("=", 1) for line in g.split() if "=" in line)
            if int(kv.get("WIDTH", 0)) > 50:
                return "%sx%s+%s+%s" % (kv["WIDTH"], kv["HEIGHT"], max(0, int(kv["X"])),
                                        max(0, int(kv["Y"])))
        return None

    def xid(self):
        r = subprocess.run([XDOTOOL, "search", "--onlyvisible", "--pid", str(self.proc.pid)],
                           capture_output=True, text=True, timeout=10)
        ids = r.stdout.split()
        return ids[0] if ids else None

    def screenshot(self, name, settle=0.2):
        """The app's window as <artifacts>/NAME.png (the screen if the
        window is not found); the path."""
        time.sleep(settle)  # let transitions (stack crossfades) finish
        return self.desktop.screenshot(name, self.geometry())

    # -- the keyboard (real X input, xdotool) ---------------------------------
    def focus_window(self):
        wid = self.xid()
        if wid:
            try:
                subprocess.run([XDOTOOL, "windowfocus", "--sync", wid], capture_output=True,
                               timeout=10)
            except subprocess.TimeoutExpired:
                # best effort: what the keys do next says whether it worked
                pass
        return wid

    def keys(self, *keys):
        subprocess.run([XDOTOOL, "key", "--delay", "30"] + list(keys), check=True, timeout=30)

    def type(self, text):
        subprocess.run([XDOTOOL, "type", "--delay", "20", text], check=True, timeout=60)


class Widget:
    def __init__(self, app, acc):
        self.app = app
        self.acc = acc

    @property
    def name(self):
        return name(self.acc)

    @property
    def role(self):
        return role(self.acc)

    @property
    def text(self):
        return text_of(self.acc)

    @property
    def description(self):
        return describe(self.acc)

    def state(self, st):
        s = states(self.acc)
        return s is not None and s.contains(st)

    @property
    def sensitive(self):
        return self.state(pyatspi.STATE_SENSITIVE)

    def wait_sensitive(self, timeout=10):
        if self.app._wait(lambda: True if self.sensitive else None, timeout) is None:
            raise NotFound(self.app._fail("%s %r to become sensitive" % (self.role, self.name)))
        return self

    def actions(self):
        try:
            a = self.acc.queryAction()
            return [a.getName(i) for i in range(a.nActions)]
        except Exception:
            return []

    def click(self, action=0):
        self.acc.queryAction().doAction(action)
        return self

    def pointer_click(self, button=1):
        """A real pointer click (xdotool) in the middle of the widget: for
        what has no AT-SPI action (GTK 4.8: combo rows, list items)."""
        e = self.acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        geo = self.app.geometry() or "0x0+0+0"
        ox, oy = (int(v) for v in geo.split("+")[1:3])
        # Not `mousemove --sync`: it waits for the pointer to move, for ever
        # when it is already there (a second click on the same spot).
        subprocess.run([XDOTOOL, "mousemove", str(ox + e.x + e.width // 2),
                        str(oy + e.y + e.height // 2), "sleep", "0.1", "click", str(button)],
                       check=True, timeout=10)
        return self

    def set_text(self, text):
        """Replace the text (GTK 4.8: grabFocus does not work over AT-SPI,
        the EditableText interface does)."""
        self.acc.queryEditableText().setTextContents(text)
        return self

    def find(self, role_name, acc_name=None, timeout=10, **kw):
        return self.app.find(role_name, acc_name, timeout, root=self.acc, **kw)

    def find_all(self, role_name=None, acc_name=None, **kw):
        return [Widget(self.app, a) for a in self.app.find_all(role_name, acc_name,
                                                               root=self.acc, **kw)]

    def children(self):
        return [Widget(self.app, a) for a in children(self.acc)]

    def parent(self):
        return Widget(self.app, self.acc.parent)


def has_name(acc):
    """A real accessible name: GTK 4.8 reports a widget's class name
    ("GtkImage", "AdwGizmo") when it has none."""
    n = name(acc).strip()
    return bool(n) and not re.fullmatch(r"(Gtk|Adw|Signet)[A-Z][A-Za-z]*", n)


def unnamed_interactive(app, focusable_list_items=True, content_named=None):
    """Interactive widgets in the tree without an accessible name:
    [(role, path of ancestors' roles/names)]. Rows named only by their
    content are appended to content_named (a list) instead."""
    bad = []
    content_named = content_named if content_named is not None else []
    for w in app.windows():
        stack = []
        for a, depth in walk(w):
            del stack[depth:]
            stack.append("%s %r" % (role(a), name(a)))
            r = role(a)
            interactive = r in INTERACTIVE_ROLES
            if r in ("list item", "table cell", "tree item") and focusable_list_items:
                st = states(a)
                interactive = st is not None and st.contains(pyatspi.STATE_FOCUSABLE)
                # GTK 4.8 gives a GtkListView row (GtkListItemWidget) no name
                # and no API to set one (GTK 4.12 has it); a screen reader
                # reads such a row by its content: accepted when the row
                # holds a named widget or a label with text
                if interactive and not has_name(a) and any(
                        c is not a and (has_name(c) and role(c) != "panel"
                                        or text_of(c).strip()) for c, _ in walk(a)):
                    content_named.append(" > ".join(stack[-3:]))
                    continue
            if interactive and not has_name(a):
                bad.append((r, " > ".join(stack[-4:])))
    return bad


def tap_skip_all(reason):
    """A TAP skip of the whole test: meson reads the plan, exit 0."""
    print("1..0 # SKIP " + reason)
    sys.stdout.flush()
    sys.exit(0)
