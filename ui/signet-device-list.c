/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device-list.c: see signet-device-list.h.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>

#include "signet-device-list.h"
#include "signet-device-row.h"
#include "signet-ui-util.h"

struct _SignetDeviceList
{
  GtkWidget parent_instance;

  GtkSearchEntry *search_entry;
  GtkStack *stack;
  GtkListView *list_view;
  GtkRevealer *ble_revealer;
  GtkWidget *ble_box;
  GtkLabel *ble_label;

  GListStore *store;
  GtkCustomFilter *filter;
  SignetDeviceMonitor *monitor;
};

G_DEFINE_FINAL_TYPE (SignetDeviceList, signet_device_list, GTK_TYPE_WIDGET)

enum {
  SIGNAL_DEVICE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
update_stack (SignetDeviceList *self)
{
  gtk_stack_set_visible_child_name (self->stack,
                                    g_list_model_get_n_items (G_LIST_MODEL (self->store)) > 0
                                    ? "list" : "empty");
}

static gboolean
filter_func (gpointer item,
             gpointer user_data)
{
  SignetDeviceList *self = user_data;

  return signet_device_matches (SIGNET_DEVICE (item),
                                gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
}

static SignetDevice *
find_by_path (SignetDeviceList *self,
              const char       *path,
              guint            *out_position)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->store));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SignetDevice) d = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      if (g_strcmp0 (signet_device_get_path (d), path) == 0)
        {
          if (out_position != NULL)
            *out_position = i;
          return d;   /* the store keeps it */
        }
    }
  return NULL;
}

/* The discovered device info (a USB tty or a BLE device) that d came
 * from is info's device: USB ttys are known by their sysfs path while
 * plugged in, BLE devices by BlueZ's object path (they have no sysfs
 * path: comparing those would take any BLE device for any other). */
static gboolean
same_discovered (SignetDevice           *d,
                 SignetDiscoveredDevice *info)
{
  SignetDiscoveredDevice *mine = signet_device_get_discovered (d);

  if (mine == NULL)
    return FALSE;
  if (mine == info)
    return TRUE;
  if (g_strcmp0 (signet_discovered_device_get_transport (mine),
                 signet_discovered_device_get_transport (info)) != 0)
    return FALSE;
  if (signet_discovered_device_get_sysfs_path (info) != NULL)
    return g_strcmp0 (signet_discovered_device_get_sysfs_path (mine),
                      signet_discovered_device_get_sysfs_path (info)) == 0;
  return g_strcmp0 (signet_discovered_device_get_device_node (mine),
                    signet_discovered_device_get_device_node (info)) == 0;
}

static void
device_changed_cb (SignetDeviceList *self)
{
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
append_device (SignetDeviceList *self,
               SignetDevice     *device)
{
  g_signal_connect_object (device, "changed", G_CALLBACK (device_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_list_store_append (self->store, device);
  update_stack (self);
}

/* ---- the monitor -------------------------------------------------------- */

static void
monitor_added_cb (SignetDeviceMonitor    *monitor,
                  SignetDiscoveredDevice *info,
                  SignetDeviceList       *self)
{
  g_autoptr(SignetDevice) device = NULL;
  const char *node = signet_discovered_device_get_device_node (info);
  SignetDevice *old;
  guint pos = 0;

  /* the same node again (re-plugged): the old item is stale */
  old = find_by_path (self, node, &pos);
  if (old != NULL)
    {
      signet_device_set_removed (old);
      g_list_store_remove (self->store, pos);
    }
  device = signet_device_new_discovered (info);
  append_device (self, device);
}

static void
monitor_removed_cb (SignetDeviceMonitor    *monitor,
                    SignetDiscoveredDevice *info,
                    SignetDeviceList       *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->store));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SignetDevice) d = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      if (same_discovered (d, info))
        {
          signet_device_set_removed (d);
          g_list_store_remove (self->store, i);
          break;
        }
    }
  update_stack (self);
}

/* A BLE device's RSSI or name changed (the info is the same, updated). */
static void
monitor_changed_cb (SignetDeviceMonitor    *monitor,
                    SignetDiscoveredDevice *info,
                    SignetDeviceList       *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->store));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SignetDevice) d = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      if (same_discovered (d, info))
        {
          signet_device_discovered_changed (d);
          break;
        }
    }
}

