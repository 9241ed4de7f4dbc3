/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sa-agent.c: the device's session state machine -- dispatch, the checks
 * of docs/protocol.md in the order its tables give, two-phase apply,
 * receipts, the retry cache.
 *
 * Every handler checks everything before it changes anything, and a
 * change is made real only by the journal record appended last (see
 * sa-store.h), so a refusal leaves the device exactly as it was.
 *
 * Memory: agent->buf is the answer to the last request and, while a
 * request is handled, scratch: the CBOR items of each decoding step; the
 * configuration being staged (NEW_CFG) next to the committed one
 * (OLD_CFG) and the HPKE info (INFO); the evidence or receipt being
 * signed (high half) before the answer that carries it is written at the
 * start. Each handler writes its answer last.
 */
#include "sa-agent.h"

#include <string.h>

#include "sp-evidence.h"
#include "sp-hpke.h"
#include "sp-revocation.h"

#define SA_MAGIC 0x31474153u          /* "SAG1" */
#define HALF (SA_MSG_MAX / 2)
#define SEAL_INFO "signet-seal-v1"
#define SEAL_INFO_LEN 14
/* "signet-seal-v1" 0 serial 0 profile 0 key */
#define INFO_MAX (SEAL_INFO_LEN + 3 + SA_SERIAL_MAX + 2 * SP_MSG_TEXT_MAX)

/* Where APPLY works in buf. */
#define NEW_CFG 0
#define OLD_CFG SA_CONFIG_MAX
#define INFO (2 * SA_CONFIG_MAX)

/* While a COSE_Sign1 is decoded and verified, it lies at the end of buf
 * (with what goes with it), off the stack; the decoder gets the items
 * before it. */
#define ITEMS_FOR(bytes) (((bytes) + sizeof (sp_cbor_item) - 1) / sizeof (sp_cbor_item))
#define TAIL_ITEMS ITEMS_FOR (sizeof (sp_cose_sign1) + sizeof (sp_revocation_list))
#define HEAD_ITEMS (SA_ITEMS - TAIL_ITEMS)
#define TAIL_SIGN1(a) ((sp_cose_sign1 *) (void *) &(a)->buf.items[HEAD_ITEMS])
#define TAIL_LIST(a) ((sp_revocation_list *) (void *) (TAIL_SIGN1 (a) + 1))
/* AUTHORIZE: the claims before the tail; the held list before them. */
#define CLAIM_ITEMS ITEMS_FOR (sizeof (sp_cwt_claims))
#define CLAIMS(a) ((sp_cwt_claims *) (void *) &(a)->buf.items[HEAD_ITEMS - CLAIM_ITEMS])

typedef char sa_assert_list_fits[(HEAD_ITEMS - CLAIM_ITEMS) * sizeof (sp_cbor_item) >=
                                 SA_REVOCATION_MAX ? 1 : -1];

#if INFO + INFO_MAX > SA_MSG_MAX
#error "two configurations and the HPKE info must fit the agent's buffer"
#endif

/* Handlers are kept out of the dispatcher, and state changes out of the
 * handlers: inlined, their frames would add up on the deepest path (a
 * decode under a command check) instead of taking turns. */
#if defined (__GNUC__)
#define SA_NOINLINE __attribute__ ((noinline))
#else
#define SA_NOINLINE
#endif

/* A command, decoded and checked once by the dispatcher. */
typedef struct command {
  sp_msg_command cmd;
  union {
    sp_msg_apply_args apply;
    uint64_t version;
    struct {
      const uint8_t *digest;
      uint64_t size;
    } bulk;
  } args;
} command;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static const sp_crypto_port *
crypto (const sa_agent *a)
{
  return a->platform->crypto;
}

static sp_err
sha256 (const sa_agent *a, const uint8_t *p, size_t len, uint8_t out[SP_SHA256_LEN])
{
  sp_iovec iov;

  iov.base = p;
  iov.len = len;
  return crypto (a)->sha256 (crypto (a)->ctx, &iov, 1, out);
}

/* The device time: its clock, or its clock floor. */
static uint64_t
device_time (const sa_agent *a, bool *has_clock)
{
  uint64_t now;

  if (a->platform->clock_now != NULL &&
      a->platform->clock_now (a->platform->ctx, &now))
    {
      *has_clock = true;
      return now;
    }
  *has_clock = false;
  return a->store.state.clock_floor;
}

/* The serial, read from the identity record into out[SA_SERIAL_MAX]. */
static size_t
serial (const sa_agent *a, char *out)
{
  size_t len = 0;

  if (sa_store_identity_text (&a->store, SA_ID_SERIAL, out, &len) != SP_OK)
    return 0;
  return len;
}

static bool
bulk_supported (const sa_agent *a)
{
  return a->platform->flash.sha256 != NULL && a->store.bulk_size > 0;
}

/* Append a record, first telling the simulator where we are. */
static sp_err
commit_state (sa_agent *a, const sa_state *next, const char *point)
{
  if (a->platform->fault_point != NULL)
    a->platform->fault_point (a->platform->ctx, point);
  return sa_store_append (&a->store, next);
}

static void
clear_ref (sa_slot_ref *ref)
{
  memset (ref, 0, sizeof *ref);
  ref->slot = SA_SLOT_NONE;
}

/* The changes of state, each one record. */
typedef enum change_kind {
  CHANGE_DROP_PENDING,        /* HELLO, ROLLBACK of a staged change */
  CHANGE_DEADLINE,            /* the same, by the commit deadline */
  CHANGE_STAGE,               /* APPLY: arg is the pending sa_slot_ref */
  CHANGE_COMMIT,
  CHANGE_RETURN,              /* ROLLBACK to the previous configuration */
  CHANGE_FLOOR,               /* arg: the new floor (uint64_t) */
  CHANGE_REVOCATION,          /* arg: the sa_slot_ref of the list */
  CHANGE_BULK,                /* arg: the sa_state with the bulk fields */
  CHANGE_BOOT,
} change_kind;

static const char *const change_points[] = {
  "hello.before-journal", "tick.before-journal", "apply.before-journal",
  "commit.before-journal", "rollback.before-journal", "authorize.before-journal",
  "revocation.before-journal", "bulk.before-journal", "boot.before-journal",
};

static SA_NOINLINE sp_err
change (sa_agent *a, change_kind kind, const void *arg, const char *point)
{
  const sa_state *st = &a->store.state;
  sa_state next = *st;

  switch (kind)
    {
    case CHANGE_DEADLINE:
      next.deadline_rollbacks++;
      clear_ref (&next.pending);
      break;
    case CHANGE_DROP_PENDING:
      clear_ref (&next.pending);
      break;
    case CHANGE_STAGE:
      next.pending = *(const sa_slot_ref *) arg;
      break;
    case CHANGE_COMMIT:
      next.previous = st->current;
      next.current = st->pending;
      clear_ref (&next.pending);
      break;
    case CHANGE_RETURN:
      next.current = st->previous;
      clear_ref (&next.previous);
      break;
    case CHANGE_FLOOR:
      next.clock_floor = *(const uint64_t *) arg;
      break;
    case CHANGE_REVOCATION:
      {
        const sa_slot_ref *list = arg;

        next.revocation_slot = list->slot;
        next.revocation_version = list->version;
        next.revocation_len = list->len;
        next.revocation_crc = list->crc;
        break;
      }
    case CHANGE_BULK:
      {
        const sa_state *b = arg;

        next.bulk_state = b->bulk_state;
        next.bulk_size = b->bulk_size;
        next.bulk_offset = b->bulk_offset;
        memcpy (next.bulk_digest, b->bulk_digest, SP_SHA256_LEN);
        break;
      }
    default: /* CHANGE_BOOT: count it; a staged change lost its session */
      next.boots++;
      clear_ref (&next.pending);
      break;
    }
  return commit_state (a, &next, point != NULL ? point : change_points[kind]);
}

static bool
same (const void *a, size_t a_len, const void *b, size_t b_len)
{
  return a_len == b_len && (a_len == 0 || memcmp (a, b, a_len) == 0);
}

/* A writer over buf for the answer, and its end. */
static void
answer_begin (sa_agent *a, sp_cbor_writer *w, const sp_msg_request *r,
              size_t n_body)
{
  sp_cbor_writer_init (w, a->buf.bytes, SA_MSG_MAX);
  sp_msg_response_begin (w, r->type, r->id, SP_MSG_OK, n_body);
}

