/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-device-monitor.c: USB discovery on a umockdev test bed (the
 * udev/sysfs test bed fwupd and ModemManager use): USB device -> CDC-ACM
 * interface -> tty/ttyACMn, enumerated by GUdev, with add/remove uevents,
 * and a /dev/ttyACMn that is a pty the test drives.
 *
 * Runs under libumockdev-preload (meson sets LD_PRELOAD); without it the
 * test cannot redirect /sys and /dev, says so and exits 77 (skipped).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <umockdev.h>

#include "signet-device-monitor.h"
#include "transport-test-util.h"

#define USB_ROOT "/sys/devices/pci0000:00/0000:00:14.0/usb1"

typedef struct {
  UMockdevTestbed *bed;
  SignetDeviceMonitor *monitor;
  GPtrArray *added;         /* (element-type SignetDiscoveredDevice) */
  GPtrArray *removed;       /* (element-type SignetDiscoveredDevice) */
  guint changed;
} Fixture;

/* A USB device on port `port` with one CDC-ACM interface whose tty is
 * ttyACM`acm`. Returns the tty's sysfs path. */
static char *
add_usb_acm (UMockdevTestbed *bed,
             guint            port,
             guint16          vid,
             guint16          pid,
             const char      *interface_name,
             const char      *serial,
             guint            acm)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  text = g_strdup_printf (
    "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%u\n"
    "E: SUBSYSTEM=usb\n"
    "E: DEVTYPE=usb_device\n"
    "E: DRIVER=usb\n"
    "A: idVendor=%04x\n"
    "A: idProduct=%04x\n"
    "A: serial=%s\n"
    "A: manufacturer=Acme\n"
    "A: product=GW1 gateway\n"
    "A: bDeviceClass=02\n"
    "\n"
    "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%u/1-%u:1.0\n"
    "E: SUBSYSTEM=usb\n"
    "E: DEVTYPE=usb_interface\n"
    "E: DRIVER=cdc_acm\n"
    "A: interface=%s\n"
    "A: bInterfaceClass=02\n"
    "A: bInterfaceSubClass=02\n"
    "\n"
    "P: /devices/pci0000:00/0000:00:14.0/usb1/1-%u/1-%u:1.0/tty/ttyACM%u\n"
    "N: ttyACM%u\n"
    "E: SUBSYSTEM=tty\n"
    "E: DEVNAME=/dev/ttyACM%u\n"
    "E: ID_SERIAL_SHORT=%s\n"
    "E: ID_VENDOR_ID=%04x\n"
    "E: ID_MODEL_ID=%04x\n",
    port, vid, pid, serial, port, port, interface_name, port, port, acm, acm, acm, serial,
    vid, pid);
  g_assert_true (umockdev_testbed_add_from_string (bed, text, &error));
  g_assert_no_error (error);
  return g_strdup_printf (USB_ROOT "/1-%u/1-%u:1.0/tty/ttyACM%u", port, port, acm);
}

static void
on_added (SignetDeviceMonitor *monitor,
          SignetDiscoveredDevice    *info,
          Fixture             *fx)
{
  g_ptr_array_add (fx->added, signet_discovered_device_ref (info));
}

static void
on_removed (SignetDeviceMonitor *monitor,
            SignetDiscoveredDevice    *info,
            Fixture             *fx)
{
  g_ptr_array_add (fx->removed, signet_discovered_device_ref (info));
}

static void
on_changed (SignetDeviceMonitor *monitor,
            Fixture             *fx)
{
  fx->changed++;
}

static void
fixture_setup (Fixture       *fx,
               gconstpointer  data)
{
  fx->bed = umockdev_testbed_new ();
  fx->monitor = signet_device_monitor_new ();
  fx->added = g_ptr_array_new_with_free_func ((GDestroyNotify) signet_discovered_device_unref);
  fx->removed = g_ptr_array_new_with_free_func ((GDestroyNotify) signet_discovered_device_unref);
  g_signal_connect (fx->monitor, "device-added", G_CALLBACK (on_added), fx);
  g_signal_connect (fx->monitor, "device-removed", G_CALLBACK (on_removed), fx);
  g_signal_connect (fx->monitor, "devices-changed", G_CALLBACK (on_changed), fx);
}

static void
fixture_teardown (Fixture       *fx,
                  gconstpointer  data)
{
  g_clear_object (&fx->monitor);
  g_clear_object (&fx->bed);
  g_ptr_array_unref (fx->added);
  g_ptr_array_unref (fx->removed);
}

/* Let the uevents arrive: iterate until *count reaches want, then a little
 * longer so that extra (wrong) events would show. */
static void
wait_count (const guint *count,
            guint        want)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (*count < want && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  g_assert_cmpuint (*count, ==, want);
  test_spin (100);
  g_assert_cmpuint (*count, ==, want);
}

/* ---- tests ---------------------------------------------------------------- */

/* Present at start: the Signet devices, by VID:PID and by interface name;
 * not a foreign CDC-ACM device, not a tty without USB. */
