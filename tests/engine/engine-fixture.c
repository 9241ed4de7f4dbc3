/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * engine-fixture.c: see engine-fixture.h.
 */
#include "config.h"

#include "engine-fixture.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include <glib/gstdio.h>

#include "signet-ble-monitor.h"
#include "signet-secret.h"
#include "signet-totp.h"

const char fixture_wifi_profile_json[] =
  "{\"id\": \"acme-wifi\", \"version\": 3, \"model\": \"acme-gw1\", \"class\": \"credential\",\n"
  " \"critical\": true, \"description\": \"Site Wi-Fi credentials\",\n"
  " \"fields\": [\n"
  "   {\"key\": \"wifi.ssid\", \"type\": \"string\", \"min\": 1, \"max\": 32},\n"
  "   {\"key\": \"wifi.psk\", \"type\": \"string\", \"min\": 8, \"max\": 63, \"secret\": true,\n"
  "    \"vault\": \"site-a/wifi-psk\"},\n"
  "   {\"key\": \"wifi.channel\", \"type\": \"int\", \"min\": 1, \"max\": 13},\n"
  "   {\"key\": \"wifi.band\", \"type\": \"enum\", \"values\": [\"2g4\", \"5g\"]}]}\n";

static const char *signetd_path;
static const char *devsim_path;
static const char *models_dir;

gboolean
fixture_parse_args (int    argc,
                    char **argv)
{
  if (argc <= 3)
    return FALSE;
  signetd_path = argv[1];
  devsim_path = argv[2];
  models_dir = argv[3];
  return TRUE;
}

const char *fixture_signetd (void) { return signetd_path; }
const char *fixture_devsim (void) { return devsim_path; }
const char *fixture_models_dir (void) { return models_dir; }

gboolean
fixture_transport_is_ble (void)
{
  return g_strcmp0 (g_getenv ("SIGNET_TEST_TRANSPORT"), "ble") == 0;
}

/* ---- programs ------------------------------------------------------------ */

static gboolean
run_va (const char  *stdin_text,
        char       **out,
        char       **err,
        gboolean     must_succeed,
        const char  *program,
        va_list      ap)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *o = NULL;
  g_autofree char *e = NULL;
  const char *arg;

  g_ptr_array_add (argv, (char *) program);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  g_ptr_array_add (argv, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  p = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, stdin_text, NULL, &o, &e, &error);
  g_assert_no_error (error);
  if (must_succeed && !g_subprocess_get_successful (p))
    g_error ("%s %s failed: %s", program, (char *) argv->pdata[1], e);
  if (out != NULL)
    *out = g_steal_pointer (&o);
  if (err != NULL)
    *err = g_steal_pointer (&e);
  return g_subprocess_get_successful (p);
}

char *
fixture_run (const char *stdin_text,
             const char *program,
             ...)
{
  char *out = NULL;
  va_list ap;

  va_start (ap, program);
  run_va (stdin_text, &out, NULL, TRUE, program, ap);
  va_end (ap);
  return out;
}

gboolean
fixture_try_run (const char  *stdin_text,
                 char       **out,
                 char       **err,
                 const char  *program,
                 ...)
{
  gboolean ok;
  va_list ap;

  va_start (ap, program);
  ok = run_va (stdin_text, out, err, FALSE, program, ap);
  va_end (ap);
  return ok;
}

void
fixture_rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        fixture_rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* A test that aborts must not leave its signetd and simulators behind
 * (they would hold ports and CPU for the next runs): they die with it. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Spawn argv, read its first stdout line and match pattern against it;
 * the first group in *out_match. */
static GSubprocess *
spawn_until (const char         *stderr_path,
             const char         *pattern,
             char              **out_match,
             const char * const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GRegex) re = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;
  g_autofree char *line = NULL;
  GSubprocess *p;

  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  /* the tests' fatal-warnings is for this process: libsoup warns when a
   * client hangs up early (a cancelled call), which must not kill signetd */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_set_stderr_file_path (launcher, stderr_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  p = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);
  if (line == NULL || !g_regex_match (re, line, 0, &m))
    {
      g_autofree char *err = NULL;

      g_file_get_contents (stderr_path, &err, NULL, NULL);
      g_error ("%s did not start (%s): %s", argv[0], line != NULL ? line : "no line",
               err != NULL ? err : "?");
    }
  *out_match = g_match_info_fetch (m, 1);
  return p;
}

