/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-eventlog-verifier.c: one-pass verification of an event log.
 *
 * The verifier walks the records in order, hashing each once, and checks
 * for each: its shape, its seq, its prev_hash, its place in the log's
 * grammar (session.start first, at most seal_interval records per epoch,
 * session.end then the final seal, nothing after), and for a seal its
 * epoch number and MAC under the key of *that* epoch, derived in order
 * from K_0. The first failure ends the walk and is the verdict.
 *
 * Two lessons from journald's forward-secure sealing
 * (CVE-2023-31438/31439): its verifier took the epoch from the tag it was
 * checking, and accepted entries after the last tag. Here the epoch is the
 * verifier's own count -- a seal claiming another is refused -- and a
 * record no seal covers is never VERIFIED: the verdict is UNSEALED_TAIL or
 * TRUNCATED, naming the last sealed seq.
 */
#include "config.h"

#include <string.h>

#include <openssl/crypto.h>

#include "signet-crypto.h"
#include "signet-eventlog-private.h"
#include "signet-secret.h"

/* ---- names -------------------------------------------------------------- */

const char *
signet_event_log_verdict_to_string (SignetEventLogVerdict verdict)
{
  switch (verdict)
    {
    case SIGNET_EVENT_LOG_VERIFIED: return "verified";
    case SIGNET_EVENT_LOG_TAMPERED: return "tampered";
    case SIGNET_EVENT_LOG_TRUNCATED: return "truncated";
    case SIGNET_EVENT_LOG_UNSEALED_TAIL: return "unsealed-tail";
    case SIGNET_EVENT_LOG_MALFORMED: return "malformed";
    default: return "unknown";
    }
}

const char *
signet_event_log_reason_to_string (SignetEventLogReason reason)
{
  static const char * const names[] = {
    [SIGNET_EVENT_LOG_REASON_NONE] = "none",
    [SIGNET_EVENT_LOG_REASON_EMPTY] = "empty",
    [SIGNET_EVENT_LOG_REASON_PARTIAL_RECORD] = "partial-record",
    [SIGNET_EVENT_LOG_REASON_NO_SESSION_END] = "no-session-end",
    [SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS] = "unsealed-records",
    [SIGNET_EVENT_LOG_REASON_CBOR] = "cbor",
    [SIGNET_EVENT_LOG_REASON_TOO_LARGE] = "too-large",
    [SIGNET_EVENT_LOG_REASON_BAD_SHAPE] = "bad-shape",
    [SIGNET_EVENT_LOG_REASON_BAD_TYPE] = "bad-type",
    [SIGNET_EVENT_LOG_REASON_BAD_DATA] = "bad-data",
    [SIGNET_EVENT_LOG_REASON_BAD_SESSION_START] = "bad-session-start",
    [SIGNET_EVENT_LOG_REASON_UNSUPPORTED_VERSION] = "unsupported-version",
    [SIGNET_EVENT_LOG_REASON_BAD_SEAL] = "bad-seal",
    [SIGNET_EVENT_LOG_REASON_NOT_SESSION_START] = "not-session-start",
    [SIGNET_EVENT_LOG_REASON_SEQ_GAP] = "seq-gap",
    [SIGNET_EVENT_LOG_REASON_SEQ_REPEATED] = "seq-repeated",
    [SIGNET_EVENT_LOG_REASON_SEQ_BACKWARDS] = "seq-backwards",
    [SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN] = "chain-broken",
    [SIGNET_EVENT_LOG_REASON_SESSION_START_REPEATED] = "session-start-repeated",
    [SIGNET_EVENT_LOG_REASON_RECORD_AFTER_END] = "record-after-end",
    [SIGNET_EVENT_LOG_REASON_SEAL_MISSING] = "seal-missing",
    [SIGNET_EVENT_LOG_REASON_EMPTY_EPOCH] = "empty-epoch",
    [SIGNET_EVENT_LOG_REASON_EPOCH_SKIPPED] = "epoch-skipped",
    [SIGNET_EVENT_LOG_REASON_EPOCH_MISMATCH] = "epoch-mismatch",
    [SIGNET_EVENT_LOG_REASON_SEAL_MAC] = "seal-mac",
    [SIGNET_EVENT_LOG_REASON_TRAILING_DATA] = "trailing-data",
  };

  if ((guint) reason < G_N_ELEMENTS (names) && names[reason] != NULL)
    return names[reason];
  return "unknown";
}

/* ---- state --------------------------------------------------------------- */

/* Everything the walk carries from one record to the next. */
typedef struct {
  guint64 next_seq;
  guint64 epoch;
  guint64 pending;          /* records since the last seal */
  guint64 interval;         /* from record 0; 0 before it */
  guint64 offset;           /* bytes accepted */
  guint64 n_records;
  guint64 n_seals;
  guint64 first_time;
  guint64 last_time;
  gint64 last_sealed_seq;   /* -1: none */
  gboolean ended;           /* session.end accepted */
  gboolean complete;        /* its final seal accepted */
  guint8 head[SIGNET_EVENT_LOG_HASH_LEN];
  guint8 sealed_head[SIGNET_EVENT_LOG_HASH_LEN];
  guint8 key[SIGNET_EVENT_LOG_KEY_LEN];   /* K_epoch */
  char *session_id;
  char *actor;
} WalkState;

