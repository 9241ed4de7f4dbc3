/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * agent-test-util.c: see agent-test-util.h.
 */
#include "config.h"

#include <string.h>

#include "agent-test-util.h"
#include "signet-crypto-port.h"
#include "sp-cwt.h"
#include "sp-hpke.h"

/* ------------------------------------------------------------------ */
/* The schema                                                          */
/* ------------------------------------------------------------------ */

static const char *const log_levels[] = { "debug", "info", "warn" };
static const char *const bands[] = { "2g4", "5g" };
static const char *const channels[] = { "beta", "stable" };

/* Deterministic order: shorter keys first, then bytewise. */
static const sa_field test_fields[] = {
  { "wifi.psk", SA_TYPE_STRING, 8, 63, NULL, 0, TRUE, SA_CLASS_CREDENTIAL, TRUE },
  { "log.level", SA_TYPE_ENUM, 0, 0, log_levels, 3, FALSE, SA_CLASS_CONFIG, FALSE },
  { "wifi.band", SA_TYPE_ENUM, 0, 0, bands, 2, FALSE, SA_CLASS_CONFIG, FALSE },
  { "wifi.ssid", SA_TYPE_STRING, 1, 32, NULL, 0, FALSE, SA_CLASS_CONFIG, FALSE },
  { "cloud.token", SA_TYPE_STRING, 1, 400, NULL, 0, TRUE, SA_CLASS_CREDENTIAL, TRUE },
  { "wifi.channel", SA_TYPE_INT, 1, 13, NULL, 0, FALSE, SA_CLASS_CONFIG, FALSE },
  { "firmware.channel", SA_TYPE_ENUM, 0, 0, channels, 2, FALSE, SA_CLASS_FIRMWARE, TRUE },
  { "site.description", SA_TYPE_STRING, 0, 600, NULL, 0, FALSE, SA_CLASS_CONFIG, FALSE },
  { "telemetry.enabled", SA_TYPE_BOOL, 0, 0, NULL, 0, FALSE, SA_CLASS_CONFIG, FALSE },
};

/* ------------------------------------------------------------------ */
/* The flash                                                           */
/* ------------------------------------------------------------------ */

/* Count an op; FALSE if it must not happen (power is gone, or this is
 * the op that fails). *tear: it happens in part, then power is gone. */
static gboolean
flash_op (MemFlash *f, gboolean *tear)
{
  *tear = FALSE;
  if (f->dead)
    return FALSE;
  if (f->cut_at >= 0 && f->ops == (guint) f->cut_at)
    {
      f->ops++;
      switch (f->mode)
        {
        case TEAR_FAIL:
          return FALSE;
        case TEAR_PREFIX:
          *tear = TRUE;
          f->dead = TRUE;
          return TRUE;
        default:
          f->dead = TRUE;
          return FALSE;
        }
    }
  f->ops++;
  return TRUE;
}

static sp_err
mem_read (void *ctx, uint32_t offset, uint8_t *buf, size_t len)
{
  TestDevice *d = ctx;

  if (d->flash.dead || offset > d->flash.size || len > d->flash.size - offset)
    return SP_ERR_INVALID_ARG;
  memcpy (buf, d->flash.mem + offset, len);
  return SP_OK;
}

static sp_err
mem_write (void *ctx, uint32_t offset, const uint8_t *buf, size_t len)
{
  TestDevice *d = ctx;
  MemFlash *f = &d->flash;
  gboolean tear;
  gsize i, n = len;

  if (offset > f->size || len > f->size - offset)
    return SP_ERR_INVALID_ARG;
  if (!flash_op (f, &tear))
    return SP_ERR_INVALID_ARG;
  if (tear)
    n = len > 0 ? (f->seed % len) : 0;
  /* NOR: a write only clears bits. */
  for (i = 0; i < n; i++)
    f->mem[offset + i] &= buf[i];
  if (tear && n < len)
    f->mem[offset + n] &= (guint8) (buf[n] | (f->seed >> 8));
  return tear ? SP_ERR_INVALID_ARG : SP_OK;
}

