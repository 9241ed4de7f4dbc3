# SPDX-License-Identifier: LGPL-2.1-or-later
'''python3-dbusmock template: BlueZ (the bluez5 template) plus Signet devices.

A Signet device here is a Device1 advertising the Signet service UUID, with
the Signet GATT service and its RX/TX characteristics (docs/ble.md) below
it: ReadValue, WriteValue, StartNotify/StopNotify, and AcquireWrite/
AcquireNotify returning one end of an AF_UNIX SOCK_SEQPACKET socketpair and
the MTU. Connect really connects (Connected, then ServicesResolved), which
the bluez5 template alone does not do.

Behind the characteristics is a real signet-devsim: its pseudo-terminal
(`signet-devsim run --pty`) speaks sp-frame (COBS(message || CRC-32) || 0),
and this template translates between those frames and BLE segments with
its own implementation of the segment layer (PySeg, written from
docs/ble.md, independent of proto/sp-seg.c). Fault knobs: segment loss,
duplication and reordering both ways, a disconnect after N segments.

Mock API on '/' (interface org.bluez.SignetMock), besides bluez5's
org.bluez.Mock (AddAdapter, ...):
  AddSignetDevice(adapter s, address s, name s, rssi n, pty s, mtu q,
                  acquire b) -> o
  SetRSSI(device o, rssi n)
  SetFaults(device o, loss d, dup d, reorder d, seed u)
  DropAfter(device o, segments u)     0: never
  DropConnection(device o)
  GetStats(device o) -> a{st}
'''

import os
import random
import socket
import struct
import time
import tty
import zlib

import dbus
from gi.repository import GLib

from dbusmock import mockobject
from dbusmock.templates import bluez5
# The org.bluez.Mock methods (AddAdapter, AddDevice, ...) and Adapter1's.
from dbusmock.templates.bluez5 import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import

BUS_NAME = 'org.bluez'
MAIN_OBJ = '/'
SYSTEM_BUS = True
IS_OBJECT_MANAGER = True

SIGNET_MOCK_IFACE = 'org.bluez.SignetMock'
GATT_SERVICE_IFACE = 'org.bluez.GattService1'
GATT_CHAR_IFACE = 'org.bluez.GattCharacteristic1'
DEVICE_IFACE = 'org.bluez.Device1'
OM_IFACE = 'org.freedesktop.DBus.ObjectManager'

UUID_SERVICE = '5c3a0001-9d2e-4b8f-a6e1-3f7c2b9e4d10'
UUID_RX = '5c3a0002-9d2e-4b8f-a6e1-3f7c2b9e4d10'
UUID_TX = '5c3a0003-9d2e-4b8f-a6e1-3f7c2b9e4d10'

T_FIRST, T_LAST = 0x01, 0x02
T_ACK, T_NAK, T_RESET, T_RESET_ACK = 0x80, 0x81, 0xC0, 0xC1
MSG_MAX = 2048
WRITE_VALUE_MAX = 510

BRIDGES = {}


def now_ms():
    return int(time.monotonic() * 1000)


# ---- sp-frame (the pty side) ------------------------------------------------

def cobs_encode(data):
    '''Minimal COBS (proto/sp-frame.h): a final block of 254 non-zero bytes
    gets no extra 0x01 code byte. The devsim's decoder is strict and drops
    a frame that has one, silently: a message whose stream ends with such a
    block (about one in 700 full chunks of random firmware) was lost every
    time it was sent, and a bulk transfer stalled on it.'''
    out = bytearray()
    block = bytearray()
    after_full = False
    for b in data:
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block = bytearray()
            after_full = False
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255)
                out += block
                block = bytearray()
                after_full = True
    if block or not after_full:
        out.append(len(block) + 1)
        out += block
    return bytes(out)


def cobs_decode(data):
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0 or i + code > len(data):
            return None
        out += data[i + 1:i + code]
        i += code
        if code < 255 and i < len(data):
            out.append(0)
    return bytes(out)


