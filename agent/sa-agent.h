/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sa-agent.h: libsignet-agent, the device side of the Signet protocol
 * (docs/protocol.md). Portable C99: no GLib, no heap, fixed buffers whose
 * sizes are the macros below; crypto, flash, clock and randomness come
 * through sa_platform. What a firmware team links into a device.
 *
 * A device calls, from one thread (or with its own lock):
 *
 *     sa_provision ()   once, at the factory: writes identity + first config
 *     sa_agent_boot ()  at every start: reads flash, recovers (a pending
 *                       slot found at boot is rolled back)
 *     sa_link_receive () with the bytes of its serial link (framing, retry
 *                       cache and dispatch), or sa_agent_handle () with
 *                       whole messages (a BLE transport reassembles them)
 *     sa_agent_tick ()  now and then: rolls back a pending slot past its
 *                       commit deadline
 *
 * Ownership: the agent borrows the platform and the schema for its whole
 * life; everything else is copied into its own fixed buffers. No function
 * keeps a pointer into a caller's buffer after it returns. A device
 * declares the agent and the link statically (`static sa_agent agent;
 * static sa_link link;`, zeroed) and never moves them.
 *
 * RAM: struct sa_agent holds one SA_MSG_MAX buffer, which is the answer
 * to the last request (the retry cache of docs/protocol.md) and, while a
 * request is handled, its scratch space (CBOR items, the configuration
 * being staged); struct sa_link holds the receive buffer of one frame.
 * tests/agent/size-report.sh prints both and the stack peaks for
 * Cortex-M4.
 *
 * Limits of this agent beyond the protocol's: each decoding step has the
 * CBOR items buf holds (SA_ITEMS, 64, less what a signed object's view
 * needs beside them): a command carries at most 17 values and sealed
 * digests together on a 32-bit device (15 on a 64-bit host), a revocation
 * list at most 48 entries (44) and SA_REVOCATION_MAX bytes; configurations
 * of at most SA_CONFIG_MAX bytes. Over these a device answers TOO_LARGE.
 *
 * Errors: sa_* functions return sp_err for platform failures (flash,
 * crypto) and for bad arguments; protocol refusals are not errors here --
 * they are responses with a status code of docs/protocol.md (sp_msg_status
 * in sp-msg.h).
 */
#ifndef SA_AGENT_H
#define SA_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sa-schema.h"
#include "sa-store.h"
#include "sp-cose-key.h"
#include "sp-crypto-port.h"
#include "sp-cwt.h"
#include "sp-error.h"
#include "sp-frame.h"
#include "sp-msg.h"

/* ---- the platform --------------------------------------------------------- */

typedef struct sa_platform {
  const sp_crypto_port *crypto;  /* sha256, ecdsa, ecdh, hkdf/hmac, aead, random */
  sa_flash flash;                /* sa-store.h */
  /* Seconds since the epoch from a trusted real-time clock; false if the
   * device has none (then the clock floor stands in). Nullable. */
  bool (*clock_now) (void *ctx, uint64_t *unix_seconds);
  /* Milliseconds from any fixed point, never going back (the commit
   * deadline). */
  uint64_t (*monotonic_ms) (void *ctx);
  /* The device's health check of a staged configuration (nullable: pass). */
  bool (*health_check) (void *ctx, const uint8_t *config_cbor, size_t len);
  /* Test hook (nullable): called at each named point of a change, just
   * before its journal record is written ("apply.before-journal",
   * "commit.before-journal", "rollback.before-journal",
   * "tick.before-journal", "hello.before-journal", "boot.before-journal",
   * "authorize.before-journal", "revocation.before-journal",
   * "bulk.before-journal") and after a staged slot is written
   * ("apply.staged"); the simulator may exit there to simulate a power
   * loss. */
  void (*fault_point) (void *ctx, const char *point);
  void *ctx;
} sa_platform;

/* ---- provisioning --------------------------------------------------------- */

#define SA_SERIAL_MAX 64
#define SA_CHAIN_MAX 3               /* certificates, leaf first, root left out */
#define SA_CERT_MAX 640              /* bytes of one DER certificate */
#define SA_AUTHORITIES_MAX 4         /* trusted service authority keys */

typedef struct sa_authority {
  uint8_t kid[SP_COSE_KID_MAX];
  size_t kid_len;
  uint8_t pub[SP_P256_PUB_LEN];
} sa_authority;

typedef struct sa_identity {
  const char *serial;
  const char *model;                 /* must equal the schema's */
  const char *firmware;
  uint8_t identity_d[SP_P256_SCALAR_LEN];  /* private scalars: a real device keeps */
  uint8_t kem_d[SP_P256_SCALAR_LEN];       /* them in a secure element */
  const uint8_t *chain[SA_CHAIN_MAX];
  size_t chain_len[SA_CHAIN_MAX];
  size_t n_chain;
  sa_authority authorities[SA_AUTHORITIES_MAX];
  size_t n_authorities;
  const uint8_t *config;             /* first configuration: deterministic CBOR map */
  size_t config_len;
  uint64_t config_version;
  uint64_t clock_floor;              /* seconds since the epoch */
} sa_identity;

/* Erase the flash and write identity and first configuration. Checks
 * everything first (SP_ERR_VALUE: serial, model or firmware not 1..64
 * bytes of UTF-8, model not the schema's, 0 or too many certificates or
 * authorities, a certificate over SA_CERT_MAX, a chain that with the
 * largest evidence would not fit one ATTEST answer, a configuration the
 * schema refuses or over SA_CONFIG_MAX; SP_ERR_KEY: a scalar the port
 * refuses). Runs once at the factory: its stack holds 130 CBOR items
 * (4 KiB) to check the configuration. */