static void
walk_state_copy (WalkState       *dst,
                 const WalkState *src)
{
  *dst = *src;
  dst->session_id = g_strdup (src->session_id);
  dst->actor = g_strdup (src->actor);
}

static void
walk_state_clear (WalkState *st)
{
  signet_secret_wipe (st->key, sizeof st->key);
  g_clear_pointer (&st->session_id, g_free);
  g_clear_pointer (&st->actor, g_free);
}

struct _SignetEventLogState {
  gatomicrefcount ref_count;
  WalkState st;
};

G_DEFINE_BOXED_TYPE (SignetEventLogState, signet_event_log_state,
                     signet_event_log_state_ref, signet_event_log_state_unref)

SignetEventLogState *
signet_event_log_state_ref (SignetEventLogState *state)
{
  g_return_val_if_fail (state != NULL, NULL);
  g_atomic_ref_count_inc (&state->ref_count);
  return state;
}

void
signet_event_log_state_unref (SignetEventLogState *state)
{
  g_return_if_fail (state != NULL);
  if (g_atomic_ref_count_dec (&state->ref_count))
    {
      walk_state_clear (&state->st);
      g_free (state);
    }
}

guint64
signet_event_log_state_get_next_seq (SignetEventLogState *state)
{
  g_return_val_if_fail (state != NULL, 0);
  return state->st.next_seq;
}

guint64
signet_event_log_state_get_epoch (SignetEventLogState *state)
{
  g_return_val_if_fail (state != NULL, 0);
  return state->st.epoch;
}

const guint8 *
signet_event_log_state_get_chain_head (SignetEventLogState *state)
{
  g_return_val_if_fail (state != NULL, NULL);
  return state->st.head;
}

gint64
signet_event_log_state_get_last_sealed_seq (SignetEventLogState *state)
{
  g_return_val_if_fail (state != NULL, -1);
  return state->st.last_sealed_seq;
}

const guint8 *
signet_event_log_state_get_sealed_head (SignetEventLogState *state)
{
  g_return_val_if_fail (state != NULL, NULL);
  return state->st.sealed_head;
}

gboolean
signet_event_log_state_is_complete (SignetEventLogState *state)
{
  g_return_val_if_fail (state != NULL, FALSE);
  return state->st.complete;
}

gboolean
signet_event_log_state_is_ended (SignetEventLogState *state)
{
  g_return_val_if_fail (state != NULL, FALSE);
  return state->st.ended;
}

/* The serialized layout, version 2 (all integers big-endian):
 *   "SLS2" | next_seq epoch pending interval offset n_records n_seals
 *   first_time last_time last_sealed_seq (10 x u64; -1 as all ones) |
 *   flags (u8: 1 ended, 2 complete) | head | sealed_head | key (3 x 32) |
 *   u16 len + session id | u16 len + actor (len 0: none yet) |
 *   SHA-256 of all that.
 * The checksum is what lets deserialize refuse every bytes serialize did
 * not make: without it a changed byte of a hash, the key, a time or the
 * offset would load as another, plausible state (version 1 had none). */
#define STATE_MAGIC "SLS2"
#define STATE_FIXED_LEN (4 + 10 * 8 + 1 + 3 * 32)
#define STATE_SUM_LEN SIGNET_SHA256_LEN

static void
put_u64 (GByteArray *out,
         guint64     v)
{
  guint8 b[8];

  for (int i = 7; i >= 0; i--, v >>= 8)
    b[i] = (guint8) (v & 0xff);
  g_byte_array_append (out, b, sizeof b);
}

static guint64
get_u64 (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 0; i < 8; i++)
    v = (v << 8) | p[i];
  return v;
}

static void
put_text (GByteArray *out,
          const char *text)
{
  gsize len = text != NULL ? strlen (text) : 0;
  guint8 b[2] = { (guint8) (len >> 8), (guint8) (len & 0xff) };

  g_byte_array_append (out, b, sizeof b);
  if (len > 0)
    g_byte_array_append (out, (const guint8 *) text, (guint) len);
}

/* A text of the layout at *pos, or NULL for length 0; FALSE when it does
 * not fit or is not a name the walk could have kept. */
static gboolean
get_text (const guint8  *p,
          gsize          len,
          gsize         *pos,
          char         **out)
{
  gsize n;

  *out = NULL;
  if (len - *pos < 2)
    return FALSE;
  n = ((gsize) p[*pos] << 8) | p[*pos + 1];
  *pos += 2;
  if (n > _SIGNET_EVENT_LOG_MAX_NAME || len - *pos < n)
    return FALSE;
  if (n > 0)
    {
      if (memchr (p + *pos, '\0', n) != NULL ||
          !g_utf8_validate ((const char *) p + *pos, (gssize) n, NULL))
        return FALSE;
      *out = g_strndup ((const char *) p + *pos, n);
    }
  *pos += n;
  return TRUE;
}

