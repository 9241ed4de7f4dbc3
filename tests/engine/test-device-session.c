/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-device-session.c: the device session engine against real
 * programs: a signetd (init, user, vault secret, profile, the devsim CA,
 * serve on 127.0.0.1:0) and two signet-devsim simulators provisioned with
 * the service's trust document over pinned TLS. Sign-in with a TOTP code,
 * then for each device the whole session; commit on A, rollback on B,
 * checked with `signet-devsim status --json`; the event log verifies with
 * K_0. Refusals: a value out of range (nothing sent), a command for A
 * replayed to B (WRONG_DEVICE) and to A in a later session (WRONG_NONCE),
 * neither changing state.
 *
 *   test-device-session SIGNETD SIGNET_DEVSIM MODELS_DIR
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "signet-device-session.h"
#include "signet-secret.h"
#include "signet-serial-transport.h"
#include "signet-totp.h"

#define PASSWORD "correct horse battery staple"
#define PSK "site-a-wpa2-passphrase"

static const char *signetd_path;
static const char *devsim_path;
static const char *models_dir;

static const char profile_json[] =
  "{\"id\": \"acme-wifi\", \"version\": 3, \"model\": \"acme-gw1\", \"class\": \"credential\",\n"
  " \"critical\": true, \"description\": \"Site Wi-Fi credentials\",\n"
  " \"fields\": [\n"
  "   {\"key\": \"wifi.ssid\", \"type\": \"string\", \"min\": 1, \"max\": 32},\n"
  "   {\"key\": \"wifi.psk\", \"type\": \"string\", \"min\": 8, \"max\": 63, \"secret\": true,\n"
  "    \"vault\": \"site-a/wifi-psk\"},\n"
  "   {\"key\": \"wifi.channel\", \"type\": \"int\", \"min\": 1, \"max\": 13},\n"
  "   {\"key\": \"wifi.band\", \"type\": \"enum\", \"values\": [\"2g4\", \"5g\"]}]}\n";

/* ---- programs ------------------------------------------------------------ */

static char *
run (const char *stdin_text,
     const char *program,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (argv, (char *) program);
  va_start (ap, program);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  p = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, stdin_text, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (p))
    g_error ("%s %s failed: %s", program, (char *) argv->pdata[1], err);
  return g_steal_pointer (&out);
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* Spawn program ARGS..., read its first stdout line and match re against
 * it; the first group. */
static GSubprocess *
spawn_until (const char  *stderr_path,
             const char  *pattern,
             char       **out_match,
             const char  *const *argv)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autoptr(GRegex) re = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;
  g_autofree char *line = NULL;
  GSubprocess *p;

  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  g_subprocess_launcher_set_stderr_file_path (launcher, stderr_path);
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
stop (GSubprocess *p)
{
  if (p == NULL)
    return;
  g_subprocess_send_signal (p, SIGTERM);
  g_subprocess_wait (p, NULL, NULL);
}