static sp_msg_status
answer_end (sa_agent *a, const sp_cbor_writer *w)
{
  size_t len;

  if (sp_cbor_writer_finish (w, &len) != SP_OK)
    return SP_MSG_TOO_LARGE;
  a->resp_len = (uint32_t) len;
  return SP_MSG_OK;
}

/* A key and a uint value. */
static void
kv (sp_cbor_writer *w, uint64_t key, uint64_t v)
{
  sp_cbor_put_uint (w, key);
  sp_cbor_put_uint (w, v);
}

/* An answer with one uint body field. */
static sp_msg_status
answer_uint (sa_agent *a, const sp_msg_request *r, uint64_t key, uint64_t v)
{
  sp_cbor_writer w;

  answer_begin (a, &w, r, 1);
  kv (&w, key, v);
  return answer_end (a, &w);
}

/* Read configuration slot ref into dst and check its CRC. */
static sp_err
read_slot (sa_agent *a, const sa_slot_ref *ref, uint8_t *dst)
{
  sp_err err = sa_store_read (&a->store, sa_store_slot (&a->store, ref->slot), dst,
                              ref->len);

  if (err == SP_OK && sp_crc32 (dst, ref->len) != ref->crc)
    err = SP_ERR_VALUE;
  return err;
}

/* SHA-256 of the configuration in a slot (read through the low half). */
static sp_err
slot_digest (sa_agent *a, const sa_slot_ref *ref, uint8_t out[SP_SHA256_LEN])
{
  sp_err err = read_slot (a, ref, a->buf.bytes);

  if (err == SP_OK)
    err = sha256 (a, a->buf.bytes, ref->len, out);
  sp_wipe (a->buf.bytes, ref->len);
  return err;
}

/* The public key of the trusted authority named kid. */
static bool
authority_key (const sa_agent *a, const uint8_t *kid, size_t kid_len,
               uint8_t pub[SP_P256_PUB_LEN])
{
  uint8_t k[SP_COSE_KID_MAX];
  size_t n, len, i;

  if (sa_store_identity_n_authorities (&a->store, &n) != SP_OK)
    return false;
  for (i = 0; i < n; i++)
    if (sa_store_identity_authority (&a->store, i, k, &len, pub) == SP_OK &&
        same (k, len, kid, kid_len))
      return true;
  return false;
}

/* A request that needs a token, in a session without one: BAD_STATE, or
 * TOKEN_REVOKED when a list accepted in this session revoked it. */
static sp_msg_status
no_token (const sa_agent *a)
{
  return a->session.revoked ? SP_MSG_TOKEN_REVOKED : SP_MSG_BAD_STATE;
}

/* ------------------------------------------------------------------ */
/* The held revocation list                                            */
/* ------------------------------------------------------------------ */

/* Is the cti or the subject revoked by the held list? The list (at most
 * SA_REVOCATION_MAX bytes, verified before it was stored, its CRC checked
 * now) is read into list[] and walked there. A list that fails its CRC is
 * an error: we refuse rather than guess. sub NULL: the bound token's,
 * which the session keeps as its length and CRC-32 only (a false match
 * ends a session early, never keeps one going). */
static SA_NOINLINE sp_err
is_revoked (const sa_agent *a, uint8_t *list, const uint8_t *cti, size_t cti_len,
            const char *sub, size_t sub_len, bool *hit)
{
  const sa_state *st = &a->store.state;
  sp_msg_cursor top, arr;
  sp_msg_value k, v, e;
  sp_err err;

  *hit = false;
  if (st->revocation_slot == SA_SLOT_NONE)
    return SP_OK;
  err = sa_store_read (&a->store, sa_store_revocation (&a->store, st->revocation_slot),
                       list, st->revocation_len);
  if (err == SP_OK && sp_crc32 (list, st->revocation_len) != st->revocation_crc)
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    err = sp_msg_cursor_init (&top, list, st->revocation_len, SP_CBOR_MAP);
  while (err == SP_OK && !*hit && sp_msg_cursor_next_pair (&top, &k, &v))
    {
      if ((k.u != SP_REVOCATION_KEY_CTI && k.u != SP_REVOCATION_KEY_SUB) ||
          sp_msg_cursor_init (&arr, v.raw, v.raw_len, SP_CBOR_ARRAY) != SP_OK)
        continue;
      while (!*hit && sp_msg_cursor_next (&arr, &e))
        *hit = k.u == SP_REVOCATION_KEY_CTI ? same (e.ptr, (size_t) e.u, cti, cti_len)
               : sub != NULL ? same (e.ptr, (size_t) e.u, sub, sub_len)
               : e.u == a->session.sub_len && sp_crc32 (e.ptr, (size_t) e.u) == a->session.sub_crc;
    }
  return err;
}

/* Verify a COSE_Sign1 decoded by sp_msg_sign1_decode () with the trusted
 * authority key its kid names. */
static SA_NOINLINE bool
authority_verify (const sa_agent *a, const sp_cose_sign1 *m)
{
  uint8_t pub[SP_P256_PUB_LEN];

  return authority_key (a, m->kid, m->kid_len, pub) &&
         sp_cose_sign1_verify (crypto (a), m, pub, NULL, 0) == SP_OK;
}

/* ------------------------------------------------------------------ */
/* HELLO, ATTEST, BYE                                                  */
/* ------------------------------------------------------------------ */

static SA_NOINLINE sp_msg_status
do_hello (sa_agent *a, const sp_msg_request *r)
{
  const sa_state *st = &a->store.state;
  uint8_t nonce[SP_MSG_NONCE_LEN];
  char fw[SA_SERIAL_MAX], sn[SA_SERIAL_MAX];
  size_t fw_len, sn_len;
  sp_cbor_writer w;
  uint64_t now;
  bool has_clock;

  sn_len = serial (a, sn);
  if (crypto (a)->random (crypto (a)->ctx, nonce, sizeof nonce) != SP_OK || sn_len == 0 ||
      sa_store_identity_text (&a->store, SA_ID_FIRMWARE, fw, &fw_len) != SP_OK)
    return SP_MSG_STORAGE;
  /* A pending configuration belongs to the session that staged it. */
  if (st->pending.slot != SA_SLOT_NONE &&
      change (a, CHANGE_DROP_PENDING, NULL, NULL) != SP_OK)
    return SP_MSG_STORAGE;
  memset (&a->session, 0, sizeof a->session);
  a->session.active = true;
  memcpy (a->session.nonce, nonce, sizeof nonce);

  now = device_time (a, &has_clock);
  answer_begin (a, &w, r, a->l2cap_psm != 0 ? 12 : 11);
  sp_cbor_put_uint (&w, SP_MSG_HELLO_SERIAL);
  sp_cbor_put_text (&w, sn, sn_len);
  sp_cbor_put_uint (&w, SP_MSG_HELLO_MODEL);
  sp_cbor_put_textz (&w, a->schema->model);
  sp_cbor_put_uint (&w, SP_MSG_HELLO_FIRMWARE);
  sp_cbor_put_text (&w, fw, fw_len);
  kv (&w, SP_MSG_HELLO_CONFIG_VERSION, st->current.version);
  sp_cbor_put_uint (&w, SP_MSG_HELLO_VERSIONS);
  sp_cbor_put_array (&w, 1);
  sp_cbor_put_uint (&w, SP_MSG_PROTOCOL_VERSION);
  kv (&w, SP_MSG_HELLO_CAPABILITIES,
      (bulk_supported (a) ? SP_MSG_CAP_BULK | SP_MSG_CAP_BULK_QUIET : 0) |
                                     (has_clock ? SP_MSG_CAP_CLOCK : 0) |
                                     (a->l2cap_psm != 0 ? SP_MSG_CAP_L2CAP : 0));
  sp_cbor_put_uint (&w, SP_MSG_HELLO_NONCE);
  sp_cbor_put_bytes (&w, nonce, sizeof nonce);
  kv (&w, SP_MSG_HELLO_DEVICE_TIME, now);
  sp_cbor_put_uint (&w, SP_MSG_HELLO_CLOCK);
  sp_cbor_put_bool (&w, has_clock);
  kv (&w, SP_MSG_HELLO_MAX_MESSAGE, SA_MSG_MAX);
  kv (&w, SP_MSG_HELLO_REVOCATION_VERSION, st->revocation_version);
  if (a->l2cap_psm != 0)
    kv (&w, SP_MSG_HELLO_PSM, a->l2cap_psm);
  return answer_end (a, &w);
}