GBytes *
signet_event_log_state_serialize (SignetEventLogState *state)
{
  g_autoptr(GByteArray) out = NULL;
  const WalkState *st;
  guint8 flags;
  guint8 sum[STATE_SUM_LEN];
  GBytes *bytes;

  g_return_val_if_fail (state != NULL, NULL);
  st = &state->st;
  out = g_byte_array_sized_new (STATE_FIXED_LEN + 2 * (2 + _SIGNET_EVENT_LOG_MAX_NAME) +
                                STATE_SUM_LEN);
  g_byte_array_append (out, (const guint8 *) STATE_MAGIC, 4);
  put_u64 (out, st->next_seq);
  put_u64 (out, st->epoch);
  put_u64 (out, st->pending);
  put_u64 (out, st->interval);
  put_u64 (out, st->offset);
  put_u64 (out, st->n_records);
  put_u64 (out, st->n_seals);
  put_u64 (out, st->first_time);
  put_u64 (out, st->last_time);
  put_u64 (out, (guint64) st->last_sealed_seq);
  flags = (st->ended ? 1 : 0) | (st->complete ? 2 : 0);
  g_byte_array_append (out, &flags, 1);
  g_byte_array_append (out, st->head, sizeof st->head);
  g_byte_array_append (out, st->sealed_head, sizeof st->sealed_head);
  g_byte_array_append (out, st->key, sizeof st->key);
  put_text (out, st->session_id);
  put_text (out, st->actor);
  signet_sha256_buf (out->data, out->len, sum);
  g_byte_array_append (out, sum, sizeof sum);
  bytes = signet_secret_bytes_new (out->data, out->len);
  signet_secret_wipe (out->data, out->len);
  return bytes;
}

SignetEventLogState *
signet_event_log_state_deserialize (GBytes  *bytes,
                                    GError **error)
{
  SignetEventLogState *state;
  WalkState st = { 0 };
  const guint8 *p;
  gsize len, pos;
  guint8 flags;
  guint8 sum[STATE_SUM_LEN];

  g_return_val_if_fail (bytes != NULL, NULL);
  p = g_bytes_get_data (bytes, &len);
  if (len < STATE_FIXED_LEN + 4 + STATE_SUM_LEN || memcmp (p, STATE_MAGIC, 4) != 0)
    goto invalid;
  /* Checked first; then the layout is read without it. */
  len -= STATE_SUM_LEN;
  signet_sha256_buf (p, len, sum);
  if (CRYPTO_memcmp (sum, p + len, STATE_SUM_LEN) != 0)
    goto invalid;
  pos = 4;
  st.next_seq = get_u64 (p + pos), pos += 8;
  st.epoch = get_u64 (p + pos), pos += 8;
  st.pending = get_u64 (p + pos), pos += 8;
  st.interval = get_u64 (p + pos), pos += 8;
  st.offset = get_u64 (p + pos), pos += 8;
  st.n_records = get_u64 (p + pos), pos += 8;
  st.n_seals = get_u64 (p + pos), pos += 8;
  st.first_time = get_u64 (p + pos), pos += 8;
  st.last_time = get_u64 (p + pos), pos += 8;
  st.last_sealed_seq = (gint64) get_u64 (p + pos), pos += 8;
  flags = p[pos++];
  memcpy (st.head, p + pos, 32), pos += 32;
  memcpy (st.sealed_head, p + pos, 32), pos += 32;
  memcpy (st.key, p + pos, 32), pos += 32;
  st.ended = (flags & 1) != 0;
  st.complete = (flags & 2) != 0;
  if (!get_text (p, len, &pos, &st.session_id) || !get_text (p, len, &pos, &st.actor) ||
      pos != len || (flags & ~3) != 0 || (st.complete && !st.ended) ||
      st.interval > SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL || st.pending > st.interval ||
      st.n_records != st.next_seq || st.n_seals != st.epoch || st.n_seals > st.n_records ||
      st.last_sealed_seq < -1 || st.last_sealed_seq >= (gint64) MIN (st.next_seq, G_MAXINT64) ||
      (st.next_seq > 0) != (st.session_id != NULL && st.actor != NULL && st.interval > 0))
    {
      walk_state_clear (&st);
      goto invalid;
    }
  state = g_new0 (SignetEventLogState, 1);
  g_atomic_ref_count_init (&state->ref_count);
  state->st = st;   /* takes the strings; st's key copy is wiped below */
  signet_secret_wipe (st.key, sizeof st.key);
  return state;

invalid:
  g_set_error_literal (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                       "not a serialized event log verifier state");
  return NULL;
}

/* ---- SignetEventLogResult ------------------------------------------------ */

struct _SignetEventLogResult {
  GObject parent_instance;

  SignetEventLogVerdict verdict;
  SignetEventLogReason reason;
  char *message;
  gint64 index;
  gint64 seq;
  gint64 offset;
  gint64 last_sealed_seq;
  guint64 n_records;
  guint64 n_seals;
  guint64 first_time;
  guint64 last_time;
  char *session_id;
  char *actor;
};

