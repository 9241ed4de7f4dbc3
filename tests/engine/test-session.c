/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-session.c: SignetSession (core/signet-session.h) against a real
 * signetd with short token lifetimes: sign-in makes the session's log
 * file; the token is refreshed on its own before it expires; step-up
 * gives a fresh auth_time; sign-out ends and uploads the log and wipes
 * the token; a session the service stops refreshing expires; signing out
 * while the service is down keeps the log queued, and the next sign-in
 * uploads it. Refusals: a wrong code, a second sign-in, calls when
 * signed out.
 *
 *   test-session SIGNETD SIGNET_DEVSIM MODELS_DIR
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "engine-fixture.h"
#include "signet-session.h"

static void
on_signal (gpointer user_data)
{
  (*(guint *) user_data)++;
}

/* Iterate until *counter is set or seconds pass; FALSE on timeout. */
static gboolean
wait_counter (guint *counter,
              guint  seconds)
{
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (*counter == 0 && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (10 * 1000), TRUE);
  return *counter != 0;
}

static SignetSession *
sign_in (Fixture    *f,
         const char *state_dir)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *code = fixture_totp (f);
  SignetSession *s = signet_session_new (f->client, state_dir, &error);

  g_assert_no_error (error);
  FIXTURE_AWAIT (signet_session_sign_in_async (s, FIXTURE_USER, FIXTURE_PASSWORD, code, NULL,
                                               fixture_got_result, &res), res);
  g_assert_true (signet_session_sign_in_finish (s, res, &error));
  g_assert_no_error (error);
  g_assert_cmpint (signet_session_get_state (s), ==, SIGNET_SESSION_STATE_SIGNED_IN);
  return s;
}

static char *
log_path (SignetSession *s)
{
  return g_strdup (signet_event_log_get_path (signet_session_get_event_log (s)));
}

