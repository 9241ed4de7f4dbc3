/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "signet-device-session.h"
#include "signet-serial-transport.h"
#include "signet-service-client.h"
#include "signetctl-devices.h"
#include "signetctl-direct.h"
#include "signetctl-error.h"
#include "signetctl-output.h"

/* One asynchronous step, waited for on a main loop of our own. */
typedef struct {
  GMainLoop *loop;
  GAsyncResult *result;
} Wait;

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *w = user_data;

  w->result = g_object_ref (result);
  g_main_loop_quit (w->loop);
}

/* Run the loop until wait_cb; the result is w->result (to unref). */
static GAsyncResult *
wait_run (Wait *w)
{
  g_clear_object (&w->result);
  g_main_loop_run (w->loop);
  return w->result;
}

/* The tty that name gives, without an agent: serial:PATH, or the USB
 * serial number of a device the monitor sees. */
static char *
resolve_port (const char  *name,
              GError     **error)
{
  g_autoptr(SignetctlDevices) usb = NULL;
  g_autoptr(GVariant) list = NULL;
  GVariantIter it;
  GVariant *dev;
  char *path = NULL;

  if (g_str_has_prefix (name, "serial:"))
    {
      if (!g_path_is_absolute (name + strlen ("serial:")))
        {
          g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                       _("“%s”: a port is an absolute path, as in serial:/dev/ttyACM0"), name);
          return NULL;
        }
      return g_strdup (name + strlen ("serial:"));
    }
  usb = signetctl_devices_new (NULL, NULL);
  list = signetctl_devices_list (usb);
  g_variant_iter_init (&it, list);
  while (path == NULL && (dev = g_variant_iter_next_value (&it)) != NULL)
    {
      const char *usb_serial = NULL;
      const char *node = NULL;

      if (g_variant_lookup (dev, "usb_serial", "&s", &usb_serial) &&
          g_strcmp0 (usb_serial, name) == 0 && g_variant_lookup (dev, "path", "&s", &node))
        path = g_strdup (node);
      g_variant_unref (dev);
    }
  if (path == NULL)
    g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_UNKNOWN_DEVICE,
                 _("No device “%s” is plugged in: name it by its port "
                   "(serial:/dev/ttyACM0; `signetctl devices` lists them)"), name);
  return path;
}

static void
on_progress (SignetDeviceSession *ds,
             const char          *step,
             double               fraction,
             gpointer             user_data)
{
  signetctl_output_progress (user_data, step, fraction);
}

static void
add_str (GVariantBuilder *b,
         const char      *key,
         const char      *value)
{
  if (value != NULL)
    g_variant_builder_add (b, "{sv}", key, g_variant_new_string (value));
}

/* What the agent's Attest gives (signetctl-agent.c hello_dict). */
static GVariant *
identity_dict (SignetDeviceSession *ds,
               const char          *port)
{
  g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  const SignetDeviceInfo *info = signet_device_session_get_info (ds);

  add_str (&b, "device", info->serial != NULL ? info->serial : port);
  add_str (&b, "port", port);
  add_str (&b, "serial", info->serial);
  add_str (&b, "model", info->model);
  add_str (&b, "firmware", info->firmware);
  g_variant_builder_add (&b, "{sv}", "config_version",
                         g_variant_new_uint64 (info->config_version));
  g_variant_builder_add (&b, "{sv}", "revocation_version",
                         g_variant_new_uint64 (info->revocation_version));
  g_variant_builder_add (&b, "{sv}", "capabilities", g_variant_new_uint64 (info->capabilities));
  g_variant_builder_add (&b, "{sv}", "device_time", g_variant_new_uint64 (info->device_time));
  g_variant_builder_add (&b, "{sv}", "clock", g_variant_new_boolean (info->clock));
  g_variant_builder_add (&b, "{sv}", "attested", g_variant_new_boolean (TRUE));
  add_str (&b, "cert_sha256", signet_device_session_get_cert_fingerprint (ds));
  add_str (&b, "verdict", "trusted");
  g_variant_builder_add (&b, "{sv}", "signed_in", g_variant_new_boolean (FALSE));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

GVariant *
signetctl_direct_attest (const SignetctlConfig  *config,
                         const char             *name,
                         GError                **error)
{
  g_autoptr(SignetServiceClient) client = NULL;
  g_autoptr(SignetServiceTrust) trust = NULL;
  g_autoptr(SignetTransport) transport = NULL;
  g_autoptr(SignetDeviceSession) ds = NULL;
  g_autoptr(GError) local = NULL;
  g_autofree char *port = NULL;
  GVariant *result = NULL;
  Wait w = { 0 };

  if (config->service_url == NULL || config->ca_file == NULL)
    {
      g_set_error_literal (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                           _("Not signed in, and no service to fetch the trust document from: "
                             "give --service URL and --ca FILE (or sign in)"));
      return NULL;
    }
  port = resolve_port (name, error);
  if (port == NULL)
    return NULL;

  w.loop = g_main_loop_new (NULL, FALSE);

  /* The manufacturer CAs and the revocation list (GET /v1/trust needs no
   * sign-in). Fetched before the tty is opened: the port is held only
   * for the device steps. */
  client = signet_service_client_new_for_ca_file (config->service_url, config->ca_file, error);
  if (client == NULL)
    goto out;
  if (config->pin != NULL && !signet_service_client_set_spki_pin (client, config->pin, error))
    goto out;
  signetctl_output_progress (name, "trust", 0);
  signet_service_client_trust_async (client, NULL, wait_cb, &w);
  trust = signet_service_client_trust_finish (client, wait_run (&w), error);
  if (trust == NULL)
    goto out;

  transport = SIGNET_TRANSPORT (signet_serial_transport_new (port));
  signet_transport_open_async (transport, NULL, wait_cb, &w);
  if (!signet_transport_open_finish (transport, wait_run (&w), &local))
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_DEVICE_UNREACHABLE,
                   _("Cannot open %s: %s"), port, local->message);
      goto out;
    }
  ds = signet_device_session_new (transport, client, NULL, trust, NULL);
  g_signal_connect (ds, "progress", G_CALLBACK (on_progress), (gpointer) name);

  signet_device_session_hello_async (ds, NULL, wait_cb, &w);
  if (!signet_device_session_hello_finish (ds, wait_run (&w), error))
    goto out_close;
  signet_device_session_attest_async (ds, NULL, wait_cb, &w);
  if (signet_device_session_attest_finish (ds, wait_run (&w), error))
    result = identity_dict (ds, port);
  /* BYE either way; the verdict is already known, a failed BYE changes
   * nothing of it. */
  signet_device_session_bye_async (ds, NULL, wait_cb, &w);
  if (!signet_device_session_bye_finish (ds, wait_run (&w), &local))
    g_debug ("bye: %s", local->message);

out_close:
  signet_transport_close (transport);
out:
  signetctl_output_progress_clear ();
  g_clear_object (&w.result);
  g_main_loop_unref (w.loop);
  return result;
}