static void
stop_process (GSubprocess **p)
{
  if (*p == NULL)
    return;
  g_subprocess_send_signal (*p, SIGTERM);
  g_subprocess_wait (*p, NULL, NULL);
  g_clear_object (p);
}

/* ---- async --------------------------------------------------------------- */

void
fixture_got_result (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

#define FIXTURE_WAIT_MAX_S 300

static gboolean
wake_up (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

GAsyncResult *
fixture_wait (GAsyncResult **slot)
{
  /* No call of these tests takes minutes: a hang is a failure, named
   * here, not a test killed by the harness's timeout without a word. */
  gint64 deadline = g_get_monotonic_time () + FIXTURE_WAIT_MAX_S * G_USEC_PER_SEC;
  guint tick = g_timeout_add_seconds (1, wake_up, NULL);

  while (*slot == NULL)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("an asynchronous call did not complete within %d s", FIXTURE_WAIT_MAX_S);
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);
  return *slot;
}

/* ---- the service --------------------------------------------------------- */

static void
merge_config (const char *data,
              const char *config)
{
  g_autofree char *path = g_build_filename (data, "signetd.conf", NULL);
  g_autoptr(GKeyFile) base = g_key_file_new ();
  g_autoptr(GKeyFile) extra = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) groups = NULL;

  g_assert_true (g_key_file_load_from_file (base, path, G_KEY_FILE_KEEP_COMMENTS, &error));
  g_assert_no_error (error);
  g_assert_true (g_key_file_load_from_data (extra, config, -1, 0, &error));
  g_assert_no_error (error);
  groups = g_key_file_get_groups (extra, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (extra, groups[i], NULL, NULL);

      for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          g_autofree char *v = g_key_file_get_value (extra, groups[i], keys[k], NULL);

          g_key_file_set_value (base, groups[i], keys[k], v);
        }
    }
  g_assert_true (g_key_file_save_to_file (base, path, &error));
  g_assert_no_error (error);
}

void
fixture_merge_config (Fixture    *f,
                      const char *config)
{
  merge_config (f->data, config);
}

void
fixture_signetd_start (Fixture *f)
{
  g_autofree char *srv_err = g_build_filename (f->tmp, "signetd.stderr", NULL);
  g_autofree char *listen = NULL;
  g_autofree char *old_url = g_steal_pointer (&f->url);
  g_autoptr(GError) error = NULL;
  const char *argv[] = { signetd_path, "serve", "--data-dir", f->data, "--listen", NULL, NULL };

  g_assert_null (f->signetd);
  /* a restart listens where the service was, so clients keep working */
  listen = old_url != NULL ? g_strdup (old_url + strlen ("https://")) : g_strdup ("127.0.0.1:0");
  argv[5] = listen;
  f->signetd = spawn_until (srv_err, "^listening on (https://127\\.0\\.0\\.1:\\d+)$", &f->url, argv);
  if (f->client != NULL && g_strcmp0 (old_url, f->url) == 0)
    return;
  g_clear_object (&f->client);
  f->client = signet_service_client_new_for_ca_file (f->url, f->tls, &error);
  g_assert_no_error (error);
  /* tests want failures quickly */
  signet_service_client_set_retry_delay (f->client, 50);
}

void
fixture_signetd_stop (Fixture *f)
{
  stop_process (&f->signetd);
}

char *
fixture_totp (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) key = signet_totp_secret_from_base32 (f->totp_secret, &error);
  gint64 step;
  char *code;

  g_assert_no_error (error);
  /* signetd takes a code of the next step too (window 1) but never a step
   * at or before one already used: take steps in order, waiting when the
   * next would be too far ahead */
  for (;;)
    {
      gint64 now_step = g_get_real_time () / G_USEC_PER_SEC / 30;

      step = MAX (now_step, f->last_totp_step + 1);
      if (step <= now_step + 1)
        break;
      /* keep the main loop going: timers (token refresh) must not stall */
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (50 * 1000);
    }
  f->last_totp_step = step;
  code = signet_totp_generate (key, step * 30, 30, 6, SIGNET_TOTP_ALGORITHM_SHA1, &error);
  g_assert_no_error (error);
  return code;
}

