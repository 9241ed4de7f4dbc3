/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* signet-ble-monitor.c: see signet-ble-monitor.h and docs/ble.md. */
#include "config.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "signet-ble-monitor.h"
#include "sp-seg.h"

#define BLUEZ "org.bluez"
#define IFACE_ADAPTER "org.bluez.Adapter1"
#define IFACE_DEVICE "org.bluez.Device1"
#define IFACE_PROPS "org.freedesktop.DBus.Properties"
#define IFACE_OM "org.freedesktop.DBus.ObjectManager"

struct _SignetBleMonitor {
  GObject parent_instance;

  GDBusConnection *given_bus;
  GDBusConnection *bus;
  GCancellable *cancellable;   /* of the calls of this BlueZ's presence */
  gboolean started;
  gboolean available;
  char *status;
  guint name_watch;
  guint sub_added;
  guint sub_removed;
  guint sub_props;
  GHashTable *devices;         /* object path -> SignetDiscoveredDevice */
  GHashTable *adapters;        /* object path -> itself: discovery started */
};

G_DEFINE_FINAL_TYPE (SignetBleMonitor, signet_ble_monitor, G_TYPE_OBJECT)

enum {
  SIGNAL_DEVICE_ADDED,
  SIGNAL_DEVICE_REMOVED,
  SIGNAL_DEVICE_CHANGED,
  SIGNAL_DEVICES_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

enum {
  PROP_0,
  PROP_STATUS,
  PROP_AVAILABLE,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

static void
set_status (SignetBleMonitor *self, gboolean available, const char *status)
{
  if (g_strcmp0 (status, self->status) != 0)
    {
      g_free (self->status);
      self->status = g_strdup (status);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
    }
  if (available != self->available)
    {
      self->available = available;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_AVAILABLE]);
    }
}

static gboolean
has_signet_uuid (GVariant *props)
{
  g_autoptr(GVariant) uuids = g_variant_lookup_value (props, "UUIDs", G_VARIANT_TYPE_STRING_ARRAY);
  g_autofree const char **list = NULL;

  if (uuids == NULL)
    return FALSE;
  list = g_variant_get_strv (uuids, NULL);
  for (guint i = 0; list[i] != NULL; i++)
    if (g_ascii_strcasecmp (list[i], SP_SEG_UUID_SERVICE) == 0)
      return TRUE;
  return FALSE;
}

static const char *
lookup_name (GVariant *props)
{
  const char *name = NULL;

  if (!g_variant_lookup (props, "Name", "&s", &name))
    g_variant_lookup (props, "Alias", "&s", &name);
  return name;
}

static gint
lookup_rssi (GVariant *props)
{
  gint16 rssi;

  return g_variant_lookup (props, "RSSI", "n", &rssi) ? rssi : G_MININT16;
}

/* A Device1 with these properties: add it if it is a Signet device. */
static gboolean
consider_device (SignetBleMonitor *self, const char *path, GVariant *props)
{
  SignetDiscoveredDevice *info;
  const char *address = NULL;

  if (g_hash_table_contains (self->devices, path) || !has_signet_uuid (props))
    return FALSE;
  g_variant_lookup (props, "Address", "&s", &address);
  info = _signet_discovered_device_new_ble (path, address, lookup_name (props),
                                            lookup_rssi (props));
  g_debug ("BLE Signet device %s (%s)", path, address != NULL ? address : "?");
  g_hash_table_replace (self->devices, g_strdup (path), info);
  g_signal_emit (self, signals[SIGNAL_DEVICE_ADDED], 0, info);
  return TRUE;
}

static gboolean
remove_device (SignetBleMonitor *self, const char *path)
{
  gpointer key = NULL, value = NULL;

  if (!g_hash_table_steal_extended (self->devices, path, &key, &value))
    return FALSE;
  g_debug ("BLE Signet device %s removed", path);
  g_signal_emit (self, signals[SIGNAL_DEVICE_REMOVED], 0, value);
  g_free (key);
  signet_discovered_device_unref (value);
  return TRUE;
}

