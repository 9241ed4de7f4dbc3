/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sp-msg.h: the messages of the device protocol (docs/protocol.md): the
 * request/response envelope, the signed command and receipt, the
 * arguments of APPLY, COMMIT and BULK_BEGIN, and sealed entries. Shared by
 * the tool (core/) and the device (agent/): portable C99, no heap.
 *
 * Decoding is strict, as everything on the device link: deterministic
 * CBOR only (sp-cbor.h), every map with exactly the keys its message
 * allows (unknown or duplicate keys are refused), every field of exactly
 * its type and length. Decoded structures are views: every pointer
 * points into the caller's buffer, which must outlive them.
 *
 * RAM. A device decodes with a CBOR item array it provides (items,
 * max_items: SP_CBOR_DEFAULT limits, one sp_cbor_item per data item; 64
 * items decode any request of this spec with up to SP_MSG_SEALED_MAX
 * sealed entries). Nested parts a decoder has validated -- the sealed
 * array, the values and digests maps of APPLY, the keys of READ, the
 * configuration a READ answers -- are handed out as raw CBOR views and
 * walked with sp_msg_cursor, which needs no items at all: so one item
 * array serves each decoding step in turn. Functions that only the tool
 * calls (response and receipt decoding) keep their items on the stack.
 *
 * Errors: the sp_err of sp-cbor.h for CBOR that is not well formed or not
 * deterministic; SP_ERR_TYPE, SP_ERR_MISSING, SP_ERR_UNKNOWN_FIELD for a
 * map of the wrong shape; SP_ERR_VALUE for a value out of range (a wrong
 * length, an id of 2^32 or more, an unknown request type);
 * SP_ERR_CBOR_TOO_LONG for a container or string over a limit below
 * (a BULK_DATA chunk over SP_MSG_BULK_CHUNK_MAX included). What a device
 * answers for each is sp_msg_request_status ().
 */
#ifndef SP_MSG_H
#define SP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sp-cbor.h"
#include "sp-cose.h"
#include "sp-crypto-port.h"
#include "sp-error.h"

/* ---- limits and timings --------------------------------------------------- */

#define SP_MSG_MAX 2048                 /* bytes of one message */
#define SP_MSG_PROTOCOL_VERSION 1
#define SP_MSG_RESPONSE_BIT 0x80u       /* response type = request type | 0x80 */
#define SP_MSG_TEXT_MAX 64              /* serial, model, firmware, keys, profile id */
#define SP_MSG_NONCE_LEN 32
#define SP_MSG_CHALLENGE_LEN 32
#define SP_MSG_DIGEST_LEN 32            /* SHA-256 */
#define SP_MSG_ENC_LEN 65               /* HPKE enc: a P-256 point */
#define SP_MSG_CT_MIN 16                /* HPKE ciphertext: at least the tag */
#define SP_MSG_CHAIN_MAX 3              /* certificates in ATTEST's chain */
#define SP_MSG_VERSIONS_MAX 8           /* protocol versions in HELLO */
#define SP_MSG_SEALED_MAX 8             /* sealed entries of one APPLY */
#define SP_MSG_VALUES_MAX 32            /* values, and sealed digests, of one APPLY */
#define SP_MSG_READ_KEYS_MAX 32         /* keys of one READ */
#define SP_MSG_BULK_CHUNK_MAX 1900      /* data bytes of one BULK_DATA */
#define SP_MSG_BULK_MAX (64u * 1024u * 1024u) /* bytes of one bulk transfer */
#define SP_MSG_COMMIT_DEADLINE 30       /* seconds from APPLY to COMMIT */
#define SP_MSG_STEP_UP_MAX_AGE 300      /* seconds: auth_time for critical keys */
#define SP_MSG_CLOCK_SKEW 60            /* seconds: iat/nbf ahead of a clock */
#define SP_MSG_AUDIENCE "signet"        /* a token's aud */

#define SP_MSG_COMMAND_CONTENT_TYPE "application/signet-command+cbor"
#define SP_MSG_RECEIPT_CONTENT_TYPE "application/signet-receipt+cbor"

