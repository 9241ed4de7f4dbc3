/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-device-faults.c: the device session engine against a real signetd
 * and signet-devsim simulators whose link and power fail on purpose
 * (docs/devsim.md "Fault injection"; DESIGN.md §8 "Faults"):
 *
 *  lossy-link        --drop-rate 0.05 --corrupt-rate 0.05 --seed N: a whole
 *                    session, a bulk transfer, a firmware APPLY and COMMIT
 *                    finish by retrying; the device acted once on each
 *                    (its committed version rose by exactly one)
 *  bulk-disconnect   the simulator is killed at 40 % of a transfer; after a
 *                    restart a new session's transfer resumes at the
 *                    device's offset (fewer bytes sent than the image) and
 *                    completes; the firmware is applied and committed
 *  crash-mid-apply   --crash-at apply.staged: the apply fails with
 *                    DISCONNECTED or TIMEOUT, device.error is logged; after
 *                    the restart the same session object says HELLO over
 *                    the new link and logs device.recovery (rolled-back);
 *                    the device runs its old configuration, nothing pending
 *  health-fail       --health-fail: APPLY refused with HEALTH, nothing
 *                    changes
 *  bulk-channel      over BLE, a device offering an L2CAP channel (devsim
 *                    --l2cap, its PSM in HELLO) gets the image over it
 *                    (SignetDeviceTransfer.channel, the transport's L2CAP
 *                    counters), then applies and commits it; over serial
 *                    the same transfer takes the one link
 *
 * One signetd and one sign-in serve all cases (a second sign-in would wait
 * for the next TOTP step). Every fault comes from a fixed seed.
 *
 *   test-device-faults SIGNETD SIGNET_DEVSIM MODELS_DIR
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/types.h>

#include "engine-fixture.h"

static const char firmware_profile_json[] =
  "{\"id\": \"acme-firmware\", \"version\": 1, \"model\": \"acme-gw1\", \"class\": \"firmware\",\n"
  " \"critical\": true, \"description\": \"Firmware image and update channel\",\n"
  " \"fields\": [\n"
  "   {\"key\": \"update.channel\", \"type\": \"enum\", \"values\": [\"stable\", \"beta\"]}]}\n";

static Fixture fixture;
static gboolean fixture_ready;

static Fixture *
shared_fixture (void)
{
  const char *profiles[] = { firmware_profile_json, NULL };

  if (!fixture_ready)
    {
      if (!fixture_setup (&fixture, NULL, profiles))
        return NULL;
      fixture_ready = TRUE;
    }
  return &fixture;
}

/* size bytes of a fixed pseudo-random image. */
static GBytes *
make_image (gsize   size,
            guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint8 *p = g_malloc (size);

  for (gsize i = 0; i < size; i++)
    p[i] = (guint8) g_rand_int (rand);
  return g_bytes_new_take (p, size);
}

static GVariant *
firmware_values (const char *channel)
{
  GVariantDict d;

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "update.channel", "s", channel);
  return g_variant_dict_end (&d);
}

/* The records of the fixture's log from index first on, as "type json"
 * lines. */
static GPtrArray *
log_records (Fixture *f,
             guint    first)
{
  g_autoptr(GBytes) contents = signet_event_log_dup_contents (f->log);
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (contents);
  g_autoptr(GError) error = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  SignetEventRecord *rec = NULL;
  guint i = 0;

  while (signet_event_log_reader_next (reader, &rec, &error))
    {
      if (i++ >= first)
        {
          g_autofree char *json = signet_event_record_data_to_json (rec);

          g_ptr_array_add (out, g_strdup_printf ("%s %s", signet_event_record_get_record_type (rec),
                                                 json != NULL ? json : "null"));
        }
      signet_event_record_unref (rec);
    }
  g_assert_no_error (error);
  return out;
}

static guint
log_count (Fixture *f)
{
  g_autoptr(GPtrArray) all = log_records (f, 0);

  return all->len;
}

/* The first record of type at or after index first (NULL: none). */
static const char *
find_record (GPtrArray  *records,
             const char *type)
{
  g_autofree char *prefix = g_strconcat (type, " ", NULL);

  for (guint i = 0; i < records->len; i++)
    if (g_str_has_prefix (records->pdata[i], prefix))
      return records->pdata[i];
  return NULL;
}