static void
remove_all (SignetBleMonitor *self)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (paths, g_strdup (key));
  for (guint i = 0; i < paths->len; i++)
    remove_device (self, paths->pdata[i]);
  g_hash_table_remove_all (self->adapters);
  if (paths->len > 0)
    g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
}

/* ---- discovery on an adapter --------------------------------------------- */

typedef struct {
  SignetBleMonitor *self;
  char *adapter;
} AdapterCall;

static void
adapter_call_free (AdapterCall *c)
{
  g_object_unref (c->self);
  g_free (c->adapter);
  g_free (c);
}

static void
on_start_discovery (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AdapterCall *c = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                           &error);

  if (ret == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *status = NULL;

      g_dbus_error_strip_remote_error (error);
      /* TRANSLATORS: the Bluetooth status in the device list: the adapter
       * (hci0) and BlueZ's reason */
      status = g_strdup_printf (_("Bluetooth discovery on %s failed: %s"), c->adapter,
                                error->message);
      g_debug ("%s", status);
      g_hash_table_remove (c->self->adapters, c->adapter);
      set_status (c->self, TRUE, status);
    }
  else if (ret != NULL)
    set_status (c->self, TRUE, NULL);
  adapter_call_free (c);
}

static void
on_set_filter (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AdapterCall *c = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                           &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      adapter_call_free (c);
      return;
    }
  if (ret == NULL)
    g_debug ("SetDiscoveryFilter on %s: %s", c->adapter, error->message);
  g_dbus_connection_call (G_DBUS_CONNECTION (source), BLUEZ, c->adapter, IFACE_ADAPTER,
                          "StartDiscovery", NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                          c->self->cancellable, on_start_discovery, c);
}

static void
start_discovery (SignetBleMonitor *self, const char *adapter)
{
  AdapterCall *c;
  GVariantBuilder filter;
  const char *uuids[] = { SP_SEG_UUID_SERVICE, NULL };

  if (g_hash_table_contains (self->adapters, adapter))
    return;
  g_hash_table_add (self->adapters, g_strdup (adapter));
  c = g_new0 (AdapterCall, 1);
  c->self = g_object_ref (self);
  c->adapter = g_strdup (adapter);
  g_variant_builder_init (&filter, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&filter, "{sv}", "UUIDs", g_variant_new_strv (uuids, -1));
  g_variant_builder_add (&filter, "{sv}", "Transport", g_variant_new_string ("le"));
  g_dbus_connection_call (self->bus, BLUEZ, adapter, IFACE_ADAPTER, "SetDiscoveryFilter",
                          g_variant_new ("(a{sv})", &filter), NULL, G_DBUS_CALL_FLAGS_NONE, -1,
                          self->cancellable, on_set_filter, c);
}

/* ---- BlueZ's objects ----------------------------------------------------- */

/* One object's interfaces (a{sa{sv}}) as InterfacesAdded or
 * GetManagedObjects give them. */
static gboolean
object_added (SignetBleMonitor *self, const char *path, GVariant *ifaces)
{
  g_autoptr(GVariant) device = g_variant_lookup_value (ifaces, IFACE_DEVICE,
                                                       G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) adapter = g_variant_lookup_value (ifaces, IFACE_ADAPTER,
                                                        G_VARIANT_TYPE_VARDICT);

  if (adapter != NULL)
    start_discovery (self, path);
  if (device != NULL)
    return consider_device (self, path, device);
  return FALSE;
}

static void
on_objects (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleMonitor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                           &error);
  g_autoptr(GVariant) objects = NULL;
  gboolean changed = FALSE, any_adapter = FALSE;
  GVariantIter iter;
  const char *path;
  GVariant *ifaces;

  if (ret == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *status = NULL;

          g_dbus_error_strip_remote_error (error);
          /* TRANSLATORS: the Bluetooth status; BlueZ is the Bluetooth service */
          status = g_strdup_printf (_("BlueZ does not answer: %s"), error->message);
          set_status (self, FALSE, status);
        }
      return;
    }
  objects = g_variant_get_child_value (ret, 0);
  g_variant_iter_init (&iter, objects);
  while (g_variant_iter_next (&iter, "{&o@a{sa{sv}}}", &path, &ifaces))
    {
      g_autoptr(GVariant) adapter = g_variant_lookup_value (ifaces, IFACE_ADAPTER, NULL);

      any_adapter |= adapter != NULL;
      changed |= object_added (self, path, ifaces);
      g_variant_unref (ifaces);
    }
  if (!any_adapter)
    set_status (self, TRUE, _("No Bluetooth adapter"));
  if (changed)
    g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
}