static void
test_lifecycle (void)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) upload_error = NULL;
  g_autoptr(SignetSession) s = NULL;
  g_autofree char *state = NULL;
  g_autofree char *path = NULL;
  g_autofree char *code = NULL;
  guint refreshed = 0;
  gint64 exp0, auth0;
  Fixture f;

  if (!fixture_setup_service (&f, "[tokens]\nlifetime=6\n", NULL))
    return;
  state = g_build_filename (f.tmp, "state", NULL);

  /* a wrong code: refused, still signed out, no log left behind */
  {
    g_autoptr(SignetSession) bad = signet_session_new (f.client, state, &error);
    g_autofree char *logs = g_build_filename (state, "logs", NULL);
    g_autoptr(GDir) dir = NULL;

    g_assert_no_error (error);
    FIXTURE_AWAIT (signet_session_sign_in_async (bad, FIXTURE_USER, FIXTURE_PASSWORD, "000000",
                                                 NULL, fixture_got_result, &res), res);
    g_assert_false (signet_session_sign_in_finish (bad, res, &error));
    g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_INVALID_CREDENTIALS);
    g_test_message ("wrong code: %s", error->message);
    g_clear_error (&error);
    g_assert_cmpint (signet_session_get_state (bad), ==, SIGNET_SESSION_STATE_SIGNED_OUT);
    g_assert_null (signet_session_get_service_session (bad));
    dir = g_dir_open (logs, 0, &error);
    g_assert_no_error (error);
    g_assert_null (g_dir_read_name (dir));

    FIXTURE_AWAIT (signet_session_refresh_async (bad, NULL, fixture_got_result, &res), res);
    g_assert_false (signet_session_refresh_finish (bad, res, &error));
    g_assert_error (error, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_NOT_SIGNED_IN);
    g_clear_error (&error);
  }

  s = sign_in (&f, state);
  g_assert_cmpstr (signet_session_get_username (s), ==, FIXTURE_USER);
  g_assert_cmpstr (signet_session_get_role (s), ==, "technician");
  g_assert_nonnull (signet_session_get_trust (s));
  path = log_path (s);
  g_assert_true (g_str_has_prefix (path, state));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));

  /* a second sign-in on a signed-in session: refused before any network */
  FIXTURE_AWAIT (signet_session_sign_in_async (s, FIXTURE_USER, FIXTURE_PASSWORD, "123456", NULL,
                                               fixture_got_result, &res), res);
  g_assert_false (signet_session_sign_in_finish (s, res, &error));
  g_assert_error (error, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_BUSY);
  g_clear_error (&error);

  /* the refresh comes on its own, before expiry (6-s tokens: ~3 s) */
  exp0 = signet_session_get_expires_at (s);
  g_signal_connect_swapped (s, "refreshed", G_CALLBACK (on_signal), &refreshed);
  g_assert_true (wait_counter (&refreshed, 8));
  g_assert_cmpint (signet_session_get_expires_at (s), >, exp0);
  g_assert_cmpint (signet_session_get_state (s), ==, SIGNET_SESSION_STATE_SIGNED_IN);

  /* step-up: a fresh auth_time */
  auth0 = signet_session_get_auth_time (s);
  code = fixture_totp (&f);
  g_usleep (G_USEC_PER_SEC);
  FIXTURE_AWAIT (signet_session_step_up_async (s, code, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_session_step_up_finish (s, res, &error));
  g_assert_no_error (error);
  g_assert_cmpint (signet_session_get_auth_time (s), >, auth0);

  /* sign-out: log ended and uploaded, token wiped */
  FIXTURE_AWAIT (signet_session_sign_out_async (s, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_session_sign_out_finish (s, res, &upload_error, &error));
  g_assert_no_error (error);
  g_assert_no_error (upload_error);
  g_assert_cmpint (signet_session_get_state (s), ==, SIGNET_SESSION_STATE_SIGNED_OUT);
  g_assert_null (signet_session_get_service_session (s));
  g_assert_null (signet_session_get_event_log (s));
  g_assert_null (signet_session_get_username (s));
  g_assert_cmpint (signet_log_uploader_get_pending (signet_session_get_uploader (s), path), ==, 0);
  g_assert_cmpint (signet_log_uploader_get_acked (signet_session_get_uploader (s), path, NULL),
                   >, 4);
  {
    /* what the log says: sign-in, refresh, step-up, end */
    g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new_for_path (path, &error);
    g_autoptr(GString) types = g_string_new (NULL);
    SignetEventRecord *rec = NULL;

    g_assert_no_error (error);
    while (signet_event_log_reader_next (reader, &rec, &error))
      {
        if (!g_str_equal (signet_event_record_get_record_type (rec), "seal"))
          g_string_append_printf (types, "%s;", signet_event_record_get_record_type (rec));
        signet_event_record_unref (rec);
      }
    g_assert_no_error (error);
    g_test_message ("records: %s", types->str);
    g_assert_true (g_str_has_prefix (types->str, "session.start;session.sign_in;session.refresh;"));
    g_assert_nonnull (strstr (types->str, "session.step_up;"));
    g_assert_true (g_str_has_suffix (types->str, "session.end;"));
  }

  /* signed out: PoP calls refused at once */
  FIXTURE_AWAIT (signet_session_step_up_async (s, "123456", NULL, fixture_got_result, &res), res);
  g_assert_false (signet_session_step_up_finish (s, res, &error));
  g_assert_error (error, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_NOT_SIGNED_IN);
  g_clear_error (&error);

  fixture_teardown (&f);
}

/* The service caps a session at session_max: refreshes stop helping and
 * the session expires; its log waits for the next sign-in. */
static void
test_expiry (void)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) upload_error = NULL;
  g_autoptr(SignetSession) s = NULL;
  g_autoptr(SignetSession) s2 = NULL;
  g_autofree char *state = NULL;
  g_autofree char *path = NULL;
  guint expired = 0;
  Fixture f;

  if (!fixture_setup_service (&f, "[tokens]\nlifetime=2\nsession_max=5\n", NULL))
    return;
  state = g_build_filename (f.tmp, "state", NULL);
  s = sign_in (&f, state);
  path = log_path (s);
  g_signal_connect_swapped (s, "expired", G_CALLBACK (on_signal), &expired);
  g_assert_true (wait_counter (&expired, 15));
  g_assert_cmpint (signet_session_get_state (s), ==, SIGNET_SESSION_STATE_EXPIRED);
  g_assert_cmpint (signet_session_get_remaining (s), ==, 0);
  g_assert_null (signet_session_get_service_session (s));

  FIXTURE_AWAIT (signet_session_sign_out_async (s, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_session_sign_out_finish (s, res, &upload_error, &error));
  g_assert_no_error (error);
  g_assert_error (upload_error, SIGNET_SESSION_ERROR, SIGNET_SESSION_ERROR_EXPIRED);
  g_assert_cmpint (signet_session_get_state (s), ==, SIGNET_SESSION_STATE_SIGNED_OUT);
  g_clear_object (&s);

  /* the next sign-in sends the expired session's log */
  s2 = sign_in (&f, state);
  FIXTURE_AWAIT (signet_session_upload_logs_async (s2, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_session_upload_logs_finish (s2, res, &error));
  g_assert_no_error (error);
  g_assert_cmpint (signet_log_uploader_get_pending (signet_session_get_uploader (s2), path), ==, 0);
  fixture_teardown (&f);
}

/* The service down at sign-out: the log stays queued (on disk, across a
 * restart of the tool) and the next sign-in uploads it. */
static void
test_offline_sign_out (void)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) upload_error = NULL;
  g_autoptr(SignetSession) s = NULL;
  g_autoptr(SignetSession) s2 = NULL;
  g_autofree char *state = NULL;
  g_autofree char *path = NULL;
  Fixture f;

  if (!fixture_setup_service (&f, NULL, NULL))
    return;
  signet_service_client_set_max_retries (f.client, 0);
  signet_service_client_set_connect_timeout (f.client, 2);
  state = g_build_filename (f.tmp, "state", NULL);
  s = sign_in (&f, state);
  path = log_path (s);

  fixture_signetd_stop (&f);
  FIXTURE_AWAIT (signet_session_sign_out_async (s, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_session_sign_out_finish (s, res, &upload_error, &error));
  g_assert_no_error (error);
  g_assert_error (upload_error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNREACHABLE);
  g_test_message ("at sign-out: %s", upload_error->message);
  g_assert_cmpint (signet_session_get_state (s), ==, SIGNET_SESSION_STATE_SIGNED_OUT);
  g_assert_cmpint (signet_log_uploader_get_pending (signet_session_get_uploader (s), path), >, 0);
  g_clear_object (&s);   /* the tool quits */

  fixture_signetd_start (&f);
  s2 = sign_in (&f, state);
  FIXTURE_AWAIT (signet_session_upload_logs_async (s2, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_session_upload_logs_finish (s2, res, &error));
  g_assert_no_error (error);
  g_assert_cmpint (signet_log_uploader_get_pending (signet_session_get_uploader (s2), path), ==, 0);
  g_assert_cmpint (signet_log_uploader_get_acked (signet_session_get_uploader (s2), path, NULL),
                   >, 2);
  fixture_teardown (&f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  fixture_parse_args (argc, argv);
  g_test_add_func ("/signet/session/lifecycle", test_lifecycle);
  g_test_add_func ("/signet/session/expiry", test_expiry);
  g_test_add_func ("/signet/session/offline-sign-out", test_offline_sign_out);
  return g_test_run ();
}
