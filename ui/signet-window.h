/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-window.h: the main window (docs/app.md): a header bar with the
 * view switcher, the session bar, and a view stack of Sign In, Devices
 * (an AdwLeaflet of the device list and the device page, folding below
 * about 600 px), Session Log and Review; toasts for what happened.
 */
#pragma once

#include <adwaita.h>

#include "signet-application.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_WINDOW (signet_window_get_type ())
G_DECLARE_FINAL_TYPE (SignetWindow, signet_window, SIGNET, WINDOW, AdwApplicationWindow)

/* Returns: (transfer floating) */
SignetWindow *signet_window_new              (SignetApplication *application);

void          signet_window_add_toast        (SignetWindow      *self,
                                              const char        *text);
/* Show the Review page on file. */
void          signet_window_open_log_file    (SignetWindow      *self,
                                              GFile             *file);
/* A file chooser, then open_log_file. */
void          signet_window_choose_log_file  (SignetWindow      *self);

/* Ask the technician for a fresh code (AdwMessageDialog) and step up the
 * session with it. Fails with G_IO_ERROR_CANCELLED when they cancel. */
void          signet_window_step_up_async    (SignetWindow        *self,
                                              const char          *reason,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean      signet_window_step_up_finish   (SignetWindow        *self,
                                              GAsyncResult        *result,
                                              GError             **error);

G_END_DECLS