static sp_err
mem_erase (void *ctx, uint32_t offset)
{
  TestDevice *d = ctx;
  MemFlash *f = &d->flash;
  gboolean tear;
  gsize start = offset / TEST_SECTOR * TEST_SECTOR, n = TEST_SECTOR, i;

  if (offset >= f->size || offset % TEST_SECTOR != 0)
    return SP_ERR_INVALID_ARG;
  if (!flash_op (f, &tear))
    return SP_ERR_INVALID_ARG;
  if (tear)
    {
      /* Part erased, then a stretch of unknown bits. */
      n = f->seed % TEST_SECTOR;
      for (i = n; i < TEST_SECTOR && i < n + 64; i++)
        f->mem[start + i] ^= (guint8) (f->seed >> (i % 24));
    }
  memset (f->mem + start, 0xFF, n);
  return tear ? SP_ERR_INVALID_ARG : SP_OK;
}

static sp_err
mem_sha256 (void *ctx, uint32_t offset, uint32_t len, uint8_t out[SP_SHA256_LEN])
{
  TestDevice *d = ctx;
  const sp_crypto_port *port = d->platform.crypto;
  sp_iovec iov;

  if (d->flash.dead || offset > d->flash.size || len > d->flash.size - offset)
    return SP_ERR_INVALID_ARG;
  iov.base = d->flash.mem + offset;
  iov.len = len;
  return port->sha256 (port->ctx, &iov, 1, out);
}

static bool
dev_clock (void *ctx, uint64_t *now)
{
  TestDevice *d = ctx;

  *now = d->now;
  return d->has_clock;
}

static uint64_t
dev_mono (void *ctx)
{
  TestDevice *d = ctx;

  return d->mono_ms;
}

static bool
dev_health (void *ctx, const uint8_t *config, size_t len)
{
  TestDevice *d = ctx;

  g_assert_nonnull (config);
  g_assert_cmpuint (len, >, 0);
  return d->health_ok;
}

static void
dev_point (void *ctx, const char *point)
{
  TestDevice *d = ctx;

  g_ptr_array_add (d->points, g_strdup (point));
}

/* ------------------------------------------------------------------ */
/* World                                                               */
/* ------------------------------------------------------------------ */

static void
random_scalar (World *w, guint8 d[32], guint8 pub[65])
{
  sp_key *k = NULL;

  g_assert_cmpint (w->port->random (w->port->ctx, d, 32), ==, SP_OK);
  g_assert_cmpint (w->port->p256_import_private (w->port->ctx, d, &k), ==, SP_OK);
  g_assert_cmpint (w->port->p256_public (w->port->ctx, k, pub), ==, SP_OK);
  w->port->key_free (w->port->ctx, k);
}

static sp_key *
new_key (World *w, guint8 pub[65])
{
  sp_key *k = NULL;
  guint8 p[65];

  g_assert_cmpint (w->port->p256_generate (w->port->ctx, &k), ==, SP_OK);
  g_assert_cmpint (w->port->p256_public (w->port->ctx, k, pub != NULL ? pub : p), ==, SP_OK);
  return k;
}

static GBytes *
fake_cert (gsize len, guint8 fill)
{
  guint8 *b = g_malloc (len);

  /* DER-ish: a SEQUENCE head, then bytes with zeros in them. */
  for (gsize i = 0; i < len; i++)
    b[i] = (guint8) (fill + i * 7);
  b[0] = 0x30;
  return g_bytes_new_take (b, len);
}