static SA_NOINLINE sp_msg_status
do_attest (sa_agent *a, const sp_msg_request *r)
{
  uint8_t kem_pub[SP_P256_PUB_LEN];
  char fw[SA_SERIAL_MAX], sn[SA_SERIAL_MAX];
  uint32_t offset[SA_CHAIN_MAX];
  uint16_t clen[SA_CHAIN_MAX];
  size_t fw_len, ev_len, n, i;
  sp_evidence ev;
  sp_cbor_writer w;
  bool has_clock;

  if (!a->session.active)
    return SP_MSG_BAD_STATE;
  if (crypto (a)->p256_public (crypto (a)->ctx, a->kem_key, kem_pub) != SP_OK ||
      sa_store_identity_text (&a->store, SA_ID_FIRMWARE, fw, &fw_len) != SP_OK ||
      sa_store_identity_chain (&a->store, &n, offset, clen) != SP_OK)
    return SP_MSG_STORAGE;

  memset (&ev, 0, sizeof ev);
  ev.serial = sn;
  ev.serial_len = serial (a, sn);
  ev.model = a->schema->model;
  ev.model_len = strlen (a->schema->model);
  ev.challenge = r->challenge.ptr;
  ev.kem_pub = kem_pub;
  ev.firmware = fw;
  ev.firmware_len = fw_len;
  ev.config_version = a->store.state.current.version;
  ev.session_nonce = a->session.nonce;
  ev.device_time = device_time (a, &has_clock);
  if (sp_evidence_sign (crypto (a), a->identity_key, &ev, a->buf.bytes + HALF, HALF,
                        &ev_len) != SP_OK)
    return SP_MSG_STORAGE;

  /* The evidence moves down from the high half (no overlap: it is
   * shorter than HALF minus the head); the certificates are read from
   * flash straight into place behind it. */
  answer_begin (a, &w, r, 2);
  sp_cbor_put_uint (&w, SP_MSG_ATTEST_EVIDENCE);
  sp_cbor_put_bytes (&w, a->buf.bytes + HALF, ev_len);
  sp_cbor_put_uint (&w, SP_MSG_ATTEST_CHAIN);
  sp_cbor_put_array (&w, n);
  for (i = 0; i < n && w.err == SP_OK; i++)
    {
      sp_cbor_put_bytes_head (&w, clen[i]);
      if (w.err == SP_OK && clen[i] > w.cap - w.len)
        w.err = SP_ERR_BUFFER_TOO_SMALL;
      if (w.err == SP_OK &&
          sa_store_read (&a->store, offset[i], w.buf + w.len, clen[i]) != SP_OK)
        return SP_MSG_STORAGE;
      if (w.err == SP_OK)
        w.len += clen[i];
    }
  return answer_end (a, &w);
}

static SA_NOINLINE sp_msg_status
do_bye (sa_agent *a, const sp_msg_request *r)
{
  sp_cbor_writer w;

  memset (&a->session, 0, sizeof a->session);
  answer_begin (a, &w, r, 0);
  return answer_end (a, &w);
}

/* ------------------------------------------------------------------ */
/* AUTHORIZE                                                           */
/* ------------------------------------------------------------------ */

static SA_NOINLINE sp_msg_status
do_authorize (sa_agent *a, const sp_msg_request *r)
{
  sp_cwt_claims *c = CLAIMS (a);
  sp_cose_sign1 *m = TAIL_SIGN1 (a);
  static const char *const words[] = {
    "device.read", "config.write", "credential.rotate", "firmware.update",
  };
  static const uint8_t bits[] = {
    SA_SCOPE_READ, SA_SCOPE_OF (SA_CLASS_CONFIG), SA_SCOPE_OF (SA_CLASS_CREDENTIAL),
    SA_SCOPE_OF (SA_CLASS_FIRMWARE),
  };
  sa_session *s = &a->session;
  sp_cbor_doc doc;
  sp_cbor_writer w;
  uint64_t now, iat, exp;
  sp_cwt_text scope;
  bool has_clock, hit;
  size_t i;
  sp_err err;

  if (!s->active)
    return SP_MSG_BAD_STATE;

  /* 5: it decodes, as a CWT in our strict COSE_Sign1 */
  if (sp_msg_sign1_decode (r->token.ptr, r->token.len, SP_CWT_CONTENT_TYPE, a->buf.items,
                           HEAD_ITEMS - CLAIM_ITEMS, m) != SP_OK ||
      sp_cbor_decode (m->payload, m->payload_len, NULL, a->buf.items,
                      HEAD_ITEMS - CLAIM_ITEMS, &doc) != SP_OK ||
      sp_cwt_claims_read (&doc, 0, c) != SP_OK)
    return SP_MSG_TOKEN_MALFORMED;
  /* 6: a trusted authority signed it */
  if (!authority_verify (a, m))
    return SP_MSG_TOKEN_SIGNATURE;
  /* 7, 8: times (claims times are never negative) */
  now = device_time (a, &has_clock);
  exp = (uint64_t) c->exp;
  if (exp <= now)
    return SP_MSG_TOKEN_EXPIRED;
  iat = (uint64_t) c->iat;
  if (has_clock && (iat > now + SP_MSG_CLOCK_SKEW ||
                    ((c->present & SP_CWT_NBF) &&
                     (uint64_t) c->nbf > now + SP_MSG_CLOCK_SKEW)))
    return SP_MSG_TOKEN_NOT_YET_VALID;
  /* 9 */
  if (!(c->present & SP_CWT_AUD) ||
      !same (c->aud.ptr, c->aud.len, SP_MSG_AUDIENCE, sizeof SP_MSG_AUDIENCE - 1))
    return SP_MSG_TOKEN_AUDIENCE;
  /* 10: the list goes before the claims, in the items' place */
  err = is_revoked (a, a->buf.bytes, c->cti, c->cti_len, c->sub.ptr, c->sub.len, &hit);
  if (err != SP_OK)
    return SP_MSG_STORAGE;
  if (hit)
    return SP_MSG_TOKEN_REVOKED;

  /* The newest trusted time, in flash before the answer. */
  if (iat > a->store.state.clock_floor &&
      change (a, CHANGE_FLOOR, &iat, NULL) != SP_OK)
    return SP_MSG_STORAGE;

  /* Bind, keeping the sequence of the session. */
  s->authorized = true;
  s->revoked = false;
  s->sub_len = (uint8_t) c->sub.len;
  s->sub_crc = sp_crc32 (c->sub.ptr, c->sub.len);
  memcpy (s->cnf, c->cnf.pub, SP_P256_PUB_LEN);
  memcpy (s->cti, c->cti, c->cti_len);
  s->cti_len = (uint8_t) c->cti_len;
  s->exp = exp;
  s->has_auth_time = (c->present & SP_CWT_AUTH_TIME) != 0;
  s->auth_time = s->has_auth_time ? (uint64_t) c->auth_time : 0;
  s->scope = 0;
  for (i = 0; i < sizeof bits; i++)
    if (sp_cwt_scope_has (c, words[i]))
      s->scope |= bits[i];

  /* The scope text is in the request, the claims in buf: keep the view
   * before the answer overwrites buf. */
  scope = c->scope;
  answer_begin (a, &w, r, 2);
  kv (&w, SP_MSG_AUTHORIZE_EXP, exp);
  sp_cbor_put_uint (&w, SP_MSG_AUTHORIZE_SCOPE);
  sp_cbor_put_text (&w, scope.ptr, scope.len);
  return answer_end (a, &w);
}

/* ------------------------------------------------------------------ */
/* Commands                                                            */
/* ------------------------------------------------------------------ */

/* The checks every command passes, in the order of the spec's table,
 * and the op's arguments. The caller raises the sequence number. */
