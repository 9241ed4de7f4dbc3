/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-session.c: the technician's signed-in session (see the header;
 * docs/session.md).
 *
 * States: SIGNED_OUT → (sign_in) SIGNING_IN → SIGNED_IN → (sign_out)
 * SIGNED_OUT, or → EXPIRED when the token runs out without a refresh.
 * While signed in, one timer is armed: the refresh (at expires_at less
 * the margin, or sooner after a failure with back-off), and past expiry
 * the expiry itself. Internal calls (refresh) run on a cancellable that
 * sign-out cancels, so nothing of a signed-out session outlives it.
 */
#include "config.h"

#include "signet-session.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "signet-key.h"

G_DEFINE_QUARK (signet-session-error-quark, signet_session_error)

/* Back-off of a failed refresh: first delay and cap (s). */
#define REFRESH_RETRY_MIN 2
#define REFRESH_RETRY_MAX 60

struct _SignetSession {
  GObject parent_instance;

  SignetServiceClient *client;
  char *state_dir;
  char *logs_dir;
  SignetLogUploader *uploader;

  SignetSessionState state;
  SignetServiceSession *service;     /* (nullable): signed in or expired */
  SignetServiceTrust *trust;         /* (nullable) */
  SignetEventLog *log;               /* (nullable) */
  GCancellable *cancellable;         /* of internal calls; cancelled at sign-out */

  gint64 token_lifetime;             /* s, as seen when the token came */
  gint64 last_expires_at;
  gboolean capped;                   /* a refresh gave no later expiry: the
                                      * session is at its maximum */
  guint timer;                       /* refresh or expiry */
  guint retry_delay;                 /* s; 0 after a success */
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_USERNAME,
  PROP_ROLE,
  PROP_SCOPE,
  PROP_EXPIRES_AT,
  PROP_AUTH_TIME,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

enum {
  SIGNAL_REFRESHED,
  SIGNAL_REFRESH_FAILED,
  SIGNAL_EXPIRED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SignetSession, signet_session, G_TYPE_OBJECT)

static void schedule (SignetSession *self);

/* ---- helpers ------------------------------------------------------------- */

static gint64
service_now (SignetSession *self)
{
  return g_get_real_time () / G_USEC_PER_SEC + signet_service_client_get_clock_offset (self->client);
}

static void
notify_all (SignetSession *self)
{
  for (guint i = PROP_STATE; i < N_PROPS; i++)
    g_object_notify_by_pspec (G_OBJECT (self), props[i]);
}

static void
set_state (SignetSession      *self,
           SignetSessionState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_STATE]);
}

static void
clear_timer (SignetSession *self)
{
  g_clear_handle_id (&self->timer, g_source_remove);
}

/* A record of the session's own life; a failure to record breaks the log
 * (the log says so to every later step) and is only reported here. */
static void
log_session_event (SignetSession *self,
                   const char    *type)
{
  g_autoptr(SignetEventData) data = NULL;
  g_autoptr(GError) error = NULL;

  if (self->log == NULL || self->service == NULL || signet_event_log_is_closed (self->log))
    return;
  data = signet_event_data_new ();
  if (!signet_event_data_add_int (data, "expires_at",
                                  signet_service_session_get_expires_at (self->service), &error) ||
      !signet_event_data_add_int (data, "auth_time",
                                  signet_service_session_get_auth_time (self->service), &error) ||
      !signet_event_data_add_text (data, "scope",
                                   signet_service_session_get_scope (self->service), &error) ||
      !signet_event_log_append (self->log, type, NULL, data, &error))
    g_warning ("The session log could not record %s: %s", type, error->message);
}

/* Wipe everything of a sign-in: the service session (token, PoP key), the
 * trust document and the log writer (closed by the caller first when it
 * can be). */