sp_err sa_provision (const sa_platform *platform, const sa_schema *schema,
                     const sa_identity *identity);

/* ---- the agent ------------------------------------------------------------ */

#define SA_MSG_MAX SP_MSG_MAX
#define SA_ITEMS (SA_MSG_MAX / sizeof (sp_cbor_item))

/* The session: set by HELLO, bound to a token by AUTHORIZE. */
typedef struct sa_session {
  uint64_t seq;                      /* the last accepted command's */
  uint64_t exp;                      /* the token's */
  uint64_t auth_time;
  uint8_t nonce[SP_MSG_NONCE_LEN];
  uint8_t cnf[SP_P256_PUB_LEN];      /* the token's PoP key */
  uint8_t cti[SP_CWT_CTI_MAX];
  uint8_t cti_len;
  uint8_t scope;                     /* SA_SCOPE_* bits */
  uint8_t sub_len;                   /* the token's sub: its length and */
  uint32_t sub_crc;                  /* CRC-32 (a list naming it ends the token) */
  bool active;
  bool authorized;
  bool revoked;                      /* a list accepted since named the token */
  bool has_auth_time;
} sa_session;

typedef struct sa_agent {
  const sa_platform *platform;
  const sa_schema *schema;
  sp_key *identity_key;
  sp_key *kem_key;
  sa_store store;
  sa_session session;
  uint64_t deadline_ms;              /* commit deadline of the pending slot */
  uint32_t bulk_next;                /* next offset of the transfer */
  uint32_t frames_dropped;
  uint32_t resp_len;                 /* of the answer in buf */
  uint32_t magic;
  uint8_t config_digest[SP_SHA256_LEN];
  uint8_t cache_digest[SP_SHA256_LEN]; /* SHA-256 of the request answered */
  bool cached;
  bool bulk_told;                    /* a quiet BULK_DATA's gap was answered */
  uint16_t l2cap_psm;                /* 0: no L2CAP channel offered (docs/ble.md) */
  /* The last answer, and scratch while a request is handled. */
  union {
    uint8_t bytes[SA_MSG_MAX];
    sp_cbor_item items[SA_ITEMS];
  } buf;
} sa_agent;

/* Read the flash, recover from any interrupted change (a pending slot is
 * rolled back), load identity. agent must be zeroed (static storage) or
 * closed. SP_ERR_MISSING on a device that was never provisioned;
 * SP_ERR_VALUE when the identity or the current configuration fails its
 * CRC or the model is not the schema's; SP_ERR_INVALID_ARG for a schema
 * or flash the agent cannot use. */
sp_err sa_agent_boot (sa_agent *agent, const sa_platform *platform,
                      const sa_schema *schema);

/* Free the key handles and wipe the agent (before a reboot in the same
 * process, or at shutdown). Safe on a zeroed agent. */
void sa_agent_close (sa_agent *agent);

/* Handle one whole request message; write the whole response message to
 * resp[0..cap) and return its length (0: nothing to send, also when cap
 * is too small for the answer). */
size_t sa_agent_handle (sa_agent *agent, const uint8_t *req, size_t len,
                        uint8_t *resp, size_t cap);

/* The same without a copy: *resp points at the answer inside the agent,
 * valid until the next call on it. */
size_t sa_agent_dispatch (sa_agent *agent, const uint8_t *req, size_t len,
                          const uint8_t **resp);

/* A BLE transport that listens on an LE L2CAP connection-oriented channel
 * says so (after sa_agent_boot): HELLO then has capability
 * SP_MSG_CAP_L2CAP and the PSM under SP_MSG_HELLO_PSM (docs/ble.md). 0
 * withdraws it. */
void sa_agent_set_l2cap_psm (sa_agent *agent, uint16_t psm);

/* Roll back a pending configuration whose commit deadline has passed. */
void sa_agent_tick (sa_agent *agent);

/* A transport dropped frames (READ's frames_dropped). */
void sa_agent_note_dropped (sa_agent *agent, uint32_t frames);

/* What the device runs now (for the simulator's status output and tests). */
typedef struct sa_status {
  uint64_t committed_version;
  uint64_t pending_version;          /* 0: none */
  uint64_t clock_floor;
  uint64_t revocation_version;
  uint32_t boots;
  uint32_t deadline_rollbacks;
  uint8_t config_digest[32];         /* SHA-256 of the committed configuration */
} sa_status;

void sa_agent_get_status (const sa_agent *agent, sa_status *out);

/* ---- the serial link (USB CDC-ACM) ---------------------------------------- */

/* Writes bytes to the link; returns false on failure. */
typedef bool (*sa_write_fn) (void *ctx, const uint8_t *data, size_t len);

typedef struct sa_link {
  sa_agent *agent;
  sa_write_fn write;
  void *write_ctx;
  sp_deframer deframer;              /* its stats: frames dropped, by reason */
  uint32_t dropped_seen;
  uint8_t rx[SP_DEFRAMER_BUF_SIZE (SA_MSG_MAX)];
} sa_link;

void sa_link_init (sa_link *link, sa_agent *agent, sa_write_fn write, void *write_ctx);

/* Feed bytes as received; complete frames are handled and answered
 * through write (COBS-encoded a block at a time: the link never holds a
 * whole encoded frame). Bad frames are dropped and counted. */
void sa_link_receive (sa_link *link, const uint8_t *data, size_t len);

#endif /* SA_AGENT_H */
