/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-log-view.h: a live timeline of this sign-in's event log
 * (docs/app.md "Session log"): one row per record with its icon and
 * time, refreshed as the file grows (a file monitor; every engine step
 * appends before it is reported done). The status line says what the
 * app can check -- the hash chain, how far seals reach, whether the
 * service holds the log (uploaded / queued) -- and what it cannot: the
 * seals themselves verify only with K_0, which the service keeps.
 * Export to JSON or CSV through the file chooser (portal).
 */
#pragma once

#include <gtk/gtk.h>

#include "signet-session.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_LOG_VIEW (signet_log_view_get_type ())
G_DECLARE_FINAL_TYPE (SignetLogView, signet_log_view, SIGNET, LOG_VIEW, GtkWidget)

void signet_log_view_set_session (SignetLogView *self,
                                  SignetSession *session);
/* Read the log again now. */
void signet_log_view_refresh     (SignetLogView *self);

G_END_DECLS
