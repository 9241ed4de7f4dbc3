/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-attacks.c: attacks on a device session through the real stack
 * (DESIGN.md §8 "Attacks", issue 5): a real signetd on 127.0.0.1 (TLS),
 * real signet-devsim devices on ptys, the engine
 * (core/signet-device-session.c) and the serial transport.
 *
 * Every attack must be
 *   1. refused with its own error (domain and code asserted; the message
 *      a technician reads is printed with g_test_message),
 *   2. recorded in the event log: exactly one device.error record naming
 *      the device, the step and the code (read back with
 *      SignetEventLogReader),
 *   3. without effect on the device: committed_version, pending_version and
 *      config_digest of `signet-devsim status --json` are the same before
 *      and after.
 *
 * Crafted commands are built here with sp_msg and signed with the
 * session's proof-of-possession key, so each one differs from a valid
 * command in the one field under attack; a crafted command that is valid
 * is accepted (a positive control), which shows the refusals are the
 * attack's and not the crafting's.
 *
 * One fixture (signetd, alice signed in, one event log) serves every
 * case, in order; each case uses its own devices. The token-expiry case
 * restarts signetd with a short token lifetime and runs last.
 *
 *   test-attacks SIGNETD SIGNET_DEVSIM MODELS_DIR
 */
#include "config.h"

#include <string.h>

#include "engine-fixture.h"
#include "signet-crypto.h"
#include "signet-crypto-port.h"
#include "signet-key.h"
#include "signet-totp.h"
#include "sp-cose.h"
#include "sp-cwt.h"
#include "sp-msg.h"

#define MODEL "acme-gw1"

/* A configuration-only profile: nothing sealed, so APPLY goes straight to
 * the device (the token-expiry and scope cases need that). */
static const char channel_profile_json[] =
  "{\"id\": \"acme-channel\", \"version\": 1, \"model\": \"acme-gw1\", \"class\": \"config\",\n"
  " \"critical\": false, \"description\": \"Radio channel\",\n"
  " \"fields\": [{\"key\": \"wifi.channel\", \"type\": \"int\", \"min\": 1, \"max\": 13}]}\n";

static Fixture fx;
static gboolean have_fx;

/* ---- the device's state ---------------------------------------------------- */

typedef struct {
  gint64 committed;
  gint64 pending;
  char *digest;
} DevState;

static void
dev_state_read (FixtureDevice *d,
                DevState      *s)
{
  g_autoptr(JsonObject) o = fixture_device_status (d);

  s->committed = json_object_get_int_member (o, "committed_version");
  s->pending = json_object_get_int_member (o, "pending_version");
  s->digest = g_strdup (json_object_get_string_member (o, "config_digest"));
  g_assert_cmpuint (strlen (s->digest), ==, 64);
}

static void
dev_state_clear (DevState *s)
{
  g_clear_pointer (&s->digest, g_free);
}

static void
assert_unchanged (FixtureDevice  *d,
                  const DevState *before)
{
  DevState now = { 0 };

  dev_state_read (d, &now);
  g_assert_cmpint (now.committed, ==, before->committed);
  g_assert_cmpint (now.pending, ==, before->pending);
  g_assert_cmpstr (now.digest, ==, before->digest);
  dev_state_clear (&now);
}

/* ---- the engine's steps, synchronously -------------------------------------- */

static gboolean
do_hello (FixtureDevice *d, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_hello_async (d->session, NULL, fixture_got_result, &res),
                 res);
  return signet_device_session_hello_finish (d->session, res, error);
}

static gboolean
do_attest (FixtureDevice *d, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_attest_async (d->session, NULL, fixture_got_result, &res),
                 res);
  return signet_device_session_attest_finish (d->session, res, error);
}

static gboolean
do_push_revocation (FixtureDevice *d, guint64 *version, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_push_revocation_async (d->session, NULL,
                                                              fixture_got_result, &res), res);
  return signet_device_session_push_revocation_finish (d->session, res, version, error);
}

static gboolean
do_authorize (FixtureDevice *d, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_authorize_async (d->session, NULL, fixture_got_result,
                                                        &res), res);
  return signet_device_session_authorize_finish (d->session, res, error);
}

static SignetDeviceReceipt *
do_apply (FixtureDevice *d, const SignetServiceProfile *profile, GVariant *values,
          GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_apply_async (d->session, profile, values, NULL,
                                                    fixture_got_result, &res), res);
  return signet_device_session_apply_finish (d->session, res, error);
}

static SignetDeviceReceipt *
do_commit (FixtureDevice *d, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_commit_async (d->session, NULL, fixture_got_result, &res),
                 res);
  return signet_device_session_commit_finish (d->session, res, error);
}

static SignetDeviceReceipt *
do_rollback (FixtureDevice *d, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_rollback_async (d->session, NULL, fixture_got_result,
                                                       &res), res);
  return signet_device_session_rollback_finish (d->session, res, error);
}

static SignetDeviceReceipt *
do_send (FixtureDevice *d, guint op, GBytes *command, GError **error)
{
  g_autoptr(GAsyncResult) res = NULL;

  FIXTURE_AWAIT (signet_device_session_send_command_async (d->session, op, command, NULL,
                                                           fixture_got_result, &res), res);
  return signet_device_session_send_command_finish (d->session, res, error);
}

