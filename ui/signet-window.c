/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-window.c: see signet-window.h.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "signet-device-list.h"
#include "signet-device-page.h"
#include "signet-log-view.h"
#include "signet-session-bar.h"
#include "signet-sign-in-page.h"
#include "signet-step-up-dialog.h"
#include "signet-ui-util.h"
#include "signet-window.h"

#ifdef SIGNET_HAVE_REVIEW_PAGE
#include "review/signet-review-page.h"
#endif

struct _SignetWindow
{
  AdwApplicationWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  AdwViewSwitcherTitle *switcher_title;
  SignetSessionBar *session_bar;
  AdwViewStack *view_stack;
  AdwViewStackPage *sign_in_stack_page;
  AdwViewStackPage *devices_stack_page;
  AdwViewStackPage *log_stack_page;
  AdwViewStackPage *review_stack_page;
  SignetSignInPage *sign_in_page;
  AdwLeaflet *leaflet;
  SignetDeviceList *device_list;
  SignetDevicePage *device_page;
  SignetLogView *log_view;
  GtkBox *review_box;

  SignetApplication *app;
  SignetSession *session;
  gulong state_id;
  gulong app_session_id;
  SignetSessionState last_state;
  GtkWidget *review_page;
  SignetSession *review_session;   /* the session review_page was made with */
  gboolean review_opened;
  GtkNativeDialog *chooser;
};

G_DEFINE_FINAL_TYPE (SignetWindow, signet_window, ADW_TYPE_APPLICATION_WINDOW)

/* ---- the Review page ---------------------------------------------------- */

static GtkWidget *
ensure_review_page (SignetWindow *self)
{
  if (self->review_page != NULL && self->review_session == self->session)
    return self->review_page;
  if (self->review_page != NULL)
    gtk_box_remove (self->review_box, self->review_page);
#ifdef SIGNET_HAVE_REVIEW_PAGE
  self->review_page = signet_review_page_new (self->session);
#else
  self->review_page = g_object_new (ADW_TYPE_STATUS_PAGE,
                                    "icon-name", "emblem-documents-symbolic",
                                    "title", _("Review Not Available"),
                                    "description", _("This build of Signet has no Review page"),
                                    "vexpand", TRUE,
                                    NULL);
#endif
  self->review_session = self->session;
  gtk_widget_set_vexpand (self->review_page, TRUE);
  gtk_box_append (self->review_box, self->review_page);
  return self->review_page;
}

/* ---- the session -------------------------------------------------------- */

static void
update_for_state (SignetWindow *self)
{
  SignetSessionState state = self->session != NULL ? signet_session_get_state (self->session)
                                                   : SIGNET_SESSION_STATE_SIGNED_OUT;
  gboolean signed_in = state == SIGNET_SESSION_STATE_SIGNED_IN;
  const char *role = signed_in ? signet_session_get_role (self->session) : NULL;
  gboolean review = self->review_opened || (signed_in && signet_ui_role_can_review (role));
  const char *visible = adw_view_stack_get_visible_child_name (self->view_stack);

  adw_view_stack_page_set_visible (self->sign_in_stack_page, !signed_in);
  adw_view_stack_page_set_visible (self->devices_stack_page, signed_in);
  adw_view_stack_page_set_visible (self->log_stack_page, signed_in);
  adw_view_stack_page_set_visible (self->review_stack_page, review);
  if (review)
    ensure_review_page (self);
  adw_view_switcher_title_set_view_switcher_enabled (self->switcher_title,
                                                     signed_in || review);
  gtk_widget_set_visible (GTK_WIDGET (self->session_bar), signed_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.sign-out", signed_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.renew", signed_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.add-serial-port", signed_in);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.find", signed_in);

  if (signed_in && g_strcmp0 (visible, "sign-in") == 0)
    adw_view_stack_set_visible_child_name (self->view_stack, "devices");
  else if (!signed_in && g_strcmp0 (visible, "review") != 0)
    adw_view_stack_set_visible_child_name (self->view_stack, "sign-in");

  if (!signed_in && self->last_state == SIGNET_SESSION_STATE_SIGNED_IN)
    {
      signet_device_list_disconnect_all (self->device_list);
      signet_device_page_set_device (self->device_page, NULL);
      if (state == SIGNET_SESSION_STATE_EXPIRED)
        {
          signet_sign_in_page_show_expired (self->sign_in_page);
          signet_window_add_toast (self, _("Your session expired: sign in again"));
        }
    }
  if (signed_in && self->last_state != SIGNET_SESSION_STATE_SIGNED_IN)
    {
      g_autofree char *text = NULL;

      /* TRANSLATORS: %s is the user name */
      text = g_strdup_printf (_("Signed in as %s"), signet_session_get_username (self->session));
      signet_window_add_toast (self, text);
    }
  self->last_state = state;
}

