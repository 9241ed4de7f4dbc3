/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device-page.c: see signet-device-page.h.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>

#include "signet-apply-view.h"
#include "signet-ble-transport.h"
#include "signet-device-page.h"
#include "signet-device-row.h"
#include "signet-ui-util.h"

struct _SignetDevicePage
{
  GtkWidget parent_instance;

  /* template */
  GtkStack *page_stack;
  GtkButton *back_button;
  GtkLabel *title_label;
  GtkSpinner *spinner;
  GtkStack *content_stack;
  GtkWidget *error_box;
  GtkLabel *error_label;
  AdwActionRow *model_row;
  AdwActionRow *serial_row;
  AdwActionRow *port_row;
  AdwPreferencesGroup *ble_group;
  AdwActionRow *address_row;
  AdwActionRow *signal_row;
  GtkImage *signal_icon;
  AdwActionRow *mtu_row;
  AdwActionRow *link_row;
  AdwActionRow *attestation_row;
  GtkImage *attestation_icon;
  GtkButton *reattest_button;
  AdwExpanderRow *certificate_row;
  GtkLabel *fingerprint_label;
  AdwActionRow *firmware_row;
  AdwActionRow *config_version_row;
  AdwPreferencesGroup *config_group;
  GtkButton *apply_button;
  SignetApplyView *apply_view;

  SignetSession *session;
  SignetDevice *device;
  gulong changed_id;
  gulong busy_id;
  GPtrArray *config_rows;
  GCancellable *cancellable;
};

G_DEFINE_FINAL_TYPE (SignetDevicePage, signet_device_page, GTK_TYPE_WIDGET)

enum {
  SIGNAL_BACK,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_row_value (AdwActionRow *row,
               const char   *value)
{
  adw_action_row_set_subtitle (row, value != NULL ? value : "—");
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  value != NULL ? value : "", -1);
}

static void
update_config (SignetDevicePage *self)
{
  GVariant *config = self->device != NULL ? signet_device_get_config (self->device) : NULL;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  for (guint i = 0; i < self->config_rows->len; i++)
    adw_preferences_group_remove (self->config_group, g_ptr_array_index (self->config_rows, i));
  g_ptr_array_set_size (self->config_rows, 0);
  if (config == NULL)
    return;
  g_variant_iter_init (&iter, config);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *text = signet_ui_value_to_string (value);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), key);
      set_row_value (ADW_ACTION_ROW (row), text);
#if ADW_CHECK_VERSION (1, 3, 0)
      adw_action_row_set_subtitle_selectable (ADW_ACTION_ROW (row), TRUE);
#endif
      adw_preferences_group_add (self->config_group, row);
      g_ptr_array_add (self->config_rows, row);
      g_variant_unref (value);
    }
}

/* BLE: the address, the signal, and once open the ATT MTU and whether
 * the messages go over GATT alone or an L2CAP channel too. */
static void
update_ble (SignetDevicePage *self)
{
  gboolean ble = g_strcmp0 (signet_device_get_transport_kind (self->device), "ble") == 0;
  SignetTransport *transport = signet_device_get_transport (self->device);
  gint rssi = signet_device_get_rssi (self->device);
  g_autofree char *signal = NULL;
  g_autofree char *mtu = NULL;
  const char *link = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->ble_group), ble);
  if (!ble)
    return;
  set_row_value (self->address_row, signet_device_get_address (self->device));
  signal = signet_ui_format_signal (rssi);
  set_row_value (self->signal_row, signal);
  gtk_image_set_from_icon_name (self->signal_icon, signet_ui_signal_icon (rssi));
  if (SIGNET_IS_BLE_TRANSPORT (transport) && signet_transport_is_connected (transport) &&
      signet_ble_transport_get_att_mtu (SIGNET_BLE_TRANSPORT (transport)) > 0)
    {
      SignetBleTransport *ble_transport = SIGNET_BLE_TRANSPORT (transport);

      mtu = g_strdup_printf ("%u", signet_ble_transport_get_att_mtu (ble_transport));
      if (signet_transport_get_capabilities (transport) & SIGNET_TRANSPORT_CAPABILITY_BULK_CHANNEL)
        link = _("GATT and an L2CAP channel");
      else if (signet_ble_transport_get_acquired (ble_transport))
        /* TRANSLATORS: BlueZ gave sockets for the GATT characteristics
         * (AcquireWrite/AcquireNotify); no L2CAP channel */
        link = _("GATT (sockets), no L2CAP channel");
      else
        /* TRANSLATORS: GATT through D-Bus calls (WriteValue/StartNotify) */
        link = _("GATT (D-Bus calls), no L2CAP channel");
    }
  set_row_value (self->mtu_row, mtu);
  set_row_value (self->link_row, link);
}