static SignetDeviceReceipt *
must_apply (FixtureDevice *d, const SignetServiceProfile *profile, GVariant *values)
{
  g_autoptr(GError) error = NULL;
  SignetDeviceReceipt *r = do_apply (d, profile, values, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static SignetDeviceReceipt *
must_commit (FixtureDevice *d)
{
  g_autoptr(GError) error = NULL;
  SignetDeviceReceipt *r = do_commit (d, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static SignetDeviceReceipt *
must_send (FixtureDevice *d, guint op, GBytes *command)
{
  g_autoptr(GError) error = NULL;
  SignetDeviceReceipt *r = do_send (d, op, command, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static GVariant *
channel_values (gint32 channel)
{
  GVariantDict d;

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "wifi.channel", "i", channel);
  return g_variant_dict_end (&d);
}

/* ---- the event log ------------------------------------------------------------ */

static JsonObject *
record_data (SignetEventRecord *rec)
{
  g_autofree char *json = signet_event_record_data_to_json (rec);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, json, -1, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* The data of the records of type from seq `since` on, for serial. */
static GPtrArray *
records_since (guint64     since,
               const char *type,
               const char *serial)
{
  g_autoptr(GBytes) contents = signet_event_log_dup_contents (fx.log);
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (contents);
  g_autoptr(GError) error = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  SignetEventRecord *rec = NULL;

  while (signet_event_log_reader_next (reader, &rec, &error))
    {
      if (signet_event_record_get_seq (rec) >= since
          && g_str_equal (signet_event_record_get_record_type (rec), type)
          && g_strcmp0 (signet_event_record_get_device (rec), serial) == 0)
        g_ptr_array_add (out, record_data (rec));
      signet_event_record_unref (rec);
    }
  g_assert_no_error (error);
  return out;
}

/* Exactly one device.error since `since`, for serial, with step and code. */
static void
assert_logged_in (guint64     since,
                  const char *serial,
                  const char *step,
                  const char *domain,
                  gint        code)
{
  g_autoptr(GPtrArray) errors = records_since (since, "device.error", serial);
  JsonObject *o;

  g_assert_cmpuint (errors->len, ==, 1);
  o = g_ptr_array_index (errors, 0);
  g_assert_cmpstr (json_object_get_string_member (o, "step"), ==, step);
  g_assert_cmpstr (json_object_get_string_member (o, "domain"), ==, domain);
  g_assert_cmpint (json_object_get_int_member (o, "code"), ==, code);
  g_assert_cmpuint (strlen (json_object_get_string_member (o, "message")), >, 0);
}

static void
assert_logged (guint64     since,
               const char *serial,
               const char *step,
               gint        code)
{
  assert_logged_in (since, serial, step, "device", code);
}

static guint64
log_mark (void)
{
  return signet_event_log_get_next_seq (fx.log);
}

/* The refusal: domain and code, the message shown, the log record. */
static void
expect_refusal (const char   *what,
                GError       *error,
                gint          code,
                guint64       since,
                const char   *serial,
                const char   *step)
{
  g_assert_error (error, SIGNET_DEVICE_ERROR, code);
  g_test_message ("%s: refused at %s, code %d: %s", what, step, code, error->message);
  assert_logged (since, serial, step, code);
}

/* The same for a refusal of the token service, which keeps its domain. */
static void
expect_service_refusal (const char   *what,
                        GError       *error,
                        gint          code,
                        guint64       since,
                        const char   *serial,
                        const char   *step)
{
  g_assert_error (error, SIGNET_SERVICE_ERROR, code);
  g_test_message ("%s: refused by the service at %s, code %d: %s", what, step, code,
                  error->message);
  assert_logged_in (since, serial, step, "service", code);
}

/* ---- crafting commands --------------------------------------------------------- */

/* The cti of the service session's current token. */
static GBytes *
token_cti (SignetServiceSession *session)
{
  g_autoptr(GBytes) token = signet_service_session_dup_token (session);
  sp_cose_sign1 s1 = { 0 };
  sp_cwt_claims claims;
  gsize len;
  const guint8 *p = g_bytes_get_data (token, &len);

  g_assert_cmpint (sp_cose_sign1_decode (p, len, NULL, &s1), ==, SP_OK);
  g_assert_cmpint (sp_cwt_claims_decode (s1.payload, s1.payload_len, &claims), ==, SP_OK);
  g_assert_nonnull (claims.cti);
  return g_bytes_new (claims.cti, claims.cti_len);
}

typedef struct {
  const char *serial;              /* NULL: the device's (HELLO) */
  GBytes *nonce;                   /* NULL: the session's */
  guint64 seq;
  guint op;
  const guint8 *args;
  gsize args_len;
  SignetKey *key;                  /* NULL: the PoP key */
  GBytes *cti;                     /* NULL: the token's */
} Craft;

static GBytes *
craft_command (FixtureDevice *d,
               const Craft   *c)
{
  g_autoptr(GBytes) nonce = c->nonce != NULL ? g_bytes_ref (c->nonce)
                                             : signet_device_session_dup_nonce (d->session);
  g_autoptr(GBytes) cti = c->cti != NULL ? g_bytes_ref (c->cti) : token_cti (fx.session);
  SignetKey *key = c->key != NULL ? c->key : signet_service_session_get_pop_key (fx.session);
  guint8 buf[SP_MSG_MAX];
  sp_msg_command cmd = { 0 };
  size_t len = 0;

  g_assert_nonnull (nonce);
  cmd.serial = sp_msg_text_from (c->serial != NULL
                                 ? c->serial
                                 : signet_device_session_get_info (d->session)->serial);
  cmd.nonce.ptr = g_bytes_get_data (nonce, &cmd.nonce.len);
  cmd.seq = c->seq;
  cmd.op = c->op;
  cmd.args.ptr = c->args;
  cmd.args.len = c->args_len;
  cmd.cti.ptr = g_bytes_get_data (cti, &cmd.cti.len);
  g_assert_cmpint (sp_msg_command_sign (signet_crypto_port_openssl (),
                                        signet_key_get_sp_key (key), &cmd, buf, sizeof buf,
                                        &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

/* APPLY's arguments: version, one value, the profile's id and digest. */
static gsize
apply_args (guint8                     *out,
            gsize                       cap,
            guint64                     version,
            const sp_msg_kv            *kv,
            gsize                       n_kv,
            const SignetServiceProfile *profile)
{
  guint8 values[512], digests[8];
  guint8 pdigest[SP_MSG_DIGEST_LEN];
  sp_cose_sign1 s1 = { 0 };
  sp_msg_apply_args a = { 0 };
  size_t values_len = 0, digests_len = 0, len = 0;
  gsize plen;
  const guint8 *p = g_bytes_get_data (profile->signed_profile, &plen);

  /* the profile digest: SHA-256 of the signed profile's payload */
  g_assert_cmpint (sp_cose_sign1_decode (p, plen, NULL, &s1), ==, SP_OK);
  signet_sha256_buf (s1.payload, s1.payload_len, pdigest);
  g_assert_cmpint (sp_msg_values_encode (kv, n_kv, values, sizeof values, &values_len), ==,
                   SP_OK);
  g_assert_cmpint (sp_msg_digests_encode (NULL, 0, digests, sizeof digests, &digests_len), ==,
                   SP_OK);
  a.config_version = version;
  a.values.ptr = values;
  a.values.len = values_len;
  a.n_values = n_kv;
  a.digests.ptr = digests;
  a.digests.len = digests_len;
  a.profile = sp_msg_text_from (profile->id);
  a.profile_digest.ptr = pdigest;
  a.profile_digest.len = sizeof pdigest;
  g_assert_cmpint (sp_msg_apply_args_encode (&a, out, cap, &len), ==, SP_OK);
  return len;
}

static sp_msg_kv
kv_int (const char *key, gint64 v)
{
  sp_msg_kv kv = { 0 };

  kv.key = sp_msg_text_from (key);
  kv.type = SP_CBOR_UINT;
  kv.i = v;
  return kv;
}

static sp_msg_kv
kv_text (const char *key, const char *v)
{
  sp_msg_kv kv = { 0 };

  kv.key = sp_msg_text_from (key);
  kv.type = SP_CBOR_TEXT;
  kv.text = sp_msg_text_from (v);
  return kv;
}

/* A crafted APPLY of one value. */
static GBytes *
craft_apply (FixtureDevice *d, guint64 seq, guint64 version, sp_msg_kv kv)
{
  guint8 args[1024];
  gsize len = apply_args (args, sizeof args, version, &kv, 1, fixture_profile (&fx, "acme-wifi"));
  Craft c = { .seq = seq, .op = SP_MSG_OP_APPLY, .args = args, .args_len = len };

  return craft_command (d, &c);
}

static GBytes *
craft_commit (FixtureDevice *d, guint64 seq, guint64 version)
{
  guint8 args[16];
  size_t len = 0;
  Craft c = { .seq = seq, .op = SP_MSG_OP_COMMIT, .args = args };

  g_assert_cmpint (sp_msg_commit_args_encode (version, args, sizeof args, &len), ==, SP_OK);
  c.args_len = len;
  return craft_command (d, &c);
}

/* Send command, which must be refused with code; check log and state. */
static void
attack (const char    *what,
        FixtureDevice *d,
        guint          op,
        GBytes        *command,
        gint           code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetDeviceReceipt) r = NULL;
  DevState before = { 0 };
  guint64 since = log_mark ();

  dev_state_read (d, &before);
  r = do_send (d, op, command, &error);
  g_assert_null (r);
  expect_refusal (what, error, code, since, signet_device_session_get_info (d->session)->serial,
                  "command");
  assert_unchanged (d, &before);
  dev_state_clear (&before);
}

/* Add a user of role and sign them in (a fresh TOTP secret: no wait). */
static SignetServiceSession *
sign_in_new_user (const char *name,
                  const char *role)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) re = g_regex_new ("otpauth://totp/\\S*[?&]secret=([A-Z2-7]+)", 0, 0, NULL);
  g_autoptr(GMatchInfo) m = NULL;
  g_autoptr(GBytes) secret = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autofree char *out = NULL;
  g_autofree char *b32 = NULL;
  g_autofree char *code = NULL;
  SignetServiceSession *session;

  out = fixture_run (FIXTURE_PASSWORD "\n", fixture_signetd (), "user", "--data-dir", fx.data,
                     "add", name, "--role", role, NULL);
  g_assert_true (g_regex_match (re, out, 0, &m));
  b32 = g_match_info_fetch (m, 1);
  secret = signet_totp_secret_from_base32 (b32, &error);
  g_assert_no_error (error);
  code = signet_totp_generate (secret, g_get_real_time () / G_USEC_PER_SEC, 30, 6,
                               SIGNET_TOTP_ALGORITHM_SHA1, &error);
  g_assert_no_error (error);
  FIXTURE_AWAIT (signet_service_client_login_async (fx.client, name, FIXTURE_PASSWORD, code,
                                                    NULL, NULL, fixture_got_result, &res), res);
  session = signet_service_client_login_finish (fx.client, res, &error);
  g_assert_no_error (error);
  return session;
}

/* One request of type with a byte-string body key 2, written here and
 * sent on the device's transport (not through the engine); the status of
 * the answer. */
static guint64
raw_exchange (FixtureDevice *d,
              guint          type,
              GBytes        *body)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) msg = NULL;
  g_autoptr(GBytes) answer = NULL;
  sp_msg_request req = { 0 };
  sp_msg_response resp = { 0 };
  guint8 buf[SP_MSG_MAX];
  size_t len = 0;

  req.type = type;
  req.id = 0x51ed;
  if (type == SP_MSG_AUTHORIZE)
    req.token.ptr = g_bytes_get_data (body, &req.token.len);
  else if (type == SP_MSG_REVOCATION)
    req.list.ptr = g_bytes_get_data (body, &req.list.len);
  else
    g_assert_not_reached ();
  g_assert_cmpint (sp_msg_request_encode (&req, buf, sizeof buf, &len), ==, SP_OK);
  msg = g_bytes_new (buf, len);
  FIXTURE_AWAIT (signet_transport_send_async (d->transport, msg, NULL,
                                              fixture_got_result, &res), res);
  g_assert_true (signet_transport_send_finish (d->transport, res, &error));
  g_assert_no_error (error);
  FIXTURE_AWAIT (signet_transport_receive_async (d->transport, NULL,
                                                 fixture_got_result, &res), res);
  answer = signet_transport_receive_finish (d->transport, res, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (answer, NULL),
                                           g_bytes_get_size (answer), &resp), ==, SP_OK);
  g_assert_cmpuint (resp.type, ==, type | SP_MSG_RESPONSE_BIT);
  g_assert_cmpuint (resp.id, ==, req.id);
  return resp.status;
}

/* ---- a. a recorded command replayed in a new session ---------------------------- */

static void
test_replay_new_session (void)
{
  g_autoptr(SignetDeviceReceipt) apply = NULL;
  g_autoptr(SignetDeviceReceipt) commit = NULL;
  g_autoptr(SignetDeviceReceipt) rollback = NULL;
  g_autoptr(GError) error = NULL;
  FixtureDevice a;

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &a, "replay", MODEL, "GW1-A001", NULL);

  /* session 1: apply and commit, the commands recorded */
  fixture_device_open (&a);
  apply = must_apply (&a, fixture_profile (&fx, "acme-wifi"), fixture_wifi_values (6));
  commit = must_commit (&a);
  g_assert_cmpuint (commit->committed_version, ==, 2);

  /* session 2 (a new HELLO, a new nonce; the same token): both refused */
  fixture_device_open (&a);
  attack ("APPLY replayed in a new session", &a, SP_MSG_OP_APPLY, apply->command,
          SIGNET_DEVICE_ERROR_WRONG_NONCE);
  attack ("COMMIT replayed in a new session", &a, SP_MSG_OP_COMMIT, commit->command,
          SIGNET_DEVICE_ERROR_WRONG_NONCE);

  /* a ROLLBACK recorded in session 2 (back to version 1), replayed in 3 */
  rollback = do_rollback (&a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rollback->committed_version, ==, 1);
  fixture_device_open (&a);
  attack ("ROLLBACK replayed in a new session", &a, SP_MSG_OP_ROLLBACK, rollback->command,
          SIGNET_DEVICE_ERROR_WRONG_NONCE);

  fixture_device_stop (&a);
}

/* ---- b. a command for device A sent to device B --------------------------------- */

static void
test_other_device (void)
{
  g_autoptr(SignetDeviceReceipt) apply_a = NULL;
  g_autoptr(SignetDeviceReceipt) commit_a = NULL;
  g_autoptr(SignetDeviceReceipt) rollback_a = NULL;
  g_autoptr(SignetDeviceReceipt) apply_b = NULL;
  g_autoptr(SignetDeviceReceipt) done = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) forged = NULL;
  FixtureDevice a, b;
  guint8 args[16];
  size_t args_len = 0;

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &a, "dev-a", MODEL, "GW1-B001", NULL);
  fixture_device_start (&fx, &b, "dev-b", MODEL, "GW1-B002", NULL);
  fixture_device_open (&a);
  fixture_device_open (&b);

  /* B has a change pending: a COMMIT meant for A must not commit it */
  apply_b = must_apply (&b, fixture_profile (&fx, "acme-wifi"), fixture_wifi_values (11));
  g_assert_cmpuint (apply_b->pending_version, ==, 2);

  apply_a = must_apply (&a, fixture_profile (&fx, "acme-wifi"), fixture_wifi_values (6));
  attack ("A's APPLY sent to B", &b, SP_MSG_OP_APPLY, apply_a->command,
          SIGNET_DEVICE_ERROR_WRONG_DEVICE);
  commit_a = must_commit (&a);
  attack ("A's COMMIT sent to B", &b, SP_MSG_OP_COMMIT, commit_a->command,
          SIGNET_DEVICE_ERROR_WRONG_DEVICE);
  rollback_a = do_rollback (&a, &error);
  g_assert_no_error (error);
  attack ("A's ROLLBACK sent to B", &b, SP_MSG_OP_ROLLBACK, rollback_a->command,
          SIGNET_DEVICE_ERROR_WRONG_DEVICE);

  /* Only the serial wrong: B's own nonce, B's next seq, the right token
   * and key, the version B has pending -- but A's serial. */
  {
    Craft c = { .serial = "GW1-B001", .seq = apply_b->seq + 1, .op = SP_MSG_OP_COMMIT,
                .args = args };

    g_assert_cmpint (sp_msg_commit_args_encode (2, args, sizeof args, &args_len), ==, SP_OK);
    c.args_len = args_len;
    forged = craft_command (&b, &c);
    attack ("a COMMIT with B's nonce but A's serial", &b, SP_MSG_OP_COMMIT, forged,
            SIGNET_DEVICE_ERROR_WRONG_DEVICE);
    g_clear_pointer (&forged, g_bytes_unref);

    g_assert_cmpint (sp_msg_rollback_args_encode (args, sizeof args, &args_len), ==, SP_OK);
    c.op = SP_MSG_OP_ROLLBACK;
    c.args_len = args_len;
    forged = craft_command (&b, &c);
    attack ("a ROLLBACK with B's nonce but A's serial", &b, SP_MSG_OP_ROLLBACK, forged,
            SIGNET_DEVICE_ERROR_WRONG_DEVICE);
    g_clear_pointer (&forged, g_bytes_unref);

    /* control: the same COMMIT with B's serial is accepted */
    forged = craft_commit (&b, apply_b->seq + 1, 2);
    done = must_send (&b, SP_MSG_OP_COMMIT, forged);
    g_assert_cmpuint (done->committed_version, ==, 2);
    g_assert_cmpuint (done->pending_version, ==, 0);
  }

  fixture_device_stop (&a);
  fixture_device_stop (&b);
}