static void
drop_sign_in (SignetSession *self)
{
  clear_timer (self);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->service, signet_service_session_unref);
  g_clear_pointer (&self->trust, signet_service_trust_free);
  g_clear_object (&self->log);
  signet_log_uploader_set_session (self->uploader, NULL);
  self->token_lifetime = 0;
  self->last_expires_at = 0;
  self->capped = FALSE;
  self->retry_delay = 0;
}

static void
note_new_token (SignetSession *self)
{
  gint64 exp = signet_service_session_get_expires_at (self->service);

  self->capped = self->last_expires_at != 0 && exp <= self->last_expires_at;
  self->last_expires_at = exp;
  self->token_lifetime = MAX (1, signet_service_session_get_expires_at (self->service) -
                                 service_now (self));
  self->retry_delay = 0;
}

/* ---- refresh and expiry -------------------------------------------------- */

static gboolean
on_expired (gpointer user_data)
{
  SignetSession *self = user_data;

  self->timer = 0;
  if (self->state != SIGNET_SESSION_STATE_SIGNED_IN)
    return G_SOURCE_REMOVE;
  if (signet_session_get_remaining (self) > 0)
    {
      schedule (self);
      return G_SOURCE_REMOVE;
    }
  log_session_event (self, "session.expired");
  set_state (self, SIGNET_SESSION_STATE_EXPIRED);
  g_signal_emit (self, signals[SIGNAL_EXPIRED], 0);
  return G_SOURCE_REMOVE;
}

static void
auto_refresh_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(SignetSession) self = user_data;
  g_autoptr(GError) error = NULL;

  if (signet_session_refresh_finish (self, result, &error))
    return;  /* rescheduled by the refresh itself */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_CANCELLED) ||
      self->state != SIGNET_SESSION_STATE_SIGNED_IN)
    return;
  g_signal_emit (self, signals[SIGNAL_REFRESH_FAILED], 0, error);
  if (error->domain == SIGNET_SERVICE_ERROR && !signet_service_error_is_transient (error))
    {
      /* the service ended the session (revoked, past its maximum): no
       * refresh will work; the token lives until it expires */
      g_debug ("refresh refused: %s", error->message);
      clear_timer (self);
      self->timer = g_timeout_add_seconds (MAX (1, signet_session_get_remaining (self)),
                                           on_expired, self);
      return;
    }
  self->retry_delay = self->retry_delay == 0 ? REFRESH_RETRY_MIN
                                             : MIN (self->retry_delay * 2, REFRESH_RETRY_MAX);
  schedule (self);
}