static SA_NOINLINE sp_msg_status
check_command (sa_agent *a, const sp_msg_request *r, sp_msg_op op, command *c)
{
  const sa_session *s = &a->session;
  sp_msg_command *cmd = &c->cmd;
  const uint8_t *args;
  size_t args_len;
  bool has_clock, equal = false;
  sp_err err;

  if (!s->authorized)
    return no_token (a);
  err = sp_msg_command_decode (r->command.ptr, r->command.len, a->buf.items,
                               HEAD_ITEMS, cmd, TAIL_SIGN1 (a));
  if (err != SP_OK)
    return sp_msg_request_status (err, NULL);
  if (sp_cose_sign1_verify (crypto (a), TAIL_SIGN1 (a), s->cnf, NULL, 0) != SP_OK)
    return SP_MSG_COMMAND_SIGNATURE;
  if (device_time (a, &has_clock) >= s->exp)
    return SP_MSG_TOKEN_EXPIRED;
  if (!same (cmd->cti.ptr, cmd->cti.len, s->cti, s->cti_len) ||
      !same (cmd->kid.ptr, cmd->kid.len, s->cti, s->cti_len))
    return SP_MSG_WRONG_TOKEN;
  if (sa_store_identity_text_equals (&a->store, SA_ID_SERIAL, cmd->serial.ptr,
                                     cmd->serial.len, &equal) != SP_OK)
    return SP_MSG_STORAGE;
  if (!equal)
    return SP_MSG_WRONG_DEVICE;
  if (!same (cmd->nonce.ptr, cmd->nonce.len, s->nonce, SP_MSG_NONCE_LEN))
    return SP_MSG_WRONG_NONCE;
  if (cmd->seq <= s->seq)
    return SP_MSG_REPLAY;
  if (cmd->op != (uint64_t) op)
    return SP_MSG_MALFORMED;
  args = cmd->args.ptr;
  args_len = cmd->args.len;
  switch (op)
    {
    case SP_MSG_OP_APPLY:
      err = sp_msg_apply_args_decode (args, args_len, a->buf.items, SA_ITEMS,
                                      &c->args.apply);
      break;
    case SP_MSG_OP_COMMIT:
      err = sp_msg_commit_args_decode (args, args_len, a->buf.items, SA_ITEMS,
                                       &c->args.version);
      break;
    case SP_MSG_OP_ROLLBACK:
      err = sp_msg_rollback_args_decode (args, args_len, a->buf.items, SA_ITEMS);
      break;
    default:
      err = sp_msg_bulk_args_decode (args, args_len, a->buf.items, SA_ITEMS,
                                     &c->args.bulk.digest, &c->args.bulk.size);
      break;
    }
  return sp_msg_request_status (err, NULL);
}

/* The receipt of a change, signed by the identity key, as the answer. */
static SA_NOINLINE sp_msg_status
answer_receipt (sa_agent *a, const sp_msg_request *r, const sp_msg_command *cmd)
{
  const sa_state *st = &a->store.state;
  uint8_t digest[SP_SHA256_LEN];
  char sn[SA_SERIAL_MAX];
  sp_msg_receipt rc;
  sp_cbor_writer w;
  size_t len;
  bool has_clock;

  memset (&rc, 0, sizeof rc);
  rc.serial.ptr = sn;
  rc.serial.len = serial (a, sn);
  rc.nonce.ptr = a->session.nonce;
  rc.nonce.len = SP_MSG_NONCE_LEN;
  rc.seq = cmd->seq;
  rc.command_digest.ptr = digest;
  rc.command_digest.len = SP_SHA256_LEN;
  rc.op = cmd->op;
  rc.result = 0;
  rc.committed_version = st->current.version;
  rc.pending_version = st->pending.slot != SA_SLOT_NONE ? st->pending.version : 0;
  rc.config_digest.ptr = a->config_digest;
  rc.config_digest.len = SP_SHA256_LEN;
  rc.device_time = device_time (a, &has_clock);
  if (sha256 (a, r->command.ptr, r->command.len, digest) != SP_OK ||
      sp_msg_receipt_sign (crypto (a), a->identity_key, &rc, a->buf.bytes + HALF, HALF,
                           &len) != SP_OK)
    return SP_MSG_STORAGE;
  answer_begin (a, &w, r, 1);
  sp_cbor_put_uint (&w, SP_MSG_RESP_RECEIPT);
  sp_cbor_put_bytes (&w, a->buf.bytes + HALF, len);
  return answer_end (a, &w);
}

static bool
scope_allows (const sa_agent *a, unsigned classes)
{
  return (a->session.scope & classes) == classes;
}

/* ------------------------------------------------------------------ */
/* APPLY                                                               */
/* ------------------------------------------------------------------ */

/* Keys and values against the schema (18); the classes and criticality
 * of what the change sets. */
static SA_NOINLINE sp_msg_status
apply_schema (const sa_agent *a, const sp_msg_apply_args *ap, unsigned *classes,
              bool *critical)
{
  sp_msg_cursor c;
  sp_msg_value k, v;
  unsigned pass;

  if (ap->n_values + ap->n_digests == 0)
    return SP_MSG_SCHEMA;
  for (pass = 0; pass < 2; pass++)
    {
      bool sealed = pass == 1;

      if (sp_msg_cursor_init_bytes (&c, sealed ? ap->digests : ap->values,
                                    SP_CBOR_MAP) != SP_OK)
        return SP_MSG_MALFORMED;
      while (sp_msg_cursor_next_pair (&c, &k, &v))
        {
          const sa_field *f = sa_schema_find (a->schema, (const char *) k.ptr,
                                              (size_t) k.u);

          /* A secret arrives only sealed, anything else only in values. */
          if (f == NULL || f->secret != sealed ||
              (!sealed && !sa_schema_value_ok (f, &v)))
            return SP_MSG_SCHEMA;
          *classes |= SA_SCOPE_OF (f->klass);
          *critical = *critical || f->critical;
        }
    }
  return SP_MSG_OK;
}

/* Find the sealed entry for key in the request's array, after the first
 * skip entries. */
static bool
find_sealed (const sp_msg_request *r, const uint8_t *key, size_t key_len,
             size_t skip, sp_msg_sealed *out)
{
  sp_msg_cursor c;
  size_t i = 0;

  if (sp_msg_cursor_init_bytes (&c, r->sealed, SP_CBOR_ARRAY) != SP_OK)
    return false;
  while (sp_msg_sealed_next (&c, out))
    if (i++ >= skip && same (out->key.ptr, out->key.len, key, key_len))
      return true;
  return false;
}

/* Each sealed entry matches its digest, one entry per digest (20). */
static SA_NOINLINE sp_msg_status
apply_digests (sa_agent *a, const sp_msg_request *r, const sp_msg_apply_args *ap)
{
  uint8_t d[SP_SHA256_LEN];
  sp_msg_cursor c, dc;
  sp_msg_sealed e, dup;
  sp_msg_value k, v;
  size_t i = 0;

  if (r->n_sealed != ap->n_digests ||
      sp_msg_cursor_init_bytes (&c, r->sealed, SP_CBOR_ARRAY) != SP_OK)
    return SP_MSG_DIGEST;
  while (sp_msg_sealed_next (&c, &e))
    {
      sp_iovec iov[2];
      bool found = false;

      i++;
      /* A second entry for the same key is one too many. */
      if (find_sealed (r, (const uint8_t *) e.key.ptr, e.key.len, i, &dup))
        return SP_MSG_DIGEST;
      iov[0].base = e.enc.ptr;
      iov[0].len = e.enc.len;
      iov[1].base = e.ct.ptr;
      iov[1].len = e.ct.len;
      if (crypto (a)->sha256 (crypto (a)->ctx, iov, 2, d) != SP_OK)
        return SP_MSG_STORAGE;
      if (sp_msg_cursor_init_bytes (&dc, ap->digests, SP_CBOR_MAP) != SP_OK)
        return SP_MSG_DIGEST;
      while (!found && sp_msg_cursor_next_pair (&dc, &k, &v))
        found = same (k.ptr, (size_t) k.u, e.key.ptr, e.key.len);
      if (!found || v.u != SP_SHA256_LEN || memcmp (v.ptr, d, SP_SHA256_LEN) != 0)
        return SP_MSG_DIGEST;
    }
  return i == ap->n_digests ? SP_MSG_OK : SP_MSG_DIGEST;
}

static size_t
head_size (uint64_t n)
{
  return n < 24 ? 1 : n <= 0xFF ? 2 : n <= 0xFFFF ? 3 : n <= 0xFFFFFFFFu ? 5 : 9;
}

/* One of three sorted streams of (key, value) merged in schema order:
 * its cursor and the pair under it. */
typedef struct merge_stream {
  sp_msg_cursor c;
  const uint8_t *key, *val;
  uint32_t key_len, val_len;
  bool have;
} merge_stream;

static void
stream_next (merge_stream *s)
{
  sp_msg_value k, v;

  s->have = sp_msg_cursor_next_pair (&s->c, &k, &v);
  s->key = k.ptr;
  s->key_len = (uint32_t) k.u;
  s->val = v.raw;
  s->val_len = (uint32_t) v.raw_len;
}

