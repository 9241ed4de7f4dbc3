/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-test-usb: a umockdev test bed that another process (signetctl
 * under libumockdev-preload, UMOCKDEV_DIR set) sees, driven from stdin,
 * for `signetctl devices --watch` (test_signetctl.py).
 *
 * Prints "UMOCKDEV_DIR=DIR" when the bed exists, then reads lines:
 *   add     plug in a Signet USB device (1209:0001, USB serial GW1-0007,
 *           CDC-ACM, /dev/ttyACM0); prints "added"
 *   remove  unplug it (the tty's remove uevent first); prints "removed"
 * and exits at end of input.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <umockdev.h>

#define USB "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4"
#define TTY USB "/1-4:1.0/tty/ttyACM0"

static const char device_text[] =
  "P: /devices/pci0000:00/0000:00:14.0/usb1/1-4\n"
  "E: SUBSYSTEM=usb\n"
  "E: DEVTYPE=usb_device\n"
  "E: DRIVER=usb\n"
  "A: idVendor=1209\n"
  "A: idProduct=0001\n"
  "A: serial=GW1-0007\n"
  "A: manufacturer=Acme\n"
  "A: product=GW1 gateway\n"
  "A: bDeviceClass=02\n"
  "\n"
  "P: /devices/pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.0\n"
  "E: SUBSYSTEM=usb\n"
  "E: DEVTYPE=usb_interface\n"
  "E: DRIVER=cdc_acm\n"
  "A: interface=Signet\n"
  "A: bInterfaceClass=02\n"
  "A: bInterfaceSubClass=02\n"
  "\n"
  "P: /devices/pci0000:00/0000:00:14.0/usb1/1-4/1-4:1.0/tty/ttyACM0\n"
  "N: ttyACM0\n"
  "E: SUBSYSTEM=tty\n"
  "E: DEVNAME=/dev/ttyACM0\n"
  "E: ID_SERIAL_SHORT=GW1-0007\n"
  "E: ID_VENDOR_ID=1209\n"
  "E: ID_MODEL_ID=0001\n";

int
main (void)
{
  g_autoptr(UMockdevTestbed) bed = umockdev_testbed_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *root = umockdev_testbed_get_root_dir (bed);
  char line[64];

  printf ("UMOCKDEV_DIR=%s\n", root);
  fflush (stdout);
  while (fgets (line, sizeof line, stdin) != NULL)
    {
      if (strncmp (line, "add", 3) == 0)
        {
          if (!umockdev_testbed_add_from_string (bed, device_text, &error))
            g_error ("add: %s", error->message);
          puts ("added");
        }
      else if (strncmp (line, "remove", 6) == 0)
        {
          umockdev_testbed_uevent (bed, TTY, "remove");
          umockdev_testbed_remove_device (bed, USB);
          puts ("removed");
        }
      fflush (stdout);
    }
  return 0;
}