void
fixture_sign_in (Fixture *f)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(SignetSecretString) code = fixture_totp (f);

  g_clear_pointer (&f->session, signet_service_session_unref);
  g_clear_pointer (&f->profiles, g_ptr_array_unref);
  g_clear_object (&f->log);
  g_clear_pointer (&f->k0, g_bytes_unref);
  FIXTURE_AWAIT (signet_service_client_login_async (f->client, FIXTURE_USER, FIXTURE_PASSWORD,
                                                    code, NULL, NULL, fixture_got_result, &res),
                 res);
  f->session = signet_service_client_login_finish (f->client, res, &error);
  g_assert_no_error (error);
  f->k0 = signet_service_session_take_log_key (f->session);
  g_assert_nonnull (f->k0);
  f->log = signet_event_log_new_in_memory (f->k0, signet_service_session_get_username (f->session),
                                           signet_service_session_get_id (f->session), NULL,
                                           &error);
  g_assert_no_error (error);
  g_clear_pointer (&f->trust, signet_service_trust_free);
  FIXTURE_AWAIT (signet_service_client_trust_async (f->client, NULL, fixture_got_result, &res), res);
  f->trust = signet_service_client_trust_finish (f->client, res, &error);
  g_assert_no_error (error);
  FIXTURE_AWAIT (signet_service_client_profiles_async (f->client, f->session, "acme-gw1", NULL,
                                                       fixture_got_result, &res), res);
  f->profiles = signet_service_client_profiles_finish (f->client, res, &error);
  g_assert_no_error (error);
}

static void
add_profile (Fixture    *f,
             const char *json,
             guint       n)
{
  g_autofree char *name = g_strdup_printf ("profile-%u.json", n);
  g_autofree char *path = g_build_filename (f->tmp, name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, json, -1, &error));
  g_assert_no_error (error);
  g_free (fixture_run (NULL, signetd_path, "profile", "--data-dir", f->data, "add", path, NULL));
}

gboolean
fixture_setup (Fixture            *f,
               const char         *config,
               const char * const *extra_profiles)
{
  if (!fixture_setup_service (f, config, extra_profiles))
    return FALSE;
  fixture_sign_in (f);
  return TRUE;
}

gboolean
fixture_setup_service (Fixture            *f,
                       const char         *config,
                       const char * const *extra_profiles)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) re = NULL;
  g_autoptr(GMatchInfo) m = NULL;
  g_autofree char *out = NULL;
  g_autofree char *ca_cert = NULL;

  memset (f, 0, sizeof *f);
  if (signetd_path == NULL || devsim_path == NULL || models_dir == NULL)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return FALSE;
    }
  f->last_totp_step = -1;
  f->tmp = g_dir_make_tmp ("signet-engine-XXXXXX", &error);
  g_assert_no_error (error);
  f->data = g_build_filename (f->tmp, "data", NULL);
  f->ca_dir = g_build_filename (f->tmp, "ca", NULL);
  f->tls = g_build_filename (f->data, "tls-cert.pem", NULL);
  ca_cert = g_build_filename (f->ca_dir, "ca-cert.pem", NULL);

  g_free (fixture_run (NULL, signetd_path, "init", "--data-dir", f->data, NULL));
  if (config != NULL)
    merge_config (f->data, config);
  out = fixture_run (FIXTURE_PASSWORD "\n", signetd_path, "user", "--data-dir", f->data, "add",
                     FIXTURE_USER, "--role", "technician", NULL);
  re = g_regex_new ("otpauth://totp/\\S*[?&]secret=([A-Z2-7]+)", 0, 0, NULL);
  g_assert_true (g_regex_match (re, out, 0, &m));
  f->totp_secret = g_match_info_fetch (m, 1);
  g_free (fixture_run (FIXTURE_PSK "\n", signetd_path, "secret", "--data-dir", f->data, "set",
                       "site-a/wifi-psk", NULL));
  add_profile (f, fixture_wifi_profile_json, 0);
  for (guint i = 0; extra_profiles != NULL && extra_profiles[i] != NULL; i++)
    add_profile (f, extra_profiles[i], i + 1);
  g_free (fixture_run (NULL, devsim_path, "ca", "create", "--dir", f->ca_dir, "--name",
                       "Acme Test CA", NULL));
  g_free (fixture_run (NULL, signetd_path, "ca", "--data-dir", f->data, "add", ca_cert, NULL));
  fixture_signetd_start (f);
  return TRUE;
}