/* Items a device's array needs for sp_msg_request_decode () with
 * SP_MSG_SEALED_MAX sealed entries; sp_msg_command_decode () takes 25
 * plus two per value and sealed digest of its arguments. */
#define SP_MSG_DEVICE_ITEMS 64

/* ---- numbers -------------------------------------------------------------- */

typedef enum sp_msg_type {
  SP_MSG_HELLO = 1,
  SP_MSG_ATTEST = 2,
  SP_MSG_AUTHORIZE = 3,
  SP_MSG_APPLY = 4,
  SP_MSG_COMMIT = 5,
  SP_MSG_ROLLBACK = 6,
  SP_MSG_BULK_BEGIN = 7,
  SP_MSG_BULK_DATA = 8,
  SP_MSG_BULK_STATUS = 9,
  SP_MSG_READ = 10,
  SP_MSG_REVOCATION = 11,
  SP_MSG_BYE = 12,
} sp_msg_type;

typedef enum sp_msg_status {
  SP_MSG_OK = 0,
  SP_MSG_MALFORMED = 1,
  SP_MSG_UNSUPPORTED = 2,
  SP_MSG_TOO_LARGE = 3,
  SP_MSG_BAD_STATE = 4,
  SP_MSG_TOKEN_MALFORMED = 5,
  SP_MSG_TOKEN_SIGNATURE = 6,
  SP_MSG_TOKEN_EXPIRED = 7,
  SP_MSG_TOKEN_NOT_YET_VALID = 8,
  SP_MSG_TOKEN_AUDIENCE = 9,
  SP_MSG_TOKEN_REVOKED = 10,
  SP_MSG_COMMAND_SIGNATURE = 11,
  SP_MSG_WRONG_TOKEN = 12,
  SP_MSG_WRONG_DEVICE = 13,
  SP_MSG_WRONG_NONCE = 14,
  SP_MSG_REPLAY = 15,
  SP_MSG_SCOPE = 16,
  SP_MSG_VERSION_ROLLBACK = 17,
  SP_MSG_SCHEMA = 18,
  SP_MSG_STEP_UP = 19,
  SP_MSG_DIGEST = 20,
  SP_MSG_SEAL = 21,
  SP_MSG_HEALTH = 22,
  SP_MSG_STORAGE = 23,
  SP_MSG_REVOCATION_STALE = 24,
  SP_MSG_BULK_OFFSET = 25,
  SP_MSG_NO_TRANSFER = 30,
} sp_msg_status;

typedef enum sp_msg_op {
  SP_MSG_OP_APPLY = 1,
  SP_MSG_OP_COMMIT = 2,
  SP_MSG_OP_ROLLBACK = 3,
  SP_MSG_OP_BULK_BEGIN = 4,
} sp_msg_op;

/* HELLO capabilities (a bit set). */
#define SP_MSG_CAP_BULK 1u
#define SP_MSG_CAP_CLOCK 2u
#define SP_MSG_CAP_L2CAP 4u
#define SP_MSG_CAP_BULK_QUIET 8u        /* BULK_DATA takes key 4, quiet */

/* Envelope keys. */
#define SP_MSG_KEY_TYPE 0
#define SP_MSG_KEY_ID 1
#define SP_MSG_KEY_STATUS 2

/* Request body keys (2..). */
#define SP_MSG_REQ_CHALLENGE 2          /* ATTEST */
#define SP_MSG_REQ_TOKEN 2              /* AUTHORIZE */
#define SP_MSG_REQ_COMMAND 2            /* APPLY, COMMIT, ROLLBACK, BULK_BEGIN */
#define SP_MSG_REQ_SEALED 3             /* APPLY */
#define SP_MSG_REQ_OFFSET 2             /* BULK_DATA */
#define SP_MSG_REQ_DATA 3               /* BULK_DATA */
#define SP_MSG_REQ_QUIET 4              /* BULK_DATA: true, or absent */
#define SP_MSG_REQ_KEYS 2               /* READ */
#define SP_MSG_REQ_LIST 2               /* REVOCATION */