/* ---- f. a value out of range ------------------------------------------------------ */

static void
test_out_of_range (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetDeviceReceipt) none = NULL;
  g_autoptr(SignetDeviceReceipt) ok = NULL;
  g_autoptr(GBytes) cmd = NULL;
  guint64 sent_before;
  DevState before = { 0 };
  FixtureDevice d;
  guint64 since, seq = 1;
  const char *serial = "GW1-F001";
  char long_ssid[40];

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &d, "range", MODEL, serial, NULL);
  fixture_device_open (&d);

  /* refused by the tool against the profile: nothing sent */
  {
    struct { const char *what; GVariant *values; } cases[] = {
      { "channel 14 (profile: 1..13)", fixture_wifi_values (14) },
      { "channel 0", fixture_wifi_values (0) },
      { "a key the profile does not set", NULL },
    };
    GVariantDict vd;

    g_variant_dict_init (&vd, NULL);
    g_variant_dict_insert (&vd, "admin.ssh", "b", TRUE);
    cases[2].values = g_variant_dict_end (&vd);
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        dev_state_read (&d, &before);
        since = log_mark ();
        sent_before = fixture_device_units_sent (&d);
        none = do_apply (&d, fixture_profile (&fx, "acme-wifi"), cases[i].values, &error);
        g_assert_null (none);
        expect_refusal (cases[i].what, error, SIGNET_DEVICE_ERROR_INVALID_VALUE, since, serial,
                        "apply");
        g_clear_error (&error);
        g_assert_cmpuint (fixture_device_units_sent (&d), ==, sent_before);
        assert_unchanged (&d, &before);
        dev_state_clear (&before);
      }
  }

  /* Defence in depth: the same values signed properly and sent anyway;
   * the device's own schema refuses them. */
  memset (long_ssid, 'x', 33);
  long_ssid[33] = '\0';
  {
    struct { const char *what; sp_msg_kv kv; } cases[] = {
      { "crafted APPLY: channel 14", kv_int ("wifi.channel", 14) },
      { "crafted APPLY: channel -1", kv_int ("wifi.channel", -1) },
      { "crafted APPLY: band 6g (not in the enum)", kv_text ("wifi.band", "6g") },
      { "crafted APPLY: a 33-byte SSID (max 32)", kv_text ("wifi.ssid", long_ssid) },
      { "crafted APPLY: a key the model does not have", kv_int ("wifi.power", 20) },
      { "crafted APPLY: a secret key in the clear", kv_text ("wifi.psk", "not-sealed-1234") },
      { "crafted APPLY: an int for a string key", kv_int ("wifi.ssid", 7) },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        cmd = craft_apply (&d, seq++, 2, cases[i].kv);
        attack (cases[i].what, &d, SP_MSG_OP_APPLY, cmd, SIGNET_DEVICE_ERROR_SCHEMA);
        g_clear_pointer (&cmd, g_bytes_unref);
      }
  }

  /* a refused APPLY still used its seq (docs/protocol.md, Commands): the
   * valid APPLY with the last refused seq is a replay */
  cmd = craft_apply (&d, seq - 1, 2, kv_int ("wifi.channel", 13));
  attack ("a valid APPLY with the seq of a refused one", &d, SP_MSG_OP_APPLY, cmd,
          SIGNET_DEVICE_ERROR_REPLAY);
  g_clear_pointer (&cmd, g_bytes_unref);

  /* control: an in-range value crafted the same way is staged */
  cmd = craft_apply (&d, seq++, 2, kv_int ("wifi.channel", 13));
  ok = must_send (&d, SP_MSG_OP_APPLY, cmd);
  g_assert_cmpuint (ok->pending_version, ==, 2);

  fixture_device_stop (&d);
}