def frame(message):
    return cobs_encode(message + struct.pack('<I', zlib.crc32(message))) + b'\x00'


# ---- the segment layer, device side (docs/ble.md "Segments") ----------------

class PySeg:
    '''Go-back-N segments: an independent implementation of docs/ble.md.'''

    def __init__(self, mtu, window=32, rto=300, retries=20):
        self.mtu = mtu
        self.window = window
        self.peer_window = window
        self.rto = rto
        self.retries_max = retries
        self.reset_id = None
        self.clear()

    def clear(self):
        self.tx = []          # [stream, first, nsegs]
        self.base = self.next = self.high = self.end = 0
        self.timer = None
        self.retries = 0
        self.nak_seen = None
        self.ctrl = []
        self.rx_next = 0
        self.rx = None        # bytearray being reassembled, or None
        self.rx_len = 0
        self.rx_bad = False
        self.since_ack = 0
        self.nak_sent = False
        self.dup_last = None
        self.failed = False
        self.stats = dict(sent=0, resent=0, received=0, dups=0, gaps=0, bad=0, acks=0, naks=0)

    def nsegs(self, stream_len):
        c1, cn = self.mtu - 7, self.mtu - 5
        if stream_len <= c1:
            return 1
        return 1 + (stream_len - c1 + cn - 1) // cn

    def send(self, message):
        stream = message + struct.pack('<I', zlib.crc32(message))
        n = self.nsegs(len(stream))
        self.tx.append([stream, self.end, n, len(message)])
        self.end += n

    def _ack(self, nak=False):
        self.ctrl = [c for c in self.ctrl if c[0] not in (T_ACK, T_NAK)]
        self.ctrl.append(bytes([T_NAK if nak else T_ACK, self.rx_next & 0xff, self.window]))
        self.since_ack = 0
        self.stats['naks' if nak else 'acks'] += 1

    def input(self, seg):
        '''One segment in; returns the messages it completed.'''
        out = []
        if len(seg) < 2 or len(seg) > 514:
            self.stats['bad'] += 1
            return out
        t = seg[0]
        if t & 0x80:
            if len(seg) != 3:
                self.stats['bad'] += 1
                return out
            if t == T_RESET:
                if self.reset_id != seg[1]:
                    rid = seg[1]
                    self.clear()
                    self.reset_id = rid
                self.peer_window = max(2, min(64, seg[2]))
                self.ctrl.append(bytes([T_RESET_ACK, seg[1], self.window]))
            elif t in (T_ACK, T_NAK):
                self.peer_window = max(2, min(64, seg[2]))
                cand = self.base + ((seg[1] - self.base) & 0xff)
                if cand > self.high:
                    return out
                if cand > self.base:
                    self.base = cand
                    self.next = max(self.next, self.base)
                    self.retries = 0
                    self.timer = now_ms() if self.base < self.high else None
                    while self.tx and self.tx[0][1] + self.tx[0][2] <= self.base:
                        self.tx.pop(0)
                if t == T_NAK and cand < self.next and self.nak_seen != cand:
                    self.next = cand
                    self.nak_seen = cand
            else:
                self.stats['bad'] += 1
            return out
        if t > 3 or (t & T_FIRST and len(seg) < 4):
            self.stats['bad'] += 1
            return out
        d = (seg[1] - self.rx_next) & 0xff
        if d != 0:
            if d < 128:
                self.stats['gaps'] += 1
                if not self.nak_sent:
                    self.nak_sent = True
                    self._ack(nak=True)
            else:
                self.stats['dups'] += 1
                if self.dup_last is None or seg[1] != ((self.dup_last + 1) & 0xff):
                    self._ack()
                self.dup_last = seg[1]
            return out
        self.rx_next = (self.rx_next + 1) & 0xff
        self.stats['received'] += 1
        self.nak_sent = False
        self.dup_last = None
        self.since_ack += 1
        if t & T_FIRST:
            self.rx_len = seg[2] | (seg[3] << 8)
            self.rx = bytearray(seg[4:])
            self.rx_bad = self.rx_len == 0 or self.rx_len > MSG_MAX
        elif self.rx is None:
            self.rx = bytearray()
            self.rx_bad = True
        else:
            self.rx += seg[2:]
        if self.rx is not None and len(self.rx) > self.rx_len + 4:
            self.rx_bad = True
        if t & T_LAST:
            body = bytes(self.rx)
            if (not self.rx_bad and len(body) == self.rx_len + 4 and
                    struct.unpack('<I', body[-4:])[0] == zlib.crc32(body[:-4])):
                out.append(body[:-4])
            else:
                self.stats['bad'] += 1
            self.rx = None
            self._ack()
        elif self.since_ack >= self.window // 2:
            self._ack()
        return out

    def _data(self, n):
        for stream, first, count, mlen in self.tx:
            if first <= n < first + count:
                k = n - first
                c1, cn = self.mtu - 7, self.mtu - 5
                t = (T_FIRST if k == 0 else 0) | (T_LAST if k == count - 1 else 0)
                if k == 0:
                    return bytes([t, n & 0xff]) + struct.pack('<H', mlen) + stream[:c1]
                off = c1 + (k - 1) * cn
                return bytes([t, n & 0xff]) + stream[off:off + cn]
        raise AssertionError('no segment %d' % n)

    def poll(self):
        '''Everything to send now (control first).'''
        segs, self.ctrl = self.ctrl, []
        if self.failed:
            return segs
        now = now_ms()
        if self.timer is not None and self.base < self.high and now - self.timer >= self.rto:
            self.retries += 1
            if self.retries > self.retries_max:
                self.failed = True
                return segs
            self.next = self.base
            self.nak_seen = None
            self.timer = now
        win = min(self.window, self.peer_window)
        while self.next < self.end and self.next - self.base < win:
            segs.append(self._data(self.next))
            if self.next < self.high:
                self.stats['resent'] += 1
            self.stats['sent'] += 1
            self.next += 1
            self.high = max(self.high, self.next)
            if self.timer is None:
                self.timer = now
        return segs


