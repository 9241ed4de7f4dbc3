/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-session-bar.c: see signet-session-bar.h.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "signet-session-bar.h"
#include "signet-ui-util.h"

struct _SignetSessionBar
{
  GtkWidget parent_instance;

  GtkWidget *box;
  GtkLabel *user_label;
  GtkLabel *countdown_label;

  SignetSession *session;
  gulong notify_id;
  gulong refresh_failed_id;
  guint tick_id;
  char *refresh_problem;
};

G_DEFINE_FINAL_TYPE (SignetSessionBar, signet_session_bar, GTK_TYPE_WIDGET)

static void
update_countdown (SignetSessionBar *self)
{
  gint64 remaining;
  g_autofree char *left = NULL;
  g_autofree char *text = NULL;
  gboolean warn;

  if (self->session == NULL ||
      signet_session_get_state (self->session) != SIGNET_SESSION_STATE_SIGNED_IN)
    {
      signet_ui_label_set_text (self->countdown_label, _("Time Left"), "");
      return;
    }
  remaining = signet_session_get_remaining (self->session);
  warn = remaining < SIGNET_SESSION_BAR_WARN_SECONDS;
  left = signet_ui_format_countdown (remaining);
  /* TRANSLATORS: the time left before the session's token expires, "14:05" */
  text = g_strdup_printf (_("%s left"), left);
  if (warn)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self), "expiring");
      gtk_widget_add_css_class (GTK_WIDGET (self->countdown_label), "warning");
      gtk_widget_remove_css_class (GTK_WIDGET (self->countdown_label), "dim-label");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->countdown_label),
                                   self->refresh_problem != NULL ? self->refresh_problem
                                   : _("The session ends soon: renew it, or sign in again"));
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self), "expiring");
      gtk_widget_remove_css_class (GTK_WIDGET (self->countdown_label), "warning");
      gtk_widget_add_css_class (GTK_WIDGET (self->countdown_label), "dim-label");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->countdown_label),
                                   _("Time left on the session’s token; it is renewed on its "
                                     "own before it runs out"));
    }
  /* after the tooltip: GTK 4.8 makes a tooltip the label's description */
  signet_ui_label_set_text (self->countdown_label, _("Time Left"), text);
}

static gboolean
tick_cb (gpointer user_data)
{
  update_countdown (user_data);
  return G_SOURCE_CONTINUE;
}

static void
update (SignetSessionBar *self)
{
  gboolean signed_in = self->session != NULL &&
    signet_session_get_state (self->session) == SIGNET_SESSION_STATE_SIGNED_IN;

  if (signed_in)
    {
      g_autofree char *text = NULL;

      /* TRANSLATORS: user name · role, "alice · Technician" */
      text = g_strdup_printf (_("%s · %s"), signet_session_get_username (self->session),
                              signet_ui_role_label (signet_session_get_role (self->session)));
      signet_ui_label_set_text (self->user_label, _("Signed In User"), text);
      if (self->tick_id == 0)
        self->tick_id = g_timeout_add_seconds (1, tick_cb, self);
    }
  else
    {
      signet_ui_label_set_text (self->user_label, _("Signed In User"), "");
      g_clear_handle_id (&self->tick_id, g_source_remove);
    }
  update_countdown (self);
}

static void
refresh_failed_cb (SignetSession    *session,
                   const GError     *error,
                   SignetSessionBar *self)
{
  g_autofree char *text = signet_ui_describe_error (error);

  g_free (self->refresh_problem);
  self->refresh_problem = g_strdup_printf (_("The token could not be renewed yet (%s); "
                                             "retrying"), text);
  update_countdown (self);
}

static void
session_notify_cb (SignetSessionBar *self)
{
  g_clear_pointer (&self->refresh_problem, g_free);
  update (self);
}

static void
signet_session_bar_dispose (GObject *object)
{
  SignetSessionBar *self = SIGNET_SESSION_BAR (object);

  signet_session_bar_set_session (self, NULL);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  gtk_widget_dispose_template (GTK_WIDGET (self), SIGNET_TYPE_SESSION_BAR);
  G_OBJECT_CLASS (signet_session_bar_parent_class)->dispose (object);
}

static void
signet_session_bar_finalize (GObject *object)
{
  SignetSessionBar *self = SIGNET_SESSION_BAR (object);

  g_free (self->refresh_problem);
  G_OBJECT_CLASS (signet_session_bar_parent_class)->finalize (object);
}

static void
signet_session_bar_class_init (SignetSessionBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_session_bar_dispose;
  object_class->finalize = signet_session_bar_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/signet-session-bar.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetSessionBar, box);
  gtk_widget_class_bind_template_child (widget_class, SignetSessionBar, user_label);
  gtk_widget_class_bind_template_child (widget_class, SignetSessionBar, countdown_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "sessionbar");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_TOOLBAR);
}

static void
signet_session_bar_init (SignetSessionBar *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_widget_add_css_class (GTK_WIDGET (self), "session-bar");
}

void
signet_session_bar_set_session (SignetSessionBar *self,
                                SignetSession    *session)
{
  g_return_if_fail (SIGNET_IS_SESSION_BAR (self));

  if (self->session == session)
    return;
  if (self->session != NULL)
    {
      g_clear_signal_handler (&self->notify_id, self->session);
      g_clear_signal_handler (&self->refresh_failed_id, self->session);
    }
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      self->notify_id = g_signal_connect_swapped (session, "notify",
                                                  G_CALLBACK (session_notify_cb), self);
      self->refresh_failed_id = g_signal_connect (session, "refresh-failed",
                                                  G_CALLBACK (refresh_failed_cb), self);
    }
  update (self);
}