static GBytes *
first_config (void)
{
  sp_msg_kv kv[6];
  guint8 buf[512];
  size_t len;

  memset (kv, 0, sizeof kv);
  kv[0].key = sp_msg_text_from ("wifi.psk");
  kv[0].type = SP_CBOR_TEXT;
  kv[0].text = sp_msg_text_from ("initial-psk");
  kv[1].key = sp_msg_text_from ("log.level");
  kv[1].type = SP_CBOR_TEXT;
  kv[1].text = sp_msg_text_from ("info");
  kv[2].key = sp_msg_text_from ("wifi.band");
  kv[2].type = SP_CBOR_TEXT;
  kv[2].text = sp_msg_text_from ("2g4");
  kv[3].key = sp_msg_text_from ("wifi.ssid");
  kv[3].type = SP_CBOR_TEXT;
  kv[3].text = sp_msg_text_from ("factory");
  kv[4].key = sp_msg_text_from ("wifi.channel");
  kv[4].type = SP_CBOR_UINT;
  kv[4].i = 6;
  kv[5].key = sp_msg_text_from ("telemetry.enabled");
  kv[5].type = SP_CBOR_BOOL;
  kv[5].b = FALSE;
  g_assert_cmpint (sp_msg_values_encode (kv, 6, buf, sizeof buf, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

void
world_init (World *w, gboolean has_clock)
{
  sa_identity id;
  sp_iovec iov;

  memset (w, 0, sizeof *w);
  w->port = signet_crypto_port_openssl ();
  w->schema.model = TEST_MODEL;
  w->schema.fields = test_fields;
  w->schema.n_fields = G_N_ELEMENTS (test_fields);

  random_scalar (w, w->identity_d, w->identity_pub);
  random_scalar (w, w->kem_d, w->kem_pub);
  w->authority = new_key (w, w->authority_pub);
  w->other_authority = new_key (w, NULL);
  w->tech = new_key (w, w->tech_pub);
  w->other_tech = new_key (w, NULL);
  w->chain[0] = fake_cert (520, 1);
  w->chain[1] = fake_cert (480, 2);
  w->config = first_config ();
  iov.base = "profile device form";
  iov.len = 19;
  g_assert_cmpint (w->port->sha256 (w->port->ctx, &iov, 1, w->profile_digest), ==, SP_OK);

  w->dev.flash.size = TEST_SECTOR * TEST_SECTORS;
  w->dev.flash.mem = g_malloc (w->dev.flash.size);
  memset (w->dev.flash.mem, 0x5A, w->dev.flash.size);  /* not erased */
  w->dev.flash.cut_at = -1;
  w->dev.has_clock = has_clock;
  w->dev.now = TEST_NOW;
  w->dev.mono_ms = 1000;
  w->dev.health_ok = TRUE;
  w->dev.bulk = TRUE;
  w->dev.points = g_ptr_array_new_with_free_func (g_free);
  w->dev.platform.crypto = w->port;
  w->dev.platform.flash.size = (uint32_t) w->dev.flash.size;
  w->dev.platform.flash.sector_size = TEST_SECTOR;
  w->dev.platform.flash.read = mem_read;
  w->dev.platform.flash.write = mem_write;
  w->dev.platform.flash.erase = mem_erase;
  w->dev.platform.flash.sha256 = mem_sha256;
  w->dev.platform.clock_now = dev_clock;
  w->dev.platform.monotonic_ms = dev_mono;
  w->dev.platform.health_check = dev_health;
  w->dev.platform.fault_point = dev_point;
  w->dev.platform.ctx = &w->dev;

  memset (&id, 0, sizeof id);
  id.serial = TEST_SERIAL;
  id.model = TEST_MODEL;
  id.firmware = TEST_FIRMWARE;
  memcpy (id.identity_d, w->identity_d, 32);
  memcpy (id.kem_d, w->kem_d, 32);
  for (int i = 0; i < 2; i++)
    id.chain[i] = g_bytes_get_data (w->chain[i], &id.chain_len[i]);
  id.n_chain = 2;
  memcpy (id.authorities[0].kid, TEST_AUTH_KID, strlen (TEST_AUTH_KID));
  id.authorities[0].kid_len = strlen (TEST_AUTH_KID);
  memcpy (id.authorities[0].pub, w->authority_pub, 65);
  id.n_authorities = 1;
  id.config = g_bytes_get_data (w->config, &id.config_len);
  id.config_version = 1;
  id.clock_floor = TEST_FLOOR;
  g_assert_cmpint (sa_provision (&w->dev.platform, &w->schema, &id), ==, SP_OK);

  w->agent = g_new0 (sa_agent, 1);
  g_assert_cmpint (sa_agent_boot (w->agent, &w->dev.platform, &w->schema), ==, SP_OK);
  w->next_id = 1;
}

void
world_clear (World *w)
{
  sa_agent_close (w->agent);
  g_free (w->agent);
  w->port->key_free (w->port->ctx, w->authority);
  w->port->key_free (w->port->ctx, w->other_authority);
  w->port->key_free (w->port->ctx, w->tech);
  w->port->key_free (w->port->ctx, w->other_tech);
  g_bytes_unref (w->chain[0]);
  g_bytes_unref (w->chain[1]);
  g_bytes_unref (w->config);
  g_free (w->dev.flash.mem);
  g_ptr_array_unref (w->dev.points);
}

sp_err
world_reboot (World *w)
{
  w->dev.flash.dead = FALSE;
  w->dev.flash.cut_at = -1;
  sa_agent_close (w->agent);
  memset (w->agent, 0, sizeof *w->agent);
  return sa_agent_boot (w->agent, &w->dev.platform, &w->schema);
}

gchar *
world_flash_digest (World *w)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, w->dev.flash.mem,
                                      w->dev.flash.size);
}

void
sha256_of (GBytes *b, guint8 out[32])
{
  gsize len = 32;
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (c, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  g_checksum_get_digest (c, out, &len);
  g_checksum_free (c);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

GBytes *
world_exchange (World *w, const guint8 *req, gsize len)
{
  guint8 resp[SP_MSG_MAX];
  size_t n = sa_agent_handle (w->agent, req, len, resp, sizeof resp);

  g_assert_cmpuint (n, >, 0);
  return g_bytes_new (resp, n);
}

guint64
world_status_of (World *w, const guint8 *req, gsize len)
{
  g_autoptr(GBytes) raw = world_exchange (w, req, len);
  sp_msg_response resp;

  g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (raw, NULL),
                                           g_bytes_get_size (raw), &resp), ==, SP_OK);
  return resp.status;
}

void
world_request (World *w, sp_msg_request *req, sp_msg_response *resp, GBytes **raw)
{
  guint8 buf[SP_MSG_MAX];
  size_t len;

  req->id = w->next_id++;
  g_assert_cmpint (sp_msg_request_encode (req, buf, sizeof buf, &len), ==, SP_OK);
  *raw = world_exchange (w, buf, len);
  g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (*raw, NULL),
                                           g_bytes_get_size (*raw), resp), ==, SP_OK);
  g_assert_cmpuint (resp->id, ==, req->id);
  g_assert_cmpuint (resp->type, ==, req->type | SP_MSG_RESPONSE_BIT);
}