# ---- a device: GATT <-> segments <-> sp-frame on the devsim's pty -----------

def seg_mtu(mtu):
    '''An ATT value is at most 512 bytes: above 515 the device's segments
    are cut for 515 (docs/ble.md "Link MTU"), as the devsim's are.'''
    return min(mtu, 515)


class Bridge:
    def __init__(self, path, pty, mtu, acquire):
        self.path = path
        self.mtu = mtu
        self.acquire = acquire
        self.connected = False
        self.seg = PySeg(seg_mtu(mtu))
        self.notify_sock = None     # ours: we send notifications
        self.write_sock = None      # ours: the tool's writes arrive
        self.watches = []
        self.notifying = False
        self.loss = self.dup = self.reorder = 0.0
        self.rng = random.Random(1)
        self.held = {}              # direction -> a segment held back
        self.drop_after = 0
        self.data_in = 0
        self.stats = dict(to_device=0, to_tool=0, lost=0, duplicated=0, reordered=0,
                          drops=0, messages_in=0, messages_out=0, too_long=0)
        self.pty_fd = os.open(pty, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.pty_fd)
        self.pty_buf = bytearray()
        self.pty_out = bytearray()
        GLib.io_add_watch(self.pty_fd, GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP,
                          self.on_pty)
        self.timer = GLib.timeout_add(20, self.on_timer)

    # faults, per direction
    def faulty(self, direction, seg, out):
        if self.loss and self.rng.random() < self.loss:
            self.stats['lost'] += 1
            return
        if self.reorder and direction not in self.held and self.rng.random() < self.reorder:
            self.held[direction] = seg
            self.stats['reordered'] += 1
            return
        out(seg)
        if direction in self.held:
            out(self.held.pop(direction))
        if self.dup and self.rng.random() < self.dup:
            self.stats['duplicated'] += 1
            out(seg)

    def flush_held(self):
        for direction, seg in list(self.held.items()):
            del self.held[direction]
            (self.to_tool if direction == 'out' else self.to_device)(seg)

    # the tool -> the device
    def from_tool(self, seg):
        if not self.connected:
            return
        if len(seg) > WRITE_VALUE_MAX:
            # BlueZ 5.66 as a GATT server checks a write's length with the
            # handle's 2 bytes included and drops a Write Command of a 511-
            # or 512-byte value without a word (bluez/bluez issue 570):
            # what a Debian 12 peripheral does, as the real suite found.
            self.stats['too_long'] += 1
            return
        if seg and not seg[0] & 0x80:
            self.data_in += 1
            if self.drop_after and self.data_in >= self.drop_after:
                self.drop_after = 0
                self.drop()
                return
        self.faulty('in', bytes(seg), self.to_device)
        self.pump()

    def to_device(self, seg):
        self.stats['to_device'] += 1
        for message in self.seg.input(seg):
            self.stats['messages_in'] += 1
            self.pty_out += frame(message)
        self.write_pty()

    def write_pty(self):
        while self.pty_out:
            try:
                n = os.write(self.pty_fd, bytes(self.pty_out[:4096]))
            except BlockingIOError:
                GLib.timeout_add(5, lambda: self.write_pty() and False)
                return
            del self.pty_out[:n]

    # the device -> the tool
    def on_pty(self, fd, cond):
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError:
            data = b''
        if not data:
            return False
        self.pty_buf += data
        while b'\x00' in self.pty_buf:
            i = self.pty_buf.index(b'\x00')
            raw = bytes(self.pty_buf[:i])
            del self.pty_buf[:i + 1]
            if not raw:
                continue
            body = cobs_decode(raw)
            if body is None or len(body) < 5:
                continue
            if struct.unpack('<I', body[-4:])[0] != zlib.crc32(body[:-4]):
                continue
            if self.connected:
                self.stats['messages_out'] += 1
                self.seg.send(body[:-4])
        self.pump()
        return True

    def to_tool(self, seg):
        if not self.connected:
            return
        self.stats['to_tool'] += 1
        if self.notify_sock is not None:
            try:
                self.notify_sock.send(seg)
            except OSError:
                pass
        elif self.notifying:
            char = mockobject.objects[self.path + '/service0010/char0014']
            char.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as', [
                GATT_CHAR_IFACE,
                {'Value': dbus.Array(seg, signature='y', variant_level=1)}, []])

    def pump(self):
        if not self.connected:
            return
        for seg in self.seg.poll():
            self.faulty('out', seg, self.to_tool)

    def on_timer(self):
        if self.held:
            self.flush_held()
        self.pump()
        return True

    # sockets
    def on_write_sock(self, fd, cond):
        sock = self.write_sock
        if sock is None or sock.fileno() != fd:
            return False
        try:
            while True:
                seg = sock.recv(1024, socket.MSG_DONTWAIT)
                if not seg:
                    self.release_sockets()
                    return False
                self.from_tool(seg)
                if self.write_sock is not sock:
                    return False
        except BlockingIOError:
            return True
        except OSError:
            self.release_sockets()
            return False

    def release_sockets(self):
        for s in (self.notify_sock, self.write_sock):
            if s is not None:
                s.close()
        self.notify_sock = self.write_sock = None

    def acquire_pair(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        ours.setblocking(False)
        fd = dbus.types.UnixFd(theirs.fileno())
        theirs.close()
        return ours, fd

    # the link
    def set_device_props(self, **props):
        dev = mockobject.objects[self.path]
        changed = {}
        for k, v in props.items():
            dev.props[DEVICE_IFACE][k] = dbus.Boolean(v, variant_level=1)
            changed[k] = dbus.Boolean(v, variant_level=1)
        dev.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as',
                       [DEVICE_IFACE, changed, []])

    def connect(self):
        self.connected = True
        self.seg = PySeg(seg_mtu(self.mtu))
        self.set_device_props(Connected=True)
        GLib.timeout_add(10, lambda: self.set_device_props(ServicesResolved=True) and False)

    def drop(self):
        '''The radio link is gone.'''
        if not self.connected:
            return False
        self.stats['drops'] += 1
        self.connected = False
        self.notifying = False
        self.held = {}
        self.release_sockets()
        self.seg = PySeg(seg_mtu(self.mtu))
        mockobject.objects[self.path].connected = False
        self.set_device_props(ServicesResolved=False, Connected=False)
        return False


