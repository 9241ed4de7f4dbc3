/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device.c: see signet-device.h.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "signet-device.h"
#include "signet-secret.h"
#include "signet-serial-transport.h"

struct _SignetDevice
{
  GObject parent_instance;

  SignetDiscoveredDevice *discovered;   /* NULL for a tty added by hand */
  char *path;
  char *title;
  char *subtitle;
  char *serial;
  gint rssi;                            /* BLE: dBm, G_MININT16 when unknown */

  SignetAttestation attestation;
  char *attestation_message;
  gboolean busy;
  gboolean present;

  SignetTransport *transport;
  SignetDeviceSession *ds;
  SignetSession *session;               /* the sign-in ds belongs to */
  gulong progress_id;
  gboolean open;
  gboolean hello;
  gboolean attested;
  gboolean revocation;
  GBytes *authorized_token;             /* wiping: the token of the last AUTHORIZE */
  GVariant *config;
};

G_DEFINE_FINAL_TYPE (SignetDevice, signet_device, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_TITLE,
  PROP_SUBTITLE,
  PROP_ATTESTATION,
  PROP_BUSY,
  PROP_PRESENT,
  PROP_RSSI,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_CHANGED,
  SIGNAL_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static gboolean
is_ble (SignetDevice *self)
{
  return self->discovered != NULL &&
         g_strcmp0 (signet_discovered_device_get_transport (self->discovered), "ble") == 0;
}

static void
update_labels (SignetDevice *self)
{
  const SignetDeviceInfo *info = self->ds != NULL && self->hello ?
                                 signet_device_session_get_info (self->ds) : NULL;
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  const char *product = self->discovered != NULL ?
                        signet_discovered_device_get_product (self->discovered) : NULL;
  /* a BLE device is where its address is (the object path is BlueZ's) */
  const char *where = is_ble (self) && signet_device_get_address (self) != NULL ?
                      signet_device_get_address (self) : self->path;

  if (info != NULL && info->serial != NULL && g_strcmp0 (info->serial, self->serial) != 0)
    {
      g_free (self->serial);
      self->serial = g_strdup (info->serial);
    }
  if (info != NULL && info->model != NULL)
    title = g_strdup (info->model);
  else if (product != NULL)
    title = g_strdup (product);
  else if (is_ble (self) && signet_discovered_device_get_name (self->discovered) != NULL)
    title = g_strdup (signet_discovered_device_get_name (self->discovered));
  else if (is_ble (self))
    title = g_strdup (_("Bluetooth LE Device"));
  else if (self->discovered != NULL)
    title = g_strdup (_("USB Device"));
  else
    title = g_strdup (_("Serial Device"));

  if (self->serial != NULL)
    /* TRANSLATORS: a device's serial number and the port it is on */
    subtitle = g_strdup_printf (_("%s on %s"), self->serial, where);
  else
    subtitle = g_strdup (where);

  if (g_strcmp0 (title, self->title) != 0)
    {
      g_free (self->title);
      self->title = g_steal_pointer (&title);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TITLE]);
    }
  if (g_strcmp0 (subtitle, self->subtitle) != 0)
    {
      g_free (self->subtitle);
      self->subtitle = g_steal_pointer (&subtitle);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUBTITLE]);
    }
}

static void
set_busy (SignetDevice *self,
          gboolean      busy)
{
  if (self->busy == busy)
    return;
  self->busy = busy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
set_attestation (SignetDevice      *self,
                 SignetAttestation  attestation,
                 const char        *message)
{
  g_free (self->attestation_message);
  self->attestation_message = g_strdup (message);
  if (self->attestation != attestation)
    {
      self->attestation = attestation;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ATTESTATION]);
    }
}

static void
changed (SignetDevice *self)
{
  update_labels (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
on_progress (SignetDeviceSession *ds,
             const char          *step,
             double               fraction,
             gpointer             user_data)
{
  SignetDevice *self = user_data;

  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, step, fraction);
}

static void
forget_session (SignetDevice *self)
{
  if (self->ds != NULL && self->progress_id != 0)
    g_signal_handler_disconnect (self->ds, self->progress_id);
  self->progress_id = 0;
  g_clear_object (&self->ds);
  g_clear_object (&self->session);
  if (self->transport != NULL)
    signet_transport_close (self->transport);
  self->open = self->hello = self->attested = self->revocation = FALSE;
  g_clear_pointer (&self->authorized_token, g_bytes_unref);
  g_clear_pointer (&self->config, g_variant_unref);
}

/* ---- connect ------------------------------------------------------------ */

static void device_step (GTask *task);

static void
step_failed (GTask  *task,
             GError *error)
{
  SignetDevice *self = g_task_get_source_object (task);

  /* a link that went away takes the device session with it: start over */
  if (g_error_matches (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_DISCONNECTED) ||
      g_error_matches (error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_DISCONNECTED))
    forget_session (self);
  set_busy (self, FALSE);
  changed (self);
  g_task_return_error (task, error);
  g_object_unref (task);
}

static void
opened_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  SignetDevice *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!signet_transport_open_finish (SIGNET_TRANSPORT (source), result, &error))
    {
      step_failed (task, error);
      return;
    }
  self->open = TRUE;
  device_step (task);
}