void
world_hello (World *w)
{
  sp_msg_request req = { .type = SP_MSG_HELLO };
  g_autoptr(GBytes) raw = NULL;
  sp_msg_response resp;

  world_request (w, &req, &resp, &raw);
  g_assert_cmpuint (resp.status, ==, SP_MSG_OK);
  g_assert_cmpuint (resp.nonce.len, ==, 32);
  memcpy (w->nonce, resp.nonce.ptr, 32);
  w->seq = 0;
}

void
world_claims (World *w, sp_cwt_claims *c)
{
  memset (c, 0, sizeof *c);
  c->present = SP_CWT_REQUIRED | SP_CWT_AUD | SP_CWT_SCOPE | SP_CWT_ROLE |
               SP_CWT_AUTH_TIME | SP_CWT_AMR;
  c->iss = sp_cwt_text_from ("https://signet.test");
  c->sub = sp_cwt_text_from ("alice");
  c->aud = sp_cwt_text_from (SP_MSG_AUDIENCE);
  c->iat = (int64_t) w->dev.now;
  c->exp = (int64_t) w->dev.now + 900;
  c->auth_time = (int64_t) w->dev.now;
  g_assert_cmpint (w->port->random (w->port->ctx, w->cti, sizeof w->cti), ==, SP_OK);
  c->cti = w->cti;
  c->cti_len = sizeof w->cti;
  memcpy (c->cnf.pub, w->tech_pub, 65);
  c->scope = sp_cwt_text_from (TEST_SCOPE_ALL);
  c->role = sp_cwt_text_from ("technician");
  c->amr[0] = sp_cwt_text_from ("pwd");
  c->amr[1] = sp_cwt_text_from ("otp");
  c->amr_count = 2;
}

