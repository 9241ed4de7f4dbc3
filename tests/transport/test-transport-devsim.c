/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-transport-devsim.c: the serial transport against a real
 * signet-devsim (docs/devsim.md): provisioned here (its own CA, a trust
 * file with an authority key made here), run on its pseudo-terminal, and
 * spoken to with HELLO requests encoded by proto/sp-msg.h -- including
 * with the simulator's link faults on, where the transport must deliver
 * only good frames and its counters must add up with the faults the
 * simulator reports.
 *
 * Usage: test-transport-devsim SIGNET_DEVSIM MODELS_DIR
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "signet-key.h"
#include "sp-msg.h"
#include "transport-test-util.h"

#define SERIAL "GW1-T0001"
#define MODEL "acme-gw1"

static const char *devsim_path;
static const char *models_dir;
static char *tmp_dir;
static char *state_file;

/* ---- the factory and the simulator ---------------------------------------- */

static void
run_cli (const char *const *argv)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s %s failed: %s", argv[0], argv[1], err);
}

/* A trust document (docs/api.md GET /v1/trust) with one authority key of
 * our own, as the devsim harness writes it. */
static char *
write_trust_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetKey) key = signet_key_generate (&error);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *kid = NULL;
  char *path = g_build_filename (tmp_dir, "trust.json", NULL);

  g_assert_no_error (error);
  kid = signet_key_dup_thumbprint (key);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "authority_keys");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kid");
  json_builder_add_string_value (b, kid);
  json_builder_set_member_name (b, "jwk");
  json_builder_add_value (b, signet_key_to_jwk_node (key));
  json_builder_set_member_name (b, "current");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "not_after");
  json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "manufacturer_cas");
  json_builder_begin_array (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "revocation_list");
  json_builder_add_string_value (b, "");
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_to_file (gen, path, &error);
  g_assert_no_error (error);
  return path;
}

static void
provision (void)
{
  g_autofree char *ca_dir = g_build_filename (tmp_dir, "ca", NULL);
  g_autofree char *trust = write_trust_file ();
  g_autofree char *model = g_build_filename (models_dir, MODEL ".json", NULL);
  const char *ca_argv[] = { devsim_path, "ca", "create", "--dir", ca_dir, NULL };
  const char *prov_argv[] = { devsim_path, "provision", "--state", state_file,
                              "--model-file", model, "--serial", SERIAL, "--ca-dir", ca_dir,
                              "--trust-file", trust, NULL };

  run_cli (ca_argv);
  run_cli (prov_argv);
}

typedef struct {
  GSubprocess *proc;
  char *pty;
  char *events;
} Sim;

/* `signet-devsim run --state ... --pty [extra]`; its first stdout line is
 * "pty /dev/pts/N". */
static Sim *
sim_start (const char *const *extra)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) lines = NULL;
  g_autofree char *line = NULL;
  Sim *sim = g_new0 (Sim, 1);
  static guint runs;

  sim->events = g_strdup_printf ("%s/run%u.jsonl", tmp_dir, ++runs);
  g_ptr_array_add (argv, (char *) devsim_path);
  g_ptr_array_add (argv, (char *) "run");
  g_ptr_array_add (argv, (char *) "--state");
  g_ptr_array_add (argv, state_file);
  g_ptr_array_add (argv, (char *) "--pty");
  g_ptr_array_add (argv, (char *) "--json-status");
  g_ptr_array_add (argv, sim->events);
  for (; extra != NULL && *extra != NULL; extra++)
    g_ptr_array_add (argv, (char *) *extra);
  g_ptr_array_add (argv, NULL);
  sim->proc = g_subprocess_newv ((const char *const *) argv->pdata,
                                 G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sim->proc));
  line = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  if (line == NULL || !g_str_has_prefix (line, "pty /dev/"))
    g_error ("devsim did not start: %s", line != NULL ? line : "(no output)");
  sim->pty = g_strdup (line + 4);
  return sim;
}