/* Response body keys (3..). */
#define SP_MSG_HELLO_SERIAL 3
#define SP_MSG_HELLO_MODEL 4
#define SP_MSG_HELLO_FIRMWARE 5
#define SP_MSG_HELLO_CONFIG_VERSION 6
#define SP_MSG_HELLO_VERSIONS 7
#define SP_MSG_HELLO_CAPABILITIES 8
#define SP_MSG_HELLO_NONCE 9
#define SP_MSG_HELLO_DEVICE_TIME 10
#define SP_MSG_HELLO_CLOCK 11
#define SP_MSG_HELLO_MAX_MESSAGE 12
#define SP_MSG_HELLO_REVOCATION_VERSION 13
#define SP_MSG_HELLO_PSM 14
#define SP_MSG_ATTEST_EVIDENCE 3
#define SP_MSG_ATTEST_CHAIN 4
#define SP_MSG_AUTHORIZE_EXP 3
#define SP_MSG_AUTHORIZE_SCOPE 4
#define SP_MSG_RESP_RECEIPT 3           /* APPLY, COMMIT, ROLLBACK */
#define SP_MSG_BULK_NEXT_OFFSET 3       /* BULK_BEGIN, BULK_DATA, BULK_STATUS */
#define SP_MSG_BULK_SIZE 4              /* BULK_STATUS */
#define SP_MSG_BULK_DIGEST 5            /* BULK_STATUS */
#define SP_MSG_READ_CONFIG 3
#define SP_MSG_READ_DIAGNOSTICS 4
#define SP_MSG_REVOCATION_VERSION 3

/* Command payload keys. */
#define SP_MSG_CMD_SERIAL 1
#define SP_MSG_CMD_NONCE 2
#define SP_MSG_CMD_SEQ 3
#define SP_MSG_CMD_OP 4
#define SP_MSG_CMD_ARGS 5
#define SP_MSG_CMD_CTI 6

/* Receipt payload keys. */
#define SP_MSG_RCPT_SERIAL 1
#define SP_MSG_RCPT_NONCE 2
#define SP_MSG_RCPT_SEQ 3
#define SP_MSG_RCPT_COMMAND_DIGEST 4
#define SP_MSG_RCPT_OP 5
#define SP_MSG_RCPT_RESULT 6
#define SP_MSG_RCPT_COMMITTED 7
#define SP_MSG_RCPT_PENDING 8
#define SP_MSG_RCPT_CONFIG_DIGEST 9
#define SP_MSG_RCPT_DEVICE_TIME 10

/* Arguments: APPLY, COMMIT, BULK_BEGIN; a sealed entry. */
#define SP_MSG_APPLY_VERSION 1
#define SP_MSG_APPLY_VALUES 2
#define SP_MSG_APPLY_DIGESTS 3
#define SP_MSG_APPLY_PROFILE 4
#define SP_MSG_APPLY_PROFILE_DIGEST 5
#define SP_MSG_APPLY_FIRMWARE_DIGEST 6
#define SP_MSG_COMMIT_VERSION 1
#define SP_MSG_BULK_ARG_DIGEST 1
#define SP_MSG_BULK_ARG_SIZE 2
#define SP_MSG_SEALED_KEY 1
#define SP_MSG_SEALED_ENC 2
#define SP_MSG_SEALED_CT 3

/* ---- views and the cursor ------------------------------------------------- */

/* Views, not NUL-terminated; ptr is NULL for an absent field. */
typedef struct sp_msg_bytes {
  const uint8_t *ptr;
  size_t len;
} sp_msg_bytes;

typedef struct sp_msg_text {
  const char *ptr;
  size_t len;
} sp_msg_text;

/* A view of a NUL-terminated string. */
sp_msg_text sp_msg_text_from (const char *s);

/* One data item of validated CBOR. */
typedef struct sp_msg_value {
  sp_cbor_type type;
  uint64_t u;            /* UINT: the value; NINT: n of -1 - n; BOOL: 0/1;
                          * BYTES, TEXT: the length; ARRAY, MAP: the count;
                          * TAG: the number */
  const uint8_t *ptr;    /* BYTES, TEXT: the content; containers and tags:
                          * their first child */
  const uint8_t *raw;    /* the whole item, children included */
  size_t raw_len;
} sp_msg_value;