static void
on_interfaces_added (GDBusConnection *bus, const char *sender, const char *object,
                     const char *iface, const char *signal, GVariant *params, gpointer user_data)
{
  SignetBleMonitor *self = user_data;
  g_autoptr(GVariant) ifaces = NULL;
  const char *path;

  (void) bus; (void) sender; (void) object; (void) iface; (void) signal;
  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(oa{sa{sv}})")))
    return;
  g_variant_get (params, "(&o@a{sa{sv}})", &path, &ifaces);
  if (object_added (self, path, ifaces))
    g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
}

static void
on_interfaces_removed (GDBusConnection *bus, const char *sender, const char *object,
                       const char *iface, const char *signal, GVariant *params, gpointer user_data)
{
  SignetBleMonitor *self = user_data;
  g_autofree const char **list = NULL;
  const char *path;
  GVariant *names;

  (void) bus; (void) sender; (void) object; (void) iface; (void) signal;
  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(oas)")))
    return;
  g_variant_get (params, "(&o@as)", &path, &names);
  list = g_variant_get_strv (names, NULL);
  for (guint i = 0; list[i] != NULL; i++)
    {
      if (g_str_equal (list[i], IFACE_DEVICE) && remove_device (self, path))
        g_signal_emit (self, signals[SIGNAL_DEVICES_CHANGED], 0);
      else if (g_str_equal (list[i], IFACE_ADAPTER))
        g_hash_table_remove (self->adapters, path);
    }
  g_variant_unref (names);
}

typedef struct {
  SignetBleMonitor *self;
  char *path;
} DeviceCall;

static DeviceCall *
device_call_new (SignetBleMonitor *self, const char *path)
{
  DeviceCall *c = g_new0 (DeviceCall, 1);

  c->self = g_object_ref (self);
  c->path = g_strdup (path);
  return c;
}

static void
on_device_props (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DeviceCall *c = user_data;
  g_autoptr(GVariant) ret = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                           NULL);

  if (ret != NULL)
    {
      g_autoptr(GVariant) props = g_variant_get_child_value (ret, 0);

      if (consider_device (c->self, c->path, props))
        g_signal_emit (c->self, signals[SIGNAL_DEVICES_CHANGED], 0);
    }
  g_object_unref (c->self);
  g_free (c->path);
  g_free (c);
}

static void
on_properties_changed (GDBusConnection *bus, const char *sender, const char *path,
                       const char *iface, const char *signal, GVariant *params,
                       gpointer user_data)
{
  SignetBleMonitor *self = user_data;
  g_autoptr(GVariant) changed = NULL;
  SignetDiscoveredDevice *info;
  const char *which;

  (void) bus; (void) sender; (void) iface; (void) signal;
  if (!g_variant_is_of_type (params, G_VARIANT_TYPE ("(sa{sv}as)")))
    return;
  g_variant_get (params, "(&s@a{sv}@as)", &which, &changed, NULL);
  if (!g_str_equal (which, IFACE_DEVICE))
    return;
  info = g_hash_table_lookup (self->devices, path);
  if (info == NULL)
    {
      /* UUIDs may come after the device (a scan response): read the
       * whole Device1 when they change. */
      g_autoptr(GVariant) uuids = g_variant_lookup_value (changed, "UUIDs", NULL);

      if (uuids != NULL)
        g_dbus_connection_call (self->bus, BLUEZ, path, IFACE_PROPS, "GetAll",
                                g_variant_new ("(s)", IFACE_DEVICE), G_VARIANT_TYPE ("(a{sv})"),
                                G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, on_device_props,
                                device_call_new (self, path));
      return;
    }
  {
    const char *name = lookup_name (changed);
    gint rssi = lookup_rssi (changed);

    if (name != NULL || rssi != G_MININT16)
      {
        _signet_discovered_device_set_ble (info, name, rssi);
        g_signal_emit (self, signals[SIGNAL_DEVICE_CHANGED], 0, info);
      }
  }
}

