/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-session-bar.h: who is signed in, with which role, and a live
 * countdown of the token's time (warning style under two minutes; the
 * session refreshes the token on its own before that). "Renew" and
 * "Sign Out" are the window's win.renew and win.sign-out.
 */
#pragma once

#include <gtk/gtk.h>

#include "signet-session.h"

G_BEGIN_DECLS

/* Below this many seconds the countdown warns. */
#define SIGNET_SESSION_BAR_WARN_SECONDS 120

#define SIGNET_TYPE_SESSION_BAR (signet_session_bar_get_type ())
G_DECLARE_FINAL_TYPE (SignetSessionBar, signet_session_bar, SIGNET, SESSION_BAR, GtkWidget)

void signet_session_bar_set_session (SignetSessionBar *self,
                                     SignetSession    *session);

G_END_DECLS
