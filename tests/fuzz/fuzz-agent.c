/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-agent.c: libsignet-agent fed arbitrary bytes, as whole messages
 * (sa_agent_handle, a BLE transport's way) and as a serial byte stream
 * (sa_link_receive), on an in-memory NOR flash, behind stand-in crypto
 * (every signature verifies, an AEAD tag of zeros authenticates) so that
 * inputs reach the checks behind the signatures.
 *
 * Each input starts from the same provisioned device, booted, with a
 * session (the nonce the stand-in random source gives) bound to a token
 * whose cti is FUZZ_CTI: a fuzzer-made command with that nonce, cti and
 * serial gets past the command checks. The input is a sequence of
 * records: one control byte (bit 0: through the link; bit 1: the clock
 * jumps past the commit deadline and the agent ticks), a 16-bit length,
 * and that many bytes.
 *
 * Oracles: every answer is a response sp_msg_response_decode () takes,
 * with the request's id when it had a readable one (or the very bytes of
 * the answer before: the stand-in hash is an XOR fold, so the retry cache
 * takes many requests for the one it answered last); every frame the link
 * writes is what sp_frame_encode () would write for it, in writes of at
 * most one COBS block; the device still boots afterwards, and runs a
 * committed configuration its schema accepts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-port.h"
#include "sa-agent.h"
#include "sp-cwt.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define SECTOR 4096
#define FLASH_SIZE (16 * SECTOR)
#define FUZZ_SERIAL "SN-FUZZ"

static const uint8_t FUZZ_CTI[16] = "fuzz-token-cti-1";

static uint8_t flash[FLASH_SIZE];
static uint8_t golden[FLASH_SIZE];
static uint64_t mono_ms;
static uint8_t rnd;
static sa_agent agent;
static sa_link link;
static sp_crypto_port port;
static sa_platform platform;
static uint8_t frame_rx[SP_DEFRAMER_BUF_MAX];
static sp_deframer out_deframer;
static sa_session golden_session;
static uint8_t last_answer[SP_MSG_MAX];
static size_t last_len;
static int ready;

static void
remember (const uint8_t *answer, size_t len)
{
  memcpy (last_answer, answer, len);
  last_len = len;
}

static void
check (int ok)
{
  if (!ok)
    abort ();
}

/* ---- the stand-in platform ---------------------------------------------- */

static sp_err
f_read (void *ctx, uint32_t off, uint8_t *buf, size_t len)
{
  if (off > FLASH_SIZE || len > FLASH_SIZE - off)
    return SP_ERR_INVALID_ARG;
  memcpy (buf, flash + off, len);
  return SP_OK;
}

static sp_err
f_write (void *ctx, uint32_t off, const uint8_t *buf, size_t len)
{
  size_t i;

  if (off > FLASH_SIZE || len > FLASH_SIZE - off)
    return SP_ERR_INVALID_ARG;
  for (i = 0; i < len; i++)
    flash[off + i] &= buf[i];
  return SP_OK;
}

static sp_err
f_erase (void *ctx, uint32_t off)
{
  if (off >= FLASH_SIZE || off % SECTOR != 0)
    return SP_ERR_INVALID_ARG;
  memset (flash + off, 0xFF, SECTOR);
  return SP_OK;
}

static sp_err
f_sha256 (void *ctx, uint32_t off, uint32_t len, uint8_t out[SP_SHA256_LEN])
{
  sp_iovec iov;

  if (off > FLASH_SIZE || len > FLASH_SIZE - off)
    return SP_ERR_INVALID_ARG;
  iov.base = flash + off;
  iov.len = len;
  return port.sha256 (NULL, &iov, 1, out);
}

static bool
clock_now (void *ctx, uint64_t *now)
{
  *now = 1750000000;
  return true;
}

static uint64_t
monotonic (void *ctx)
{
  return mono_ms;
}

/* Keys are handles to a static byte: the port never looks inside. */
static uint8_t the_key;

static sp_err
c_sign (void *ctx, const sp_key *key, const uint8_t d[SP_SHA256_LEN],
        uint8_t sig[SP_P256_SIG_LEN])
{
  memset (sig, d[0], SP_P256_SIG_LEN);
  return SP_OK;
}

static sp_err
c_import (void *ctx, const uint8_t d[SP_P256_SCALAR_LEN], sp_key **out)
{
  *out = (sp_key *) (void *) &the_key;
  return SP_OK;
}

static sp_err
c_public (void *ctx, const sp_key *key, uint8_t pub[SP_P256_PUB_LEN])
{
  memset (pub, 0x11, SP_P256_PUB_LEN);
  pub[0] = 0x04;
  return SP_OK;
}

static void
c_free (void *ctx, sp_key *key)
{
  check (key == (sp_key *) (void *) &the_key);
}

