/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "signet-secret.h"
#include "signet-serial-transport.h"
#include "signet-session.h"
#include "signetctl-agent-dbus.h"
#include "signetctl-agent.h"
#include "signetctl-devices.h"
#include "signetctl-error.h"
#include "signetctl-values.h"

/* One device the agent has opened. */
typedef struct {
  char *path;                   /* the tty */
  char *serial;                 /* after HELLO */
  SignetTransport *transport;
  SignetDeviceSession *ds;
  gboolean open;
  gboolean hello;
  gboolean attested;
  gboolean revocation;
  GBytes *authorized_token;     /* the token of the last AUTHORIZE (wiping) */
  gboolean busy;
  gulong progress_id;
} Device;

typedef struct {
  GMainLoop *loop;
  const SignetctlAgentOptions *options;
  GDBusServer *server;
  GPtrArray *connections;       /* (element-type GDBusConnection) */
  SignetctlAgent1 *skeleton;
  SignetServiceClient *client;
  SignetSession *session;
  SignetctlDevices *usb;
  GHashTable *devices;          /* path -> Device */
  guint calls;                  /* calls running */
  gint64 last_activity;         /* monotonic µs */
  guint idle_source;
  gboolean sign_in_tried;
  gboolean shutting_down;
  int exit_status;
} Agent;

/* What each device call needs before its own step. */
typedef enum {
  NEED_HELLO,
  NEED_AUTHORIZED,
} Need;

typedef enum {
  OP_INFO,
  OP_ATTEST,
  OP_APPLY,
  OP_COMMIT,
  OP_ROLLBACK,
} Op;

typedef struct {
  Agent *agent;
  GDBusMethodInvocation *invocation;
  Device *device;
  Op op;
  Need need;
  char *profile_id;
  GVariant *settings;           /* a{ss} */
  gboolean commit;
  SignetServiceProfile *profile;
  SignetDeviceReceipt *apply_receipt;
} Call;

static void device_step (Call *call);
static void begin_shutdown (Agent *agent);

/* ---- helpers ------------------------------------------------------------- */

static void
device_free (Device *d)
{
  if (d->ds != NULL && d->progress_id != 0)
    g_signal_handler_disconnect (d->ds, d->progress_id);
  g_clear_object (&d->ds);
  if (d->transport != NULL)
    signet_transport_close (d->transport);
  g_clear_object (&d->transport);
  g_clear_pointer (&d->authorized_token, g_bytes_unref);
  g_free (d->path);
  g_free (d->serial);
  g_free (d);
}

static const char *
device_name (Device *d)
{
  return d->serial != NULL ? d->serial : d->path;
}

/* After a broken link, start over (open, HELLO...) at the next call. */
static void
device_reset (Device *d)
{
  if (d->ds != NULL && d->progress_id != 0)
    g_signal_handler_disconnect (d->ds, d->progress_id);
  d->progress_id = 0;
  g_clear_object (&d->ds);
  if (d->transport != NULL)
    signet_transport_close (d->transport);
  d->open = d->hello = d->attested = d->revocation = FALSE;
  g_clear_pointer (&d->authorized_token, g_bytes_unref);
}

static char *
hex_of (GBytes *bytes)
{
  const guint8 *p;
  gsize len;
  GString *s;

  if (bytes == NULL)
    return g_strdup ("");
  p = g_bytes_get_data (bytes, &len);
  s = g_string_sized_new (len * 2);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}

static void
add_str (GVariantBuilder *b,
         const char      *key,
         const char      *value)
{
  if (value != NULL)
    g_variant_builder_add (b, "{sv}", key, g_variant_new_string (value));
}

static void
touch (Agent *agent)
{
  agent->last_activity = g_get_monotonic_time ();
}

static Call *
call_new (Agent                 *agent,
          GDBusMethodInvocation *invocation)
{
  Call *call = g_new0 (Call, 1);

  call->agent = agent;
  call->invocation = g_object_ref (invocation);
  agent->calls++;
  touch (agent);
  return call;
}

static void
call_free (Call *call)
{
  if (call->device != NULL)
    call->device->busy = FALSE;
  call->agent->calls--;
  touch (call->agent);
  g_clear_object (&call->invocation);
  g_free (call->profile_id);
  g_clear_pointer (&call->settings, g_variant_unref);
  g_clear_pointer (&call->profile, signet_service_profile_free);
  g_clear_pointer (&call->apply_receipt, signet_device_receipt_free);
  g_free (call);
}

static void
call_return (Call     *call,
             GVariant *value)
{
  g_dbus_method_invocation_return_value (call->invocation, value);
  call_free (call);
}

/* Takes error. */
static void
call_fail (Call   *call,
           GError *error)
{
  Device *d = call->device;

  if (d != NULL && error->domain == SIGNET_DEVICE_ERROR &&
      (error->code == SIGNET_DEVICE_ERROR_DISCONNECTED ||
       error->code == SIGNET_DEVICE_ERROR_TRANSPORT))
    device_reset (d);
  g_dbus_method_invocation_return_gerror (call->invocation, error);
  g_error_free (error);
  call_free (call);
}

