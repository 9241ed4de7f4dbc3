/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gudev/gudev.h>

#include "signet-ble-monitor.h"
#include "signet-ble-transport.h"
#include "signet-device-monitor.h"
#include "signet-serial-transport.h"

/* ---- SignetDiscoveredDevice ----------------------------------------------------- */

struct _SignetDiscoveredDevice {
  gatomicrefcount ref;
  char *device_node;
  char *sysfs_path;
  char *serial;
  guint16 vendor_id;
  guint16 product_id;
  char *interface_name;
  char *manufacturer;
  char *product;
  /* BLE */
  gboolean ble;
  char *address;
  char *name;
  gint rssi;
};

G_DEFINE_BOXED_TYPE (SignetDiscoveredDevice, signet_discovered_device,
                     signet_discovered_device_ref, signet_discovered_device_unref)

SignetDiscoveredDevice *
signet_discovered_device_ref (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  g_atomic_ref_count_inc (&info->ref);
  return info;
}

void
signet_discovered_device_unref (SignetDiscoveredDevice *info)
{
  g_return_if_fail (info != NULL);

  if (!g_atomic_ref_count_dec (&info->ref))
    return;
  g_free (info->device_node);
  g_free (info->sysfs_path);
  g_free (info->serial);
  g_free (info->interface_name);
  g_free (info->manufacturer);
  g_free (info->product);
  g_free (info->address);
  g_free (info->name);
  g_free (info);
}

const char *
signet_discovered_device_get_transport (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->ble ? "ble" : "usb";
}

const char *
signet_discovered_device_get_object_path (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->ble ? info->device_node : NULL;
}

const char *
signet_discovered_device_get_address (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->address;
}

const char *
signet_discovered_device_get_name (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->name;
}

gint
signet_discovered_device_get_rssi (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, G_MININT16);

  return g_atomic_int_get (&info->rssi);
}

const char *
signet_discovered_device_get_device_node (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->device_node;
}

const char *
signet_discovered_device_get_sysfs_path (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->sysfs_path;
}

const char *
signet_discovered_device_get_serial (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->serial;
}

guint16
signet_discovered_device_get_vendor_id (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->vendor_id;
}

guint16
signet_discovered_device_get_product_id (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, 0);

  return info->product_id;
}

const char *
signet_discovered_device_get_interface_name (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->interface_name;
}

const char *
signet_discovered_device_get_manufacturer (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->manufacturer;
}

const char *
signet_discovered_device_get_product (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  return info->product;
}

SignetTransport *
signet_discovered_device_create_transport (SignetDiscoveredDevice *info)
{
  g_return_val_if_fail (info != NULL, NULL);

  if (info->ble)
    return SIGNET_TRANSPORT (signet_ble_transport_new (info->device_node));
  return SIGNET_TRANSPORT (signet_serial_transport_new (info->device_node));
}

static char *clean_string (const char *value);

SignetDiscoveredDevice *
_signet_discovered_device_new_ble (const char *object_path,
                                   const char *address,
                                   const char *name,
                                   gint        rssi)
{
  SignetDiscoveredDevice *info = g_new0 (SignetDiscoveredDevice, 1);

  g_atomic_ref_count_init (&info->ref);
  info->ble = TRUE;
  info->device_node = g_strdup (object_path);
  info->address = clean_string (address);
  info->name = clean_string (name);
  info->rssi = rssi;
  return info;
}

/* The name is set once (the info is shared between threads by ref: only
 * the RSSI, an int, changes afterwards). */
void
_signet_discovered_device_set_ble (SignetDiscoveredDevice *info,
                                   const char             *name,
                                   gint                    rssi)
{
  if (info->name == NULL && name != NULL)
    info->name = clean_string (name);
  if (rssi != G_MININT16)
    g_atomic_int_set (&info->rssi, rssi);
}

/* ---- the monitor ---------------------------------------------------------- */

struct _SignetDeviceMonitor {
  GObject parent_instance;

  GArray *usb_ids;          /* (element-type guint32): vid << 16 | pid */
  GPtrArray *interface_names; /* (element-type utf8) */
  GUdevClient *client;      /* from start on */
  GHashTable *devices;      /* tty sysfs path -> SignetDiscoveredDevice */
  gboolean ble_enabled;
  GDBusConnection *ble_bus;
  SignetBleMonitor *ble;    /* from start on, if enabled */
};

