/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device-row.c: see signet-device-row.h.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "signet-device-row.h"
#include "signet-ui-util.h"

struct _SignetDeviceRow
{
  GtkWidget parent_instance;

  GtkButton *button;
  GtkImage *transport_icon;
  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  GtkWidget *signal_box;
  GtkImage *signal_icon;
  GtkLabel *signal_label;
  GtkSpinner *spinner;
  GtkLabel *badge;

  SignetDevice *device;
  gulong notify_id;
};

G_DEFINE_FINAL_TYPE (SignetDeviceRow, signet_device_row, GTK_TYPE_WIDGET)

enum {
  SIGNAL_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

const char *
signet_attestation_label (SignetAttestation attestation)
{
  switch (attestation)
    {
    case SIGNET_ATTESTATION_TRUSTED:
      return _("Trusted");
    case SIGNET_ATTESTATION_REFUSED:
      return _("Refused");
    case SIGNET_ATTESTATION_UNKNOWN:
    default:
      return _("Not attested");
    }
}

static void
update (SignetDeviceRow *self)
{
  SignetAttestation att;
  g_autofree char *name = NULL;
  const char *kind;
  gboolean ble;

  if (self->device == NULL)
    return;
  att = signet_device_get_attestation (self->device);
  kind = signet_device_get_transport_kind (self->device);
  ble = g_strcmp0 (kind, "ble") == 0;
  gtk_label_set_text (self->title_label, signet_device_get_title (self->device));
  gtk_label_set_text (self->subtitle_label, signet_device_get_subtitle (self->device));
  gtk_image_set_from_icon_name (self->transport_icon,
                                g_strcmp0 (kind, "usb") == 0 ? "media-removable-symbolic"
                                : g_strcmp0 (kind, "ble") == 0 ? "bluetooth-active-symbolic"
                                : "utilities-terminal-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->transport_icon),
                               g_strcmp0 (kind, "usb") == 0 ? _("USB")
                               : g_strcmp0 (kind, "ble") == 0 ? _("Bluetooth LE")
                               : _("Serial port"));
  gtk_label_set_text (self->badge, signet_attestation_label (att));
  gtk_widget_remove_css_class (GTK_WIDGET (self->badge), "trusted");
  gtk_widget_remove_css_class (GTK_WIDGET (self->badge), "refused");
  gtk_widget_remove_css_class (GTK_WIDGET (self->badge), "unknown");
  gtk_widget_add_css_class (GTK_WIDGET (self->badge),
                            att == SIGNET_ATTESTATION_TRUSTED ? "trusted"
                            : att == SIGNET_ATTESTATION_REFUSED ? "refused" : "unknown");
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), signet_device_get_busy (self->device));
  gtk_spinner_set_spinning (self->spinner, signet_device_get_busy (self->device));
  gtk_widget_set_sensitive (GTK_WIDGET (self->button), signet_device_get_present (self->device));

  gtk_widget_set_visible (self->signal_box, ble);
  if (ble)
    {
      gint rssi = signet_device_get_rssi (self->device);
      g_autofree char *signal = signet_ui_format_signal (rssi);
      g_autofree char *dbm = signet_ui_format_dbm (rssi);

      gtk_image_set_from_icon_name (self->signal_icon, signet_ui_signal_icon (rssi));
      gtk_label_set_text (self->signal_label, dbm);
      /* TRANSLATORS: the tooltip of a BLE device's signal strength,
       * "Signal: Good (−67 dBm)" */
      name = g_strdup_printf (_("Signal: %s"), signal);
      gtk_widget_set_tooltip_text (self->signal_box, name);
      g_clear_pointer (&name, g_free);
      /* TRANSLATORS: the accessible name of a Bluetooth LE device row:
       * model, serial and address, transport ("Bluetooth LE"), signal
       * strength ("Good (−67 dBm)"), attestation state */
      name = g_strdup_printf (_("%s, %s, %s, signal %s, %s"),
                              signet_device_get_title (self->device),
                              signet_device_get_subtitle (self->device),
                              _("Bluetooth LE"), signal, signet_attestation_label (att));
    }
  else
    /* TRANSLATORS: the accessible name of a device row: model, serial and
     * port, attestation state */
    name = g_strdup_printf (_("%s, %s, %s"), signet_device_get_title (self->device),
                            signet_device_get_subtitle (self->device),
                            signet_attestation_label (att));
  signet_ui_set_accessible_label (GTK_WIDGET (self->button), name);
}

static void
clicked_cb (SignetDeviceRow *self)
{
  if (self->device != NULL)
    g_signal_emit (self, signals[SIGNAL_ACTIVATED], 0, self->device);
}

static void
signet_device_row_dispose (GObject *object)
{
  SignetDeviceRow *self = SIGNET_DEVICE_ROW (object);

  signet_device_row_set_device (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), SIGNET_TYPE_DEVICE_ROW);
  G_OBJECT_CLASS (signet_device_row_parent_class)->dispose (object);
}

static void
signet_device_row_class_init (SignetDeviceRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_device_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/signet-device-row.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceRow, button);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceRow, transport_icon);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceRow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceRow, signal_box);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceRow, signal_icon);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceRow, signal_label);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceRow, spinner);
  gtk_widget_class_bind_template_child (widget_class, SignetDeviceRow, badge);
  gtk_widget_class_bind_template_callback (widget_class, clicked_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);

  signals[SIGNAL_ACTIVATED] = g_signal_new ("activated", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 1, SIGNET_TYPE_DEVICE);
}

static void
signet_device_row_init (SignetDeviceRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
signet_device_row_new (void)
{
  return g_object_new (SIGNET_TYPE_DEVICE_ROW, NULL);
}

void
signet_device_row_set_device (SignetDeviceRow *self,
                              SignetDevice    *device)
{
  g_return_if_fail (SIGNET_IS_DEVICE_ROW (self));

  if (self->device == device)
    return;
  if (self->device != NULL)
    g_clear_signal_handler (&self->notify_id, self->device);
  g_set_object (&self->device, device);
  if (device != NULL)
    self->notify_id = g_signal_connect_swapped (device, "notify", G_CALLBACK (update), self);
  update (self);
}

SignetDevice *
signet_device_row_get_device (SignetDeviceRow *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE_ROW (self), NULL);

  return self->device;
}