/* ---- BlueZ on the bus ---------------------------------------------------- */

static void
on_bluez_appeared (GDBusConnection *bus, const char *name, const char *owner, gpointer user_data)
{
  SignetBleMonitor *self = user_data;

  (void) name;
  g_debug ("BlueZ is on the bus (%s)", owner);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  remove_all (self);
  set_status (self, TRUE, NULL);
  g_dbus_connection_call (bus, BLUEZ, "/", IFACE_OM, "GetManagedObjects", NULL,
                          G_VARIANT_TYPE ("(a{oa{sa{sv}}})"), G_DBUS_CALL_FLAGS_NONE, -1,
                          self->cancellable, on_objects, g_object_ref (self));
}

static void
on_bluez_vanished (GDBusConnection *bus, const char *name, gpointer user_data)
{
  SignetBleMonitor *self = user_data;

  (void) bus; (void) name;
  g_cancellable_cancel (self->cancellable);
  remove_all (self);
  set_status (self, FALSE, _("BlueZ is not running (org.bluez is not on the system bus)"));
}

static void
watch (SignetBleMonitor *self)
{
  GDBusConnection *bus = self->bus;

  self->sub_added = g_dbus_connection_signal_subscribe (bus, BLUEZ, IFACE_OM,
                                                        "InterfacesAdded", NULL, NULL,
                                                        G_DBUS_SIGNAL_FLAGS_NONE,
                                                        on_interfaces_added, self, NULL);
  self->sub_removed = g_dbus_connection_signal_subscribe (bus, BLUEZ, IFACE_OM,
                                                          "InterfacesRemoved", NULL, NULL,
                                                          G_DBUS_SIGNAL_FLAGS_NONE,
                                                          on_interfaces_removed, self, NULL);
  self->sub_props = g_dbus_connection_signal_subscribe (bus, BLUEZ, IFACE_PROPS,
                                                        "PropertiesChanged", NULL,
                                                        IFACE_DEVICE, G_DBUS_SIGNAL_FLAGS_NONE,
                                                        on_properties_changed, self, NULL);
  self->name_watch = g_bus_watch_name_on_connection (bus, BLUEZ, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                                     on_bluez_appeared, on_bluez_vanished, self,
                                                     NULL);
}

static void
on_bus (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(SignetBleMonitor) self = user_data;
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish (result, &error);

  (void) source;
  if (bus == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *status = g_strdup_printf (_("No system bus: %s"), error->message);

          set_status (self, FALSE, status);
        }
      return;
    }
  if (!self->started || self->bus != NULL)
    {
      /* stopped (and maybe started again) while the bus was coming */
      g_object_unref (bus);
      return;
    }
  self->bus = bus;
  watch (self);
}

/* ---- GObject ------------------------------------------------------------- */

/* Undoes start (): the calls under way, the watches, and this client's
 * discovery on every adapter it started it on. The devices stay listed. */
static void
unwatch (SignetBleMonitor *self)
{
  GHashTableIter iter;
  gpointer adapter;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  if (self->name_watch != 0)
    g_bus_unwatch_name (self->name_watch);
  self->name_watch = 0;
  if (self->bus != NULL)
    {
      if (self->sub_added != 0)
        g_dbus_connection_signal_unsubscribe (self->bus, self->sub_added);
      if (self->sub_removed != 0)
        g_dbus_connection_signal_unsubscribe (self->bus, self->sub_removed);
      if (self->sub_props != 0)
        g_dbus_connection_signal_unsubscribe (self->bus, self->sub_props);
      /* No answer awaited: an adapter that was not discovering yet (its
       * StartDiscovery cancelled) refuses, and that is fine. The bus
       * keeps the message when this monitor goes. */
      g_hash_table_iter_init (&iter, self->adapters);
      while (g_hash_table_iter_next (&iter, &adapter, NULL))
        g_dbus_connection_call (self->bus, BLUEZ, adapter, IFACE_ADAPTER, "StopDiscovery",
                                NULL, NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL, NULL);
    }
  g_hash_table_remove_all (self->adapters);
  self->sub_added = self->sub_removed = self->sub_props = 0;
  g_clear_object (&self->bus);
  self->started = FALSE;
}