static void
stream_init (merge_stream *s, sp_msg_bytes map)
{
  s->have = false;
  if (sp_msg_cursor_init_bytes (&s->c, map, SP_CBOR_MAP) == SP_OK)
    stream_next (s);
}

/* Does the stream's current key equal key? Keys that sort before it
 * (keys of an older schema, in the committed configuration) are dropped. */
static bool
stream_at (merge_stream *s, const char *key, size_t len)
{
  while (s->have && sp_msg_key_compare (s->key, s->key_len, key, len) < 0)
    stream_next (s);
  return s->have && same (s->key, s->key_len, key, len);
}

/* Open the sealed value of field f into pt (room made by merge ()). */
static SA_NOINLINE sp_msg_status
open_secret (sa_agent *a, const sp_msg_request *r, const sp_msg_apply_args *ap,
             const sa_field *f, uint8_t *pt)
{
  uint8_t *info = a->buf.bytes + INFO;
  size_t key_len = strlen (f->key), info_len, pt_len;
  sp_msg_sealed e;

  if (!find_sealed (r, (const uint8_t *) f->key, key_len, 0, &e))
    return SP_MSG_SEAL;
  pt_len = e.ct.len - SP_HPKE_TAG_LEN;

  /* "signet-seal-v1" 0 serial 0 profile 0 key (docs/api.md) */
  memcpy (info, SEAL_INFO, SEAL_INFO_LEN);
  info_len = SEAL_INFO_LEN;
  info[info_len++] = 0;
  info_len += serial (a, (char *) info + info_len);
  info[info_len++] = 0;
  memcpy (info + info_len, ap->profile.ptr, ap->profile.len);
  info_len += ap->profile.len;
  info[info_len++] = 0;
  memcpy (info + info_len, f->key, key_len);
  info_len += key_len;

  if (sp_hpke_open_base (crypto (a), e.enc.ptr, a->kem_key, info, info_len,
                         ap->profile_digest.ptr, ap->profile_digest.len,
                         e.ct.ptr, e.ct.len, pt) != SP_OK ||
      !sa_schema_text_ok (f, pt, pt_len))
    return SP_MSG_SEAL;
  return SP_MSG_OK;
}

/* Merge the committed configuration (old) with values and room for the
 * secrets, in schema order: with w == NULL only count the entries (*n)
 * and the exact bytes (*size) it would write; then write them (n known)
 * into w, a secret as a text head and its length in zeros, and note in
 * sec where each secret's text goes (apply_stage () opens them there,
 * so HPKE's stack is not on top of the merge's). */
typedef struct secret_places {
  uint16_t at[SP_MSG_SEALED_MAX];     /* offset of the text in the new config */
  uint8_t field[SP_MSG_SEALED_MAX];   /* its schema field */
  uint8_t n;
} secret_places;

static SA_NOINLINE sp_msg_status
merge (sa_agent *a, const sp_msg_request *r, const sp_msg_apply_args *ap,
       sp_msg_bytes old, sp_cbor_writer *w, size_t *n, size_t *size,
       secret_places *sec)
{
  merge_stream vs, ds, os;
  size_t i, count = 0, body = 0;

  stream_init (&vs, ap->values);
  stream_init (&ds, ap->digests);
  stream_init (&os, old);
  if (w != NULL)
    sp_cbor_put_map (w, *n);
  for (i = 0; i < a->schema->n_fields; i++)
    {
      const sa_field *f = &a->schema->fields[i];
      size_t klen = strlen (f->key);
      bool in_v = stream_at (&vs, f->key, klen);
      bool in_d = stream_at (&ds, f->key, klen);
      bool in_o = stream_at (&os, f->key, klen);

      if (!in_v && !in_d && !in_o)
        continue;
      count++;
      if (in_d)
        {
          sp_msg_sealed e;
          size_t pt_len;

          if (!find_sealed (r, (const uint8_t *) f->key, klen, 0, &e))
            return SP_MSG_SEAL;
          pt_len = e.ct.len - SP_HPKE_TAG_LEN;
          body += head_size (pt_len) + pt_len;
          if (w != NULL)
            {
              size_t head;

              sp_cbor_put_text (w, f->key, klen);
              /* A text head: a byte string head with major type 3. */
              head = w->len;
              sp_cbor_put_bytes_head (w, pt_len);
              if (w->err != SP_OK || pt_len > w->cap - w->len)
                return SP_MSG_TOO_LARGE;
              w->buf[head] |= 0x20;
              if (sec->n >= SP_MSG_SEALED_MAX)
                return SP_MSG_DIGEST;
              sec->at[sec->n] = (uint16_t) w->len;
              sec->field[sec->n++] = (uint8_t) i;
              memset (w->buf + w->len, 0, pt_len);
              w->len += pt_len;
            }
        }
      else if (w == NULL)
        body += in_v ? vs.val_len : os.val_len;
      else
        {
          sp_cbor_put_text (w, f->key, klen);
          if (in_v)
            sp_cbor_put_raw (w, vs.val, vs.val_len);
          else
            sp_cbor_put_raw (w, os.val, os.val_len);
        }
      if (w == NULL)
        body += head_size (klen) + klen;
      if (in_v)
        stream_next (&vs);
      if (in_d)
        stream_next (&ds);
      if (in_o)
        stream_next (&os);
    }
  *n = count;
  *size = head_size (count) + body;
  return SP_MSG_OK;
}

/* Build, check and stage the new configuration (NEW_CFG) next to the
 * committed one (OLD_CFG). Both are wiped before this returns. */
static SA_NOINLINE sp_msg_status
apply_stage (sa_agent *a, const sp_msg_request *r, const sp_msg_apply_args *ap,
             unsigned classes)
{
  const sa_state *st = &a->store.state;
  uint8_t *low = a->buf.bytes + NEW_CFG;
  secret_places sec;
  sp_msg_bytes old;
  sp_cbor_writer w;
  sa_slot_ref pending;
  size_t size, n, len = 0, i;
  sp_msg_status status = SP_MSG_OK;

  old.ptr = a->buf.bytes + OLD_CFG;
  old.len = st->current.len;
  if (read_slot (a, &st->current, a->buf.bytes + OLD_CFG) != SP_OK)
    status = SP_MSG_STORAGE;

  /* The size first, exactly, so that a configuration too large for a
   * slot is refused before any secret is opened (3). */
  if (status == SP_MSG_OK)
    status = merge (a, r, ap, old, NULL, &n, &size, &sec);
  if (status == SP_MSG_OK && size > SA_CONFIG_MAX)
    status = SP_MSG_TOO_LARGE;
  if (status == SP_MSG_OK)
    {
      sec.n = 0;
      sp_cbor_writer_init (&w, low, SA_CONFIG_MAX);
      status = merge (a, r, ap, old, &w, &n, &size, &sec);
      if (status == SP_MSG_OK && sp_cbor_writer_finish (&w, &len) != SP_OK)
        status = SP_MSG_TOO_LARGE;
    }
  /* Open each secret into its place (21). */
  for (i = 0; status == SP_MSG_OK && i < sec.n; i++)
    status = open_secret (a, r, ap, &a->schema->fields[sec.field[i]], low + sec.at[i]);
  /* A firmware digest names a completed transfer (20). */
  if (status == SP_MSG_OK && ap->firmware_digest.ptr != NULL &&
      (st->bulk_state != SA_BULK_COMPLETE ||
       memcmp (st->bulk_digest, ap->firmware_digest.ptr, SP_SHA256_LEN) != 0))
    status = SP_MSG_DIGEST;
  if (status == SP_MSG_OK && a->platform->health_check != NULL &&
      !a->platform->health_check (a->platform->ctx, low, len))
    status = SP_MSG_HEALTH;

  if (status == SP_MSG_OK)
    {
      pending.slot = (uint8_t) sa_store_free_slot (st);
      pending.version = ap->config_version;
      pending.len = (uint16_t) len;
      pending.crc = sp_crc32 (low, len);
      pending.classes = (uint8_t) classes;
      if (sa_store_rewrite (&a->store, sa_store_slot (&a->store, pending.slot), low,
                            len) != SP_OK)
        status = SP_MSG_STORAGE;
      else
        {
          if (a->platform->fault_point != NULL)
            a->platform->fault_point (a->platform->ctx, "apply.staged");
          if (change (a, CHANGE_STAGE, &pending, NULL) != SP_OK)
            status = SP_MSG_STORAGE;
        }
    }
  sp_wipe (a->buf.bytes, SA_MSG_MAX);
  if (status == SP_MSG_OK)
    a->deadline_ms = a->platform->monotonic_ms (a->platform->ctx) +
                     (uint64_t) SP_MSG_COMMIT_DEADLINE * 1000u;
  return status;
}