GBytes *
world_token (World *w, const sp_cwt_claims *c, sp_key *signer, const char *kid)
{
  guint8 buf[1024];
  size_t len;

  g_assert_cmpint (sp_cwt_sign (w->port, signer != NULL ? signer : w->authority,
                                (const guint8 *) (kid != NULL ? kid : TEST_AUTH_KID),
                                strlen (kid != NULL ? kid : TEST_AUTH_KID), c, buf,
                                sizeof buf, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

guint64
world_authorize (World *w, GBytes *token)
{
  g_autoptr(GBytes) own = NULL, raw = NULL;
  sp_msg_request req = { .type = SP_MSG_AUTHORIZE };
  sp_msg_response resp;

  if (token == NULL)
    {
      sp_cwt_claims c;

      world_claims (w, &c);
      token = own = world_token (w, &c, NULL, NULL);
    }
  req.token.ptr = g_bytes_get_data (token, &req.token.len);
  world_request (w, &req, &resp, &raw);
  return resp.status;
}

void
world_session (World *w)
{
  world_hello (w);
  g_assert_cmpuint (world_authorize (w, NULL), ==, SP_MSG_OK);
}

GBytes *
world_command_full (World *w, const sp_msg_command *cmd, const guint8 *kid, gsize kid_len,
                    sp_key *key)
{
  guint8 payload[SP_MSG_MAX], out[SP_MSG_MAX];
  sp_cose_sign1_params params;
  size_t plen, len;

  g_assert_cmpint (sp_msg_command_encode (cmd, payload, sizeof payload, &plen), ==, SP_OK);
  memset (&params, 0, sizeof params);
  params.kid = kid;
  params.kid_len = kid_len;
  params.content_type = SP_MSG_COMMAND_CONTENT_TYPE;
  g_assert_cmpint (sp_cose_sign1_sign (w->port, key != NULL ? key : w->tech, &params,
                                       payload, plen, out, sizeof out, &len), ==, SP_OK);
  return g_bytes_new (out, len);
}

GBytes *
world_command (World *w, guint64 op, GBytes *args, guint64 seq)
{
  sp_msg_command cmd;

  memset (&cmd, 0, sizeof cmd);
  cmd.serial = sp_msg_text_from (TEST_SERIAL);
  cmd.nonce.ptr = w->nonce;
  cmd.nonce.len = 32;
  cmd.seq = seq != 0 ? seq : ++w->seq;
  cmd.op = op;
  cmd.args.ptr = g_bytes_get_data (args, &cmd.args.len);
  cmd.cti.ptr = w->cti;
  cmd.cti.len = sizeof w->cti;
  return world_command_full (w, &cmd, w->cti, sizeof w->cti, NULL);
}

GBytes *
world_command_request (World *w, sp_msg_type type, GBytes *command, GBytes *sealed)
{
  static const guint8 empty[] = { 0x80 };
  sp_msg_request req;
  guint8 buf[SP_MSG_MAX];
  size_t len;

  memset (&req, 0, sizeof req);
  req.type = type;
  req.id = w->next_id++;
  req.command.ptr = g_bytes_get_data (command, &req.command.len);
  if (type == SP_MSG_APPLY)
    {
      if (sealed != NULL)
        req.sealed.ptr = g_bytes_get_data (sealed, &req.sealed.len);
      else
        {
          req.sealed.ptr = empty;
          req.sealed.len = 1;
        }
    }
  g_assert_cmpint (sp_msg_request_encode (&req, buf, sizeof buf, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}

/* ------------------------------------------------------------------ */
/* Changes                                                             */
/* ------------------------------------------------------------------ */

static gint
kv_compare (gconstpointer a, gconstpointer b)
{
  const sp_msg_kv *x = a, *y = b;

  return sp_msg_key_compare (x->key.ptr, x->key.len, y->key.ptr, y->key.len);
}

static gint
digest_compare (gconstpointer a, gconstpointer b)
{
  const sp_msg_digest_entry *x = a, *y = b;

  return sp_msg_key_compare (x->key.ptr, x->key.len, y->key.ptr, y->key.len);
}

void
world_change_encode (World *w, const Change *c, GBytes **args, GBytes **sealed)
{
  const char *profile = c->profile != NULL ? c->profile : TEST_PROFILE;
  sp_msg_kv values[16];
  sp_msg_digest_entry digests[8];
  sp_msg_sealed entries[8];
  guint8 enc[8][65], ct[8][512], dig[8][32];
  guint8 vbuf[1024], dbuf[512], abuf[2048], sbuf[SP_MSG_MAX];
  sp_msg_apply_args a;
  size_t vlen, dlen, alen, slen;

  memcpy (values, c->values, c->n_values * sizeof values[0]);
  qsort (values, c->n_values, sizeof values[0], (int (*) (const void *, const void *)) kv_compare);
  for (gsize i = 0; i < c->n_secrets; i++)
    {
      GByteArray *info = g_byte_array_new ();
      gsize plen = strlen (c->secrets[i].value);
      sp_iovec iov[2];

      g_byte_array_append (info, (const guint8 *) "signet-seal-v1", 14);
      g_byte_array_append (info, (const guint8 *) "", 1);
      g_byte_array_append (info, (const guint8 *) TEST_SERIAL, strlen (TEST_SERIAL));
      g_byte_array_append (info, (const guint8 *) "", 1);
      g_byte_array_append (info, (const guint8 *) profile, strlen (profile));
      g_byte_array_append (info, (const guint8 *) "", 1);
      g_byte_array_append (info, (const guint8 *) c->secrets[i].key,
                           strlen (c->secrets[i].key));
      g_assert_cmpuint (plen + 16, <=, sizeof ct[i]);
      g_assert_cmpint (sp_hpke_seal_base (w->port, w->kem_pub, info->data, info->len,
                                          w->profile_digest, 32,
                                          (const guint8 *) c->secrets[i].value, plen,
                                          enc[i], ct[i]), ==, SP_OK);
      g_byte_array_unref (info);
      iov[0].base = enc[i];
      iov[0].len = 65;
      iov[1].base = ct[i];
      iov[1].len = plen + 16;
      g_assert_cmpint (w->port->sha256 (w->port->ctx, iov, 2, dig[i]), ==, SP_OK);
      entries[i].key = sp_msg_text_from (c->secrets[i].key);
      entries[i].enc.ptr = enc[i];
      entries[i].enc.len = 65;
      entries[i].ct.ptr = ct[i];
      entries[i].ct.len = plen + 16;
      digests[i].key = entries[i].key;
      digests[i].digest = dig[i];
    }
  qsort (digests, c->n_secrets, sizeof digests[0],
         (int (*) (const void *, const void *)) digest_compare);
  g_assert_cmpint (sp_msg_values_encode (values, c->n_values, vbuf, sizeof vbuf, &vlen), ==,
                   SP_OK);
  g_assert_cmpint (sp_msg_digests_encode (digests, c->n_secrets, dbuf, sizeof dbuf, &dlen),
                   ==, SP_OK);
  memset (&a, 0, sizeof a);
  a.config_version = c->version;
  a.values.ptr = vbuf;
  a.values.len = vlen;
  a.digests.ptr = dbuf;
  a.digests.len = dlen;
  a.profile = sp_msg_text_from (profile);
  a.profile_digest.ptr = w->profile_digest;
  a.profile_digest.len = 32;
  if (c->firmware_digest != NULL)
    {
      a.firmware_digest.ptr = c->firmware_digest;
      a.firmware_digest.len = 32;
    }
  g_assert_cmpint (sp_msg_apply_args_encode (&a, abuf, sizeof abuf, &alen), ==, SP_OK);
  g_assert_cmpint (sp_msg_sealed_encode (entries, c->n_secrets, sbuf, sizeof sbuf, &slen), ==,
                   SP_OK);
  *args = g_bytes_new (abuf, alen);
  *sealed = g_bytes_new (sbuf, slen);
}

static guint64
send_command (World *w, sp_msg_type type, guint64 op, GBytes *args, GBytes *sealed,
              sp_msg_response *resp, GBytes **raw)
{
  g_autoptr(GBytes) cmd = world_command (w, op, args, 0);
  g_autoptr(GBytes) req = world_command_request (w, type, cmd, sealed);

  *raw = world_exchange (w, g_bytes_get_data (req, NULL), g_bytes_get_size (req));
  g_assert_cmpint (sp_msg_response_decode (g_bytes_get_data (*raw, NULL),
                                           g_bytes_get_size (*raw), resp), ==, SP_OK);
  g_assert_cmpuint (resp->type, ==, type | SP_MSG_RESPONSE_BIT);
  return resp->status;
}

guint64
world_apply (World *w, const Change *c, sp_msg_response *resp, GBytes **raw)
{
  g_autoptr(GBytes) args = NULL, sealed = NULL;

  world_change_encode (w, c, &args, &sealed);
  return send_command (w, SP_MSG_APPLY, SP_MSG_OP_APPLY, args, sealed, resp, raw);
}

guint64
world_commit (World *w, guint64 version, sp_msg_response *resp, GBytes **raw)
{
  guint8 buf[16];
  size_t len;
  g_autoptr(GBytes) args = NULL;

  g_assert_cmpint (sp_msg_commit_args_encode (version, buf, sizeof buf, &len), ==, SP_OK);
  args = g_bytes_new (buf, len);
  return send_command (w, SP_MSG_COMMIT, SP_MSG_OP_COMMIT, args, NULL, resp, raw);
}

guint64
world_rollback (World *w, sp_msg_response *resp, GBytes **raw)
{
  static const guint8 empty[] = { 0xA0 };
  g_autoptr(GBytes) args = g_bytes_new_static (empty, 1);

  return send_command (w, SP_MSG_ROLLBACK, SP_MSG_OP_ROLLBACK, args, NULL, resp, raw);
}

/* ------------------------------------------------------------------ */
/* Expected configurations                                             */
/* ------------------------------------------------------------------ */

GBytes *
world_config_with (World *w, GBytes *base, const Change *c)
{
  g_autoptr(GHashTable) map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                     (GDestroyNotify) g_bytes_unref);
  guint8 buf[SP_MSG_MAX];
  sp_cbor_writer wr;
  sp_msg_cursor cur;
  sp_msg_value k, v;
  size_t len, n = 0;

  g_assert_cmpint (sp_msg_cursor_init (&cur, g_bytes_get_data (base, NULL),
                                       g_bytes_get_size (base), SP_CBOR_MAP), ==, SP_OK);
  while (sp_msg_cursor_next_pair (&cur, &k, &v))
    g_hash_table_insert (map, g_strndup ((const char *) k.ptr, k.u),
                         g_bytes_new (v.raw, v.raw_len));
  for (gsize i = 0; c != NULL && i < c->n_values; i++)
    {
      sp_cbor_writer vw;

      sp_cbor_writer_init (&vw, buf, sizeof buf);
      if (c->values[i].type == SP_CBOR_TEXT)
        sp_cbor_put_text (&vw, c->values[i].text.ptr, c->values[i].text.len);
      else if (c->values[i].type == SP_CBOR_BOOL)
        sp_cbor_put_bool (&vw, c->values[i].b);
      else
        sp_cbor_put_int (&vw, c->values[i].i);
      g_assert_cmpint (sp_cbor_writer_finish (&vw, &len), ==, SP_OK);
      g_hash_table_insert (map, g_strndup (c->values[i].key.ptr, c->values[i].key.len),
                           g_bytes_new (buf, len));
    }
  for (gsize i = 0; c != NULL && i < c->n_secrets; i++)
    {
      sp_cbor_writer vw;

      sp_cbor_writer_init (&vw, buf, sizeof buf);
      sp_cbor_put_textz (&vw, c->secrets[i].value);
      g_assert_cmpint (sp_cbor_writer_finish (&vw, &len), ==, SP_OK);
      g_hash_table_insert (map, g_strdup (c->secrets[i].key), g_bytes_new (buf, len));
    }

  sp_cbor_writer_init (&wr, buf, sizeof buf);
  sp_cbor_put_map (&wr, g_hash_table_size (map));
  for (gsize i = 0; i < w->schema.n_fields; i++)
    {
      GBytes *val = g_hash_table_lookup (map, w->schema.fields[i].key);

      if (val == NULL)
        continue;
      sp_cbor_put_textz (&wr, w->schema.fields[i].key);
      sp_cbor_put_raw (&wr, g_bytes_get_data (val, NULL), g_bytes_get_size (val));
      n++;
    }
  g_assert_cmpuint (n, ==, g_hash_table_size (map));
  g_assert_cmpint (sp_cbor_writer_finish (&wr, &len), ==, SP_OK);
  return g_bytes_new (buf, len);
}