static GVariant *
status_dict (Agent *agent)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  SignetSession *s = agent->session;
  SignetServiceSession *ss = signet_session_get_service_session (s);
  SignetEventLog *log = signet_session_get_event_log (s);
  static const char *const states[] = { "signed-out", "signing-in", "signed-in", "expired" };
  SignetSessionState state = signet_session_get_state (s);

  add_str (&b, "state", state < G_N_ELEMENTS (states) ? states[state] : "unknown");
  add_str (&b, "username", signet_session_get_username (s));
  add_str (&b, "role", signet_session_get_role (s));
  add_str (&b, "scope", signet_session_get_scope (s));
  if (ss != NULL)
    add_str (&b, "session", signet_service_session_get_id (ss));
  g_variant_builder_add (&b, "{sv}", "expires_at",
                         g_variant_new_int64 (signet_session_get_expires_at (s)));
  g_variant_builder_add (&b, "{sv}", "auth_time",
                         g_variant_new_int64 (signet_session_get_auth_time (s)));
  g_variant_builder_add (&b, "{sv}", "remaining",
                         g_variant_new_int64 (signet_session_get_remaining (s)));
  if (log != NULL)
    add_str (&b, "log", signet_event_log_get_path (log));
  add_str (&b, "service", signet_service_client_get_base_url (agent->client));
  add_str (&b, "state_dir", agent->options->state_dir);
  g_variant_builder_add (&b, "{sv}", "agent_pid", g_variant_new_int64 (getpid ()));
  g_variant_builder_add (&b, "{sv}", "idle_timeout",
                         g_variant_new_uint32 (agent->options->idle_timeout));
  g_variant_builder_add (&b, "{sv}", "devices",
                         g_variant_new_uint32 (g_hash_table_size (agent->devices)));
  return g_variant_builder_end (&b);
}

static GVariant *
receipt_dict (Device                    *d,
              const SignetDeviceReceipt *r)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  static const char *const ops[] = { "", "apply", "commit", "rollback" };
  g_autofree char *config = hex_of (r->config_digest);
  g_autofree char *command = hex_of (r->command_digest);

  add_str (&b, "device", device_name (d));
  add_str (&b, "port", d->path);
  add_str (&b, "op", r->op < G_N_ELEMENTS (ops) ? ops[r->op] : "unknown");
  g_variant_builder_add (&b, "{sv}", "seq", g_variant_new_uint64 (r->seq));
  g_variant_builder_add (&b, "{sv}", "committed_version",
                         g_variant_new_uint64 (r->committed_version));
  g_variant_builder_add (&b, "{sv}", "pending_version",
                         g_variant_new_uint64 (r->pending_version));
  g_variant_builder_add (&b, "{sv}", "device_time", g_variant_new_uint64 (r->device_time));
  add_str (&b, "config_digest", config);
  add_str (&b, "command_digest", command);
  return g_variant_builder_end (&b);
}

static GVariant *
hello_dict (Device *d)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const SignetDeviceInfo *info = d->ds != NULL ? signet_device_session_get_info (d->ds) : NULL;

  add_str (&b, "device", device_name (d));
  add_str (&b, "port", d->path);
  if (info != NULL)
    {
      add_str (&b, "serial", info->serial);
      add_str (&b, "model", info->model);
      add_str (&b, "firmware", info->firmware);
      g_variant_builder_add (&b, "{sv}", "config_version",
                             g_variant_new_uint64 (info->config_version));
      g_variant_builder_add (&b, "{sv}", "revocation_version",
                             g_variant_new_uint64 (info->revocation_version));
      g_variant_builder_add (&b, "{sv}", "capabilities",
                             g_variant_new_uint64 (info->capabilities));
      g_variant_builder_add (&b, "{sv}", "device_time", g_variant_new_uint64 (info->device_time));
      g_variant_builder_add (&b, "{sv}", "clock", g_variant_new_boolean (info->clock));
    }
  g_variant_builder_add (&b, "{sv}", "attested", g_variant_new_boolean (d->attested));
  if (d->attested && signet_device_session_get_cert_fingerprint (d->ds) != NULL)
    add_str (&b, "cert_sha256", signet_device_session_get_cert_fingerprint (d->ds));
  return g_variant_builder_end (&b);
}

/* The device a DEVICE argument names: "serial:PATH" (opened on first use),
 * a serial HELLO gave, or the USB serial of a device the monitor sees. */
static Device *
find_device (Agent       *agent,
             const char  *name,
             GError     **error)
{
  GHashTableIter iter;
  Device *d;
  const char *path = NULL;
  g_autofree char *usb_path = NULL;

  if (g_str_has_prefix (name, "serial:"))
    path = name + strlen ("serial:");
  else
    {
      g_hash_table_iter_init (&iter, agent->devices);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &d))
        if (g_strcmp0 (d->serial, name) == 0)
          return d;
      if (agent->usb != NULL)
        {
          g_autoptr(GVariant) list = signetctl_devices_list (agent->usb);
          GVariantIter it;
          GVariant *dev;

          g_variant_iter_init (&it, list);
          while (usb_path == NULL && (dev = g_variant_iter_next_value (&it)) != NULL)
            {
              const char *usb_serial = NULL;
              const char *node = NULL;

              if (g_variant_lookup (dev, "usb_serial", "&s", &usb_serial) &&
                  g_strcmp0 (usb_serial, name) == 0 &&
                  g_variant_lookup (dev, "path", "&s", &node))
                usb_path = g_strdup (node);
              g_variant_unref (dev);
            }
        }
      path = usb_path;
    }
  if (path == NULL)
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_UNKNOWN_DEVICE,
                   _("No device “%s” is known in this session: name it by its port "
                     "(serial:/dev/ttyACM0; `signetctl devices` lists them)"), name);
      return NULL;
    }
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                   _("“%s”: a port is an absolute path, as in serial:/dev/ttyACM0"), name);
      return NULL;
    }
  d = g_hash_table_lookup (agent->devices, path);
  if (d == NULL)
    {
      d = g_new0 (Device, 1);
      d->path = g_strdup (path);
      g_hash_table_insert (agent->devices, d->path, d);
    }
  return d;
}

/* ---- device steps --------------------------------------------------------- */

static void
on_progress (SignetDeviceSession *ds,
             const char          *step,
             double               fraction,
             gpointer             user_data)
{
  Device *d = user_data;
  Agent *agent = g_object_get_data (G_OBJECT (ds), "signetctl-agent");

  if (agent != NULL)
    signetctl_agent1_emit_progress (agent->skeleton, device_name (d), step, fraction);
}