void
fixture_teardown (Fixture *f)
{
  fixture_signetd_stop (f);
  g_clear_pointer (&f->session, signet_service_session_unref);
  g_clear_pointer (&f->trust, signet_service_trust_free);
  g_clear_pointer (&f->profiles, g_ptr_array_unref);
  g_clear_object (&f->log);
  g_clear_pointer (&f->k0, g_bytes_unref);
  g_clear_object (&f->client);
  if (f->tmp != NULL)
    fixture_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->data);
  g_free (f->ca_dir);
  g_free (f->tls);
  g_free (f->url);
  g_free (f->totp_secret);
  memset (f, 0, sizeof *f);
}

const SignetServiceProfile *
fixture_profile (Fixture    *f,
                 const char *id)
{
  for (guint i = 0; i < f->profiles->len; i++)
    {
      const SignetServiceProfile *p = g_ptr_array_index (f->profiles, i);

      if (g_strcmp0 (p->id, id) == 0)
        return p;
    }
  g_error ("no profile %s", id);
  return NULL;
}

/* ---- devices ------------------------------------------------------------- */

void
fixture_device_renew_session (Fixture       *f,
                              FixtureDevice *d)
{
  g_clear_object (&d->session);
  d->session = signet_device_session_new (d->transport, f->client, f->session,
                                          f->trust, f->log);
}

/* Waits for the devsim's first stdout line; the transport is not open. */
static void
device_spawn_serial (Fixture            *f,
                     FixtureDevice      *d,
                     const char * const *extra_run_args)
{
  g_autofree char *errpath = g_strdup_printf ("%s/%s.stderr", f->tmp, d->name);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (char *) devsim_path);
  g_ptr_array_add (argv, (char *) "run");
  g_ptr_array_add (argv, (char *) "--state");
  g_ptr_array_add (argv, d->state);
  g_ptr_array_add (argv, (char *) "--pty");
  g_ptr_array_add (argv, (char *) "--json-status");
  g_ptr_array_add (argv, d->status_file);
  for (guint i = 0; extra_run_args != NULL && extra_run_args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra_run_args[i]);
  g_ptr_array_add (argv, NULL);
  g_clear_pointer (&d->pty, g_free);
  d->proc = spawn_until (errpath, "^pty (/dev/\\S+)$", &d->pty,
                         (const char * const *) argv->pdata);
  d->transport = SIGNET_TRANSPORT (signet_serial_transport_new (d->pty));
}

/* ---- BLE (SIGNET_TEST_TRANSPORT=ble) ---------------------------------------- */

/* The peripheral controllers in use (of SIGNET_PERIPHERAL_HCIS). */
static GHashTable *ble_adapters_busy;
/* One discovery for the whole test program, as the app has one. */
static SignetBleMonitor *ble_monitor;

static char *
ble_take_adapter (void)
{
  g_auto(GStrv) all = g_strsplit (g_getenv ("SIGNET_PERIPHERAL_HCIS") != NULL
                                  ? g_getenv ("SIGNET_PERIPHERAL_HCIS") : "hci0", " ", -1);

  if (ble_adapters_busy == NULL)
    ble_adapters_busy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; all[i] != NULL; i++)
    if (*all[i] != '\0' && !g_hash_table_contains (ble_adapters_busy, all[i]))
      {
        g_hash_table_add (ble_adapters_busy, g_strdup (all[i]));
        return g_strdup (all[i]);
      }
  g_error ("every peripheral controller (SIGNET_PERIPHERAL_HCIS=%s) runs a device already",
           g_getenv ("SIGNET_PERIPHERAL_HCIS"));
  return NULL;
}

