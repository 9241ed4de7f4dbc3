/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-agent.c: libsignet-agent (agent/sa-agent.h) against
 * docs/protocol.md: a whole session, every refusal of the spec's tables
 * with its exact status and no change of state, the retry cache, the
 * serial link, the commit deadline, the clock floor, and a power-loss
 * property test over an in-memory NOR flash that tears every write and
 * erase of apply, commit and rollback in turn.
 */
#include "config.h"

#define _GNU_SOURCE
#include <glib.h>
#include <string.h>

#include "agent-test-util.h"
#include "signet-crypto-port.h"
#include "sp-cwt.h"
#include "sp-evidence.h"
#include "sp-frame.h"
#include "sp-revocation.h"

#define assert_status(got, want)                                          \
  G_STMT_START {                                                          \
    guint64 g_ = (got), w_ = (want);                                      \
    g_assert_cmpstr (sp_msg_status_name (g_), ==, sp_msg_status_name (w_)); \
    g_assert_cmpuint (g_, ==, w_);                                        \
  } G_STMT_END

/* ------------------------------------------------------------------ */
/* State snapshots                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
  sa_status status;
  gchar *flash;
} Snapshot;

static void
snapshot (World *w, Snapshot *s)
{
  sa_agent_get_status (w->agent, &s->status);
  s->flash = world_flash_digest (w);
}

static void
assert_unchanged (World *w, Snapshot *before)
{
  Snapshot after;

  snapshot (w, &after);
  g_assert_cmpmem (&before->status, sizeof before->status, &after.status,
                   sizeof after.status);
  g_assert_cmpstr (before->flash, ==, after.flash);
  g_free (before->flash);
  g_free (after.flash);
}

/* Send req; its answer must be status, and nothing may change. */
static void
expect (World *w, GBytes *req, guint64 status)
{
  Snapshot before;

  snapshot (w, &before);
  assert_status (world_status_of (w, g_bytes_get_data (req, NULL), g_bytes_get_size (req)),
                 status);
  assert_unchanged (w, &before);
}

static GBytes *
hex_bytes (const char *hex)
{
  GByteArray *b = g_byte_array_new ();

  for (const char *p = hex; *p != '\0';)
    {
      guint v;
      guint8 byte;

      if (*p == ' ')
        {
          p++;
          continue;
        }
      g_assert_true (sscanf (p, "%2x", &v) == 1);
      byte = (guint8) v;
      g_byte_array_append (b, &byte, 1);
      p += 2;
    }
  return g_byte_array_free_to_bytes (b);
}

static GBytes *
request_bytes (World *w, sp_msg_request *req)
{
  guint8 buf[SP_MSG_MAX];
  size_t len;

  req->id = w->next_id++;
  g_assert_cmpint (sp_msg_request_encode (req, buf, sizeof buf, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

static GBytes *
simple_request (World *w, sp_msg_type type)
{
  sp_msg_request req = { .type = type };

  return request_bytes (w, &req);
}

static GBytes *
commit_args (guint64 version)
{
  guint8 buf[16];
  size_t len;

  g_assert_cmpint (sp_msg_commit_args_encode (version, buf, sizeof buf, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

static GBytes *
bulk_args (const guint8 digest[32], guint64 size)
{
  guint8 buf[64];
  size_t len;
  sp_cbor_writer wr;

  /* Encoded by hand so out-of-range sizes can be sent too. */
  sp_cbor_writer_init (&wr, buf, sizeof buf);
  sp_cbor_put_map (&wr, 2);
  sp_cbor_put_uint (&wr, 1);
  sp_cbor_put_bytes (&wr, digest, 32);
  sp_cbor_put_uint (&wr, 2);
  sp_cbor_put_uint (&wr, size);
  g_assert_cmpint (sp_cbor_writer_finish (&wr, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

static GBytes *
rollback_args (void)
{
  return g_bytes_new ("\xA0", 1);
}

static void
set_text (sp_msg_kv *kv, const char *key, const char *value)
{
  memset (kv, 0, sizeof *kv);
  kv->key = sp_msg_text_from (key);
  kv->type = SP_CBOR_TEXT;
  kv->text = sp_msg_text_from (value);
}

static void
set_int (sp_msg_kv *kv, const char *key, gint64 value)
{
  memset (kv, 0, sizeof *kv);
  kv->key = sp_msg_text_from (key);
  kv->type = SP_CBOR_UINT;
  kv->i = value;
}

static void
set_bool (sp_msg_kv *kv, const char *key, gboolean value)
{
  memset (kv, 0, sizeof *kv);
  kv->key = sp_msg_text_from (key);
  kv->type = SP_CBOR_BOOL;
  kv->b = value;
}

/* The change most tests make: two values and the Wi-Fi key. */
static void
change_v2 (Change *c)
{
  memset (c, 0, sizeof *c);
  c->version = 2;
  set_text (&c->values[0], "wifi.ssid", "site-a");
  set_int (&c->values[1], "wifi.channel", 11);
  c->n_values = 2;
  c->secrets[0].key = "wifi.psk";
  c->secrets[0].value = "correct horse battery";
  c->n_secrets = 1;
}

static GBytes *
apply_request (World *w, const Change *c)
{
  g_autoptr(GBytes) args = NULL, sealed = NULL, cmd = NULL;

  world_change_encode (w, c, &args, &sealed);
  cmd = world_command (w, SP_MSG_OP_APPLY, args, 0);
  return world_command_request (w, SP_MSG_APPLY, cmd, sealed);
}

static GBytes *
revocation_list (World *w, guint64 version, const guint8 *cti, gsize cti_len,
                 const char *sub, sp_key *signer, const char *kid)
{
  sp_revocation_content c;
  sp_revocation_view vc, vs;
  guint8 buf[SP_MSG_MAX];
  size_t len;

  memset (&c, 0, sizeof c);
  c.version = version;
  c.iat = (int64_t) w->dev.now;
  if (cti != NULL)
    {
      vc.ptr = cti;
      vc.len = cti_len;
      c.cti = &vc;
      c.n_cti = 1;
    }
  if (sub != NULL)
    {
      vs.ptr = (const guint8 *) sub;
      vs.len = strlen (sub);
      c.sub = &vs;
      c.n_sub = 1;
    }
  g_assert_cmpint (sp_revocation_sign (w->port, signer != NULL ? signer : w->authority,
                                       (const guint8 *) (kid != NULL ? kid : TEST_AUTH_KID),
                                       strlen (kid != NULL ? kid : TEST_AUTH_KID), &c,
                                       buf, sizeof buf, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

static GBytes *
revocation_request (World *w, GBytes *list)
{
  sp_msg_request req = { .type = SP_MSG_REVOCATION };

  req.list.ptr = g_bytes_get_data (list, &req.list.len);
  return request_bytes (w, &req);
}

/* A COSE_Sign1 over any payload, with any content type (NULL: none). */
static GBytes *
sign_raw_kid (World *w, sp_key *key, const guint8 *kid, gsize kid_len, const char *cty,
              const guint8 *payload, gsize len)
{
  sp_cose_sign1_params params;
  guint8 out[SP_MSG_MAX];
  size_t out_len;

  memset (&params, 0, sizeof params);
  params.kid = kid;
  params.kid_len = kid_len;
  params.content_type = cty;
  g_assert_cmpint (sp_cose_sign1_sign (w->port, key, &params, payload, len, out,
                                       sizeof out, &out_len), ==, SP_OK);
  return g_bytes_new (out, out_len);
}

static GBytes *
sign_raw (World *w, sp_key *key, const char *kid, const char *cty, const guint8 *payload,
          gsize len)
{
  return sign_raw_kid (w, key, (const guint8 *) kid, strlen (kid), cty, payload, len);
}

static const int no_clock_marker;
#define NO_CLOCK (&no_clock_marker)

static void
world_fixture_setup (World *w, gconstpointer data)
{
  world_init (w, data != NO_CLOCK);
}

static void
world_fixture_teardown (World *w, gconstpointer data)
{
  world_clear (w);
}

/* ------------------------------------------------------------------ */
/* A whole session                                                     */
/* ------------------------------------------------------------------ */

static void
check_receipt (World *w, const sp_msg_response *resp, guint64 op, guint64 seq,
               guint64 committed, guint64 pending, const guint8 config_digest[32])
{
  sp_msg_receipt rc;

  assert_status (resp->status, SP_MSG_OK);
  g_assert_cmpint (sp_msg_receipt_verify (w->port, resp->receipt.ptr, resp->receipt.len,
                                          w->identity_pub, &rc), ==, SP_OK);
  g_assert_cmpmem (rc.serial.ptr, rc.serial.len, TEST_SERIAL, strlen (TEST_SERIAL));
  g_assert_cmpmem (rc.nonce.ptr, rc.nonce.len, w->nonce, 32);
  g_assert_cmpuint (rc.seq, ==, seq);
  g_assert_cmpuint (rc.op, ==, op);
  g_assert_cmpuint (rc.result, ==, 0);
  g_assert_cmpuint (rc.committed_version, ==, committed);
  g_assert_cmpuint (rc.pending_version, ==, pending);
  g_assert_cmpmem (rc.config_digest.ptr, rc.config_digest.len, config_digest, 32);
  g_assert_cmpuint (rc.device_time, ==, w->dev.now);
  /* The wrong key does not verify it. */
  g_assert_cmpint (sp_msg_receipt_verify (w->port, resp->receipt.ptr, resp->receipt.len,
                                          w->kem_pub, &rc), ==, SP_ERR_BAD_SIGNATURE);
}

static GHashTable *
read_config (World *w, const char *const *keys, gsize n_keys, GHashTable **diag)
{
  sp_msg_request req = { .type = SP_MSG_READ };
  g_autoptr(GBytes) raw = NULL;
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sp_msg_response resp;
  sp_msg_cursor c;
  sp_msg_value k, v;
  guint8 kbuf[512];
  size_t klen;

  if (keys != NULL)
    {
      sp_msg_text t[8];

      for (gsize i = 0; i < n_keys; i++)
        t[i] = sp_msg_text_from (keys[i]);
      g_assert_cmpint (sp_msg_keys_encode (t, n_keys, kbuf, sizeof kbuf, &klen), ==, SP_OK);
      req.keys.ptr = kbuf;
      req.keys.len = klen;
    }
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_OK);
  g_assert_cmpint (sp_msg_cursor_init_bytes (&c, resp.config, SP_CBOR_MAP), ==, SP_OK);
  while (sp_msg_cursor_next_pair (&c, &k, &v))
    {
      gchar *val;
      int64_t i;

      if (v.type == SP_CBOR_TEXT)
        val = g_strndup ((const char *) v.ptr, v.u);
      else if (v.type == SP_CBOR_BOOL)
        val = g_strdup (v.u ? "true" : "false");
      else
        {
          g_assert_true (sp_msg_value_int (&v, &i));
          val = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) i);
        }
      g_hash_table_insert (out, g_strndup ((const char *) k.ptr, k.u), val);
    }
  if (diag != NULL)
    {
      *diag = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_assert_cmpint (sp_msg_cursor_init_bytes (&c, resp.diagnostics, SP_CBOR_MAP), ==,
                       SP_OK);
      while (sp_msg_cursor_next_pair (&c, &k, &v))
        g_hash_table_insert (*diag, g_strndup ((const char *) k.ptr, k.u),
                             g_strdup_printf ("%" G_GUINT64_FORMAT, v.u));
    }
  return out;
}

static void
test_session (World *w, gconstpointer data)
{
  guint8 challenge[32], first[32], second[32];
  sp_msg_request req;
  sp_msg_response resp;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GBytes) v2 = NULL;
  sp_evidence ev;
  sa_status st;
  Change c;

  sha256_of (w->config, first);
  change_v2 (&c);
  v2 = world_config_with (w, w->config, &c);
  sha256_of (v2, second);

  /* HELLO */
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_HELLO;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_OK);
  g_assert_cmpmem (resp.serial.ptr, resp.serial.len, TEST_SERIAL, strlen (TEST_SERIAL));
  g_assert_cmpmem (resp.model.ptr, resp.model.len, TEST_MODEL, strlen (TEST_MODEL));
  g_assert_cmpmem (resp.firmware.ptr, resp.firmware.len, TEST_FIRMWARE,
                   strlen (TEST_FIRMWARE));
  g_assert_cmpuint (resp.config_version, ==, 1);
  g_assert_cmpuint (resp.n_versions, ==, 1);
  g_assert_cmpuint (resp.capabilities, ==, SP_MSG_CAP_BULK | SP_MSG_CAP_BULK_QUIET | SP_MSG_CAP_CLOCK);
  g_assert_cmpuint (resp.device_time, ==, TEST_NOW);
  g_assert_true (resp.clock);
  g_assert_cmpuint (resp.max_message, ==, SP_MSG_MAX);
  g_assert_cmpuint (resp.revocation_version, ==, 0);
  g_assert_false (resp.has_psm);
  memcpy (w->nonce, resp.nonce.ptr, 32);
  g_clear_pointer (&raw, g_bytes_unref);

  /* ATTEST: evidence by the identity key over our challenge and nonce */
  g_assert_cmpint (w->port->random (w->port->ctx, challenge, 32), ==, SP_OK);
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_ATTEST;
  req.challenge.ptr = challenge;
  req.challenge.len = 32;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_OK);
  g_assert_cmpint (sp_evidence_verify (w->port, resp.evidence.ptr, resp.evidence.len,
                                       w->identity_pub, &ev), ==, SP_OK);
  g_assert_cmpmem (ev.challenge, 32, challenge, 32);
  g_assert_cmpmem (ev.session_nonce, 32, w->nonce, 32);
  g_assert_cmpmem (ev.kem_pub, 65, w->kem_pub, 65);
  g_assert_cmpmem (ev.serial, ev.serial_len, TEST_SERIAL, strlen (TEST_SERIAL));
  g_assert_cmpmem (ev.model, ev.model_len, TEST_MODEL, strlen (TEST_MODEL));
  g_assert_cmpmem (ev.firmware, ev.firmware_len, TEST_FIRMWARE, strlen (TEST_FIRMWARE));
  g_assert_cmpuint (ev.config_version, ==, 1);
  g_assert_cmpuint (ev.device_time, ==, TEST_NOW);
  g_assert_cmpuint (resp.n_chain, ==, 2);
  for (int i = 0; i < 2; i++)
    g_assert_cmpmem (resp.chain[i].ptr, resp.chain[i].len,
                     g_bytes_get_data (w->chain[i], NULL), g_bytes_get_size (w->chain[i]));
  g_clear_pointer (&raw, g_bytes_unref);

  /* AUTHORIZE */
  {
    sp_cwt_claims claims;
    g_autoptr(GBytes) token = NULL;

    world_claims (w, &claims);
    token = world_token (w, &claims, NULL, NULL);
    memset (&req, 0, sizeof req);
    req.type = SP_MSG_AUTHORIZE;
    req.token.ptr = g_bytes_get_data (token, &req.token.len);
    world_request (w, &req, &resp, &raw);
    assert_status (resp.status, SP_MSG_OK);
    g_assert_cmpuint (resp.exp, ==, TEST_NOW + 900);
    g_assert_cmpmem (resp.scope.ptr, resp.scope.len, TEST_SCOPE_ALL, strlen (TEST_SCOPE_ALL));
    g_clear_pointer (&raw, g_bytes_unref);
  }

  /* READ: no secret, ever */
  {
    g_autoptr(GHashTable) diag = NULL;
    g_autoptr(GHashTable) cfg = read_config (w, NULL, 0, &diag);
    static const char *const keys[] = { "wifi.psk", "wifi.ssid" };
    g_autoptr(GHashTable) some = read_config (w, keys, 2, NULL);

    g_assert_cmpuint (g_hash_table_size (cfg), ==, 5);
    g_assert_null (g_hash_table_lookup (cfg, "wifi.psk"));
    g_assert_cmpstr (g_hash_table_lookup (cfg, "wifi.ssid"), ==, "factory");
    g_assert_cmpstr (g_hash_table_lookup (cfg, "wifi.channel"), ==, "6");
    g_assert_cmpstr (g_hash_table_lookup (cfg, "telemetry.enabled"), ==, "false");
    g_assert_cmpstr (g_hash_table_lookup (diag, "boots"), ==, "1");
    g_assert_cmpstr (g_hash_table_lookup (diag, "frames_dropped"), ==, "0");
    g_assert_cmpstr (g_hash_table_lookup (diag, "deadline_rollbacks"), ==, "0");
    g_assert_cmpuint (g_hash_table_size (some), ==, 1);
    g_assert_cmpstr (g_hash_table_lookup (some, "wifi.ssid"), ==, "factory");
  }

  /* APPLY: staged, pending, the committed one still runs */
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  check_receipt (w, &resp, SP_MSG_OP_APPLY, 1, 1, 2, first);
  g_clear_pointer (&raw, g_bytes_unref);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.committed_version, ==, 1);
  g_assert_cmpuint (st.pending_version, ==, 2);
  g_assert_cmpmem (st.config_digest, 32, first, 32);
  {
    g_autoptr(GHashTable) cfg = read_config (w, NULL, 0, NULL);

    g_assert_cmpstr (g_hash_table_lookup (cfg, "wifi.ssid"), ==, "factory");
  }

  /* COMMIT */
  assert_status (world_commit (w, 2, &resp, &raw), SP_MSG_OK);
  check_receipt (w, &resp, SP_MSG_OP_COMMIT, 2, 2, 0, second);
  g_clear_pointer (&raw, g_bytes_unref);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.committed_version, ==, 2);
  g_assert_cmpuint (st.pending_version, ==, 0);
  g_assert_cmpmem (st.config_digest, 32, second, 32);
  {
    g_autoptr(GHashTable) cfg = read_config (w, NULL, 0, NULL);

    g_assert_cmpstr (g_hash_table_lookup (cfg, "wifi.ssid"), ==, "site-a");
    g_assert_cmpstr (g_hash_table_lookup (cfg, "wifi.channel"), ==, "11");
    g_assert_null (g_hash_table_lookup (cfg, "wifi.psk"));
  }

  /* It survives a reboot. */
  g_assert_cmpint (world_reboot (w), ==, SP_OK);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.committed_version, ==, 2);
  g_assert_cmpmem (st.config_digest, 32, second, 32);
  g_assert_cmpuint (st.boots, ==, 2);
  world_session (w);

  /* ROLLBACK to the previous committed configuration, once */
  assert_status (world_rollback (w, &resp, &raw), SP_MSG_OK);
  check_receipt (w, &resp, SP_MSG_OP_ROLLBACK, 1, 1, 0, first);
  g_clear_pointer (&raw, g_bytes_unref);
  assert_status (world_rollback (w, &resp, &raw), SP_MSG_BAD_STATE);
  g_clear_pointer (&raw, g_bytes_unref);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.committed_version, ==, 1);
  g_assert_cmpmem (st.config_digest, 32, first, 32);

  /* ROLLBACK of a pending configuration */
  c.version = 3;
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  g_clear_pointer (&raw, g_bytes_unref);
  assert_status (world_rollback (w, &resp, &raw), SP_MSG_OK);
  check_receipt (w, &resp, SP_MSG_OP_ROLLBACK, 4, 1, 0, first);
  g_clear_pointer (&raw, g_bytes_unref);

  /* REVOCATION: anyone in a session may bring a newer list */
  {
    static const guint8 other_cti[] = "0123456789abcdef";
    g_autoptr(GBytes) list = revocation_list (w, 5, other_cti, 16, "mallory", NULL, NULL);
    g_autoptr(GBytes) req_list = revocation_request (w, list);
    g_autoptr(GBytes) answer = NULL;

    answer = world_exchange (w, g_bytes_get_data (req_list, NULL),
                             g_bytes_get_size (req_list));
    g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (answer, NULL),
                                             g_bytes_get_size (answer), &resp), ==, SP_OK);
    assert_status (resp.status, SP_MSG_OK);
    g_assert_cmpuint (resp.version, ==, 5);
    sa_agent_get_status (w->agent, &st);
    g_assert_cmpuint (st.revocation_version, ==, 5);
  }

  /* BYE ends the session. */
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_BYE;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_OK);
  g_clear_pointer (&raw, g_bytes_unref);
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_ATTEST;
  req.challenge.ptr = challenge;
  req.challenge.len = 32;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_BAD_STATE);

  /* HELLO after the reboot shows the list's version. */
  {
    g_autoptr(GBytes) r2 = NULL;

    g_assert_cmpint (world_reboot (w), ==, SP_OK);
    memset (&req, 0, sizeof req);
    req.type = SP_MSG_HELLO;
    world_request (w, &req, &resp, &r2);
    g_assert_cmpuint (resp.revocation_version, ==, 5);
  }
}

