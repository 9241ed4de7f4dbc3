/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-sign-in-page.c: see signet-sign-in-page.h.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "signet-account.h"
#include "signet-sign-in-page.h"
#include "signet-ui-util.h"

#define CODE_DIGITS 6

struct _SignetSignInPage
{
  GtkWidget parent_instance;

  /* template */
  AdwEntryRow *service_row;
  AdwActionRow *ca_row;
  GtkButton *import_button;
  AdwEntryRow *username_row;
  AdwEntryRow *password_row;
  AdwEntryRow *code_row;
  GtkRevealer *error_revealer;
  GtkLabel *error_label;
  GtkButton *sign_in_button;
  GtkSpinner *spinner;
  GtkLabel *sign_in_label;
  GtkImage *logo;

  SignetApplication *app;
  char *ca_path;
  GCancellable *cancellable;
  GCancellable *lookup_cancellable;
  gboolean busy;
  gint64 locked_until;      /* monotonic µs; 0: not locked */
  guint lock_id;
  char *lock_reason;        /* printf format with one %s: the time left */
  GtkNativeDialog *chooser;
};

G_DEFINE_FINAL_TYPE (SignetSignInPage, signet_sign_in_page, GTK_TYPE_WIDGET)

/* ---- digits only -------------------------------------------------------- */

static void
code_insert_text_cb (GtkEditable *editable,
                     const char  *text,
                     int          length,
                     int         *position,
                     gpointer     user_data)
{
  g_autoptr(GString) digits = g_string_new (NULL);
  gsize len = length < 0 ? strlen (text) : (gsize) length;

  for (gsize i = 0; i < len; i++)
    if (g_ascii_isdigit (text[i]))
      g_string_append_c (digits, text[i]);
  if (digits->len == len)
    return;
  /* insert only the digits (a pasted "123 456" becomes "123456") */
  g_signal_handlers_block_by_func (editable, code_insert_text_cb, user_data);
  gtk_editable_insert_text (editable, digits->str, (int) digits->len, position);
  g_signal_handlers_unblock_by_func (editable, code_insert_text_cb, user_data);
  g_signal_stop_emission_by_name (editable, "insert-text");
}

void
signet_code_editable_setup (GtkEditable *editable,
                            int          max_digits)
{
  GtkEditable *delegate = gtk_editable_get_delegate (editable);

  if (delegate == NULL)
    delegate = editable;
  if (GTK_IS_TEXT (delegate))
    gtk_text_set_max_length (GTK_TEXT (delegate), max_digits);
  else if (GTK_IS_ENTRY (delegate))
    gtk_entry_set_max_length (GTK_ENTRY (delegate), max_digits);
  g_signal_connect (delegate, "insert-text", G_CALLBACK (code_insert_text_cb), NULL);
}

/* ---- state -------------------------------------------------------------- */

static gboolean
is_locked (SignetSignInPage *self)
{
  return self->locked_until != 0 && g_get_monotonic_time () < self->locked_until;
}

static void
update_sensitivity (SignetSignInPage *self)
{
  const char *url = gtk_editable_get_text (GTK_EDITABLE (self->service_row));
  const char *user = gtk_editable_get_text (GTK_EDITABLE (self->username_row));
  const char *password = gtk_editable_get_text (GTK_EDITABLE (self->password_row));
  const char *code = gtk_editable_get_text (GTK_EDITABLE (self->code_row));
  gboolean ready = !self->busy && !is_locked (self) && *url != '\0' && *user != '\0' &&
                   *password != '\0' && strlen (code) == CODE_DIGITS;

  gtk_widget_set_sensitive (GTK_WIDGET (self->sign_in_button), ready);
  gtk_widget_set_sensitive (GTK_WIDGET (self->service_row), !self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->import_button), !self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->username_row), !self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->password_row), !self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->code_row), !self->busy);
}

static void
set_busy (SignetSignInPage *self,
          gboolean          busy)
{
  self->busy = busy;
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), busy);
  gtk_spinner_set_spinning (self->spinner, busy);
  gtk_label_set_text_with_mnemonic (self->sign_in_label,
                                    busy ? _("Signing In…") : _("_Sign In"));
  update_sensitivity (self);
}