static void
opened_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Call *call = user_data;
  g_autoptr(GError) error = NULL;

  if (!signet_transport_open_finish (SIGNET_TRANSPORT (source), result, &error))
    {
      call_fail (call, g_error_new (SIGNETCTL_ERROR, SIGNETCTL_ERROR_DEVICE_UNREACHABLE,
                                    _("Cannot open %s: %s"), call->device->path,
                                    error->message));
      return;
    }
  call->device->open = TRUE;
  device_step (call);
}

static void
hello_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Call *call = user_data;
  Device *d = call->device;
  GError *error = NULL;
  const SignetDeviceInfo *info;

  if (!signet_device_session_hello_finish (SIGNET_DEVICE_SESSION (source), result, &error))
    {
      call_fail (call, error);
      return;
    }
  d->hello = TRUE;
  info = signet_device_session_get_info (d->ds);
  if (info != NULL && info->serial != NULL)
    {
      GHashTableIter iter;
      Device *other;

      /* The same device on another port (re-plugged): forget the old one. */
      g_hash_table_iter_init (&iter, call->agent->devices);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
        if (other != d && g_strcmp0 (other->serial, info->serial) == 0 && !other->busy)
          g_hash_table_iter_remove (&iter);
      g_free (d->serial);
      d->serial = g_strdup (info->serial);
    }
  device_step (call);
}

static void
attest_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;

  if (!signet_device_session_attest_finish (SIGNET_DEVICE_SESSION (source), result, &error))
    {
      call_fail (call, error);
      return;
    }
  call->device->attested = TRUE;
  device_step (call);
}

static void
revocation_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;
  guint64 version = 0;

  if (!signet_device_session_push_revocation_finish (SIGNET_DEVICE_SESSION (source), result,
                                                     &version, &error))
    {
      call_fail (call, error);
      return;
    }
  call->device->revocation = TRUE;
  device_step (call);
}

static void
authorize_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;
  SignetServiceSession *ss;

  if (!signet_device_session_authorize_finish (SIGNET_DEVICE_SESSION (source), result, &error))
    {
      call_fail (call, error);
      return;
    }
  ss = signet_session_get_service_session (call->agent->session);
  g_clear_pointer (&call->device->authorized_token, g_bytes_unref);
  if (ss != NULL)
    call->device->authorized_token = signet_service_session_dup_token (ss);
  device_step (call);
}

static gboolean
token_changed (Agent  *agent,
               Device *d)
{
  SignetServiceSession *ss = signet_session_get_service_session (agent->session);
  g_autoptr(GBytes) token = ss != NULL ? signet_service_session_dup_token (ss) : NULL;

  return d->authorized_token == NULL || token == NULL ||
         !signet_secret_bytes_equal (token, d->authorized_token);
}

static void op_run (Call *call);

/* Bring the device session as far as the call needs, one step at a time,
 * never repeating HELLO (it would roll back a pending change). */
static void
device_step (Call *call)
{
  Agent *agent = call->agent;
  Device *d = call->device;
  GError *error = NULL;

  if (d->transport == NULL)
    d->transport = SIGNET_TRANSPORT (signet_serial_transport_new (d->path));
  if (!d->open)
    {
      signet_transport_open_async (d->transport, NULL, opened_cb, call);
      return;
    }
  if (d->ds == NULL)
    {
      d->ds = signet_session_open_device (agent->session, d->transport, &error);
      if (d->ds == NULL)
        {
          call_fail (call, error);
          return;
        }
      g_object_set_data (G_OBJECT (d->ds), "signetctl-agent", agent);
      d->progress_id = g_signal_connect (d->ds, "progress", G_CALLBACK (on_progress), d);
    }
  if (!d->hello)
    {
      signet_device_session_hello_async (d->ds, NULL, hello_cb, call);
      return;
    }
  if (!d->attested)
    {
      signet_device_session_attest_async (d->ds, NULL, attest_cb, call);
      return;
    }
  if (call->need == NEED_AUTHORIZED && !d->revocation)
    {
      signet_device_session_push_revocation_async (d->ds, NULL, revocation_cb, call);
      return;
    }
  if (call->need == NEED_AUTHORIZED && token_changed (agent, d))
    {
      signet_device_session_authorize_async (d->ds, NULL, authorize_cb, call);
      return;
    }
  op_run (call);
}

static void
start_device_call (Agent                 *agent,
                   GDBusMethodInvocation *invocation,
                   const char            *name,
                   Op                     op,
                   Need                   need,
                   Call                 **out_call)
{
  Call *call = call_new (agent, invocation);
  GError *error = NULL;

  *out_call = NULL;
  if (signet_session_get_state (agent->session) != SIGNET_SESSION_STATE_SIGNED_IN)
    {
      call_fail (call, g_error_new_literal (SIGNET_SESSION_ERROR,
                                            SIGNET_SESSION_ERROR_NOT_SIGNED_IN,
                                            _("Not signed in: run signetctl login")));
      return;
    }
  call->device = find_device (agent, name, &error);
  if (call->device == NULL)
    {
      call_fail (call, error);
      return;
    }
  if (call->device->busy)
    {
      call->device = NULL;
      call_fail (call, g_error_new (SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_NOT_READY,
                                    _("%s is busy with another command: wait for it"), name));
      return;
    }
  call->device->busy = TRUE;
  call->op = op;
  call->need = need;
  *out_call = call;
}

/* ---- the operations ------------------------------------------------------- */

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;
  g_autoptr(GVariant) config = NULL;
  g_autoptr(GVariant) hello = NULL;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  config = signet_device_session_read_finish (SIGNET_DEVICE_SESSION (source), result, &error);
  if (config == NULL)
    {
      call_fail (call, error);
      return;
    }
  hello = g_variant_ref_sink (hello_dict (call->device));
  g_variant_iter_init (&iter, hello);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_variant_builder_add (&b, "{sv}", key, value);
      g_variant_unref (value);
    }
  g_variant_builder_add (&b, "{sv}", "config", config);
  call_return (call, g_variant_new ("(@a{sv})", g_variant_builder_end (&b)));
}