/* Secrets of every length a schema allows, and a configuration near the
 * slot's size. */
static void
test_secrets (World *w, gconstpointer data)
{
  g_autofree char *token = g_strnfill (400, 't');
  g_autofree char *desc = g_strnfill (300, 'd');
  g_autoptr(GBytes) raw = NULL, expected = NULL;
  sp_msg_response resp;
  guint8 digest[32];
  sa_status st;
  Change c;

  world_session (w);
  memset (&c, 0, sizeof c);
  c.version = 7;
  set_text (&c.values[0], "site.description", desc);
  set_text (&c.values[1], "log.level", "warn");
  set_bool (&c.values[2], "telemetry.enabled", TRUE);
  c.n_values = 3;
  c.secrets[0].key = "cloud.token";
  c.secrets[0].value = token;
  c.secrets[1].key = "wifi.psk";
  c.secrets[1].value = "12345678";
  c.n_secrets = 2;
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  g_clear_pointer (&raw, g_bytes_unref);
  assert_status (world_commit (w, 7, &resp, &raw), SP_MSG_OK);
  expected = world_config_with (w, w->config, &c);
  g_assert_cmpuint (g_bytes_get_size (expected), >, 700);
  sha256_of (expected, digest);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpmem (st.config_digest, 32, digest, 32);
}

/* ------------------------------------------------------------------ */
/* Bulk transfer                                                       */
/* ------------------------------------------------------------------ */

static guint64
bulk_begin (World *w, const guint8 digest[32], guint64 size, sp_msg_response *resp,
            GBytes **raw)
{
  g_autoptr(GBytes) args = bulk_args (digest, size);
  g_autoptr(GBytes) cmd = world_command (w, SP_MSG_OP_BULK_BEGIN, args, 0);
  g_autoptr(GBytes) req = world_command_request (w, SP_MSG_BULK_BEGIN, cmd, NULL);

  *raw = world_exchange (w, g_bytes_get_data (req, NULL), g_bytes_get_size (req));
  g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (*raw, NULL),
                                           g_bytes_get_size (*raw), resp), ==, SP_OK);
  return resp->status;
}

static GBytes *
bulk_data_request (World *w, guint64 offset, const guint8 *data, gsize len)
{
  sp_msg_request req = { .type = SP_MSG_BULK_DATA };

  req.offset = offset;
  req.data.ptr = data;
  req.data.len = len;
  return request_bytes (w, &req);
}

static guint64
bulk_data (World *w, guint64 offset, const guint8 *data, gsize len, guint64 *next)
{
  g_autoptr(GBytes) req = bulk_data_request (w, offset, data, len);
  g_autoptr(GBytes) raw = world_exchange (w, g_bytes_get_data (req, NULL),
                                          g_bytes_get_size (req));
  sp_msg_response resp;

  g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (raw, NULL),
                                           g_bytes_get_size (raw), &resp), ==, SP_OK);
  if (next != NULL)
    *next = resp.has_next_offset ? resp.next_offset : G_MAXUINT64;
  return resp.status;
}

static guint64
send_image (World *w, const guint8 *image, gsize from, gsize to)
{
  guint64 next = from;

  while (next < to)
    {
      gsize n = MIN ((gsize) SP_MSG_BULK_CHUNK_MAX, to - next);

      assert_status (bulk_data (w, next, image + next, n, &next), SP_MSG_OK);
    }
  return next;
}

static void
test_bulk (World *w, gconstpointer data)
{
  enum { SIZE = 10000 };
  g_autofree guint8 *image = g_malloc (SIZE);
  guint8 digest[32];
  g_autoptr(GBytes) raw = NULL;
  sp_msg_response resp;
  sp_msg_request req;
  guint64 next;
  GChecksum *ck;
  gsize dlen = 32;
  Change c;

  for (gsize i = 0; i < SIZE; i++)
    image[i] = (guint8) g_random_int ();
  ck = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (ck, image, SIZE);
  g_checksum_get_digest (ck, digest, &dlen);
  g_checksum_free (ck);

  world_session (w);
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_BULK_STATUS;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_NO_TRANSFER);
  g_clear_pointer (&raw, g_bytes_unref);

  assert_status (bulk_begin (w, digest, SIZE, &resp, &raw), SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, 0);
  g_clear_pointer (&raw, g_bytes_unref);
  g_assert_cmpuint (send_image (w, image, 0, 6000), ==, 6000);

  /* A new session: BULK_BEGIN of the same transfer resumes. */
  world_session (w);
  assert_status (bulk_begin (w, digest, SIZE, &resp, &raw), SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, 6000);
  g_clear_pointer (&raw, g_bytes_unref);
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_BULK_STATUS;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, 6000);
  g_assert_cmpuint (resp.size, ==, SIZE);
  g_assert_cmpmem (resp.digest.ptr, resp.digest.len, digest, 32);
  g_clear_pointer (&raw, g_bytes_unref);

  /* A power loss: the offset kept in flash is the last sector boundary. */
  g_assert_cmpint (world_reboot (w), ==, SP_OK);
  world_session (w);
  assert_status (bulk_begin (w, digest, SIZE, &resp, &raw), SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, TEST_SECTOR);
  g_clear_pointer (&raw, g_bytes_unref);
  g_assert_cmpuint (send_image (w, image, TEST_SECTOR, SIZE), ==, SIZE);

  memset (&req, 0, sizeof req);
  req.type = SP_MSG_BULK_STATUS;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, SIZE);
  g_clear_pointer (&raw, g_bytes_unref);

  /* A completed transfer: more data is past its size, and it survives a
   * reboot. */
  assert_status (bulk_data (w, SIZE, image, 1, NULL), SP_MSG_TOO_LARGE);
  g_assert_cmpint (world_reboot (w), ==, SP_OK);
  world_session (w);
  assert_status (bulk_begin (w, digest, SIZE, &resp, &raw), SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, SIZE);
  g_clear_pointer (&raw, g_bytes_unref);

  /* The image is named by a change; firmware keys are critical. */
  memset (&c, 0, sizeof c);
  c.version = 2;
  set_text (&c.values[0], "firmware.channel", "beta");
  c.n_values = 1;
  c.firmware_digest = digest;
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  g_clear_pointer (&raw, g_bytes_unref);
  assert_status (world_commit (w, 2, &resp, &raw), SP_MSG_OK);
  g_clear_pointer (&raw, g_bytes_unref);

  /* A transfer whose bytes do not match its digest starts again. */
  digest[0] ^= 1;
  assert_status (bulk_begin (w, digest, 3000, &resp, &raw), SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, 0);
  g_clear_pointer (&raw, g_bytes_unref);
  assert_status (bulk_data (w, 0, image, 1900, &next), SP_MSG_OK);
  assert_status (bulk_data (w, 1900, image + 1900, 1100, &next), SP_MSG_DIGEST);
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_BULK_STATUS;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, 0);
}