/* Why there are no BLE devices, if there is a reason: BlueZ not running,
 * no adapter, discovery refused (the monitor's "ble-status", in core's
 * words), or scanning turned off in the preferences. */
static void
update_ble_status (SignetDeviceList *self)
{
  const char *status;
  g_autofree char *text = NULL;
  gboolean enabled;

  if (self->monitor == NULL)
    return;
  status = signet_device_monitor_get_ble_status (self->monitor);
  enabled = signet_device_monitor_get_ble_enabled (self->monitor);
  if (!enabled)
    text = g_strdup (_("Bluetooth LE scanning is off (Preferences)"));
  else if (status != NULL)
    /* TRANSLATORS: %s says why Bluetooth LE devices cannot be found
     * (from the system: "BlueZ is not running …") */
    text = g_strdup_printf (_("Bluetooth: %s"), status);
  if (text != NULL)
    signet_ui_label_set_text (self->ble_label, _("Bluetooth Status"), text);
  if (enabled)
    gtk_widget_remove_css_class (self->ble_box, "off");
  else
    gtk_widget_add_css_class (self->ble_box, "off");
  gtk_revealer_set_reveal_child (self->ble_revealer, text != NULL);
  /* an unrevealed child stays in the accessibility tree: hide it too */
  gtk_widget_set_visible (self->ble_box, text != NULL);
}

/* ---- the list ----------------------------------------------------------- */

static void
row_activated_cb (SignetDeviceRow  *row,
                  SignetDevice     *device,
                  SignetDeviceList *self)
{
  g_signal_emit (self, signals[SIGNAL_DEVICE_ACTIVATED], 0, device);
}

static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          SignetDeviceList         *self)
{
  GtkWidget *row = signet_device_row_new ();

  g_signal_connect_object (row, "activated", G_CALLBACK (row_activated_cb), self, 0);
  gtk_list_item_set_child (item, row);
  /* the row's button takes the focus and the activation */
  gtk_list_item_set_activatable (item, FALSE);
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *item,
         SignetDeviceList         *self)
{
  signet_device_row_set_device (SIGNET_DEVICE_ROW (gtk_list_item_get_child (item)),
                                SIGNET_DEVICE (gtk_list_item_get_item (item)));
}

static void
unbind_cb (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           SignetDeviceList         *self)
{
  signet_device_row_set_device (SIGNET_DEVICE_ROW (gtk_list_item_get_child (item)), NULL);
}

/* ---- adding a serial port ----------------------------------------------- */

static void
serial_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    SignetDeviceList *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "signet-entry");
  g_autofree char *path = NULL;

  if (g_strcmp0 (response, "add") != 0)
    return;
  path = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  if (*path != '\0')
    signet_device_list_add_serial_port (self, path);
}

static void
serial_entry_changed_cb (GtkEditable      *entry,
                         AdwMessageDialog *dialog)
{
  const char *text = gtk_editable_get_text (entry);

  adw_message_dialog_set_response_enabled (dialog, "add", g_path_is_absolute (text));
}

static void
serial_entry_activate_cb (GtkEntry         *entry,
                          AdwMessageDialog *dialog)
{
  if (adw_message_dialog_get_response_enabled (dialog, "add"))
    adw_message_dialog_response (dialog, "add");
}