static sp_err
c_ecdh (void *ctx, const sp_key *priv, const uint8_t peer[SP_P256_PUB_LEN],
        uint8_t shared[SP_ECDH_P256_LEN])
{
  memcpy (shared, peer + 1, SP_ECDH_P256_LEN);
  return peer[0] == 0x04 ? SP_OK : SP_ERR_KEY;
}

static sp_err
c_hmac (void *ctx, const uint8_t *key, size_t key_len, const sp_iovec *iov, size_t n,
        uint8_t out[SP_SHA256_LEN])
{
  return port.sha256 (NULL, iov, n, out);
}

static sp_err
c_open (void *ctx, sp_aead_alg alg, const uint8_t *key,
        const uint8_t nonce[SP_AEAD_NONCE_LEN], const uint8_t *aad, size_t aad_len,
        const uint8_t *ct, size_t ct_len, uint8_t *pt)
{
  size_t i;

  for (i = ct_len - SP_AEAD_TAG_LEN; i < ct_len; i++)
    if (ct[i] != 0)
      return SP_ERR_AUTH;
  memmove (pt, ct, ct_len - SP_AEAD_TAG_LEN);
  return SP_OK;
}

static sp_err
c_random (void *ctx, uint8_t *out, size_t len)
{
  memset (out, rnd, len);
  return SP_OK;
}

/* ---- a device ------------------------------------------------------------- */

static const char *const levels[] = { "debug", "info", "warn" };
static const sa_field fields[] = {
  { "wifi.psk", SA_TYPE_STRING, 8, 63, NULL, 0, true, SA_CLASS_CREDENTIAL, true },
  { "log.level", SA_TYPE_ENUM, 0, 0, levels, 3, false, SA_CLASS_CONFIG, false },
  { "wifi.ssid", SA_TYPE_STRING, 1, 32, NULL, 0, false, SA_CLASS_CONFIG, false },
  { "wifi.channel", SA_TYPE_INT, 1, 13, NULL, 0, false, SA_CLASS_CONFIG, false },
  { "telemetry.enabled", SA_TYPE_BOOL, 0, 0, NULL, 0, false, SA_CLASS_CONFIG, false },
};
static const sa_schema schema = { "fuzz-model", fields, 5 };

/* {"log.level": "info", "wifi.ssid": "factory", "wifi.channel": 6} */
static const uint8_t first_config[] = {
  0xA3, 0x69, 'l', 'o', 'g', '.', 'l', 'e', 'v', 'e', 'l', 0x64, 'i', 'n', 'f', 'o',
  0x69, 'w', 'i', 'f', 'i', '.', 's', 's', 'i', 'd', 0x67, 'f', 'a', 'c', 't', 'o',
  'r', 'y', 0x6C, 'w', 'i', 'f', 'i', '.', 'c', 'h', 'a', 'n', 'n', 'e', 'l', 0x06,
};

static bool
link_write (void *ctx, const uint8_t *data, size_t len)
{
  const uint8_t *payload;
  size_t plen;

  check (len >= 1 && len <= 256);
  while (len > 0)
    {
      size_t n = sp_deframer_push (&out_deframer, data, len, &payload, &plen);
      sp_msg_response r;

      data += n;
      len -= n;
      if (payload != NULL)
        {
          check (sp_msg_response_decode (payload, plen, &r) == SP_OK);
          remember (payload, plen);
        }
    }
  return true;
}

static void
exchange (const uint8_t *req, size_t len)
{
  static uint8_t resp[SP_MSG_MAX];
  sp_cbor_item items[SP_MSG_DEVICE_ITEMS];
  sp_msg_request r;
  sp_msg_response a;
  size_t n = sa_agent_handle (&agent, req, len, resp, sizeof resp);
  sp_err err = len <= SP_MSG_MAX ? sp_msg_request_decode (req, len, items, SP_MSG_DEVICE_ITEMS, &r)
                                 : SP_ERR_CBOR_TOO_LARGE;

  /* No answer only to a quiet BULK_DATA it took or dropped. */
  if (n == 0)
    {
      check (err == SP_OK && r.type == SP_MSG_BULK_DATA && r.quiet);
      remember (resp, 0);
      return;
    }
  check (sp_msg_response_decode (resp, n, &a) == SP_OK);
  if (err != SP_ERR_CBOR_TOO_LARGE && r.envelope_ok)
    check (a.id == r.id || (n == last_len && memcmp (resp, last_answer, n) == 0));
  remember (resp, n);
}

