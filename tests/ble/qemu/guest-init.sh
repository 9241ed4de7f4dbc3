#!/bin/busybox sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# /init of the harness's initramfs (tests/ble/qemu/signet-qemu-ble): PID 1
# in the guest. Loads the modules, mounts the host's root read-only and
# the results share writable over virtio-9p, then runs stage 2
# (guest-stage2.sh, from the host's tree) chrooted into the host's root,
# and powers off. PID 1 stays in the initramfs, so that the kernel's
# request_module () finds busybox modprobe and the modules kept here.
#
# Markers on the console (the harness reads them):
#   SIGNET-QEMU: init          this script started
#   SIGNET-QEMU: error: ...    set-up failed (the reason)
#   SIGNET-QEMU: stage2 RC     stage 2 ended with RC

/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "SIGNET-QEMU: init"

fail () {
  echo "SIGNET-QEMU: error: $*"
  sync
  poweroff -f
  sleep 10
}

arg () {
  for word in $(cat /proc/cmdline); do
    case "$word" in
      "$1="*) echo "${word#*=}"; return 0 ;;
    esac
  done
  return 1
}

RESULTS=$(arg signet.results) || fail "no signet.results= on the kernel command line"
STAGE2=$(arg signet.stage2) || fail "no signet.stage2= on the kernel command line"
BTDEBUG=$(arg signet.btdebug)

for m in $(cat /modules.list); do
  modprobe "$m" || fail "modprobe $m failed"
done

H=/host
mkdir -p $H
# The host's root, read-only; its files do not change while the guest
# runs, so the guest may cache them.
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot $H \
  || fail "cannot mount the host's root over 9p"

mount -t proc proc $H/proc || fail "mount proc"
mount -t sysfs sysfs $H/sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs $H/dev || fail "mount devtmpfs"
mkdir -p $H/dev/pts $H/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts $H/dev/pts || fail "mount devpts"
mount -t tmpfs -o mode=1777 tmpfs $H/dev/shm 2>/dev/null
# Not /tmp: a checkout or build tree under the host's /tmp (CI clones
# there) must stay visible; the guest writes its temporary files under
# /var/tmp instead (TMPDIR, guest-stage2.sh).
for d in /run /var/tmp /var/lib/bluetooth /root; do
  mount -t tmpfs -o mode=0755 tmpfs "$H$d" || fail "mount tmpfs on $d"
done
chmod 1777 $H/var/tmp
# After the tmpfs mounts: the results directory may be under /tmp.
mkdir -p "$H$RESULTS" 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results "$H$RESULTS" \
  || fail "cannot mount the results share on $RESULTS"
ip link set lo up 2>/dev/null

# Stage 2 as a child: PID 1 must outlive it.
chroot $H /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 SIGNET_RESULTS="$RESULTS" SIGNET_QEMU_BT_DEBUG="$BTDEBUG" \
  /bin/sh "$STAGE2" </dev/console >/dev/console 2>&1
rc=$?
echo "SIGNET-QEMU: stage2 $rc"
sync
umount "$H$RESULTS" 2>/dev/null
poweroff -f
sleep 10