/* ---- g. a downgrade of the configuration version ---------------------------------- */

static void
test_version_rollback (void)
{
  g_autoptr(SignetDeviceReceipt) apply = NULL;
  g_autoptr(SignetDeviceReceipt) commit = NULL;
  g_autoptr(SignetDeviceReceipt) ok = NULL;
  g_autoptr(GBytes) cmd = NULL;
  FixtureDevice d;
  guint64 seq;

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &d, "downgrade", MODEL, "GW1-G001", NULL);

  /* session 1: version 2 committed; then APPLYs that do not rise */
  fixture_device_open (&d);
  apply = must_apply (&d, fixture_profile (&fx, "acme-wifi"), fixture_wifi_values (6));
  commit = must_commit (&d);
  g_assert_cmpuint (commit->committed_version, ==, 2);
  seq = commit->seq + 1;
  cmd = craft_apply (&d, seq++, 2, kv_int ("wifi.channel", 3));
  attack ("APPLY of version 2 over committed 2", &d, SP_MSG_OP_APPLY, cmd,
          SIGNET_DEVICE_ERROR_VERSION_ROLLBACK);
  g_clear_pointer (&cmd, g_bytes_unref);
  cmd = craft_apply (&d, seq++, 1, kv_int ("wifi.channel", 3));
  attack ("APPLY of version 1 over committed 2", &d, SP_MSG_OP_APPLY, cmd,
          SIGNET_DEVICE_ERROR_VERSION_ROLLBACK);
  g_clear_pointer (&cmd, g_bytes_unref);
  /* control: version 3 is staged */
  cmd = craft_apply (&d, seq++, 3, kv_int ("wifi.channel", 3));
  ok = must_send (&d, SP_MSG_OP_APPLY, cmd);
  g_assert_cmpuint (ok->pending_version, ==, 3);
  g_clear_pointer (&cmd, g_bytes_unref);
  g_clear_pointer (&ok, signet_device_receipt_free);
  g_clear_pointer (&apply, signet_device_receipt_free);

  /* session 2 (HELLO drops the pending 3): 3 pending again; COMMITs of
   * other versions */
  fixture_device_open (&d);
  apply = must_apply (&d, fixture_profile (&fx, "acme-wifi"), fixture_wifi_values (9));
  g_assert_cmpuint (apply->pending_version, ==, 3);
  seq = apply->seq + 1;
  cmd = craft_commit (&d, seq++, 2);
  attack ("COMMIT of version 2 (the committed one) with 3 pending", &d, SP_MSG_OP_COMMIT, cmd,
          SIGNET_DEVICE_ERROR_VERSION_ROLLBACK);
  g_clear_pointer (&cmd, g_bytes_unref);
  cmd = craft_commit (&d, seq++, 4);
  attack ("COMMIT of version 4 with 3 pending", &d, SP_MSG_OP_COMMIT, cmd,
          SIGNET_DEVICE_ERROR_VERSION_ROLLBACK);
  g_clear_pointer (&cmd, g_bytes_unref);
  /* control: COMMIT of 3 */
  cmd = craft_commit (&d, seq++, 3);
  ok = must_send (&d, SP_MSG_OP_COMMIT, cmd);
  g_assert_cmpuint (ok->committed_version, ==, 3);
  g_assert_cmpuint (ok->pending_version, ==, 0);

  fixture_device_stop (&d);
}