static void
show_message (SignetSignInPage *self,
              const char       *text,
              gboolean          is_error)
{
  if (text == NULL)
    {
      gtk_revealer_set_reveal_child (self->error_revealer, FALSE);
      return;
    }
  signet_ui_label_set_text (self->error_label, _("Sign-In Error"), text);
  if (is_error)
    gtk_widget_add_css_class (GTK_WIDGET (self->error_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->error_label), "error");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->error_label),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
  gtk_revealer_set_reveal_child (self->error_revealer, TRUE);
}

static void
update_ca_row (SignetSignInPage *self)
{
  if (self->ca_path != NULL && *self->ca_path != '\0')
    adw_action_row_set_subtitle (self->ca_row, self->ca_path);
  else
    adw_action_row_set_subtitle (self->ca_row, _("Not imported yet: ask your administrator "
                                                 "for the service’s CA certificate"));
}

static void
clear_secrets (SignetSignInPage *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->password_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->code_row), "");
}

/* ---- lockout countdown -------------------------------------------------- */

static gboolean
lock_tick_cb (gpointer user_data)
{
  SignetSignInPage *self = user_data;
  gint64 left;
  g_autofree char *when = NULL;
  g_autofree char *text = NULL;

  if (!is_locked (self))
    {
      self->locked_until = 0;
      self->lock_id = 0;
      show_message (self, _("You can try again now, with a new code"), FALSE);
      update_sensitivity (self);
      return G_SOURCE_REMOVE;
    }
  left = (self->locked_until - g_get_monotonic_time () + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC;
  when = signet_ui_format_countdown (left);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  text = g_strdup_printf (self->lock_reason, when);
#pragma GCC diagnostic pop
  show_message (self, text, TRUE);
  return G_SOURCE_CONTINUE;
}

static void
start_lockout (SignetSignInPage *self,
               gint64            seconds,
               const char       *reason_format)
{
  g_free (self->lock_reason);
  self->lock_reason = g_strdup (reason_format);
  self->locked_until = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  g_clear_handle_id (&self->lock_id, g_source_remove);
  self->lock_id = g_timeout_add_seconds (1, lock_tick_cb, self);
  lock_tick_cb (self);
  update_sensitivity (self);
}

static void
show_error (SignetSignInPage *self,
            const GError     *error)
{
  g_autofree char *text = NULL;

  if (error->domain == SIGNET_SERVICE_ERROR)
    {
      gint64 retry = signet_service_error_get_retry_after (error);

      switch ((SignetServiceError) error->code)
        {
        case SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS:
          show_message (self, _("The username, password or code is wrong. Check them and "
                                "enter a new code."), TRUE);
          clear_secrets (self);
          gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
          return;
        case SIGNET_SERVICE_ERROR_RATE_LIMITED:
          clear_secrets (self);
          start_lockout (self, retry > 0 ? retry : 30,
                         /* TRANSLATORS: %s is a countdown, "0:42" */
                         _("Too many attempts. Try again in %s."));
          return;
        case SIGNET_SERVICE_ERROR_LOCKED:
          clear_secrets (self);
          if (retry > 0)
            start_lockout (self, retry,
                           /* TRANSLATORS: %s is a countdown, "14:59" */
                           _("This account is locked after too many failed attempts. Try "
                             "again in %s, or ask an administrator to unlock it."));
          else
            show_message (self, _("This account is locked or disabled. Ask an administrator "
                                  "to unlock it."), TRUE);
          return;
        default:
          break;
        }
    }
  text = signet_ui_describe_error (error);
  show_message (self, text, TRUE);
}

/* ---- signing in --------------------------------------------------------- */

static void
signed_in_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  SignetSignInPage *self = user_data;
  SignetSession *session = SIGNET_SESSION (source);
  g_autoptr(GError) error = NULL;

  if (!signet_session_sign_in_finish (session, result, &error))
    {
      if (!g_error_matches (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CANCELLED))
        {
          set_busy (self, FALSE);
          show_error (self, error);
        }
      g_object_unref (self);
      return;
    }
  signet_application_remember_service_url (self->app, signet_service_client_get_base_url (
                                             signet_session_get_client (session)));
  signet_account_store_username (signet_service_client_get_base_url (
                                   signet_session_get_client (session)),
                                 gtk_editable_get_text (GTK_EDITABLE (self->username_row)));
  clear_secrets (self);
  show_message (self, NULL, FALSE);
  set_busy (self, FALSE);
  g_object_unref (self);
}