static gboolean
on_refresh_due (gpointer user_data)
{
  SignetSession *self = user_data;

  self->timer = 0;
  if (self->state != SIGNET_SESSION_STATE_SIGNED_IN)
    return G_SOURCE_REMOVE;
  if (signet_session_get_remaining (self) <= 0)
    return on_expired (self);
  signet_session_refresh_async (self, self->cancellable, auto_refresh_done, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

/* Arm the one timer: the next refresh (or retry), never past expiry. */
static void
schedule (SignetSession *self)
{
  gint64 remaining, margin, wait;

  clear_timer (self);
  if (self->state != SIGNET_SESSION_STATE_SIGNED_IN || self->service == NULL)
    return;
  remaining = signet_session_get_remaining (self);
  if (remaining <= 0)
    {
      self->timer = g_idle_add (on_expired, self);
      return;
    }
  /* a quarter of the lifetime, at least 30 s -- but never more than half
   * of a short lifetime, or a 10-s token would refresh continuously */
  margin = MAX (self->token_lifetime / 4,
                MIN ((gint64) SIGNET_SESSION_REFRESH_MARGIN_MIN, self->token_lifetime / 2));
  wait = self->retry_delay > 0 ? (gint64) self->retry_delay : remaining - margin;
  if (wait >= remaining || (self->capped && self->retry_delay == 0))
    {
      /* nothing more can be done before expiry */
      self->timer = g_timeout_add_seconds ((guint) remaining, on_expired, self);
      return;
    }
  if (wait <= 0)
    self->timer = g_idle_add (on_refresh_due, self);
  else
    self->timer = g_timeout_add_seconds ((guint) wait, on_refresh_due, self);
}

/* ---- sign-in ------------------------------------------------------------- */

static void
sign_in_failed (SignetSession *self,
                GTask         *task,
                GError        *error)
{
  drop_sign_in (self);
  set_state (self, SIGNET_SESSION_STATE_SIGNED_OUT);
  g_task_return_error (task, error);
}

static void
sign_in_got_trust (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetSession *self = g_task_get_source_object (task);
  GError *error = NULL;

  self->trust = signet_service_client_trust_finish (self->client, result, &error);
  if (self->trust == NULL)
    {
      sign_in_failed (self, task, error);
      return;
    }
  note_new_token (self);
  set_state (self, SIGNET_SESSION_STATE_SIGNED_IN);
  notify_all (self);
  log_session_event (self, "session.sign_in");
  schedule (self);
  g_task_return_boolean (task, TRUE);
}

static void
sign_in_logged_in (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetSession *self = g_task_get_source_object (task);
  g_autoptr(GBytes) k0 = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  GCancellable *cancellable;
  GError *error = NULL;

  self->service = signet_service_client_login_finish (self->client, result, &error);
  if (self->service == NULL)
    {
      sign_in_failed (self, task, error);
      return;
    }

  /* The session's event log, with the key only the service and this
   * writer ever hold. */
  k0 = signet_service_session_take_log_key (self->service);
  if (k0 == NULL)
    {
      sign_in_failed (self, task,
                      g_error_new (SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_BAD_RESPONSE,
                                   _("The service gave no key for the session log.")));
      return;
    }
  name = g_strconcat (signet_service_session_get_id (self->service), ".log", NULL);
  path = g_build_filename (self->logs_dir, name, NULL);
  self->log = signet_event_log_create (path, k0, signet_service_session_get_username (self->service),
                                       signet_service_session_get_id (self->service), NULL, &error);
  if (self->log == NULL ||
      !signet_log_uploader_add_log (self->uploader, path, self->log, &error))
    {
      sign_in_failed (self, task, error);
      return;
    }
  signet_log_uploader_set_session (self->uploader, self->service);

  cancellable = g_task_get_cancellable (task);
  signet_service_client_trust_async (self->client, cancellable, sign_in_got_trust,
                                     g_steal_pointer (&task));
}

void
signet_session_sign_in_async (SignetSession       *self,
                              const char          *username,
                              const char          *password,
                              const char          *otp,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(SignetKey) key = NULL;
  GError *error = NULL;

  g_return_if_fail (SIGNET_IS_SESSION (self));
  g_return_if_fail (username != NULL && password != NULL && otp != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, signet_session_sign_in_async);
  if (self->state == SIGNET_SESSION_STATE_SIGNING_IN || self->state == SIGNET_SESSION_STATE_SIGNED_IN)
    {
      g_task_return_new_error (task, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_BUSY,
                               self->state == SIGNET_SESSION_STATE_SIGNED_IN
                                 ? _("Already signed in: sign out first.")
                                 : _("A sign-in is already running."));
      return;
    }
  drop_sign_in (self);
  /* DESIGN §3: a fresh proof-of-possession key for every sign-in, only
   * ever in this process's memory (wiped with the service session). */
  key = signet_key_generate (&error);
  if (key == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  set_state (self, SIGNET_SESSION_STATE_SIGNING_IN);
  signet_service_client_login_async (self->client, username, password, otp, key, cancellable,
                                     sign_in_logged_in, g_steal_pointer (&task));
}

gboolean
signet_session_sign_in_finish (SignetSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- refresh, step-up, trust --------------------------------------------- */

static gboolean
check_signed_in (SignetSession  *self,
                 GError        **error)
{
  if (self->state == SIGNET_SESSION_STATE_SIGNED_IN && self->service != NULL)
    return TRUE;
  if (self->state == SIGNET_SESSION_STATE_EXPIRED)
    g_set_error_literal (error, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_EXPIRED,
                         _("The session has expired: sign in again."));
  else
    g_set_error_literal (error, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_NOT_SIGNED_IN,
                         _("Not signed in."));
  return FALSE;
}

/* A task for a call that needs the current sign-in: NULL (the error
 * returned through the task) unless signed in; its task data is the
 * service session it began with (see same_sign_in). */
static GTask *
signed_in_task_new (SignetSession       *self,
                    gpointer             source_tag,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, source_tag);
  if (!check_signed_in (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return NULL;
    }
  g_task_set_task_data (task, signet_service_session_ref (self->service),
                        (GDestroyNotify) signet_service_session_unref);
  return task;
}

/* TRUE if the sign-in the task began with is still the current one;
 * otherwise (signed out, and maybe in again, meanwhile) the task returns
 * NOT_SIGNED_IN. */
static gboolean
same_sign_in (GTask *task)
{
  SignetSession *self = g_task_get_source_object (task);

  if (g_task_get_task_data (task) == self->service)
    return TRUE;
  g_task_return_new_error (task, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_NOT_SIGNED_IN,
                           _("Not signed in."));
  return FALSE;
}

static void
refreshed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetSession *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!signet_service_client_refresh_finish (self->client, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!same_sign_in (task))
    return;
  note_new_token (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_EXPIRES_AT]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_SCOPE]);
  log_session_event (self, "session.refresh");
  schedule (self);
  g_signal_emit (self, signals[SIGNAL_REFRESHED], 0);
  g_task_return_boolean (task, TRUE);
}

void
signet_session_refresh_async (SignetSession       *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (SIGNET_IS_SESSION (self));
  task = signed_in_task_new (self, signet_session_refresh_async, cancellable, callback,
                             user_data);
  if (task == NULL)
    return;
  signet_service_client_refresh_async (self->client, self->service, cancellable, refreshed,
                                       g_steal_pointer (&task));
}

gboolean
signet_session_refresh_finish (SignetSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
stepped_up (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetSession *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!signet_service_client_step_up_finish (self->client, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (!same_sign_in (task))
    return;
  note_new_token (self);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_EXPIRES_AT]);
  g_object_notify_by_pspec (G_OBJECT (self), props[PROP_AUTH_TIME]);
  log_session_event (self, "session.step_up");
  schedule (self);
  g_task_return_boolean (task, TRUE);
}

void
signet_session_step_up_async (SignetSession       *self,
                              const char          *otp,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (SIGNET_IS_SESSION (self));
  g_return_if_fail (otp != NULL);
  task = signed_in_task_new (self, signet_session_step_up_async, cancellable, callback,
                             user_data);
  if (task == NULL)
    return;
  signet_service_client_step_up_async (self->client, self->service, otp, cancellable, stepped_up,
                                       g_steal_pointer (&task));
}

gboolean
signet_session_step_up_finish (SignetSession  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
trust_updated (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetSession *self = g_task_get_source_object (task);
  SignetServiceTrust *trust;
  GError *error = NULL;

  trust = signet_service_client_trust_finish (self->client, result, &error);
  if (trust == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (!same_sign_in (task))
    {
      signet_service_trust_free (trust);
      return;
    }
  g_clear_pointer (&self->trust, signet_service_trust_free);
  self->trust = trust;
  g_task_return_boolean (task, TRUE);
}

void
signet_session_update_trust_async (SignetSession       *self,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (SIGNET_IS_SESSION (self));
  task = signed_in_task_new (self, signet_session_update_trust_async, cancellable, callback,
                             user_data);
  if (task == NULL)
    return;
  signet_service_client_trust_async (self->client, cancellable, trust_updated,
                                     g_steal_pointer (&task));
}

gboolean
signet_session_update_trust_finish (SignetSession  *self,
                                    GAsyncResult   *result,
                                    GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- uploads and sign-out ------------------------------------------------ */

static void
uploaded (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!signet_log_uploader_flush_finish (SIGNET_LOG_UPLOADER (source), result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
signet_session_upload_logs_async (SignetSession       *self,
                                  GCancellable        *cancellable,
                                  GAsyncReadyCallback  callback,
                                  gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (SIGNET_IS_SESSION (self));
  task = signed_in_task_new (self, signet_session_upload_logs_async, cancellable, callback,
                             user_data);
  if (task == NULL)
    return;
  signet_log_uploader_flush_async (self->uploader, cancellable, uploaded, task);
}

gboolean
signet_session_upload_logs_finish (SignetSession  *self,
                                   GAsyncResult   *result,
                                   GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct {
  SignetServiceSession *service;
  GError *upload_error;
} SignOut;

static void
sign_out_free (SignOut *so)
{
  g_clear_pointer (&so->service, signet_service_session_unref);
  g_clear_error (&so->upload_error);
  g_free (so);
}

static void
sign_out_finish_task (GTask *task)
{
  SignetSession *self = g_task_get_source_object (task);
  SignOut *so = g_task_get_task_data (task);

  if (self->service == so->service)
    {
      drop_sign_in (self);
      set_state (self, SIGNET_SESSION_STATE_SIGNED_OUT);
      notify_all (self);
    }
  g_task_return_boolean (task, TRUE);
}

static void
sign_out_logged_out (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* Not an error of sign-out: the token is wiped here and expires there. */
  if (!signet_service_client_logout_finish (SIGNET_SERVICE_CLIENT (source), result, &error))
    g_debug ("logout at the service failed: %s", error->message);
  sign_out_finish_task (task);
}

static void
sign_out_uploaded (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  SignetSession *self = g_task_get_source_object (task);
  SignOut *so = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  signet_log_uploader_flush_finish (SIGNET_LOG_UPLOADER (source), result, &so->upload_error);
  signet_service_client_logout_async (self->client, so->service, cancellable,
                                      sign_out_logged_out, g_steal_pointer (&task));
}

void
signet_session_sign_out_async (SignetSession       *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  SignOut *so;

  g_return_if_fail (SIGNET_IS_SESSION (self));
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, signet_session_sign_out_async);
  if (self->state == SIGNET_SESSION_STATE_SIGNING_IN)
    {
      g_task_return_new_error (task, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_BUSY,
                               _("A sign-in is running."));
      return;
    }
  if (self->service == NULL)
    {
      g_task_return_new_error (task, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_NOT_SIGNED_IN,
                               _("Not signed in."));
      return;
    }
  clear_timer (self);
  /* an automatic refresh under way ends here */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  so = g_new0 (SignOut, 1);
  so->service = signet_service_session_ref (self->service);
  g_task_set_task_data (task, so, (GDestroyNotify) sign_out_free);

  /* session.end and the final seal: the log is complete before it goes */
  if (self->log != NULL && !signet_event_log_is_closed (self->log) &&
      !signet_event_log_close_session (self->log, &error))
    g_warning ("The session log could not be closed: %s", error->message);

  if (self->state == SIGNET_SESSION_STATE_EXPIRED)
    {
      /* an expired token can neither upload nor log out: the log waits
       * in the queue for the next sign-in */
      so->upload_error = g_error_new_literal (SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_EXPIRED,
                                              _("The session had expired: its log stays queued "
                                                "for the next sign-in."));
      sign_out_finish_task (task);
      return;
    }
  signet_log_uploader_flush_async (self->uploader, cancellable, sign_out_uploaded,
                                   g_steal_pointer (&task));
}

gboolean
signet_session_sign_out_finish (SignetSession  *self,
                                GAsyncResult   *result,
                                GError        **out_upload_error,
                                GError        **error)
{
  SignOut *so;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  so = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (so != NULL && so->upload_error != NULL && out_upload_error != NULL)
    *out_upload_error = g_error_copy (so->upload_error);
  return TRUE;
}

/* ---- accessors ----------------------------------------------------------- */

SignetSessionState
signet_session_get_state (SignetSession *self)
{
  g_return_val_if_fail (SIGNET_IS_SESSION (self), SIGNET_SESSION_STATE_SIGNED_OUT);
  return self->state;
}

#define SERVICE_GETTER(name, type, zero) \
  type \
  signet_session_get_##name (SignetSession *self) \
  { \
    g_return_val_if_fail (SIGNET_IS_SESSION (self), zero); \
    if (self->service == NULL || self->state == SIGNET_SESSION_STATE_SIGNING_IN) \
      return zero; \
    return signet_service_session_get_##name (self->service); \
  }

SERVICE_GETTER (username, const char *, NULL)
SERVICE_GETTER (role, const char *, NULL)
SERVICE_GETTER (scope, const char *, NULL)
SERVICE_GETTER (expires_at, gint64, 0)
SERVICE_GETTER (auth_time, gint64, 0)

gint64
signet_session_get_remaining (SignetSession *self)
{
  g_return_val_if_fail (SIGNET_IS_SESSION (self), 0);
  if (self->service == NULL || self->state != SIGNET_SESSION_STATE_SIGNED_IN)
    return 0;
  return MAX (0, signet_service_session_get_expires_at (self->service) - service_now (self));
}

SignetServiceClient *
signet_session_get_client (SignetSession *self)
{
  g_return_val_if_fail (SIGNET_IS_SESSION (self), NULL);
  return self->client;
}

SignetServiceSession *
signet_session_get_service_session (SignetSession *self)
{
  g_return_val_if_fail (SIGNET_IS_SESSION (self), NULL);
  return self->state == SIGNET_SESSION_STATE_SIGNED_IN ? self->service : NULL;
}

const SignetServiceTrust *
signet_session_get_trust (SignetSession *self)
{
  g_return_val_if_fail (SIGNET_IS_SESSION (self), NULL);
  return self->trust;
}

SignetEventLog *
signet_session_get_event_log (SignetSession *self)
{
  g_return_val_if_fail (SIGNET_IS_SESSION (self), NULL);
  return self->log;
}

SignetLogUploader *
signet_session_get_uploader (SignetSession *self)
{
  g_return_val_if_fail (SIGNET_IS_SESSION (self), NULL);
  return self->uploader;
}

const char *
signet_session_get_state_dir (SignetSession *self)
{
  g_return_val_if_fail (SIGNET_IS_SESSION (self), NULL);
  return self->state_dir;
}

SignetDeviceSession *
signet_session_open_device (SignetSession    *self,
                            SignetTransport  *transport,
                            GError          **error)
{
  g_return_val_if_fail (SIGNET_IS_SESSION (self), NULL);
  g_return_val_if_fail (SIGNET_IS_TRANSPORT (transport), NULL);
  if (!check_signed_in (self, error))
    return NULL;
  return signet_device_session_new (transport, self->client, self->service, self->trust,
                                    self->log);
}

/* ---- GObject ------------------------------------------------------------- */

static void
signet_session_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SignetSession *self = SIGNET_SESSION (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_USERNAME:
      g_value_set_string (value, signet_session_get_username (self));
      break;
    case PROP_ROLE:
      g_value_set_string (value, signet_session_get_role (self));
      break;
    case PROP_SCOPE:
      g_value_set_string (value, signet_session_get_scope (self));
      break;
    case PROP_EXPIRES_AT:
      g_value_set_int64 (value, signet_session_get_expires_at (self));
      break;
    case PROP_AUTH_TIME:
      g_value_set_int64 (value, signet_session_get_auth_time (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_session_dispose (GObject *object)
{
  SignetSession *self = SIGNET_SESSION (object);

  drop_sign_in (self);
  g_clear_object (&self->uploader);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (signet_session_parent_class)->dispose (object);
}

static void
signet_session_finalize (GObject *object)
{
  SignetSession *self = SIGNET_SESSION (object);

  g_clear_object (&self->cancellable);
  g_free (self->state_dir);
  g_free (self->logs_dir);
  G_OBJECT_CLASS (signet_session_parent_class)->finalize (object);
}

static void
signet_session_class_init (SignetSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = signet_session_get_property;
  object_class->dispose = signet_session_dispose;
  object_class->finalize = signet_session_finalize;

  /* SignetSessionState as an int: no enum type is registered for it */
  props[PROP_STATE] = g_param_spec_int ("state", NULL, NULL, SIGNET_SESSION_STATE_SIGNED_OUT,
                                        SIGNET_SESSION_STATE_EXPIRED,
                                        SIGNET_SESSION_STATE_SIGNED_OUT,
                                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                        G_PARAM_STATIC_STRINGS);
  props[PROP_USERNAME] = g_param_spec_string ("username", NULL, NULL, NULL,
                                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                              G_PARAM_STATIC_STRINGS);
  props[PROP_ROLE] = g_param_spec_string ("role", NULL, NULL, NULL,
                                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                          G_PARAM_STATIC_STRINGS);
  props[PROP_SCOPE] = g_param_spec_string ("scope", NULL, NULL, NULL,
                                           G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                           G_PARAM_STATIC_STRINGS);
  props[PROP_EXPIRES_AT] = g_param_spec_int64 ("expires-at", NULL, NULL, 0, G_MAXINT64, 0,
                                               G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                               G_PARAM_STATIC_STRINGS);
  props[PROP_AUTH_TIME] = g_param_spec_int64 ("auth-time", NULL, NULL, 0, G_MAXINT64, 0,
                                              G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY |
                                              G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  signals[SIGNAL_REFRESHED] = g_signal_new ("refreshed", G_TYPE_FROM_CLASS (klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                            G_TYPE_NONE, 0);
  signals[SIGNAL_REFRESH_FAILED] = g_signal_new ("refresh-failed", G_TYPE_FROM_CLASS (klass),
                                                 G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                                 G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals[SIGNAL_EXPIRED] = g_signal_new ("expired", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
}

static void
signet_session_init (SignetSession *self)
{
  self->cancellable = g_cancellable_new ();
}

static gboolean
make_private_dir (const char  *path,
                  GError     **error)
{
  if (g_mkdir_with_parents (path, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Could not create the folder %s: %s"), path, g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

SignetSession *
signet_session_new (SignetServiceClient  *client,
                    const char           *state_dir,
                    GError              **error)
{
  g_autoptr(SignetSession) self = NULL;
  g_autofree char *uploads = NULL;

  g_return_val_if_fail (SIGNET_IS_SERVICE_CLIENT (client), NULL);
  g_return_val_if_fail (state_dir != NULL, NULL);

  self = g_object_new (SIGNET_TYPE_SESSION, NULL);
  self->client = g_object_ref (client);
  self->state_dir = g_canonicalize_filename (state_dir, NULL);
  self->logs_dir = g_build_filename (self->state_dir, "logs", NULL);
  uploads = g_build_filename (self->state_dir, "uploads", NULL);
  if (!make_private_dir (self->state_dir, error) || !make_private_dir (self->logs_dir, error))
    return NULL;
  self->uploader = signet_log_uploader_new (client, uploads, error);
  if (self->uploader == NULL)
    return NULL;
  /* logs of earlier sign-ins that never reached the service */
  signet_log_uploader_watch_directory (self->uploader, self->logs_dir);
  return g_steal_pointer (&self);
}
