/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-eventlog-private.h: what the writer, the verifier and the reader
 * of the event log share inside libsignet: the record decoder and the key
 * schedule. One decoder for all three, so that what the writer produces,
 * what the reader shows and what the verifier accepts cannot drift apart.
 */
#pragma once

#include <openssl/evp.h>

#include "signet-eventlog.h"
#include "sp-cbor.h"

G_BEGIN_DECLS

/* Items of one record: generous for 64 KiB (a record of small integers
 * could need more, and is refused as too many items). */
#define _SIGNET_EVENT_LOG_MAX_ITEMS 4096
#define _SIGNET_EVENT_LOG_MAX_NAME 256
#define _SIGNET_EVENT_LOG_MAX_TYPE 64

#define _SIGNET_EVENT_LOG_SEAL_LABEL "signet-log-seal-v1"
#define _SIGNET_EVENT_LOG_KEY_LABEL "signet-log-key-v1"

extern const sp_cbor_limits _signet_event_log_limits;

/* A decoded record: views into the log's bytes (strings are NOT
 * NUL-terminated). */
typedef struct {
  guint64 seq;
  guint64 time_ms;
  const char *type;
  gsize type_len;
  const char *actor;
  gsize actor_len;
  const char *device;   /* NULL for null */
  gsize device_len;
  size_t data_idx;      /* the data map's item index in the doc */
  const guint8 *data;   /* its encoding */
  gsize data_len;
  const guint8 *prev_hash;
  const guint8 *raw;
  gsize raw_len;
} _SignetRecordView;

typedef enum {
  _SIGNET_SCAN_COMPLETE,   /* *out_len: the item's length */
  _SIGNET_SCAN_NEED_MORE,  /* a prefix of an item that may still fit */
  _SIGNET_SCAN_TOO_LARGE,  /* cannot fit in SIGNET_EVENT_LOG_MAX_RECORD */
  _SIGNET_SCAN_INVALID,    /* a head no record can have; *out_len: up to and
                            * including it */
} _SignetScan;

/* Where the CBOR item at p ends, reading heads only: finds a record's
 * boundary in a CBOR sequence; the strict decoder then checks it. */
_SignetScan _signet_event_log_scan (const guint8 *p,
                                    gsize         avail,
                                    gsize        *out_len);

/* Why the record at p, whose scan found a bad head at p[prefix_len - 1],
 * is not CBOR. Returns: (transfer full) */
char *_signet_event_log_invalid_detail (const guint8 *p,
                                        gsize         prefix_len);

/* Decode p[0..len) as one record and check its shape. items holds
 * _SIGNET_EVENT_LOG_MAX_ITEMS. On failure returns the reason (a MALFORMED
 * one) and a sentence in *detail (transfer full). */
SignetEventLogReason _signet_event_log_parse (const guint8       *p,
                                              gsize               len,
                                              sp_cbor_item       *items,
                                              sp_cbor_doc        *doc,
                                              _SignetRecordView  *view,
                                              char              **detail);

/* The fast path: decode the record at the start of p[0..avail) in one
 * pass (no separate scan for its end) and check its shape. TRUE, with
 * *out_len, exactly when scan would find a whole record of *out_len bytes
 * and parse accept it, with the same doc and view; FALSE for anything
 * else, which the caller then sorts out with scan and parse. */
gboolean _signet_event_log_parse_next (const guint8       *p,
                                       gsize               avail,
                                       sp_cbor_item       *items,
                                       sp_cbor_doc        *doc,
                                       _SignetRecordView  *view,
                                       gsize              *out_len);

/* Decode the record at the start of p[0..avail); for the reader. */
gboolean _signet_event_log_read_one (const guint8       *p,
                                     gsize               avail,
                                     sp_cbor_item       *items,
                                     sp_cbor_doc        *doc,
                                     _SignetRecordView  *view,
                                     gsize              *out_len,
                                     GError            **error);

/* The data rules: a map (or, nested, any item) whose maps have text keys
 * only and that holds no tag. */
gboolean _signet_event_log_data_ok (const sp_cbor_doc *doc,
                                    size_t             idx);

/* The type grammar: 1..64 bytes, dot-separated non-empty segments of
 * [a-z0-9_-]. */
gboolean _signet_event_log_type_ok (const char *type,
                                    gsize       len);

/* An HMAC-SHA-256 context to reuse for the two below. Returns: (nullable) */
EVP_MAC_CTX *_signet_event_log_hmac_new (void);

/* K_{epoch} = HKDF-SHA256 (salt = none, ikm = key, info = "signet-log-key-v1"
 * || u64be (epoch), L = 32). ctx may be NULL (one is made here). */
gboolean _signet_event_log_next_key (EVP_MAC_CTX  *ctx,
                                     const guint8  key[SIGNET_EVENT_LOG_KEY_LEN],
                                     guint64       epoch,
                                     guint8        out[SIGNET_EVENT_LOG_KEY_LEN]);

/* HMAC-SHA-256 (key, "signet-log-seal-v1" || u64be (seq) || u64be (epoch)
 * || u64be (time_ms) || head). ctx may be NULL. */
gboolean _signet_event_log_seal_mac (EVP_MAC_CTX  *ctx,
                                     const guint8  key[SIGNET_EVENT_LOG_KEY_LEN],
                                     guint64       seq,
                                     guint64       epoch,
                                     guint64       time_ms,
                                     const guint8  head[SIGNET_EVENT_LOG_HASH_LEN],
                                     guint8        out[SIGNET_EVENT_LOG_HASH_LEN]);

/* JSON of the CBOR item idx of doc (text map keys, bstr as hex). */
void _signet_event_log_item_to_json (const sp_cbor_doc *doc,
                                     size_t             idx,
                                     GString           *out);

G_END_DECLS