/* A quiet BULK_DATA: the answer is sa_agent_handle's; 0 bytes is none. */
static gsize
bulk_quiet (World *w, guint64 offset, const guint8 *data, gsize len, sp_msg_response *resp)
{
  sp_msg_request req = { .type = SP_MSG_BULK_DATA };
  guint8 buf[SP_MSG_MAX], out[SP_MSG_MAX];
  size_t n, m;

  req.id = w->next_id++;
  req.offset = offset;
  req.data.ptr = data;
  req.data.len = len;
  req.quiet = true;
  g_assert_cmpint (sp_msg_request_encode (&req, buf, sizeof buf, &n), ==, SP_OK);
  m = sa_agent_handle (w->agent, buf, n, out, sizeof out);
  memset (resp, 0, sizeof *resp);
  if (m > 0)
    {
      g_assert_cmpint (sp_msg_response_decode (out, m, resp), ==, SP_OK);
      g_assert_cmpuint (resp->id, ==, req.id);
    }
  /* The same bytes again (a duplicated frame): never written twice, and
   * answered the same way or not at all. */
  {
    size_t m2 = sa_agent_handle (w->agent, buf, n, out, sizeof out);

    g_assert_cmpuint (m2, ==, m);
  }
  return m;
}

static void
test_bulk_quiet (World *w, gconstpointer data)
{
  enum { SIZE = 9000 };
  g_autofree guint8 *image = g_malloc (SIZE);
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GBytes) bad = NULL;
  sp_msg_response resp;
  sp_msg_request req;
  guint8 digest[32], buf[SP_MSG_MAX];
  GChecksum *ck;
  gsize dlen = 32;
  size_t n;

  for (gsize i = 0; i < SIZE; i++)
    image[i] = (guint8) g_random_int ();
  ck = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (ck, image, SIZE);
  g_checksum_get_digest (ck, digest, &dlen);
  g_checksum_free (ck);

  world_session (w);
  assert_status (bulk_begin (w, digest, SIZE, &resp, &raw), SP_MSG_OK);
  g_clear_pointer (&raw, g_bytes_unref);

  /* In order: no answer (a sector boundary crossed or not). */
  g_assert_cmpuint (bulk_quiet (w, 0, image, 1900, &resp), ==, 0);
  g_assert_cmpuint (bulk_quiet (w, 1900, image + 1900, 1900, &resp), ==, 0);
  g_assert_cmpuint (bulk_quiet (w, 3800, image + 3800, 1900, &resp), ==, 0);
  /* Bytes already here (a chunk sent before a rewind): dropped, silent. */
  g_assert_cmpuint (bulk_quiet (w, 1900, image + 1900, 1900, &resp), ==, 0);
  /* A gap (5700 lost): told once, with the offset to resume at... */
  g_assert_cmpuint (bulk_quiet (w, 7600, image + 7600, 1400, &resp), >, 0);
  assert_status (resp.status, SP_MSG_BULK_OFFSET);
  g_assert_true (resp.has_next_offset);
  g_assert_cmpuint (resp.next_offset, ==, 5700);
  /* ...not again for the chunks in flight behind it... */
  g_assert_cmpuint (bulk_quiet (w, 7601, image + 7601, 10, &resp), ==, 0);
  /* ...but always to a chunk that asks for an answer. */
  {
    guint64 next = 0;

    assert_status (bulk_data (w, 7600, image + 7600, 1400, &next), SP_MSG_BULK_OFFSET);
    g_assert_cmpuint (next, ==, 5700);
  }
  /* A refusal other than the offset is answered at once. */
  g_assert_cmpuint (bulk_quiet (w, 5700, image, 1900, &resp), ==, 0);
  g_assert_cmpuint (bulk_quiet (w, 7600, image, 1401, &resp), >, 0);
  assert_status (resp.status, SP_MSG_TOO_LARGE);
  /* That chunk was wrong on purpose: start again from where the device is. */
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_BULK_STATUS;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, 7600);
  g_clear_pointer (&raw, g_bytes_unref);
  /* BULK_STATUS re-arms the gap answer. */
  g_assert_cmpuint (bulk_quiet (w, 8000, image + 8000, 10, &resp), >, 0);
  assert_status (resp.status, SP_MSG_BULK_OFFSET);
  g_assert_cmpuint (resp.next_offset, ==, 7600);

  /* The 5700..7600 written above came from image + 0: the last byte
   * completes the transfer, answered even quiet, and the digest fails. */
  g_assert_cmpuint (bulk_quiet (w, 7600, image + 7600, 1400, &resp), >, 0);
  assert_status (resp.status, SP_MSG_DIGEST);

  /* Again, right this time: the last byte is answered with the size. */
  assert_status (bulk_begin (w, digest, SIZE, &resp, &raw), SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, 0);
  g_clear_pointer (&raw, g_bytes_unref);
  for (guint64 off = 0; off < SIZE; off += SP_MSG_BULK_CHUNK_MAX)
    {
      gsize len = MIN ((gsize) SP_MSG_BULK_CHUNK_MAX, SIZE - off);
      gsize m = bulk_quiet (w, off, image + off, len, &resp);

      g_assert_cmpuint (m > 0, ==, off + len == SIZE);
    }
  assert_status (resp.status, SP_MSG_OK);
  g_assert_cmpuint (resp.next_offset, ==, SIZE);
  /* A complete transfer: a quiet duplicate is dropped. */
  g_assert_cmpuint (bulk_quiet (w, 0, image, 100, &resp), ==, 0);

  /* Key 4 is true or absent: false is MALFORMED. */
  bad = g_bytes_new ((const guint8 *) "\xA5\x00\x08\x01\x19\x03\xe7\x02\x00\x03\x41\x00\x04\xF4",
                     14);
  n = sa_agent_handle (w->agent, g_bytes_get_data (bad, NULL), 14, buf, sizeof buf);
  g_assert_cmpuint (n, >, 0);
  g_assert_cmpint (sp_msg_response_decode (buf, n, &resp), ==, SP_OK);
  assert_status (resp.status, SP_MSG_MALFORMED);
}

/* A list accepted mid-session that names the bound token ends it. */
static void
test_revoked_mid_session (World *w, gconstpointer data)
{
  g_autoptr(GBytes) raw = NULL;
  sp_msg_response resp;
  sp_msg_request req;
  guint8 cti[16];
  Change c;

  for (int by_sub = 0; by_sub < 2; by_sub++)
    {
      g_autoptr(GBytes) other = NULL, list = NULL, r = NULL;

      world_session (w);
      memcpy (cti, w->cti, sizeof cti);
      /* A list naming someone else changes nothing. */
      other = revocation_list (w, 10 + 2 * by_sub, NULL, 0, "mallory", NULL, NULL);
      r = revocation_request (w, other);
      assert_status (world_status_of (w, g_bytes_get_data (r, NULL), g_bytes_get_size (r)),
                     SP_MSG_OK);
      g_clear_pointer (&r, g_bytes_unref);
      memset (&req, 0, sizeof req);
      req.type = SP_MSG_READ;
      world_request (w, &req, &resp, &raw);
      assert_status (resp.status, SP_MSG_OK);
      g_clear_pointer (&raw, g_bytes_unref);

      /* One naming this token's cti (or its user) ends the token now. */
      list = by_sub ? revocation_list (w, 11 + 2 * by_sub, NULL, 0, "alice", NULL, NULL)
                    : revocation_list (w, 11, cti, sizeof cti, NULL, NULL, NULL);
      r = revocation_request (w, list);
      assert_status (world_status_of (w, g_bytes_get_data (r, NULL), g_bytes_get_size (r)),
                     SP_MSG_OK);
      change_v2 (&c);
      c.version = 2 + (guint64) by_sub;
      assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_TOKEN_REVOKED);
      g_clear_pointer (&raw, g_bytes_unref);
      memset (&req, 0, sizeof req);
      req.type = SP_MSG_READ;
      world_request (w, &req, &resp, &raw);
      assert_status (resp.status, SP_MSG_TOKEN_REVOKED);
      g_clear_pointer (&raw, g_bytes_unref);
      {
        guint8 d[32] = { 0 };

        assert_status (bulk_data (w, 0, d, 1, NULL), SP_MSG_TOKEN_REVOKED);
      }
      /* A new session is a new start: BAD_STATE until AUTHORIZE. */
      world_hello (w);
      memset (&req, 0, sizeof req);
      req.type = SP_MSG_READ;
      world_request (w, &req, &resp, &raw);
      assert_status (resp.status, SP_MSG_BAD_STATE);
      g_clear_pointer (&raw, g_bytes_unref);
      if (by_sub)
        {
          /* alice is revoked for good in this list: bob signs in */
          sp_cwt_claims cl;
          g_autoptr(GBytes) tok = NULL;

          world_claims (w, &cl);
          cl.sub = sp_cwt_text_from ("bob");
          tok = world_token (w, &cl, NULL, NULL);
          assert_status (world_authorize (w, tok), SP_MSG_OK);
          req.type = SP_MSG_READ;
          world_request (w, &req, &resp, &raw);
          assert_status (resp.status, SP_MSG_OK);
          g_clear_pointer (&raw, g_bytes_unref);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Retries                                                             */
/* ------------------------------------------------------------------ */

static void
test_retry (World *w, gconstpointer data)
{
  g_autoptr(GBytes) req = NULL, a1 = NULL, a2 = NULL, a3 = NULL, other = NULL;
  g_autofree gchar *flash = NULL, *flash2 = NULL;
  sp_msg_response resp;
  sa_status s1, s2;
  guint ops;
  Change c;

  world_session (w);
  change_v2 (&c);
  req = apply_request (w, &c);
  a1 = world_exchange (w, g_bytes_get_data (req, NULL), g_bytes_get_size (req));
  g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (a1, NULL), g_bytes_get_size (a1),
                                           &resp), ==, SP_OK);
  assert_status (resp.status, SP_MSG_OK);
  sa_agent_get_status (w->agent, &s1);
  flash = world_flash_digest (w);
  ops = w->dev.flash.ops;

  /* The same bytes: the same answer, byte for byte, not applied again. */
  a2 = world_exchange (w, g_bytes_get_data (req, NULL), g_bytes_get_size (req));
  g_assert_true (g_bytes_equal (a1, a2));
  sa_agent_get_status (w->agent, &s2);
  g_assert_cmpmem (&s1, sizeof s1, &s2, sizeof s2);
  flash2 = world_flash_digest (w);
  g_assert_cmpstr (flash, ==, flash2);
  g_assert_cmpuint (w->dev.flash.ops, ==, ops);

  /* Another request in between: now it is a new request (and refused:
   * its sequence number is used). */
  other = simple_request (w, SP_MSG_BULK_STATUS);
  (void) world_status_of (w, g_bytes_get_data (other, NULL), g_bytes_get_size (other));
  assert_status (world_status_of (w, g_bytes_get_data (req, NULL), g_bytes_get_size (req)),
                 SP_MSG_REPLAY);

  /* The same id with other bytes is a new request. */
  {
    sp_msg_request r1 = { .type = SP_MSG_READ, .id = 77 };
    sp_msg_request r2 = { .type = SP_MSG_READ, .id = 77 };
    sp_msg_text k1 = sp_msg_text_from ("wifi.ssid"), k2 = sp_msg_text_from ("log.level");
    guint8 kb1[64], kb2[64], b1[256], b2[256];
    size_t l1, l2, n1, n2;
    g_autoptr(GBytes) x1 = NULL, x2 = NULL;

    g_assert_cmpint (sp_msg_keys_encode (&k1, 1, kb1, sizeof kb1, &l1), ==, SP_OK);
    g_assert_cmpint (sp_msg_keys_encode (&k2, 1, kb2, sizeof kb2, &l2), ==, SP_OK);
    r1.keys.ptr = kb1;
    r1.keys.len = l1;
    r2.keys.ptr = kb2;
    r2.keys.len = l2;
    g_assert_cmpint (sp_msg_request_encode (&r1, b1, sizeof b1, &n1), ==, SP_OK);
    g_assert_cmpint (sp_msg_request_encode (&r2, b2, sizeof b2, &n2), ==, SP_OK);
    x1 = world_exchange (w, b1, n1);
    x2 = world_exchange (w, b2, n2);
    g_assert_false (g_bytes_equal (x1, x2));
    g_assert_nonnull (memmem (g_bytes_get_data (x2, NULL), g_bytes_get_size (x2),
                              "log.level", 9));
  }

  /* A refusal is remembered too. */
  a3 = world_exchange (w, g_bytes_get_data (req, NULL), g_bytes_get_size (req));
  {
    g_autoptr(GBytes) a4 = world_exchange (w, g_bytes_get_data (req, NULL),
                                           g_bytes_get_size (req));

    g_assert_true (g_bytes_equal (a3, a4));
  }
}

