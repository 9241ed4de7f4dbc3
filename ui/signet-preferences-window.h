/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-preferences-window.h: the service address, the imported CA
 * certificate and where the logs live (app.preferences, Ctrl+,).
 */
#pragma once

#include <adwaita.h>

#include "signet-application.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_PREFERENCES_WINDOW (signet_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (SignetPreferencesWindow, signet_preferences_window, SIGNET,
                      PREFERENCES_WINDOW, AdwPreferencesWindow)

/* Returns: (transfer floating) */
SignetPreferencesWindow *signet_preferences_window_new (SignetApplication *app);

G_END_DECLS