/* SIGTERM and wait: a clean exit (0). */
static void
sim_stop (Sim *sim)
{
  g_autoptr(GError) error = NULL;

  g_subprocess_send_signal (sim->proc, SIGTERM);
  g_subprocess_wait (sim->proc, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (sim->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (sim->proc), ==, 0);
}

static void
sim_free (Sim *sim)
{
  g_object_unref (sim->proc);
  g_free (sim->pty);
  g_free (sim->events);
  g_free (sim);
}

/* Events of the --json-status file with event == kind (and, if given,
 * the member dir == dir and action == action). */
static guint
count_events (Sim        *sim,
              const char *kind,
              const char *dir,
              const char *action)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  guint n = 0;

  g_file_get_contents (sim->events, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonObject *o;

      if (lines[i][0] == '\0')
        continue;
      json_parser_load_from_data (parser, lines[i], -1, &error);
      g_assert_no_error (error);
      o = json_node_get_object (json_parser_get_root (parser));
      if (!g_str_equal (json_object_get_string_member (o, "event"), kind))
        continue;
      if (dir != NULL && !g_str_equal (json_object_get_string_member (o, "dir"), dir))
        continue;
      if (action != NULL && !g_str_equal (json_object_get_string_member (o, "action"), action))
        continue;
      n++;
    }
  return n;
}

/* ---- the protocol ---------------------------------------------------------- */