static SA_NOINLINE sp_msg_status
do_apply (sa_agent *a, const sp_msg_request *r, const command *c)
{
  const sa_state *st = &a->store.state;
  const sp_msg_apply_args *ap = &c->args.apply;
  unsigned classes = 0;
  bool critical = false, has_clock;
  sp_msg_status status;

  if (st->pending.slot != SA_SLOT_NONE)
    return SP_MSG_BAD_STATE;
  if (ap->config_version <= st->current.version)
    return SP_MSG_VERSION_ROLLBACK;
  status = apply_schema (a, ap, &classes, &critical);
  if (status != SP_MSG_OK)
    return status;
  /* A firmware image is firmware.update and critical, like its keys. */
  if (ap->firmware_digest.ptr != NULL)
    {
      classes |= SA_SCOPE_OF (SA_CLASS_FIRMWARE);
      critical = true;
    }
  if (!scope_allows (a, classes))
    return SP_MSG_SCOPE;
  if (critical && (!a->session.has_auth_time ||
                   device_time (a, &has_clock) >
                     a->session.auth_time + SP_MSG_STEP_UP_MAX_AGE))
    return SP_MSG_STEP_UP;
  status = apply_digests (a, r, ap);
  if (status == SP_MSG_OK)
    status = apply_stage (a, r, ap, classes);
  if (status != SP_MSG_OK)
    return status;
  return answer_receipt (a, r, &c->cmd);
}

/* ------------------------------------------------------------------ */
/* COMMIT, ROLLBACK                                                    */
/* ------------------------------------------------------------------ */

/* Make a change of the committed configuration (COMMIT, or ROLLBACK to
 * the previous one), keeping its digest: the slot that becomes current
 * is read and hashed first. */
static SA_NOINLINE sp_err
change_current (sa_agent *a, change_kind kind, const sa_slot_ref *becomes)
{
  uint8_t digest[SP_SHA256_LEN];
  sp_err err = slot_digest (a, becomes, digest);

  if (err == SP_OK)
    err = change (a, kind, NULL, NULL);
  if (err == SP_OK)
    memcpy (a->config_digest, digest, SP_SHA256_LEN);
  return err;
}

static SA_NOINLINE sp_msg_status
do_commit (sa_agent *a, const sp_msg_request *r, const command *c)
{
  const sa_state *st = &a->store.state;

  if (st->pending.slot == SA_SLOT_NONE)
    return SP_MSG_BAD_STATE;
  if (c->args.version != st->pending.version)
    return SP_MSG_VERSION_ROLLBACK;
  if (!scope_allows (a, st->pending.classes))
    return SP_MSG_SCOPE;
  if (change_current (a, CHANGE_COMMIT, &st->pending) != SP_OK)
    return SP_MSG_STORAGE;
  return answer_receipt (a, r, &c->cmd);
}

static SA_NOINLINE sp_msg_status
do_rollback (sa_agent *a, const sp_msg_request *r, const command *c)
{
  const sa_state *st = &a->store.state;
  bool pending = st->pending.slot != SA_SLOT_NONE;
  sp_err err;

  /* The scope of what is undone: the staged change, or the one that made
   * the current configuration. */
  if (!pending && st->previous.slot == SA_SLOT_NONE)
    return SP_MSG_BAD_STATE;
  if (!scope_allows (a, pending ? st->pending.classes : st->current.classes))
    return SP_MSG_SCOPE;
  if (pending)
    err = change (a, CHANGE_DROP_PENDING, NULL, "rollback.before-journal");
  else
    err = change_current (a, CHANGE_RETURN, &st->previous);
  if (err != SP_OK)
    return SP_MSG_STORAGE;
  return answer_receipt (a, r, &c->cmd);
}

/* ------------------------------------------------------------------ */
/* Bulk transfer                                                       */
/* ------------------------------------------------------------------ */

static uint32_t
bulk_next (const sa_agent *a)
{
  const sa_state *st = &a->store.state;

  return st->bulk_state == SA_BULK_COMPLETE ? st->bulk_size : a->bulk_next;
}

/* Record a transfer's state (bulk_state, size, offset, digest). */
static SA_NOINLINE sp_err
change_bulk (sa_agent *a, uint8_t state, uint32_t size, uint32_t offset,
             const uint8_t digest[SP_SHA256_LEN])
{
  sa_state b;

  b.bulk_state = state;
  b.bulk_size = size;
  b.bulk_offset = offset;
  memcpy (b.bulk_digest, digest, SP_SHA256_LEN);
  return change (a, CHANGE_BULK, &b, NULL);
}

static SA_NOINLINE sp_msg_status
do_bulk_begin (sa_agent *a, const sp_msg_request *r, const command *c)
{
  const sa_state *st = &a->store.state;

  if (c->args.bulk.size > a->store.bulk_size)
    return SP_MSG_TOO_LARGE;
  /* The same transfer: resume where it is. */
  if (st->bulk_state != SA_BULK_NONE && st->bulk_size == c->args.bulk.size &&
      memcmp (st->bulk_digest, c->args.bulk.digest, SP_SHA256_LEN) == 0)
    return answer_uint (a, r, SP_MSG_BULK_NEXT_OFFSET, bulk_next (a));
  if (change_bulk (a, SA_BULK_RECEIVING, (uint32_t) c->args.bulk.size, 0,
                   c->args.bulk.digest) != SP_OK)
    return SP_MSG_STORAGE;
  a->bulk_next = 0;
  a->bulk_told = false;
  return answer_uint (a, r, SP_MSG_BULK_NEXT_OFFSET, 0);
}

static SA_NOINLINE sp_msg_status
do_bulk_data (sa_agent *a, const sp_msg_request *r)
{
  const sa_state *st = &a->store.state;
  uint32_t next_off = bulk_next (a), end, sector = a->store.sector;
  uint8_t digest[SP_SHA256_LEN];

  if (!a->session.authorized)
    return no_token (a);
  if (st->bulk_state == SA_BULK_NONE)
    return SP_MSG_NO_TRANSFER;
  if (r->offset != next_off)
    {
      /* Quiet: bytes already here (a duplicate, or sent before the tool
       * went back) are dropped unanswered, and a gap is told once, not
       * once per chunk in flight behind it. */
      if (r->quiet && (r->offset < next_off || a->bulk_told))
        return SP_MSG_OK;
      a->bulk_told = true;
      return SP_MSG_BULK_OFFSET;
    }
  a->bulk_told = false;
  if (r->data.len > st->bulk_size - next_off)
    return SP_MSG_TOO_LARGE;
  if (sa_store_bulk_write (&a->store, next_off, r->data.ptr, r->data.len) != SP_OK)
    {
      /* The rest of that sector is no longer blank: resume at its start,
       * which is erased again when written (BULK_STATUS tells). */
      a->bulk_next = next_off / sector * sector;
      return SP_MSG_STORAGE;
    }
  end = next_off + (uint32_t) r->data.len;
  if (end == st->bulk_size)
    {
      bool ok = a->platform->flash.sha256 (a->platform->ctx, a->store.bulk, end,
                                           digest) == SP_OK &&
                memcmp (digest, st->bulk_digest, SP_SHA256_LEN) == 0;

      if (change_bulk (a, ok ? SA_BULK_COMPLETE : SA_BULK_RECEIVING, st->bulk_size,
                       ok ? end : 0, st->bulk_digest) != SP_OK)
        {
          a->bulk_next = next_off / sector * sector;
          return SP_MSG_STORAGE;
        }
      a->bulk_next = st->bulk_offset;
      if (!ok)
        return SP_MSG_DIGEST;
    }
  else
    {
      /* Keep the offset in flash at every sector boundary crossed: after
       * a power loss the transfer resumes there, and that sector is
       * erased again by its first write. A failure here costs progress
       * after a power loss only. */
      if (end / sector > next_off / sector)
        (void) change_bulk (a, SA_BULK_RECEIVING, st->bulk_size, end / sector * sector,
                            st->bulk_digest);
      a->bulk_next = end;
      /* Quiet: no answer but at the last byte (above) and for refusals. */
      if (r->quiet)
        return SP_MSG_OK;
    }
  return answer_uint (a, r, SP_MSG_BULK_NEXT_OFFSET, bulk_next (a));
}