/* The uint member name of the record's JSON data. */
static guint64
record_uint (const char *record,
             const char *name)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *o;

  g_assert_true (json_parser_load_from_data (parser, strchr (record, ' ') + 1, -1, &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (o, name));
  return (guint64) json_object_get_int_member (o, name);
}

static const char *
record_text (const char *record,
             const char *name,
             JsonParser *parser)
{
  g_autoptr(GError) error = NULL;
  JsonObject *o;

  g_assert_true (json_parser_load_from_data (parser, strchr (record, ' ') + 1, -1, &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (o, name));
  return json_object_get_string_member (o, name);
}

/* Lines of the simulator's --json-status file that contain needle. */
static guint
status_events (FixtureDevice *d,
               const char    *needle)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (d->status_file, &text, NULL, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], needle) != NULL)
      n++;
  return n;
}

static SignetDeviceTransfer *
transfer (FixtureDevice *d,
          GBytes        *image,
          GError       **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_transfer_async (d->session, image, NULL,
                                                       fixture_got_result, &res), res);
  return signet_device_session_transfer_finish (d->session, res, error);
}

static SignetDeviceReceipt *
apply_firmware (Fixture       *f,
                FixtureDevice *d,
                GBytes        *digest,
                GError       **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_apply_firmware_async (d->session,
                                                             fixture_profile (f, "acme-firmware"),
                                                             firmware_values ("beta"), digest,
                                                             NULL, fixture_got_result, &res),
                 res);
  return signet_device_session_apply_firmware_finish (d->session, res, error);
}

static SignetDeviceReceipt *
commit (FixtureDevice *d,
        GError       **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_commit_async (d->session, NULL, fixture_got_result, &res),
                 res);
  return signet_device_session_commit_finish (d->session, res, error);
}

static void
assert_state (FixtureDevice *d,
              gint64         committed,
              const char    *digest_hex)
{
  g_autoptr(JsonObject) st = fixture_device_status (d);

  g_assert_cmpint (json_object_get_int_member (st, "committed_version"), ==, committed);
  g_assert_cmpint (json_object_get_int_member (st, "pending_version"), ==, 0);
  if (digest_hex != NULL)
    g_assert_cmpstr (json_object_get_string_member (st, "config_digest"), ==, digest_hex);
}

/* ---- a link that drops and corrupts frames -------------------------------- */

