/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-application.c: see signet-application.h.
 */
#include "config.h"

#include <errno.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "signet-application.h"
#include "signet-preferences-window.h"
#include "signet-ui-resources.h"
#include "signet-window.h"

struct _SignetApplication
{
  AdwApplication parent_instance;

  GSettings *settings;             /* NULL without the schema */
  char *url_override;              /* --service / SIGNET_SERVICE_URL */
  char *ca_override;               /* --ca / SIGNET_SERVICE_CA */
  char *state_dir;
  SignetDeviceMonitor *monitor;

  /* the client and session, and what they were made for */
  SignetServiceClient *client;
  SignetSession *session;
  char *session_url;
  char *session_ca;
};

G_DEFINE_FINAL_TYPE (SignetApplication, signet_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static SignetWindow *
get_window (SignetApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL || !SIGNET_IS_WINDOW (window))
    {
      window = GTK_WINDOW (signet_window_new (self));
      gtk_window_set_application (window, GTK_APPLICATION (self));
    }
  return SIGNET_WINDOW (window);
}

/* ---- actions ------------------------------------------------------------ */

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  SignetApplication *self = user_data;
  g_autoptr(GList) windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));

  /* close the windows: each saves its size */
  for (GList *l = windows; l != NULL; l = l->next)
    gtk_window_close (GTK_WINDOW (l->data));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  SignetApplication *self = user_data;
  const char *developers[] = { "The Signet developers", NULL };
  GtkWindow *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (GTK_APPLICATION (self)),
                        "application-icon", SIGNET_APPLICATION_ID,
                        "application-name", _("Signet"),
                        "developer-name", _("The Signet developers"),
                        "version", PACKAGE_VERSION,
                        "comments", _("Signed, attested and logged service work on devices"),
                        "license-type", GTK_LICENSE_LGPL_2_1,
                        "developers", developers,
                        /* TRANSLATORS: put your name here, one per line */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (about);
}

static void
shortcuts_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  SignetApplication *self = user_data;

  gtk_widget_activate_action (GTK_WIDGET (get_window (self)), "win.show-help-overlay", NULL);
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  SignetApplication *self = user_data;
  GtkWindow *prefs = GTK_WINDOW (signet_preferences_window_new (self));

  gtk_window_set_transient_for (prefs, GTK_WINDOW (get_window (self)));
  gtk_window_present (prefs);
}

static void
open_log_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  SignetApplication *self = user_data;
  SignetWindow *window = get_window (self);

  gtk_window_present (GTK_WINDOW (window));
  signet_window_choose_log_file (window);
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = quit_activated },
  { .name = "about", .activate = about_activated },
  { .name = "shortcuts", .activate = shortcuts_activated },
  { .name = "preferences", .activate = preferences_activated },
  { .name = "open-log", .activate = open_log_activated },
};

/* ---- the session -------------------------------------------------------- */

static void
set_session (SignetApplication   *self,
             SignetServiceClient *client,
             SignetSession       *session,
             const char          *url,
             const char          *ca)
{
  g_set_object (&self->client, client);
  g_set_object (&self->session, session);
  g_free (self->session_url);
  self->session_url = g_strdup (url);
  g_free (self->session_ca);
  self->session_ca = g_strdup (ca);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}

typedef struct {
  char *url;
  char *ca;
} Prepare;

static void
prepare_free (gpointer data)
{
  Prepare *p = data;

  g_free (p->url);
  g_free (p->ca);
  g_free (p);
}