static GBytes *
hello_request (guint32 id)
{
  sp_msg_request req;
  guint8 buf[SP_MSG_MAX];
  size_t len = 0;

  memset (&req, 0, sizeof req);
  req.type = SP_MSG_HELLO;
  req.id = id;
  g_assert_cmpint (sp_msg_request_encode (&req, buf, sizeof buf, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

/* Decode a HELLO response strictly and check what it must say; the nonce
 * goes to nonce_out. Returns its id. */
static guint32
check_hello_response (GBytes *message,
                      guint8  nonce_out[SP_MSG_NONCE_LEN])
{
  sp_msg_response resp;
  gsize len;
  const guint8 *data = g_bytes_get_data (message, &len);

  memset (&resp, 0, sizeof resp);
  g_assert_cmpint (sp_msg_response_decode (data, len, &resp), ==, SP_OK);
  g_assert_cmpuint (resp.type, ==, SP_MSG_HELLO | SP_MSG_RESPONSE_BIT);
  g_assert_cmpuint (resp.status, ==, SP_MSG_OK);
  g_assert_cmpmem (resp.serial.ptr, resp.serial.len, SERIAL, strlen (SERIAL));
  g_assert_cmpmem (resp.model.ptr, resp.model.len, MODEL, strlen (MODEL));
  g_assert_cmpuint (resp.nonce.len, ==, SP_MSG_NONCE_LEN);
  g_assert_cmpuint (resp.max_message, >, 0);
  g_assert_cmpuint (resp.max_message, <=, SP_MSG_MAX);
  memcpy (nonce_out, resp.nonce.ptr, SP_MSG_NONCE_LEN);
  return resp.id;
}

static SignetTransport *
open_transport (const char *path)
{
  SignetTransport *t = SIGNET_TRANSPORT (signet_serial_transport_new (path));
  TestResult r = { 0 };

  test_open (t, NULL, &r);
  g_assert_no_error (r.error);
  test_result_clear (&r);
  return t;
}

/* ---- tests ----------------------------------------------------------------- */

static void
on_disconnected (SignetTransport *t,
                 const GError    *error,
                 gpointer         user_data)
{
  g_assert_error (error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_DISCONNECTED);
  (*(guint *) user_data)++;
}

static void
test_hello (void)
{
  Sim *sim = sim_start (NULL);
  g_autoptr(SignetTransport) t = open_transport (sim->pty);
  g_autoptr(GBytes) req1 = hello_request (1);
  g_autoptr(GBytes) req2 = hello_request (2);
  g_autoptr(GBytes) req3 = hello_request (3);
  guint8 nonce1[SP_MSG_NONCE_LEN], nonce2[SP_MSG_NONCE_LEN], nonce3[SP_MSG_NONCE_LEN];
  TestResult r = { 0 };
  SignetSerialStats stats;
  guint disconnected = 0;

  test_send (t, req1, &r);
  g_assert_no_error (r.error);
  test_receive (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (check_hello_response (r.message, nonce1), ==, 1);

  /* A new HELLO, a new session nonce. */
  test_send (t, req2, &r);
  test_receive (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (check_hello_response (r.message, nonce2), ==, 2);
  g_assert_true (memcmp (nonce1, nonce2, sizeof nonce1) != 0);

  signet_serial_transport_get_stats (SIGNET_SERIAL_TRANSPORT (t), &stats);
  g_assert_cmpuint (stats.frames_sent, ==, 2);
  g_assert_cmpuint (stats.frames_received, ==, 2);
  g_assert_cmpuint (signet_serial_transport_get_frames_dropped (SIGNET_SERIAL_TRANSPORT (t)),
                    ==, 0);

  /* Close and open again: the simulator sees the hang-up and the reopen,
   * as a device sees the host close and open the port. */
  signet_transport_close (t);
  test_spin (100);
  test_open (t, NULL, &r);
  g_assert_no_error (r.error);
  test_send (t, req3, &r);
  test_receive (t, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpuint (check_hello_response (r.message, nonce3), ==, 3);
  g_assert_true (memcmp (nonce2, nonce3, sizeof nonce2) != 0);

  /* The device goes away under a waiting receive. */
  g_signal_connect (t, "disconnected", G_CALLBACK (on_disconnected), &disconnected);
  signet_serial_transport_set_receive_timeout (SIGNET_SERIAL_TRANSPORT (t), 0);
  test_result_clear (&r);
  signet_transport_receive_async (t, NULL, test_on_receive, &r);
  sim_stop (sim);
  test_wait_for (&r.done, 10000);
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_DISCONNECTED);
  g_assert_cmpuint (disconnected, ==, 1);
  g_assert_cmpuint (count_events (sim, "hangup", NULL, NULL), >=, 1);
  g_assert_cmpuint (count_events (sim, "reopen", NULL, NULL), >=, 1);

  test_result_clear (&r);
  signet_transport_close (t);
  sim_free (sim);
}

/* HELLO after HELLO through a link that drops, corrupts and duplicates
 * the device's frames: the tool retries on a timeout with the same id and
 * bytes (the device answers a retry from its cache, docs/protocol.md
 * "Retries"). Every message the transport delivers must decode strictly;
 * what it counts must match what the simulator says it did. */
static void
test_faults (void)
{
  enum { REQUESTS = 30, ATTEMPTS = 12 };
  static const char *const faults[] = { "--drop-rate", "0.1", "--corrupt-rate", "0.25",
                                        "--duplicate-rate", "0.1", "--fault-direction", "out",
                                        "--seed", "20240607", NULL };
  Sim *sim = sim_start (faults);
  g_autoptr(SignetTransport) t = open_transport (sim->pty);
  SignetSerialTransport *s = SIGNET_SERIAL_TRANSPORT (t);
  TestResult r = { 0 };
  SignetSerialStats stats;
  guint sent = 0, stale = 0, retries = 0;
  guint drops, corrupts, duplicates, delivered;

  signet_serial_transport_set_receive_timeout (s, 300);
  for (guint32 id = 1; id <= REQUESTS; id++)
    {
      g_autoptr(GBytes) req = hello_request (id);
      gboolean answered = FALSE;

      for (guint attempt = 0; attempt < ATTEMPTS && !answered; attempt++)
        {
          test_send (t, req, &r);
          g_assert_no_error (r.error);
          sent++;
          retries += attempt > 0;
          for (;;)
            {
              guint8 nonce[SP_MSG_NONCE_LEN];
              guint32 got;

              test_receive (t, NULL, &r);
              if (g_error_matches (r.error, SIGNET_TRANSPORT_ERROR,
                                   SIGNET_TRANSPORT_ERROR_TIMEOUT))
                break;
              g_assert_no_error (r.error);
              /* Never a damaged message: it decodes, and says what a
               * HELLO answer says. */
              got = check_hello_response (r.message, nonce);
              g_assert_cmpuint (got, <=, id);
              if (got == id)
                {
                  answered = TRUE;
                  break;
                }
              stale++;      /* a duplicate of an earlier answer */
            }
        }
      g_assert_true (answered);
    }
  /* Late duplicates of the last answers. */
  for (;;)
    {
      guint8 nonce[SP_MSG_NONCE_LEN];

      test_receive (t, NULL, &r);
      if (r.error != NULL)
        break;
      check_hello_response (r.message, nonce);
      stale++;
    }
  g_assert_error (r.error, SIGNET_TRANSPORT_ERROR, SIGNET_TRANSPORT_ERROR_TIMEOUT);
  signet_serial_transport_get_stats (s, &stats);
  sim_stop (sim);

  drops = count_events (sim, "fault", "out", "drop");
  corrupts = count_events (sim, "fault", "out", "corrupt");
  duplicates = count_events (sim, "fault", "out", "duplicate");
  g_test_message ("%u requests sent (%u retries), simulator: %u dropped, %u corrupted, "
                  "%u duplicated; transport: %" G_GUINT64_FORMAT " delivered, "
                  "%" G_GUINT64_FORMAT " bad CRC, %" G_GUINT64_FORMAT " bad COBS, "
                  "%" G_GUINT64_FORMAT " oversize; %u stale",
                  sent, retries, drops, corrupts, duplicates, stats.frames_received,
                  stats.bad_crc, stats.bad_cobs, stats.oversize, stale);
  /* The faults really happened (the seed is fixed, so this is no gamble). */
  g_assert_cmpuint (drops, >, 0);
  g_assert_cmpuint (corrupts, >, 0);
  g_assert_cmpuint (duplicates, >, 0);
  g_assert_cmpuint (count_events (sim, "fault", "in", NULL), ==, 0);
  /* The device got every request intact and answered each once; of those
   * answers, exactly the undamaged ones (and the duplicates) were
   * delivered. */
  delivered = sent - drops - corrupts + duplicates;
  g_assert_cmpuint (stats.frames_sent, ==, sent);
  g_assert_cmpuint (stats.frames_received, ==, delivered);
  g_assert_cmpuint (REQUESTS + stale, ==, delivered);
  /* Every corrupted frame was counted as dropped (a flipped bit that
   * makes a 0x00 cuts one frame into two bad ones). */
  g_assert_cmpuint (signet_serial_transport_get_frames_dropped (s), >=, corrupts);
  g_assert_cmpuint (signet_serial_transport_get_frames_dropped (s), <=, 2 * corrupts);

  test_result_clear (&r);
  signet_transport_close (t);
  sim_free (sim);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  if (argc != 3)
    {
      g_printerr ("usage: %s SIGNET_DEVSIM MODELS_DIR\n", argv[0]);
      return 2;
    }
  devsim_path = argv[1];
  models_dir = argv[2];
  tmp_dir = g_dir_make_tmp ("signet-transport-devsim-XXXXXX", &error);
  g_assert_no_error (error);
  state_file = g_build_filename (tmp_dir, "gw1.state", NULL);
  provision ();

  g_test_add_func ("/signet/transport-devsim/hello", test_hello);
  g_test_add_func ("/signet/transport-devsim/faults", test_faults);
  ret = g_test_run ();

  if (g_getenv ("SIGNET_TEST_KEEP") == NULL)
    {
      g_autoptr(GFile) dir = g_file_new_for_path (tmp_dir);
      g_autoptr(GFileEnumerator) e = NULL;
      GFileInfo *info;

      /* The CA is a directory; everything else is a file. */
      {
        g_autofree char *ca = g_build_filename (tmp_dir, "ca", NULL);
        g_autoptr(GFile) ca_dir = g_file_new_for_path (ca);
        g_autoptr(GFileEnumerator) ce = g_file_enumerate_children (ca_dir, "standard::name",
                                                                  G_FILE_QUERY_INFO_NONE,
                                                                  NULL, NULL);

        while (ce != NULL && (info = g_file_enumerator_next_file (ce, NULL, NULL)) != NULL)
          {
            g_autoptr(GFile) child = g_file_get_child (ca_dir, g_file_info_get_name (info));

            g_file_delete (child, NULL, NULL);
            g_object_unref (info);
          }
      }
      e = g_file_enumerate_children (dir, "standard::name", G_FILE_QUERY_INFO_NONE, NULL, NULL);
      while (e != NULL && (info = g_file_enumerator_next_file (e, NULL, NULL)) != NULL)
        {
          g_autoptr(GFile) child = g_file_get_child (dir, g_file_info_get_name (info));

          g_file_delete (child, NULL, NULL);
          g_object_unref (info);
        }
      g_file_delete (dir, NULL, NULL);
    }
  g_free (state_file);
  g_free (tmp_dir);
  return ret;
}