static SA_NOINLINE sp_msg_status
do_bulk_status (sa_agent *a, const sp_msg_request *r)
{
  const sa_state *st = &a->store.state;
  sp_cbor_writer w;

  if (!a->session.active)
    return SP_MSG_BAD_STATE;
  if (st->bulk_state == SA_BULK_NONE)
    return SP_MSG_NO_TRANSFER;
  /* The tool resumes where this says: tell its next gap. */
  a->bulk_told = false;
  answer_begin (a, &w, r, 3);
  kv (&w, SP_MSG_BULK_NEXT_OFFSET, bulk_next (a));
  kv (&w, SP_MSG_BULK_SIZE, st->bulk_size);
  sp_cbor_put_uint (&w, SP_MSG_BULK_DIGEST);
  sp_cbor_put_bytes (&w, st->bulk_digest, SP_SHA256_LEN);
  return answer_end (a, &w);
}

/* ------------------------------------------------------------------ */
/* READ, REVOCATION                                                    */
/* ------------------------------------------------------------------ */

static bool
key_requested (const sp_msg_request *r, const uint8_t *key, size_t len)
{
  sp_msg_cursor c;
  sp_msg_value v;

  if (!r->has_keys)
    return true;
  if (sp_msg_cursor_init_bytes (&c, r->keys, SP_CBOR_ARRAY) != SP_OK)
    return false;
  while (sp_msg_cursor_next (&c, &v))
    if (same (v.ptr, (size_t) v.u, key, len))
      return true;
  return false;
}

/* Copy p[0..len) to the writer, which may lie below it in the same
 * buffer (memmove). */
static void
put_moved (sp_cbor_writer *w, const uint8_t *p, size_t len)
{
  if (w->err != SP_OK)
    return;
  if (len > w->cap - w->len)
    {
      w->err = SP_ERR_BUFFER_TOO_SMALL;
      return;
    }
  memmove (w->buf + w->len, p, len);
  w->len += len;
}

static SA_NOINLINE sp_msg_status
do_read (sa_agent *a, const sp_msg_request *r)
{
  const sa_state *st = &a->store.state;
  uint8_t *cfg = a->buf.bytes + OLD_CFG;
  sp_msg_cursor c;
  sp_msg_value k, v;
  sp_cbor_writer w;
  size_t n = 0, pass;

  if (!a->session.authorized)
    return no_token (a);
  if (!(a->session.scope & SA_SCOPE_READ))
    return SP_MSG_SCOPE;
  if (r->has_keys)
    {
      if (sp_msg_cursor_init_bytes (&c, r->keys, SP_CBOR_ARRAY) != SP_OK)
        return SP_MSG_MALFORMED;
      while (sp_msg_cursor_next (&c, &v))
        if (sa_schema_find (a->schema, (const char *) v.ptr, (size_t) v.u) == NULL)
          return SP_MSG_SCHEMA;
    }
  if (read_slot (a, &st->current, cfg) != SP_OK)
    {
      sp_wipe (cfg, SA_CONFIG_MAX);
      return SP_MSG_STORAGE;
    }

  /* Count, then copy the entries down: the writer never passes what it
   * has still to read (it starts OLD_CFG bytes lower and writes no more
   * than it reads), though one copy may overlap its source. */
  answer_begin (a, &w, r, 2);
  sp_cbor_put_uint (&w, SP_MSG_READ_CONFIG);
  for (pass = 0; pass < 2; pass++)
    {
      if (pass == 1)
        sp_cbor_put_map (&w, n);
      sp_msg_cursor_init (&c, cfg, st->current.len, SP_CBOR_MAP);
      while (sp_msg_cursor_next_pair (&c, &k, &v))
        {
          const sa_field *f = sa_schema_find (a->schema, (const char *) k.ptr,
                                              (size_t) k.u);

          if (f == NULL || f->secret || !key_requested (r, k.ptr, (size_t) k.u))
            continue;
          if (pass == 0)
            n++;
          else
            {
              put_moved (&w, k.raw, k.raw_len);
              put_moved (&w, v.raw, v.raw_len);
            }
        }
    }
  /* Done with the committed configuration and its secrets. */
  if (w.err == SP_OK)
    sp_wipe (a->buf.bytes + w.len, SA_MSG_MAX - w.len);
  /* Keys in deterministic order. */
  sp_cbor_put_uint (&w, SP_MSG_READ_DIAGNOSTICS);
  sp_cbor_put_map (&w, 3);
  sp_cbor_put_textz (&w, "boots");
  sp_cbor_put_uint (&w, st->boots);
  sp_cbor_put_textz (&w, "frames_dropped");
  sp_cbor_put_uint (&w, a->frames_dropped);
  sp_cbor_put_textz (&w, "deadline_rollbacks");
  sp_cbor_put_uint (&w, st->deadline_rollbacks);
  return answer_end (a, &w);
}