static void
ca_loaded_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetApplication *self = g_task_get_source_object (task);
  Prepare *p = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceClient) client = NULL;
  g_autoptr(SignetSession) session = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &len, NULL, &error))
    {
      g_task_return_new_error (task, G_IO_ERROR, error->code,
                               _("Cannot read the CA certificate %s: %s"), p->ca,
                               error->message);
      return;
    }
  /* someone signed in meanwhile (another window): keep that session */
  if (self->session != NULL &&
      signet_session_get_state (self->session) == SIGNET_SESSION_STATE_SIGNED_IN)
    {
      g_task_return_pointer (task, g_object_ref (self->session), g_object_unref);
      return;
    }
  client = signet_service_client_new (p->url, g_bytes_new_take (g_steal_pointer (&contents), len),
                                      &error);
  if (client == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  session = signet_session_new (client, self->state_dir, &error);
  if (session == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  set_session (self, client, session, p->url, p->ca);
  g_task_return_pointer (task, g_object_ref (session), g_object_unref);
}

void
signet_application_prepare_session_async (SignetApplication   *self,
                                          const char          *url,
                                          const char          *ca_path,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GFile) file = NULL;
  Prepare *p;

  g_return_if_fail (SIGNET_IS_APPLICATION (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, signet_application_prepare_session_async);
  if (self->session != NULL &&
      (signet_session_get_state (self->session) == SIGNET_SESSION_STATE_SIGNED_IN ||
       signet_session_get_state (self->session) == SIGNET_SESSION_STATE_SIGNING_IN ||
       (g_strcmp0 (url, self->session_url) == 0 && g_strcmp0 (ca_path, self->session_ca) == 0)))
    {
      g_task_return_pointer (task, g_object_ref (self->session), g_object_unref);
      return;
    }
  if (url == NULL || *url == '\0')
    {
      g_task_return_new_error (task, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST,
                               "%s", _("Enter the address of the service"));
      return;
    }
  if (ca_path == NULL || *ca_path == '\0')
    {
      g_task_return_new_error (task, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_REQUEST,
                               "%s", _("Import the service’s CA certificate first"));
      return;
    }
  p = g_new0 (Prepare, 1);
  p->url = g_strdup (url);
  p->ca = g_strdup (ca_path);
  g_task_set_task_data (task, p, prepare_free);
  file = g_file_new_for_path (ca_path);
  g_file_load_contents_async (file, cancellable, ca_loaded_cb, g_steal_pointer (&task));
}

SignetSession *
signet_application_prepare_session_finish (SignetApplication *self,
                                           GAsyncResult      *result,
                                           GError           **error)
{
  g_autoptr(SignetSession) session = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  session = g_task_propagate_pointer (G_TASK (result), error);
  /* the application keeps it: hand out a borrowed pointer */
  return session;
}

/* ---- importing a CA certificate ----------------------------------------- */

static void
ca_written_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetApplication *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_file_get_path (G_FILE (source));

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "service-ca", path);
  /* what was imported now is what the technician wants, for this run too */
  g_clear_pointer (&self->ca_override, g_free);
  g_task_return_pointer (task, g_steal_pointer (&path), g_free);
}

static void
ca_read_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(SignetServiceClient) probe = NULL;
  g_autoptr(GFile) dest = NULL;
  g_autofree char *dir = NULL;

  contents = g_file_load_bytes_finish (G_FILE (source), result, NULL, &error);
  if (contents == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* the client refuses a file without a PEM certificate: ask it */
  probe = signet_service_client_new ("https://localhost", contents, &error);
  if (probe == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s",
                               _("This file holds no PEM certificate"));
      return;
    }
  dir = g_build_filename (g_get_user_data_dir (), "signet", NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (errsv),
                               _("Cannot create %s: %s"), dir, g_strerror (errsv));
      return;
    }
  dest = g_file_new_build_filename (dir, "service-ca.pem", NULL);
  g_file_replace_contents_bytes_async (dest, contents, NULL, FALSE, G_FILE_CREATE_PRIVATE,
                                       g_task_get_cancellable (task), ca_written_cb,
                                       g_object_ref (task));
}

void
signet_application_import_ca_async (SignetApplication   *self,
                                    GFile               *file,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (SIGNET_IS_APPLICATION (self));
  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, signet_application_import_ca_async);
  g_file_load_bytes_async (file, cancellable, ca_read_cb, task);
}