/* The integer of a UINT or NINT value in int64_t range. */
bool sp_msg_value_int (const sp_msg_value *v, int64_t *out);

/* Walks the children of an array or map that a decoder of this module
 * (or sp_cbor_decode) has already validated, using no items. It stays
 * inside the bytes it was given whatever they hold, but only validated
 * input gives meaningful answers. */
typedef struct sp_msg_cursor {
  const uint8_t *p;
  const uint8_t *end;
  uint64_t left;         /* children not yet returned */
} sp_msg_cursor;

/* Start at the container whose encoding is raw[0..len): SP_ERR_TYPE if it
 * is not of type (SP_CBOR_ARRAY or SP_CBOR_MAP). */
sp_err sp_msg_cursor_init (sp_msg_cursor *c, const uint8_t *raw, size_t len,
                           sp_cbor_type type);
sp_err sp_msg_cursor_init_bytes (sp_msg_cursor *c, sp_msg_bytes container,
                                 sp_cbor_type type);
/* The next child (with a map: the next key, then its value). */
bool   sp_msg_cursor_next      (sp_msg_cursor *c, sp_msg_value *v);
bool   sp_msg_cursor_next_pair (sp_msg_cursor *c, sp_msg_value *key,
                                sp_msg_value *value);

/* RFC 8949 §4.2.1 order of two text (or byte string) keys of the same
 * major type: shorter first, then bytewise. <0, 0, >0. */
int sp_msg_key_compare (const void *a, size_t a_len, const void *b, size_t b_len);

/* ---- request/response envelope -------------------------------------------- */

/* A request. Every field but type and id is a view of its body key, set
 * for the types that have it (zero otherwise). */
typedef struct sp_msg_request {
  uint64_t type;            /* sp_msg_type */
  uint32_t id;
  bool envelope_ok;         /* decode: type and id were read */
  sp_msg_bytes challenge;   /* ATTEST: 32 bytes */
  sp_msg_bytes token;       /* AUTHORIZE: a signed CWT */
  sp_msg_bytes command;     /* APPLY, COMMIT, ROLLBACK, BULK_BEGIN */
  sp_msg_bytes sealed;      /* APPLY: the CBOR array of sealed entries */
  size_t n_sealed;
  uint64_t offset;          /* BULK_DATA */
  sp_msg_bytes data;        /* BULK_DATA: 1..SP_MSG_BULK_CHUNK_MAX bytes */
  bool quiet;               /* BULK_DATA: key 4 (true) present: answer only
                             * refusals and the last byte */
  bool has_keys;            /* READ: keys given (else: all) */
  sp_msg_bytes keys;        /* READ: the CBOR array of text keys */
  size_t n_keys;
  sp_msg_bytes list;        /* REVOCATION: a signed revocation list */
} sp_msg_request;

/* Encode a request of req->type (sealed and keys are encoded arrays, see
 * sp_msg_sealed_encode () and sp_msg_keys_encode ()). SP_ERR_VALUE for an
 * unknown type or a field the decoder would refuse. */
sp_err sp_msg_request_encode (const sp_msg_request *req, uint8_t *out,
                              size_t cap, size_t *out_len);

/* Decode a request (at most SP_MSG_MAX bytes: SP_ERR_CBOR_TOO_LARGE).
 * On error req->envelope_ok says whether req->type and req->id hold the
 * request's (then the answer echoes them); SP_ERR_VALUE with envelope_ok
 * and an unknown type is a request this spec does not define. */
sp_err sp_msg_request_decode (const uint8_t *buf, size_t len,
                              sp_cbor_item *items, size_t max_items,
                              sp_msg_request *req);

/* The status a device answers for a request that decoded with err:
 * SP_MSG_OK, SP_MSG_UNSUPPORTED (unknown type), SP_MSG_TOO_LARGE (over a
 * limit: the message, a string, a container, the item array) or
 * SP_MSG_MALFORMED. */
sp_msg_status sp_msg_request_status (sp_err err, const sp_msg_request *req);

/* True for the request types of the table (HELLO..BYE). */
bool sp_msg_type_is_request (uint64_t type);

/* The name of a status ("MALFORMED"), or "?" for an unknown one. */
const char *sp_msg_status_name (uint64_t status);

