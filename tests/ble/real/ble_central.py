# SPDX-License-Identifier: LGPL-2.1-or-later
"""The tool's side of docs/ble.md, written independently in Python for
the real-BlueZ tests: a BlueZ central (discovery with a UUID filter,
Connect, ServicesResolved, AcquireWrite/AcquireNotify) and the segment
layer (DATA/ACK/NAK/RESET, window, go-back-N, RTO). BleLink has the
send(payload)/recv(timeout) of devsim_client.Link, so devsim_client's
Device speaks the protocol over it unchanged.

The central makes blocking D-Bus calls: it serves no objects, so
bluetoothd never calls it back."""

import errno
import os
import select
import socket
import struct
import time
import zlib

import dbus

BLUEZ = "org.bluez"
UUID_SERVICE = "5c3a0001-9d2e-4b8f-a6e1-3f7c2b9e4d10"
UUID_RX = "5c3a0002-9d2e-4b8f-a6e1-3f7c2b9e4d10"
UUID_TX = "5c3a0003-9d2e-4b8f-a6e1-3f7c2b9e4d10"

T_MIDDLE, T_FIRST, T_LAST, T_ONLY = 0x00, 0x01, 0x02, 0x03
T_ACK, T_NAK, T_RESET, T_RESET_ACK = 0x80, 0x81, 0xC0, 0xC1


class BleError(Exception):
    pass


def managed(bus):
    om = dbus.Interface(bus.get_object(BLUEZ, "/"), "org.freedesktop.DBus.ObjectManager")
    return om.GetManagedObjects()