/* ------------------------------------------------------------------ */
/* Refusals: the envelope                                              */
/* ------------------------------------------------------------------ */

static void
expect_hex (World *w, const char *hex, guint64 status, guint64 type, guint32 id)
{
  g_autoptr(GBytes) req = hex_bytes (hex);
  g_autoptr(GBytes) raw = NULL;
  sp_msg_response resp;
  Snapshot before;

  snapshot (w, &before);
  raw = world_exchange (w, g_bytes_get_data (req, NULL), g_bytes_get_size (req));
  g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw),
                                           &resp), ==, SP_OK);
  assert_status (resp.status, status);
  g_assert_cmpuint (resp.type, ==, type | SP_MSG_RESPONSE_BIT);
  g_assert_cmpuint (resp.id, ==, id);
  assert_unchanged (w, &before);
}

static void
test_refuse_envelope (World *w, gconstpointer data)
{
  world_session (w);

  /* Not a message of this spec: answered as type 0, id 0. */
  expect_hex (w, "01", SP_MSG_MALFORMED, 0, 0);
  expect_hex (w, "", SP_MSG_MALFORMED, 0, 0);
  expect_hex (w, "a10001", SP_MSG_MALFORMED, 0, 0);                 /* no id */
  expect_hex (w, "a2006131 0101", SP_MSG_MALFORMED, 0, 0);          /* type as text */
  expect_hex (w, "a2000101", SP_MSG_MALFORMED, 0, 0);               /* truncated */
  expect_hex (w, "a2010100 01", SP_MSG_MALFORMED, 0, 0);            /* unsorted */
  expect_hex (w, "a3000101 010101", SP_MSG_MALFORMED, 0, 0);        /* duplicate */
  expect_hex (w, "bf000101 01ff", SP_MSG_MALFORMED, 0, 0);          /* indefinite */
  expect_hex (w, "a2000101 1801", SP_MSG_MALFORMED, 0, 0);          /* not shortest */
  expect_hex (w, "a2000101 f93c00", SP_MSG_MALFORMED, 0, 0);        /* a float */
  expect_hex (w, "a2000101 0100", SP_MSG_MALFORMED, 0, 0);          /* trailing */
  expect_hex (w, "a2000101 1b0000000100000000", SP_MSG_MALFORMED, 0, 0); /* id 2^32 */
  /* Readable type and id: echoed. */
  expect_hex (w, "a3000101 07 0900", SP_MSG_MALFORMED, 1, 7);       /* unknown key */
  expect_hex (w, "a3000201 08 0258 1f 00000000000000000000000000000000000000000000000000"
                 "000000000000", SP_MSG_MALFORMED, 2, 8);             /* challenge 31 */
  expect_hex (w, "a3000301 09 0261 78", SP_MSG_MALFORMED, 3, 9);    /* token as text */
  expect_hex (w, "a3000401 0a 024101", SP_MSG_MALFORMED, 4, 10);    /* no sealed */
  expect_hex (w, "a2000c01 0b", SP_MSG_OK, 12, 11);                  /* BYE is fine */
  world_session (w);
  /* Unknown type: UNSUPPORTED with the type echoed. */
  expect_hex (w, "a2001863 0105", SP_MSG_UNSUPPORTED, 99, 5);
  expect_hex (w, "a2000001 06", SP_MSG_UNSUPPORTED, 0, 6);

  /* Over a limit */
  {
    g_autofree guint8 *big = g_malloc0 (SP_MSG_MAX + 1);
    g_autoptr(GBytes) raw = NULL;
    sp_msg_response resp;

    raw = world_exchange (w, big, SP_MSG_MAX + 1);
    g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (raw, NULL),
                                             g_bytes_get_size (raw), &resp), ==, SP_OK);
    assert_status (resp.status, SP_MSG_TOO_LARGE);
    g_assert_cmpuint (resp.id, ==, 0);
  }
  {
    guint8 chunk[SP_MSG_BULK_CHUNK_MAX + 1] = { 0 };
    guint8 buf[SP_MSG_MAX];
    sp_cbor_writer wr;
    size_t len;
    g_autoptr(GBytes) req = NULL;

    sp_cbor_writer_init (&wr, buf, sizeof buf);
    sp_cbor_put_map (&wr, 4);
    sp_cbor_put_uint (&wr, 0);
    sp_cbor_put_uint (&wr, SP_MSG_BULK_DATA);
    sp_cbor_put_uint (&wr, 1);
    sp_cbor_put_uint (&wr, 33);
    sp_cbor_put_uint (&wr, 2);
    sp_cbor_put_uint (&wr, 0);
    sp_cbor_put_uint (&wr, 3);
    sp_cbor_put_bytes (&wr, chunk, sizeof chunk);
    g_assert_cmpint (sp_cbor_writer_finish (&wr, &len), ==, SP_OK);
    req = g_bytes_new (buf, len);
    expect (w, req, SP_MSG_TOO_LARGE);
  }
  {
    /* Nine sealed entries. */
    guint8 buf[SP_MSG_MAX], ct[16] = { 0 }, enc[65] = { 4 };
    size_t len;
    sp_cbor_writer wr;
    g_autoptr(GBytes) req = NULL;

    sp_cbor_writer_init (&wr, buf, sizeof buf);
    sp_cbor_put_map (&wr, 4);
    sp_cbor_put_uint (&wr, 0);
    sp_cbor_put_uint (&wr, SP_MSG_APPLY);
    sp_cbor_put_uint (&wr, 1);
    sp_cbor_put_uint (&wr, 34);
    sp_cbor_put_uint (&wr, 2);
    sp_cbor_put_bytes (&wr, "x", 1);
    sp_cbor_put_uint (&wr, 3);
    sp_cbor_put_array (&wr, 9);
    for (int i = 0; i < 9; i++)
      {
        sp_cbor_put_map (&wr, 3);
        sp_cbor_put_uint (&wr, 1);
        sp_cbor_put_textz (&wr, "wifi.psk");
        sp_cbor_put_uint (&wr, 2);
        sp_cbor_put_bytes (&wr, enc, 65);
        sp_cbor_put_uint (&wr, 3);
        sp_cbor_put_bytes (&wr, ct, 16);
      }
    g_assert_cmpint (sp_cbor_writer_finish (&wr, &len), ==, SP_OK);
    req = g_bytes_new (buf, len);
    expect (w, req, SP_MSG_TOO_LARGE);
  }
}

/* Every message that needs a session, without one. */
static void
test_refuse_no_session (World *w, gconstpointer data)
{
  static const guint8 challenge[32];
  g_autoptr(GBytes) list = revocation_list (w, 1, NULL, 0, NULL, NULL, NULL);
  g_autoptr(GBytes) cmd = NULL, token = NULL;
  sp_msg_request req;
  sp_cwt_claims c;
  GBytes *r;

  memset (&req, 0, sizeof req);
  req.type = SP_MSG_ATTEST;
  req.challenge.ptr = challenge;
  req.challenge.len = 32;
  r = request_bytes (w, &req);
  expect (w, r, SP_MSG_BAD_STATE);
  g_bytes_unref (r);

  world_claims (w, &c);
  token = world_token (w, &c, NULL, NULL);
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_AUTHORIZE;
  req.token.ptr = g_bytes_get_data (token, &req.token.len);
  r = request_bytes (w, &req);
  expect (w, r, SP_MSG_BAD_STATE);
  g_bytes_unref (r);

  r = revocation_request (w, list);
  expect (w, r, SP_MSG_BAD_STATE);
  g_bytes_unref (r);

  r = simple_request (w, SP_MSG_BULK_STATUS);
  expect (w, r, SP_MSG_BAD_STATE);
  g_bytes_unref (r);

  /* A session without a token: no command, no READ, no BULK_DATA. */
  world_hello (w);
  {
    g_autoptr(GBytes) args = commit_args (2);

    cmd = world_command (w, SP_MSG_OP_COMMIT, args, 0);
  }
  r = world_command_request (w, SP_MSG_COMMIT, cmd, NULL);
  expect (w, r, SP_MSG_BAD_STATE);
  g_bytes_unref (r);
  r = simple_request (w, SP_MSG_READ);
  expect (w, r, SP_MSG_BAD_STATE);
  g_bytes_unref (r);
  r = bulk_data_request (w, 0, challenge, 32);
  expect (w, r, SP_MSG_BAD_STATE);
  g_bytes_unref (r);
}

/* ------------------------------------------------------------------ */
/* Refusals: AUTHORIZE                                                 */
/* ------------------------------------------------------------------ */

static void
expect_token (World *w, GBytes *token, guint64 status)
{
  sp_msg_request req = { .type = SP_MSG_AUTHORIZE };
  g_autoptr(GBytes) r = NULL;

  req.token.ptr = g_bytes_get_data (token, &req.token.len);
  r = request_bytes (w, &req);
  expect (w, r, status);
}

static void
expect_claims (World *w, const sp_cwt_claims *c, guint64 status)
{
  g_autoptr(GBytes) token = world_token (w, c, NULL, NULL);

  expect_token (w, token, status);
}

static void
test_refuse_authorize (World *w, gconstpointer data)
{
  sp_cwt_claims c;
  g_autoptr(GBytes) junk = g_bytes_new ("\x01\x02\x03", 3);
  g_autoptr(GBytes) list = revocation_list (w, 1, NULL, 0, NULL, NULL, NULL);
  g_autoptr(GBytes) bad_claims = NULL, wrong_kid = NULL, wrong_key = NULL;

  world_hello (w);

  /* 5: it does not decode */
  expect_token (w, junk, SP_MSG_TOKEN_MALFORMED);
  expect_token (w, list, SP_MSG_TOKEN_MALFORMED);   /* another content type */
  bad_claims = sign_raw (w, w->authority, TEST_AUTH_KID, SP_CWT_CONTENT_TYPE,
                         (const guint8 *) "\xa1\x01\x61x", 4);  /* no cnf, exp... */
  expect_token (w, bad_claims, SP_MSG_TOKEN_MALFORMED);
  {
    g_autoptr(GBytes) tagged = NULL, untagged = NULL;

    world_claims (w, &c);
    tagged = world_token (w, &c, NULL, NULL);
    untagged = g_bytes_new_from_bytes (tagged, 1, g_bytes_get_size (tagged) - 1);
    expect_token (w, untagged, SP_MSG_TOKEN_MALFORMED);
  }

  /* 6: an unknown kid, or the right kid and another key */
  world_claims (w, &c);
  wrong_kid = world_token (w, &c, w->authority, "auth-2");
  expect_token (w, wrong_kid, SP_MSG_TOKEN_SIGNATURE);
  wrong_key = world_token (w, &c, w->other_authority, TEST_AUTH_KID);
  expect_token (w, wrong_key, SP_MSG_TOKEN_SIGNATURE);

  /* 7: expired (valid only before exp) */
  world_claims (w, &c);
  c.exp = (int64_t) w->dev.now;
  c.iat = c.exp - 900;
  expect_claims (w, &c, SP_MSG_TOKEN_EXPIRED);

  /* 8: from the future, beyond 60 s of skew */
  world_claims (w, &c);
  c.iat = (int64_t) w->dev.now + 61;
  expect_claims (w, &c, SP_MSG_TOKEN_NOT_YET_VALID);
  world_claims (w, &c);
  c.present |= SP_CWT_NBF;
  c.nbf = (int64_t) w->dev.now + 61;
  expect_claims (w, &c, SP_MSG_TOKEN_NOT_YET_VALID);

  /* 9: another audience, or none */
  world_claims (w, &c);
  c.aud = sp_cwt_text_from ("signet-other");
  expect_claims (w, &c, SP_MSG_TOKEN_AUDIENCE);
  world_claims (w, &c);
  c.present &= ~(unsigned) SP_CWT_AUD;
  expect_claims (w, &c, SP_MSG_TOKEN_AUDIENCE);

  /* 10: its cti or its subject is revoked */
  {
    g_autoptr(GBytes) l2 = NULL, r = NULL, token = NULL;
    guint8 cti[16];

    world_claims (w, &c);
    memcpy (cti, w->cti, 16);
    token = world_token (w, &c, NULL, NULL);
    l2 = revocation_list (w, 2, cti, 16, NULL, NULL, NULL);
    r = revocation_request (w, l2);
    assert_status (world_status_of (w, g_bytes_get_data (r, NULL), g_bytes_get_size (r)),
                   SP_MSG_OK);
    expect_token (w, token, SP_MSG_TOKEN_REVOKED);

    g_clear_pointer (&l2, g_bytes_unref);
    g_clear_pointer (&r, g_bytes_unref);
    l2 = revocation_list (w, 3, NULL, 0, "alice", NULL, NULL);
    r = revocation_request (w, l2);
    assert_status (world_status_of (w, g_bytes_get_data (r, NULL), g_bytes_get_size (r)),
                   SP_MSG_OK);
    world_claims (w, &c);
    expect_claims (w, &c, SP_MSG_TOKEN_REVOKED);
    world_claims (w, &c);
    c.sub = sp_cwt_text_from ("bob");
    {
      g_autoptr(GBytes) ok = world_token (w, &c, NULL, NULL);

      assert_status (world_authorize (w, ok), SP_MSG_OK);
    }
  }
}