G_DEFINE_FINAL_TYPE (SignetDeviceMonitor, signet_device_monitor, G_TYPE_OBJECT)

enum {
  SIGNAL_DEVICE_ADDED,
  SIGNAL_DEVICE_REMOVED,
  SIGNAL_DEVICES_CHANGED,
  SIGNAL_DEVICE_CHANGED,
  N_SIGNALS
};

enum {
  PROP_0,
  PROP_BLE_STATUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static guint signals[N_SIGNALS];

/* A sysfs attribute or udev property as text we keep: trimmed, valid
 * UTF-8 without control characters (USB strings come from the device and
 * end up in the UI and the event log), at most 128 bytes; NULL if empty. */
static char *
clean_string (const char *value)
{
  g_autofree char *valid = NULL;
  GString *out;

  if (value == NULL)
    return NULL;
  valid = g_utf8_make_valid (value, -1);
  out = g_string_new (NULL);
  for (const char *p = valid; *p != '\0' && out->len < 128; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_c (out, ' ');
      else
        g_string_append_unichar (out, c);
    }
  g_strstrip (out->str);
  out->len = strlen (out->str);
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* A 4-digit hex id attribute ("1209"); FALSE if absent or malformed. */
static gboolean
parse_usb_id (const char *text,
              guint16    *out)
{
  guint64 value = 0;
  g_autofree char *trimmed = NULL;

  if (text == NULL)
    return FALSE;
  trimmed = g_strstrip (g_strdup (text));
  if (strlen (trimmed) != 4 || !g_ascii_string_to_unsigned (trimmed, 16, 0, 0xffff, &value, NULL))
    return FALSE;
  *out = (guint16) value;
  return TRUE;
}

static gboolean
usb_id_listed (SignetDeviceMonitor *self,
               guint16              vendor_id,
               guint16              product_id)
{
  guint32 id = (guint32) vendor_id << 16 | product_id;

  for (guint i = 0; i < self->usb_ids->len; i++)
    if (g_array_index (self->usb_ids, guint32, i) == id)
      return TRUE;
  return FALSE;
}

static gboolean
interface_listed (SignetDeviceMonitor *self,
                  const char          *name)
{
  if (name == NULL)
    return FALSE;
  for (guint i = 0; i < self->interface_names->len; i++)
    if (g_str_equal (g_ptr_array_index (self->interface_names, i), name))
      return TRUE;
  return FALSE;
}

/* The info of a tty device if it is a Signet device, else NULL. */
static SignetDiscoveredDevice *
match_device (SignetDeviceMonitor *self,
              GUdevDevice         *tty)
{
  g_autoptr(GUdevDevice) usb_interface = NULL;
  g_autoptr(GUdevDevice) usb_device = NULL;
  g_autofree char *interface_name = NULL;
  SignetDiscoveredDevice *info;
  const char *node = g_udev_device_get_device_file (tty);
  guint16 vendor_id = 0, product_id = 0;

  if (node == NULL)
    return NULL;
  usb_device = g_udev_device_get_parent_with_subsystem (tty, "usb", "usb_device");
  if (usb_device == NULL)
    return NULL;
  if (!parse_usb_id (g_udev_device_get_sysfs_attr (usb_device, "idVendor"), &vendor_id) ||
      !parse_usb_id (g_udev_device_get_sysfs_attr (usb_device, "idProduct"), &product_id))
    {
      g_debug ("%s: a USB parent without a readable VID:PID", node);
      return NULL;
    }
  usb_interface = g_udev_device_get_parent_with_subsystem (tty, "usb", "usb_interface");
  if (usb_interface != NULL)
    interface_name = clean_string (g_udev_device_get_sysfs_attr (usb_interface, "interface"));
  if (!usb_id_listed (self, vendor_id, product_id) && !interface_listed (self, interface_name))
    {
      g_debug ("%s: %04x:%04x (interface %s) is not a Signet device", node, vendor_id,
               product_id, interface_name != NULL ? interface_name : "without a name");
      return NULL;
    }

  info = g_new0 (SignetDiscoveredDevice, 1);
  g_atomic_ref_count_init (&info->ref);
  info->device_node = g_strdup (node);
  info->sysfs_path = g_strdup (g_udev_device_get_sysfs_path (tty));
  info->vendor_id = vendor_id;
  info->product_id = product_id;
  info->interface_name = g_steal_pointer (&interface_name);
  info->serial = clean_string (g_udev_device_get_property (tty, "ID_SERIAL_SHORT"));
  if (info->serial == NULL)
    info->serial = clean_string (g_udev_device_get_sysfs_attr (usb_device, "serial"));
  info->manufacturer = clean_string (g_udev_device_get_sysfs_attr (usb_device, "manufacturer"));
  info->product = clean_string (g_udev_device_get_sysfs_attr (usb_device, "product"));
  return info;
}

static void
add_device (SignetDeviceMonitor *self,
            SignetDiscoveredDevice    *info)
{
  g_debug ("Signet device %s (%04x:%04x, serial %s)", info->device_node, info->vendor_id,
           info->product_id, info->serial != NULL ? info->serial : "unknown");
  g_hash_table_replace (self->devices, info->sysfs_path, info);
  g_signal_emit (self, signals[SIGNAL_DEVICE_ADDED], 0, info);
}

static void
remove_device (SignetDeviceMonitor *self,
               const char          *sysfs_path)
{
  g_autoptr(SignetDiscoveredDevice) info = NULL;
  gpointer key = NULL, value = NULL;

  if (!g_hash_table_steal_extended (self->devices, sysfs_path, &key, &value))
    return;
  info = value;
  g_debug ("Signet device %s removed", info->device_node);
  g_signal_emit (self, signals[SIGNAL_DEVICE_REMOVED], 0, info);
}

/* Bring the table in line with what udev has now; TRUE if it changed. */
static gboolean
sync_all (SignetDeviceMonitor *self)
{
  g_autoptr(GHashTable) present = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                         (GDestroyNotify) signet_discovered_device_unref);
  g_autoptr(GPtrArray) gone = g_ptr_array_new_with_free_func (g_free);
  GList *ttys = g_udev_client_query_by_subsystem (self->client, "tty");
  GHashTableIter iter;
  gpointer key, value;
  gboolean changed = FALSE;

  for (GList *l = ttys; l != NULL; l = l->next)
    {
      SignetDiscoveredDevice *info = match_device (self, l->data);

      if (info != NULL)
        g_hash_table_replace (present, info->sysfs_path, info);
    }
  g_list_free_full (ttys, g_object_unref);

  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (present, key))
      g_ptr_array_add (gone, g_strdup (key));
  for (guint i = 0; i < gone->len; i++)
    {
      remove_device (self, g_ptr_array_index (gone, i));
      changed = TRUE;
    }