static void
ble_release_adapter (char **adapter)
{
  if (*adapter != NULL && ble_adapters_busy != NULL)
    g_hash_table_remove (ble_adapters_busy, *adapter);
  g_clear_pointer (adapter, g_free);
}

/* The tool's controller for the peripheral controller hci: the one at
 * the same place in SIGNET_CENTRAL_HCIS (btvirt carries data on one LE
 * connection per controller only), else SIGNET_CENTRAL_HCI. */
static char *
ble_central_for (const char *hci)
{
  g_auto(GStrv) peripherals = g_strsplit (g_getenv ("SIGNET_PERIPHERAL_HCIS") != NULL
                                          ? g_getenv ("SIGNET_PERIPHERAL_HCIS") : "", " ", -1);
  g_auto(GStrv) centrals = g_strsplit (g_getenv ("SIGNET_CENTRAL_HCIS") != NULL
                                       ? g_getenv ("SIGNET_CENTRAL_HCIS") : "", " ", -1);

  for (guint i = 0; peripherals[i] != NULL && centrals[i] != NULL; i++)
    if (g_str_equal (peripherals[i], hci) && *centrals[i] != '\0')
      return g_strdup (centrals[i]);
  return g_strdup (g_getenv ("SIGNET_CENTRAL_HCI") != NULL ? g_getenv ("SIGNET_CENTRAL_HCI")
                   : "hci1");
}

/* The Device1 path of the peripheral controller hci as its central
 * controller sees it: /org/bluez/CENTRAL/dev_AA_BB_CC_DD_EE_FF. */
static char *
ble_device_path (const char *hci)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
  g_autofree char *adapter_path = g_strconcat ("/org/bluez/", hci, NULL);
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GVariant) addr = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dev = NULL;
  g_autofree char *central = ble_central_for (hci);

  g_assert_nonnull (bus);
  v = g_dbus_connection_call_sync (bus, "org.bluez", adapter_path,
                                   "org.freedesktop.DBus.Properties", "Get",
                                   g_variant_new ("(ss)", "org.bluez.Adapter1", "Address"),
                                   G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 10000, NULL,
                                   &error);
  g_assert_no_error (error);
  g_variant_get (v, "(v)", &addr);
  dev = g_strdup (g_variant_get_string (addr, NULL));
  g_strdelimit (dev, ":", '_');
  return g_strdup_printf ("/org/bluez/%s/dev_%s", central, dev);
}

static SignetDiscoveredDevice *
ble_monitor_find (const char *path)
{
  g_autoptr(GPtrArray) all = signet_ble_monitor_dup_devices (ble_monitor);

  for (guint i = 0; i < all->len; i++)
    {
      SignetDiscoveredDevice *info = g_ptr_array_index (all, i);

      if (g_strcmp0 (signet_discovered_device_get_object_path (info), path) == 0)
        return signet_discovered_device_ref (info);
    }
  return NULL;
}

/* Starts the program's discovery (the product's SignetBleMonitor) if it
 * has not started, and waits until the central controller scans: do it
 * before a device starts. Under btvirt a device already advertising when
 * a scan starts is reported once, in a race the kernel usually loses, one
 * that starts during the scan always (docs/ble.md "Tests"). Discovery then
 * runs for the whole program, as the app's does. */
static void
ble_scanning (const char *central)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
  g_autofree char *adapter_path = g_strconcat ("/org/bluez/", central, NULL);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_assert_nonnull (bus);
  if (ble_monitor == NULL)
    {
      ble_monitor = signet_ble_monitor_new (NULL);
      signet_ble_monitor_start (ble_monitor);
    }
  for (;;)
    {
      g_autoptr(GVariant) v = NULL;
      g_autoptr(GVariant) state = NULL;
      g_autoptr(GError) error = NULL;

      v = g_dbus_connection_call_sync (bus, "org.bluez", adapter_path,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", "org.bluez.Adapter1", "Discovering"),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, 10000,
                                       NULL, &error);
      g_assert_no_error (error);
      g_variant_get (v, "(v)", &state);
      if (g_variant_get_boolean (state))
        return;
      if (g_get_monotonic_time () > deadline)
        g_error ("%s is not discovering 30 s after the monitor started (BLE status: %s)",
                 central, signet_ble_monitor_get_status (ble_monitor) != NULL
                 ? signet_ble_monitor_get_status (ble_monitor) : "none");
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (50 * 1000);
    }
}

