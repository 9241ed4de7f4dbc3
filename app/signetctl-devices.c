/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "signet-device-monitor.h"
#include "signetctl-devices.h"

struct _SignetctlDevices {
  SignetDeviceMonitor *monitor;
  SignetctlDevicesFunc func;
  gpointer user_data;
};

static void
add_string (GVariantBuilder *b,
            const char      *key,
            const char      *value)
{
  if (value != NULL && g_utf8_validate (value, -1, NULL))
    g_variant_builder_add (b, "{sv}", key, g_variant_new_string (value));
}

static GVariant *
describe (SignetDiscoveredDevice *info)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autofree char *path = g_strconcat ("serial:", signet_discovered_device_get_device_node (info),
                                       NULL);

  add_string (&b, "device", path);
  add_string (&b, "path", signet_discovered_device_get_device_node (info));
  add_string (&b, "transport", signet_discovered_device_get_transport (info));
  add_string (&b, "usb_serial", signet_discovered_device_get_serial (info));
  g_variant_builder_add (&b, "{sv}", "vendor_id",
                         g_variant_new_uint16 (signet_discovered_device_get_vendor_id (info)));
  g_variant_builder_add (&b, "{sv}", "product_id",
                         g_variant_new_uint16 (signet_discovered_device_get_product_id (info)));
  add_string (&b, "manufacturer", signet_discovered_device_get_manufacturer (info));
  add_string (&b, "product", signet_discovered_device_get_product (info));
  add_string (&b, "interface", signet_discovered_device_get_interface_name (info));
  return g_variant_builder_end (&b);
}

static void
on_added (SignetDeviceMonitor *monitor,
          SignetDiscoveredDevice    *info,
          SignetctlDevices    *self)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (describe (info));

  if (self->func != NULL)
    self->func (TRUE, v, self->user_data);
}

static void
on_removed (SignetDeviceMonitor *monitor,
            SignetDiscoveredDevice    *info,
            SignetctlDevices    *self)
{
  g_autoptr(GVariant) v = g_variant_ref_sink (describe (info));

  if (self->func != NULL)
    self->func (FALSE, v, self->user_data);
}

SignetctlDevices *
signetctl_devices_new (SignetctlDevicesFunc func,
                       gpointer             user_data)
{
  SignetctlDevices *self = g_new0 (SignetctlDevices, 1);

  self->func = func;
  self->user_data = user_data;
  self->monitor = signet_device_monitor_new ();
  g_signal_connect (self->monitor, "device-added", G_CALLBACK (on_added), self);
  g_signal_connect (self->monitor, "device-removed", G_CALLBACK (on_removed), self);
  signet_device_monitor_start (self->monitor);
  return self;
}

void
signetctl_devices_free (SignetctlDevices *self)
{
  if (self == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  g_free (self);
}

GVariant *
signetctl_devices_list (SignetctlDevices *self)
{
  g_autoptr(GPtrArray) devices = signet_device_monitor_dup_devices (self->monitor);
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));

  for (guint i = 0; i < devices->len; i++)
    g_variant_builder_add_value (&b, describe (g_ptr_array_index (devices, i)));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}