  g_hash_table_iter_init (&iter, present);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (self->devices, key))
      {
        g_hash_table_iter_steal (&iter);
        add_device (self, value);
        changed = TRUE;
      }
  return changed;
}

static void
on_uevent (GUdevClient *client,
           const char  *action,
           GUdevDevice *device,
           gpointer     user_data)
{
  g_autoptr(SignetDeviceMonitor) self = g_object_ref (user_data);
  const char *sysfs_path = g_udev_device_get_sysfs_path (device);
  gboolean changed = FALSE;

  if (sysfs_path == NULL)
    return;
  if (g_str_equal (action, "remove"))
    {
      /* The attributes are gone with the device: go by the path. */
      changed = g_hash_table_contains (self->devices, sysfs_path);
      remove_device (self, sysfs_path);
    }
  else
    {
      /* add, change, move, bind, ...: what it is now decides. */
      SignetDiscoveredDevice *info = match_device (self, device);
      SignetDiscoveredDevice *known = g_hash_table_lookup (self->devices, sysfs_path);

      if (known != NULL && (info == NULL || !g_str_equal (known->device_node, info->device_node)))
        {
          remove_device (self, sysfs_path);
          changed = TRUE;
        }
      if (info != NULL && !g_hash_table_contains (self->devices, sysfs_path))
        {
          add_device (self, info);
          changed = TRUE;
        }
      else if (info != NULL)
        {
          signet_discovered_device_unref (info);
        }
    }
  if (changed)
    g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
}