G_DEFINE_FINAL_TYPE (SignetEventLogResult, signet_event_log_result, G_TYPE_OBJECT)

static void
signet_event_log_result_finalize (GObject *object)
{
  SignetEventLogResult *self = SIGNET_EVENT_LOG_RESULT (object);

  g_free (self->message);
  g_free (self->session_id);
  g_free (self->actor);
  G_OBJECT_CLASS (signet_event_log_result_parent_class)->finalize (object);
}

static void
signet_event_log_result_class_init (SignetEventLogResultClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signet_event_log_result_finalize;
}

static void
signet_event_log_result_init (SignetEventLogResult *self)
{
  self->index = self->seq = self->offset = self->last_sealed_seq = -1;
}

static SignetEventLogResult *
result_new (const WalkState       *st,
            SignetEventLogVerdict  verdict,
            SignetEventLogReason   reason,
            gint64                 index,
            gint64                 seq,
            gint64                 offset,
            char                  *message)   /* taken */
{
  SignetEventLogResult *self = g_object_new (SIGNET_TYPE_EVENT_LOG_RESULT, NULL);

  self->verdict = verdict;
  self->reason = reason;
  self->message = message;
  self->index = index;
  self->seq = seq;
  self->offset = offset;
  self->last_sealed_seq = st->last_sealed_seq;
  self->n_records = st->n_records;
  self->n_seals = st->n_seals;
  self->first_time = st->first_time;
  self->last_time = st->last_time;
  self->session_id = g_strdup (st->session_id);
  self->actor = g_strdup (st->actor);
  return self;
}

SignetEventLogVerdict
signet_event_log_result_get_verdict (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), SIGNET_EVENT_LOG_MALFORMED);
  return self->verdict;
}

SignetEventLogReason
signet_event_log_result_get_reason (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), SIGNET_EVENT_LOG_REASON_NONE);
  return self->reason;
}

const char *
signet_event_log_result_get_message (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), NULL);
  return self->message;
}

gint64
signet_event_log_result_get_index (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), -1);
  return self->index;
}

gint64
signet_event_log_result_get_seq (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), -1);
  return self->seq;
}

gint64
signet_event_log_result_get_offset (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), -1);
  return self->offset;
}

gint64
signet_event_log_result_get_last_sealed_seq (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), -1);
  return self->last_sealed_seq;
}

guint64
signet_event_log_result_get_n_records (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), 0);
  return self->n_records;
}

guint64
signet_event_log_result_get_n_seals (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), 0);
  return self->n_seals;
}

guint64
signet_event_log_result_get_first_time (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), 0);
  return self->first_time;
}

guint64
signet_event_log_result_get_last_time (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), 0);
  return self->last_time;
}

const char *
signet_event_log_result_get_session_id (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), NULL);
  return self->session_id;
}

const char *
signet_event_log_result_get_actor (SignetEventLogResult *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_RESULT (self), NULL);
  return self->actor;
}

/* ---- SignetEventLogVerifier ---------------------------------------------- */

struct _SignetEventLogVerifier {
  GObject parent_instance;

  WalkState st;
  gboolean partial;                 /* the last feed stopped inside a record */
  SignetEventLogResult *failure;    /* set at the first failure, for good */

  /* Fetched once: per-record fetches would cost more than the hashing. */
  EVP_MD *md;
  EVP_MD_CTX *md_ctx;
  EVP_MAC_CTX *mac_ctx;
  sp_cbor_item *items;              /* _SIGNET_EVENT_LOG_MAX_ITEMS */
};

G_DEFINE_FINAL_TYPE (SignetEventLogVerifier, signet_event_log_verifier, G_TYPE_OBJECT)

static void
signet_event_log_verifier_finalize (GObject *object)
{
  SignetEventLogVerifier *self = SIGNET_EVENT_LOG_VERIFIER (object);

  walk_state_clear (&self->st);
  g_clear_object (&self->failure);
  EVP_MD_CTX_free (self->md_ctx);
  EVP_MD_free (self->md);
  EVP_MAC_CTX_free (self->mac_ctx);
  g_free (self->items);
  G_OBJECT_CLASS (signet_event_log_verifier_parent_class)->finalize (object);
}

static void
signet_event_log_verifier_class_init (SignetEventLogVerifierClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signet_event_log_verifier_finalize;
}

static void
signet_event_log_verifier_init (SignetEventLogVerifier *self)
{
  self->st.last_sealed_seq = -1;
  self->md = EVP_MD_fetch (NULL, "SHA256", NULL);
  self->md_ctx = EVP_MD_CTX_new ();
  self->mac_ctx = _signet_event_log_hmac_new ();
  if (self->md == NULL || self->md_ctx == NULL || self->mac_ctx == NULL)
    g_error ("OpenSSL lacks SHA-256 or HMAC");
  self->items = g_new (sp_cbor_item, _SIGNET_EVENT_LOG_MAX_ITEMS);
}