static void
hello_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  GTask *task = user_data;
  SignetDevice *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!signet_device_session_hello_finish (SIGNET_DEVICE_SESSION (source), result, &error))
    {
      step_failed (task, error);
      return;
    }
  self->hello = TRUE;
  changed (self);
  device_step (task);
}

static void
attest_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GTask *task = user_data;
  SignetDevice *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!signet_device_session_attest_finish (SIGNET_DEVICE_SESSION (source), result, &error))
    {
      if (error->domain == SIGNET_DEVICE_ERROR &&
          (error->code == SIGNET_DEVICE_ERROR_UNTRUSTED ||
           error->code == SIGNET_DEVICE_ERROR_REVOKED ||
           error->code == SIGNET_DEVICE_ERROR_BAD_EVIDENCE))
        set_attestation (self, SIGNET_ATTESTATION_REFUSED, error->message);
      step_failed (task, error);
      return;
    }
  self->attested = TRUE;
  set_attestation (self, SIGNET_ATTESTATION_TRUSTED,
                   _("The certificate chain verifies to a manufacturer CA of the service, "
                     "the device is not revoked, and it signed a fresh challenge"));
  changed (self);
  device_step (task);
}

static void
revocation_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GTask *task = user_data;
  SignetDevice *self = g_task_get_source_object (task);
  GError *error = NULL;
  guint64 version = 0;

  if (!signet_device_session_push_revocation_finish (SIGNET_DEVICE_SESSION (source), result,
                                                     &version, &error))
    {
      step_failed (task, error);
      return;
    }
  self->revocation = TRUE;
  device_step (task);
}

static void
authorize_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GTask *task = user_data;
  SignetDevice *self = g_task_get_source_object (task);
  GError *error = NULL;
  SignetServiceSession *ss;

  if (!signet_device_session_authorize_finish (SIGNET_DEVICE_SESSION (source), result, &error))
    {
      step_failed (task, error);
      return;
    }
  ss = signet_session_get_service_session (self->session);
  g_clear_pointer (&self->authorized_token, g_bytes_unref);
  if (ss != NULL)
    self->authorized_token = signet_service_session_dup_token (ss);
  device_step (task);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  SignetDevice *self = g_task_get_source_object (task);
  GError *error = NULL;
  GVariant *config;

  config = signet_device_session_read_finish (SIGNET_DEVICE_SESSION (source), result, &error);
  if (config == NULL)
    {
      step_failed (task, error);
      return;
    }
  g_clear_pointer (&self->config, g_variant_unref);
  self->config = config;    /* (transfer full), not floating */
  device_step (task);
}

static gboolean
token_changed (SignetDevice *self)
{
  SignetServiceSession *ss = signet_session_get_service_session (self->session);
  g_autoptr(GBytes) token = ss != NULL ? signet_service_session_dup_token (ss) : NULL;

  return self->authorized_token == NULL || token == NULL ||
         !signet_secret_bytes_equal (token, self->authorized_token);
}