/* No clock: the floor is the device time, and rises with tokens. */
static void
test_clock_floor (World *w, gconstpointer data)
{
  g_autoptr(GBytes) raw = NULL;
  sp_msg_request req = { .type = SP_MSG_HELLO };
  sp_msg_response resp;
  sp_cwt_claims c;
  sa_status st;

  world_request (w, &req, &resp, &raw);
  g_assert_false (resp.clock);
  g_assert_cmpuint (resp.capabilities, ==, SP_MSG_CAP_BULK | SP_MSG_CAP_BULK_QUIET);
  g_assert_cmpuint (resp.device_time, ==, TEST_FLOOR);
  memcpy (w->nonce, resp.nonce.ptr, 32);

  /* A token from far ahead of the floor is fine without a clock... */
  world_claims (w, &c);
  {
    g_autoptr(GBytes) token = world_token (w, &c, NULL, NULL);

    assert_status (world_authorize (w, token), SP_MSG_OK);
  }
  /* ...and its iat becomes the floor, in flash. */
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.clock_floor, ==, TEST_NOW);
  g_assert_cmpint (world_reboot (w), ==, SP_OK);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.clock_floor, ==, TEST_NOW);

  /* A token that ended before the floor is expired. */
  world_hello (w);
  world_claims (w, &c);
  c.iat = (int64_t) TEST_NOW - 1000;
  c.exp = (int64_t) TEST_NOW - 100;
  expect_claims (w, &c, SP_MSG_TOKEN_EXPIRED);
  /* An older iat does not lower it. */
  world_claims (w, &c);
  c.iat = (int64_t) TEST_NOW - 10;
  {
    g_autoptr(GBytes) token = world_token (w, &c, NULL, NULL);

    assert_status (world_authorize (w, token), SP_MSG_OK);
  }
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.clock_floor, ==, TEST_NOW);
}

/* ------------------------------------------------------------------ */
/* Refusals: commands                                                  */
/* ------------------------------------------------------------------ */

static void
base_command (World *w, sp_msg_command *cmd, guint64 op, GBytes *args)
{
  memset (cmd, 0, sizeof *cmd);
  cmd->serial = sp_msg_text_from (TEST_SERIAL);
  cmd->nonce.ptr = w->nonce;
  cmd->nonce.len = 32;
  cmd->seq = ++w->seq;
  cmd->op = op;
  cmd->args.ptr = g_bytes_get_data (args, &cmd->args.len);
  cmd->cti.ptr = w->cti;
  cmd->cti.len = 16;
}

static void
expect_command (World *w, sp_msg_type type, GBytes *command, guint64 status)
{
  g_autoptr(GBytes) r = world_command_request (w, type, command, NULL);

  expect (w, r, status);
}

static void
test_refuse_command (World *w, gconstpointer data)
{
  g_autoptr(GBytes) args = rollback_args ();
  g_autoptr(GBytes) c2 = commit_args (2);
  sp_msg_command cmd;
  guint8 other[32];
  GBytes *b;

  world_session (w);

  /* 1: it does not decode strictly */
  b = g_bytes_new ("\xd2\x84", 2);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_MALFORMED);
  g_bytes_unref (b);
  {
    guint8 payload[512];
    size_t len;

    base_command (w, &cmd, SP_MSG_OP_ROLLBACK, args);
    g_assert_cmpint (sp_msg_command_encode (&cmd, payload, sizeof payload, &len), ==, SP_OK);
    /* another content type; none at all */
    b = sign_raw_kid (w, w->tech, w->cti, 16, SP_CWT_CONTENT_TYPE, payload, len);
    expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_MALFORMED);
    g_bytes_unref (b);
    b = sign_raw_kid (w, w->tech, w->cti, 16, NULL, payload, len);
    expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_MALFORMED);
    g_bytes_unref (b);
    b = world_command_full (w, &cmd, w->cti, 16, NULL);
    {
      /* untagged */
      g_autoptr(GBytes) u = g_bytes_new_from_bytes (b, 1, g_bytes_get_size (b) - 1);

      expect_command (w, SP_MSG_ROLLBACK, u, SP_MSG_MALFORMED);
    }
    g_bytes_unref (b);
  }

  /* 11: not signed by the token's key */
  base_command (w, &cmd, SP_MSG_OP_ROLLBACK, args);
  b = world_command_full (w, &cmd, w->cti, 16, w->other_tech);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_COMMAND_SIGNATURE);
  g_bytes_unref (b);

  /* 12: another token's cti, in the payload or as the kid */
  g_assert_cmpint (w->port->random (w->port->ctx, other, 32), ==, SP_OK);
  base_command (w, &cmd, SP_MSG_OP_ROLLBACK, args);
  cmd.cti.ptr = other;
  b = world_command_full (w, &cmd, other, 16, NULL);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_WRONG_TOKEN);
  g_bytes_unref (b);
  base_command (w, &cmd, SP_MSG_OP_ROLLBACK, args);
  b = world_command_full (w, &cmd, other, 16, NULL);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_WRONG_TOKEN);
  g_bytes_unref (b);

  /* 13: another device */
  base_command (w, &cmd, SP_MSG_OP_ROLLBACK, args);
  cmd.serial = sp_msg_text_from ("SN-0043");
  b = world_command_full (w, &cmd, w->cti, 16, NULL);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_WRONG_DEVICE);
  g_bytes_unref (b);

  /* 14: another session */
  base_command (w, &cmd, SP_MSG_OP_ROLLBACK, args);
  cmd.nonce.ptr = other;
  b = world_command_full (w, &cmd, w->cti, 16, NULL);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_WRONG_NONCE);
  g_bytes_unref (b);

  /* 15: replay. A command that passes the checks raises seq even when
   * the op fails (nothing to roll back here). */
  b = world_command (w, SP_MSG_OP_ROLLBACK, args, 0);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_BAD_STATE);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_REPLAY);   /* new id, same command */
  g_bytes_unref (b);
  b = world_command (w, SP_MSG_OP_ROLLBACK, args, w->seq);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_REPLAY);
  g_bytes_unref (b);
  {
    g_autoptr(GBytes) zero = NULL;

    base_command (w, &cmd, SP_MSG_OP_ROLLBACK, args);
    cmd.seq = 0;
    zero = world_command_full (w, &cmd, w->cti, 16, NULL);
    expect_command (w, SP_MSG_ROLLBACK, zero, SP_MSG_REPLAY);
  }

  /* 1: the op does not match the message, or its arguments are wrong */
  b = world_command (w, SP_MSG_OP_COMMIT, c2, 0);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_MALFORMED);
  g_bytes_unref (b);
  b = world_command (w, 9, args, 0);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_MALFORMED);
  g_bytes_unref (b);
  b = world_command (w, SP_MSG_OP_COMMIT, args, 0);    /* COMMIT with {} */
  expect_command (w, SP_MSG_COMMIT, b, SP_MSG_MALFORMED);
  g_bytes_unref (b);
  b = world_command (w, SP_MSG_OP_ROLLBACK, c2, 0);    /* ROLLBACK with {1: 2} */
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_MALFORMED);
  g_bytes_unref (b);
  {
    /* APPLY args without a profile */
    g_autoptr(GBytes) a = hex_bytes ("a3 0102 02a0 03a0");
    g_autoptr(GBytes) cmd_a = world_command (w, SP_MSG_OP_APPLY, a, 0);
    g_autoptr(GBytes) r = world_command_request (w, SP_MSG_APPLY, cmd_a, NULL);

    expect (w, r, SP_MSG_MALFORMED);
  }

  /* 7: the token expired meanwhile */
  w->dev.now += 900;
  b = world_command (w, SP_MSG_OP_ROLLBACK, args, 0);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_TOKEN_EXPIRED);
  g_bytes_unref (b);
}

/* ------------------------------------------------------------------ */
/* Refusals: APPLY                                                     */
/* ------------------------------------------------------------------ */

static void
expect_change (World *w, const Change *c, guint64 status)
{
  g_autoptr(GBytes) r = apply_request (w, c);

  expect (w, r, status);
}

/* The sealed array of a change with entries changed by edit. */
typedef void (*SealedEdit) (sp_msg_sealed *e, gsize *n, guint8 *scratch);

static GBytes *
apply_request_edited (World *w, const Change *c, SealedEdit edit)
{
  g_autoptr(GBytes) args = NULL, sealed = NULL, cmd = NULL;
  sp_msg_sealed e[9];
  guint8 scratch[1024], buf[SP_MSG_MAX];
  sp_msg_cursor cur;
  gsize n = 0;
  size_t len;

  world_change_encode (w, c, &args, &sealed);
  g_assert_cmpint (sp_msg_cursor_init (&cur, g_bytes_get_data (sealed, NULL),
                                       g_bytes_get_size (sealed), SP_CBOR_ARRAY), ==, SP_OK);
  while (sp_msg_sealed_next (&cur, &e[n]))
    n++;
  edit (e, &n, scratch);
  g_assert_cmpint (sp_msg_sealed_encode (e, n, buf, sizeof buf, &len), ==, SP_OK);
  g_clear_pointer (&sealed, g_bytes_unref);
  sealed = g_bytes_new (buf, len);
  cmd = world_command (w, SP_MSG_OP_APPLY, args, 0);
  return world_command_request (w, SP_MSG_APPLY, cmd, sealed);
}

static void
edit_flip_ct (sp_msg_sealed *e, gsize *n, guint8 *scratch)
{
  memcpy (scratch, e[0].ct.ptr, e[0].ct.len);
  scratch[0] ^= 1;
  e[0].ct.ptr = scratch;
}

static void
edit_drop (sp_msg_sealed *e, gsize *n, guint8 *scratch)
{
  *n = 0;
}

static void
edit_duplicate (sp_msg_sealed *e, gsize *n, guint8 *scratch)
{
  e[1] = e[0];
  *n = 2;
}

static void
edit_swap_keys (sp_msg_sealed *e, gsize *n, guint8 *scratch)
{
  sp_msg_text t = e[0].key;

  e[0].key = e[1].key;
  e[1].key = t;
}

static void
expect_edit (World *w, const Change *c, SealedEdit edit, guint64 status)
{
  g_autoptr(GBytes) r = apply_request_edited (w, c, edit);

  expect (w, r, status);
}