static void
finish_receipt (Call                *call,
                SignetDeviceReceipt *receipt,
                GError              *error)
{
  if (receipt == NULL)
    {
      call_fail (call, error);
      return;
    }
  call_return (call, g_variant_new ("(@a{sv})", receipt_dict (call->device, receipt)));
  signet_device_receipt_free (receipt);
}

static void
commit_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;
  SignetDeviceReceipt *receipt =
    signet_device_session_commit_finish (SIGNET_DEVICE_SESSION (source), result, &error);

  if (receipt != NULL && call->apply_receipt != NULL)
    {
      /* apply --commit: both receipts. */
      g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

      g_variant_builder_add (&b, "{sv}", "apply",
                             receipt_dict (call->device, call->apply_receipt));
      g_variant_builder_add (&b, "{sv}", "commit", receipt_dict (call->device, receipt));
      signet_device_receipt_free (receipt);
      call_return (call, g_variant_new ("(@a{sv})", g_variant_builder_end (&b)));
      return;
    }
  finish_receipt (call, receipt, error);
}

static void
rollback_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;
  SignetDeviceReceipt *receipt =
    signet_device_session_rollback_finish (SIGNET_DEVICE_SESSION (source), result, &error);

  finish_receipt (call, receipt, error);
}

static void
apply_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;
  SignetDeviceReceipt *receipt =
    signet_device_session_apply_finish (SIGNET_DEVICE_SESSION (source), result, &error);

  if (receipt != NULL && call->commit)
    {
      call->apply_receipt = receipt;
      signet_device_session_commit_async (call->device->ds, NULL, commit_cb, call);
      return;
    }
  finish_receipt (call, receipt, error);
}

static void
apply_profiles_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  Call *call = user_data;
  Agent *agent = call->agent;
  GError *error = NULL;
  g_autoptr(GPtrArray) profiles = NULL;
  g_autoptr(GVariant) values = NULL;
  const SignetDeviceInfo *info = signet_device_session_get_info (call->device->ds);

  profiles = signet_service_client_profiles_finish (SIGNET_SERVICE_CLIENT (source), result,
                                                    &error);
  if (profiles == NULL)
    {
      call_fail (call, error);
      return;
    }
  for (guint i = 0; i < profiles->len && call->profile == NULL; i++)
    {
      SignetServiceProfile *p = g_ptr_array_index (profiles, i);

      if (g_strcmp0 (p->id, call->profile_id) == 0)
        call->profile = g_ptr_array_steal_index (profiles, i);
    }
  if (call->profile == NULL)
    {
      call_fail (call, g_error_new (SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                                    _("The service has no profile “%s” for %s (model %s): "
                                      "`signetctl profiles --model %s` lists them"),
                                    call->profile_id, device_name (call->device),
                                    info->model, info->model));
      return;
    }
  values = signetctl_values_type (call->profile, call->settings, &error);
  if (values == NULL)
    {
      call_fail (call, error);
      return;
    }
  /* Checked here too so that a bad value is refused before any sealing. */
  if (!signet_device_session_validate (call->device->ds, call->profile, values, &error))
    {
      call_fail (call, error);
      return;
    }
  if (call->profile->critical)
    {
      gint64 now = g_get_real_time () / G_USEC_PER_SEC +
                   signet_service_client_get_clock_offset (agent->client);

      if (now - signet_session_get_auth_time (agent->session) > SIGNETCTL_STEP_UP_MAX_AGE - 15)
        {
          call_fail (call, g_error_new (SIGNET_SERVICE_ERROR,
                                        SIGNET_SERVICE_ERROR_STEP_UP_REQUIRED,
                                        _("Profile %s is critical: it needs a fresh code "
                                          "(signetctl step-up)"), call->profile->id));
          return;
        }
    }
  signet_device_session_apply_async (call->device->ds, call->profile, values, NULL, apply_cb,
                                     call);
}

static void
attest_done (Call *call)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_autoptr(GVariant) hello = g_variant_ref_sink (hello_dict (call->device));
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_variant_iter_init (&iter, hello);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_variant_builder_add (&b, "{sv}", key, value);
      g_variant_unref (value);
    }
  add_str (&b, "verdict", "trusted");
  call_return (call, g_variant_new ("(@a{sv})", g_variant_builder_end (&b)));
}

static void
op_run (Call *call)
{
  Device *d = call->device;
  SignetServiceSession *ss;
  const SignetDeviceInfo *info;

  switch (call->op)
    {
    case OP_ATTEST:
      attest_done (call);
      return;
    case OP_INFO:
      signet_device_session_read_async (d->ds, NULL, read_cb, call);
      return;
    case OP_APPLY:
      ss = signet_session_get_service_session (call->agent->session);
      info = signet_device_session_get_info (d->ds);
      signet_service_client_profiles_async (call->agent->client, ss, info->model, NULL,
                                            apply_profiles_cb, call);
      return;
    case OP_COMMIT:
      signet_device_session_commit_async (d->ds, NULL, commit_cb, call);
      return;
    case OP_ROLLBACK:
      signet_device_session_rollback_async (d->ds, NULL, rollback_cb, call);
      return;
    default:
      g_assert_not_reached ();
    }
}

/* ---- D-Bus methods -------------------------------------------------------- */

static void
quit_after_reply (Agent *agent)
{
  /* Let the reply leave before the connections close. */
  for (guint i = 0; i < agent->connections->len; i++)
    g_dbus_connection_flush_sync (g_ptr_array_index (agent->connections, i), NULL, NULL);
  g_main_loop_quit (agent->loop);
}

