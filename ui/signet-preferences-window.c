/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-preferences-window.c: see signet-preferences-window.h.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "signet-preferences-window.h"

struct _SignetPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  AdwEntryRow *url_row;
  AdwActionRow *ca_row;
  AdwActionRow *state_row;
  AdwActionRow *bluetooth_row;
  GtkSwitch *bluetooth_switch;

  SignetApplication *app;
};

G_DEFINE_FINAL_TYPE (SignetPreferencesWindow, signet_preferences_window,
                     ADW_TYPE_PREFERENCES_WINDOW)

static void
url_applied_cb (SignetPreferencesWindow *self)
{
  g_autofree char *url = g_strstrip (g_strdup (gtk_editable_get_text (
                                                 GTK_EDITABLE (self->url_row))));

  if (self->app == NULL)
    return;
  if (*url != '\0' && !g_str_has_prefix (url, "https://"))
    {
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                        adw_toast_new (_("The address starts with https://")));
      return;
    }
  signet_application_remember_service_url (self->app, url);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self),
                                    adw_toast_new (_("Used at the next sign-in")));
}

static void
signet_preferences_window_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), SIGNET_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (signet_preferences_window_parent_class)->dispose (object);
}

static void
signet_preferences_window_class_init (SignetPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (
    widget_class, "/org/signet/Signet/signet-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetPreferencesWindow, url_row);
  gtk_widget_class_bind_template_child (widget_class, SignetPreferencesWindow, ca_row);
  gtk_widget_class_bind_template_child (widget_class, SignetPreferencesWindow, state_row);
  gtk_widget_class_bind_template_child (widget_class, SignetPreferencesWindow, bluetooth_row);
  gtk_widget_class_bind_template_child (widget_class, SignetPreferencesWindow, bluetooth_switch);
  gtk_widget_class_bind_template_callback (widget_class, url_applied_cb);
}

static void
signet_preferences_window_init (SignetPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

SignetPreferencesWindow *
signet_preferences_window_new (SignetApplication *app)
{
  SignetPreferencesWindow *self;
  g_autofree char *url = NULL;
  g_autofree char *ca = NULL;

  g_return_val_if_fail (SIGNET_IS_APPLICATION (app), NULL);

  self = g_object_new (SIGNET_TYPE_PREFERENCES_WINDOW, NULL);
  /* the application follows the setting (its monitor starts and stops
   * BLE discovery) */
  gtk_switch_set_active (self->bluetooth_switch,
                         signet_device_monitor_get_ble_enabled (signet_application_get_monitor (app)));
  if (signet_application_get_settings (app) != NULL)
    g_settings_bind (signet_application_get_settings (app), "bluetooth", self->bluetooth_switch,
                     "active", G_SETTINGS_BIND_DEFAULT);
  else
    gtk_widget_set_sensitive (GTK_WIDGET (self->bluetooth_row), FALSE);
  self->app = app;
  url = signet_application_dup_service_url (app);
  ca = signet_application_dup_service_ca (app);
  gtk_editable_set_text (GTK_EDITABLE (self->url_row), url != NULL ? url : "");
  adw_action_row_set_subtitle (self->ca_row, ca != NULL && *ca != '\0' ? ca
                               : _("Not imported: import it on the sign-in page"));
  adw_action_row_set_subtitle (self->state_row, signet_application_get_state_dir (app));
  if (signet_application_get_service_overridden (app))
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->url_row),
                                   _("Service Address (set on the command line for this run)"));
  return self;
}
