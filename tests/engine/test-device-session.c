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

#include <string.h>

#include "engine-fixture.h"

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

static void
test_flow (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
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
  const SignetServiceProfile *wifi;
  SignetEventLog *log;
  Fixture f;
  FixtureDevice a, b;
  Progress progress = { NULL };
  guint64 sent_before;

  if (!fixture_setup (&f, NULL, NULL))
    return;
  progress.steps = g_string_new (NULL);
  log = f.log;
  wifi = fixture_profile (&f, "acme-wifi");
  fixture_device_start (&f, &a, "gw-a", "acme-gw1", "GW1-8001", NULL);
  fixture_device_start (&f, &b, "gw-b", "acme-gw1", "GW1-8002", NULL);
  st_b0 = fixture_device_status (&b);
  g_signal_connect (a.session, "progress", G_CALLBACK (on_progress), &progress);

  /* device A: the whole session, committed */
  fixture_device_open (&a);
  g_assert_cmpstr (progress.steps->str, ==, "hello;attest;revocation;authorize;");

  /* out of range: refused here, nothing sent */
  sent_before = fixture_device_units_sent (&a);
  FIXTURE_AWAIT (signet_device_session_apply_async (a.session, wifi, fixture_wifi_values (14), NULL, fixture_got_result,
                                            &res), res);
  none = signet_device_session_apply_finish (a.session, res, &error);
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_INVALID_VALUE);
  g_assert_null (none);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  g_assert_cmpuint (fixture_device_units_sent (&a), ==, sent_before);

  FIXTURE_AWAIT (signet_device_session_apply_async (a.session, wifi, fixture_wifi_values (6), NULL, fixture_got_result,
                                            &res), res);
  apply_a = signet_device_session_apply_finish (a.session, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apply_a->op, ==, 1);
  g_assert_cmpuint (apply_a->committed_version, ==, 1);
  g_assert_cmpuint (apply_a->pending_version, ==, 2);

  /* A's APPLY replayed to B: B refuses it (another device), nothing changes */
  fixture_device_open (&b);
  FIXTURE_AWAIT (signet_device_session_send_command_async (b.session, 1, apply_a->command, NULL,
                                                   fixture_got_result, &res), res);
  none = signet_device_session_send_command_finish (b.session, res, &error);
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_WRONG_DEVICE);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  st_b = fixture_device_status (&b);
  g_assert_cmpint (json_object_get_int_member (st_b, "committed_version"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (st_b, "pending_version"), ==, 0);
  g_clear_pointer (&st_b, json_object_unref);

  FIXTURE_AWAIT (signet_device_session_commit_async (a.session, NULL, fixture_got_result, &res), res);
  commit_a = signet_device_session_commit_finish (a.session, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (commit_a->committed_version, ==, 2);
  g_assert_cmpuint (commit_a->pending_version, ==, 0);

  FIXTURE_AWAIT (signet_device_session_read_async (a.session, NULL, fixture_got_result, &res), res);
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

  st_a = fixture_device_status (&a);
  digest_hex = fixture_hex (commit_a->config_digest);
  g_assert_cmpint (json_object_get_int_member (st_a, "committed_version"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (st_a, "pending_version"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (st_a, "config_digest"), ==, digest_hex);
  g_assert_cmpstr (json_object_get_string_member (st_a, "config_digest"), !=,
                   json_object_get_string_member (st_b0, "config_digest"));

  /* A's COMMIT again after a new HELLO: another session's command */
  fixture_device_open (&a);
  FIXTURE_AWAIT (signet_device_session_send_command_async (a.session, 2, commit_a->command, NULL,
                                                   fixture_got_result, &res), res);
  none = signet_device_session_send_command_finish (a.session, res, &error);
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_WRONG_NONCE);
  g_clear_error (&error);
  g_clear_pointer (&st_a, json_object_unref);
  st_a = fixture_device_status (&a);
  g_assert_cmpint (json_object_get_int_member (st_a, "committed_version"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (st_a, "config_digest"), ==, digest_hex);

  /* device B: applied, then rolled back */
  FIXTURE_AWAIT (signet_device_session_apply_async (b.session, wifi, fixture_wifi_values (11), NULL, fixture_got_result,
                                            &res), res);
  apply_b = signet_device_session_apply_finish (b.session, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apply_b->pending_version, ==, 2);
  FIXTURE_AWAIT (signet_device_session_rollback_async (b.session, NULL, fixture_got_result, &res), res);
  rollback_b = signet_device_session_rollback_finish (b.session, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rollback_b->committed_version, ==, 1);
  g_assert_cmpuint (rollback_b->pending_version, ==, 0);
  st_b = fixture_device_status (&b);
  g_assert_cmpint (json_object_get_int_member (st_b, "committed_version"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (st_b, "pending_version"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (st_b, "config_digest"), ==,
                   json_object_get_string_member (st_b0, "config_digest"));

  FIXTURE_AWAIT (signet_device_session_bye_async (a.session, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_device_session_bye_finish (a.session, res, &error));
  g_assert_no_error (error);
  FIXTURE_AWAIT (signet_device_session_bye_async (b.session, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_device_session_bye_finish (b.session, res, &error));
  g_assert_no_error (error);

  /* the event log: verifies with K_0, holds the steps, never the secret */
  g_assert_true (signet_event_log_close_session (log, &error));
  g_assert_no_error (error);
  contents = signet_event_log_dup_contents (log);
  verdict = signet_event_log_verify (contents, f.k0);
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
    for (gsize i = 0; i + strlen (FIXTURE_PSK) <= len; i++)
      g_assert_false (memcmp (raw + i, FIXTURE_PSK, strlen (FIXTURE_PSK)) == 0);
  }

  fixture_device_stop (&a);
  fixture_device_stop (&b);
  fixture_teardown (&f);
  g_string_free (progress.steps, TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  fixture_parse_args (argc, argv);
  g_test_add_func ("/signet/device-session/flow", test_flow);
  return g_test_run ();
}