static void
sign_in_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Call *call = user_data;
  Agent *agent = call->agent;
  GError *error = NULL;

  if (!signet_session_sign_in_finish (SIGNET_SESSION (source), result, &error))
    {
      call_fail (call, error);
      /* Nothing to hold: a new login starts a new agent. */
      if (signet_session_get_state (agent->session) != SIGNET_SESSION_STATE_SIGNED_IN)
        {
          agent->exit_status = 0;
          quit_after_reply (agent);
        }
      return;
    }
  call_return (call, g_variant_new ("(@a{sv})", status_dict (agent)));
}

static gboolean
handle_sign_in (SignetctlAgent1       *skeleton,
                GDBusMethodInvocation *invocation,
                const char            *username,
                const char            *password,
                const char            *otp,
                Agent                 *agent)
{
  Call *call = call_new (agent, invocation);
  SignetSessionState state = signet_session_get_state (agent->session);

  if (state == SIGNET_SESSION_STATE_SIGNED_IN || state == SIGNET_SESSION_STATE_SIGNING_IN)
    {
      call_fail (call, g_error_new (SIGNETCTL_ERROR, SIGNETCTL_ERROR_ALREADY_SIGNED_IN,
                                    _("Already signed in as %s: signetctl logout first"),
                                    signet_session_get_username (agent->session)));
      return TRUE;
    }
  agent->sign_in_tried = TRUE;
  signet_session_sign_in_async (agent->session, username, password, otp, NULL, sign_in_cb,
                                call);
  return TRUE;
}

static void
sign_out_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Call *call = user_data;
  Agent *agent = call->agent;
  g_autoptr(GError) upload_error = NULL;
  GError *error = NULL;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const char *log = g_object_get_data (G_OBJECT (call->invocation), "signetctl-log");

  if (!signet_session_sign_out_finish (SIGNET_SESSION (source), result, &upload_error, &error))
    {
      call_fail (call, error);
      quit_after_reply (agent);
      return;
    }
  g_variant_builder_add (&b, "{sv}", "signed_out", g_variant_new_boolean (TRUE));
  g_variant_builder_add (&b, "{sv}", "uploaded", g_variant_new_boolean (upload_error == NULL));
  if (upload_error != NULL)
    add_str (&b, "upload_error", upload_error->message);
  add_str (&b, "log", log);
  call_return (call, g_variant_new ("(@a{sv})", g_variant_builder_end (&b)));
  quit_after_reply (agent);
}

static void
close_devices (Agent *agent)
{
  g_hash_table_remove_all (agent->devices);
}

static gboolean
handle_sign_out (SignetctlAgent1       *skeleton,
                 GDBusMethodInvocation *invocation,
                 Agent                 *agent)
{
  Call *call = call_new (agent, invocation);
  SignetEventLog *log = signet_session_get_event_log (agent->session);

  if (log != NULL && signet_event_log_get_path (log) != NULL)
    g_object_set_data_full (G_OBJECT (invocation), "signetctl-log",
                            g_strdup (signet_event_log_get_path (log)), g_free);
  agent->shutting_down = TRUE;
  close_devices (agent);
  signet_session_sign_out_async (agent->session, NULL, sign_out_cb, call);
  return TRUE;
}

static gboolean
handle_get_status (SignetctlAgent1       *skeleton,
                   GDBusMethodInvocation *invocation,
                   Agent                 *agent)
{
  touch (agent);
  signetctl_agent1_complete_get_status (skeleton, invocation, status_dict (agent));
  return TRUE;
}

static void
step_up_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;

  if (!signet_session_step_up_finish (SIGNET_SESSION (source), result, &error))
    {
      call_fail (call, error);
      return;
    }
  call_return (call, g_variant_new ("(@a{sv})", status_dict (call->agent)));
}

static gboolean
handle_step_up (SignetctlAgent1       *skeleton,
                GDBusMethodInvocation *invocation,
                const char            *otp,
                Agent                 *agent)
{
  Call *call = call_new (agent, invocation);

  signet_session_step_up_async (agent->session, otp, NULL, step_up_cb, call);
  return TRUE;
}

static gboolean
handle_list_devices (SignetctlAgent1       *skeleton,
                     GDBusMethodInvocation *invocation,
                     Agent                 *agent)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr(GPtrArray) opened = g_ptr_array_new ();
  g_autoptr(GVariant) usb = agent->usb != NULL ? signetctl_devices_list (agent->usb) : NULL;
  GHashTableIter iter;
  Device *d;

  touch (agent);
  g_hash_table_iter_init (&iter, agent->devices);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &d))
    g_ptr_array_add (opened, d);
  /* USB devices first, with what the agent knows of each. */
  if (usb != NULL)
    {
      GVariantIter it;
      GVariant *dev;

      g_variant_iter_init (&it, usb);
      while ((dev = g_variant_iter_next_value (&it)) != NULL)
        {
          g_auto(GVariantBuilder) e = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
          const char *path = NULL;
          GVariantIter di;
          const char *key;
          GVariant *value;

          g_variant_lookup (dev, "path", "&s", &path);
          d = path != NULL ? g_hash_table_lookup (agent->devices, path) : NULL;
          g_variant_iter_init (&di, dev);
          while (g_variant_iter_next (&di, "{&sv}", &key, &value))
            {
              g_variant_builder_add (&e, "{sv}", key, value);
              g_variant_unref (value);
            }
          g_variant_builder_add (&e, "{sv}", "open", g_variant_new_boolean (d != NULL &&
                                                                             d->open));
          if (d != NULL)
            {
              add_str (&e, "serial", d->serial);
              g_variant_builder_add (&e, "{sv}", "attested", g_variant_new_boolean (d->attested));
              g_ptr_array_remove (opened, d);
            }
          g_variant_builder_add_value (&b, g_variant_builder_end (&e));
          g_variant_unref (dev);
        }
    }
  for (guint i = 0; i < opened->len; i++)
    {
      g_auto(GVariantBuilder) e = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
      g_autofree char *name = NULL;
      const SignetDeviceInfo *info;

      d = g_ptr_array_index (opened, i);
      name = g_strconcat ("serial:", d->path, NULL);
      info = d->ds != NULL ? signet_device_session_get_info (d->ds) : NULL;
      add_str (&e, "device", name);
      add_str (&e, "path", d->path);
      add_str (&e, "transport", "serial");
      g_variant_builder_add (&e, "{sv}", "open", g_variant_new_boolean (d->open));
      add_str (&e, "serial", d->serial);
      if (info != NULL)
        add_str (&e, "model", info->model);
      g_variant_builder_add (&e, "{sv}", "attested", g_variant_new_boolean (d->attested));
      g_variant_builder_add_value (&b, g_variant_builder_end (&e));
    }
  signetctl_agent1_complete_list_devices (skeleton, invocation, g_variant_builder_end (&b));
  return TRUE;
}