static void
update (SignetDevicePage *self)
{
  const SignetDeviceInfo *info;
  SignetAttestation att;
  const char *fingerprint = NULL;
  g_autofree char *port = NULL;
  g_autofree char *version = NULL;
  gboolean busy;

  if (self->device == NULL)
    {
      gtk_stack_set_visible_child_name (self->page_stack, "none");
      return;
    }
  gtk_stack_set_visible_child_name (self->page_stack, "device");
  info = signet_device_get_info (self->device);
  att = signet_device_get_attestation (self->device);
  busy = signet_device_get_busy (self->device);

  gtk_label_set_text (self->title_label, signet_device_get_title (self->device));
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  set_row_value (self->model_row, info != NULL ? info->model : signet_device_get_title (self->device));
  set_row_value (self->serial_row, signet_device_get_serial (self->device));
  /* TRANSLATORS: transport and port, "USB: /dev/ttyACM0" */
  port = g_strdup_printf (_("%s: %s"),
                          g_strcmp0 (signet_device_get_transport_kind (self->device), "usb") == 0
                          ? _("USB")
                          : g_strcmp0 (signet_device_get_transport_kind (self->device), "ble") == 0
                          ? _("Bluetooth LE") : _("Serial port"),
                          signet_device_get_address (self->device) != NULL
                          ? signet_device_get_address (self->device)
                          : signet_device_get_path (self->device));
  set_row_value (self->port_row, port);
  update_ble (self);

  switch (att)
    {
    case SIGNET_ATTESTATION_TRUSTED:
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->attestation_row),
                                     _("Trusted device"));
      gtk_image_set_from_icon_name (self->attestation_icon, "security-high-symbolic");
      break;
    case SIGNET_ATTESTATION_REFUSED:
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->attestation_row),
                                     _("Refused: do not work on this device"));
      gtk_image_set_from_icon_name (self->attestation_icon, "security-low-symbolic");
      break;
    case SIGNET_ATTESTATION_UNKNOWN:
    default:
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->attestation_row),
                                     busy ? _("Attesting…") : _("Not attested yet"));
      gtk_image_set_from_icon_name (self->attestation_icon, "security-medium-symbolic");
      break;
    }
  set_row_value (self->attestation_row, signet_device_get_attestation_message (self->device));
  gtk_widget_set_sensitive (GTK_WIDGET (self->reattest_button), !busy);

  if (signet_device_get_session (self->device) != NULL && att == SIGNET_ATTESTATION_TRUSTED)
    fingerprint = signet_device_session_get_cert_fingerprint (signet_device_get_session (
                                                                self->device));
  if (fingerprint != NULL)
    {
      g_autofree char *grouped = signet_ui_group_hex (fingerprint);

      gtk_label_set_text (self->fingerprint_label, grouped);
      adw_expander_row_set_subtitle (self->certificate_row, _("Chain verified to a manufacturer "
                                                              "CA of the service"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->fingerprint_label),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, fingerprint, -1);
    }
  else
    {
      gtk_label_set_text (self->fingerprint_label, "—");
      adw_expander_row_set_subtitle (self->certificate_row, "");
    }

  set_row_value (self->firmware_row, info != NULL ? info->firmware : NULL);
  if (info != NULL)
    version = g_strdup_printf ("%" G_GUINT64_FORMAT, info->config_version);
  set_row_value (self->config_version_row, version);
  update_config (self);

  gtk_widget_set_sensitive (GTK_WIDGET (self->apply_button),
                            !busy && att == SIGNET_ATTESTATION_TRUSTED &&
                            signet_device_get_present (self->device) &&
                            signet_device_get_config (self->device) != NULL);
}

static void
show_error (SignetDevicePage *self,
            const char       *text)
{
  gtk_label_set_text (self->error_label, text != NULL ? text : "");
  gtk_widget_set_visible (self->error_box, text != NULL);
}

static void
connected_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SignetDevicePage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!signet_device_connect_finish (SIGNET_DEVICE (source), result, &error))
    {
      g_autofree char *text = NULL;

      if (SIGNET_DEVICE (source) != self->device)
        return;
      text = signet_ui_describe_error (error);
      show_error (self, text);
    }
  update (self);
}

static void
connect_device (SignetDevicePage *self)
{
  if (self->device == NULL || self->session == NULL ||
      signet_session_get_state (self->session) != SIGNET_SESSION_STATE_SIGNED_IN ||
      signet_device_get_busy (self->device))
    return;
  show_error (self, NULL);
  signet_device_connect_async (self->device, self->session, self->cancellable, connected_cb,
                               g_object_ref (self));
  update (self);
}

