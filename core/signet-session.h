/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-session.h: the technician's signed-in session (DESIGN.md §3
 * "Sign-in"; docs/session.md is its manual).
 *
 * A SignetSession is what the app and signetctl's agent hold while a
 * technician is signed in. It owns, for the length of one sign-in:
 *
 *  - the service session (signet-service-client.h): the token and a fresh
 *    proof-of-possession key made for this sign-in only, kept in memory,
 *    wiped at sign-out or when the object goes;
 *  - the token's refresh: the token is refreshed on its own before it
 *    expires (a quarter of its lifetime before, at least 30 s), retried
 *    with back-off on transient failures until it expires;
 *  - the trust document of the service (GET /v1/trust), fetched at
 *    sign-in and again on demand;
 *  - the session's event log (docs/eventlog.md), a file
 *    STATE_DIR/logs/SESSION-ID.log created at sign-in with the log key the
 *    service gave (the key is never kept elsewhere), queued at once in the
 *    upload queue (STATE_DIR/uploads, signet-log-uploader.h).
 *
 * Step-up is on demand: an operation refused for want of a recent code
 * (SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED, or the device's
 * SIGNET_DEVICE_ERROR_STEP_UP) is retried by the caller after
 * signet_session_step_up_async with a fresh code, and, for a device, a
 * new AUTHORIZE (the token changed).
 *
 * Sign-out ends the event log (session.end + final seal), tries once to
 * upload it, signs out at the service and wipes the key and token. A log
 * that could not be uploaded stays queued on disk (a later flush of the
 * same uploader, while the service session lives, sends it).
 *
 * Use a session from the thread that made it (the client's thread).
 * Errors are the service client's (SIGNET_SERVICE_ERROR), the event log's
 * or the uploader's, and SIGNET_SESSION_ERROR below.
 */
#pragma once

#include <gio/gio.h>

#include "signet-device-session.h"
#include "signet-eventlog.h"
#include "signet-log-uploader.h"
#include "signet-service-client.h"
#include "signet-transport.h"

G_BEGIN_DECLS

#define SIGNET_SESSION_ERROR (signet_session_error_quark ())
GQuark signet_session_error_quark (void);

typedef enum {
  SIGNET_SESSION_ERROR_NOT_SIGNED_IN,   /* no sign-in yet, or signed out */
  SIGNET_SESSION_ERROR_EXPIRED,         /* the token expired and could not be refreshed */
  SIGNET_SESSION_ERROR_BUSY,            /* a sign-in or sign-out is already running */
} SignetSessionError;

typedef enum {
  SIGNET_SESSION_STATE_SIGNED_OUT,
  SIGNET_SESSION_STATE_SIGNING_IN,
  SIGNET_SESSION_STATE_SIGNED_IN,
  SIGNET_SESSION_STATE_EXPIRED,         /* the token ran out: sign in again */
} SignetSessionState;

/* Refresh this long before expiry at least (s); a quarter of the token's
 * lifetime if that is longer. */
#define SIGNET_SESSION_REFRESH_MARGIN_MIN 30

#define SIGNET_TYPE_SESSION (signet_session_get_type ())
G_DECLARE_FINAL_TYPE (SignetSession, signet_session, SIGNET, SESSION, GObject)

/* A signed-out session using client; state_dir (created 0700) holds the
 * event logs (logs/) and the upload queue (uploads/): the app and
 * signetctl use $XDG_STATE_HOME/signet.
 *
 * Properties (read-only, notified): "state" (SignetSessionState),
 * "username", "role", "scope" (strings, NULL when signed out),
 * "expires-at", "auth-time" (gint64, seconds by the service's clock, 0
 * when signed out).
 * Signals: "refreshed" (): a new token; "refresh-failed" (GError*): a
 * refresh failed and will be retried; "expired" (): the token ran out.
 * Returns: (transfer full) (nullable) */
SignetSession *signet_session_new            (SignetServiceClient *client,
                                              const char          *state_dir,
                                              GError             **error);

/* Sign in: a fresh PoP key, POST /v1/login, GET /v1/trust, the event log
 * created (session.start), the refresh scheduled. password and otp are
 * not kept. Fails with BUSY unless signed out or expired. */
void           signet_session_sign_in_async  (SignetSession       *self,
                                              const char          *username,
                                              const char          *password,
                                              const char          *otp,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean       signet_session_sign_in_finish (SignetSession       *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* A new token now (the automatic refresh calls the same). */
void           signet_session_refresh_async  (SignetSession       *self,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean       signet_session_refresh_finish (SignetSession       *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* POST /v1/step-up with a fresh code; logged as session.step_up. */
void           signet_session_step_up_async  (SignetSession       *self,
                                              const char          *otp,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean       signet_session_step_up_finish (SignetSession       *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* GET /v1/trust again (e.g. before attesting, for a fresh revocation
 * list). */
void           signet_session_update_trust_async  (SignetSession       *self,
                                                   GCancellable        *cancellable,
                                                   GAsyncReadyCallback  callback,
                                                   gpointer             user_data);
gboolean       signet_session_update_trust_finish (SignetSession       *self,
                                                   GAsyncResult        *result,
                                                   GError             **error);

/* End the log, upload it (a failure leaves it queued and is not an
 * error of sign-out: *out_upload_error says it, when given), POST
 * /v1/logout, wipe. Always ends signed out, even when the service cannot
 * be reached (the token is then wiped here and expires there). */
void           signet_session_sign_out_async  (SignetSession       *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean       signet_session_sign_out_finish (SignetSession       *self,
                                               GAsyncResult        *result,
                                               GError             **out_upload_error,
                                               GError             **error);

/* Upload the queued logs now (the live one sealed first). */
void           signet_session_upload_logs_async  (SignetSession       *self,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean       signet_session_upload_logs_finish (SignetSession       *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

SignetSessionState signet_session_get_state     (SignetSession *self);
const char        *signet_session_get_username  (SignetSession *self);
const char        *signet_session_get_role      (SignetSession *self);
const char        *signet_session_get_scope     (SignetSession *self);
gint64             signet_session_get_expires_at (SignetSession *self);
gint64             signet_session_get_auth_time (SignetSession *self);
/* Seconds of token left by the service's clock (0 when not signed in). */
gint64             signet_session_get_remaining (SignetSession *self);

/* Returns: (transfer none) */
SignetServiceClient  *signet_session_get_client          (SignetSession *self);
/* Returns: (transfer none) (nullable): NULL unless signed in */
SignetServiceSession *signet_session_get_service_session (SignetSession *self);
/* Returns: (transfer none) (nullable) */
const SignetServiceTrust *signet_session_get_trust       (SignetSession *self);
/* This sign-in's event log. Returns: (transfer none) (nullable) */
SignetEventLog       *signet_session_get_event_log       (SignetSession *self);
/* Returns: (transfer none) */
SignetLogUploader    *signet_session_get_uploader        (SignetSession *self);
const char           *signet_session_get_state_dir       (SignetSession *self);

/* A device session over an opened transport, for this sign-in (its
 * service session, trust and event log). NOT_SIGNED_IN unless signed in.
 * Returns: (transfer full) (nullable) */
SignetDeviceSession  *signet_session_open_device         (SignetSession   *self,
                                                          SignetTransport *transport,
                                                          GError         **error);

G_END_DECLS