static SA_NOINLINE sp_msg_status
do_revocation (sa_agent *a, const sp_msg_request *r)
{
  const sa_state *st = &a->store.state;
  sp_revocation_list *list = TAIL_LIST (a);
  const sp_cose_sign1 *m = TAIL_SIGN1 (a);
  sa_session *s = &a->session;
  sa_slot_ref held;
  bool equal = false, hit = false;
  sp_err err;

  if (!s->active)
    return SP_MSG_BAD_STATE;
  if (sp_msg_sign1_decode (r->list.ptr, r->list.len, SP_REVOCATION_CONTENT_TYPE,
                           a->buf.items, HEAD_ITEMS, TAIL_SIGN1 (a)) != SP_OK)
    return SP_MSG_MALFORMED;
  if (!authority_verify (a, m))
    return SP_MSG_TOKEN_SIGNATURE;
  err = sp_revocation_decode (m->payload, m->payload_len, a->buf.items, HEAD_ITEMS, list);
  if (err != SP_OK)
    return sp_msg_request_status (err, NULL);
  if (m->payload_len > SA_REVOCATION_MAX)
    return SP_MSG_TOO_LARGE;

  /* Only a newer list replaces the held one; the same list again is no
   * error, another list under the same version is. */
  if (st->revocation_slot != SA_SLOT_NONE)
    {
      if (list->version < st->revocation_version)
        return SP_MSG_REVOCATION_STALE;
      if (list->version == st->revocation_version)
        {
          if (m->payload_len == st->revocation_len &&
              sa_store_equals (&a->store,
                               sa_store_revocation (&a->store, st->revocation_slot),
                               m->payload, m->payload_len, &equal) != SP_OK)
            return SP_MSG_STORAGE;
          if (!equal)
            return SP_MSG_REVOCATION_STALE;
          return answer_uint (a, r, SP_MSG_REVOCATION_VERSION, list->version);
        }
    }
  held.slot = st->revocation_slot == 0 ? 1 : 0;
  held.version = list->version;
  held.len = (uint16_t) m->payload_len;
  held.crc = sp_crc32 (m->payload, m->payload_len);
  held.classes = 0;
  if (sa_store_rewrite (&a->store, sa_store_revocation (&a->store, held.slot), m->payload,
                        m->payload_len) != SP_OK ||
      change (a, CHANGE_REVOCATION, &held, NULL) != SP_OK)
    return SP_MSG_STORAGE;
  /* A list that names the bound token (its cti or sub) ends it now, as
   * AUTHORIZE would refuse it (a list that cannot be read back ends it
   * too). The list's view in buf is no longer needed. */
  if (s->authorized &&
      (is_revoked (a, a->buf.bytes, s->cti, s->cti_len, NULL, 0, &hit) != SP_OK || hit))
    {
      s->authorized = false;
      s->revoked = true;
    }
  return answer_uint (a, r, SP_MSG_REVOCATION_VERSION, held.version);
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

/* The commands: checked here, once, then handed to their op. */
static SA_NOINLINE sp_msg_status
handle_command (sa_agent *a, const sp_msg_request *r, sp_msg_op op)
{
  command c;
  sp_msg_status status = check_command (a, r, op, &c);

  if (status != SP_MSG_OK)
    return status;
  /* BULK_BEGIN's last check is its scope (APPLY, COMMIT and ROLLBACK
   * check theirs in their own tables); a command that passes raises the
   * sequence number, even if the op then fails. */
  if (op == SP_MSG_OP_BULK_BEGIN && !scope_allows (a, SA_SCOPE_OF (SA_CLASS_FIRMWARE)))
    return SP_MSG_SCOPE;
  a->session.seq = c.cmd.seq;
  switch (op)
    {
    case SP_MSG_OP_APPLY:
      return do_apply (a, r, &c);
    case SP_MSG_OP_COMMIT:
      return do_commit (a, r, &c);
    case SP_MSG_OP_ROLLBACK:
      return do_rollback (a, r, &c);
    default:
      return do_bulk_begin (a, r, &c);
    }
}

static sp_msg_status
handle (sa_agent *a, const sp_msg_request *r)
{
  switch (r->type)
    {
    case SP_MSG_BULK_BEGIN:
    case SP_MSG_BULK_DATA:
    case SP_MSG_BULK_STATUS:
      if (!bulk_supported (a))
        return SP_MSG_UNSUPPORTED;
      break;
    default:
      break;
    }
  switch (r->type)
    {
    case SP_MSG_HELLO:
      return do_hello (a, r);
    case SP_MSG_ATTEST:
      return do_attest (a, r);
    case SP_MSG_AUTHORIZE:
      return do_authorize (a, r);
    case SP_MSG_APPLY:
      return handle_command (a, r, SP_MSG_OP_APPLY);
    case SP_MSG_COMMIT:
      return handle_command (a, r, SP_MSG_OP_COMMIT);
    case SP_MSG_ROLLBACK:
      return handle_command (a, r, SP_MSG_OP_ROLLBACK);
    case SP_MSG_BULK_BEGIN:
      return handle_command (a, r, SP_MSG_OP_BULK_BEGIN);
    case SP_MSG_BULK_DATA:
      return do_bulk_data (a, r);
    case SP_MSG_BULK_STATUS:
      return do_bulk_status (a, r);
    case SP_MSG_READ:
      return do_read (a, r);
    case SP_MSG_REVOCATION:
      return do_revocation (a, r);
    case SP_MSG_BYE:
      return do_bye (a, r);
    default:
      return SP_MSG_UNSUPPORTED;
    }
}

/* A refusal: keys 0-2 only, but BULK_DATA's BULK_OFFSET carries where to
 * resume. A request whose type or id could not be read is answered as
 * type 0, id 0. */
static void
answer_refusal (sa_agent *a, const sp_msg_request *r, sp_msg_status status)
{
  bool resume = r->type == SP_MSG_BULK_DATA && status == SP_MSG_BULK_OFFSET;
  sp_cbor_writer w;
  size_t len = 0;

  sp_cbor_writer_init (&w, a->buf.bytes, SA_MSG_MAX);
  sp_msg_response_begin (&w, r->envelope_ok ? r->type : 0,
                         r->envelope_ok ? r->id : 0, status, resume);
  if (resume)
    kv (&w, SP_MSG_BULK_NEXT_OFFSET, bulk_next (a));
  sp_cbor_writer_finish (&w, &len);
  a->resp_len = (uint32_t) len;
}

size_t
sa_agent_dispatch (sa_agent *a, const uint8_t *req, size_t len,
                   const uint8_t **resp)
{
  uint8_t digest[SP_SHA256_LEN];
  sp_msg_request r;
  sp_msg_status status;
  bool have_digest;
  sp_err err;

  *resp = a->buf.bytes;
  if (a->magic != SA_MAGIC || (req == NULL && len > 0))
    return 0;

  /* The same bytes (so the same id) as the request answered last: the
   * same answer, not acted on again. */
  have_digest = sha256 (a, req, len, digest) == SP_OK;
  if (have_digest && a->cached && memcmp (digest, a->cache_digest, SP_SHA256_LEN) == 0)
    return a->resp_len;
  a->cached = false;
  a->resp_len = 0;

  err = sp_msg_request_decode (req, len, a->buf.items, SA_ITEMS, &r);
  status = sp_msg_request_status (err, &r);
  if (status == SP_MSG_OK)
    status = handle (a, &r);
  if (status != SP_MSG_OK)
    answer_refusal (a, &r, status);

  if (have_digest && a->resp_len > 0)
    {
      memcpy (a->cache_digest, digest, SP_SHA256_LEN);
      a->cached = true;
    }
  return a->resp_len;
}

size_t
sa_agent_handle (sa_agent *a, const uint8_t *req, size_t len, uint8_t *resp,
                 size_t cap)
{
  const uint8_t *p;
  size_t n = sa_agent_dispatch (a, req, len, &p);

  if (n == 0 || n > cap || resp == NULL)
    return 0;
  memcpy (resp, p, n);
  return n;
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */
/* ------------------------------------------------------------------ */

void
sa_agent_set_l2cap_psm (sa_agent *agent, uint16_t psm)
{
  agent->l2cap_psm = psm;
}

void
sa_agent_tick (sa_agent *a)
{
  const sa_state *st = &a->store.state;

  if (a->magic != SA_MAGIC || st->pending.slot == SA_SLOT_NONE ||
      a->platform->monotonic_ms (a->platform->ctx) < a->deadline_ms)
    return;
  /* On failure it stays pending and the next tick tries again. */
  (void) change (a, CHANGE_DEADLINE, NULL, NULL);
}

void
sa_agent_note_dropped (sa_agent *a, uint32_t frames)
{
  a->frames_dropped += frames;
}

void
sa_agent_get_status (const sa_agent *a, sa_status *out)
{
  const sa_state *st = &a->store.state;

  memset (out, 0, sizeof *out);
  out->committed_version = st->current.version;
  out->pending_version = st->pending.slot != SA_SLOT_NONE ? st->pending.version : 0;
  out->clock_floor = st->clock_floor;
  out->revocation_version = st->revocation_version;
  out->boots = st->boots;
  out->deadline_rollbacks = st->deadline_rollbacks;
  memcpy (out->config_digest, a->config_digest, SP_SHA256_LEN);
}

void
sa_agent_close (sa_agent *a)
{
  if (a->magic == SA_MAGIC && a->platform != NULL)
    {
      const sp_crypto_port *port = crypto (a);

      if (a->identity_key != NULL)
        port->key_free (port->ctx, a->identity_key);
      if (a->kem_key != NULL)
        port->key_free (port->ctx, a->kem_key);
    }
  sp_wipe (a, sizeof *a);
}

static sp_err
import_key (sa_agent *a, unsigned which, sp_key **out)
{
  uint8_t d[SP_P256_SCALAR_LEN];
  sp_err err = sa_store_identity_key (&a->store, which, d);

  if (err == SP_OK)
    err = crypto (a)->p256_import_private (crypto (a)->ctx, d, out);
  sp_wipe (d, sizeof d);
  return err;
}

sp_err
sa_agent_boot (sa_agent *a, const sa_platform *platform, const sa_schema *schema)
{
  const sa_state *st;
  char model[SA_SERIAL_MAX];
  size_t len;
  sp_err err;

  if (a == NULL)
    return SP_ERR_INVALID_ARG;
  sa_agent_close (a);
  if (platform == NULL || platform->crypto == NULL || platform->monotonic_ms == NULL ||
      sa_schema_check (schema) != SP_OK)
    return SP_ERR_INVALID_ARG;
  a->platform = platform;
  a->schema = schema;
  /* close () frees keys only of a booted agent: mark it so from here on. */
  a->magic = SA_MAGIC;

  err = sa_store_init (&a->store, &platform->flash, platform->ctx);
  if (err == SP_OK)
    err = sa_store_load (&a->store);
  if (err == SP_OK)
    err = sa_store_identity_check (&a->store);
  if (err == SP_OK)
    err = sa_store_identity_text (&a->store, SA_ID_MODEL, model, &len);
  if (err == SP_OK && !same (model, len, schema->model, strlen (schema->model)))
    err = SP_ERR_VALUE;
  if (err == SP_OK)
    err = import_key (a, SA_ID_IDENTITY_KEY, &a->identity_key);
  if (err == SP_OK)
    err = import_key (a, SA_ID_KEM_KEY, &a->kem_key);
  st = &a->store.state;
  if (err == SP_OK)
    err = slot_digest (a, &st->current, a->config_digest);
  if (err != SP_OK)
    {
      sa_agent_close (a);
      return err;
    }

  a->bulk_next = st->bulk_state == SA_BULK_RECEIVING ? st->bulk_offset : 0;
  /* Count the boot; a pending slot found now has lost its session. */
  if (change (a, CHANGE_BOOT, NULL, NULL) != SP_OK)
    {
      /* The flash will say the same at the next boot; run as if it
       * had been written. */
      a->store.state.boots++;
      clear_ref (&a->store.state.pending);
    }
  return SP_OK;
}