static void
session_state_cb (SignetWindow *self)
{
  update_for_state (self);
}

static void
set_session (SignetWindow  *self,
             SignetSession *session)
{
  if (self->session == session)
    return;
  if (self->session != NULL)
    g_clear_signal_handler (&self->state_id, self->session);
  g_set_object (&self->session, session);
  if (session != NULL)
    self->state_id = g_signal_connect_swapped (session, "notify::state",
                                               G_CALLBACK (session_state_cb), self);
  signet_session_bar_set_session (self->session_bar, session);
  signet_device_page_set_session (self->device_page, session);
  signet_log_view_set_session (self->log_view, session);
  update_for_state (self);
}

static void
app_session_cb (SignetWindow *self)
{
  set_session (self, signet_application_get_session (self->app));
}

/* ---- step-up ------------------------------------------------------------ */

typedef struct {
  char *reason;
  char *error_text;
} StepUp;

static void
step_up_free (gpointer data)
{
  StepUp *s = data;

  g_free (s->reason);
  g_free (s->error_text);
  g_free (s);
}

static void present_step_up (GTask *task);

static void
stepped_up_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StepUp *s = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (signet_session_step_up_finish (SIGNET_SESSION (source), result, &error))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (g_error_matches (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS))
    {
      /* a wrong or already used code: ask again */
      g_free (s->error_text);
      s->error_text = g_strdup (_("That code was not accepted. Wait for the next code and "
                                  "enter it."));
      present_step_up (g_steal_pointer (&task));
      return;
    }
  g_task_return_error (task, g_steal_pointer (&error));
}

static void
step_up_response_cb (SignetStepUpDialog *dialog,
                     const char         *response,
                     gpointer            user_data)
{
  GTask *task = user_data;
  SignetWindow *self = g_task_get_source_object (task);
  g_autofree char *code = signet_step_up_dialog_dup_code (dialog);

  if (g_strcmp0 (response, "verify") != 0 || code == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "%s",
                               _("No fresh code was given"));
      g_object_unref (task);
      return;
    }
  if (self->session == NULL)
    {
      g_task_return_new_error (task, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_NOT_SIGNED_IN,
                               "%s", _("Sign in first"));
      g_object_unref (task);
      return;
    }
  signet_session_step_up_async (self->session, code, g_task_get_cancellable (task),
                                stepped_up_cb, task);
}

static void
present_step_up (GTask *task)
{
  SignetWindow *self = g_task_get_source_object (task);
  StepUp *s = g_task_get_task_data (task);
  SignetStepUpDialog *dialog;

  dialog = signet_step_up_dialog_new (GTK_WINDOW (self), s->reason, s->error_text);
  g_signal_connect (dialog, "response", G_CALLBACK (step_up_response_cb), task);
  gtk_window_present (GTK_WINDOW (dialog));
  signet_ui_fix_accessible_names (GTK_WIDGET (dialog));
}

void
signet_window_step_up_async (SignetWindow        *self,
                             const char          *reason,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;
  StepUp *s;

  g_return_if_fail (SIGNET_IS_WINDOW (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, signet_window_step_up_async);
  s = g_new0 (StepUp, 1);
  s->reason = g_strdup (reason);
  g_task_set_task_data (task, s, step_up_free);
  present_step_up (task);
}

gboolean
signet_window_step_up_finish (SignetWindow  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- actions ------------------------------------------------------------ */

static void
signed_out_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(SignetWindow) self = user_data;
  g_autoptr(GError) upload_error = NULL;
  g_autoptr(GError) error = NULL;

  if (!signet_session_sign_out_finish (SIGNET_SESSION (source), result, &upload_error, &error))
    {
      g_autofree char *text = signet_ui_describe_error (error);

      signet_window_add_toast (self, text);
      return;
    }
  if (upload_error != NULL)
    signet_window_add_toast (self, _("Signed out. The session log could not be uploaded: it "
                                     "stays queued for the next sign-in."));
  else
    signet_window_add_toast (self, _("Signed out. The session log was uploaded."));
}

static void
sign_out_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  SignetWindow *self = SIGNET_WINDOW (widget);

  if (self->session == NULL)
    return;
  gtk_widget_action_set_enabled (widget, "win.sign-out", FALSE);
  signet_session_sign_out_async (self->session, NULL, signed_out_cb, g_object_ref (self));
}