/* ---- template callbacks ------------------------------------------------- */

static void
back_clicked_cb (SignetDevicePage *self)
{
  g_signal_emit (self, signals[SIGNAL_BACK], 0);
}

static void
retry_clicked_cb (SignetDevicePage *self)
{
  connect_device (self);
}

static void
reattest_clicked_cb (SignetDevicePage *self)
{
  if (self->device == NULL)
    return;
  signet_device_reattest (self->device);
  connect_device (self);
}

static void
apply_clicked_cb (SignetDevicePage *self)
{
  if (self->device == NULL || self->session == NULL)
    return;
  signet_apply_view_start (self->apply_view, self->session, self->device);
  gtk_stack_set_visible_child_name (self->content_stack, "apply");
}

static void
refreshed_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(SignetDevicePage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!signet_device_refresh_config_finish (SIGNET_DEVICE (source), result, &error) &&
      SIGNET_DEVICE (source) == self->device)
    {
      g_autofree char *text = signet_ui_describe_error (error);

      show_error (self, text);
    }
  update (self);
}

static void
apply_finished_cb (SignetDevicePage *self)
{
  gtk_stack_set_visible_child_name (self->content_stack, "info");
  gtk_widget_grab_focus (GTK_WIDGET (self->apply_button));
  /* what the device runs may have changed: READ it again */
  if (self->device != NULL && !signet_device_get_busy (self->device))
    signet_device_refresh_config_async (self->device, self->cancellable, refreshed_cb,
                                        g_object_ref (self));
}

/* ---- GObject ------------------------------------------------------------ */

static void
signet_device_page_dispose (GObject *object)
{
  SignetDevicePage *self = SIGNET_DEVICE_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  signet_device_page_set_device (self, NULL);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), SIGNET_TYPE_DEVICE_PAGE);
  G_OBJECT_CLASS (signet_device_page_parent_class)->dispose (object);
}

static void
signet_device_page_finalize (GObject *object)
{
  SignetDevicePage *self = SIGNET_DEVICE_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->config_rows, g_ptr_array_unref);
  G_OBJECT_CLASS (signet_device_page_parent_class)->finalize (object);
}

static void
signet_device_page_class_init (SignetDevicePageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_device_page_dispose;
  object_class->finalize = signet_device_page_finalize;

  g_type_ensure (SIGNET_TYPE_APPLY_VIEW);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/signet-device-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, page_stack);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, back_button);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, title_label);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, spinner);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, error_box);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, error_label);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, model_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, serial_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, port_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, ble_group);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, address_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, signal_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, signal_icon);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, mtu_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, link_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, attestation_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, attestation_icon);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, reattest_button);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, certificate_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, fingerprint_label);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, firmware_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, config_version_row);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, config_group);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, apply_button);
  gtk_widget_class_bind_template_child (widget_class, SignetDevicePage, apply_view);
  gtk_widget_class_bind_template_callback (widget_class, back_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, retry_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, reattest_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, apply_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, apply_finished_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);

  signals[SIGNAL_BACK] = g_signal_new ("back", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                       NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
signet_device_page_init (SignetDevicePage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->config_rows = g_ptr_array_new ();
  self->cancellable = g_cancellable_new ();
  update (self);
}

void
signet_device_page_set_session (SignetDevicePage *self,
                                SignetSession    *session)
{
  g_return_if_fail (SIGNET_IS_DEVICE_PAGE (self));

  g_set_object (&self->session, session);
}

void
signet_device_page_set_device (SignetDevicePage *self,
                               SignetDevice     *device)
{
  g_return_if_fail (SIGNET_IS_DEVICE_PAGE (self));

  if (self->device == device)
    {
      if (device != NULL && signet_device_get_config (device) == NULL)
        connect_device (self);
      return;
    }
  if (self->device != NULL)
    {
      g_clear_signal_handler (&self->changed_id, self->device);
      g_clear_signal_handler (&self->busy_id, self->device);
    }
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_set_object (&self->device, device);
  if (device != NULL)
    {
      self->changed_id = g_signal_connect_swapped (device, "changed", G_CALLBACK (update), self);
      self->busy_id = g_signal_connect_swapped (device, "notify", G_CALLBACK (update), self);
    }
  gtk_stack_set_visible_child_name (self->content_stack, "info");
  show_error (self, NULL);
  update (self);
  if (device != NULL && signet_device_get_config (device) == NULL)
    connect_device (self);
}

void
signet_device_page_set_show_back (SignetDevicePage *self,
                                  gboolean          show_back)
{
  g_return_if_fail (SIGNET_IS_DEVICE_PAGE (self));

  gtk_widget_set_visible (GTK_WIDGET (self->back_button), show_back);
}