def _bridge(path):
    b = BRIDGES.get(str(path))
    if b is None:
        raise dbus.exceptions.DBusException('no Signet device ' + str(path),
                                            name='org.bluez.Error.DoesNotExist')
    return b


def _char_bridge(char):
    return _bridge(str(char.__dbus_object_path__).rsplit('/', 2)[0])


def Connect(device):
    b = _bridge(device.__dbus_object_path__)
    if b.connected:
        raise dbus.exceptions.DBusException('Already Connected',
                                            name='org.bluez.Error.AlreadyConnected')
    device.connected = True
    b.connect()


def Disconnect(device):
    b = _bridge(device.__dbus_object_path__)
    if not b.connected:
        raise dbus.exceptions.DBusException('Not Connected', name='org.bluez.Error.NotConnected')
    b.drop()


def _need_connected(b):
    if not b.connected:
        raise dbus.exceptions.DBusException('Not connected', name='org.bluez.Error.NotConnected')


def AcquireWrite(char, options):
    b = _char_bridge(char)
    _need_connected(b)
    if not b.acquire:
        raise dbus.exceptions.DBusException('Not supported', name='org.bluez.Error.NotSupported')
    if b.write_sock is not None:
        raise dbus.exceptions.DBusException('Write acquired',
                                            name='org.bluez.Error.NotPermitted')
    b.write_sock, fd = b.acquire_pair()
    GLib.io_add_watch(b.write_sock.fileno(), GLib.PRIORITY_DEFAULT,
                      GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, b.on_write_sock)
    return (fd, dbus.UInt16(b.mtu))