static void
setup (void)
{
  sa_identity id;
  sp_cwt_claims c;
  uint8_t buf[1024];
  sp_msg_request req;
  size_t len;

  port = fuzz_accept_port;
  port.ecdsa_p256_sign = c_sign;
  port.p256_import_private = c_import;
  port.p256_public = c_public;
  port.key_free = c_free;
  port.ecdh_p256 = c_ecdh;
  port.hmac_sha256 = c_hmac;
  port.aead_open = c_open;
  port.random = c_random;

  platform.crypto = &port;
  platform.flash.size = FLASH_SIZE;
  platform.flash.sector_size = SECTOR;
  platform.flash.read = f_read;
  platform.flash.write = f_write;
  platform.flash.erase = f_erase;
  platform.flash.sha256 = f_sha256;
  platform.clock_now = clock_now;
  platform.monotonic_ms = monotonic;

  memset (&id, 0, sizeof id);
  id.serial = FUZZ_SERIAL;
  id.model = "fuzz-model";
  id.firmware = "1.0";
  memset (id.identity_d, 1, 32);
  memset (id.kem_d, 2, 32);
  id.chain[0] = (const uint8_t *) "certificate";
  id.chain_len[0] = 11;
  id.n_chain = 1;
  memcpy (id.authorities[0].kid, "auth", 4);
  id.authorities[0].kid_len = 4;
  memset (id.authorities[0].pub, 0x11, SP_P256_PUB_LEN);
  id.authorities[0].pub[0] = 0x04;
  id.n_authorities = 1;
  id.config = first_config;
  id.config_len = sizeof first_config;
  id.config_version = 1;
  id.clock_floor = 1700000000;
  memset (flash, 0xFF, sizeof flash);
  check (sa_provision (&platform, &schema, &id) == SP_OK);
  check (sa_agent_boot (&agent, &platform, &schema) == SP_OK);

  /* A session and its token, then the flash as every input starts. */
  rnd = 0x5A;
  memset (&req, 0, sizeof req);
  req.type = SP_MSG_HELLO;
  req.id = 1;
  check (sp_msg_request_encode (&req, buf, sizeof buf, &len) == SP_OK);
  exchange (buf, len);

  memset (&c, 0, sizeof c);
  c.present = SP_CWT_REQUIRED | SP_CWT_AUD | SP_CWT_SCOPE | SP_CWT_AUTH_TIME;
  c.iss = sp_cwt_text_from ("fuzz");
  c.sub = sp_cwt_text_from ("fuzzer");
  c.aud = sp_cwt_text_from (SP_MSG_AUDIENCE);
  c.exp = 1750000900;
  c.iat = 1750000000;
  c.auth_time = 1750000000;
  c.cti = FUZZ_CTI;
  c.cti_len = sizeof FUZZ_CTI;
  memset (c.cnf.pub, 0x22, SP_P256_PUB_LEN);
  c.cnf.pub[0] = 0x04;
  c.scope = sp_cwt_text_from ("device.read config.write credential.rotate firmware.update");
  {
    uint8_t token[600], rq[800];

    check (sp_cwt_sign (&port, (const sp_key *) (void *) &the_key,
                        (const uint8_t *) "auth", 4, &c, token, sizeof token, &len) == SP_OK);
    memset (&req, 0, sizeof req);
    req.type = SP_MSG_AUTHORIZE;
    req.id = 2;
    req.token.ptr = token;
    req.token.len = len;
    check (sp_msg_request_encode (&req, rq, sizeof rq, &len) == SP_OK);
    exchange (rq, len);
  }
  check (agent.session.authorized);
  golden_session = agent.session;
  memcpy (golden, flash, sizeof flash);
  ready = 1;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  sa_status st;
  uint8_t *config;

  if (!ready)
    setup ();

  /* The same device, flash and session for every input. */
  memcpy (flash, golden, sizeof flash);
  check (sa_agent_boot (&agent, &platform, &schema) == SP_OK);
  agent.session = golden_session;
  mono_ms = 1000;
  last_len = 0;
  sa_link_init (&link, &agent, link_write, NULL);
  sp_deframer_init (&out_deframer, frame_rx, sizeof frame_rx);

  while (size >= 3)
    {
      uint8_t ctl = data[0];
      size_t len = (size_t) data[1] | (size_t) data[2] << 8;

      data += 3;
      size -= 3;
      if (len > size)
        len = size;
      if (ctl & 1)
        sa_link_receive (&link, data, len);
      else
        exchange (data, len);
      if (ctl & 2)
        {
          mono_ms += (uint64_t) SP_MSG_COMMIT_DEADLINE * 1000u + 1;
          sa_agent_tick (&agent);
        }
      data += len;
      size -= len;
    }
  if (size > 0)
    sa_link_receive (&link, data, size);
  check (out_deframer.stats.crc + out_deframer.stats.cobs + out_deframer.stats.oversize == 0);

  /* Whatever happened, it boots again and runs a configuration its
   * schema takes. */
  check (sa_agent_boot (&agent, &platform, &schema) == SP_OK);
  sa_agent_get_status (&agent, &st);
  check (st.pending_version == 0);
  config = flash + sa_store_slot (&agent.store, agent.store.state.current.slot);
  check (sa_schema_check_config (&schema, config, agent.store.state.current.len,
                                 agent.buf.items, SA_ITEMS) == SP_OK);
  return 0;
}