static gboolean
handle_info (SignetctlAgent1       *skeleton,
             GDBusMethodInvocation *invocation,
             const char            *device,
             Agent                 *agent)
{
  Call *call;

  start_device_call (agent, invocation, device, OP_INFO, NEED_AUTHORIZED, &call);
  if (call != NULL)
    device_step (call);
  return TRUE;
}

static gboolean
handle_attest (SignetctlAgent1       *skeleton,
               GDBusMethodInvocation *invocation,
               const char            *device,
               Agent                 *agent)
{
  Call *call;

  start_device_call (agent, invocation, device, OP_ATTEST, NEED_HELLO, &call);
  if (call == NULL)
    return TRUE;
  /* attest always asks the device again, with a fresh challenge */
  call->device->attested = FALSE;
  device_step (call);
  return TRUE;
}

static GVariant *
profile_dict (const SignetServiceProfile *p)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  g_auto(GVariantBuilder) fields = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));

  add_str (&b, "id", p->id);
  g_variant_builder_add (&b, "{sv}", "version", g_variant_new_int64 (p->version));
  add_str (&b, "model", p->model);
  add_str (&b, "class", p->klass);
  g_variant_builder_add (&b, "{sv}", "critical", g_variant_new_boolean (p->critical));
  add_str (&b, "description", p->description);
  for (guint i = 0; p->fields != NULL && i < p->fields->len; i++)
    {
      const SignetServiceProfileField *f = g_ptr_array_index (p->fields, i);
      g_auto(GVariantBuilder) fb = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

      add_str (&fb, "key", f->key);
      add_str (&fb, "type", f->type);
      if (f->has_min)
        g_variant_builder_add (&fb, "{sv}", "min", g_variant_new_int64 (f->min));
      if (f->has_max)
        g_variant_builder_add (&fb, "{sv}", "max", g_variant_new_int64 (f->max));
      if (f->values != NULL)
        g_variant_builder_add (&fb, "{sv}", "values",
                               g_variant_new_strv ((const char * const *) f->values, -1));
      g_variant_builder_add (&fb, "{sv}", "secret", g_variant_new_boolean (f->secret));
      g_variant_builder_add_value (&fields, g_variant_builder_end (&fb));
    }
  g_variant_builder_add (&b, "{sv}", "fields", g_variant_builder_end (&fields));
  return g_variant_builder_end (&b);
}

static void
profiles_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Call *call = user_data;
  GError *error = NULL;
  g_autoptr(GPtrArray) profiles = NULL;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aa{sv}"));

  profiles = signet_service_client_profiles_finish (SIGNET_SERVICE_CLIENT (source), result,
                                                    &error);
  if (profiles == NULL)
    {
      call_fail (call, error);
      return;
    }
  for (guint i = 0; i < profiles->len; i++)
    g_variant_builder_add_value (&b, profile_dict (g_ptr_array_index (profiles, i)));
  call_return (call, g_variant_new ("(@aa{sv})", g_variant_builder_end (&b)));
}

static gboolean
handle_list_profiles (SignetctlAgent1       *skeleton,
                      GDBusMethodInvocation *invocation,
                      const char            *model,
                      Agent                 *agent)
{
  Call *call = call_new (agent, invocation);
  SignetServiceSession *ss = signet_session_get_service_session (agent->session);

  if (ss == NULL || signet_session_get_state (agent->session) != SIGNET_SESSION_STATE_SIGNED_IN)
    {
      call_fail (call, g_error_new_literal (SIGNET_SESSION_ERROR,
                                            SIGNET_SESSION_ERROR_NOT_SIGNED_IN,
                                            _("Not signed in: run signetctl login")));
      return TRUE;
    }
  signet_service_client_profiles_async (agent->client, ss, *model != '\0' ? model : NULL, NULL,
                                        profiles_cb, call);
  return TRUE;
}

static gboolean
handle_apply (SignetctlAgent1       *skeleton,
              GDBusMethodInvocation *invocation,
              const char            *device,
              const char            *profile,
              GVariant              *settings,
              gboolean               commit,
              Agent                 *agent)
{
  Call *call;

  start_device_call (agent, invocation, device, OP_APPLY, NEED_AUTHORIZED, &call);
  if (call == NULL)
    return TRUE;
  call->profile_id = g_strdup (profile);
  call->settings = g_variant_ref (settings);
  call->commit = commit;
  device_step (call);
  return TRUE;
}

static gboolean
handle_commit (SignetctlAgent1       *skeleton,
               GDBusMethodInvocation *invocation,
               const char            *device,
               Agent                 *agent)
{
  Call *call;

  start_device_call (agent, invocation, device, OP_COMMIT, NEED_AUTHORIZED, &call);
  if (call != NULL)
    device_step (call);
  return TRUE;
}