static void
test_refuse_apply (World *w, gconstpointer data)
{
  g_autoptr(GBytes) raw = NULL;
  g_autofree char *long_ssid = g_strnfill (33, 's');
  g_autofree char *desc = g_strnfill (600, 'd');
  g_autofree char *token = g_strnfill (400, 't');
  sp_msg_response resp;
  Change c;

  world_session (w);

  /* 17: the version does not rise */
  change_v2 (&c);
  c.version = 1;
  expect_change (w, &c, SP_MSG_VERSION_ROLLBACK);
  c.version = 0;
  expect_change (w, &c, SP_MSG_VERSION_ROLLBACK);

  /* 18: the schema */
  memset (&c, 0, sizeof c);
  c.version = 2;
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* no key at all */
  set_text (&c.values[0], "wifi.mode", "ap");
  c.n_values = 1;
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* unknown key */
  set_text (&c.values[0], "wifi.psk", "in the clear");
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* a secret in values */
  set_text (&c.values[0], "wifi.channel", "six");
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* wrong type */
  set_int (&c.values[0], "wifi.channel", 14);
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* out of range */
  set_int (&c.values[0], "wifi.channel", 0);
  expect_change (w, &c, SP_MSG_SCHEMA);
  set_text (&c.values[0], "wifi.band", "6g");
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* not in the enum */
  set_text (&c.values[0], "wifi.ssid", long_ssid);
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* too long */
  set_text (&c.values[0], "wifi.ssid", "");
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* too short */
  set_int (&c.values[0], "telemetry.enabled", 1);
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* int for bool */
  c.n_values = 0;
  c.secrets[0].key = "wifi.ssid";
  c.secrets[0].value = "sealed but not secret";
  c.n_secrets = 1;
  expect_change (w, &c, SP_MSG_SCHEMA);                    /* non-secret sealed */

  /* 16: the scope lacks credential.rotate */
  {
    sp_cwt_claims cl;
    g_autoptr(GBytes) t = NULL;

    world_claims (w, &cl);
    cl.scope = sp_cwt_text_from ("device.read config.write");
    t = world_token (w, &cl, NULL, NULL);
    assert_status (world_authorize (w, t), SP_MSG_OK);
    change_v2 (&c);
    expect_change (w, &c, SP_MSG_SCOPE);
    /* firmware.update for a firmware digest */
    memset (&c, 0, sizeof c);
    c.version = 2;
    set_text (&c.values[0], "wifi.ssid", "x");
    c.n_values = 1;
    c.firmware_digest = w->profile_digest;
    expect_change (w, &c, SP_MSG_SCOPE);
  }

  /* 19: a critical key wants a fresh sign-in */
  {
    sp_cwt_claims cl;
    g_autoptr(GBytes) t = NULL;

    world_claims (w, &cl);
    cl.auth_time = (int64_t) w->dev.now - SP_MSG_STEP_UP_MAX_AGE - 1;
    t = world_token (w, &cl, NULL, NULL);
    assert_status (world_authorize (w, t), SP_MSG_OK);
    change_v2 (&c);
    expect_change (w, &c, SP_MSG_STEP_UP);
    world_claims (w, &cl);
    cl.present &= ~(unsigned) SP_CWT_AUTH_TIME;
    g_clear_pointer (&t, g_bytes_unref);
    t = world_token (w, &cl, NULL, NULL);
    assert_status (world_authorize (w, t), SP_MSG_OK);
    expect_change (w, &c, SP_MSG_STEP_UP);
    assert_status (world_authorize (w, NULL), SP_MSG_OK);
  }

  /* 20: sealed entries and their digests */
  change_v2 (&c);
  expect_edit (w, &c, edit_flip_ct, SP_MSG_DIGEST);
  expect_edit (w, &c, edit_drop, SP_MSG_DIGEST);
  expect_edit (w, &c, edit_duplicate, SP_MSG_DIGEST);
  c.secrets[1].key = "cloud.token";
  c.secrets[1].value = "tok";
  c.n_secrets = 2;
  expect_edit (w, &c, edit_swap_keys, SP_MSG_DIGEST);

  /* 3: the new configuration does not fit a slot */
  memset (&c, 0, sizeof c);
  c.version = 2;
  set_text (&c.values[0], "site.description", desc);
  c.n_values = 1;
  c.secrets[0].key = "cloud.token";
  c.secrets[0].value = token;
  c.n_secrets = 1;
  expect_change (w, &c, SP_MSG_TOO_LARGE);

  /* 21: it does not open, or opens to what the schema refuses */
  change_v2 (&c);
  c.profile = "other-profile";     /* the info the device uses differs */
  {
    /* sealed for TEST_PROFILE, sent as other-profile: re-encode args */
    g_autoptr(GBytes) args = NULL, sealed = NULL, args2 = NULL, cmd = NULL, r = NULL;
    Change c2 = c;
    sp_msg_apply_args a;
    sp_cbor_item items[64];
    guint8 buf[1024];
    size_t len;

    c2.profile = NULL;
    world_change_encode (w, &c2, &args, &sealed);
    g_assert_cmpint (sp_msg_apply_args_decode (g_bytes_get_data (args, NULL),
                                               g_bytes_get_size (args), items, 64, &a), ==, SP_OK);
    a.profile = sp_msg_text_from ("other-profile");
    g_assert_cmpint (sp_msg_apply_args_encode (&a, buf, sizeof buf, &len), ==, SP_OK);
    args2 = g_bytes_new (buf, len);
    cmd = world_command (w, SP_MSG_OP_APPLY, args2, 0);
    r = world_command_request (w, SP_MSG_APPLY, cmd, sealed);
    expect (w, r, SP_MSG_SEAL);
  }
  change_v2 (&c);
  c.secrets[0].value = "short";    /* below the schema's 8 */
  expect_change (w, &c, SP_MSG_SEAL);
  {
    /* sealed to another device's KEM key */
    guint8 saved[65], d[32];

    memcpy (saved, w->kem_pub, 65);
    g_assert_cmpint (w->port->random (w->port->ctx, d, 32), ==, SP_OK);
    {
      sp_key *k = NULL;

      g_assert_cmpint (w->port->p256_import_private (w->port->ctx, d, &k), ==, SP_OK);
      g_assert_cmpint (w->port->p256_public (w->port->ctx, k, w->kem_pub), ==, SP_OK);
      w->port->key_free (w->port->ctx, k);
    }
    change_v2 (&c);
    expect_change (w, &c, SP_MSG_SEAL);
    memcpy (w->kem_pub, saved, 65);
  }

  /* 20: a firmware digest without a completed transfer */
  memset (&c, 0, sizeof c);
  c.version = 2;
  set_text (&c.values[0], "firmware.channel", "beta");
  c.n_values = 1;
  c.firmware_digest = w->profile_digest;
  expect_change (w, &c, SP_MSG_DIGEST);

  /* 22: the health check */
  w->dev.health_ok = FALSE;
  change_v2 (&c);
  expect_change (w, &c, SP_MSG_HEALTH);
  w->dev.health_ok = TRUE;

  /* 23: flash: the slot's erase fails; or the record after the slot */
  {
    g_autoptr(GBytes) r = NULL;
    sa_status before, after;

    change_v2 (&c);
    w->dev.flash.cut_at = (gint) w->dev.flash.ops;
    w->dev.flash.mode = TEAR_FAIL;
    r = apply_request (w, &c);
    expect (w, r, SP_MSG_STORAGE);

    g_clear_pointer (&r, g_bytes_unref);
    sa_agent_get_status (w->agent, &before);
    w->dev.flash.cut_at = (gint) w->dev.flash.ops + 2;  /* erase, write, record */
    r = apply_request (w, &c);
    assert_status (world_status_of (w, g_bytes_get_data (r, NULL), g_bytes_get_size (r)),
                   SP_MSG_STORAGE);
    sa_agent_get_status (w->agent, &after);
    g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
    w->dev.flash.cut_at = -1;
    g_assert_cmpint (world_reboot (w), ==, SP_OK);
    sa_agent_get_status (w->agent, &after);
    before.boots++;
    g_assert_cmpmem (&before, sizeof before, &after, sizeof after);
    world_session (w);
  }

  /* 4: something is pending already */
  change_v2 (&c);
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  c.version = 3;
  expect_change (w, &c, SP_MSG_BAD_STATE);
}

/* ------------------------------------------------------------------ */
/* Refusals: COMMIT, ROLLBACK, BULK, READ, REVOCATION                  */
/* ------------------------------------------------------------------ */

static void
test_refuse_commit (World *w, gconstpointer data)
{
  g_autoptr(GBytes) raw = NULL, c2 = commit_args (2), c3 = commit_args (3);
  g_autoptr(GBytes) rb = rollback_args ();
  sp_msg_response resp;
  GBytes *b;
  Change c;

  world_session (w);
  /* nothing pending; nothing to return to */
  b = world_command (w, SP_MSG_OP_COMMIT, c2, 0);
  expect_command (w, SP_MSG_COMMIT, b, SP_MSG_BAD_STATE);
  g_bytes_unref (b);
  b = world_command (w, SP_MSG_OP_ROLLBACK, rb, 0);
  expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_BAD_STATE);
  g_bytes_unref (b);

  change_v2 (&c);
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  /* not the pending version */
  b = world_command (w, SP_MSG_OP_COMMIT, c3, 0);
  expect_command (w, SP_MSG_COMMIT, b, SP_MSG_VERSION_ROLLBACK);
  g_bytes_unref (b);

  /* a refreshed token without credential.rotate cannot commit or drop a
   * change to the Wi-Fi key */
  {
    sp_cwt_claims cl;
    g_autoptr(GBytes) t = NULL;

    world_claims (w, &cl);
    cl.scope = sp_cwt_text_from ("device.read config.write");
    t = world_token (w, &cl, NULL, NULL);
    assert_status (world_authorize (w, t), SP_MSG_OK);
    b = world_command (w, SP_MSG_OP_COMMIT, c2, 0);
    expect_command (w, SP_MSG_COMMIT, b, SP_MSG_SCOPE);
    g_bytes_unref (b);
    b = world_command (w, SP_MSG_OP_ROLLBACK, rb, 0);
    expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_SCOPE);
    g_bytes_unref (b);
    assert_status (world_authorize (w, NULL), SP_MSG_OK);
  }

  /* flash fails under the commit */
  w->dev.flash.cut_at = (gint) w->dev.flash.ops;
  w->dev.flash.mode = TEAR_FAIL;
  b = world_command (w, SP_MSG_OP_COMMIT, c2, 0);
  expect_command (w, SP_MSG_COMMIT, b, SP_MSG_STORAGE);
  g_bytes_unref (b);
  w->dev.flash.cut_at = -1;
  g_clear_pointer (&raw, g_bytes_unref);
  assert_status (world_commit (w, 2, &resp, &raw), SP_MSG_OK);

  /* Back to 1, then the same scope rule for returning. */
  {
    sp_cwt_claims cl;
    g_autoptr(GBytes) t = NULL;

    world_claims (w, &cl);
    cl.scope = sp_cwt_text_from ("device.read config.write");
    t = world_token (w, &cl, NULL, NULL);
    assert_status (world_authorize (w, t), SP_MSG_OK);
    b = world_command (w, SP_MSG_OP_ROLLBACK, rb, 0);
    expect_command (w, SP_MSG_ROLLBACK, b, SP_MSG_SCOPE);
    g_bytes_unref (b);
  }
}

static void
test_refuse_bulk (World *w, gconstpointer data)
{
  static const guint8 chunk[64];
  guint8 digest[32];
  g_autoptr(GBytes) raw = NULL;
  sp_msg_response resp;
  GBytes *b;

  memset (digest, 7, sizeof digest);
  world_session (w);

  /* no transfer */
  b = simple_request (w, SP_MSG_BULK_STATUS);
  expect (w, b, SP_MSG_NO_TRANSFER);
  g_bytes_unref (b);
  b = bulk_data_request (w, 0, chunk, 64);
  expect (w, b, SP_MSG_NO_TRANSFER);
  g_bytes_unref (b);

  /* BULK_BEGIN: size 0 or over the protocol's limit is malformed; over
   * the device's area too large; firmware.update needed */
  {
    g_autoptr(GBytes) a = bulk_args (digest, 0);
    g_autoptr(GBytes) cmd = world_command (w, SP_MSG_OP_BULK_BEGIN, a, 0);

    expect_command (w, SP_MSG_BULK_BEGIN, cmd, SP_MSG_MALFORMED);
  }
  {
    g_autoptr(GBytes) a = bulk_args (digest, (guint64) SP_MSG_BULK_MAX + 1);
    g_autoptr(GBytes) cmd = world_command (w, SP_MSG_OP_BULK_BEGIN, a, 0);

    expect_command (w, SP_MSG_BULK_BEGIN, cmd, SP_MSG_MALFORMED);
  }
  {
    g_autoptr(GBytes) a = bulk_args (digest, w->agent->store.bulk_size + 1);
    g_autoptr(GBytes) cmd = world_command (w, SP_MSG_OP_BULK_BEGIN, a, 0);

    expect_command (w, SP_MSG_BULK_BEGIN, cmd, SP_MSG_TOO_LARGE);
  }
  {
    sp_cwt_claims cl;
    g_autoptr(GBytes) t = NULL, a = bulk_args (digest, 100), cmd = NULL;

    world_claims (w, &cl);
    cl.scope = sp_cwt_text_from ("device.read config.write");
    t = world_token (w, &cl, NULL, NULL);
    assert_status (world_authorize (w, t), SP_MSG_OK);
    cmd = world_command (w, SP_MSG_OP_BULK_BEGIN, a, 0);
    expect_command (w, SP_MSG_BULK_BEGIN, cmd, SP_MSG_SCOPE);
    assert_status (world_authorize (w, NULL), SP_MSG_OK);
  }

  assert_status (bulk_begin (w, digest, 100, &resp, &raw), SP_MSG_OK);
  /* not the next offset: 25 with where to resume */
  {
    g_autoptr(GBytes) r = bulk_data_request (w, 10, chunk, 64);
    g_autoptr(GBytes) a = NULL;
    Snapshot before;

    snapshot (w, &before);
    a = world_exchange (w, g_bytes_get_data (r, NULL), g_bytes_get_size (r));
    g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (a, NULL), g_bytes_get_size (a),
                                             &resp), ==, SP_OK);
    assert_status (resp.status, SP_MSG_BULK_OFFSET);
    g_assert_true (resp.has_next_offset);
    g_assert_cmpuint (resp.next_offset, ==, 0);
    assert_unchanged (w, &before);
  }
  /* past the size */
  b = bulk_data_request (w, 0, chunk, 64);
  g_assert_cmpuint (world_status_of (w, g_bytes_get_data (b, NULL), g_bytes_get_size (b)), ==,
                    SP_MSG_OK);
  g_bytes_unref (b);
  b = bulk_data_request (w, 64, chunk, 37);
  expect (w, b, SP_MSG_TOO_LARGE);
  g_bytes_unref (b);
  /* a device without a flash hash has no bulk transfer */
  w->dev.platform.flash.sha256 = NULL;
  b = simple_request (w, SP_MSG_BULK_STATUS);
  expect (w, b, SP_MSG_UNSUPPORTED);
  g_bytes_unref (b);
  b = bulk_data_request (w, 64, chunk, 36);
  expect (w, b, SP_MSG_UNSUPPORTED);
  g_bytes_unref (b);
  {
    g_autoptr(GBytes) a = bulk_args (digest, 100);
    g_autoptr(GBytes) cmd = world_command (w, SP_MSG_OP_BULK_BEGIN, a, 0);

    expect_command (w, SP_MSG_BULK_BEGIN, cmd, SP_MSG_UNSUPPORTED);
  }
}

