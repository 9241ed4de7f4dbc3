#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Stage 2 of the guest (tests/ble/qemu/signet-qemu-ble), chrooted into
# the host's root (read-only; tmpfs on /run, /var/tmp, /var/lib/bluetooth):
# starts the system bus, four virtual LE controllers (btvirt -L -l4) and
# bluetoothd, waits until the controllers are powered, then runs the
# harness's command file with its output in the results share.
#
# Results ($SIGNET_RESULTS, the host's directory, writable over 9p):
#   stdout, stderr, rc       the command's
#   bluetoothd.log, btvirt.log, dbus.log
#   hci.btsnoop              with --bt-debug: btmon's capture
#   timing                   guest uptime at each step
# Environment of the command:
#   SIGNET_RESULTS           the results directory
#   SIGNET_PERIPHERAL_HCI    hci0 (the device's controller)
#   SIGNET_PERIPHERAL_HCIS   "hci0 hci2" (one per device running at once)
#   SIGNET_CENTRAL_HCI       hci1 (the tool's)
#   SIGNET_CENTRAL_HCIS      "hci1 hci3": the tool's controller for each
#                            peripheral, pair by pair (btvirt carries data
#                            on one LE connection per controller only:
#                            docs/ble.md "Tests")
#   SIGNET_PERIPHERAL_ADDR, SIGNET_CENTRAL_ADDR  their addresses

# the host's /tmp is read-only here: temporary files go to the tmpfs
export TMPDIR=/var/tmp

R=$SIGNET_RESULTS
HERE=$(dirname "$0")
up () { cut -d' ' -f1 /proc/uptime; }
mark () { echo "$1 $(up)" >>"$R/timing"; echo "SIGNET-QEMU: $1 $(up)"; }

mark stage2
mkdir -p /run/dbus
dbus-daemon --system --fork --nopidfile >"$R/dbus.log" 2>&1 || {
  echo "SIGNET-QEMU: error: dbus-daemon --system did not start"; exit 3; }

BTD_OPTS=
BTMON=
if [ -n "$SIGNET_QEMU_BT_DEBUG" ]; then
  # every controller's HCI traffic, for btmon -r hci.btsnoop on the host
  BTD_OPTS=-d
  btmon -w "$R/hci.btsnoop" >/dev/null 2>&1 &
  BTMON=$!
  sleep 0.2
fi
btvirt -L -l4 >"$R/btvirt.log" 2>&1 &
BTVIRT=$!
# Experimental: the AcquireWrite/AcquireNotify MTU and LE L2CAP
# connection-oriented channels need nothing extra in BlueZ 5.66.
/usr/libexec/bluetooth/bluetoothd -n $BTD_OPTS >"$R/bluetoothd.log" 2>&1 &
BTD=$!

if ! /usr/bin/python3 "$HERE/bt-wait.py" 30 4 >"$R/controllers" 2>&1; then
  echo "SIGNET-QEMU: error: the controllers did not come up: $(tail -n 3 "$R/controllers" | tr '\n' ' ')"
  echo "SIGNET-QEMU: btvirt.log: $(tail -n 3 "$R/btvirt.log" | tr '\n' ' ')"
  exit 4
fi
mark controllers
for line in $(cat "$R/controllers"); do
  case "$line" in
    hci0=*) SIGNET_PERIPHERAL_ADDR=${line#hci0=} ;;
    hci1=*) SIGNET_CENTRAL_ADDR=${line#hci1=} ;;
  esac
done
export SIGNET_RESULTS="$R" SIGNET_PERIPHERAL_HCI=hci0 SIGNET_CENTRAL_HCI=hci1
export SIGNET_PERIPHERAL_HCIS="hci0 hci2" SIGNET_CENTRAL_HCIS="hci1 hci3"
export SIGNET_PERIPHERAL_ADDR SIGNET_CENTRAL_ADDR

cd "$R" || exit 5
/bin/sh "$R/command.sh" >"$R/stdout" 2>"$R/stderr" </dev/null
rc=$?
echo $rc >"$R/rc"
mark "command-done rc=$rc"

kill $BTD $BTVIRT $BTMON 2>/dev/null
sleep 0.2
sync
exit 0