static gboolean
handle_rollback (SignetctlAgent1       *skeleton,
                 GDBusMethodInvocation *invocation,
                 const char            *device,
                 Agent                 *agent)
{
  Call *call;

  start_device_call (agent, invocation, device, OP_ROLLBACK, NEED_AUTHORIZED, &call);
  if (call != NULL)
    device_step (call);
  return TRUE;
}

static void
upload_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  Call *call = user_data;
  Agent *agent = call->agent;
  GError *error = NULL;
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  SignetLogUploader *up = signet_session_get_uploader (agent->session);
  SignetEventLog *log = signet_session_get_event_log (agent->session);
  guint64 before = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (call->invocation),
                                                        "signetctl-sent"));

  if (!signet_session_upload_logs_finish (SIGNET_SESSION (source), result, &error))
    {
      call_fail (call, error);
      return;
    }
  g_variant_builder_add (&b, "{sv}", "bytes_sent",
                         g_variant_new_uint64 (signet_log_uploader_get_bytes_sent (up) - before));
  if (log != NULL && signet_event_log_get_path (log) != NULL)
    {
      const char *path = signet_event_log_get_path (log);

      add_str (&b, "log", path);
      g_variant_builder_add (&b, "{sv}", "acked",
                             g_variant_new_int64 (signet_log_uploader_get_acked (up, path,
                                                                                 NULL)));
      g_variant_builder_add (&b, "{sv}", "pending",
                             g_variant_new_int64 (signet_log_uploader_get_pending (up, path)));
    }
  call_return (call, g_variant_new ("(@a{sv})", g_variant_builder_end (&b)));
}

static gboolean
handle_upload_logs (SignetctlAgent1       *skeleton,
                    GDBusMethodInvocation *invocation,
                    Agent                 *agent)
{
  Call *call = call_new (agent, invocation);
  SignetLogUploader *up = signet_session_get_uploader (agent->session);

  g_object_set_data (G_OBJECT (invocation), "signetctl-sent",
                     GSIZE_TO_POINTER ((gsize) signet_log_uploader_get_bytes_sent (up)));
  signet_session_upload_logs_async (agent->session, NULL, upload_cb, call);
  return TRUE;
}

/* ---- server and lifetime -------------------------------------------------- */

static void
on_connection_closed (GDBusConnection *connection,
                      gboolean         remote_peer_vanished,
                      GError          *error,
                      Agent           *agent)
{
  g_dbus_interface_skeleton_unexport_from_connection (G_DBUS_INTERFACE_SKELETON (agent->skeleton),
                                                      connection);
  g_ptr_array_remove (agent->connections, connection);
}

static gboolean
on_new_connection (GDBusServer     *server,
                   GDBusConnection *connection,
                   Agent           *agent)
{
  g_autoptr(GError) error = NULL;

  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (agent->skeleton),
                                         connection, SIGNETCTL_AGENT_OBJECT_PATH, &error))
    {
      g_warning ("export: %s", error->message);
      return FALSE;
    }
  g_ptr_array_add (agent->connections, g_object_ref (connection));
  g_signal_connect (connection, "closed", G_CALLBACK (on_connection_closed), agent);
  touch (agent);
  return TRUE;
}

static void
shutdown_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Agent *agent = user_data;
  g_autoptr(GError) error = NULL;

  if (!signet_session_sign_out_finish (SIGNET_SESSION (source), result, NULL, &error))
    g_warning ("sign-out: %s", error->message);
  g_main_loop_quit (agent->loop);
}

/* Sign out (ending and uploading the log as SignOut does) and exit. */
static void
begin_shutdown (Agent *agent)
{
  SignetSessionState state;

  if (agent->shutting_down)
    return;
  agent->shutting_down = TRUE;
  close_devices (agent);
  state = signet_session_get_state (agent->session);
  if (state == SIGNET_SESSION_STATE_SIGNED_IN || state == SIGNET_SESSION_STATE_EXPIRED)
    signet_session_sign_out_async (agent->session, NULL, shutdown_cb, agent);
  else
    g_main_loop_quit (agent->loop);
}

static void
on_expired (SignetSession *session,
            Agent         *agent)
{
  begin_shutdown (agent);
}

static gboolean
on_idle_tick (gpointer user_data)
{
  Agent *agent = user_data;
  gint64 idle = (g_get_monotonic_time () - agent->last_activity) / G_USEC_PER_SEC;

  if (agent->calls == 0 && agent->options->idle_timeout > 0 &&
      idle >= agent->options->idle_timeout)
    begin_shutdown (agent);
  /* Started for a login that never came (the CLI died): do not linger. */
  else if (!agent->sign_in_tried && agent->calls == 0 && idle >= 60)
    begin_shutdown (agent);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  begin_shutdown (user_data);
  return G_SOURCE_CONTINUE;
}

gboolean
signetctl_agent_check_dir (const char  *socket_path,
                           GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (socket_path);
  struct stat st;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int e = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   _("Cannot make %s: %s"), dir, g_strerror (e));
      return FALSE;
    }
  if (lstat (dir, &st) != 0 || !S_ISDIR (st.st_mode))
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_AGENT,
                   _("%s is not a directory"), dir);
      return FALSE;
    }
  if (st.st_uid != getuid () || (st.st_mode & 077) != 0)
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_AGENT,
                   _("%s is not a private directory of yours (mode 0700): the agent's socket "
                     "cannot go there"), dir);
      return FALSE;
    }
  return TRUE;
}