/* Waits until discovery (the product's SignetBleMonitor) lists the device
 * at path -- its advertisement with the Signet UUID was seen -- and
 * returns its transport as the app would make it. */
static SignetTransport *
ble_discover (const char *path)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  g_autoptr(SignetDiscoveredDevice) info = NULL;

  g_assert_nonnull (ble_monitor);
  while ((info = ble_monitor_find (path)) == NULL)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("%s was not discovered within 60 s (BLE status: %s)", path,
                 signet_ble_monitor_get_status (ble_monitor) != NULL
                 ? signet_ble_monitor_get_status (ble_monitor) : "discovering");
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_cmpstr (signet_discovered_device_get_transport (info), ==, "ble");
  return signet_discovered_device_create_transport (info);
}

static void
device_spawn_ble (Fixture            *f,
                  FixtureDevice      *d,
                  const char * const *extra_run_args)
{
  g_autofree char *errpath = g_strdup_printf ("%s/%s.stderr", f->tmp, d->name);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *adapter = NULL;
  g_autofree char *central = NULL;

  if (d->adapter == NULL)
    d->adapter = ble_take_adapter ();
  central = ble_central_for (d->adapter);
  ble_scanning (central);
  g_ptr_array_add (argv, (char *) devsim_path);
  g_ptr_array_add (argv, (char *) "run");
  g_ptr_array_add (argv, (char *) "--state");
  g_ptr_array_add (argv, d->state);
  g_ptr_array_add (argv, (char *) "--ble");
  g_ptr_array_add (argv, (char *) "--adapter");
  g_ptr_array_add (argv, d->adapter);
  g_ptr_array_add (argv, (char *) "--json-status");
  g_ptr_array_add (argv, d->status_file);
  for (guint i = 0; extra_run_args != NULL && extra_run_args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra_run_args[i]);
  g_ptr_array_add (argv, NULL);
  d->proc = spawn_until (errpath, "^ble (\\S+) ", &adapter, (const char * const *) argv->pdata);
  g_assert_cmpstr (adapter, ==, d->adapter);
  if (d->ble_path == NULL)
    d->ble_path = ble_device_path (d->adapter);
  d->transport = ble_discover (d->ble_path);
}

static void
device_run (Fixture            *f,
            FixtureDevice      *d,
            const char * const *extra_run_args)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;

  if (fixture_transport_is_ble ())
    device_spawn_ble (f, d, extra_run_args);
  else
    device_spawn_serial (f, d, extra_run_args);
  FIXTURE_AWAIT (signet_transport_open_async (d->transport, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_transport_open_finish (d->transport, res, &error));
  g_assert_no_error (error);
  fixture_device_renew_session (f, d);
}

/* The link's counters, whichever link it is. */
static void
device_counters (FixtureDevice *d,
                 guint64       *units_sent,
                 guint64       *bytes_sent,
                 guint64       *dropped)
{
  if (SIGNET_IS_BLE_TRANSPORT (d->transport))
    {
      SignetBleStats s;

      signet_ble_transport_get_stats (SIGNET_BLE_TRANSPORT (d->transport), &s);
      *units_sent = s.segments_sent + s.l2cap_sent;
      *bytes_sent = s.bytes_sent;
      *dropped = s.dropped;
    }
  else
    {
      SignetSerialStats s;

      signet_serial_transport_get_stats (SIGNET_SERIAL_TRANSPORT (d->transport), &s);
      *units_sent = s.frames_sent;
      *bytes_sent = s.bytes_sent;
      *dropped = s.bad_crc + s.bad_cobs + s.oversize;
    }
}

guint64
fixture_device_units_sent (FixtureDevice *d)
{
  guint64 units, bytes, dropped;

  device_counters (d, &units, &bytes, &dropped);
  return units;
}