static void
device_step (GTask *task)
{
  SignetDevice *self = g_task_get_source_object (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  if (!self->present)
    {
      step_failed (task, g_error_new_literal (SIGNET_DEVICE_ERROR,
                                              SIGNET_DEVICE_ERROR_DISCONNECTED,
                                              _("The device was disconnected")));
      return;
    }
  if (self->session == NULL ||
      signet_session_get_state (self->session) != SIGNET_SESSION_STATE_SIGNED_IN)
    {
      step_failed (task, g_error_new_literal (SIGNET_SESSION_ERROR,
                                              SIGNET_SESSION_ERROR_NOT_SIGNED_IN,
                                              _("Sign in first")));
      return;
    }
  if (self->transport == NULL)
    {
      if (self->discovered != NULL)
        self->transport = signet_discovered_device_create_transport (self->discovered);
      else
        self->transport = SIGNET_TRANSPORT (signet_serial_transport_new (self->path));
    }
  if (!self->open)
    {
      signet_transport_open_async (self->transport, cancellable, opened_cb, task);
      return;
    }
  if (self->ds == NULL)
    {
      self->ds = signet_session_open_device (self->session, self->transport, &error);
      if (self->ds == NULL)
        {
          step_failed (task, error);
          return;
        }
      self->progress_id = g_signal_connect (self->ds, "progress", G_CALLBACK (on_progress), self);
    }
  if (!self->hello)
    {
      signet_device_session_hello_async (self->ds, cancellable, hello_cb, task);
      return;
    }
  if (!self->attested)
    {
      signet_device_session_attest_async (self->ds, cancellable, attest_cb, task);
      return;
    }
  if (!self->revocation)
    {
      signet_device_session_push_revocation_async (self->ds, cancellable, revocation_cb, task);
      return;
    }
  if (token_changed (self))
    {
      signet_device_session_authorize_async (self->ds, cancellable, authorize_cb, task);
      return;
    }
  if (self->config == NULL)
    {
      signet_device_session_read_async (self->ds, cancellable, read_cb, task);
      return;
    }
  set_busy (self, FALSE);
  changed (self);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

void
signet_device_connect_async (SignetDevice        *self,
                             SignetSession       *session,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (SIGNET_IS_DEVICE (self));
  g_return_if_fail (SIGNET_IS_SESSION (session));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, signet_device_connect_async);
  if (self->busy)
    {
      g_task_return_new_error (task, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_NOT_READY, "%s",
                               _("The device is busy"));
      g_object_unref (task);
      return;
    }
  /* a device session belongs to one sign-in */
  if (self->session != session)
    {
      forget_session (self);
      self->session = g_object_ref (session);
    }
  set_busy (self, TRUE);
  device_step (task);
}

gboolean
signet_device_connect_finish (SignetDevice  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
signet_device_reattest (SignetDevice *self)
{
  g_return_if_fail (SIGNET_IS_DEVICE (self));

  if (self->busy)
    return;
  self->attested = FALSE;
  set_attestation (self, SIGNET_ATTESTATION_UNKNOWN, NULL);
}

void
signet_device_refresh_config_async (SignetDevice        *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (SIGNET_IS_DEVICE (self));

  g_clear_pointer (&self->config, g_variant_unref);
  if (self->session == NULL)
    {
      GTask *task = g_task_new (self, cancellable, callback, user_data);

      g_task_return_new_error (task, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_NOT_SIGNED_IN,
                               "%s", _("Sign in first"));
      g_object_unref (task);
      return;
    }
  signet_device_connect_async (self, self->session, cancellable, callback, user_data);
}

gboolean
signet_device_refresh_config_finish (SignetDevice  *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return signet_device_connect_finish (self, result, error);
}

void
signet_device_set_removed (SignetDevice *self)
{
  g_return_if_fail (SIGNET_IS_DEVICE (self));

  if (!self->present)
    return;
  self->present = FALSE;
  if (!self->busy)
    forget_session (self);
  else if (self->transport != NULL)
    signet_transport_close (self->transport);   /* the step under way fails */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENT]);
  changed (self);
}

void
signet_device_disconnect (SignetDevice *self)
{
  g_return_if_fail (SIGNET_IS_DEVICE (self));

  forget_session (self);
  set_attestation (self, SIGNET_ATTESTATION_UNKNOWN, NULL);
  changed (self);
}

/* ---- GObject ------------------------------------------------------------ */

static void
signet_device_dispose (GObject *object)
{
  SignetDevice *self = SIGNET_DEVICE (object);

  forget_session (self);
  g_clear_object (&self->transport);
  G_OBJECT_CLASS (signet_device_parent_class)->dispose (object);
}

static void
signet_device_finalize (GObject *object)
{
  SignetDevice *self = SIGNET_DEVICE (object);

  g_clear_pointer (&self->discovered, signet_discovered_device_unref);
  g_free (self->path);
  g_free (self->title);
  g_free (self->subtitle);
  g_free (self->serial);
  g_free (self->attestation_message);
  G_OBJECT_CLASS (signet_device_parent_class)->finalize (object);
}

