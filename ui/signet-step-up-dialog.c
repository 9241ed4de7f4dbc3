/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-step-up-dialog.c: see signet-step-up-dialog.h.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "signet-sign-in-page.h"
#include "signet-step-up-dialog.h"

#define CODE_DIGITS 6

struct _SignetStepUpDialog
{
  AdwMessageDialog parent_instance;

  GtkEntry *code_entry;
  GtkLabel *error_label;
};

G_DEFINE_FINAL_TYPE (SignetStepUpDialog, signet_step_up_dialog, ADW_TYPE_MESSAGE_DIALOG)

static void
code_changed_cb (SignetStepUpDialog *self)
{
  const char *code = gtk_editable_get_text (GTK_EDITABLE (self->code_entry));

  adw_message_dialog_set_response_enabled (ADW_MESSAGE_DIALOG (self), "verify",
                                           strlen (code) == CODE_DIGITS);
}

static void
signet_step_up_dialog_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), SIGNET_TYPE_STEP_UP_DIALOG);
  G_OBJECT_CLASS (signet_step_up_dialog_parent_class)->dispose (object);
}

static void
signet_step_up_dialog_class_init (SignetStepUpDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_step_up_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/signet-step-up-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetStepUpDialog, code_entry);
  gtk_widget_class_bind_template_child (widget_class, SignetStepUpDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, code_changed_cb);
}

static void
signet_step_up_dialog_init (SignetStepUpDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  signet_code_editable_setup (GTK_EDITABLE (self->code_entry), CODE_DIGITS);
}

SignetStepUpDialog *
signet_step_up_dialog_new (GtkWindow  *parent,
                           const char *reason,
                           const char *error_text)
{
  SignetStepUpDialog *self;
  g_autofree char *body = NULL;

  body = g_strdup_printf ("%s\n\n%s",
                          reason != NULL ? reason
                          : _("This change is critical: the service needs a code entered in "
                              "the last few minutes."),
                          _("Enter the current code of your authenticator app."));
  self = g_object_new (SIGNET_TYPE_STEP_UP_DIALOG,
                       "transient-for", parent,
                       "body", body,
                       NULL);
  if (error_text != NULL)
    {
      gtk_label_set_text (self->error_label, error_text);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
    }
  gtk_widget_grab_focus (GTK_WIDGET (self->code_entry));
  return self;
}

char *
signet_step_up_dialog_dup_code (SignetStepUpDialog *self)
{
  const char *code;

  g_return_val_if_fail (SIGNET_IS_STEP_UP_DIALOG (self), NULL);

  code = gtk_editable_get_text (GTK_EDITABLE (self->code_entry));
  return strlen (code) == CODE_DIGITS ? g_strdup (code) : NULL;
}