guint64
fixture_device_bytes_sent (FixtureDevice *d)
{
  guint64 units, bytes, dropped;

  device_counters (d, &units, &bytes, &dropped);
  return bytes;
}

guint64
fixture_device_units_dropped (FixtureDevice *d)
{
  guint64 units, bytes, dropped;

  device_counters (d, &units, &bytes, &dropped);
  return dropped;
}

void
fixture_device_set_receive_timeout (FixtureDevice *d,
                                    guint          ms)
{
  if (SIGNET_IS_BLE_TRANSPORT (d->transport))
    signet_ble_transport_set_receive_timeout (SIGNET_BLE_TRANSPORT (d->transport), ms);
  else
    signet_serial_transport_set_receive_timeout (SIGNET_SERIAL_TRANSPORT (d->transport), ms);
}

void
fixture_device_start (Fixture            *f,
                      FixtureDevice      *d,
                      const char         *name,
                      const char         *model,
                      const char         *serial,
                      const char * const *extra_run_args)
{
  g_autofree char *model_file = g_strdup_printf ("%s/%s.json", models_dir, model);

  memset (d, 0, sizeof *d);
  d->name = g_strdup (name);
  d->state = g_strdup_printf ("%s/%s.state", f->tmp, name);
  d->status_file = g_strdup_printf ("%s/%s.events.jsonl", f->tmp, name);
  g_free (fixture_run (NULL, devsim_path, "provision", "--state", d->state, "--model-file",
                       model_file, "--serial", serial, "--ca-dir", f->ca_dir, "--trust-url",
                       f->url, "--trust-ca", f->tls, NULL));
  device_run (f, d, extra_run_args);
}

void
fixture_device_start_provisioned (Fixture            *f,
                                  FixtureDevice      *d,
                                  const char         *name,
                                  const char * const *provision_args,
                                  const char * const *extra_run_args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  memset (d, 0, sizeof *d);
  d->name = g_strdup (name);
  d->state = g_strdup_printf ("%s/%s.state", f->tmp, name);
  d->status_file = g_strdup_printf ("%s/%s.events.jsonl", f->tmp, name);
  g_ptr_array_add (argv, (char *) devsim_path);
  g_ptr_array_add (argv, (char *) "provision");
  g_ptr_array_add (argv, (char *) "--state");
  g_ptr_array_add (argv, d->state);
  for (guint i = 0; provision_args != NULL && provision_args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) provision_args[i]);
  g_ptr_array_add (argv, NULL);
  {
    g_autoptr(GSubprocess) p = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *err = NULL;

    p = g_subprocess_newv ((const char * const *) argv->pdata,
                           G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           &error);
    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (p, NULL, NULL, NULL, &err, &error);
    g_assert_no_error (error);
    if (!g_subprocess_get_successful (p))
      g_error ("signet-devsim provision failed: %s", err);
  }
  device_run (f, d, extra_run_args);
}

void
fixture_device_start_full (Fixture            *f,
                           FixtureDevice      *d,
                           const char         *name,
                           const char         *model,
                           const char         *serial,
                           const char * const *provision_args,
                           const char * const *extra_run_args)
{
  g_autofree char *model_file = g_strdup_printf ("%s/%s.json", models_dir, model);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  memset (d, 0, sizeof *d);
  d->name = g_strdup (name);
  d->state = g_strdup_printf ("%s/%s.state", f->tmp, name);
  d->status_file = g_strdup_printf ("%s/%s.events.jsonl", f->tmp, name);
  g_ptr_array_add (argv, (char *) devsim_path);
  g_ptr_array_add (argv, (char *) "provision");
  g_ptr_array_add (argv, (char *) "--state");
  g_ptr_array_add (argv, d->state);
  g_ptr_array_add (argv, (char *) "--model-file");
  g_ptr_array_add (argv, model_file);
  g_ptr_array_add (argv, (char *) "--serial");
  g_ptr_array_add (argv, (char *) serial);
  g_ptr_array_add (argv, (char *) "--ca-dir");
  g_ptr_array_add (argv, f->ca_dir);
  g_ptr_array_add (argv, (char *) "--trust-url");
  g_ptr_array_add (argv, f->url);
  g_ptr_array_add (argv, (char *) "--trust-ca");
  g_ptr_array_add (argv, f->tls);
  for (guint i = 0; provision_args != NULL && provision_args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) provision_args[i]);
  g_ptr_array_add (argv, NULL);
  {
    g_autoptr(GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr(GSubprocess) p = NULL;
    g_autoptr(GError) error = NULL;

    g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
    p = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
    g_assert_no_error (error);
    g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error);
    g_assert_no_error (error);
    if (!g_subprocess_get_successful (p))
      g_error ("%s provision failed: %s", devsim_path, err);
  }
  device_run (f, d, extra_run_args);
}