static void
test_refuse_read (World *w, gconstpointer data)
{
  sp_msg_request req = { .type = SP_MSG_READ };
  sp_msg_text k = sp_msg_text_from ("wifi.mode");
  guint8 kb[32];
  size_t len;
  GBytes *b;
  sp_cwt_claims cl;
  g_autoptr(GBytes) t = NULL;

  world_session (w);
  g_assert_cmpint (sp_msg_keys_encode (&k, 1, kb, sizeof kb, &len), ==, SP_OK);
  req.keys.ptr = kb;
  req.keys.len = len;
  b = request_bytes (w, &req);
  expect (w, b, SP_MSG_SCHEMA);
  g_bytes_unref (b);

  world_claims (w, &cl);
  cl.scope = sp_cwt_text_from ("config.write");
  t = world_token (w, &cl, NULL, NULL);
  assert_status (world_authorize (w, t), SP_MSG_OK);
  b = simple_request (w, SP_MSG_READ);
  expect (w, b, SP_MSG_SCOPE);
  g_bytes_unref (b);
}

static void
test_refuse_revocation (World *w, gconstpointer data)
{
  g_autoptr(GBytes) l5 = revocation_list (w, 5, NULL, 0, "x", NULL, NULL);
  g_autoptr(GBytes) l5b = revocation_list (w, 5, NULL, 0, "y", NULL, NULL);
  g_autoptr(GBytes) l4 = revocation_list (w, 4, NULL, 0, NULL, NULL, NULL);
  g_autoptr(GBytes) lk = revocation_list (w, 9, NULL, 0, NULL, NULL, "auth-2");
  g_autoptr(GBytes) lo = revocation_list (w, 9, NULL, 0, NULL, w->other_authority, NULL);
  g_autoptr(GBytes) bad = sign_raw (w, w->authority, TEST_AUTH_KID, SP_REVOCATION_CONTENT_TYPE,
                                    (const guint8 *) "\xa0", 1);
  g_autoptr(GBytes) junk = g_bytes_new ("\xd2\x80", 2);
  GBytes *b;

  world_hello (w);   /* no token needed */

  b = revocation_request (w, junk);
  expect (w, b, SP_MSG_MALFORMED);
  g_bytes_unref (b);
  b = revocation_request (w, lk);
  expect (w, b, SP_MSG_TOKEN_SIGNATURE);
  g_bytes_unref (b);
  b = revocation_request (w, lo);
  expect (w, b, SP_MSG_TOKEN_SIGNATURE);
  g_bytes_unref (b);
  b = revocation_request (w, bad);
  expect (w, b, SP_MSG_MALFORMED);
  g_bytes_unref (b);

  b = revocation_request (w, l5);
  assert_status (world_status_of (w, g_bytes_get_data (b, NULL), g_bytes_get_size (b)),
                 SP_MSG_OK);
  g_bytes_unref (b);
  /* the same list again: fine, nothing written */
  b = revocation_request (w, l5);
  expect (w, b, SP_MSG_OK);
  g_bytes_unref (b);
  /* older; or another list under the same version */
  b = revocation_request (w, l4);
  expect (w, b, SP_MSG_REVOCATION_STALE);
  g_bytes_unref (b);
  b = revocation_request (w, l5b);
  expect (w, b, SP_MSG_REVOCATION_STALE);
  g_bytes_unref (b);

  /* more entries than this device can hold */
  {
    sp_revocation_content c;
    sp_revocation_view v[60];
    guint8 ctis[60][16], buf[SP_MSG_MAX];
    size_t len;
    g_autoptr(GBytes) big = NULL;

    memset (&c, 0, sizeof c);
    for (int i = 0; i < 60; i++)
      {
        memset (ctis[i], 0, 16);
        ctis[i][15] = (guint8) i;
        v[i].ptr = ctis[i];
        v[i].len = 16;
      }
    c.version = 10;
    c.cti = v;
    c.n_cti = 60;
    g_assert_cmpint (sp_revocation_sign (w->port, w->authority, (const guint8 *) TEST_AUTH_KID,
                                         strlen (TEST_AUTH_KID), &c, buf, sizeof buf, &len), ==,
                     SP_OK);
    big = g_bytes_new (buf, len);
    b = revocation_request (w, big);
    expect (w, b, SP_MSG_TOO_LARGE);
    g_bytes_unref (b);
  }
}

/* ------------------------------------------------------------------ */
/* Deadline, HELLO and boot roll a pending change back                 */
/* ------------------------------------------------------------------ */

static void
test_deadline (World *w, gconstpointer data)
{
  g_autoptr(GBytes) raw = NULL;
  sp_msg_response resp;
  guint8 first[32];
  sa_status st;
  Change c;

  sha256_of (w->config, first);
  world_session (w);
  change_v2 (&c);
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  w->dev.mono_ms += SP_MSG_COMMIT_DEADLINE * 1000 - 1;
  sa_agent_tick (w->agent);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.pending_version, ==, 2);
  w->dev.mono_ms += 1;
  sa_agent_tick (w->agent);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.pending_version, ==, 0);
  g_assert_cmpuint (st.committed_version, ==, 1);
  g_assert_cmpuint (st.deadline_rollbacks, ==, 1);
  g_assert_cmpmem (st.config_digest, 32, first, 32);
  g_clear_pointer (&raw, g_bytes_unref);
  assert_status (world_commit (w, 2, &resp, &raw), SP_MSG_BAD_STATE);
  g_clear_pointer (&raw, g_bytes_unref);

  /* HELLO rolls back what an earlier session staged */
  c.version = 3;
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  g_clear_pointer (&raw, g_bytes_unref);
  world_hello (w);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.pending_version, ==, 0);

  /* and so does a boot */
  g_assert_cmpuint (world_authorize (w, NULL), ==, SP_MSG_OK);
  c.version = 4;
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  g_assert_cmpint (world_reboot (w), ==, SP_OK);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.pending_version, ==, 0);
  g_assert_cmpuint (st.committed_version, ==, 1);
  g_assert_cmpuint (st.deadline_rollbacks, ==, 1);
  {
    static const char *const points[] = {
      "authorize.before-journal", "apply.staged", "apply.before-journal",
      "tick.before-journal", "hello.before-journal", "boot.before-journal",
    };

    for (gsize i = 0; i < G_N_ELEMENTS (points); i++)
      {
        gboolean seen = FALSE;

        for (guint j = 0; j < w->dev.points->len; j++)
          seen = seen || g_str_equal (g_ptr_array_index (w->dev.points, j), points[i]);
        g_assert_true (seen);
      }
  }
}

/* ------------------------------------------------------------------ */
/* Provisioning and boot                                               */
/* ------------------------------------------------------------------ */

static void
test_provision (World *w, gconstpointer data)
{
  sa_identity id;
  sa_schema bad_schema = w->schema;
  sa_agent *a = g_new0 (sa_agent, 1);
  g_autofree guint8 *big = g_malloc0 (SA_CERT_MAX + 1);
  g_autoptr(GBytes) bad_config = hex_bytes ("a1 69776966692e6d6f6465 6161");

  memset (&id, 0, sizeof id);
  id.serial = TEST_SERIAL;
  id.model = TEST_MODEL;
  id.firmware = TEST_FIRMWARE;
  memcpy (id.identity_d, w->identity_d, 32);
  memcpy (id.kem_d, w->kem_d, 32);
  id.chain[0] = g_bytes_get_data (w->chain[0], &id.chain_len[0]);
  id.n_chain = 1;
  memcpy (id.authorities[0].kid, "k", 1);
  id.authorities[0].kid_len = 1;
  memcpy (id.authorities[0].pub, w->authority_pub, 65);
  id.n_authorities = 1;
  id.config = g_bytes_get_data (w->config, &id.config_len);
  id.config_version = 1;

  /* Every refusal before anything is written. */
  {
    g_autofree gchar *before = world_flash_digest (w), *after = NULL;
    sa_identity x;

    x = id;
    x.model = "acme-gw2";
    g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &x), ==, SP_ERR_VALUE);
    x = id;
    x.serial = "";
    g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &x), ==, SP_ERR_VALUE);
    x = id;
    x.n_chain = 0;
    g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &x), ==, SP_ERR_VALUE);
    x = id;
    x.chain[0] = big;
    x.chain_len[0] = SA_CERT_MAX + 1;
    g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &x), ==, SP_ERR_VALUE);
    x = id;
    x.chain[1] = x.chain[2] = big;
    x.chain_len[0] = x.chain_len[1] = x.chain_len[2] = SA_CERT_MAX;
    x.chain[0] = big;
    x.n_chain = 3;     /* with the largest evidence, over one ATTEST answer */
    g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &x), ==, SP_ERR_VALUE);
    x = id;
    x.n_authorities = 0;
    g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &x), ==, SP_ERR_VALUE);
    x = id;
    x.config = g_bytes_get_data (bad_config, &x.config_len);
    g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &x), ==, SP_ERR_VALUE);
    x = id;
    memset (x.identity_d, 0, 32);
    g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &x), ==, SP_ERR_KEY);
    bad_schema.model = "";
    g_assert_cmpint (sa_provision (&w->dev.platform, &bad_schema, &id), ==, SP_ERR_INVALID_ARG);
    after = world_flash_digest (w);
    g_assert_cmpstr (before, ==, after);
  }

  /* A blank flash does not boot; nor does a corrupted identity. */
  memset (w->dev.flash.mem, 0xFF, w->dev.flash.size);
  g_assert_cmpint (sa_agent_boot (a, &w->dev.platform, &w->schema), ==, SP_ERR_MISSING);
  g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &id), ==, SP_OK);
  g_assert_cmpint (sa_agent_boot (a, &w->dev.platform, &w->schema), ==, SP_OK);
  sa_agent_close (a);
  memset (a, 0, sizeof *a);
  w->dev.flash.mem[20] ^= 0x40;
  g_assert_cmpint (sa_agent_boot (a, &w->dev.platform, &w->schema), ==, SP_ERR_VALUE);
  w->dev.flash.mem[20] ^= 0x40;
  /* another model's firmware */
  bad_schema = w->schema;
  bad_schema.model = "acme-gw2";
  g_assert_cmpint (sa_agent_boot (a, &w->dev.platform, &bad_schema), ==, SP_ERR_VALUE);
  g_assert_cmpint (sa_agent_boot (a, &w->dev.platform, &w->schema), ==, SP_OK);
  sa_agent_close (a);
  g_free (a);
}

/* ------------------------------------------------------------------ */
/* The serial link                                                     */
/* ------------------------------------------------------------------ */

typedef struct {
  GByteArray *out;
  gsize max_write;
  guint writes;
} LinkOut;

static bool
link_write (void *ctx, const uint8_t *data, size_t len)
{
  LinkOut *o = ctx;

  g_byte_array_append (o->out, data, len);
  o->max_write = MAX (o->max_write, len);
  o->writes++;
  return true;
}

/* The frames written so far, each checked to be what sp_frame_encode ()
 * writes for its payload. */