static JsonObject *
devsim_status (const char *state)
{
  g_autofree char *out = run (NULL, devsim_path, "status", "--state", state, "--json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* ---- async --------------------------------------------------------------- */

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

#define AWAIT(call_with_cb, res) \
  G_STMT_START { g_clear_object (&res); call_with_cb; wait_for (&res); } G_STMT_END

typedef struct {
  GString *steps;
} Progress;

static void
on_progress (SignetDeviceSession *s,
             const char          *step,
             double               fraction,
             gpointer             user_data)
{
  Progress *p = user_data;

  if (fraction == 1.0)
    g_string_append_printf (p->steps, "%s;", step);
}

/* ---- the test ------------------------------------------------------------ */

typedef struct {
  char *state;
  GSubprocess *proc;
  char *pty;
  SignetSerialTransport *transport;
  SignetDeviceSession *session;
} Device;

static void
device_start (Device     *d,
              const char *tmp,
              const char *name,
              const char *serial,
              const char *ca_dir,
              const char *url,
              const char *tls)
{
  g_autofree char *model = g_build_filename (models_dir, "acme-gw1.json", NULL);
  g_autofree char *errpath = NULL;
  g_autofree char *status_file = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  const char *argv[10];

  d->state = g_strdup_printf ("%s/%s.state", tmp, name);
  g_free (run (NULL, devsim_path, "provision", "--state", d->state, "--model-file", model,
               "--serial", serial, "--ca-dir", ca_dir, "--trust-url", url, "--trust-ca", tls,
               NULL));
  errpath = g_strdup_printf ("%s/%s.stderr", tmp, name);
  status_file = g_strdup_printf ("%s/%s.events.jsonl", tmp, name);
  argv[0] = devsim_path;
  argv[1] = "run";
  argv[2] = "--state";
  argv[3] = d->state;
  argv[4] = "--pty";
  argv[5] = "--json-status";
  argv[6] = status_file;
  argv[7] = NULL;
  d->proc = spawn_until (errpath, "^pty (/dev/\\S+)$", &d->pty, argv);
  d->transport = signet_serial_transport_new (d->pty);
  signet_transport_open_async (SIGNET_TRANSPORT (d->transport), NULL, got_result, &res);
  wait_for (&res);
  g_assert_true (signet_transport_open_finish (SIGNET_TRANSPORT (d->transport), res, &error));
  g_assert_no_error (error);
}

static void
device_stop (Device *d)
{
  g_clear_object (&d->session);
  if (d->transport != NULL)
    signet_transport_close (SIGNET_TRANSPORT (d->transport));
  g_clear_object (&d->transport);
  stop (d->proc);
  g_clear_object (&d->proc);
  g_free (d->state);
  g_free (d->pty);
}

/* hello, attest, revocation, authorize */
static void
device_open_session (Device *d)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  SignetDeviceSession *s = d->session;
  guint64 version = 0;

  AWAIT (signet_device_session_hello_async (s, NULL, got_result, &res), res);
  g_assert_true (signet_device_session_hello_finish (s, res, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (signet_device_session_get_info (s)->model, ==, "acme-gw1");

  AWAIT (signet_device_session_attest_async (s, NULL, got_result, &res), res);
  g_assert_true (signet_device_session_attest_finish (s, res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (signet_device_session_get_cert_fingerprint (s)), ==, 64);

  AWAIT (signet_device_session_push_revocation_async (s, NULL, got_result, &res), res);
  g_assert_true (signet_device_session_push_revocation_finish (s, res, &version, &error));
  g_assert_no_error (error);

  AWAIT (signet_device_session_authorize_async (s, NULL, got_result, &res), res);
  g_assert_true (signet_device_session_authorize_finish (s, res, &error));
  g_assert_no_error (error);
}

static GVariant *
wifi_values (gint32 channel)
{
  GVariantDict d;

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "wifi.ssid", "s", "site-a");
  g_variant_dict_insert (&d, "wifi.channel", "i", channel);
  g_variant_dict_insert (&d, "wifi.band", "s", "5g");
  return g_variant_dict_end (&d);
}

static char *
bytes_hex (GBytes *b)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (b, &len);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}

static void
test_flow (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("signet-engine-XXXXXX", &error);
  g_autofree char *data = g_build_filename (tmp, "data", NULL);
  g_autofree char *ca_dir = g_build_filename (tmp, "ca", NULL);
  g_autofree char *ca_cert = g_build_filename (ca_dir, "ca-cert.pem", NULL);
  g_autofree char *profile_path = g_build_filename (tmp, "acme-wifi.json", NULL);
  g_autofree char *tls = g_build_filename (data, "tls-cert.pem", NULL);
  g_autofree char *srv_err = g_build_filename (tmp, "signetd.stderr", NULL);
  g_autofree char *url = NULL;
  g_autofree char *out = NULL;
  g_autofree char *secret = NULL;
  g_autoptr(GRegex) re = NULL;
  g_autoptr(GMatchInfo) m = NULL;
  g_autoptr(GSubprocess) signetd = NULL;
  g_autoptr(SignetServiceClient) client = NULL;
  g_autoptr(SignetServiceSession) session = NULL;
  g_autoptr(SignetServiceTrust) trust = NULL;
  g_autoptr(GPtrArray) profiles = NULL;
  g_autoptr(GBytes) totp_key = NULL;
  g_autoptr(GBytes) k0 = NULL;
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetDeviceReceipt) apply_a = NULL;
  g_autoptr(SignetDeviceReceipt) commit_a = NULL;
  g_autoptr(SignetDeviceReceipt) apply_b = NULL;
  g_autoptr(SignetDeviceReceipt) rollback_b = NULL;
  g_autoptr(SignetDeviceReceipt) none = NULL;
  g_autoptr(JsonObject) st_a = NULL;
  g_autoptr(JsonObject) st_b = NULL;
  g_autoptr(JsonObject) st_b0 = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(SignetEventLogResult) verdict = NULL;
  g_autoptr(GVariant) config = NULL;
  g_autofree char *digest_hex = NULL;
  g_auto(SignetSecretString) code = NULL;
  const SignetServiceProfile *wifi = NULL;
  Device a = { 0 }, b = { 0 };
  Progress progress = { g_string_new (NULL) };
  SignetSerialStats stats_before, stats_after;
  const char *argv[8];

  g_assert_no_error (error);
  if (signetd_path == NULL || devsim_path == NULL || models_dir == NULL)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      g_string_free (progress.steps, TRUE);
      return;
    }

  /* the service: a technician, the vault secret, the profile, the CA */
  g_free (run (NULL, signetd_path, "init", "--data-dir", data, NULL));
  out = run (PASSWORD "\n", signetd_path, "user", "--data-dir", data, "add", "alice", "--role",
             "technician", NULL);
  re = g_regex_new ("otpauth://totp/\\S*[?&]secret=([A-Z2-7]+)", 0, 0, NULL);
  g_assert_true (g_regex_match (re, out, 0, &m));
  secret = g_match_info_fetch (m, 1);
  g_free (run (PSK "\n", signetd_path, "secret", "--data-dir", data, "set", "site-a/wifi-psk",
               NULL));
  g_assert_true (g_file_set_contents (profile_path, profile_json, -1, &error));
  g_free (run (NULL, signetd_path, "profile", "--data-dir", data, "add", profile_path, NULL));
  g_free (run (NULL, devsim_path, "ca", "create", "--dir", ca_dir, "--name", "Acme Test CA",
               NULL));
  g_free (run (NULL, signetd_path, "ca", "--data-dir", data, "add", ca_cert, NULL));
  argv[0] = signetd_path;
  argv[1] = "serve";
  argv[2] = "--data-dir";
  argv[3] = data;
  argv[4] = "--listen";
  argv[5] = "127.0.0.1:0";
  argv[6] = NULL;
  signetd = spawn_until (srv_err, "^listening on (https://127\\.0\\.0\\.1:\\d+)$", &url, argv);

  /* two devices, trusting the service's authority keys */
  device_start (&a, tmp, "gw-a", "GW1-8001", ca_dir, url, tls);
  device_start (&b, tmp, "gw-b", "GW1-8002", ca_dir, url, tls);
  st_b0 = devsim_status (b.state);

  /* sign in */
  client = signet_service_client_new_for_ca_file (url, tls, &error);
  g_assert_no_error (error);
  totp_key = signet_totp_secret_from_base32 (secret, &error);
  g_assert_no_error (error);
  code = signet_totp_generate (totp_key, g_get_real_time () / G_USEC_PER_SEC, 30, 6,
                               SIGNET_TOTP_ALGORITHM_SHA1, &error);
  g_assert_no_error (error);
  AWAIT (signet_service_client_login_async (client, "alice", PASSWORD, code, NULL, NULL,
                                            got_result, &res), res);
  session = signet_service_client_login_finish (client, res, &error);
  g_assert_no_error (error);
  k0 = signet_service_session_take_log_key (session);
  g_assert_nonnull (k0);
  log = signet_event_log_new_in_memory (k0, signet_service_session_get_username (session),
                                        signet_service_session_get_id (session), NULL, &error);
  g_assert_no_error (error);
  AWAIT (signet_service_client_trust_async (client, NULL, got_result, &res), res);
  trust = signet_service_client_trust_finish (client, res, &error);
  g_assert_no_error (error);
  AWAIT (signet_service_client_profiles_async (client, session, "acme-gw1", NULL, got_result,
                                               &res), res);
  profiles = signet_service_client_profiles_finish (client, res, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < profiles->len; i++)
    if (g_strcmp0 (((SignetServiceProfile *) g_ptr_array_index (profiles, i))->id,
                   "acme-wifi") == 0)
      wifi = g_ptr_array_index (profiles, i);
  g_assert_nonnull (wifi);

  a.session = signet_device_session_new (SIGNET_TRANSPORT (a.transport), client, session, trust,
                                         log);
  b.session = signet_device_session_new (SIGNET_TRANSPORT (b.transport), client, session, trust,
                                         log);
  g_signal_connect (a.session, "progress", G_CALLBACK (on_progress), &progress);

  /* device A: the whole session, committed */
  device_open_session (&a);
  g_assert_cmpstr (progress.steps->str, ==, "hello;attest;revocation;authorize;");

  /* out of range: refused here, nothing sent */
  signet_serial_transport_get_stats (a.transport, &stats_before);
  AWAIT (signet_device_session_apply_async (a.session, wifi, wifi_values (14), NULL, got_result,
                                            &res), res);
  none = signet_device_session_apply_finish (a.session, res, &error);
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE);
  g_assert_null (none);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  signet_serial_transport_get_stats (a.transport, &stats_after);
  g_assert_cmpuint (stats_after.frames_sent, ==, stats_before.frames_sent);

  AWAIT (signet_device_session_apply_async (a.session, wifi, wifi_values (6), NULL, got_result,
                                            &res), res);
  apply_a = signet_device_session_apply_finish (a.session, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apply_a->op, ==, 1);
  g_assert_cmpuint (apply_a->committed_version, ==, 1);
  g_assert_cmpuint (apply_a->pending_version, ==, 2);

  /* A's APPLY replayed to B: B refuses it (another device), nothing changes */
  device_open_session (&b);
  AWAIT (signet_device_session_send_command_async (b.session, 1, apply_a->command, NULL,
                                                   got_result, &res), res);
  none = signet_device_session_send_command_finish (b.session, res, &error);
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_WRONG_DEVICE);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  st_b = devsim_status (b.state);
  g_assert_cmpint (json_object_get_int_member (st_b, "committed_version"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (st_b, "pending_version"), ==, 0);
  g_clear_pointer (&st_b, json_object_unref);

  AWAIT (signet_device_session_commit_async (a.session, NULL, got_result, &res), res);
  commit_a = signet_device_session_commit_finish (a.session, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (commit_a->committed_version, ==, 2);
  g_assert_cmpuint (commit_a->pending_version, ==, 0);

  AWAIT (signet_device_session_read_async (a.session, NULL, got_result, &res), res);
  config = signet_device_session_read_finish (a.session, res, &error);
  g_assert_no_error (error);
  {
    const char *ssid = NULL;
    gint64 channel = 0;

    g_assert_true (g_variant_lookup (config, "wifi.ssid", "&s", &ssid));
    g_assert_cmpstr (ssid, ==, "site-a");
    g_assert_true (g_variant_lookup (config, "wifi.channel", "x", &channel));
    g_assert_cmpint (channel, ==, 6);
    g_assert_false (g_variant_lookup (config, "wifi.psk", "&s", &ssid));
  }

  st_a = devsim_status (a.state);
  digest_hex = bytes_hex (commit_a->config_digest);
  g_assert_cmpint (json_object_get_int_member (st_a, "committed_version"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (st_a, "pending_version"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (st_a, "config_digest"), ==, digest_hex);
  g_assert_cmpstr (json_object_get_string_member (st_a, "config_digest"), !=,
                   json_object_get_string_member (st_b0, "config_digest"));

  /* A's COMMIT again after a new HELLO: another session's command */
  device_open_session (&a);
  AWAIT (signet_device_session_send_command_async (a.session, 2, commit_a->command, NULL,
                                                   got_result, &res), res);
  none = signet_device_session_send_command_finish (a.session, res, &error);
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_WRONG_NONCE);
  g_clear_error (&error);
  g_clear_pointer (&st_a, json_object_unref);
  st_a = devsim_status (a.state);
  g_assert_cmpint (json_object_get_int_member (st_a, "committed_version"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (st_a, "config_digest"), ==, digest_hex);

  /* device B: applied, then rolled back */
  AWAIT (signet_device_session_apply_async (b.session, wifi, wifi_values (11), NULL, got_result,
                                            &res), res);
  apply_b = signet_device_session_apply_finish (b.session, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apply_b->pending_version, ==, 2);
  AWAIT (signet_device_session_rollback_async (b.session, NULL, got_result, &res), res);
  rollback_b = signet_device_session_rollback_finish (b.session, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rollback_b->committed_version, ==, 1);
  g_assert_cmpuint (rollback_b->pending_version, ==, 0);
  st_b = devsim_status (b.state);
  g_assert_cmpint (json_object_get_int_member (st_b, "committed_version"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (st_b, "pending_version"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (st_b, "config_digest"), ==,
                   json_object_get_string_member (st_b0, "config_digest"));

  AWAIT (signet_device_session_bye_async (a.session, NULL, got_result, &res), res);
  g_assert_true (signet_device_session_bye_finish (a.session, res, &error));
  g_assert_no_error (error);
  AWAIT (signet_device_session_bye_async (b.session, NULL, got_result, &res), res);
  g_assert_true (signet_device_session_bye_finish (b.session, res, &error));
  g_assert_no_error (error);

  /* the event log: verifies with K_0, holds the steps, never the secret */
  g_assert_true (signet_event_log_close_session (log, &error));
  g_assert_no_error (error);
  contents = signet_event_log_dup_contents (log);
  verdict = signet_event_log_verify (contents, k0);
  g_test_message ("event log: %s", signet_event_log_result_get_message (verdict));
  g_assert_cmpint (signet_event_log_result_get_verdict (verdict), ==, SIGNET_EVENT_LOG_VERIFIED);
  {
    g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (contents);
    g_autoptr(GString) types = g_string_new (NULL);
    SignetEventRecord *rec = NULL;
    gsize len;
    const char *raw = g_bytes_get_data (contents, &len);

    while (signet_event_log_reader_next (reader, &rec, &error))
      {
        g_string_append_printf (types, "%s;", signet_event_record_get_record_type (rec));
        signet_event_record_unref (rec);
      }
    g_assert_no_error (error);
    g_test_message ("records: %s", types->str);
    g_assert_nonnull (strstr (types->str, "device.attest;"));
    g_assert_nonnull (strstr (types->str, "device.apply;device.receipt;"));
    g_assert_nonnull (strstr (types->str, "device.commit;device.receipt;"));
    g_assert_nonnull (strstr (types->str, "device.rollback;device.receipt;"));
    g_assert_nonnull (strstr (types->str, "device.error;"));
    for (gsize i = 0; i + strlen (PSK) <= len; i++)
      g_assert_false (memcmp (raw + i, PSK, strlen (PSK)) == 0);
  }

  device_stop (&a);
  device_stop (&b);
  stop (signetd);
  g_string_free (progress.steps, TRUE);
  rm_rf (tmp);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (argc > 3)
    {
      signetd_path = argv[1];
      devsim_path = argv[2];
      models_dir = argv[3];
    }
  g_test_add_func ("/signet/device-session/flow", test_flow);
  return g_test_run ();
}