static void
device_close (FixtureDevice *d)
{
  g_clear_object (&d->session);
  if (d->transport != NULL)
    signet_transport_close (d->transport);
  g_clear_object (&d->transport);
  if (d->ble_path != NULL)
    {
      /* The transport asked BlueZ to take down the link it made, and
       * does not wait. Wait here, so that the next test (or program)
       * finds the controller free and advertising: BlueZ answers this
       * Disconnect when the link is down (NotConnected if it is already). */
      g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SYSTEM, NULL, NULL);
      g_autoptr(GVariant) ret = NULL;

      if (bus != NULL)
        ret = g_dbus_connection_call_sync (bus, "org.bluez", d->ble_path, "org.bluez.Device1",
                                           "Disconnect", NULL, NULL, G_DBUS_CALL_FLAGS_NONE,
                                           10000, NULL, NULL);
    }
}

void
fixture_device_restart (Fixture            *f,
                        FixtureDevice      *d,
                        const char * const *extra_run_args)
{
  device_close (d);
  if (d->proc != NULL)
    {
      /* a crashed simulator has exited already */
      if (g_subprocess_get_identifier (d->proc) != NULL)
        g_subprocess_send_signal (d->proc, SIGTERM);
      g_subprocess_wait (d->proc, NULL, NULL);
      g_clear_object (&d->proc);
    }
  device_run (f, d, extra_run_args);
}

void
fixture_device_stop (FixtureDevice *d)
{
  device_close (d);
  stop_process (&d->proc);
  g_clear_pointer (&d->name, g_free);
  g_clear_pointer (&d->state, g_free);
  g_clear_pointer (&d->pty, g_free);
  g_clear_pointer (&d->ble_path, g_free);
  ble_release_adapter (&d->adapter);
  g_clear_pointer (&d->status_file, g_free);
}

void
fixture_device_open (FixtureDevice *d)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  SignetDeviceSession *s = d->session;
  guint64 version = 0;

  FIXTURE_AWAIT (signet_device_session_hello_async (s, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_device_session_hello_finish (s, res, &error));
  g_assert_no_error (error);
  FIXTURE_AWAIT (signet_device_session_attest_async (s, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_device_session_attest_finish (s, res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (signet_device_session_get_cert_fingerprint (s)), ==, 64);
  FIXTURE_AWAIT (signet_device_session_push_revocation_async (s, NULL, fixture_got_result, &res),
                 res);
  g_assert_true (signet_device_session_push_revocation_finish (s, res, &version, &error));
  g_assert_no_error (error);
  FIXTURE_AWAIT (signet_device_session_authorize_async (s, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_device_session_authorize_finish (s, res, &error));
  g_assert_no_error (error);
}

JsonObject *
fixture_device_status (FixtureDevice *d)
{
  g_autofree char *out = fixture_run (NULL, devsim_path, "status", "--state", d->state, "--json",
                                      NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* ---- values -------------------------------------------------------------- */

GVariant *
fixture_wifi_values (gint32 channel)
{
  GVariantDict d;

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "wifi.ssid", "s", "site-a");
  g_variant_dict_insert (&d, "wifi.channel", "i", channel);
  g_variant_dict_insert (&d, "wifi.band", "s", "5g");
  return g_variant_dict_end (&d);
}

char *
fixture_hex (GBytes *bytes)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (bytes, &len);
  GString *s = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}