SignetEventLogVerifier *
signet_event_log_verifier_new (GBytes *k0)
{
  SignetEventLogVerifier *self;

  g_return_val_if_fail (k0 != NULL, NULL);
  g_return_val_if_fail (g_bytes_get_size (k0) == SIGNET_EVENT_LOG_KEY_LEN, NULL);

  self = g_object_new (SIGNET_TYPE_EVENT_LOG_VERIFIER, NULL);
  memcpy (self->st.key, g_bytes_get_data (k0, NULL), SIGNET_EVENT_LOG_KEY_LEN);
  return self;
}

SignetEventLogVerifier *
signet_event_log_verifier_new_from_state (SignetEventLogState *state)
{
  SignetEventLogVerifier *self;

  g_return_val_if_fail (state != NULL, NULL);

  self = g_object_new (SIGNET_TYPE_EVENT_LOG_VERIFIER, NULL);
  walk_state_copy (&self->st, &state->st);
  return self;
}

SignetEventLogState *
signet_event_log_verifier_get_state (SignetEventLogVerifier *self)
{
  SignetEventLogState *state;

  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_VERIFIER (self), NULL);

  state = g_new0 (SignetEventLogState, 1);
  g_atomic_ref_count_init (&state->ref_count);
  walk_state_copy (&state->st, &self->st);
  return state;
}

/* Record the first failure; the walk stops there. */
static gboolean
fail (SignetEventLogVerifier *self,
      SignetEventLogVerdict   verdict,
      SignetEventLogReason    reason,
      gint64                  seq,
      char                   *message)   /* taken */
{
  self->failure = result_new (&self->st, verdict, reason, (gint64) self->st.n_records, seq,
                              (gint64) self->st.offset, message);
  return FALSE;
}

#define TAMPERED(reason, ...) \
  fail (self, SIGNET_EVENT_LOG_TAMPERED, (reason), (gint64) v->seq, g_strdup_printf (__VA_ARGS__))
#define MALFORMED(reason, ...) \
  fail (self, SIGNET_EVENT_LOG_MALFORMED, (reason), (gint64) v->seq, g_strdup_printf (__VA_ARGS__))

static gboolean
text_is (const char *p,
         gsize       len,
         const char *s)
{
  return strlen (s) == len && memcmp (p, s, len) == 0;
}

/* Record 0's data: exactly {"session": text, "version": 1,
 * "seal_interval": 1..65536}. */
static gboolean
check_session_start (SignetEventLogVerifier  *self,
                     const sp_cbor_doc       *doc,
                     const _SignetRecordView *v)
{
  static const sp_cbor_key keys[] = {
    SP_CBOR_KEY_TEXT ("session"), SP_CBOR_KEY_TEXT ("version"),
    SP_CBOR_KEY_TEXT ("seal_interval"),
  };
  size_t i_session, i_version, i_interval;
  const char *session;
  gsize session_len;
  guint64 version, interval;
  guint64 n = self->st.n_records;

  if (sp_cbor_map_check_keys (doc, v->data_idx, keys, G_N_ELEMENTS (keys)) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "session", &i_session) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "version", &i_version) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "seal_interval", &i_interval) != SP_OK ||
      sp_cbor_get_text (doc, i_session, &session, &session_len) != SP_OK ||
      session_len == 0 || session_len > _SIGNET_EVENT_LOG_MAX_NAME ||
      memchr (session, '\0', session_len) != NULL ||
      sp_cbor_get_uint (doc, i_version, &version) != SP_OK ||
      sp_cbor_get_uint (doc, i_interval, &interval) != SP_OK)
    return MALFORMED (SIGNET_EVENT_LOG_REASON_BAD_SESSION_START,
                      "Record %" G_GUINT64_FORMAT " (session.start) does not hold exactly "
                      "a session id, a format version and a seal interval.", n);
  if (version != SIGNET_EVENT_LOG_FORMAT_VERSION)
    return MALFORMED (SIGNET_EVENT_LOG_REASON_UNSUPPORTED_VERSION,
                      "The log is in format version %" G_GUINT64_FORMAT
                      ", which this version of Signet does not know.", version);
  if (interval == 0 || interval > SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL)
    return MALFORMED (SIGNET_EVENT_LOG_REASON_BAD_SESSION_START,
                      "Record %" G_GUINT64_FORMAT " (session.start) gives a seal interval "
                      "of %" G_GUINT64_FORMAT ", outside 1 to %d.", n, interval,
                      SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL);
  self->st.interval = interval;
  self->st.session_id = g_strndup (session, session_len);
  self->st.actor = g_strndup (v->actor, v->actor_len);
  return TRUE;
}

