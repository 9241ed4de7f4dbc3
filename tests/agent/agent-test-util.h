/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * agent-test-util.h: a device for the agent's tests -- an in-memory NOR
 * flash with fault injection, a controllable clock and health check, the
 * keys of a small PKI, a model schema -- and the tool side of a session
 * (tokens, commands, sealed secrets) built with proto and core's OpenSSL
 * port.
 */
#pragma once

#include <glib.h>

#include "sa-agent.h"
#include "sp-msg.h"

G_BEGIN_DECLS

#define TEST_SECTOR 4096
#define TEST_SECTORS 16
#define TEST_SERIAL "SN-0042"
#define TEST_MODEL "acme-gw1"
#define TEST_FIRMWARE "1.4.2"
#define TEST_NOW G_GUINT64_CONSTANT (1750000000)
#define TEST_FLOOR G_GUINT64_CONSTANT (1700000000)
#define TEST_AUTH_KID "auth-1"
#define TEST_PROFILE "acme-wifi"
#define TEST_SCOPE_ALL "device.read device.attest config.write credential.rotate " \
                       "firmware.update log.upload"

typedef enum {
  TEAR_NONE,        /* the op does nothing, then power is lost */
  TEAR_PREFIX,      /* part of it happens, one byte half, then power is lost */
  TEAR_FAIL,        /* the op fails without effect; power stays on */
} TearMode;

typedef struct {
  guint8 *mem;
  gsize size;
  guint ops;          /* writes and erases so far */
  gint cut_at;        /* the op that tears (-1: none) */
  TearMode mode;
  gboolean dead;      /* power lost: everything fails */
  guint32 seed;
} MemFlash;

typedef struct {
  sa_platform platform;
  MemFlash flash;
  gboolean has_clock;
  guint64 now;
  guint64 mono_ms;
  gboolean health_ok;
  gboolean bulk;       /* offer flash.sha256 */
  GPtrArray *points;   /* fault points seen */
} TestDevice;

typedef struct {
  const sp_crypto_port *port;
  TestDevice dev;
  sa_schema schema;
  sa_agent *agent;
  /* keys */
  guint8 identity_d[32], kem_d[32];
  guint8 identity_pub[65], kem_pub[65];
  sp_key *authority, *other_authority, *tech, *other_tech;
  guint8 authority_pub[65], tech_pub[65];
  GBytes *chain[2];
  GBytes *config;      /* the first configuration */
  /* the session as the tool sees it */
  guint32 next_id;
  guint8 nonce[32];
  guint64 seq;
  guint8 cti[16];
  guint8 profile_digest[32];
} World;

/* Setup: keys, schema, flash; provision and boot. */
void   world_init       (World *w, gboolean has_clock);
void   world_clear      (World *w);
/* Reboot on the flash as it is (power restored). */
sp_err world_reboot     (World *w);

/* SHA-256 of the whole flash, hex. */
gchar *world_flash_digest (World *w);

/* One request (any bytes) and its answer. */
GBytes *world_exchange  (World *w, const guint8 *req, gsize len);
/* Encode req (id set here), exchange, decode the answer (asserting it
 * decodes and echoes the id). *raw keeps the answer's bytes alive. */
void    world_request   (World *w, sp_msg_request *req, sp_msg_response *resp,
                         GBytes **raw);
guint64 world_status_of (World *w, const guint8 *req, gsize len);

/* HELLO (nonce kept); AUTHORIZE with a token (NULL: a default one). */
void    world_hello     (World *w);
guint64 world_authorize (World *w, GBytes *token);
void    world_session   (World *w);  /* both, asserting OK */

/* Claims of a good token for now (the caller may change them). */
void    world_claims    (World *w, sp_cwt_claims *c);
GBytes *world_token     (World *w, const sp_cwt_claims *c, sp_key *signer,
                         const char *kid);

/* A signed command of this session; seq 0 takes the next one. */
GBytes *world_command   (World *w, guint64 op, GBytes *args, guint64 seq);
GBytes *world_command_full (World *w, const sp_msg_command *cmd, const guint8 *kid,
                            gsize kid_len, sp_key *key);
/* Request bytes of a command message (sealed: an encoded array or NULL
 * for an empty one). */
GBytes *world_command_request (World *w, sp_msg_type type, GBytes *command,
                               GBytes *sealed);

/* A change: values, secrets to seal, profile. */
typedef struct {
  guint64 version;
  sp_msg_kv values[16];
  gsize n_values;
  struct {
    const char *key;
    const char *value;
  } secrets[8];
  gsize n_secrets;
  const char *profile;            /* NULL: TEST_PROFILE */
  const guint8 *firmware_digest;
} Change;

/* Args and sealed array of a change (secrets sealed to the device). */
void    world_change_encode (World *w, const Change *c, GBytes **args, GBytes **sealed);
/* Send APPLY of the change; the answer's status. */
guint64 world_apply     (World *w, const Change *c, sp_msg_response *resp, GBytes **raw);
guint64 world_commit    (World *w, guint64 version, sp_msg_response *resp, GBytes **raw);
guint64 world_rollback  (World *w, sp_msg_response *resp, GBytes **raw);

/* The configuration the device should run: the first one with change c
 * over it, as the device encodes it; and its SHA-256. */
GBytes *world_config_with (World *w, GBytes *base, const Change *c);
void    sha256_of       (GBytes *b, guint8 out[32]);

G_END_DECLS