static void
test_lossy_link (void)
{
  const char *serial_args[] = { "--drop-rate", "0.05", "--corrupt-rate", "0.05", "--seed", "4242",
                                NULL };
  /* Over BLE the link layer's CRC-24 and the host's reliable ATT queues
   * let no altered segment through (docs/ble.md "Segments"): what a BLE
   * link does is lose (a full queue, a dropped connection event at the
   * edge of range) and, with a retransmitting peer, duplicate. */
  const char *ble_args[] = { "--drop-rate", "0.05", "--duplicate-rate", "0.05", "--seed", "4242",
                             NULL };
  const char * const *run_args = fixture_transport_is_ble () ? ble_args : serial_args;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) image = make_image (96 * 1024, 1);
  g_autoptr(SignetDeviceTransfer) t = NULL;
  g_autoptr(SignetDeviceReceipt) applied = NULL;
  g_autoptr(SignetDeviceReceipt) committed = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autofree char *digest_hex = NULL;
  Fixture *f = shared_fixture ();
  FixtureDevice d;
  guint first;

  if (f == NULL)
    return;
  first = log_count (f);
  fixture_device_start (f, &d, "lossy", "acme-gw1", "GW1-9001", run_args);
  /* A lost frame costs a receive timeout: keep it short, retry more. */
  fixture_device_set_receive_timeout (&d, 300);
  signet_device_session_set_max_retries (d.session, 8);
  fixture_device_open (&d);

  t = transfer (&d, image, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (t->size, ==, g_bytes_get_size (image));
  g_assert_cmpuint (t->resumed_from, ==, 0);
  g_test_message ("lossy transfer: %" G_GUINT64_FORMAT " chunks, %" G_GUINT64_FORMAT
                  " bytes sent for %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT " resyncs",
                  t->chunks, t->bytes_sent, t->size, t->resyncs);

  applied = apply_firmware (f, &d, t->digest, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (applied->committed_version, ==, 1);
  g_assert_cmpuint (applied->pending_version, ==, 2);
  committed = commit (&d, &error);
  g_assert_no_error (error);
  /* Acted on once: one version up, not two. */
  g_assert_cmpuint (committed->committed_version, ==, 2);
  g_assert_cmpuint (committed->pending_version, ==, 0);
  g_assert_cmpuint (committed->seq, >, applied->seq);
  digest_hex = fixture_hex (committed->config_digest);
  assert_state (&d, 2, digest_hex);

  /* the faults really happened, and both ways */
  g_test_message ("faults: %u dropped, %u corrupted; tool dropped %" G_GUINT64_FORMAT
                  " bad frames", status_events (&d, "\"drop\""), status_events (&d, "\"corrupt\""),
                  fixture_device_units_dropped (&d));
  g_assert_cmpuint (status_events (&d, "\"fault\""), >=, 5);
  g_assert_cmpuint (status_events (&d, "\"dir\":\"in\""), >, 0);
  g_assert_cmpuint (status_events (&d, "\"dir\":\"out\""), >, 0);

  records = log_records (f, first);
  g_assert_nonnull (find_record (records, "device.bulk_begin"));
  g_assert_nonnull (find_record (records, "device.bulk"));
  g_assert_cmpuint (record_uint (find_record (records, "device.bulk"), "size"), ==,
                    g_bytes_get_size (image));
  g_assert_nonnull (find_record (records, "device.apply"));
  fixture_device_stop (&d);
}

/* ---- a disconnect in the middle of a bulk transfer ------------------------ */

typedef struct {
  FixtureDevice *d;
  double at;
  gboolean killed;
} Killer;

static void
kill_at_progress (SignetDeviceSession *s,
                  const char          *step,
                  double               fraction,
                  gpointer             user_data)
{
  Killer *k = user_data;

  if (!k->killed && g_strcmp0 (step, "transfer") == 0 && fraction >= k->at)
    {
      const char *pid = g_subprocess_get_identifier (k->d->proc);

      /* The cable pulled, the power cut: SIGKILL, no clean-up, now.
       * Not g_subprocess_force_exit (): GLib sends its signal from its
       * worker thread, and on a loaded machine the whole rest of the
       * transfer went through before that thread ran. */
      g_assert_nonnull (pid);
      g_assert_no_errno (kill ((pid_t) g_ascii_strtoll (pid, NULL, 10), SIGKILL));
      k->killed = TRUE;
    }
}

static void
test_bulk_disconnect (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) image = make_image (200 * 1000, 2);
  g_autoptr(SignetDeviceTransfer) none = NULL;
  g_autoptr(SignetDeviceTransfer) t = NULL;
  g_autoptr(SignetDeviceReceipt) applied = NULL;
  g_autoptr(SignetDeviceReceipt) committed = NULL;
  g_autoptr(GPtrArray) records = NULL;
  Fixture *f = shared_fixture ();
  FixtureDevice d;
  Killer k = { &d, 0.4, FALSE };
  guint64 link_bytes;
  const char *bulk;
  guint first;

  if (f == NULL)
    return;
  first = log_count (f);
  fixture_device_start (f, &d, "unplugged", "acme-gw1", "GW1-9002", NULL);
  fixture_device_open (&d);
  g_signal_connect (d.session, "progress", G_CALLBACK (kill_at_progress), &k);
  none = transfer (&d, image, &error);
  g_assert_null (none);
  g_assert_true (k.killed);
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_DISCONNECTED);
  g_test_message ("transfer cut: %s", error->message);
  g_clear_error (&error);

  /* the device comes back: a new link, a new session, the same image */
  fixture_device_restart (f, &d, NULL);
  fixture_device_open (&d);
  t = transfer (&d, image, &error);
  g_assert_no_error (error);
  link_bytes = fixture_device_bytes_sent (&d);
  g_test_message ("resumed at %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT
                  " bytes sent in %" G_GUINT64_FORMAT " chunks (link: %" G_GUINT64_FORMAT
                  " bytes)", t->resumed_from, t->size, t->bytes_sent, t->chunks,
                  link_bytes);
  /* The device kept its offset at a 4 KiB boundary before the cut. */
  g_assert_cmpuint (t->resumed_from, >, 0);
  g_assert_cmpuint (t->resumed_from % 4096, ==, 0);
  g_assert_cmpuint (t->bytes_sent, ==, t->size - t->resumed_from);
  g_assert_cmpuint (t->bytes_sent, <, t->size);
  /* Over a serial link the bytes on the wire stay under the image too.
   * Over BLE they need not: BlueZ's EATT bearers reorder Write Commands,
   * and a message's first segment that overtakes the one before costs a
   * resend of the window (docs/ble.md "Reordering"); the payload bytes
   * above are what says the transfer resumed. */
  if (!fixture_transport_is_ble ())
    g_assert_cmpuint (link_bytes, <, t->size);

  applied = apply_firmware (f, &d, t->digest, &error);
  g_assert_no_error (error);
  committed = commit (&d, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (committed->committed_version, ==, 2);
  assert_state (&d, 2, NULL);

  records = log_records (f, first);
  {
    g_autoptr(JsonParser) parser = json_parser_new ();
    const char *err = find_record (records, "device.error");

    g_assert_nonnull (err);
    g_assert_cmpstr (record_text (err, "step", parser), ==, "transfer");
  }
  bulk = find_record (records, "device.bulk");
  g_assert_nonnull (bulk);
  g_assert_cmpuint (record_uint (bulk, "resumed_from"), ==, t->resumed_from);
  g_assert_cmpuint (record_uint (bulk, "size"), ==, t->size);
  fixture_device_stop (&d);
}