/* Start a response: {0: type | 0x80, 1: id, 2: status, ...} with room for
 * n_body more pairs, which the caller writes (keys from 3, rising). */
void sp_msg_response_begin (sp_cbor_writer *w, uint64_t type, uint32_t id,
                            sp_msg_status status, size_t n_body);

/* A response. The body fields of its type are set when status is
 * SP_MSG_OK (and next_offset for BULK_DATA's SP_MSG_BULK_OFFSET). */
typedef struct sp_msg_response {
  uint64_t type;            /* with SP_MSG_RESPONSE_BIT */
  uint32_t id;
  uint64_t status;
  /* HELLO */
  sp_msg_text serial, model, firmware;
  uint64_t config_version;
  sp_msg_bytes versions;    /* CBOR array of uint */
  size_t n_versions;
  uint64_t capabilities;
  sp_msg_bytes nonce;
  uint64_t device_time;
  bool clock;
  uint64_t max_message;
  uint64_t revocation_version;
  bool has_psm;
  uint64_t psm;
  /* ATTEST */
  sp_msg_bytes evidence;
  sp_msg_bytes chain[SP_MSG_CHAIN_MAX];
  size_t n_chain;
  /* AUTHORIZE */
  uint64_t exp;
  sp_msg_text scope;
  /* APPLY, COMMIT, ROLLBACK */
  sp_msg_bytes receipt;
  /* BULK_BEGIN, BULK_DATA, BULK_STATUS */
  bool has_next_offset;
  uint64_t next_offset;
  uint64_t size;
  sp_msg_bytes digest;
  /* READ: maps text -> text / int / bool and text -> uint */
  sp_msg_bytes config;
  size_t n_config;
  sp_msg_bytes diagnostics;
  size_t n_diagnostics;
  /* REVOCATION */
  uint64_t version;
} sp_msg_response;

/* Encode a response: the body of its type when status is OK, nothing
 * else otherwise (but next_offset for BULK_DATA + BULK_OFFSET). */
sp_err sp_msg_response_encode (const sp_msg_response *resp, uint8_t *out,
                               size_t cap, size_t *out_len);

/* Decode a response strictly: exactly the body keys of its type and
 * status. A response type that is not a request type | 0x80 is accepted
 * only with SP_MSG_UNSUPPORTED, MALFORMED or TOO_LARGE and no body. */
sp_err sp_msg_response_decode (const uint8_t *buf, size_t len,
                               sp_msg_response *resp);

/* ---- sealed entries and READ keys ----------------------------------------- */

typedef struct sp_msg_sealed {
  sp_msg_text key;          /* 1..SP_MSG_TEXT_MAX bytes */
  sp_msg_bytes enc;         /* SP_MSG_ENC_LEN bytes */
  sp_msg_bytes ct;          /* at least SP_MSG_CT_MIN bytes */
} sp_msg_sealed;

/* The CBOR array [{1: key, 2: enc, 3: ct}...] of n entries (at most
 * SP_MSG_SEALED_MAX). */
sp_err sp_msg_sealed_encode (const sp_msg_sealed *entries, size_t n,
                             uint8_t *out, size_t cap, size_t *out_len);
/* The next entry of a validated sealed array (sp_msg_request.sealed). */
bool   sp_msg_sealed_next (sp_msg_cursor *c, sp_msg_sealed *entry);

/* The CBOR array of n text keys (1..SP_MSG_TEXT_MAX bytes each). */
sp_err sp_msg_keys_encode (const sp_msg_text *keys, size_t n, uint8_t *out,
                           size_t cap, size_t *out_len);

/* ---- the command ---------------------------------------------------------- */

typedef struct sp_msg_command {
  sp_msg_text serial;       /* 1..SP_MSG_TEXT_MAX */
  sp_msg_bytes nonce;       /* SP_MSG_NONCE_LEN */
  uint64_t seq;
  uint64_t op;              /* sp_msg_op (any uint decodes) */
  sp_msg_bytes args;        /* an encoded CBOR map */
  sp_msg_bytes cti;         /* 1..SP_CWT_CTI_MAX */
  sp_msg_bytes kid;         /* decode: the protected header's kid */
} sp_msg_command;