char *
signet_application_import_ca_finish (SignetApplication *self,
                                     GAsyncResult      *result,
                                     GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- GApplication ------------------------------------------------------- */

static int
signet_application_handle_local_options (GApplication *app,
                                         GVariantDict *options)
{
  SignetApplication *self = SIGNET_APPLICATION (app);
  const char *s = NULL;

  if (g_variant_dict_lookup (options, "version", "b", NULL))
    {
      g_print ("signet %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (g_variant_dict_lookup (options, "service", "&s", &s))
    {
      g_free (self->url_override);
      self->url_override = g_strdup (s);
    }
  if (g_variant_dict_lookup (options, "ca", "^&ay", &s))
    {
      g_autoptr(GFile) file = g_file_new_for_commandline_arg (s);

      g_free (self->ca_override);
      self->ca_override = g_file_get_path (file);
    }
  return G_APPLICATION_CLASS (signet_application_parent_class)->handle_local_options (app,
                                                                                     options);
}

static void
bluetooth_changed_cb (SignetApplication *self)
{
  if (self->monitor != NULL)
    signet_device_monitor_set_ble (self->monitor,
                                   g_settings_get_boolean (self->settings, "bluetooth"), NULL);
}

static void
signet_application_startup (GApplication *app)
{
  SignetApplication *self = SIGNET_APPLICATION (app);
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;
  const char *accels_quit[] = { "<Control>q", NULL };
  const char *accels_shortcuts[] = { "<Control>question", NULL };
  const char *accels_prefs[] = { "<Control>comma", NULL };
  const char *accels_open[] = { "<Control>o", NULL };

  G_APPLICATION_CLASS (signet_application_parent_class)->startup (app);

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, SIGNET_APPLICATION_ID, TRUE);
  if (schema != NULL)
    self->settings = g_settings_new (SIGNET_APPLICATION_ID);
  else
    g_warning ("The settings schema %s is not installed: nothing will be remembered",
               SIGNET_APPLICATION_ID);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions),
                                   self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", accels_quit);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.shortcuts",
                                         accels_shortcuts);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences",
                                         accels_prefs);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.open-log", accels_open);

  self->monitor = signet_device_monitor_new ();
  /* BLE discovery through BlueZ on the system bus, unless the technician
   * turned it off; the switch in the preferences takes effect at once. */
  signet_device_monitor_set_ble (self->monitor,
                                 self->settings == NULL ||
                                 g_settings_get_boolean (self->settings, "bluetooth"),
                                 NULL);
  if (self->settings != NULL)
    g_signal_connect_swapped (self->settings, "changed::bluetooth",
                              G_CALLBACK (bluetooth_changed_cb), self);
}

static void
signet_application_activate (GApplication *app)
{
  SignetApplication *self = SIGNET_APPLICATION (app);

  gtk_window_present (GTK_WINDOW (get_window (self)));
}

static void
signet_application_open (GApplication  *app,
                         GFile        **files,
                         int            n_files,
                         const char    *hint)
{
  SignetApplication *self = SIGNET_APPLICATION (app);
  SignetWindow *window = get_window (self);

  gtk_window_present (GTK_WINDOW (window));
  if (n_files > 0)
    signet_window_open_log_file (window, files[0]);
}

static void
signet_application_shutdown (GApplication *app)
{
  SignetApplication *self = SIGNET_APPLICATION (app);

  GList *windows;

  /* The windows go first: their devices close their links, and a BLE
   * link the app made is disconnected (signet-ble-transport.h). */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL)
    gtk_window_destroy (windows->data);
  /* A session still signed in ends its log here (session.end + seal, on
   * disk: the next sign-in uploads it); the token expires on its own. */
  g_clear_object (&self->session);
  g_clear_object (&self->client);
  /* No main loop runs for the answers to those Disconnect calls now:
   * at least let the calls leave the process before it ends. */
  if (self->monitor != NULL && signet_device_monitor_get_ble_enabled (self->monitor))
    {
      g_autoptr(GDBusConnection) system = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);

      if (system != NULL)
        g_dbus_connection_flush_sync (system, NULL, NULL);
    }
  G_APPLICATION_CLASS (signet_application_parent_class)->shutdown (app);
}

static void
signet_application_finalize (GObject *object)
{
  SignetApplication *self = SIGNET_APPLICATION (object);

  g_clear_object (&self->session);
  g_clear_object (&self->client);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->monitor);
  g_clear_object (&self->settings);
  g_free (self->url_override);
  g_free (self->ca_override);
  g_free (self->state_dir);
  g_free (self->session_url);
  g_free (self->session_ca);
  G_OBJECT_CLASS (signet_application_parent_class)->finalize (object);
}