static void
test_coldplug (Fixture       *fx,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *by_id = NULL;
  g_autofree char *by_name = NULL;
  g_autofree char *foreign = NULL;
  SignetDiscoveredDevice *info;

  by_id = add_usb_acm (fx->bed, 1, SIGNET_USB_VENDOR_ID, SIGNET_USB_PRODUCT_ID,
                       "CDC Abstract Control Model", "GW1-0001", 0);
  by_name = add_usb_acm (fx->bed, 2, 0x0483, 0x5740, "Signet", "ST-0002", 1);
  foreign = add_usb_acm (fx->bed, 3, 0x2341, 0x0043, "Arduino Serial", "ARD-3", 2);
  g_assert_true (umockdev_testbed_add_from_string (fx->bed,
    "P: /devices/platform/serial8250/tty/ttyS0\n"
    "N: ttyS0\n"
    "E: SUBSYSTEM=tty\n"
    "E: DEVNAME=/dev/ttyS0\n", &error));
  g_assert_no_error (error);

  signet_device_monitor_start (fx->monitor);
  g_assert_cmpuint (fx->added->len, ==, 2);
  g_assert_cmpuint (fx->changed, ==, 1);
  devices = signet_device_monitor_dup_devices (fx->monitor);
  g_assert_cmpuint (devices->len, ==, 2);

  info = devices->pdata[0];
  g_assert_cmpstr (signet_discovered_device_get_transport (info), ==, "usb");
  g_assert_cmpstr (signet_discovered_device_get_device_node (info), ==, "/dev/ttyACM0");
  g_assert_cmpstr (signet_discovered_device_get_sysfs_path (info), ==, by_id);
  g_assert_cmpstr (signet_discovered_device_get_serial (info), ==, "GW1-0001");
  g_assert_cmpuint (signet_discovered_device_get_vendor_id (info), ==, 0x1209);
  g_assert_cmpuint (signet_discovered_device_get_product_id (info), ==, 0x0001);
  g_assert_cmpstr (signet_discovered_device_get_interface_name (info), ==,
                   "CDC Abstract Control Model");
  g_assert_cmpstr (signet_discovered_device_get_manufacturer (info), ==, "Acme");
  g_assert_cmpstr (signet_discovered_device_get_product (info), ==, "GW1 gateway");

  info = devices->pdata[1];
  g_assert_cmpstr (signet_discovered_device_get_device_node (info), ==, "/dev/ttyACM1");
  g_assert_cmpstr (signet_discovered_device_get_sysfs_path (info), ==, by_name);
  g_assert_cmpstr (signet_discovered_device_get_serial (info), ==, "ST-0002");
  g_assert_cmpuint (signet_discovered_device_get_vendor_id (info), ==, 0x0483);
  g_assert_cmpuint (signet_discovered_device_get_product_id (info), ==, 0x5740);
  g_assert_cmpstr (signet_discovered_device_get_interface_name (info), ==, "Signet");

  /* Starting again changes nothing. */
  signet_device_monitor_start (fx->monitor);
  g_assert_cmpuint (fx->added->len, ==, 2);
  g_assert_cmpuint (fx->changed, ==, 1);

  /* Its VID:PID added to the list, the foreign device is taken at once. */
  signet_device_monitor_add_usb_id (fx->monitor, 0x2341, 0x0043);
  g_assert_cmpuint (fx->added->len, ==, 3);
  g_assert_cmpuint (fx->changed, ==, 2);
  g_assert_cmpstr (signet_discovered_device_get_sysfs_path (fx->added->pdata[2]), ==, foreign);
}

/* Plugged in and out while the monitor runs. */
static void
test_hotplug (Fixture       *fx,
              gconstpointer  data)
{
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *tty = NULL;
  g_autofree char *foreign = NULL;
  g_autofree char *usb = g_strdup (USB_ROOT "/1-4");

  signet_device_monitor_start (fx->monitor);
  g_assert_cmpuint (fx->added->len, ==, 0);
  g_assert_cmpuint (fx->changed, ==, 0);

  tty = add_usb_acm (fx->bed, 4, SIGNET_USB_VENDOR_ID, SIGNET_USB_PRODUCT_ID, "Signet",
                     "GW1-0004", 0);
  wait_count (&fx->added->len, 1);
  g_assert_cmpuint (fx->changed, ==, 1);
  g_assert_cmpstr (signet_discovered_device_get_sysfs_path (fx->added->pdata[0]), ==, tty);
  g_assert_cmpstr (signet_discovered_device_get_serial (fx->added->pdata[0]), ==, "GW1-0004");
  g_assert_cmpstr (signet_discovered_device_get_device_node (fx->added->pdata[0]), ==,
                   "/dev/ttyACM0");

  /* Another vendor's CDC-ACM device comes and goes unnoticed. */
  foreign = add_usb_acm (fx->bed, 5, 0x1a86, 0x55d4, "USB Single Serial", "X5", 1);
  test_spin (200);
  g_assert_cmpuint (fx->added->len, ==, 1);
  umockdev_testbed_uevent (fx->bed, foreign, "remove");
  umockdev_testbed_remove_device (fx->bed, USB_ROOT "/1-5");
  test_spin (200);
  g_assert_cmpuint (fx->removed->len, ==, 0);
  g_assert_cmpuint (fx->changed, ==, 1);

  /* Unplugged: the kernel removes the tty (and says so) first. */
  umockdev_testbed_uevent (fx->bed, tty, "remove");
  umockdev_testbed_remove_device (fx->bed, usb);
  wait_count (&fx->removed->len, 1);
  g_assert_cmpuint (fx->changed, ==, 2);
  g_assert_true (fx->removed->pdata[0] == fx->added->pdata[0]);
  devices = signet_device_monitor_dup_devices (fx->monitor);
  g_assert_cmpuint (devices->len, ==, 0);

  /* And back, in another port and as another ttyACM (umockdev keeps the
   * removed device's bus and class links, so names cannot be reused). */
  g_free (g_steal_pointer (&tty));
  tty = add_usb_acm (fx->bed, 7, SIGNET_USB_VENDOR_ID, SIGNET_USB_PRODUCT_ID, "Signet",
                     "GW1-0004", 2);
  wait_count (&fx->added->len, 2);
  g_assert_cmpuint (fx->changed, ==, 3);
  g_assert_cmpstr (signet_discovered_device_get_sysfs_path (fx->added->pdata[1]), ==, tty);
}