void
signet_device_list_ask_serial_port (SignetDeviceList *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  AdwMessageDialog *dialog;
  GtkWidget *entry;

  g_return_if_fail (SIGNET_IS_DEVICE_LIST (self));

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root)
                                                       : NULL,
                                                       _("Add Serial Port"),
                                                       _("The path of a tty that a Signet "
                                                         "device is on: a USB serial port "
                                                         "(/dev/ttyACM0) or a simulator’s "
                                                         "pseudo-terminal (/dev/pts/3)")));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "add", _("_Add"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "add", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_response_enabled (dialog, "add", FALSE);
  adw_message_dialog_set_default_response (dialog, "add");
  adw_message_dialog_set_close_response (dialog, "cancel");
  entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), "/dev/ttyACM0");
  signet_ui_set_accessible_label (entry, _("Serial Port"));
  g_signal_connect (entry, "changed", G_CALLBACK (serial_entry_changed_cb), dialog);
  g_signal_connect (entry, "activate", G_CALLBACK (serial_entry_activate_cb), dialog);
  adw_message_dialog_set_extra_child (dialog, entry);
  g_object_set_data (G_OBJECT (dialog), "signet-entry", entry);
  g_signal_connect_object (dialog, "response", G_CALLBACK (serial_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  signet_ui_fix_accessible_names (GTK_WIDGET (dialog));
  gtk_widget_grab_focus (entry);
}

/* ---- template callbacks ------------------------------------------------- */

static void
search_changed_cb (SignetDeviceList *self)
{
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
add_clicked_cb (SignetDeviceList *self)
{
  signet_device_list_ask_serial_port (self);
}

/* ---- GObject ------------------------------------------------------------ */

static void
signet_device_list_dispose (GObject *object)
{
  SignetDeviceList *self = SIGNET_DEVICE_LIST (object);

  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);
  gtk_widget_dispose_template (GTK_WIDGET (self), SIGNET_TYPE_DEVICE_LIST);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (signet_device_list_parent_class)->dispose (object);
}

static void
signet_device_list_class_init (SignetDeviceListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_device_list_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/signet-device-list.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceList, search_entry);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceList, stack);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceList, list_view);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceList, ble_revealer);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceList, ble_box);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceList, ble_label);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, add_clicked_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);

  signals[SIGNAL_DEVICE_ACTIVATED] =
    g_signal_new ("device-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                  NULL, NULL, G_TYPE_NONE, 1, SIGNET_TYPE_DEVICE);
}

static void
signet_device_list_init (SignetDeviceList *self)
{
  GtkListItemFactory *factory;
  GtkFilterListModel *filtered;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->store = g_list_store_new (SIGNET_TYPE_DEVICE);
  self->filter = gtk_custom_filter_new (filter_func, self, NULL);
  filtered = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->store)),
                                        GTK_FILTER (self->filter));
  gtk_list_view_set_model (self->list_view,
                           GTK_SELECTION_MODEL (gtk_no_selection_new (G_LIST_MODEL (filtered))));
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_cb), self);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self->list_view));
  update_stack (self);
}

void
signet_device_list_set_monitor (SignetDeviceList    *self,
                                SignetDeviceMonitor *monitor)
{
  g_autoptr(GPtrArray) present = NULL;

  g_return_if_fail (SIGNET_IS_DEVICE_LIST (self));
  g_return_if_fail (SIGNET_IS_DEVICE_MONITOR (monitor));

  if (self->monitor != NULL)
    return;
  self->monitor = g_object_ref (monitor);
  g_signal_connect (monitor, "device-added", G_CALLBACK (monitor_added_cb), self);
  g_signal_connect (monitor, "device-removed", G_CALLBACK (monitor_removed_cb), self);
  g_signal_connect (monitor, "device-changed", G_CALLBACK (monitor_changed_cb), self);
  g_signal_connect_swapped (monitor, "notify::ble-status", G_CALLBACK (update_ble_status), self);
  /* a monitor started by another window already knows its devices */
  present = signet_device_monitor_dup_devices (monitor);
  for (guint i = 0; i < present->len; i++)
    monitor_added_cb (monitor, g_ptr_array_index (present, i), self);
  signet_device_monitor_start (monitor);
  update_ble_status (self);
}

SignetDevice *
signet_device_list_add_serial_port (SignetDeviceList *self,
                                    const char       *path)
{
  g_autoptr(SignetDevice) device = NULL;
  SignetDevice *old;

  g_return_val_if_fail (SIGNET_IS_DEVICE_LIST (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  old = find_by_path (self, path, NULL);
  if (old != NULL && signet_device_get_present (old))
    {
      g_signal_emit (self, signals[SIGNAL_DEVICE_ACTIVATED], 0, old);
      return old;
    }
  device = signet_device_new_serial (path);
  append_device (self, device);
  g_signal_emit (self, signals[SIGNAL_DEVICE_ACTIVATED], 0, device);
  return device;
}

void
signet_device_list_focus_search (SignetDeviceList *self)
{
  g_return_if_fail (SIGNET_IS_DEVICE_LIST (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

void
signet_device_list_disconnect_all (SignetDeviceList *self)
{
  guint n;

  g_return_if_fail (SIGNET_IS_DEVICE_LIST (self));

  n = g_list_model_get_n_items (G_LIST_MODEL (self->store));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(SignetDevice) d = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      signet_device_disconnect (d);
    }
}