static void
prepared_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  SignetSignInPage *self = user_data;
  g_autoptr(GError) error = NULL;
  SignetSession *session;

  session = signet_application_prepare_session_finish (SIGNET_APPLICATION (source), result,
                                                       &error);
  if (session == NULL)
    {
      set_busy (self, FALSE);
      show_error (self, error);
      g_object_unref (self);
      return;
    }
  /* the password and code go to the core, which sends them and keeps
   * nothing; the fields are cleared once the answer is in */
  signet_session_sign_in_async (session,
                                gtk_editable_get_text (GTK_EDITABLE (self->username_row)),
                                gtk_editable_get_text (GTK_EDITABLE (self->password_row)),
                                gtk_editable_get_text (GTK_EDITABLE (self->code_row)),
                                self->cancellable, signed_in_cb, self);
}

static void
submit (SignetSignInPage *self)
{
  g_autofree char *url = NULL;

  update_sensitivity (self);
  if (!gtk_widget_get_sensitive (GTK_WIDGET (self->sign_in_button)) || self->app == NULL)
    return;
  url = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->service_row))));
  if (!g_str_has_prefix (url, "https://"))
    {
      show_message (self, _("The service address starts with https://"), TRUE);
      gtk_widget_grab_focus (GTK_WIDGET (self->service_row));
      return;
    }
  show_message (self, NULL, FALSE);
  set_busy (self, TRUE);
  signet_application_prepare_session_async (self->app, url, self->ca_path, self->cancellable,
                                            prepared_cb, g_object_ref (self));
}

/* ---- template callbacks ------------------------------------------------- */

static void
sign_in_clicked_cb (SignetSignInPage *self)
{
  submit (self);
}

static void
entry_activated_cb (SignetSignInPage *self,
                    AdwEntryRow      *row)
{
  /* Enter in an empty field moves on; in a full form it submits */
  if (*gtk_editable_get_text (GTK_EDITABLE (row)) == '\0')
    return;
  if (gtk_widget_get_sensitive (GTK_WIDGET (self->sign_in_button)))
    submit (self);
  else
    gtk_widget_child_focus (GTK_WIDGET (self), GTK_DIR_TAB_FORWARD);
}

static void
input_changed_cb (SignetSignInPage *self)
{
  update_sensitivity (self);
}

static void
lookup_username_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autofree char *username = signet_account_lookup_username_finish (result);
  SignetSignInPage *self;

  if (username == NULL || !SIGNET_IS_SIGN_IN_PAGE (user_data))
    return;
  self = SIGNET_SIGN_IN_PAGE (user_data);
  if (*gtk_editable_get_text (GTK_EDITABLE (self->username_row)) == '\0')
    gtk_editable_set_text (GTK_EDITABLE (self->username_row), username);
}

static void
lookup_username (SignetSignInPage *self)
{
  const char *url = gtk_editable_get_text (GTK_EDITABLE (self->service_row));

  g_cancellable_cancel (self->lookup_cancellable);
  g_clear_object (&self->lookup_cancellable);
  self->lookup_cancellable = g_cancellable_new ();
  signet_account_lookup_username_async (url, self->lookup_cancellable, lookup_username_cb, self);
}

static void
service_changed_cb (SignetSignInPage *self)
{
  update_sensitivity (self);
}