static void
signet_device_monitor_dispose (GObject *object)
{
  SignetDeviceMonitor *self = SIGNET_DEVICE_MONITOR (object);

  if (self->client != NULL)
    g_signal_handlers_disconnect_by_data (self->client, self);
  g_clear_object (&self->client);
  if (self->ble != NULL)
    g_signal_handlers_disconnect_by_data (self->ble, self);
  g_clear_object (&self->ble);
  g_clear_object (&self->ble_bus);

  G_OBJECT_CLASS (signet_device_monitor_parent_class)->dispose (object);
}

static void
signet_device_monitor_finalize (GObject *object)
{
  SignetDeviceMonitor *self = SIGNET_DEVICE_MONITOR (object);

  g_array_unref (self->usb_ids);
  g_ptr_array_unref (self->interface_names);
  g_hash_table_unref (self->devices);

  G_OBJECT_CLASS (signet_device_monitor_parent_class)->finalize (object);
}

static void
signet_device_monitor_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  SignetDeviceMonitor *self = SIGNET_DEVICE_MONITOR (object);

  switch (prop_id)
    {
    case PROP_BLE_STATUS:
      g_value_set_string (value, signet_device_monitor_get_ble_status (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_device_monitor_class_init (SignetDeviceMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signet_device_monitor_dispose;
  object_class->finalize = signet_device_monitor_finalize;
  object_class->get_property = signet_device_monitor_get_property;

  properties[PROP_BLE_STATUS] =
    g_param_spec_string ("ble-status", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  signals[SIGNAL_DEVICE_CHANGED] =
    g_signal_new ("device-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  SIGNET_TYPE_DISCOVERED_DEVICE | G_SIGNAL_TYPE_STATIC_SCOPE);

  signals[SIGNAL_DEVICE_ADDED] =
    g_signal_new ("device-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  SIGNET_TYPE_DISCOVERED_DEVICE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_DEVICE_REMOVED] =
    g_signal_new ("device-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  SIGNET_TYPE_DISCOVERED_DEVICE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_DEVICES_CHANGED] =
    g_signal_new ("devices-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
signet_device_monitor_init (SignetDeviceMonitor *self)
{
  self->usb_ids = g_array_new (FALSE, FALSE, sizeof (guint32));
  self->interface_names = g_ptr_array_new_with_free_func (g_free);
  self->devices = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) signet_discovered_device_unref);
  signet_device_monitor_add_usb_id (self, SIGNET_USB_VENDOR_ID, SIGNET_USB_PRODUCT_ID);
  signet_device_monitor_add_interface_name (self, SIGNET_USB_INTERFACE_NAME);
  self->ble_enabled = TRUE;
}

/* ---- BLE (SignetBleMonitor) ----------------------------------------------- */

static void
on_ble_added (SignetBleMonitor *ble, SignetDiscoveredDevice *info, gpointer user_data)
{
  (void) ble;
  g_signal_emit (user_data, signals[SIGNAL_DEVICE_ADDED], 0, info);
}

static void
on_ble_removed (SignetBleMonitor *ble, SignetDiscoveredDevice *info, gpointer user_data)
{
  (void) ble;
  g_signal_emit (user_data, signals[SIGNAL_DEVICE_REMOVED], 0, info);
}

static void
on_ble_changed (SignetBleMonitor *ble, SignetDiscoveredDevice *info, gpointer user_data)
{
  (void) ble;
  g_signal_emit (user_data, signals[SIGNAL_DEVICE_CHANGED], 0, info);
}

static void
on_ble_list_changed (SignetBleMonitor *ble, gpointer user_data)
{
  (void) ble;
  g_signal_emit (user_data, signals[SIGNAL_DEVICES_CHANGED], 0);
}

static void
on_ble_status (GObject *ble, GParamSpec *pspec, gpointer user_data)
{
  (void) ble;
  (void) pspec;
  g_object_notify_by_pspec (user_data, properties[PROP_BLE_STATUS]);
}

static void
ble_start (SignetDeviceMonitor *self)
{
  self->ble = signet_ble_monitor_new (self->ble_bus);
  g_signal_connect (self->ble, "device-added", G_CALLBACK (on_ble_added), self);
  g_signal_connect (self->ble, "device-removed", G_CALLBACK (on_ble_removed), self);
  g_signal_connect (self->ble, "device-changed", G_CALLBACK (on_ble_changed), self);
  g_signal_connect (self->ble, "devices-changed", G_CALLBACK (on_ble_list_changed), self);
  g_signal_connect (self->ble, "notify::status", G_CALLBACK (on_ble_status), self);
  signet_ble_monitor_start (self->ble);
}

static void
ble_stop (SignetDeviceMonitor *self)
{
  /* its devices leave the list through the handlers, then they go */
  signet_ble_monitor_stop (self->ble);
  g_signal_handlers_disconnect_by_data (self->ble, self);
  g_clear_object (&self->ble);
}

void
signet_device_monitor_set_ble (SignetDeviceMonitor *self,
                               gboolean             enabled,
                               GDBusConnection     *bus)
{
  g_return_if_fail (SIGNET_IS_DEVICE_MONITOR (self));

  g_set_object (&self->ble_bus, bus);
  if (self->ble_enabled == enabled)
    return;
  self->ble_enabled = enabled;
  if (self->client == NULL)
    return;
  g_debug ("BLE discovery %s", enabled ? "on" : "off");
  if (enabled)
    ble_start (self);
  else
    ble_stop (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BLE_STATUS]);
}

gboolean
signet_device_monitor_get_ble_enabled (SignetDeviceMonitor *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE_MONITOR (self), FALSE);
  return self->ble_enabled;
}

const char *
signet_device_monitor_get_ble_status (SignetDeviceMonitor *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE_MONITOR (self), NULL);

  if (self->ble == NULL)
    /* TRANSLATORS: the Bluetooth status in the device list, when the
     * technician turned Bluetooth LE off in the preferences */
    return self->ble_enabled ? NULL : _("Bluetooth discovery is off");
  return signet_ble_monitor_get_status (self->ble);
}

/* ---- public API ----------------------------------------------------------- */

SignetDeviceMonitor *
signet_device_monitor_new (void)
{
  return g_object_new (SIGNET_TYPE_DEVICE_MONITOR, NULL);
}

void
signet_device_monitor_add_usb_id (SignetDeviceMonitor *self,
                                  guint16              vendor_id,
                                  guint16              product_id)
{
  guint32 id = (guint32) vendor_id << 16 | product_id;

  g_return_if_fail (SIGNET_IS_DEVICE_MONITOR (self));

  if (usb_id_listed (self, vendor_id, product_id))
    return;
  g_array_append_val (self->usb_ids, id);
  if (self->client != NULL && sync_all (self))
    g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
}

void
signet_device_monitor_add_interface_name (SignetDeviceMonitor *self,
                                          const char          *name)
{
  g_return_if_fail (SIGNET_IS_DEVICE_MONITOR (self));
  g_return_if_fail (name != NULL && name[0] != '\0');

  if (interface_listed (self, name))
    return;
  g_ptr_array_add (self->interface_names, g_strdup (name));
  if (self->client != NULL && sync_all (self))
    g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
}

void
signet_device_monitor_start (SignetDeviceMonitor *self)
{
  static const char *const subsystems[] = { "tty", NULL };

  g_return_if_fail (SIGNET_IS_DEVICE_MONITOR (self));

  if (self->client != NULL)
    return;
  /* GUdevClient delivers its events in the thread-default context of
   * the thread that makes it. */
  self->client = g_udev_client_new (subsystems);
  g_signal_connect (self->client, "uevent", G_CALLBACK (on_uevent), self);
  if (sync_all (self))
    g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
  if (self->ble_enabled)
    ble_start (self);
}

static int
compare_by_node (gconstpointer a,
                 gconstpointer b)
{
  const SignetDiscoveredDevice *ia = *(SignetDiscoveredDevice *const *) a;
  const SignetDiscoveredDevice *ib = *(SignetDiscoveredDevice *const *) b;

  return strcmp (ia->device_node, ib->device_node);
}

GPtrArray *
signet_device_monitor_dup_devices (SignetDeviceMonitor *self)
{
  GPtrArray *out;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (SIGNET_IS_DEVICE_MONITOR (self), NULL);

  out = g_ptr_array_new_with_free_func ((GDestroyNotify) signet_discovered_device_unref);
  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (out, signet_discovered_device_ref (value));
  if (self->ble != NULL)
    {
      g_autoptr(GPtrArray) ble = signet_ble_monitor_dup_devices (self->ble);

      for (guint i = 0; i < ble->len; i++)
        g_ptr_array_add (out, signet_discovered_device_ref (ble->pdata[i]));
    }
  g_ptr_array_sort (out, compare_by_node);
  return out;
}