/* ---- h. replayed seq, another key, another token -------------------------------- */

static void
test_forged_commands (void)
{
  g_autoptr(SignetDeviceReceipt) apply = NULL;
  g_autoptr(SignetDeviceReceipt) commit = NULL;
  g_autoptr(GBytes) cmd = NULL;
  g_autoptr(SignetKey) other_key = NULL;
  g_autoptr(GBytes) other_cti = NULL;
  g_autoptr(GError) error = NULL;
  FixtureDevice d;
  guint8 args[16];
  size_t args_len = 0;
  guint64 seq;

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &d, "forged", MODEL, "GW1-H001", NULL);
  fixture_device_open (&d);
  apply = must_apply (&d, fixture_profile (&fx, "acme-wifi"), fixture_wifi_values (6));
  seq = apply->seq;

  /* the seq of the APPLY again (a COMMIT otherwise right) */
  cmd = craft_commit (&d, seq, 2);
  attack ("COMMIT with the seq already used", &d, SP_MSG_OP_COMMIT, cmd,
          SIGNET_DEVICE_ERROR_REPLAY);
  g_clear_pointer (&cmd, g_bytes_unref);

  /* the recorded APPLY re-sent in its own session (a new request id) */
  attack ("APPLY re-sent in its own session", &d, SP_MSG_OP_APPLY, apply->command,
          SIGNET_DEVICE_ERROR_REPLAY);

  /* signed by a key that is not the token's cnf */
  other_key = signet_key_generate (&error);
  g_assert_no_error (error);
  g_assert_cmpint (sp_msg_commit_args_encode (2, args, sizeof args, &args_len), ==, SP_OK);
  {
    Craft c = { .seq = seq + 1, .op = SP_MSG_OP_COMMIT, .args = args, .args_len = args_len,
                .key = other_key };

    cmd = craft_command (&d, &c);
    attack ("COMMIT signed by another key", &d, SP_MSG_OP_COMMIT, cmd,
            SIGNET_DEVICE_ERROR_COMMAND_SIGNATURE);
    g_clear_pointer (&cmd, g_bytes_unref);
  }
  /* signed by the right key but naming another token */
  {
    g_autoptr(GBytes) cti = token_cti (fx.session);
    gsize len = g_bytes_get_size (cti);
    guint8 *p = g_memdup2 (g_bytes_get_data (cti, NULL), len);
    Craft c = { .seq = seq + 1, .op = SP_MSG_OP_COMMIT, .args = args, .args_len = args_len };

    p[0] ^= 0x01;
    other_cti = g_bytes_new_take (p, len);
    c.cti = other_cti;
    cmd = craft_command (&d, &c);
    attack ("COMMIT naming another token", &d, SP_MSG_OP_COMMIT, cmd,
            SIGNET_DEVICE_ERROR_WRONG_TOKEN);
    g_clear_pointer (&cmd, g_bytes_unref);
  }

  /* control: the right COMMIT after all that (no refusal above raised seq) */
  cmd = craft_commit (&d, seq + 1, 2);
  commit = must_send (&d, SP_MSG_OP_COMMIT, cmd);
  g_assert_cmpuint (commit->committed_version, ==, 2);

  fixture_device_stop (&d);
}

/* ---- e. a cloned device ------------------------------------------------------------ */