static void
imported_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SignetSignInPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  path = signet_application_import_ca_finish (SIGNET_APPLICATION (source), result, &error);
  if (path == NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The certificate could not be imported: %s"),
                                               error->message);

      show_message (self, text, TRUE);
      return;
    }
  g_free (self->ca_path);
  self->ca_path = g_steal_pointer (&path);
  update_ca_row (self);
  show_message (self, _("CA certificate imported"), FALSE);
}

static void
chooser_response_cb (GtkNativeDialog *chooser,
                     int              response,
                     gpointer         user_data)
{
  SignetSignInPage *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT && self->app != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      if (file != NULL)
        signet_application_import_ca_async (self->app, file, NULL, imported_cb,
                                            g_object_ref (self));
    }
  g_clear_object (&self->chooser);
}

static void
import_clicked_cb (SignetSignInPage *self)
{
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) pem = gtk_file_filter_new ();
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (self->chooser != NULL)
    return;
  chooser = gtk_file_chooser_native_new (_("Import CA Certificate"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"),
                                         _("_Cancel"));
  gtk_file_filter_set_name (pem, _("PEM certificates"));
  gtk_file_filter_add_pattern (pem, "*.pem");
  gtk_file_filter_add_pattern (pem, "*.crt");
  gtk_file_filter_add_mime_type (pem, "application/x-x509-ca-cert");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), pem);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

/* ---- GObject ------------------------------------------------------------ */

static void
signet_sign_in_page_dispose (GObject *object)
{
  SignetSignInPage *self = SIGNET_SIGN_IN_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->lookup_cancellable);
  g_clear_object (&self->lookup_cancellable);
  g_clear_handle_id (&self->lock_id, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), SIGNET_TYPE_SIGN_IN_PAGE);
  G_OBJECT_CLASS (signet_sign_in_page_parent_class)->dispose (object);
}

static void
signet_sign_in_page_finalize (GObject *object)
{
  SignetSignInPage *self = SIGNET_SIGN_IN_PAGE (object);

  g_clear_object (&self->cancellable);
  g_free (self->ca_path);
  g_free (self->lock_reason);
  G_OBJECT_CLASS (signet_sign_in_page_parent_class)->finalize (object);
}

static void
signet_sign_in_page_class_init (SignetSignInPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_sign_in_page_dispose;
  object_class->finalize = signet_sign_in_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/signet-sign-in-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, service_row);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, ca_row);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, import_button);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, username_row);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, password_row);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, code_row);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, error_revealer);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, sign_in_button);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, sign_in_label);
  gtk_widget_class_bind_template_child (widget_class, SignetSignInPage, logo);
  gtk_widget_class_bind_template_callback (widget_class, sign_in_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, input_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, service_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, import_clicked_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
signet_sign_in_page_init (SignetSignInPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  signet_code_editable_setup (GTK_EDITABLE (self->code_row), CODE_DIGITS);
  /* run from a build tree, the app icon is not installed yet */
  if (!gtk_icon_theme_has_icon (gtk_icon_theme_get_for_display (gdk_display_get_default ()),
                                "org.signet.Signet"))
    gtk_image_set_from_icon_name (self->logo, "channel-secure-symbolic");
  update_ca_row (self);
}

void
signet_sign_in_page_set_application (SignetSignInPage  *self,
                                     SignetApplication *app)
{
  g_autofree char *url = NULL;

  g_return_if_fail (SIGNET_IS_SIGN_IN_PAGE (self));
  g_return_if_fail (SIGNET_IS_APPLICATION (app));

  self->app = app;
  url = signet_application_dup_service_url (app);
  g_free (self->ca_path);
  self->ca_path = signet_application_dup_service_ca (app);
  gtk_editable_set_text (GTK_EDITABLE (self->service_row), url != NULL ? url : "");
  update_ca_row (self);
  lookup_username (self);
  update_sensitivity (self);
}

void
signet_sign_in_page_show_expired (SignetSignInPage *self)
{
  g_return_if_fail (SIGNET_IS_SIGN_IN_PAGE (self));

  clear_secrets (self);
  show_message (self, _("Your session expired. Sign in again with a new code."), FALSE);
  gtk_widget_grab_focus (GTK_WIDGET (self->password_row));
}