/* The payload {1: serial, ..., 6: cti}. args must be an encoded map. */
sp_err sp_msg_command_encode (const sp_msg_command *cmd, uint8_t *out,
                              size_t cap, size_t *out_len);

/* Sign as a tagged COSE_Sign1 with the command content type and kid =
 * cti, by the technician's key. cap of SP_COSE_SIGN1_OVERHEAD plus the
 * payload suffices. */
sp_err sp_msg_command_sign (const sp_crypto_port *port, const sp_key *key,
                            const sp_msg_command *cmd, uint8_t *out,
                            size_t cap, size_t *out_len);

/* Decode a signed command strictly, without checking its signature:
 * sp_msg_sign1_decode () with the command content type, then the payload
 * (all six keys; serial, nonce and cti of their lengths; args a map).
 * sign1 receives what sp_cose_sign1_verify () needs. The
 * items are reused for each step. */
sp_err sp_msg_command_decode (const uint8_t *buf, size_t len,
                              sp_cbor_item *items, size_t max_items,
                              sp_msg_command *cmd, sp_cose_sign1 *sign1);

/* Decode, then verify the signature with pub. The decode errors, or
 * SP_ERR_BAD_SIGNATURE / SP_ERR_KEY / SP_ERR_CRYPTO from the signature. */
sp_err sp_msg_command_verify (const sp_crypto_port *port,
                              const uint8_t *buf, size_t len,
                              const uint8_t pub[SP_P256_PUB_LEN],
                              sp_cbor_item *items, size_t max_items,
                              sp_msg_command *cmd);

/* ---- arguments ------------------------------------------------------------ */

/* APPLY: {1: config_version, 2: values, 3: sealed digests, 4: profile,
 * 5: profile digest, ? 6: firmware digest}. values and digests are
 * encoded maps (sp_msg_values_encode, sp_msg_digests_encode). */
typedef struct sp_msg_apply_args {
  uint64_t config_version;
  sp_msg_bytes values;          /* map text -> text / int / bool */
  size_t n_values;
  sp_msg_bytes digests;         /* map text -> bstr 32 */
  size_t n_digests;
  sp_msg_text profile;          /* 1..SP_MSG_TEXT_MAX */
  sp_msg_bytes profile_digest;  /* SP_MSG_DIGEST_LEN */
  sp_msg_bytes firmware_digest; /* SP_MSG_DIGEST_LEN, or ptr NULL */
} sp_msg_apply_args;

sp_err sp_msg_apply_args_encode (const sp_msg_apply_args *a, uint8_t *out,
                                 size_t cap, size_t *out_len);
/* Keys of values and digests: 1..SP_MSG_TEXT_MAX bytes; at most
 * SP_MSG_VALUES_MAX each. */
sp_err sp_msg_apply_args_decode (const uint8_t *buf, size_t len,
                                 sp_cbor_item *items, size_t max_items,
                                 sp_msg_apply_args *a);

/* One configuration value (a text, an integer or a bool). */
typedef struct sp_msg_kv {
  sp_msg_text key;
  sp_cbor_type type;            /* SP_CBOR_TEXT, SP_CBOR_UINT (any int), SP_CBOR_BOOL */
  int64_t i;
  bool b;
  sp_msg_text text;
} sp_msg_kv;

/* The map of n values (also a configuration). Keys must be in
 * deterministic order (sp_msg_key_compare), without duplicates:
 * SP_ERR_VALUE otherwise. */
sp_err sp_msg_values_encode (const sp_msg_kv *kv, size_t n, uint8_t *out,
                             size_t cap, size_t *out_len);

typedef struct sp_msg_digest_entry {
  sp_msg_text key;
  const uint8_t *digest;        /* SP_MSG_DIGEST_LEN */
} sp_msg_digest_entry;

/* The map of n sealed digests, keys in deterministic order. */
sp_err sp_msg_digests_encode (const sp_msg_digest_entry *d, size_t n,
                              uint8_t *out, size_t cap, size_t *out_len);