static void
renewed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(SignetWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!signet_session_refresh_finish (SIGNET_SESSION (source), result, &error))
    {
      g_autofree char *text = signet_ui_describe_error (error);
      g_autofree char *toast = g_strdup_printf (_("The session could not be renewed: %s"), text);

      signet_window_add_toast (self, toast);
      return;
    }
  signet_window_add_toast (self, _("Session renewed"));
}

static void
renew_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  SignetWindow *self = SIGNET_WINDOW (widget);

  if (self->session != NULL)
    signet_session_refresh_async (self->session, NULL, renewed_cb, g_object_ref (self));
}

static void
add_serial_port_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  SignetWindow *self = SIGNET_WINDOW (widget);

  adw_view_stack_set_visible_child_name (self->view_stack, "devices");
  signet_device_list_ask_serial_port (self->device_list);
}

static void
find_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  SignetWindow *self = SIGNET_WINDOW (widget);

  adw_view_stack_set_visible_child_name (self->view_stack, "devices");
  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->device_list));
  signet_device_list_focus_search (self->device_list);
}

static void
show_page_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  SignetWindow *self = SIGNET_WINDOW (widget);
  const char *name = g_variant_get_string (parameter, NULL);
  GtkWidget *child = adw_view_stack_get_child_by_name (self->view_stack, name);

  if (child != NULL && gtk_widget_get_visible (child) &&
      adw_view_stack_page_get_visible (adw_view_stack_get_page (self->view_stack, child)))
    adw_view_stack_set_visible_child (self->view_stack, child);
}

/* ---- template callbacks ------------------------------------------------- */

static void
device_activated_cb (SignetWindow *self,
                     SignetDevice *device)
{
  signet_device_page_set_device (self->device_page, device);
  adw_leaflet_set_visible_child (self->leaflet, GTK_WIDGET (self->device_page));
}