static void
signet_ble_monitor_dispose (GObject *object)
{
  SignetBleMonitor *self = SIGNET_BLE_MONITOR (object);

  unwatch (self);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->given_bus);
  G_OBJECT_CLASS (signet_ble_monitor_parent_class)->dispose (object);
}

static void
signet_ble_monitor_finalize (GObject *object)
{
  SignetBleMonitor *self = SIGNET_BLE_MONITOR (object);

  g_hash_table_unref (self->devices);
  g_hash_table_unref (self->adapters);
  g_free (self->status);
  G_OBJECT_CLASS (signet_ble_monitor_parent_class)->finalize (object);
}

static void
signet_ble_monitor_get_property (GObject *object, guint prop_id, GValue *value,
                                 GParamSpec *pspec)
{
  SignetBleMonitor *self = SIGNET_BLE_MONITOR (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      g_value_set_string (value, self->status);
      break;
    case PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_ble_monitor_class_init (SignetBleMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signet_ble_monitor_dispose;
  object_class->finalize = signet_ble_monitor_finalize;
  object_class->get_property = signet_ble_monitor_get_property;
  properties[PROP_STATUS] =
    g_param_spec_string ("status", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_AVAILABLE] =
    g_param_spec_boolean ("available", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  signals[SIGNAL_DEVICE_ADDED] =
    g_signal_new ("device-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SIGNET_TYPE_DISCOVERED_DEVICE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_DEVICE_REMOVED] =
    g_signal_new ("device-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SIGNET_TYPE_DISCOVERED_DEVICE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_DEVICE_CHANGED] =
    g_signal_new ("device-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, SIGNET_TYPE_DISCOVERED_DEVICE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_DEVICES_CHANGED] =
    g_signal_new ("devices-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 0);
}

static void
signet_ble_monitor_init (SignetBleMonitor *self)
{
  self->devices = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) signet_discovered_device_unref);
  self->adapters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->cancellable = g_cancellable_new ();
}

SignetBleMonitor *
signet_ble_monitor_new (GDBusConnection *bus)
{
  SignetBleMonitor *self = g_object_new (SIGNET_TYPE_BLE_MONITOR, NULL);

  if (bus != NULL)
    self->given_bus = g_object_ref (bus);
  return self;
}

void
signet_ble_monitor_start (SignetBleMonitor *self)
{
  g_return_if_fail (SIGNET_IS_BLE_MONITOR (self));

  if (self->started)
    return;
  self->started = TRUE;
  if (self->given_bus != NULL)
    {
      self->bus = g_object_ref (self->given_bus);
      watch (self);
    }
  else
    g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, on_bus, g_object_ref (self));
}

void
signet_ble_monitor_stop (SignetBleMonitor *self)
{
  g_return_if_fail (SIGNET_IS_BLE_MONITOR (self));

  if (!self->started)
    return;
  g_debug ("BLE discovery stopped");
  unwatch (self);
  remove_all (self);
  set_status (self, FALSE, NULL);
}

GPtrArray *
signet_ble_monitor_dup_devices (SignetBleMonitor *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) signet_discovered_device_unref);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (SIGNET_IS_BLE_MONITOR (self), out);
  g_hash_table_iter_init (&iter, self->devices);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (out, signet_discovered_device_ref (value));
  return out;
}

const char *
signet_ble_monitor_get_status (SignetBleMonitor *self)
{
  g_return_val_if_fail (SIGNET_IS_BLE_MONITOR (self), NULL);
  return self->status;
}

gboolean
signet_ble_monitor_get_available (SignetBleMonitor *self)
{
  g_return_val_if_fail (SIGNET_IS_BLE_MONITOR (self), FALSE);
  return self->available;
}