def wait_discovering(bus, hci, timeout):
    """True once hci's Discovering is: the kernel has marked discovery
    active, and from then on a device that starts advertising is found
    (Discovery). False after timeout s."""
    props = dbus.Interface(bus.get_object(BLUEZ, "/org/bluez/" + hci),
                           "org.freedesktop.DBus.Properties")
    deadline = time.monotonic() + timeout
    while not props.Get("org.bluez.Adapter1", "Discovering"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Discovery:
    """Filtered discovery on hci, started here: start it *before* the
    device starts advertising. Under btvirt a device that is already
    advertising when a scan starts is reported once, in a race the
    kernel's discovery state usually loses (Debian 12's kernel; docs/ble.md
    "Tests"), while one that starts advertising during the scan is always
    reported. wait() then restarts discovery every second after the first
    5 s, each start another chance at that race, in case the advertising
    began in the gap between two of bluetoothd's scan windows."""

    def __init__(self, bus, hci, uuid=UUID_SERVICE, timeout=10.0):
        self.bus, self.hci, self.uuid = bus, hci, uuid
        self.adapter = bus.get_object(BLUEZ, "/org/bluez/" + hci)
        self.a = dbus.Interface(self.adapter, "org.bluez.Adapter1")
        self.props = dbus.Interface(self.adapter, "org.freedesktop.DBus.Properties")
        self.a.SetDiscoveryFilter({"UUIDs": dbus.Array([uuid], signature="s"),
                                   "Transport": dbus.String("le")})
        self.starts = 0
        self._start(timeout)

    def _start(self, timeout):
        self.a.StartDiscovery()
        self.starts += 1
        if not wait_discovering(self.bus, self.hci, timeout):
            raise BleError("%s: Discovering not true within %.0f s" % (self.hci, timeout))

    def wait(self, address=None, timeout=60.0, restart_after=5.0, restart=1.0):
        """Until a Device1 with the UUID (and address, if given) shows;
        returns (path, Device1 properties). On timeout the error lists
        every Device1 seen on hci, so that a failure says whether the
        device was not heard at all or heard differently."""
        seen = {}
        now = time.monotonic()
        deadline, again = now + timeout, now + restart_after
        while time.monotonic() < deadline:
            for path, ifaces in managed(self.bus).items():
                d = ifaces.get("org.bluez.Device1")
                if d is None or not str(path).startswith("/org/bluez/%s/" % self.hci):
                    continue
                seen[str(path)] = d
                if self.uuid in [str(u).lower() for u in d.get("UUIDs", [])] and \
                        (address is None or str(d.get("Address", "")).upper() == address.upper()):
                    return str(path), d
            time.sleep(0.2)
            if time.monotonic() >= again:
                self.stop()
                self._start(10.0)
                again = time.monotonic() + restart
        heard = "; ".join("%s name=%r uuids=%d rssi=%s connected=%s" % (
            p.rsplit("/", 1)[-1], str(d.get("Name", "")), len(d.get("UUIDs", [])),
            d.get("RSSI", "-"), bool(d.get("Connected"))) for p, d in sorted(seen.items()))
        raise BleError("no device with %s%s on %s within %.0f s, %d discovery starts "
                       "(adapter powered=%s discovering=%s; heard: %s)" % (
                           self.uuid, " at %s" % address if address else "", self.hci,
                           timeout, self.starts,
                           bool(self.props.Get("org.bluez.Adapter1", "Powered")),
                           bool(self.props.Get("org.bluez.Adapter1", "Discovering")),
                           heard or "nothing"))

    def stop(self):
        try:
            self.a.StopDiscovery()
        except dbus.DBusException:
            pass


def discover(bus, hci, uuid=UUID_SERVICE, timeout=60.0, address=None):
    """Discovery of a device that may be advertising already (Discovery)."""
    disc = Discovery(bus, hci, uuid)
    try:
        return disc.wait(address=address, timeout=timeout, restart_after=1.0)
    finally:
        disc.stop()


def connect(bus, path, timeout=30.0):
    """Connect and wait for ServicesResolved; returns (rx_path, tx_path)."""
    dev = bus.get_object(BLUEZ, path)
    props = dbus.Interface(dev, "org.freedesktop.DBus.Properties")
    if not props.Get("org.bluez.Device1", "Connected"):
        dbus.Interface(dev, "org.bluez.Device1").Connect(timeout=timeout)
    deadline = time.monotonic() + timeout
    while not props.Get("org.bluez.Device1", "ServicesResolved"):
        if time.monotonic() > deadline:
            raise BleError("ServicesResolved not true within %.0f s" % timeout)
        time.sleep(0.1)
    rx = tx = None
    for p, ifaces in managed(bus).items():
        c = ifaces.get("org.bluez.GattCharacteristic1")
        if c is None or not str(p).startswith(path + "/"):
            continue
        if str(c["UUID"]).lower() == UUID_RX:
            rx = str(p)
        elif str(c["UUID"]).lower() == UUID_TX:
            tx = str(p)
    if rx is None or tx is None:
        raise BleError("the Signet service's RX/TX characteristics are not on %s" % path)
    return rx, tx


def disconnect(bus, path):
    try:
        dbus.Interface(bus.get_object(BLUEZ, path), "org.bluez.Device1").Disconnect()
    except dbus.DBusException:
        pass


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


class Segmenter:
    """One end of docs/ble.md's segment layer, tool role."""

    def __init__(self, mtu, window=32, rto=0.5, retries=8):
        self.mtu = mtu
        self.window = window
        self.peer_window = window
        self.rto = rto
        self.retries = retries
        self.tx = []            # segments (bytes) by absolute number
        self.base = 0           # oldest unacknowledged
        self.next = 0           # next to send
        self.msg_ends = []      # absolute end of each queued message
        self.rx_next = 0
        self.rx_since_ack = 0
        self.rx_buf = None
        self.rx_len = 0
        self.nak_sent = False
        self.last_progress = time.monotonic()
        self.timeouts = 0
        self.high = 0
        self.stats = {"data_sent": 0, "resent": 0, "ctl_sent": 0, "bytes_sent": 0,
                      "bytes_received": 0, "naks": 0, "bad_crc": 0}

    def cut(self, msg):
        stream = msg + struct.pack("<I", crc32(msg))
        room = self.mtu - 3
        segs = []
        first = True
        while stream or first:
            if first:
                take = room - 4
                chunk, stream = stream[:take], stream[take:]
                t = T_FIRST | (T_LAST if not stream else 0)
                segs.append((t, struct.pack("<H", len(msg)) + chunk))
                first = False
            else:
                take = room - 2
                chunk, stream = stream[:take], stream[take:]
                segs.append((T_LAST if not stream else T_MIDDLE, chunk))
        return segs

    def queue(self, msg):
        for t, body in self.cut(msg):
            n = len(self.tx)
            self.tx.append(bytes([t, n & 0xFF]) + body)
        self.msg_ends.append(len(self.tx))

    def outstanding(self):
        return self.next - self.base

    def to_send(self):
        """Segments to transmit now (within the window)."""
        out = []
        win = min(self.window, self.peer_window)
        now = time.monotonic()
        if self.base < self.next and now - self.last_progress > self.rto:
            self.timeouts += 1
            if self.timeouts > self.retries:
                raise BleError("the device stopped acknowledging")
            self.next = self.base          # go back
            self.last_progress = now
        while self.next < len(self.tx) and self.next - self.base < win:
            seg = self.tx[self.next]
            if self.next < self.high:
                self.stats["resent"] += 1
            out.append(seg)
            self.next += 1
            self.high = max(self.high, self.next)
            self.stats["data_sent"] += 1
            self.stats["bytes_sent"] += len(seg)
        return out

    def _abs(self, seq8):
        # the absolute number within [base, high] whose low byte is seq8
        high = self.high
        cand = self.base + ((seq8 - self.base) & 0xFF)
        return cand if cand <= high else None

    def input(self, seg):
        """Returns (messages, control segments to send)."""
        self.stats["bytes_received"] += len(seg)
        msgs, ctl = [], []
        if len(seg) < 2:
            return msgs, ctl
        t = seg[0]
        if t in (T_ACK, T_NAK, T_RESET_ACK):
            if len(seg) >= 3:
                self.peer_window = max(2, min(64, seg[2]))
            if t == T_RESET_ACK:
                return msgs, ctl
            n = self._abs(seg[1])
            if n is not None and n > self.base:
                self.base = n
                self.last_progress = time.monotonic()
                self.timeouts = 0
                while self.msg_ends and self.msg_ends[0] <= self.base:
                    self.msg_ends.pop(0)
            if t == T_NAK and n is not None:
                self.stats["naks"] += 1
                self.next = max(self.base, n)
            return msgs, ctl
        if t > 3:
            return msgs, ctl
        seq = seg[1]
        if seq != self.rx_next:
            if ((seq - self.rx_next) & 0xFF) > 128:     # behind: a duplicate
                ctl.append(self.ack(T_ACK))
            elif not self.nak_sent:
                self.nak_sent = True
                ctl.append(self.ack(T_NAK))
            return msgs, ctl
        self.nak_sent = False
        self.rx_next = (self.rx_next + 1) & 0xFF
        self.rx_since_ack += 1
        body = seg[2:]
        if t & T_FIRST:
            self.rx_len = struct.unpack("<H", body[:2])[0]
            self.rx_buf = bytearray(body[2:])
        elif self.rx_buf is not None:
            self.rx_buf += body
        if t & T_LAST and self.rx_buf is not None:
            data = bytes(self.rx_buf)
            self.rx_buf = None
            if len(data) == self.rx_len + 4 and \
                    struct.unpack("<I", data[-4:])[0] == crc32(data[:-4]):
                msgs.append(data[:-4])
            else:
                self.stats["bad_crc"] += 1
            ctl.append(self.ack(T_ACK))
        elif self.rx_since_ack >= max(1, self.window // 2):
            ctl.append(self.ack(T_ACK))
        return msgs, ctl

    def ack(self, t):
        self.rx_since_ack = 0
        self.stats["ctl_sent"] += 1
        return bytes([t, self.rx_next, self.window])


class BleLink:
    """AcquireWrite/AcquireNotify sockets + Segmenter; devsim_client.Link's
    interface. mtu_cap: use at most this ATT MTU (the benchmark)."""

    def __init__(self, bus, rx_path, tx_path, mtu_cap=None, window=32):
        opts = {}
        txc = dbus.Interface(bus.get_object(BLUEZ, tx_path), "org.bluez.GattCharacteristic1")
        rxc = dbus.Interface(bus.get_object(BLUEZ, rx_path), "org.bluez.GattCharacteristic1")
        nfd, nmtu = txc.AcquireNotify(opts)
        wfd, wmtu = rxc.AcquireWrite(opts)
        self.nfd, self.wfd = nfd.take(), wfd.take()
        self.att_mtu = min(int(nmtu), int(wmtu))
        # An ATT value is at most 512 bytes, and BlueZ 5.66 as a GATT
        # server drops a Write Command of 511 or 512 (bluez/bluez issue
        # 570): our segments are at most 510 (SP_SEG_WRITE_ATT_MTU_MAX).
        self.seg_mtu = min(self.att_mtu, 510 + 3)
        self.mtu = min(self.seg_mtu, mtu_cap) if mtu_cap else self.seg_mtu
        self.seg = Segmenter(self.mtu, window=window)
        self.pending = []
        self.writes = 0
        self.reset()

    def close(self):
        for fd in (self.nfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass

    def _write(self, seg):
        while True:
            try:
                os.write(self.wfd, seg)
                self.writes += 1
                return
            except BlockingIOError:
                select.select([], [self.wfd], [], 1.0)

    def reset(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._write(bytes([T_RESET, 0, self.seg.window]))
            end = time.monotonic() + 0.5
            while time.monotonic() < end:
                r, _, _ = select.select([self.nfd], [], [], 0.1)
                if r:
                    seg = os.read(self.nfd, 1024)
                    if seg[:1] == bytes([T_RESET_ACK]):
                        self.seg.peer_window = max(2, min(64, seg[2])) if len(seg) > 2 else 32
                        return
        raise BleError("no RESET_ACK from the device")

    def pump(self, wait):
        for s in self.seg.to_send():
            self._write(s)
        r, _, _ = select.select([self.nfd], [], [], wait)
        if r:
            try:
                data = os.read(self.nfd, 1024)
            except BlockingIOError:
                return
            if not data:
                raise ConnectionError("the notify socket closed")
            msgs, ctl = self.seg.input(data)
            for c in ctl:
                self._write(c)
            self.pending += msgs

    def send(self, payload):
        self.seg.queue(payload)
        for s in self.seg.to_send():
            self._write(s)

    def flush(self, timeout=30.0):
        deadline = time.monotonic() + timeout
        while self.seg.base < len(self.seg.tx):
            if time.monotonic() > deadline:
                raise BleError("not acknowledged within %.0f s" % timeout)
            self.pump(0.05)

    def recv(self, timeout):
        deadline = time.monotonic() + timeout
        while not self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.pump(min(left, 0.05))
        return self.pending.pop(0)


class L2capLink:
    """An LE L2CAP CoC to the device's PSM: one message || CRC-32 per SDU."""

    def __init__(self, address, psm, addr_type="public"):
        self.sock = socket.socket(socket.AF_BLUETOOTH, socket.SOCK_SEQPACKET,
                                  socket.BTPROTO_L2CAP)
        # struct sockaddr_l2 through Python's (address, psm) tuple is
        # BR/EDR only; set the LE address type with a raw connect.
        import ctypes
        import ctypes.util
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        BDADDR_LE_PUBLIC, BDADDR_LE_RANDOM = 1, 2
        def bdaddr(text):
            return bytes(int(x, 16) for x in reversed(text.split(":")))

        sa = struct.pack("<HH6sHB", socket.AF_BLUETOOTH, psm, bdaddr(address), 0,
                         BDADDR_LE_PUBLIC if addr_type == "public" else BDADDR_LE_RANDOM)
        # Bound to our controller's LE address first: an unbound socket is
        # BR/EDR, and the kernel refuses BT_RCVMTU (EINVAL) on one that is not LE.
        local = struct.pack("<HH6sHB", socket.AF_BLUETOOTH, 0,
                            bdaddr(os.environ.get("SIGNET_CENTRAL_ADDR", "00:00:00:00:00:00")),
                            0, BDADDR_LE_PUBLIC)
        if libc.bind(self.sock.fileno(), local, len(local)) != 0:
            e = ctypes.get_errno()
            raise BleError("L2CAP bind: %s" % os.strerror(e))
        SOL_BLUETOOTH, BT_RCVMTU = 274, 13
        self.sock.setsockopt(SOL_BLUETOOTH, BT_RCVMTU, struct.pack("<H", 2052))
        # non-blocking connect (Python's timeout mode), then wait for it
        self.sock.settimeout(20)
        if libc.connect(self.sock.fileno(), sa, len(sa)) != 0:
            e = ctypes.get_errno()
            if e == errno.EINPROGRESS:
                _, writable, _ = select.select([], [self.sock], [], 20)
                e = (self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) if writable
                     else errno.ETIMEDOUT)
            if e != 0:
                raise BleError("L2CAP connect to %s PSM 0x%x: %s"
                               % (address, psm, os.strerror(e)))
        self.pending = []

    def close(self):
        self.sock.close()

    def send(self, payload):
        self.sock.send(payload + struct.pack("<I", crc32(payload)))

    def recv(self, timeout):
        self.sock.settimeout(timeout)
        try:
            sdu = self.sock.recv(4096)
        except socket.timeout:
            return None
        if len(sdu) < 5 or struct.unpack("<I", sdu[-4:])[0] != crc32(sdu[:-4]):
            return None
        return sdu[:-4]