static GPtrArray *
link_frames (LinkOut *o)
{
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint8 rx[SP_DEFRAMER_BUF_MAX], wire[SP_FRAME_MAX_ENCODED];
  const guint8 *p = o->out->data, *payload, *start = p;
  gsize left = o->out->len;
  sp_deframer d;

  sp_deframer_init (&d, rx, sizeof rx);
  while (left > 0)
    {
      size_t plen, n = sp_deframer_push (&d, p, left, &payload, &plen), wlen;

      p += n;
      left -= n;
      if (payload == NULL)
        continue;
      g_assert_cmpint (sp_frame_encode (payload, plen, wire, sizeof wire, &wlen), ==, SP_OK);
      g_assert_cmpmem (start, p - start, wire, wlen);
      start = p;
      g_ptr_array_add (frames, g_bytes_new (payload, plen));
    }
  g_assert_cmpuint (d.stats.crc + d.stats.cobs + d.stats.oversize, ==, 0);
  g_byte_array_set_size (o->out, 0);
  return frames;
}

static void
link_send (sa_link *link, World *w, sp_msg_request *req, gsize chunk)
{
  g_autoptr(GBytes) b = request_bytes (w, req);
  guint8 wire[SP_FRAME_MAX_ENCODED];
  size_t len;

  g_assert_cmpint (sp_frame_encode (g_bytes_get_data (b, NULL), g_bytes_get_size (b), wire,
                                    sizeof wire, &len), ==, SP_OK);
  for (gsize i = 0; i < len; i += chunk)
    sa_link_receive (link, wire + i, MIN (chunk, len - i));
}

static void
test_link (World *w, gconstpointer data)
{
  sa_link *link = g_new0 (sa_link, 1);
  LinkOut o = { g_byte_array_new (), 0, 0 };
  g_autoptr(GPtrArray) frames = NULL;
  sp_msg_response resp;
  sp_msg_request req;
  guint8 challenge[32] = { 0 };

  sa_link_init (link, w->agent, link_write, &o);

  memset (&req, 0, sizeof req);
  req.type = SP_MSG_HELLO;
  link_send (link, w, &req, 1);           /* a byte at a time */
  frames = link_frames (&o);
  g_assert_cmpuint (frames->len, ==, 1);
  g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (frames->pdata[0], NULL),
                                           g_bytes_get_size (frames->pdata[0]), &resp), ==, SP_OK);
  assert_status (resp.status, SP_MSG_OK);
  memcpy (w->nonce, resp.nonce.ptr, 32);
  g_clear_pointer (&frames, g_ptr_array_unref);

  /* The largest answer, written a block at a time. */
  o.max_write = 0;
  o.writes = 0;
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_ATTEST;
  req.challenge.ptr = challenge;
  req.challenge.len = 32;
  link_send (link, w, &req, 1000);
  g_assert_cmpuint (o.max_write, <=, 256);
  g_assert_cmpuint (o.writes, >=, o.out->len / 256);
  frames = link_frames (&o);
  g_assert_cmpuint (frames->len, ==, 1);
  g_assert_cmpuint (g_bytes_get_size (frames->pdata[0]), >, 1100);
  g_clear_pointer (&frames, g_ptr_array_unref);

  /* A lost answer: the same frame again gets the same bytes. */
  {
    g_autoptr(GBytes) b = simple_request (w, SP_MSG_BULK_STATUS);
    guint8 wire[SP_FRAME_MAX_ENCODED];
    size_t len;
    g_autoptr(GBytes) first = NULL;

    g_assert_cmpint (sp_frame_encode (g_bytes_get_data (b, NULL), g_bytes_get_size (b), wire,
                                      sizeof wire, &len), ==, SP_OK);
    sa_link_receive (link, wire, len);
    first = g_bytes_new (o.out->data, o.out->len);
    g_byte_array_set_size (o.out, 0);
    sa_link_receive (link, wire, len);
    g_assert_cmpmem (o.out->data, o.out->len, g_bytes_get_data (first, NULL),
                     g_bytes_get_size (first));
    g_byte_array_set_size (o.out, 0);

    /* Bad frames are dropped, never answered, and counted. */
    wire[2] = (guint8) (wire[2] == 0x55 ? 0x56 : 0x55);
    sa_link_receive (link, wire, len);
    sa_link_receive (link, (const guint8 *) "\x05\x01\x00", 3);
    g_assert_cmpuint (o.out->len, ==, 0);
  }
  g_assert_cmpuint (world_authorize (w, NULL), ==, SP_MSG_OK);
  {
    g_autoptr(GHashTable) diag = NULL;
    g_autoptr(GHashTable) cfg = read_config (w, NULL, 0, &diag);

    g_assert_nonnull (g_hash_table_lookup (cfg, "wifi.ssid"));
    g_assert_cmpstr (g_hash_table_lookup (diag, "frames_dropped"), ==, "2");
  }

  g_byte_array_unref (o.out);
  g_free (link);
}

/* ------------------------------------------------------------------ */
/* Power loss                                                          */
/* ------------------------------------------------------------------ */

/* The tool's side of a session that may die at any flash op: stops at
 * the first answer that is not OK. */
static void
try_session (World *w, const Change *c, int plan)
{
  g_autoptr(GBytes) raw = NULL;
  sp_msg_request req = { .type = SP_MSG_HELLO };
  sp_msg_response resp;

  sa_agent_close (w->agent);
  memset (w->agent, 0, sizeof *w->agent);
  if (sa_agent_boot (w->agent, &w->dev.platform, &w->schema) != SP_OK)
    return;
  world_request (w, &req, &resp, &raw);
  if (resp.status != SP_MSG_OK)
    return;
  memcpy (w->nonce, resp.nonce.ptr, 32);
  w->seq = 0;
  if (world_authorize (w, NULL) != SP_MSG_OK)
    return;
  g_clear_pointer (&raw, g_bytes_unref);
  if (plan == 2)
    {
      /* roll back to the previous committed configuration */
      world_rollback (w, &resp, &raw);
      return;
    }
  if (world_apply (w, c, &resp, &raw) != SP_MSG_OK)
    return;
  g_clear_pointer (&raw, g_bytes_unref);
  if (plan == 1)
    world_rollback (w, &resp, &raw);    /* drop the pending one */
  else
    world_commit (w, c->version, &resp, &raw);
}

static void
check_alive (World *w, const guint8 *digests, gsize n, guint64 *versions, guint64 next)
{
  g_autoptr(GBytes) raw = NULL;
  sp_msg_request req;
  sp_msg_response resp;
  sp_evidence ev;
  guint8 challenge[32] = { 1 };
  sa_status st, st2;
  gboolean found = FALSE;
  Change c;

  g_assert_cmpint (world_reboot (w), ==, SP_OK);
  sa_agent_get_status (w->agent, &st);
  g_assert_cmpuint (st.pending_version, ==, 0);
  for (gsize i = 0; i < n; i++)
    if (st.committed_version == versions[i])
      {
        g_assert_cmpmem (st.config_digest, 32, digests + 32 * i, 32);
        found = TRUE;
      }
  g_assert_true (found);
  /* The same again after another boot. */
  g_assert_cmpint (world_reboot (w), ==, SP_OK);
  sa_agent_get_status (w->agent, &st2);
  g_assert_cmpuint (st2.committed_version, ==, st.committed_version);
  g_assert_cmpmem (st2.config_digest, 32, st.config_digest, 32);

  /* Identity intact: it attests with the same key. */
  world_hello (w);
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_ATTEST;
  req.challenge.ptr = challenge;
  req.challenge.len = 32;
  world_request (w, &req, &resp, &raw);
  assert_status (resp.status, SP_MSG_OK);
  g_assert_cmpint (sp_evidence_verify (w->port, resp.evidence.ptr, resp.evidence.len,
                                       w->identity_pub, &ev), ==, SP_OK);
  g_clear_pointer (&raw, g_bytes_unref);

  /* And it still takes a change. */
  g_assert_cmpuint (world_authorize (w, NULL), ==, SP_MSG_OK);
  memset (&c, 0, sizeof c);
  c.version = next;
  set_text (&c.values[0], "log.level", "debug");
  c.n_values = 1;
  assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
  g_clear_pointer (&raw, g_bytes_unref);
  assert_status (world_commit (w, next, &resp, &raw), SP_MSG_OK);
}

/* Cut the power at every write and erase of plan, in both tear modes and
 * at several fill levels of the journal (so the switch to the other
 * journal sector falls inside the plan too). */
static void
test_power_loss (World *w, gconstpointer data)
{
  int plan = GPOINTER_TO_INT (data) - 1;
  g_autofree guint8 *image = NULL;
  g_autoptr(GBytes) v2 = NULL;
  guint8 digests[2 * 32];
  guint64 versions[2] = { 1, 2 };
  static const guint prefill[] = { 0, 19, 20, 21, 22, 23 };
  static const TearMode modes[] = { TEAR_PREFIX, TEAR_NONE };
  guint runs = 0;
  Change c;

  change_v2 (&c);
  v2 = world_config_with (w, w->config, &c);
  sha256_of (w->config, digests);
  sha256_of (v2, digests + 32);

  /* plan 2 (ROLLBACK to previous) starts from 2 committed over 1 */
  if (plan == 2)
    {
      g_autoptr(GBytes) raw = NULL;
      sp_msg_response resp;

      world_session (w);
      assert_status (world_apply (w, &c, &resp, &raw), SP_MSG_OK);
      g_clear_pointer (&raw, g_bytes_unref);
      assert_status (world_commit (w, 2, &resp, &raw), SP_MSG_OK);
    }

  for (gsize f = 0; f < G_N_ELEMENTS (prefill); f++)
    {
      /* Fill the journal: each boot appends one record. */
      for (guint i = 0; i < prefill[f]; i++)
        g_assert_cmpint (world_reboot (w), ==, SP_OK);
      image = g_memdup2 (w->dev.flash.mem, w->dev.flash.size);

      for (gsize m = 0; m < G_N_ELEMENTS (modes); m++)
        for (gint cut = 0;; cut++)
          {
            gboolean done;

            memcpy (w->dev.flash.mem, image, w->dev.flash.size);
            w->dev.flash.ops = 0;
            w->dev.flash.cut_at = cut;
            w->dev.flash.mode = modes[m];
            w->dev.flash.dead = FALSE;
            w->dev.flash.seed = g_random_int () | 1;
            w->seq = 0;
            try_session (w, &c, plan);
            done = !w->dev.flash.dead;
            runs++;
            check_alive (w, digests, 2, versions, 10);
            if (done)
              {
                sa_status st;

                /* The whole plan ran: the new state (checked before
                 * check_alive's own change). */
                memcpy (w->dev.flash.mem, image, w->dev.flash.size);
                w->dev.flash.cut_at = -1;
                w->dev.flash.ops = 0;
                try_session (w, &c, plan);
                sa_agent_get_status (w->agent, &st);
                g_assert_cmpuint (st.committed_version, ==, plan == 0 ? 2 : plan == 1 ? 1 : 1);
                g_assert_cmpuint (st.pending_version, ==, 0);
                break;
              }
          }
      memcpy (w->dev.flash.mem, image, w->dev.flash.size);
      g_clear_pointer (&image, g_free);
      g_assert_cmpint (world_reboot (w), ==, SP_OK);
    }
  g_test_message ("%u power cuts", runs);
  g_assert_cmpuint (runs, >, 24);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn, data) \
  g_test_add ("/signet/agent/" path, World, data, world_fixture_setup, fn, \
              world_fixture_teardown)

  ADD ("session", test_session, NULL);
  ADD ("session/secrets", test_secrets, NULL);
  ADD ("bulk", test_bulk, NULL);
  ADD ("bulk/quiet", test_bulk_quiet, NULL);
  ADD ("revocation/mid-session", test_revoked_mid_session, NULL);
  ADD ("retry", test_retry, NULL);
  ADD ("link", test_link, NULL);
  ADD ("deadline", test_deadline, NULL);
  ADD ("clock-floor", test_clock_floor, NO_CLOCK);
  ADD ("provision", test_provision, NULL);
  ADD ("refuse/envelope", test_refuse_envelope, NULL);
  ADD ("refuse/no-session", test_refuse_no_session, NULL);
  ADD ("refuse/authorize", test_refuse_authorize, NULL);
  ADD ("refuse/command", test_refuse_command, NULL);
  ADD ("refuse/apply", test_refuse_apply, NULL);
  ADD ("refuse/commit-rollback", test_refuse_commit, NULL);
  ADD ("refuse/bulk", test_refuse_bulk, NULL);
  ADD ("refuse/read", test_refuse_read, NULL);
  ADD ("refuse/revocation", test_refuse_revocation, NULL);
  g_test_add ("/signet/agent/power-loss/apply-commit", World, GINT_TO_POINTER (1),
              world_fixture_setup, test_power_loss, world_fixture_teardown);
  g_test_add ("/signet/agent/power-loss/apply-rollback", World, GINT_TO_POINTER (2),
              world_fixture_setup, test_power_loss, world_fixture_teardown);
  g_test_add ("/signet/agent/power-loss/rollback-previous", World, GINT_TO_POINTER (3),
              world_fixture_setup, test_power_loss, world_fixture_teardown);

  return g_test_run ();
}