def AcquireNotify(char, options):
    b = _char_bridge(char)
    _need_connected(b)
    if not b.acquire:
        raise dbus.exceptions.DBusException('Not supported', name='org.bluez.Error.NotSupported')
    if b.notify_sock is not None:
        raise dbus.exceptions.DBusException('Notify acquired',
                                            name='org.bluez.Error.NotPermitted')
    b.notify_sock, fd = b.acquire_pair()
    return (fd, dbus.UInt16(b.mtu))


def WriteValue(char, value, options):
    b = _char_bridge(char)
    _need_connected(b)
    b.from_tool(bytes(value))


def StartNotify(char):
    b = _char_bridge(char)
    _need_connected(b)
    b.notifying = True


def StopNotify(char):
    b = _char_bridge(char)
    b.notifying = False


def ReadValue(char, options):
    return dbus.Array([], signature='y')


def load(mock, parameters):
    bluez5.load(mock, parameters)


@dbus.service.method(SIGNET_MOCK_IFACE, in_signature='sssnsqb', out_signature='o')
def AddSignetDevice(self, adapter, address, name, rssi, pty, mtu, acquire):
    path = self.AddDevice(adapter, address, name)
    dev = mockobject.objects[path]
    dev.props[DEVICE_IFACE]['UUIDs'] = dbus.Array([UUID_SERVICE], signature='s', variant_level=1)
    dev.props[DEVICE_IFACE]['RSSI'] = dbus.Int16(rssi, variant_level=1)
    dev.props[DEVICE_IFACE]['AddressType'] = dbus.String('random', variant_level=1)
    dev.AddMethods(DEVICE_IFACE, [('Connect', '', '', Connect),
                                  ('Disconnect', '', '', Disconnect)])
    dev.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as', [
        DEVICE_IFACE, {'UUIDs': dev.props[DEVICE_IFACE]['UUIDs'],
                       'RSSI': dev.props[DEVICE_IFACE]['RSSI']}, []])

    svc = path + '/service0010'
    svc_props = {'UUID': dbus.String(UUID_SERVICE, variant_level=1),
                 'Device': dbus.ObjectPath(path, variant_level=1),
                 'Primary': dbus.Boolean(True, variant_level=1),
                 'Includes': dbus.Array([], signature='o', variant_level=1)}
    self.AddObject(svc, GATT_SERVICE_IFACE, svc_props, [])
    chars = {}
    for sub, uuid, flags in (('char0012', UUID_RX, ['write-without-response', 'write']),
                             ('char0014', UUID_TX, ['notify'])):
        cpath = svc + '/' + sub
        props = {'UUID': dbus.String(uuid, variant_level=1),
                 'Service': dbus.ObjectPath(svc, variant_level=1),
                 'Value': dbus.Array([], signature='y', variant_level=1),
                 'Notifying': dbus.Boolean(False, variant_level=1),
                 'Flags': dbus.Array(flags, signature='s', variant_level=1),
                 'MTU': dbus.UInt16(mtu, variant_level=1)}
        if uuid == UUID_RX:
            props['WriteAcquired'] = dbus.Boolean(False, variant_level=1)
        else:
            props['NotifyAcquired'] = dbus.Boolean(False, variant_level=1)
        self.AddObject(cpath, GATT_CHAR_IFACE, props, [
            ('ReadValue', 'a{sv}', 'ay', ReadValue),
            ('WriteValue', 'aya{sv}', '', WriteValue),
            ('StartNotify', '', '', StartNotify),
            ('StopNotify', '', '', StopNotify),
            ('AcquireWrite', 'a{sv}', 'hq', AcquireWrite),
            ('AcquireNotify', 'a{sv}', 'hq', AcquireNotify),
        ])
        chars[cpath] = props
    manager = mockobject.objects['/']
    manager.EmitSignal(OM_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',
                       [dbus.ObjectPath(svc), {GATT_SERVICE_IFACE: svc_props}])
    for cpath, props in chars.items():
        manager.EmitSignal(OM_IFACE, 'InterfacesAdded', 'oa{sa{sv}}',
                           [dbus.ObjectPath(cpath), {GATT_CHAR_IFACE: props}])
    BRIDGES[str(path)] = Bridge(str(path), str(pty), int(mtu), bool(acquire))
    return dbus.ObjectPath(path)