static gboolean
prepare_socket (const char  *path,
                GError     **error)
{
  g_autofree char *address = NULL;
  g_autoptr(GDBusConnection) other = NULL;
  struct stat st;

  if (!signetctl_agent_check_dir (path, error))
    return FALSE;
  if (lstat (path, &st) != 0)
    return TRUE;
  if (!S_ISSOCK (st.st_mode))
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_AGENT,
                   _("%s exists and is not a socket"), path);
      return FALSE;
    }
  address = g_strdup_printf ("unix:path=%s", path);
  other = g_dbus_connection_new_for_address_sync (address,
                                                  G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                  NULL, NULL, NULL);
  if (other != NULL)
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_ALREADY_SIGNED_IN,
                   _("An agent already runs on %s"), path);
      return FALSE;
    }
  /* A socket nobody listens on: a crashed agent's. */
  if (g_unlink (path) != 0)
    {
      int e = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   _("Cannot remove the stale socket %s: %s"), path, g_strerror (e));
      return FALSE;
    }
  return TRUE;
}

static void
tell_ready (int         fd,
            const char *text)
{
  gsize len = strlen (text);

  if (fd < 0)
    return;
  while (len > 0)
    {
      ssize_t n = write (fd, text, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      text += n;
      len -= n;
    }
  close (fd);
}

static gboolean
agent_start (Agent   *agent,
             GError **error)
{
  const SignetctlAgentOptions *o = agent->options;
  g_autofree char *address = NULL;
  g_autofree char *guid = g_dbus_generate_guid ();

  agent->client = signet_service_client_new_for_ca_file (o->service_url, o->ca_file, error);
  if (agent->client == NULL)
    return FALSE;
  if (o->pin != NULL && !signet_service_client_set_spki_pin (agent->client, o->pin, error))
    return FALSE;
  agent->session = signet_session_new (agent->client, o->state_dir, error);
  if (agent->session == NULL)
    return FALSE;
  g_signal_connect (agent->session, "expired", G_CALLBACK (on_expired), agent);

  agent->skeleton = signetctl_agent1_skeleton_new ();
  g_signal_connect (agent->skeleton, "handle-sign-in", G_CALLBACK (handle_sign_in), agent);
  g_signal_connect (agent->skeleton, "handle-sign-out", G_CALLBACK (handle_sign_out), agent);
  g_signal_connect (agent->skeleton, "handle-get-status", G_CALLBACK (handle_get_status), agent);
  g_signal_connect (agent->skeleton, "handle-step-up", G_CALLBACK (handle_step_up), agent);
  g_signal_connect (agent->skeleton, "handle-list-devices", G_CALLBACK (handle_list_devices),
                    agent);
  g_signal_connect (agent->skeleton, "handle-info", G_CALLBACK (handle_info), agent);
  g_signal_connect (agent->skeleton, "handle-attest", G_CALLBACK (handle_attest), agent);
  g_signal_connect (agent->skeleton, "handle-list-profiles", G_CALLBACK (handle_list_profiles),
                    agent);
  g_signal_connect (agent->skeleton, "handle-apply", G_CALLBACK (handle_apply), agent);
  g_signal_connect (agent->skeleton, "handle-commit", G_CALLBACK (handle_commit), agent);
  g_signal_connect (agent->skeleton, "handle-rollback", G_CALLBACK (handle_rollback), agent);
  g_signal_connect (agent->skeleton, "handle-upload-logs", G_CALLBACK (handle_upload_logs),
                    agent);

  if (!prepare_socket (o->socket_path, error))
    return FALSE;
  address = g_strdup_printf ("unix:path=%s", o->socket_path);
  agent->server = g_dbus_server_new_sync (address,
                                          G_DBUS_SERVER_FLAGS_AUTHENTICATION_REQUIRE_SAME_USER,
                                          guid, NULL, NULL, error);
  if (agent->server == NULL)
    return FALSE;
  g_signal_connect (agent->server, "new-connection", G_CALLBACK (on_new_connection), agent);
  g_dbus_server_start (agent->server);
  if (g_chmod (o->socket_path, 0600) != 0)
    {
      int e = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (e),
                   _("Cannot restrict %s: %s"), o->socket_path, g_strerror (e));
      return FALSE;
    }
  agent->usb = signetctl_devices_new (NULL, NULL);
  return TRUE;
}

int
signetctl_agent_run (const SignetctlAgentOptions *options)
{
  Agent agent = { 0 };
  g_autoptr(GError) error = NULL;

  umask (077);
  signetctl_error_init ();
  agent.options = options;
  agent.loop = g_main_loop_new (NULL, FALSE);
  agent.connections = g_ptr_array_new_with_free_func (g_object_unref);
  agent.devices = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) device_free);
  touch (&agent);

  if (!agent_start (&agent, &error))
    {
      g_autofree char *line = g_strdup_printf ("error: %s\n", error->message);

      tell_ready (options->ready_fd, line);
      if (options->ready_fd < 0)
        g_printerr ("signetctl agent: %s\n", error->message);
      agent.exit_status = 1;
    }
  else
    {
      tell_ready (options->ready_fd, "ready\n");
      agent.idle_source = g_timeout_add_seconds (1, on_idle_tick, &agent);
      g_unix_signal_add (SIGTERM, on_signal, &agent);
      g_unix_signal_add (SIGINT, on_signal, &agent);
      g_unix_signal_add (SIGHUP, on_signal, &agent);
      g_main_loop_run (agent.loop);
    }

  /* Wipe and go. */
  g_clear_handle_id (&agent.idle_source, g_source_remove);
  if (agent.server != NULL)
    {
      g_dbus_server_stop (agent.server);
      g_unlink (options->socket_path);
    }
  for (guint i = 0; i < agent.connections->len; i++)
    g_dbus_connection_close_sync (g_ptr_array_index (agent.connections, i), NULL, NULL);
  g_hash_table_destroy (agent.devices);
  g_clear_pointer (&agent.usb, signetctl_devices_free);
  g_clear_object (&agent.server);
  g_ptr_array_unref (agent.connections);
  g_clear_object (&agent.skeleton);
  g_clear_object (&agent.session);
  g_clear_object (&agent.client);
  g_main_loop_unref (agent.loop);
  return agent.exit_status;
}