/* A seal: its shape, its epoch, its MAC under this epoch's key. */
static gboolean
check_seal (SignetEventLogVerifier  *self,
            const sp_cbor_doc       *doc,
            const _SignetRecordView *v)
{
  static const sp_cbor_key keys[] = {
    SP_CBOR_KEY_TEXT ("mac"), SP_CBOR_KEY_TEXT ("epoch"),
  };
  guint8 expected[SIGNET_EVENT_LOG_HASH_LEN];
  guint8 next_key[SIGNET_EVENT_LOG_KEY_LEN];
  size_t i_mac, i_epoch;
  const guint8 *mac;
  gsize mac_len;
  guint64 epoch;
  guint64 n = self->st.n_records;
  gboolean same;

  if (sp_cbor_map_check_keys (doc, v->data_idx, keys, G_N_ELEMENTS (keys)) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "mac", &i_mac) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "epoch", &i_epoch) != SP_OK ||
      sp_cbor_get_bytes (doc, i_mac, &mac, &mac_len) != SP_OK ||
      mac_len != SIGNET_EVENT_LOG_HASH_LEN ||
      sp_cbor_get_uint (doc, i_epoch, &epoch) != SP_OK)
    return MALFORMED (SIGNET_EVENT_LOG_REASON_BAD_SEAL,
                      "Record %" G_GUINT64_FORMAT " is a seal that does not hold exactly "
                      "an epoch number and a 32-byte MAC.", n);
  /* A seal's actor and device are fixed, so that the final seal, which
   * nothing chains to, has no byte its MAC does not pin down. */
  if (v->device != NULL || !text_is (v->actor, v->actor_len, self->st.actor))
    return MALFORMED (SIGNET_EVENT_LOG_REASON_BAD_SEAL,
                      "Record %" G_GUINT64_FORMAT " is a seal with a device, or with "
                      "another actor than the log's.", n);
  if (self->st.pending == 0)
    return TAMPERED (SIGNET_EVENT_LOG_REASON_EMPTY_EPOCH,
                     "Record %" G_GUINT64_FORMAT " is a seal right after another seal: "
                     "a seal was duplicated or records were removed.", n);
  if (epoch > self->st.epoch)
    return TAMPERED (SIGNET_EVENT_LOG_REASON_EPOCH_SKIPPED,
                     "Record %" G_GUINT64_FORMAT " is a seal for epoch %" G_GUINT64_FORMAT
                     " where epoch %" G_GUINT64_FORMAT " must be sealed: it skips an "
                     "epoch, as a seal forged with a later key would.",
                     n, epoch, self->st.epoch);
  if (epoch < self->st.epoch)
    return TAMPERED (SIGNET_EVENT_LOG_REASON_EPOCH_MISMATCH,
                     "Record %" G_GUINT64_FORMAT " is a seal for epoch %" G_GUINT64_FORMAT
                     " where epoch %" G_GUINT64_FORMAT " must be sealed: an earlier seal "
                     "was copied or moved here.", n, epoch, self->st.epoch);

  if (!_signet_event_log_seal_mac (self->mac_ctx, self->st.key, v->seq, epoch, v->time_ms,
                                   v->prev_hash, expected))
    g_error ("HMAC-SHA-256 failed");
  same = CRYPTO_memcmp (expected, mac, SIGNET_EVENT_LOG_HASH_LEN) == 0;
  if (!same)
    return TAMPERED (SIGNET_EVENT_LOG_REASON_SEAL_MAC,
                     "Record %" G_GUINT64_FORMAT " is a seal whose MAC does not verify "
                     "with the key of epoch %" G_GUINT64_FORMAT ": a record of this "
                     "epoch, or the seal itself, was changed -- or the log is checked "
                     "with the wrong key.", n, epoch);

  /* Forward: derive K_{e+1}, then forget K_e. */
  if (!_signet_event_log_next_key (self->mac_ctx, self->st.key, epoch + 1, next_key))
    g_error ("HKDF-SHA256 failed");
  memcpy (self->st.key, next_key, sizeof next_key);
  signet_secret_wipe (next_key, sizeof next_key);
  self->st.epoch++;
  self->st.pending = 0;
  self->st.n_seals++;
  self->st.last_sealed_seq = (gint64) v->seq;
  if (self->st.ended)
    self->st.complete = TRUE;
  return TRUE;
}

/* Check the decoded record p[0..len) (§5, checks 2 to 5); on success the
 * state moves past it. */
