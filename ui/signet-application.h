/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-application.h: the Signet app (docs/app.md).
 *
 * Owns what lives as long as the process: the settings, the device
 * monitor (GUdev, and BlueZ on the system bus unless the "bluetooth"
 * setting is off), and the service client with the technician's
 * SignetSession. The client is bound to one service URL and CA
 * certificate, so both are made when the technician first signs in and
 * made again only when the service changes while nobody is signed in.
 *
 * Command line: `signet [--service URL] [--ca FILE] [LOG-FILE...]`;
 * --service/--ca (or SIGNET_SERVICE_URL/SIGNET_SERVICE_CA) override the
 * settings for this run; SIGNET_STATE_DIR replaces $XDG_STATE_HOME/signet
 * (as signetctl). A log file given opens in the Review page.
 */
#pragma once

#include <adwaita.h>

#include "signet-device-monitor.h"
#include "signet-session.h"

G_BEGIN_DECLS

#define SIGNET_APPLICATION_ID "org.signet.Signet"

#define SIGNET_TYPE_APPLICATION (signet_application_get_type ())
G_DECLARE_FINAL_TYPE (SignetApplication, signet_application, SIGNET, APPLICATION, AdwApplication)

/* Returns: (transfer full) */
SignetApplication   *signet_application_new                (void);

/* The app's settings, or NULL when the schema is not installed (a run
 * from a build tree without GSETTINGS_SCHEMA_DIR): then nothing is
 * remembered. Returns: (transfer none) (nullable) */
GSettings           *signet_application_get_settings       (SignetApplication *self);

/* The current session ("session" property, notified when it is replaced).
 * Returns: (transfer none) (nullable): NULL before the first sign-in */
SignetSession       *signet_application_get_session        (SignetApplication *self);

/* Returns: (transfer none) */
SignetDeviceMonitor *signet_application_get_monitor        (SignetApplication *self);

const char          *signet_application_get_state_dir      (SignetApplication *self);

/* The service URL and CA file: the command line's, else the settings'.
 * Returns: (transfer full) (nullable) */
char                *signet_application_dup_service_url    (SignetApplication *self);
char                *signet_application_dup_service_ca     (SignetApplication *self);
/* TRUE when --service or --ca was given for this run. */
gboolean             signet_application_get_service_overridden (SignetApplication *self);

/* Remember url in the settings (not when overridden). */
void                 signet_application_remember_service_url (SignetApplication *self,
                                                              const char        *url);

/* Copy the PEM at file to $XDG_DATA_HOME/signet/service-ca.pem (after
 * checking it holds a certificate) and remember that path; for this run
 * it replaces an overriding --ca too. Returns the new path. */
void                 signet_application_import_ca_async    (SignetApplication   *self,
                                                            GFile               *file,
                                                            GCancellable        *cancellable,
                                                            GAsyncReadyCallback  callback,
                                                            gpointer             user_data);
/* Returns: (transfer full) (nullable) */
char                *signet_application_import_ca_finish   (SignetApplication   *self,
                                                            GAsyncResult        *result,
                                                            GError             **error);

/* A session for url and ca_path: the current one if it is for them (or
 * signed in), else a new client and session (the CA file read
 * asynchronously). Returns: (transfer none) on finish */
void                 signet_application_prepare_session_async  (SignetApplication   *self,
                                                                const char          *url,
                                                                const char          *ca_path,
                                                                GCancellable        *cancellable,
                                                                GAsyncReadyCallback  callback,
                                                                gpointer             user_data);
SignetSession       *signet_application_prepare_session_finish (SignetApplication   *self,
                                                                GAsyncResult        *result,
                                                                GError             **error);

G_END_DECLS