static void
test_clone (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetDeviceReceipt) none = NULL;
  g_autofree char *model_file = g_strdup_printf ("%s/%s.json", fixture_models_dir (), MODEL);
  g_autoptr(JsonObject) st_a = NULL;
  g_autoptr(JsonObject) st_c = NULL;
  guint64 sent_before;
  DevState before = { 0 };
  FixtureDevice a, clone;
  guint64 since;
  const char *serial = "GW1-E001";

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &a, "original", MODEL, serial, NULL);
  fixture_device_open (&a);

  {
    const char *prov[] = { "--model-file", model_file, "--serial", serial,
                           "--clone-cert-from", a.state, "--trust-url", fx.url,
                           "--trust-ca", fx.tls, NULL };

    fixture_device_start_provisioned (&fx, &clone, "clone", prov, NULL);
  }
  /* the same certificate, another key */
  st_a = fixture_device_status (&a);
  st_c = fixture_device_status (&clone);
  g_assert_cmpstr (json_object_get_string_member (st_a, "certificate_sha256"), ==,
                   json_object_get_string_member (st_c, "certificate_sha256"));

  dev_state_read (&clone, &before);
  g_assert_true (do_hello (&clone, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (signet_device_session_get_info (clone.session)->serial, ==, serial);
  since = log_mark ();
  g_assert_false (do_attest (&clone, &error));
  expect_refusal ("ATTEST of a clone (A's certificate, another key)", error,
                  SIGNET_DEVICE_ERROR_BAD_EVIDENCE, since, serial, "attest");
  g_clear_error (&error);
  {
    g_autoptr(GPtrArray) att = records_since (since, "device.attest", serial);

    g_assert_cmpuint (att->len, ==, 1);
    g_assert_cmpstr (json_object_get_string_member (g_ptr_array_index (att, 0), "verdict"), ==,
                     "refused");
  }
  g_assert_null (signet_device_session_get_cert_fingerprint (clone.session));

  /* and nothing more can be done with it: refused here, nothing sent */
  sent_before = fixture_device_units_sent (&clone);
  since = log_mark ();
  none = do_apply (&clone, fixture_profile (&fx, "acme-wifi"), fixture_wifi_values (6), &error);
  g_assert_null (none);
  expect_refusal ("APPLY to an unverified clone", error, SIGNET_DEVICE_ERROR_NOT_READY, since,
                  serial, "apply");
  g_clear_error (&error);
  g_assert_cmpuint (fixture_device_units_sent (&clone), ==, sent_before);
  assert_unchanged (&clone, &before);
  dev_state_clear (&before);

  /* the original still attests */
  fixture_device_open (&a);

  fixture_device_stop (&clone);
  fixture_device_stop (&a);
}

/* ---- d. a revoked device certificate ----------------------------------------------- */

static SignetServiceTrust *
fetch_trust (void)
{
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GError) error = NULL;
  SignetServiceTrust *trust;

  FIXTURE_AWAIT (signet_service_client_trust_async (fx.client, NULL, fixture_got_result, &res),
                 res);
  trust = signet_service_client_trust_finish (fx.client, res, &error);
  g_assert_no_error (error);
  return trust;
}

static GBytes *
hex_to_bytes (const char *hex)
{
  gsize n = strlen (hex) / 2;
  guint8 *p = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    p[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (p, n);
}

static void
test_revoked_device (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetDeviceReceipt) none = NULL;
  g_autoptr(GPtrArray) attests = NULL;
  g_autoptr(GBytes) evidence = NULL;
  g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(JsonObject) st = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GPtrArray) sealed = NULL;
  guint64 sent_before;
  DevState before = { 0 };
  FixtureDevice d, other;
  guint64 since, start = log_mark (), version = 0, version_before = 0;
  const char *serial = "GW1-D001";
  const char *fields[] = { "wifi.psk", NULL };

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &d, "revoked", MODEL, serial, NULL);
  fixture_device_start (&fx, &other, "not-revoked", MODEL, "GW1-D002", NULL);
  /* verified while its certificate still stood */
  fixture_device_open (&d);
  version_before = signet_device_session_get_info (d.session)->revocation_version;
  dev_state_read (&d, &before);

  g_free (fixture_run (NULL, fixture_signetd (), "revoke", "--data-dir", fx.data, "--device",
                       serial, NULL));

  /* 1. the service no longer seals to it: an APPLY with a secret field on
   * the session verified before the revocation fails at POST /v1/seal */
  since = log_mark ();
  sent_before = fixture_device_units_sent (&d);
  none = do_apply (&d, fixture_profile (&fx, "acme-wifi"), fixture_wifi_values (6), &error);
  g_assert_null (none);
  expect_service_refusal ("sealing to a revoked device (POST /v1/seal)", error,
                          SIGNET_SERVICE_ERROR_FORBIDDEN, since, serial, "apply");
  g_assert_nonnull (strstr (error->message, "revoked"));
  g_clear_error (&error);
  g_assert_cmpuint (fixture_device_units_sent (&d), ==, sent_before);
  assert_unchanged (&d, &before);

  /* the same directly: the service's own code */
  attests = records_since (start, "device.attest", serial);
  g_assert_cmpuint (attests->len, >=, 1);
  evidence = hex_to_bytes (json_object_get_string_member (g_ptr_array_index (attests, 0),
                                                          "evidence"));
  st = fixture_device_status (&d);
  {
    g_autoptr(GTlsCertificate) cert = NULL;
    g_autoptr(GByteArray) der = NULL;

    cert = g_tls_certificate_new_from_pem (json_object_get_string_member (st, "certificate"), -1,
                                           &error);
    g_assert_no_error (error);
    g_object_get (cert, "certificate", &der, NULL);
    g_ptr_array_add (chain, g_bytes_new (der->data, der->len));
  }
  FIXTURE_AWAIT (signet_service_client_seal_async (fx.client, fx.session, evidence, chain,
                                                   "acme-wifi", fields, NULL, fixture_got_result,
                                                   &res), res);
  sealed = signet_service_client_seal_finish (fx.client, res, &error);
  g_assert_null (sealed);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_FORBIDDEN);
  g_test_message ("POST /v1/seal for a revoked device: %s", error->message);
  g_clear_error (&error);

  /* 2. with the trust document fetched again, ATTEST refuses it */
  g_clear_pointer (&fx.trust, signet_service_trust_free);
  fx.trust = fetch_trust ();
  fixture_device_renew_session (&fx, &d);
  g_assert_true (do_hello (&d, &error));
  g_assert_no_error (error);
  since = log_mark ();
  g_assert_false (do_attest (&d, &error));
  expect_refusal ("ATTEST of a revoked device", error, SIGNET_DEVICE_ERROR_REVOKED, since, serial,
                  "attest");
  g_clear_error (&error);
  assert_unchanged (&d, &before);

  /* the new list reaches devices (the other one takes it) */
  fixture_device_renew_session (&fx, &other);
  fixture_device_open (&other);
  g_assert_true (do_push_revocation (&other, &version, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (version, >, version_before);
  dev_state_clear (&before);

  fixture_device_stop (&d);
  fixture_device_stop (&other);
}

/* ---- h. a revocation list older than the device's ---------------------------------- */

static void
test_stale_revocation (void)
{
  g_autoptr(SignetServiceTrust) old_trust = NULL;
  g_autoptr(GError) error = NULL;
  DevState before = { 0 };
  FixtureDevice d;
  guint64 since, version = 0, held = 0;
  const char *serial = "GW1-R001";

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &d, "stale", MODEL, serial, NULL);
  fixture_device_open (&d);
  g_assert_true (do_push_revocation (&d, &held, &error));
  g_assert_no_error (error);

  /* the service's list moves on; the device takes the new one */
  old_trust = g_steal_pointer (&fx.trust);
  g_free (fixture_run (NULL, fixture_signetd (), "revoke", "--data-dir", fx.data, "--device",
                       "GW1-R999", NULL));
  fx.trust = fetch_trust ();
  fixture_device_renew_session (&fx, &d);
  fixture_device_open (&d);
  g_assert_true (do_push_revocation (&d, &version, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (version, >, held);

  /* the old list pushed again: refused */
  {
    Fixture with_old = fx;

    with_old.trust = old_trust;
    fixture_device_renew_session (&with_old, &d);
  }
  g_assert_true (do_hello (&d, &error));
  g_assert_no_error (error);
  dev_state_read (&d, &before);
  since = log_mark ();
  g_assert_false (do_push_revocation (&d, &held, &error));
  expect_refusal ("an older revocation list", error, SIGNET_DEVICE_ERROR_REVOCATION_STALE, since,
                  serial, "revocation");
  g_clear_error (&error);
  assert_unchanged (&d, &before);
  {
    g_autoptr(JsonObject) st = fixture_device_status (&d);

    g_assert_cmpint (json_object_get_int_member (st, "revocation_version"), ==, version);
  }
  dev_state_clear (&before);
  fixture_device_stop (&d);
}

/* ---- h. a token without the scope ---------------------------------------------------- */

static void
test_scope (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceSession) bob = NULL;
  g_autoptr(SignetDeviceReceipt) none = NULL;
  DevState before = { 0 };
  FixtureDevice d;
  guint64 since;
  const char *serial = "GW1-S001";

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  /* a supervisor: may sign in, may not change devices */
  bob = sign_in_new_user ("bob", "supervisor");
  g_assert_false (signet_service_session_has_scope (bob, "config.write"));
  g_test_message ("supervisor's scope: %s", signet_service_session_get_scope (bob));

  fixture_device_start (&fx, &d, "scope", MODEL, serial, NULL);
  g_clear_object (&d.session);
  d.session = signet_device_session_new (d.transport, fx.client, bob,
                                         fx.trust, fx.log);
  fixture_device_open (&d);
  dev_state_read (&d, &before);
  since = log_mark ();
  none = do_apply (&d, fixture_profile (&fx, "acme-channel"), channel_values (3), &error);
  g_assert_null (none);
  expect_refusal ("APPLY with a token without config.write", error, SIGNET_DEVICE_ERROR_SCOPE,
                  since, serial, "apply");
  g_clear_error (&error);
  assert_unchanged (&d, &before);
  dev_state_clear (&before);
  fixture_device_stop (&d);
}

/* ---- h. a tampered token ------------------------------------------------------------- */

static void
test_tampered_token (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) token = NULL;
  g_autoptr(GBytes) bad = NULL;
  DevState before = { 0 };
  FixtureDevice d;
  guint64 status;
  gsize len;
  guint8 *p;

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &d, "tampered", MODEL, "GW1-T001", NULL);
  g_assert_true (do_hello (&d, &error));
  g_assert_no_error (error);
  dev_state_read (&d, &before);

  /* The engine only sends the service's token as it is: the tampered one
   * goes out raw on the same link (so the tool's log has no record). */
  token = signet_service_session_dup_token (fx.session);
  p = g_memdup2 (g_bytes_get_data (token, NULL), g_bytes_get_size (token));
  len = g_bytes_get_size (token);
  p[len - 1] ^= 0x01;                   /* the signature's last byte */
  bad = g_bytes_new_take (p, len);
  status = raw_exchange (&d, SP_MSG_AUTHORIZE, bad);
  g_test_message ("AUTHORIZE with one bit of the token's signature flipped: status %"
                  G_GUINT64_FORMAT " (%s)", status, sp_msg_status_name (status));
  g_assert_cmpuint (status, ==, SP_MSG_TOKEN_SIGNATURE);
  assert_unchanged (&d, &before);

  /* control: the token as issued is taken */
  g_assert_true (do_attest (&d, &error));
  g_assert_no_error (error);
  g_assert_true (do_authorize (&d, &error));
  g_assert_no_error (error);
  dev_state_clear (&before);
  fixture_device_stop (&d);
}