static void
device_page_back_cb (SignetWindow *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
leaflet_folded_cb (SignetWindow *self)
{
  signet_device_page_set_show_back (self->device_page, adw_leaflet_get_folded (self->leaflet));
}

/* ---- log files ---------------------------------------------------------- */

void
signet_window_open_log_file (SignetWindow *self,
                             GFile        *file)
{
  GtkWidget *page;

  g_return_if_fail (SIGNET_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  self->review_opened = TRUE;
  page = ensure_review_page (self);
  update_for_state (self);
#ifdef SIGNET_HAVE_REVIEW_PAGE
  signet_review_page_open_file (SIGNET_REVIEW_PAGE (page), file);
#else
  (void) page;
  signet_window_add_toast (self, _("Reviewing log files is not available in this build"));
#endif
  adw_view_stack_set_visible_child_name (self->view_stack, "review");
}

static void
chooser_response_cb (GtkNativeDialog *chooser,
                     int              response,
                     gpointer         user_data)
{
  SignetWindow *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      if (file != NULL)
        signet_window_open_log_file (self, file);
    }
  g_clear_object (&self->chooser);
}

void
signet_window_choose_log_file (SignetWindow *self)
{
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) logs = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  g_return_if_fail (SIGNET_IS_WINDOW (self));

  if (self->chooser != NULL)
    return;
  chooser = gtk_file_chooser_native_new (_("Open Log File"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_file_filter_set_name (logs, _("Signet event logs"));
  gtk_file_filter_add_pattern (logs, "*.log");
  gtk_file_filter_add_mime_type (logs, "application/cbor-seq");
  gtk_file_filter_set_name (all, _("All files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), logs);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), all);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

/* ---- GtkWindow ---------------------------------------------------------- */

static gboolean
signet_window_close_request (GtkWindow *window)
{
  SignetWindow *self = SIGNET_WINDOW (window);
  GSettings *settings = self->app != NULL ? signet_application_get_settings (self->app) : NULL;

  if (settings != NULL)
    {
      int width = 0, height = 0;

      gtk_window_get_default_size (window, &width, &height);
      g_settings_delay (settings);
      g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (window));
      if (!gtk_window_is_maximized (window) && width > 0 && height > 0)
        {
          g_settings_set_int (settings, "window-width", width);
          g_settings_set_int (settings, "window-height", height);
        }
      g_settings_apply (settings);
    }
  return GTK_WINDOW_CLASS (signet_window_parent_class)->close_request (window);
}

/* "application" is not a construct property: set up once it is set */
static void
setup_for_application (SignetWindow      *self,
                       SignetApplication *app)
{
  GSettings *settings;

  self->app = app;
  settings = signet_application_get_settings (self->app);
  if (settings != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (settings, "window-width"),
                                   g_settings_get_int (settings, "window-height"));
      if (g_settings_get_boolean (settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
    }
  signet_sign_in_page_set_application (self->sign_in_page, self->app);
  signet_device_list_set_monitor (self->device_list, signet_application_get_monitor (self->app));
  self->app_session_id = g_signal_connect_swapped (self->app, "notify::session",
                                                   G_CALLBACK (app_session_cb), self);
  set_session (self, signet_application_get_session (self->app));
  update_for_state (self);
}

static void
signet_window_dispose (GObject *object)
{
  SignetWindow *self = SIGNET_WINDOW (object);

  if (self->app != NULL)
    g_clear_signal_handler (&self->app_session_id, self->app);
  if (self->session != NULL)
    g_clear_signal_handler (&self->state_id, self->session);
  g_clear_object (&self->session);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), SIGNET_TYPE_WINDOW);
  G_OBJECT_CLASS (signet_window_parent_class)->dispose (object);
}

static void
signet_window_class_init (SignetWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = signet_window_dispose;
  window_class->close_request = signet_window_close_request;

  g_type_ensure (SIGNET_TYPE_DEVICE_LIST);
  g_type_ensure (SIGNET_TYPE_DEVICE_PAGE);
  g_type_ensure (SIGNET_TYPE_LOG_VIEW);
  g_type_ensure (SIGNET_TYPE_SESSION_BAR);
  g_type_ensure (SIGNET_TYPE_SIGN_IN_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/signet-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, switcher_title);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, session_bar);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, view_stack);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, sign_in_stack_page);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, devices_stack_page);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, log_stack_page);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, review_stack_page);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, sign_in_page);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, device_list);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, device_page);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, log_view);
  gtk_widget_class_bind_template_child (widget_class, SignetWindow, review_box);
  gtk_widget_class_bind_template_callback (widget_class, device_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, device_page_back_cb);

  gtk_widget_class_install_action (widget_class, "win.sign-out", NULL, sign_out_action);
  gtk_widget_class_install_action (widget_class, "win.renew", NULL, renew_action);
  gtk_widget_class_install_action (widget_class, "win.add-serial-port", NULL,
                                   add_serial_port_action);
  gtk_widget_class_install_action (widget_class, "win.find", NULL, find_action);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK,
                                       "win.find", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK,
                                       "win.add-serial-port", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK,
                                       "win.show-page", "s", "devices");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK,
                                       "win.show-page", "s", "log");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_3, GDK_ALT_MASK,
                                       "win.show-page", "s", "review");
}

static void
signet_window_init (SignetWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->last_state = SIGNET_SESSION_STATE_SIGNED_OUT;
  g_signal_connect_swapped (self->leaflet, "notify::folded", G_CALLBACK (leaflet_folded_cb),
                            self);
  leaflet_folded_cb (self);
  signet_ui_fix_accessible_names (GTK_WIDGET (self));
}

SignetWindow *
signet_window_new (SignetApplication *application)
{
  SignetWindow *self;

  g_return_val_if_fail (SIGNET_IS_APPLICATION (application), NULL);

  self = g_object_new (SIGNET_TYPE_WINDOW, "application", application, NULL);
  setup_for_application (self, application);
  return self;
}

void
signet_window_add_toast (SignetWindow *self,
                         const char   *text)
{
  AdwToast *toast;

  g_return_if_fail (SIGNET_IS_WINDOW (self));

  toast = adw_toast_new (text);
  adw_toast_set_timeout (toast, 4);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}
