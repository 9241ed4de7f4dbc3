/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-step-up-dialog.h: asks for a fresh code for a critical change
 * (DESIGN.md §3 "Step-up"). Responses "cancel" and "verify"; the window
 * (signet_window_step_up_async) sends the code and asks again when it
 * was wrong.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SIGNET_TYPE_STEP_UP_DIALOG (signet_step_up_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SignetStepUpDialog, signet_step_up_dialog, SIGNET, STEP_UP_DIALOG,
                      AdwMessageDialog)

/* reason and error_text (nullable) say why a code is asked and what went
 * wrong last time. Returns: (transfer floating) */
SignetStepUpDialog *signet_step_up_dialog_new      (GtkWindow          *parent,
                                                    const char         *reason,
                                                    const char         *error_text);
/* The 6 digits, or NULL if not complete. Returns: (transfer full) (nullable) */
char               *signet_step_up_dialog_dup_code (SignetStepUpDialog *self);

G_END_DECLS