/* ---- a device crash mid-apply -------------------------------------------- */

static void
test_crash_mid_apply (void)
{
  const char *crash[] = { "--crash-at", "apply.staged", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(SignetDeviceReceipt) none = NULL;
  g_autoptr(SignetDeviceSession) session = NULL;
  g_autoptr(JsonObject) before = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  Fixture *f = shared_fixture ();
  FixtureDevice d;
  const char *rec;
  guint first;

  if (f == NULL)
    return;
  first = log_count (f);
  fixture_device_start (f, &d, "crashing", "acme-gw1", "GW1-9003", crash);
  before = fixture_device_status (&d);
  fixture_device_set_receive_timeout (&d, 1000);
  signet_device_session_set_max_retries (d.session, 1);
  fixture_device_open (&d);
  FIXTURE_AWAIT (signet_device_session_apply_async (d.session, fixture_profile (f, "acme-wifi"),
                                                    fixture_wifi_values (9), NULL,
                                                    fixture_got_result, &res), res);
  none = signet_device_session_apply_finish (d.session, res, &error);
  g_assert_null (none);
  g_assert_true (g_error_matches (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_DISCONNECTED)
                 || g_error_matches (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_TIMEOUT));
  g_test_message ("apply cut: %s", error->message);
  g_assert_cmpuint (strlen (error->message), >, 10);
  g_clear_error (&error);

  /* The device comes back (without the crash point); the same session
   * object goes on over the new link and says what it finds. */
  session = g_object_ref (d.session);
  fixture_device_restart (f, &d, NULL);
  signet_device_session_set_transport (session, d.transport);
  FIXTURE_AWAIT (signet_device_session_hello_async (session, NULL, fixture_got_result, &res), res);
  g_assert_true (signet_device_session_hello_finish (session, res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (signet_device_session_get_info (session)->config_version, ==, 1);
  assert_state (&d, 1, json_object_get_string_member (before, "config_digest"));

  records = log_records (f, first);
  rec = find_record (records, "device.error");
  g_assert_nonnull (rec);
  g_assert_cmpstr (record_text (rec, "step", parser), ==, "apply");
  rec = find_record (records, "device.recovery");
  g_assert_nonnull (rec);
  g_test_message ("%s", rec);
  g_assert_cmpstr (record_text (rec, "op", parser), ==, "apply");
  g_assert_cmpstr (record_text (rec, "outcome", parser), ==, "rolled-back");
  g_assert_cmpuint (record_uint (rec, "version"), ==, 2);
  g_assert_cmpuint (record_uint (rec, "config_version"), ==, 1);
  g_assert_cmpuint (record_uint (rec, "pending_version"), ==, 0);
  fixture_device_stop (&d);
}

/* ---- a failing health check ----------------------------------------------- */

static void
test_health_fail (void)
{
  const char *run_args[] = { "--health-fail", "wifi.channel=11", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(SignetDeviceReceipt) none = NULL;
  g_autoptr(JsonObject) before = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  Fixture *f = shared_fixture ();
  FixtureDevice d;
  const char *rec;
  guint first;

  if (f == NULL)
    return;
  first = log_count (f);
  fixture_device_start (f, &d, "unhealthy", "acme-gw1", "GW1-9004", run_args);
  before = fixture_device_status (&d);
  fixture_device_open (&d);
  FIXTURE_AWAIT (signet_device_session_apply_async (d.session, fixture_profile (f, "acme-wifi"),
                                                    fixture_wifi_values (11), NULL,
                                                    fixture_got_result, &res), res);
  none = signet_device_session_apply_finish (d.session, res, &error);
  g_assert_null (none);
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_HEALTH);
  g_test_message ("refused: %s", error->message);
  g_clear_error (&error);
  assert_state (&d, 1, json_object_get_string_member (before, "config_digest"));

  /* nothing pending to commit */
  g_assert_null (commit (&d, &error));
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_BAD_STATE);
  g_clear_error (&error);
  assert_state (&d, 1, json_object_get_string_member (before, "config_digest"));

  records = log_records (f, first);
  rec = find_record (records, "device.error");
  g_assert_nonnull (rec);
  g_assert_cmpuint (record_uint (rec, "code"), ==, SIGNET_DEVICE_ERROR_HEALTH);
  g_assert_cmpstr (record_text (rec, "step", parser), ==, "apply");
  fixture_device_stop (&d);
}

/* ---- the bulk channel (BLE: an LE L2CAP channel) ------------------------- */

static void
test_bulk_channel (void)
{
  const char *ble_args[] = { "--l2cap", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) image = make_image (64 * 1024, 5);
  g_autoptr(SignetDeviceTransfer) t = NULL;
  g_autoptr(SignetDeviceReceipt) applied = NULL;
  g_autoptr(SignetDeviceReceipt) committed = NULL;
  g_autofree char *digest_hex = NULL;
  Fixture *f = shared_fixture ();
  FixtureDevice d;
  gboolean ble = fixture_transport_is_ble ();

  if (f == NULL)
    return;
  fixture_device_start (f, &d, "channel", "acme-gw1", "GW1-9005", ble ? ble_args : NULL);
  fixture_device_open (&d);
  g_assert_cmpuint (signet_device_session_get_info (d.session)->bulk_psm != 0, ==, ble);
  t = transfer (&d, image, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (t->size, ==, g_bytes_get_size (image));
  g_assert_cmpuint (t->channel, ==, ble);
  if (ble)
    {
      SignetBleStats st;

      signet_ble_transport_get_stats (SIGNET_BLE_TRANSPORT (d.transport), &st);
      g_test_message ("over L2CAP PSM %u: %" G_GUINT64_FORMAT " chunks, %" G_GUINT64_FORMAT
                      " SDUs sent, %" G_GUINT64_FORMAT " received; GATT segments sent %"
                      G_GUINT64_FORMAT, signet_device_session_get_info (d.session)->bulk_psm,
                      t->chunks, st.l2cap_sent, st.l2cap_received, st.segments_sent);
      g_assert_cmpuint (st.l2cap_sent, >=, t->chunks);
      g_assert_cmpuint (st.l2cap_received, >, 0);
    }
  applied = apply_firmware (f, &d, t->digest, &error);
  g_assert_no_error (error);
  committed = commit (&d, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (committed->committed_version, ==, 2);
  digest_hex = fixture_hex (committed->config_digest);
  assert_state (&d, 2, digest_hex);
  fixture_device_stop (&d);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  fixture_parse_args (argc, argv);
  g_test_add_func ("/signet/device-faults/lossy-link", test_lossy_link);
  g_test_add_func ("/signet/device-faults/bulk-disconnect", test_bulk_disconnect);
  g_test_add_func ("/signet/device-faults/crash-mid-apply", test_crash_mid_apply);
  g_test_add_func ("/signet/device-faults/health-fail", test_health_fail);
  g_test_add_func ("/signet/device-faults/bulk-channel", test_bulk_channel);
  ret = g_test_run ();
  if (fixture_ready)
    {
      g_autoptr(GBytes) contents = NULL;
      g_autoptr(SignetEventLogResult) verdict = NULL;

      /* every record of every case: the log still verifies */
      g_assert_true (signet_event_log_close_session (fixture.log, NULL));
      contents = signet_event_log_dup_contents (fixture.log);
      verdict = signet_event_log_verify (contents, fixture.k0);
      if (signet_event_log_result_get_verdict (verdict) != SIGNET_EVENT_LOG_VERIFIED)
        {
          g_printerr ("event log: %s\n", signet_event_log_result_get_message (verdict));
          ret = 1;
        }
      fixture_teardown (&fixture);
    }
  return ret;
}