static gboolean
check_decoded (SignetEventLogVerifier  *self,
               const guint8            *p,
               gsize                    len,
               const sp_cbor_doc       *doc,
               const _SignetRecordView *v)
{
  guint8 hash[SIGNET_EVENT_LOG_HASH_LEN];
  guint64 n = self->st.n_records;
  gboolean is_seal, is_start, is_end;
  unsigned int hash_len = 0;

  if (v->seq != self->st.next_seq)
    {
      if (v->seq > self->st.next_seq)
        return TAMPERED (SIGNET_EVENT_LOG_REASON_SEQ_GAP,
                         "Record %" G_GUINT64_FORMAT " has seq %" G_GUINT64_FORMAT
                         " where %" G_GUINT64_FORMAT " must come: records were removed "
                         "(or reordered).", n, v->seq, self->st.next_seq);
      if (v->seq + 1 == self->st.next_seq)
        return TAMPERED (SIGNET_EVENT_LOG_REASON_SEQ_REPEATED,
                         "Record %" G_GUINT64_FORMAT " repeats seq %" G_GUINT64_FORMAT
                         " of the record before it: a record was duplicated or "
                         "inserted.", n, v->seq);
      return TAMPERED (SIGNET_EVENT_LOG_REASON_SEQ_BACKWARDS,
                       "Record %" G_GUINT64_FORMAT " has seq %" G_GUINT64_FORMAT
                       ", earlier than the %" G_GUINT64_FORMAT " records before it: "
                       "records were reordered or replayed.", n, v->seq, n);
    }
  if (memcmp (v->prev_hash, self->st.head, SIGNET_EVENT_LOG_HASH_LEN) != 0)
    {
      if (n == 0)
        return TAMPERED (SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN,
                         "Record 0 does not start the chain: its prev_hash is not zero.");
      return TAMPERED (SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN,
                       "Record %" G_GUINT64_FORMAT " does not chain to record %"
                       G_GUINT64_FORMAT ": that record was changed, or records were "
                       "removed or inserted between them.", n, n - 1);
    }

#define TYPE_IS(lit) (v->type_len == sizeof (lit) - 1 && memcmp (v->type, lit, sizeof (lit) - 1) == 0)
  is_seal = TYPE_IS (SIGNET_EVENT_TYPE_SEAL);
  is_start = TYPE_IS (SIGNET_EVENT_TYPE_SESSION_START);
  is_end = TYPE_IS (SIGNET_EVENT_TYPE_SESSION_END);
#undef TYPE_IS

  if (n == 0)
    {
      if (!is_start)
        return TAMPERED (SIGNET_EVENT_LOG_REASON_NOT_SESSION_START,
                         "Record 0 is not session.start.");
      if (!check_session_start (self, doc, v))
        return FALSE;
    }
  else if (is_start)
    return TAMPERED (SIGNET_EVENT_LOG_REASON_SESSION_START_REPEATED,
                     "Record %" G_GUINT64_FORMAT " is a second session.start.", n);

  if (self->st.complete || (self->st.ended && !is_seal))
    return TAMPERED (SIGNET_EVENT_LOG_REASON_RECORD_AFTER_END,
                     "Record %" G_GUINT64_FORMAT " follows session.end%s.", n,
                     self->st.complete ? " and its final seal" : " where only the final seal may");

  if (is_seal)
    {
      if (!check_seal (self, doc, v))
        return FALSE;
    }
  else
    {
      if (self->st.pending >= self->st.interval)
        return TAMPERED (SIGNET_EVENT_LOG_REASON_SEAL_MISSING,
                         "Record %" G_GUINT64_FORMAT " comes after %" G_GUINT64_FORMAT
                         " records without a seal, the most the seal interval allows: "
                         "a seal was removed or moved.", n, self->st.pending);
      self->st.pending++;
      if (is_end)
        self->st.ended = TRUE;
    }

  if (EVP_DigestInit_ex (self->md_ctx, self->md, NULL) != 1 ||
      EVP_DigestUpdate (self->md_ctx, p, len) != 1 ||
      EVP_DigestFinal_ex (self->md_ctx, hash, &hash_len) != 1)
    g_error ("SHA-256 failed");
  memcpy (self->st.head, hash, sizeof hash);
  if (is_seal)
    memcpy (self->st.sealed_head, hash, sizeof hash);
  if (n == 0)
    self->st.first_time = v->time_ms;
  self->st.last_time = v->time_ms;
  self->st.next_seq++;
  self->st.n_records++;
  self->st.offset += len;
  return TRUE;
}

/* Check one whole record p[0..len) that the fast path did not accept. */
static gboolean
check_record (SignetEventLogVerifier *self,
              const guint8           *p,
              gsize                   len)
{
  g_autofree char *detail = NULL;
  _SignetRecordView view;
  sp_cbor_doc doc;
  SignetEventLogReason reason;

  reason = _signet_event_log_parse (p, len, self->items, &doc, &view, &detail);
  if (reason != SIGNET_EVENT_LOG_REASON_NONE)
    return fail (self, SIGNET_EVENT_LOG_MALFORMED, reason, -1,
                 g_strdup_printf ("Record %" G_GUINT64_FORMAT " is malformed: %s.",
                                  self->st.n_records, detail));
  return check_decoded (self, p, len, &doc, &view);
}

gssize
signet_event_log_verifier_feed_data (SignetEventLogVerifier *self,
                                     const guint8           *data,
                                     gsize                   len,
                                     GError                **error)
{
  gsize pos = 0;

  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_VERIFIER (self), -1);
  g_return_val_if_fail (data != NULL || len == 0, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  self->partial = FALSE;
  while (self->failure == NULL && pos < len)
    {
      _SignetRecordView view;
      sp_cbor_doc doc;
      gsize rec_len = 0;

      /* One pass over a valid record's bytes; anything else takes the
       * scan-then-parse path below, which names what is wrong. */
      if (_signet_event_log_parse_next (data + pos, len - pos, self->items, &doc, &view,
                                        &rec_len))
        {
          if (!check_decoded (self, data + pos, rec_len, &doc, &view))
            break;
          pos += rec_len;
          continue;
        }

      switch (_signet_event_log_scan (data + pos, len - pos, &rec_len))
        {
        case _SIGNET_SCAN_COMPLETE:
          break;
        case _SIGNET_SCAN_NEED_MORE:
          self->partial = TRUE;
          return (gssize) pos;
        case _SIGNET_SCAN_TOO_LARGE:
          fail (self, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_TOO_LARGE, -1,
                g_strdup_printf ("Record %" G_GUINT64_FORMAT " is malformed: it is larger "
                                 "than %u bytes.", self->st.n_records,
                                 SIGNET_EVENT_LOG_MAX_RECORD));
          continue;
        case _SIGNET_SCAN_INVALID:
        default:
          {
            g_autofree char *detail = _signet_event_log_invalid_detail (data + pos, rec_len);

            fail (self, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_CBOR, -1,
                  g_strdup_printf ("Record %" G_GUINT64_FORMAT " is malformed: %s.",
                                   self->st.n_records, detail));
          }
          continue;
        }
      if (!check_record (self, data + pos, rec_len))
        break;
      pos += rec_len;
    }

  if (self->failure != NULL)
    {
      g_set_error_literal (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_REJECTED,
                           self->failure->message);
      return -1;
    }
  return (gssize) pos;
}

