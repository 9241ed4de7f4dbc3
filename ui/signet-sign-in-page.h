/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-sign-in-page.h: the sign-in form (docs/app.md "Sign-in"):
 * service URL (remembered in GSettings), CA certificate import, user
 * name (remembered with libsecret), password and a 6-digit code (digits
 * only). Enter submits. Errors show inline: wrong credentials, a locked
 * account or too many attempts with a countdown, an unreachable service,
 * a certificate that does not match. The password and code are never
 * kept: the fields are cleared once used.
 */
#pragma once

#include <gtk/gtk.h>

#include "signet-application.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_SIGN_IN_PAGE (signet_sign_in_page_get_type ())
G_DECLARE_FINAL_TYPE (SignetSignInPage, signet_sign_in_page, SIGNET, SIGN_IN_PAGE, GtkWidget)

void signet_sign_in_page_set_application (SignetSignInPage  *self,
                                          SignetApplication *app);
/* Say that the session expired (the form stays filled but for the
 * password and code). */
void signet_sign_in_page_show_expired    (SignetSignInPage  *self);

/* Make an editable accept digits only, at most max_digits of them (the
 * editable's text delegate is filtered). */
void signet_code_editable_setup          (GtkEditable       *editable,
                                          int                max_digits);

G_END_DECLS