static void
signet_application_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  SignetApplication *self = SIGNET_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_application_class_init (SignetApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = signet_application_finalize;
  object_class->get_property = signet_application_get_property;

  app_class->handle_local_options = signet_application_handle_local_options;
  app_class->startup = signet_application_startup;
  app_class->activate = signet_application_activate;
  app_class->open = signet_application_open;
  app_class->shutdown = signet_application_shutdown;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, SIGNET_TYPE_SESSION,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The resources live in a static library: referencing them here keeps
   * their object file (and its constructor that registers them). */
  (void) signet_ui_get_resource ();
}

static void
signet_application_init (SignetApplication *self)
{
  const GOptionEntry entries[] = {
    { "service", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("The token service for this run (https://HOST:PORT)"), N_("URL") },
    { "ca", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("The service’s CA certificate (PEM) for this run"), N_("FILE") },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
    { NULL }
  };
  const char *env;

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[LOG-FILE]"));

  env = g_getenv ("SIGNET_SERVICE_URL");
  if (env != NULL && *env != '\0')
    self->url_override = g_strdup (env);
  env = g_getenv ("SIGNET_SERVICE_CA");
  if (env != NULL && *env != '\0')
    self->ca_override = g_canonicalize_filename (env, NULL);
  env = g_getenv ("SIGNET_STATE_DIR");
  if (env != NULL && *env != '\0')
    self->state_dir = g_canonicalize_filename (env, NULL);
  else
    self->state_dir = g_build_filename (g_get_user_state_dir (), "signet", NULL);
}

SignetApplication *
signet_application_new (void)
{
  return g_object_new (SIGNET_TYPE_APPLICATION,
                       "application-id", SIGNET_APPLICATION_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/org/signet/Signet",
                       NULL);
}

GSettings *
signet_application_get_settings (SignetApplication *self)
{
  g_return_val_if_fail (SIGNET_IS_APPLICATION (self), NULL);

  return self->settings;
}

SignetSession *
signet_application_get_session (SignetApplication *self)
{
  g_return_val_if_fail (SIGNET_IS_APPLICATION (self), NULL);

  return self->session;
}

SignetDeviceMonitor *
signet_application_get_monitor (SignetApplication *self)
{
  g_return_val_if_fail (SIGNET_IS_APPLICATION (self), NULL);

  return self->monitor;
}


const char *
signet_application_get_state_dir (SignetApplication *self)
{
  g_return_val_if_fail (SIGNET_IS_APPLICATION (self), NULL);

  return self->state_dir;
}

char *
signet_application_dup_service_url (SignetApplication *self)
{
  g_return_val_if_fail (SIGNET_IS_APPLICATION (self), NULL);

  if (self->url_override != NULL)
    return g_strdup (self->url_override);
  if (self->settings != NULL)
    return g_settings_get_string (self->settings, "service-url");
  return NULL;
}

char *
signet_application_dup_service_ca (SignetApplication *self)
{
  g_return_val_if_fail (SIGNET_IS_APPLICATION (self), NULL);

  if (self->ca_override != NULL)
    return g_strdup (self->ca_override);
  if (self->settings != NULL)
    return g_settings_get_string (self->settings, "service-ca");
  return NULL;
}

gboolean
signet_application_get_service_overridden (SignetApplication *self)
{
  g_return_val_if_fail (SIGNET_IS_APPLICATION (self), FALSE);

  return self->url_override != NULL || self->ca_override != NULL;
}

void
signet_application_remember_service_url (SignetApplication *self,
                                         const char        *url)
{
  g_return_if_fail (SIGNET_IS_APPLICATION (self));

  if (self->url_override != NULL)
    {
      /* this run's choice stands; the settings keep the technician's own */
      if (g_strcmp0 (self->url_override, url) != 0)
        {
          g_free (self->url_override);
          self->url_override = g_strdup (url);
        }
      return;
    }
  if (self->settings != NULL)
    g_settings_set_string (self->settings, "service-url", url != NULL ? url : "");
}