static void
signet_device_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SignetDevice *self = SIGNET_DEVICE (object);

  switch (prop_id)
    {
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_SUBTITLE:
      g_value_set_string (value, self->subtitle);
      break;
    case PROP_ATTESTATION:
      g_value_set_int (value, self->attestation);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, self->busy);
      break;
    case PROP_PRESENT:
      g_value_set_boolean (value, self->present);
      break;
    case PROP_RSSI:
      g_value_set_int (value, self->rssi);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_device_class_init (SignetDeviceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = signet_device_dispose;
  object_class->finalize = signet_device_finalize;
  object_class->get_property = signet_device_get_property;

  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SUBTITLE] =
    g_param_spec_string ("subtitle", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_ATTESTATION] =
    g_param_spec_int ("attestation", NULL, NULL, SIGNET_ATTESTATION_UNKNOWN,
                      SIGNET_ATTESTATION_REFUSED, SIGNET_ATTESTATION_UNKNOWN,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_PRESENT] =
    g_param_spec_boolean ("present", NULL, NULL, TRUE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_RSSI] =
    g_param_spec_int ("rssi", NULL, NULL, G_MININT16, G_MAXINT16, G_MININT16,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 0);
  signals[SIGNAL_PROGRESS] = g_signal_new ("progress", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_DOUBLE);
}

static void
signet_device_init (SignetDevice *self)
{
  self->present = TRUE;
  self->rssi = G_MININT16;
}

SignetDevice *
signet_device_new_discovered (SignetDiscoveredDevice *info)
{
  SignetDevice *self;

  g_return_val_if_fail (info != NULL, NULL);

  self = g_object_new (SIGNET_TYPE_DEVICE, NULL);
  self->discovered = signet_discovered_device_ref (info);
  self->path = g_strdup (signet_discovered_device_get_device_node (info));
  self->serial = g_strdup (signet_discovered_device_get_serial (info));
  if (g_strcmp0 (signet_discovered_device_get_transport (info), "ble") == 0)
    self->rssi = signet_discovered_device_get_rssi (info);
  update_labels (self);
  return self;
}

SignetDevice *
signet_device_new_serial (const char *path)
{
  SignetDevice *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (SIGNET_TYPE_DEVICE, NULL);
  self->path = g_strdup (path);
  update_labels (self);
  return self;
}

const char *
signet_device_get_transport_kind (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->discovered != NULL ? signet_discovered_device_get_transport (self->discovered)
                                  : "serial";
}

const char *
signet_device_get_address (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return is_ble (self) ? signet_discovered_device_get_address (self->discovered) : NULL;
}

gint
signet_device_get_rssi (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), G_MININT16);

  return self->rssi;
}

SignetTransport *
signet_device_get_transport (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->transport;
}

void
signet_device_discovered_changed (SignetDevice *self)
{
  gint rssi;

  g_return_if_fail (SIGNET_IS_DEVICE (self));

  if (!is_ble (self))
    return;
  rssi = signet_discovered_device_get_rssi (self->discovered);
  if (rssi != self->rssi)
    {
      self->rssi = rssi;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RSSI]);
    }
  /* the name may have come late (a scan response) */
  update_labels (self);
}

const char *
signet_device_get_path (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->path;
}

const char *
signet_device_get_title (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->title;
}

const char *
signet_device_get_subtitle (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->subtitle;
}

const char *
signet_device_get_serial (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->serial;
}

SignetAttestation
signet_device_get_attestation (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), SIGNET_ATTESTATION_UNKNOWN);

  return self->attestation;
}

const char *
signet_device_get_attestation_message (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->attestation_message;
}

gboolean
signet_device_get_busy (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), FALSE);

  return self->busy;
}

gboolean
signet_device_get_present (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), FALSE);

  return self->present;
}

SignetDiscoveredDevice *
signet_device_get_discovered (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->discovered;
}

const SignetDeviceInfo *
signet_device_get_info (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->ds != NULL && self->hello ? signet_device_session_get_info (self->ds) : NULL;
}

SignetDeviceSession *
signet_device_get_session (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->ds;
}

GVariant *
signet_device_get_config (SignetDevice *self)
{
  g_return_val_if_fail (SIGNET_IS_DEVICE (self), NULL);

  return self->config;
}

gboolean
signet_device_matches (SignetDevice *self,
                       const char   *search)
{
  g_autofree char *needle = NULL;
  const char *fields[4];

  g_return_val_if_fail (SIGNET_IS_DEVICE (self), FALSE);

  if (search == NULL || *search == '\0')
    return TRUE;
  needle = g_utf8_casefold (search, -1);
  fields[0] = self->title;
  fields[1] = self->serial;
  fields[2] = self->path;
  fields[3] = signet_device_get_address (self);
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *hay = fields[i] != NULL ? g_utf8_casefold (fields[i], -1) : NULL;

      if (hay != NULL && strstr (hay, needle) != NULL)
        return TRUE;
    }
  return FALSE;
}