/* ---- h. a revoked token --------------------------------------------------------------- */

static void
test_revoked_token (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceSession) carol = NULL;
  g_autoptr(SignetDeviceReceipt) r = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(GPtrArray) profiles = NULL;
  DevState before = { 0 };
  FixtureDevice d;
  guint64 since, version = 0;
  const char *serial = "GW1-K001";

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  carol = sign_in_new_user ("carol", "technician");
  fixture_device_start (&fx, &d, "revoked-token", MODEL, serial, NULL);
  g_clear_object (&d.session);
  d.session = signet_device_session_new (d.transport, fx.client, carol,
                                         fx.trust, fx.log);
  fixture_device_open (&d);

  /* carol's session is revoked; the device learns it from the new list */
  g_free (fixture_run (NULL, fixture_signetd (), "revoke", "--data-dir", fx.data, "--session",
                       signet_service_session_get_id (carol), NULL));
  g_clear_pointer (&fx.trust, signet_service_trust_free);
  fx.trust = fetch_trust ();
  /* pushed in the session authorised before (the engine pushes its trust
   * document's list only before AUTHORIZE: this one goes out raw) */
  g_assert_cmpuint (raw_exchange (&d, SP_MSG_REVOCATION, fx.trust->revocation_list), ==, SP_MSG_OK);
  {
    g_autoptr(JsonObject) st = fixture_device_status (&d);

    version = (guint64) json_object_get_int_member (st, "revocation_version");
    g_test_message ("the device holds revocation list %" G_GUINT64_FORMAT, version);
  }
  dev_state_read (&d, &before);

  /* the service refuses it at once */
  FIXTURE_AWAIT (signet_service_client_profiles_async (fx.client, carol, MODEL, NULL,
                                                       fixture_got_result, &res), res);
  profiles = signet_service_client_profiles_finish (fx.client, res, &error);
  g_assert_null (profiles);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNAUTHORIZED);
  g_test_message ("GET /v1/profiles with a revoked session: %s", error->message);
  g_clear_error (&error);

  /* The list names the token the device session is bound to: taking it
   * ended that token (docs/protocol.md, REVOCATION), so a command of the
   * same session is refused and nothing changes. */
  r = do_apply (&d, fixture_profile (&fx, "acme-channel"), channel_values (4), &error);
  g_assert_null (r);
  g_assert_error (error, SIGNET_DEVICE_ERROR, SIGNET_DEVICE_ERROR_TOKEN_REVOKED);
  g_test_message ("a command of a revoked token, same session: %s", error->message);
  g_clear_error (&error);
  assert_unchanged (&d, &before);

  /* a new session: AUTHORIZE refuses the revoked token (HELLO drops
   * whatever the command above staged) */
  g_clear_object (&d.session);
  d.session = signet_device_session_new (d.transport, fx.client, carol,
                                         fx.trust, fx.log);
  g_assert_true (do_hello (&d, &error));
  g_assert_no_error (error);
  g_assert_true (do_attest (&d, &error));
  g_assert_no_error (error);
  dev_state_clear (&before);
  dev_state_read (&d, &before);
  since = log_mark ();
  g_assert_false (do_authorize (&d, &error));
  expect_refusal ("AUTHORIZE with a revoked session's token", error,
                  SIGNET_DEVICE_ERROR_TOKEN_REVOKED, since, serial, "authorize");
  g_clear_error (&error);
  assert_unchanged (&d, &before);
  dev_state_clear (&before);
  fixture_device_stop (&d);
}