/* COMMIT: {1: config_version}; ROLLBACK: {}; BULK_BEGIN: {1: digest,
 * 2: size (1..SP_MSG_BULK_MAX)}. The decoders use items[0..max_items)
 * (SP_MSG_ARGS_ITEMS suffice). */
#define SP_MSG_ARGS_ITEMS 8
sp_err sp_msg_commit_args_encode (uint64_t config_version, uint8_t *out,
                                  size_t cap, size_t *out_len);
sp_err sp_msg_commit_args_decode (const uint8_t *buf, size_t len,
                                  sp_cbor_item *items, size_t max_items,
                                  uint64_t *config_version);
sp_err sp_msg_rollback_args_encode (uint8_t *out, size_t cap, size_t *out_len);
sp_err sp_msg_rollback_args_decode (const uint8_t *buf, size_t len,
                                    sp_cbor_item *items, size_t max_items);
sp_err sp_msg_bulk_args_encode (const uint8_t digest[SP_MSG_DIGEST_LEN],
                                uint64_t size, uint8_t *out, size_t cap,
                                size_t *out_len);
sp_err sp_msg_bulk_args_decode (const uint8_t *buf, size_t len,
                                sp_cbor_item *items, size_t max_items,
                                const uint8_t **digest, uint64_t *size);

/* ---- the receipt ---------------------------------------------------------- */

typedef struct sp_msg_receipt {
  sp_msg_text serial;
  sp_msg_bytes nonce;           /* SP_MSG_NONCE_LEN */
  uint64_t seq;
  sp_msg_bytes command_digest;  /* SHA-256 of the command's COSE bytes */
  uint64_t op;
  uint64_t result;              /* 0: success */
  uint64_t committed_version;
  uint64_t pending_version;     /* 0: nothing pending */
  sp_msg_bytes config_digest;   /* SHA-256 of the committed configuration */
  uint64_t device_time;
} sp_msg_receipt;

/* The most bytes of a signed receipt. */
#define SP_MSG_RECEIPT_PAYLOAD_MAX (1 + 10 + (2 + SP_MSG_TEXT_MAX) + \
                                    3 * (2 + SP_MSG_DIGEST_LEN) + 6 * 9)
#define SP_MSG_RECEIPT_MAX (SP_COSE_SIGN1_OVERHEAD + SP_MSG_RECEIPT_PAYLOAD_MAX)

sp_err sp_msg_receipt_encode (const sp_msg_receipt *r, uint8_t *out,
                              size_t cap, size_t *out_len);
/* Sign as a tagged COSE_Sign1 with the receipt content type and kid =
 * serial, by the device identity key. out may not overlap anything of r. */
sp_err sp_msg_receipt_sign (const sp_crypto_port *port, const sp_key *key,
                            const sp_msg_receipt *r, uint8_t *out,
                            size_t cap, size_t *out_len);
/* Decode a payload (no signature: for tests and fuzzing). */
sp_err sp_msg_receipt_decode (const uint8_t *payload, size_t len,
                              sp_msg_receipt *r);
/* Verify a signed receipt with the device's identity key and decode it;
 * the kid must be the payload's serial (SP_ERR_COSE_HEADER). */
sp_err sp_msg_receipt_verify (const sp_crypto_port *port,
                              const uint8_t *buf, size_t len,
                              const uint8_t pub[SP_P256_PUB_LEN],
                              sp_msg_receipt *r);

/* ---- COSE_Sign1 the device's way ------------------------------------------ */

/* Decode a tagged COSE_Sign1 whose protected header is exactly
 * {1: -7, 3: content_type, 4: kid} (deterministic, kid 1..SP_COSE_KID_MAX
 * bytes) and whose unprotected header is empty -- the only form Signet
 * signs, compared byte for byte with the header it would write for that
 * kid -- with items[0..max_items) (6 suffice).
 * out is filled for sp_cose_sign1_verify (). SP_ERR_COSE_TAG without tag
 * 18; SP_ERR_COSE_HEADER for any other header; the CBOR errors. */
sp_err sp_msg_sign1_decode (const uint8_t *buf, size_t len,
                            const char *content_type,
                            sp_cbor_item *items, size_t max_items,
                            sp_cose_sign1 *out);

#endif /* SP_MSG_H */