gssize
signet_event_log_verifier_feed (SignetEventLogVerifier *self,
                                GBytes                 *segment,
                                GError                **error)
{
  gconstpointer p;
  gsize len;

  g_return_val_if_fail (segment != NULL, -1);
  p = g_bytes_get_data (segment, &len);
  return signet_event_log_verifier_feed_data (self, p, len, error);
}

SignetEventLogResult *
signet_event_log_verifier_finish (SignetEventLogVerifier *self)
{
  const WalkState *st;

  g_return_val_if_fail (SIGNET_IS_EVENT_LOG_VERIFIER (self), NULL);

  st = &self->st;
  if (self->failure != NULL)
    return g_object_ref (self->failure);

  if (self->partial)
    {
      if (st->complete)
        return result_new (st, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_TRAILING_DATA,
                           (gint64) st->n_records, -1, (gint64) st->offset,
                           g_strdup ("Bytes follow the final seal: something was appended "
                                     "to a closed log."));
      return result_new (st, SIGNET_EVENT_LOG_TRUNCATED, SIGNET_EVENT_LOG_REASON_PARTIAL_RECORD,
                         (gint64) st->n_records, -1, (gint64) st->offset,
                         st->last_sealed_seq >= 0
                         ? g_strdup_printf ("The log ends inside record %" G_GUINT64_FORMAT
                                            ": it was cut. Records up to seq %" G_GINT64_FORMAT
                                            " are sealed and authentic.",
                                            st->n_records, st->last_sealed_seq)
                         : g_strdup_printf ("The log ends inside record %" G_GUINT64_FORMAT
                                            ", before any seal: it was cut, and nothing "
                                            "in it can be authenticated.", st->n_records));
    }
  if (st->n_records == 0)
    return result_new (st, SIGNET_EVENT_LOG_TRUNCATED, SIGNET_EVENT_LOG_REASON_EMPTY,
                       -1, -1, -1, g_strdup ("The log holds no record."));
  if (st->complete)
    return result_new (st, SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE,
                       -1, -1, -1,
                       g_strdup_printf ("All %" G_GUINT64_FORMAT " records are chained and "
                                        "covered by %" G_GUINT64_FORMAT " seals, and the "
                                        "session was closed.", st->n_records, st->n_seals));
  if (st->pending > 0)
    {
      guint64 first = st->n_records - st->pending;

      return result_new (st, SIGNET_EVENT_LOG_UNSEALED_TAIL,
                         SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS,
                         (gint64) first, (gint64) first, -1,
                         g_strdup_printf ("Records %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                                          " come after the last seal%s: no seal covers "
                                          "them, so they cannot be authenticated (the "
                                          "log was cut after them, or the session "
                                          "crashed).%s",
                                          first, st->n_records - 1,
                                          st->ended ? " (session.end included)" : "",
                                          st->last_sealed_seq >= 0
                                          ? " Records before them are sealed." : ""));
    }
  return result_new (st, SIGNET_EVENT_LOG_TRUNCATED, SIGNET_EVENT_LOG_REASON_NO_SESSION_END,
                     (gint64) st->n_records, -1, (gint64) st->offset,
                     g_strdup_printf ("The log stops at the seal of seq %" G_GINT64_FORMAT
                                      " without session.end: the records after it were "
                                      "cut, or the session was never closed.",
                                      st->last_sealed_seq));
}

SignetEventLogResult *
signet_event_log_verify (GBytes *log,
                         GBytes *k0)
{
  g_autoptr(SignetEventLogVerifier) verifier = NULL;

  g_return_val_if_fail (log != NULL, NULL);
  g_return_val_if_fail (k0 != NULL, NULL);

  verifier = signet_event_log_verifier_new (k0);
  signet_event_log_verifier_feed (verifier, log, NULL);
  return signet_event_log_verifier_finish (verifier);
}

SignetEventLogResult *
signet_event_log_verify_file (const char  *path,
                              GBytes      *k0,
                              GError     **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return NULL;
  bytes = g_mapped_file_get_bytes (file);
  return signet_event_log_verify (bytes, k0);
}