/* The discovered node opens through umockdev (its /dev/ttyACM0 is a pty
 * whose master the test bed holds) and carries frames both ways. */
static void
test_open_node (Fixture       *fx,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(SignetTransport) t = NULL;
  g_autofree char *tty = NULL;
  static const guint8 bytes[] = { 0, 'h', 'e', 'l', 'l', 'o', 0, 'd', 'e', 'v', 'i', 'c', 'e' };
  g_autoptr(GBytes) msg = g_bytes_new_static (bytes, sizeof bytes);
  TestResult r = { 0 };
  sp_deframer d;
  guint8 dbuf[SP_DEFRAMER_BUF_MAX];
  const uint8_t *payload = NULL;
  size_t payload_len = 0;
  gint64 deadline;
  int master;

  tty = add_usb_acm (fx->bed, 6, SIGNET_USB_VENDOR_ID, SIGNET_USB_PRODUCT_ID, "Signet",
                     "GW1-0006", 0);
  signet_device_monitor_start (fx->monitor);
  devices = signet_device_monitor_dup_devices (fx->monitor);
  g_assert_cmpuint (devices->len, ==, 1);
  master = umockdev_testbed_get_dev_fd (fx->bed, "/dev/ttyACM0");
  g_assert_cmpint (master, >=, 0);

  t = signet_discovered_device_create_transport (devices->pdata[0]);
  test_open (t, NULL, &r);
  g_assert_no_error (r.error);

  /* Device -> tool. */
  {
    g_autoptr(GBytes) frame = test_frame_encode ("from the device", 15);

    g_assert_cmpint (write (master, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame)),
                     ==, (gssize) g_bytes_get_size (frame));
  }
  test_receive (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpmem (g_bytes_get_data (r.message, NULL), g_bytes_get_size (r.message),
                   "from the device", 15);

  /* Tool -> device. */
  test_send (t, msg, &r);
  g_assert_no_error (r.error);
  sp_deframer_init (&d, dbuf, sizeof dbuf);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (payload == NULL && g_get_monotonic_time () < deadline)
    {
      struct pollfd pfd = { .fd = master, .events = POLLIN };
      guint8 b;

      if (poll (&pfd, 1, 10) <= 0)
        continue;
      g_assert_cmpint (read (master, &b, 1), ==, 1);
      sp_deframer_push (&d, &b, 1, &payload, &payload_len);
    }
  g_assert_nonnull (payload);
  g_assert_cmpmem (payload, payload_len, g_bytes_get_data (msg, NULL), g_bytes_get_size (msg));

  test_result_clear (&r);
  signet_transport_close (t);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(UMockdevTestbed) probe = NULL;

  g_test_init (&argc, &argv, NULL);

  /* The check looks at /sys, which only a test bed that exists redirects
   * (and it remembers its first answer). */
  probe = umockdev_testbed_new ();
  if (!umockdev_in_mock_environment ())
    {
      g_printerr ("SKIP: not running under libumockdev-preload (run it with umockdev-wrapper "
                  "or LD_PRELOAD=libumockdev-preload.so.0)\n");
      return 77;
    }

  g_clear_object (&probe);

  g_test_add ("/signet/device-monitor/coldplug", Fixture, NULL,
              fixture_setup, test_coldplug, fixture_teardown);
  g_test_add ("/signet/device-monitor/hotplug", Fixture, NULL,
              fixture_setup, test_hotplug, fixture_teardown);
  g_test_add ("/signet/device-monitor/open-node", Fixture, NULL,
              fixture_setup, test_open_node, fixture_teardown);

  return g_test_run ();
}