/* ---- c. a token after expiry ---------------------------------------------------------- */

static void
test_token_expired (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) res = NULL;
  g_autoptr(SignetDeviceReceipt) none = NULL;
  g_autoptr(GPtrArray) profiles = NULL;
  DevState before = { 0 };
  FixtureDevice d;
  guint64 since;
  gint64 exp, lifetime;
  const char *serial = "GW1-C001";

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  fixture_device_start (&fx, &d, "expiry", MODEL, serial, NULL);

  /* signetd again with 4-second tokens; a refreshed token lives 4 s */
  fixture_signetd_stop (&fx);
  fixture_merge_config (&fx, "[tokens]\nlifetime=4\n");
  fixture_signetd_start (&fx);
  FIXTURE_AWAIT (signet_service_client_refresh_async (fx.client, fx.session, NULL,
                                                      fixture_got_result, &res), res);
  g_assert_true (signet_service_client_refresh_finish (fx.client, res, &error));
  g_assert_no_error (error);
  exp = signet_service_session_get_expires_at (fx.session);
  lifetime = exp - g_get_real_time () / G_USEC_PER_SEC;
  g_test_message ("token expires in %" G_GINT64_FORMAT " s", lifetime);
  g_assert_cmpint (lifetime, <=, 4);

  /* AUTHORIZE while it is valid */
  fixture_device_renew_session (&fx, &d);
  fixture_device_open (&d);
  dev_state_read (&d, &before);

  /* past exp by the device's clock (the host's) */
  while (g_get_real_time () / G_USEC_PER_SEC <= exp + 1)
    g_usleep (100 * 1000);

  since = log_mark ();
  none = do_apply (&d, fixture_profile (&fx, "acme-channel"), channel_values (3), &error);
  g_assert_null (none);
  expect_refusal ("APPLY after the token expired", error, SIGNET_DEVICE_ERROR_TOKEN_EXPIRED, since,
                  serial, "apply");
  g_clear_error (&error);
  assert_unchanged (&d, &before);

  since = log_mark ();
  none = do_rollback (&d, &error);
  g_assert_null (none);
  expect_refusal ("ROLLBACK after the token expired", error, SIGNET_DEVICE_ERROR_TOKEN_EXPIRED,
                  since, serial, "rollback");
  g_clear_error (&error);
  assert_unchanged (&d, &before);

  /* the service refuses the expired token too: sealing for an APPLY ... */
  since = log_mark ();
  none = do_apply (&d, fixture_profile (&fx, "acme-wifi"), fixture_wifi_values (6), &error);
  g_assert_null (none);
  expect_service_refusal ("sealing with an expired token", error,
                          SIGNET_SERVICE_ERROR_UNAUTHORIZED, since, serial, "apply");
  g_clear_error (&error);
  assert_unchanged (&d, &before);
  /* ... and any PoP call, with its own code */
  FIXTURE_AWAIT (signet_service_client_profiles_async (fx.client, fx.session, MODEL, NULL,
                                                       fixture_got_result, &res), res);
  profiles = signet_service_client_profiles_finish (fx.client, res, &error);
  g_assert_null (profiles);
  g_assert_error (error, SIGNET_SERVICE_ERROR, SIGNET_SERVICE_ERROR_UNAUTHORIZED);
  g_test_message ("GET /v1/profiles with an expired token: %s", error->message);
  g_clear_error (&error);

  /* a new session: AUTHORIZE itself is refused */
  g_assert_true (do_hello (&d, &error));
  g_assert_no_error (error);
  g_assert_true (do_attest (&d, &error));
  g_assert_no_error (error);
  since = log_mark ();
  g_assert_false (do_authorize (&d, &error));
  expect_refusal ("AUTHORIZE with an expired token", error, SIGNET_DEVICE_ERROR_TOKEN_EXPIRED,
                  since, serial, "authorize");
  g_clear_error (&error);
  assert_unchanged (&d, &before);
  dev_state_clear (&before);

  fixture_device_stop (&d);
}

/* ---- the log of all that ------------------------------------------------------------ */

static void
test_log_verifies (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(SignetEventLogResult) verdict = NULL;
  gsize len;
  const char *raw;

  if (!have_fx)
    {
      g_test_skip ("needs SIGNETD SIGNET_DEVSIM MODELS_DIR");
      return;
    }
  g_assert_true (signet_event_log_close_session (fx.log, &error));
  g_assert_no_error (error);
  contents = signet_event_log_dup_contents (fx.log);
  verdict = signet_event_log_verify (contents, fx.k0);
  g_test_message ("event log: %s", signet_event_log_result_get_message (verdict));
  g_assert_cmpint (signet_event_log_result_get_verdict (verdict), ==, SIGNET_EVENT_LOG_VERIFIED);
  raw = g_bytes_get_data (contents, &len);
  for (gsize i = 0; i + strlen (FIXTURE_PSK) <= len; i++)
    g_assert_false (memcmp (raw + i, FIXTURE_PSK, strlen (FIXTURE_PSK)) == 0);
}

int
main (int   argc,
      char *argv[])
{
  const char *extra[] = { channel_profile_json, NULL };
  int ret;

  g_test_init (&argc, &argv, NULL);
  have_fx = fixture_parse_args (argc, argv);
  /* in the order given: the expiry case spoils the token, so it is last */
  g_test_add_func ("/signet/attacks/replay-new-session", test_replay_new_session);
  g_test_add_func ("/signet/attacks/other-device", test_other_device);
  g_test_add_func ("/signet/attacks/out-of-range", test_out_of_range);
  g_test_add_func ("/signet/attacks/version-rollback", test_version_rollback);
  g_test_add_func ("/signet/attacks/forged-commands", test_forged_commands);
  g_test_add_func ("/signet/attacks/clone", test_clone);
  g_test_add_func ("/signet/attacks/revoked-device", test_revoked_device);
  g_test_add_func ("/signet/attacks/stale-revocation", test_stale_revocation);
  g_test_add_func ("/signet/attacks/scope", test_scope);
  g_test_add_func ("/signet/attacks/tampered-token", test_tampered_token);
  g_test_add_func ("/signet/attacks/revoked-token", test_revoked_token);
  g_test_add_func ("/signet/attacks/token-expired", test_token_expired);
  g_test_add_func ("/signet/attacks/log-verifies", test_log_verifies);
  if (have_fx)
    have_fx = fixture_setup (&fx, NULL, extra);
  ret = g_test_run ();
  if (have_fx)
    fixture_teardown (&fx);
  return ret;
}