@dbus.service.method(SIGNET_MOCK_IFACE, in_signature='on', out_signature='')
def SetRSSI(self, path, rssi):
    dev = mockobject.objects[str(path)]
    dev.props[DEVICE_IFACE]['RSSI'] = dbus.Int16(rssi, variant_level=1)
    dev.EmitSignal(dbus.PROPERTIES_IFACE, 'PropertiesChanged', 'sa{sv}as', [
        DEVICE_IFACE, {'RSSI': dbus.Int16(rssi, variant_level=1)}, []])


@dbus.service.method(SIGNET_MOCK_IFACE, in_signature='odddu', out_signature='')
def SetFaults(self, path, loss, dup, reorder, seed):
    b = _bridge(path)
    b.loss, b.dup, b.reorder = float(loss), float(dup), float(reorder)
    b.rng = random.Random(int(seed))


@dbus.service.method(SIGNET_MOCK_IFACE, in_signature='ou', out_signature='')
def DropAfter(self, path, segments):
    b = _bridge(path)
    b.data_in = 0
    b.drop_after = int(segments)


@dbus.service.method(SIGNET_MOCK_IFACE, in_signature='o', out_signature='')
def DropConnection(self, path):
    _bridge(path).drop()


@dbus.service.method(SIGNET_MOCK_IFACE, in_signature='o', out_signature='a{st}')
def GetStats(self, path):
    b = _bridge(path)
    out = dict(b.stats)
    for k, v in b.seg.stats.items():
        out['seg_' + k] = v
    return dbus.Dictionary({k: dbus.UInt64(v) for k, v in out.items()}, signature='st')
