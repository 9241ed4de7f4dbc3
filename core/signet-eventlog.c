/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-eventlog.c: the event log's record codec, key schedule, data
 * builder and writer. The format is specified in docs/eventlog.md; the
 * verifier is in signet-eventlog-verifier.c, the reader and the exports in
 * signet-eventlog-reader.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include "signet-crypto.h"
#include "signet-eventlog-private.h"
#include "signet-proto-error.h"
#include "signet-secret.h"

G_DEFINE_QUARK (signet-event-log-error-quark, signet_event_log_error)

/* Records are bounded by size; strings inside by the same bound (a device
 * receipt or a token is a few hundred bytes, a certificate chain a few
 * KiB); nesting by 8, which data maps never need more of. */
const sp_cbor_limits _signet_event_log_limits = {
  .max_size = SIGNET_EVENT_LOG_MAX_RECORD,
  .max_depth = 8,
  .max_items = _SIGNET_EVENT_LOG_MAX_ITEMS,
  .max_string_len = SIGNET_EVENT_LOG_MAX_RECORD,
  .max_container_len = 1024,
  .deterministic = TRUE,
};

/* ---- record boundaries -------------------------------------------------- */

_SignetScan
_signet_event_log_scan (const guint8 *p,
                        gsize         avail,
                        gsize        *out_len)
{
  const gsize max = SIGNET_EVENT_LOG_MAX_RECORD;
  gsize pos = 0;
  guint64 need = 1;   /* items still to skip */

  /* Invariants: pos <= max, and need <= max - pos (each item still
   * needed takes at least one byte), so nothing below overflows. */
  while (need > 0)
    {
      guint8 ib, major, ai;
      guint64 val;

      if (pos >= avail)
        return _SIGNET_SCAN_NEED_MORE;
      ib = p[pos++];
      major = ib >> 5;
      ai = ib & 31;
      if (ai < 24)
        val = ai;
      else if (ai <= 27)
        {
          gsize n = (gsize) 1 << (ai - 24);

          if (n > max - pos)
            return _SIGNET_SCAN_TOO_LARGE;
          if (n > avail - pos)
            return _SIGNET_SCAN_NEED_MORE;
          val = 0;
          for (gsize i = 0; i < n; i++)
            val = val << 8 | p[pos + i];
          pos += n;
        }
      else
        {
          /* Reserved, indefinite or a break: *out_len covers the record
           * up to this head, so that what the decoder is shown does not
           * depend on how many bytes happen to follow. */
          *out_len = pos;
          return _SIGNET_SCAN_INVALID;
        }
      need--;

      switch (major)
        {
        case 2: /* byte string */
        case 3: /* text string */
          if (val > max - pos)
            return _SIGNET_SCAN_TOO_LARGE;
          if (val > avail - pos)
            {
              /* Still check that what is needed fits. */
              if (need > max - pos - val)
                return _SIGNET_SCAN_TOO_LARGE;
              return _SIGNET_SCAN_NEED_MORE;
            }
          pos += (gsize) val;
          break;
        case 4: /* array */
          if (val > max)
            return _SIGNET_SCAN_TOO_LARGE;
          need += val;
          break;
        case 5: /* map */
          if (val > max)
            return _SIGNET_SCAN_TOO_LARGE;
          need += 2 * val;
          break;
        case 6: /* tag */
          need += 1;
          break;
        default: /* integers, simple values */
          break;
        }
      if (need > max - pos)
        return _SIGNET_SCAN_TOO_LARGE;
    }
  *out_len = pos;
  return _SIGNET_SCAN_COMPLETE;
}

char *
_signet_event_log_invalid_detail (const guint8 *p,
                                  gsize         prefix_len)
{
  g_autofree sp_cbor_item *items = g_new (sp_cbor_item, _SIGNET_EVENT_LOG_MAX_ITEMS);
  sp_cbor_doc doc;
  sp_err err;

  err = sp_cbor_decode (p, prefix_len, &_signet_event_log_limits, items,
                        _SIGNET_EVENT_LOG_MAX_ITEMS, &doc);
  /* The prefix ends at the bad head: a decoder that stops earlier names
   * an earlier fault; one that runs out of bytes has not seen it. */
  if (err != SP_OK && err != SP_ERR_CBOR_TRUNCATED)
    return g_strdup_printf ("it is not strict deterministic CBOR (%s, at byte %"
                            G_GSIZE_FORMAT " of the record)",
                            sp_strerror (err), (gsize) doc.err_offset);
  return g_strdup_printf ("it is not strict deterministic CBOR (an indefinite length, "
                          "a break or a reserved head, at byte %" G_GSIZE_FORMAT
                          " of the record)", prefix_len - 1);
}

/* ---- record shape ------------------------------------------------------- */

gboolean
_signet_event_log_type_ok (const char *type,
                           gsize       len)
{
  gboolean segment_start = TRUE;

  if (len == 0 || len > _SIGNET_EVENT_LOG_MAX_TYPE)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = type[i];

      if (c == '.')
        {
          if (segment_start)
            return FALSE;
          segment_start = TRUE;
        }
      else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
        segment_start = FALSE;
      else
        return FALSE;
    }
  return !segment_start;
}

gboolean
_signet_event_log_data_ok (const sp_cbor_doc *doc,
                           size_t             idx)
{
  const sp_cbor_item *items = doc->items;
  size_t end = items[idx].next;

  /* Straight over the item array (this runs for every record verified):
   * a map's first key follows it, each value follows its key's subtree,
   * each next key its value's. */
  for (size_t i = idx; i < end; i++)
    {
      if (items[i].type == SP_CBOR_TAG)
        return FALSE;
      if (items[i].type == SP_CBOR_MAP)
        {
          size_t k = i + 1;

          for (guint64 n = 0; n < items[i].value; n++)
            {
              if (items[k].type != SP_CBOR_TEXT)
                return FALSE;
              k = items[items[k].next].next;
            }
        }
    }
  return TRUE;
}

/* A name (actor, device): 1..256 bytes of UTF-8 (the decoder checked
 * that) without NUL, since readers hand it out as a C string. */
static gboolean
name_ok (const char *p,
         gsize       len)
{
  return len > 0 && len <= _SIGNET_EVENT_LOG_MAX_NAME && memchr (p, '\0', len) == NULL;
}

/* The shape of a decoded record (§2). detail may be NULL: the fast path
 * of _signet_event_log_parse_next only needs to know that it failed. */
#define SHAPE_FAIL(reason, ...) \
  do { \
    if (detail != NULL) \
      *detail = g_strdup_printf (__VA_ARGS__); \
    return (reason); \
  } while (0)

static SignetEventLogReason
check_shape (const guint8       *p,
             gsize               len,
             const sp_cbor_doc  *doc,
             _SignetRecordView  *view,
             char              **detail)
{
  const sp_cbor_item *items = doc->items;
  size_t f[7];
  const guint8 *hash;
  gsize hash_len;

  if (items[0].type != SP_CBOR_ARRAY || items[0].value != 7)
    SHAPE_FAIL (SIGNET_EVENT_LOG_REASON_BAD_SHAPE, "it is not an array of 7 fields");
  f[0] = 1;
  for (int i = 1; i < 7; i++)
    f[i] = items[f[i - 1]].next;

  memset (view, 0, sizeof *view);
  view->raw = p;
  view->raw_len = len;
  if (sp_cbor_get_uint (doc, f[0], &view->seq) != SP_OK ||
      sp_cbor_get_uint (doc, f[1], &view->time_ms) != SP_OK)
    SHAPE_FAIL (SIGNET_EVENT_LOG_REASON_BAD_SHAPE, "its seq or time is not an unsigned integer");
  if (sp_cbor_get_text (doc, f[2], &view->type, &view->type_len) != SP_OK)
    SHAPE_FAIL (SIGNET_EVENT_LOG_REASON_BAD_SHAPE, "its type is not a text string");
  if (!_signet_event_log_type_ok (view->type, view->type_len))
    SHAPE_FAIL (SIGNET_EVENT_LOG_REASON_BAD_TYPE, "its type is not a dotted name of [a-z0-9_-]");
  if (sp_cbor_get_text (doc, f[3], &view->actor, &view->actor_len) != SP_OK ||
      !name_ok (view->actor, view->actor_len))
    SHAPE_FAIL (SIGNET_EVENT_LOG_REASON_BAD_SHAPE, "its actor is not a name of 1 to 256 bytes");
  if (items[f[4]].type != SP_CBOR_NULL &&
      (sp_cbor_get_text (doc, f[4], &view->device, &view->device_len) != SP_OK ||
       !name_ok (view->device, view->device_len)))
    SHAPE_FAIL (SIGNET_EVENT_LOG_REASON_BAD_SHAPE,
                "its device is neither null nor a name of 1 to 256 bytes");
  if (items[f[5]].type != SP_CBOR_MAP)
    SHAPE_FAIL (SIGNET_EVENT_LOG_REASON_BAD_SHAPE, "its data is not a map");
  if (!_signet_event_log_data_ok (doc, f[5]))
    SHAPE_FAIL (SIGNET_EVENT_LOG_REASON_BAD_DATA,
                "its data has a map key that is not text, or a tag");
  view->data_idx = f[5];
  view->data = p + items[f[5]].offset;
  view->data_len = items[f[5]].end - items[f[5]].offset;
  if (sp_cbor_get_bytes (doc, f[6], &hash, &hash_len) != SP_OK ||
      hash_len != SIGNET_EVENT_LOG_HASH_LEN)
    SHAPE_FAIL (SIGNET_EVENT_LOG_REASON_BAD_SHAPE, "its prev_hash is not a 32-byte string");
  view->prev_hash = hash;
  return SIGNET_EVENT_LOG_REASON_NONE;
}

#undef SHAPE_FAIL

SignetEventLogReason
_signet_event_log_parse (const guint8       *p,
                         gsize               len,
                         sp_cbor_item       *items,
                         sp_cbor_doc        *doc,
                         _SignetRecordView  *view,
                         char              **detail)
{
  sp_err err;

  err = sp_cbor_decode (p, len, &_signet_event_log_limits, items,
                        _SIGNET_EVENT_LOG_MAX_ITEMS, doc);
  if (err == SP_ERR_CBOR_TOO_LARGE)
    {
      *detail = g_strdup_printf ("it is larger than %u bytes", SIGNET_EVENT_LOG_MAX_RECORD);
      return SIGNET_EVENT_LOG_REASON_TOO_LARGE;
    }
  if (err != SP_OK)
    {
      *detail = g_strdup_printf ("it is not strict deterministic CBOR (%s, at byte %"
                                 G_GSIZE_FORMAT " of the record)",
                                 sp_strerror (err), (gsize) doc->err_offset);
      return SIGNET_EVENT_LOG_REASON_CBOR;
    }
  return check_shape (p, len, doc, view, detail);
}

/* Why this is the same as scan + parse: if the strict decoder finds a
 * whole item in the first n <= SIGNET_EVENT_LOG_MAX_RECORD bytes, the
 * heads-only scan, which checks less, ends at the same n (COMPLETE: every
 * length and count it adds up is one the decoder saw fit in n), and the
 * decoder gives the same items for exactly p[0..n) -- nothing it checks
 * depends on bytes past the item. Any failure goes back to the two-step
 * path, which names it. */
gboolean
_signet_event_log_parse_next (const guint8       *p,
                              gsize               avail,
                              sp_cbor_item       *items,
                              sp_cbor_doc        *doc,
                              _SignetRecordView  *view,
                              gsize              *out_len)
{
  gsize len = 0;

  if (sp_cbor_decode_prefix (p, avail, &_signet_event_log_limits, items,
                             _SIGNET_EVENT_LOG_MAX_ITEMS, doc, &len) != SP_OK)
    return FALSE;
  if (check_shape (p, len, doc, view, NULL) != SIGNET_EVENT_LOG_REASON_NONE)
    return FALSE;
  *out_len = len;
  return TRUE;
}

gboolean
_signet_event_log_read_one (const guint8       *p,
                            gsize               avail,
                            sp_cbor_item       *items,
                            sp_cbor_doc        *doc,
                            _SignetRecordView  *view,
                            gsize              *out_len,
                            GError            **error)
{
  g_autofree char *detail = NULL;
  gsize len = 0;

  if (_signet_event_log_parse_next (p, avail, items, doc, view, out_len))
    return TRUE;
  switch (_signet_event_log_scan (p, avail, &len))
    {
    case _SIGNET_SCAN_COMPLETE:
      break;
    case _SIGNET_SCAN_NEED_MORE:
      g_set_error_literal (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED,
                           "the log ends inside a record");
      return FALSE;
    case _SIGNET_SCAN_TOO_LARGE:
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED,
                   "a record is larger than %u bytes", SIGNET_EVENT_LOG_MAX_RECORD);
      return FALSE;
    case _SIGNET_SCAN_INVALID:
    default:
      detail = _signet_event_log_invalid_detail (p, len);
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED,
                   "malformed record: %s", detail);
      return FALSE;
    }
  if (_signet_event_log_parse (p, len, items, doc, view, &detail) != SIGNET_EVENT_LOG_REASON_NONE)
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED,
                   "malformed record: %s", detail);
      return FALSE;
    }
  *out_len = len;
  return TRUE;
}

/* ---- key schedule ------------------------------------------------------- */

static void
put_u64be (guint8  *out,
           guint64  v)
{
  for (int i = 7; i >= 0; i--)
    {
      out[i] = (guint8) v;
      v >>= 8;
    }
}

EVP_MAC_CTX *
_signet_event_log_hmac_new (void)
{
  g_autoptr(EVP_MAC) mac = EVP_MAC_fetch (NULL, "HMAC", NULL);
  g_autoptr(EVP_MAC_CTX) ctx = NULL;
  OSSL_PARAM params[2];

  if (mac == NULL || (ctx = EVP_MAC_CTX_new (mac)) == NULL)
    return NULL;
  /* The digest is set once: setting it at every init would fetch it
   * again, which costs more than the MAC of a seal. */
  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0);
  params[1] = OSSL_PARAM_construct_end ();
  if (!EVP_MAC_CTX_set_params (ctx, params))
    return NULL;
  return g_steal_pointer (&ctx);
}

/* HMAC-SHA-256 (key, a || b) with a reusable context. */
static gboolean
hmac2 (EVP_MAC_CTX  *ctx,
       const guint8 *key,
       gsize         key_len,
       const guint8 *a,
       gsize         a_len,
       const guint8 *b,
       gsize         b_len,
       guint8        out[SIGNET_SHA256_LEN])
{
  size_t out_len = 0;

  return EVP_MAC_init (ctx, key, key_len, NULL) &&
         EVP_MAC_update (ctx, a, a_len) &&
         (b_len == 0 || EVP_MAC_update (ctx, b, b_len)) &&
         EVP_MAC_final (ctx, out, &out_len, SIGNET_SHA256_LEN) &&
         out_len == SIGNET_SHA256_LEN;
}

gboolean
_signet_event_log_next_key (EVP_MAC_CTX  *ctx,
                            const guint8  key[SIGNET_EVENT_LOG_KEY_LEN],
                            guint64       epoch,
                            guint8        out[SIGNET_EVENT_LOG_KEY_LEN])
{
  g_autoptr(EVP_MAC_CTX) own = NULL;
  static const guint8 zero_salt[SIGNET_SHA256_LEN] = { 0 };
  static const guint8 one = 1;
  guint8 info[sizeof _SIGNET_EVENT_LOG_KEY_LABEL - 1 + 8];
  guint8 prk[SIGNET_SHA256_LEN];
  gboolean ok;

  if (ctx == NULL && (ctx = own = _signet_event_log_hmac_new ()) == NULL)
    return FALSE;
  memcpy (info, _SIGNET_EVENT_LOG_KEY_LABEL, sizeof _SIGNET_EVENT_LOG_KEY_LABEL - 1);
  put_u64be (info + sizeof _SIGNET_EVENT_LOG_KEY_LABEL - 1, epoch);

  /* RFC 5869 with L = HashLen, spelt out over one HMAC context (the
   * verifier derives a key per epoch, and EVP_KDF would set up a new
   * context each time): PRK = HMAC (salt = 32 zero bytes, IKM), then
   * T(1) = HMAC (PRK, info || 0x01). test-eventlog checks the result
   * against EVP_KDF's HKDF byte for byte. */
  ok = hmac2 (ctx, zero_salt, sizeof zero_salt, key, SIGNET_EVENT_LOG_KEY_LEN, NULL, 0, prk) &&
       hmac2 (ctx, prk, sizeof prk, info, sizeof info, &one, 1, out);
  signet_secret_wipe (prk, sizeof prk);
  return ok;
}

gboolean
_signet_event_log_seal_mac (EVP_MAC_CTX  *ctx,
                            const guint8  key[SIGNET_EVENT_LOG_KEY_LEN],
                            guint64       seq,
                            guint64       epoch,
                            guint64       time_ms,
                            const guint8  head[SIGNET_EVENT_LOG_HASH_LEN],
                            guint8        out[SIGNET_EVENT_LOG_HASH_LEN])
{
  g_autoptr(EVP_MAC_CTX) own = NULL;
  guint8 msg[sizeof _SIGNET_EVENT_LOG_SEAL_LABEL - 1 + 24];
  guint8 *q = msg + sizeof _SIGNET_EVENT_LOG_SEAL_LABEL - 1;

  if (ctx == NULL && (ctx = own = _signet_event_log_hmac_new ()) == NULL)
    return FALSE;
  memcpy (msg, _SIGNET_EVENT_LOG_SEAL_LABEL, sizeof _SIGNET_EVENT_LOG_SEAL_LABEL - 1);
  put_u64be (q, seq);
  put_u64be (q + 8, epoch);
  put_u64be (q + 16, time_ms);
  return hmac2 (ctx, key, SIGNET_EVENT_LOG_KEY_LEN, msg, sizeof msg, head,
                SIGNET_EVENT_LOG_HASH_LEN, out);
}

/* ---- JSON of CBOR ------------------------------------------------------- */

static void
json_string (GString    *out,
             const char *p,
             gsize       len)
{
  static const char hex[] = "0123456789abcdef";

  g_string_append_c (out, '"');
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) p[i];

      switch (c)
        {
        case '"': g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (c < 0x20 || c == 0x7f)
            {
              g_string_append (out, "\\u00");
              g_string_append_c (out, hex[c >> 4]);
              g_string_append_c (out, hex[c & 15]);
            }
          else
            g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

static void
hex_append (GString      *out,
            const guint8 *p,
            gsize         len)
{
  static const char hex[] = "0123456789abcdef";

  for (gsize i = 0; i < len; i++)
    {
      g_string_append_c (out, hex[p[i] >> 4]);
      g_string_append_c (out, hex[p[i] & 15]);
    }
}

void
_signet_event_log_item_to_json (const sp_cbor_doc *doc,
                                size_t             idx,
                                GString           *out)
{
  const sp_cbor_item *it = &doc->items[idx];
  sp_cbor_iter iter;
  size_t k, v;
  gboolean first = TRUE;

  switch ((sp_cbor_type) it->type)
    {
    case SP_CBOR_UINT:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, it->value);
      break;
    case SP_CBOR_NINT:
      /* -1 - n, which may be below INT64_MIN. */
      if (it->value == G_MAXUINT64)
        g_string_append (out, "-18446744073709551616");
      else
        g_string_append_printf (out, "-%" G_GUINT64_FORMAT, it->value + 1);
      break;
    case SP_CBOR_BYTES:
      g_string_append_c (out, '"');
      hex_append (out, doc->buf + it->payload, (gsize) it->value);
      g_string_append_c (out, '"');
      break;
    case SP_CBOR_TEXT:
      json_string (out, (const char *) doc->buf + it->payload, (gsize) it->value);
      break;
    case SP_CBOR_ARRAY:
      g_string_append_c (out, '[');
      sp_cbor_iter_init (&iter, doc, idx, SP_CBOR_ARRAY);
      while (sp_cbor_iter_next (&iter, &v))
        {
          if (!first)
            g_string_append_c (out, ',');
          first = FALSE;
          _signet_event_log_item_to_json (doc, v, out);
        }
      g_string_append_c (out, ']');
      break;
    case SP_CBOR_MAP:
      g_string_append_c (out, '{');
      sp_cbor_iter_init (&iter, doc, idx, SP_CBOR_MAP);
      while (sp_cbor_iter_next_pair (&iter, &k, &v))
        {
          if (!first)
            g_string_append_c (out, ',');
          first = FALSE;
          /* Data maps have text keys only (checked on every read). */
          _signet_event_log_item_to_json (doc, k, out);
          g_string_append_c (out, ':');
          _signet_event_log_item_to_json (doc, v, out);
        }
      g_string_append_c (out, '}');
      break;
    case SP_CBOR_BOOL:
      g_string_append (out, it->value ? "true" : "false");
      break;
    case SP_CBOR_TAG:   /* refused in data; never reached */
    case SP_CBOR_NULL:
    default:
      g_string_append (out, "null");
      break;
    }
}

/* ---- SignetEventData ---------------------------------------------------- */

typedef struct {
  char *key;
  GBytes *value;   /* the value's encoding */
} DataEntry;

struct _SignetEventData {
  GArray *entries;   /* of DataEntry */
};

static void
data_entry_clear (gpointer p)
{
  DataEntry *e = p;

  g_clear_pointer (&e->key, g_free);
  g_clear_pointer (&e->value, g_bytes_unref);
}

SignetEventData *
signet_event_data_new (void)
{
  SignetEventData *data = g_new0 (SignetEventData, 1);

  data->entries = g_array_new (FALSE, TRUE, sizeof (DataEntry));
  g_array_set_clear_func (data->entries, data_entry_clear);
  return data;
}

void
signet_event_data_free (SignetEventData *data)
{
  if (data == NULL)
    return;
  g_array_unref (data->entries);
  g_free (data);
}

/* RFC 8949 §4.2.1 order of two text keys: by their encodings, which for
 * text means shorter first, then bytewise. */
static int
key_cmp (const char *a,
         const char *b)
{
  gsize la = strlen (a), lb = strlen (b);

  if (la != lb)
    return la < lb ? -1 : 1;
  return memcmp (a, b, la);
}

static gboolean
data_add (SignetEventData  *data,
          const char       *key,
          const guint8     *enc,
          gsize             len,
          GError          **error)
{
  DataEntry e;
  gsize key_len;

  g_return_val_if_fail (data != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  key_len = strlen (key);
  if (key_len == 0 || key_len > _SIGNET_EVENT_LOG_MAX_NAME ||
      !sp_cbor_utf8_valid ((const guint8 *) key, key_len))
    {
      g_set_error_literal (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                           "event data: a key must be 1 to 256 bytes of UTF-8");
      return FALSE;
    }
  for (guint i = 0; i < data->entries->len; i++)
    if (strcmp (g_array_index (data->entries, DataEntry, i).key, key) == 0)
      {
        g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                     "event data: key \"%s\" given twice", key);
        return FALSE;
      }
  e.key = g_strdup (key);
  e.value = g_bytes_new (enc, len);
  g_array_append_val (data->entries, e);
  return TRUE;
}

/* Encode one scalar with the writer into a small buffer, then add it. */
#define DATA_ADD_SCALAR(data, key, error, put)                 \
  G_STMT_START {                                               \
    guint8 buf_[16];                                           \
    sp_cbor_writer w_;                                         \
    size_t len_ = 0;                                           \
    sp_cbor_writer_init (&w_, buf_, sizeof buf_);              \
    put;                                                       \
    g_assert (sp_cbor_writer_finish (&w_, &len_) == SP_OK);    \
    return data_add (data, key, buf_, len_, error);            \
  } G_STMT_END

gboolean
signet_event_data_add_int (SignetEventData  *data,
                           const char       *key,
                           gint64            value,
                           GError          **error)
{
  DATA_ADD_SCALAR (data, key, error, sp_cbor_put_int (&w_, value));
}

gboolean
signet_event_data_add_uint (SignetEventData  *data,
                            const char       *key,
                            guint64           value,
                            GError          **error)
{
  DATA_ADD_SCALAR (data, key, error, sp_cbor_put_uint (&w_, value));
}

gboolean
signet_event_data_add_bool (SignetEventData  *data,
                            const char       *key,
                            gboolean          value,
                            GError          **error)
{
  DATA_ADD_SCALAR (data, key, error, sp_cbor_put_bool (&w_, value));
}

gboolean
signet_event_data_add_null (SignetEventData  *data,
                            const char       *key,
                            GError          **error)
{
  DATA_ADD_SCALAR (data, key, error, sp_cbor_put_null (&w_));
}

/* A byte or text string: head, then content. */
static gboolean
data_add_string (SignetEventData  *data,
                 const char       *key,
                 gboolean          text,
                 const guint8     *p,
                 gsize             len,
                 GError          **error)
{
  g_autofree guint8 *buf = NULL;
  sp_cbor_writer w;
  size_t out_len = 0;

  if (len > SIGNET_EVENT_LOG_MAX_RECORD)
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_TOO_LARGE,
                   "event data: the value of \"%s\" is larger than a record", key);
      return FALSE;
    }
  buf = g_malloc (len + 9);
  sp_cbor_writer_init (&w, buf, len + 9);
  if (text)
    sp_cbor_put_text (&w, (const char *) p, len);
  else
    sp_cbor_put_bytes (&w, p, len);
  if (sp_cbor_writer_finish (&w, &out_len) != SP_OK)
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                   "event data: the value of \"%s\" is not UTF-8", key);
      return FALSE;
    }
  return data_add (data, key, buf, out_len, error);
}

gboolean
signet_event_data_add_text (SignetEventData  *data,
                            const char       *key,
                            const char       *value,
                            GError          **error)
{
  g_return_val_if_fail (value != NULL, FALSE);
  return data_add_string (data, key, TRUE, (const guint8 *) value, strlen (value), error);
}

gboolean
signet_event_data_add_bytes (SignetEventData  *data,
                             const char       *key,
                             GBytes           *value,
                             GError          **error)
{
  gconstpointer p;
  gsize len;

  g_return_val_if_fail (value != NULL, FALSE);
  p = g_bytes_get_data (value, &len);
  return data_add_string (data, key, FALSE, p, len, error);
}

gboolean
signet_event_data_add_digest (SignetEventData  *data,
                              const char       *key,
                              GBytes           *secret,
                              GError          **error)
{
  guint8 digest[SIGNET_SHA256_LEN];
  gconstpointer p;
  gsize len;

  g_return_val_if_fail (secret != NULL, FALSE);
  p = g_bytes_get_data (secret, &len);
  signet_sha256_buf (p, len, digest);
  return data_add_string (data, key, FALSE, digest, sizeof digest, error);
}

/* Check that cbor[0..len) is one item that a record's data may hold. */
static gboolean
check_data_item (const guint8  *p,
                 gsize          len,
                 gboolean       must_be_map,
                 const char    *what,
                 GError       **error)
{
  g_autofree sp_cbor_item *items = g_new (sp_cbor_item, _SIGNET_EVENT_LOG_MAX_ITEMS);
  sp_cbor_doc doc;
  sp_err err;

  err = sp_cbor_decode (p, len, &_signet_event_log_limits, items,
                        _SIGNET_EVENT_LOG_MAX_ITEMS, &doc);
  if (err != SP_OK)
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                   "event data: %s is not strict deterministic CBOR: %s",
                   what, sp_strerror (err));
      return FALSE;
    }
  if (must_be_map && doc.items[0].type != SP_CBOR_MAP)
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                   "event data: %s is not a map", what);
      return FALSE;
    }
  if (!_signet_event_log_data_ok (&doc, 0))
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                   "event data: %s has a map key that is not text, or a tag", what);
      return FALSE;
    }
  return TRUE;
}

gboolean
signet_event_data_add_cbor (SignetEventData  *data,
                            const char       *key,
                            GBytes           *cbor,
                            GError          **error)
{
  gconstpointer p;
  gsize len;

  g_return_val_if_fail (cbor != NULL, FALSE);
  p = g_bytes_get_data (cbor, &len);
  if (!check_data_item (p, len, FALSE, "a CBOR value", error))
    return FALSE;
  return data_add (data, key, p, len, error);
}

static gint
entry_cmp (gconstpointer a,
           gconstpointer b)
{
  return key_cmp (((const DataEntry *) a)->key, ((const DataEntry *) b)->key);
}

GBytes *
signet_event_data_encode (SignetEventData *data)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GArray) sorted = NULL;
  guint8 head[9];
  guint8 key_buf[3 + _SIGNET_EVENT_LOG_MAX_NAME];
  sp_cbor_writer w;
  size_t len = 0;

  g_return_val_if_fail (data != NULL, NULL);

  /* Sort a copy of the entry structs (the copy owns nothing). */
  sorted = g_array_sized_new (FALSE, FALSE, sizeof (DataEntry), data->entries->len);
  g_array_append_vals (sorted, data->entries->data, data->entries->len);
  g_array_sort (sorted, entry_cmp);

  sp_cbor_writer_init (&w, head, sizeof head);
  sp_cbor_put_map (&w, sorted->len);
  g_assert (sp_cbor_writer_finish (&w, &len) == SP_OK);
  g_byte_array_append (out, head, len);
  for (guint i = 0; i < sorted->len; i++)
    {
      const DataEntry *e = &g_array_index (sorted, DataEntry, i);
      gsize key_len = strlen (e->key), value_len;
      gconstpointer value = g_bytes_get_data (e->value, &value_len);

      /* Keys were checked on the way in: at most 256 bytes of UTF-8. */
      sp_cbor_writer_init (&w, key_buf, sizeof key_buf);
      sp_cbor_put_text (&w, e->key, key_len);
      g_assert (sp_cbor_writer_finish (&w, &len) == SP_OK);
      g_byte_array_append (out, key_buf, len);
      g_byte_array_append (out, value, value_len);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* ---- SignetEventLog: the writer ------------------------------------------ */

struct _SignetEventLog {
  GObject parent_instance;

  char *path;              /* NULL: in memory */
  int fd;                  /* -1 when closed or in memory */
  GByteArray *memory;      /* the log of a log in memory */
  guint64 length;          /* bytes on stable storage */
  guint64 written;         /* bytes written (> length while a sync is deferred) */
  gboolean defer_sync;

  char *actor;
  char *session_id;
  guint interval;
  SignetEventLogClockFunc clock;
  gpointer clock_data;

  guint64 next_seq;
  guint64 epoch;
  guint64 pending;         /* records since the last seal */
  guint8 head[SIGNET_EVENT_LOG_HASH_LEN];
  guint8 key[SIGNET_EVENT_LOG_KEY_LEN];   /* K_epoch; wiped when it evolves */

  gboolean closed;
  gboolean broken;

  guint8 *buf;             /* room for a record and a seal */
  gsize buf_cap;
};

G_DEFINE_FINAL_TYPE (SignetEventLog, signet_event_log, G_TYPE_OBJECT)

/* A seal is small: its own fields plus a 32-byte MAC and hash. */
#define SEAL_MAX (64 + _SIGNET_EVENT_LOG_MAX_NAME)

static guint64
real_time_ms (gpointer user_data)
{
  return (guint64) (g_get_real_time () / 1000);
}

static void
close_fd (SignetEventLog *self)
{
  if (self->fd >= 0)
    {
      close (self->fd);
      self->fd = -1;
    }
}

static void
signet_event_log_finalize (GObject *object)
{
  SignetEventLog *self = SIGNET_EVENT_LOG (object);

  close_fd (self);
  signet_secret_wipe (self->key, sizeof self->key);
  g_clear_pointer (&self->memory, g_byte_array_unref);
  g_free (self->path);
  g_free (self->actor);
  g_free (self->session_id);
  g_free (self->buf);

  G_OBJECT_CLASS (signet_event_log_parent_class)->finalize (object);
}

static void
signet_event_log_class_init (SignetEventLogClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signet_event_log_finalize;
}

static void
signet_event_log_init (SignetEventLog *self)
{
  self->fd = -1;
}

/* Encode [seq, time, type, actor, device, data, head] at the end of w. */
static void
put_record (sp_cbor_writer *w,
            guint64         seq,
            guint64         time_ms,
            const char     *type,
            const char     *actor,
            const char     *device,
            const guint8   *data,
            gsize           data_len,
            const guint8   *prev_hash)
{
  sp_cbor_put_array (w, 7);
  sp_cbor_put_uint (w, seq);
  sp_cbor_put_uint (w, time_ms);
  sp_cbor_put_textz (w, type);
  sp_cbor_put_textz (w, actor);
  if (device != NULL)
    sp_cbor_put_textz (w, device);
  else
    sp_cbor_put_null (w);
  sp_cbor_put_raw (w, data, data_len);
  sp_cbor_put_bytes (w, prev_hash, SIGNET_EVENT_LOG_HASH_LEN);
}

/* The log is broken: cut the file back to its durable length (a reader
 * must never find half a record, nor a record whose step was never
 * reported done) and say why. */
static gboolean
fail_io (SignetEventLog  *self,
         int              saved,
         const char      *what,
         GError         **error)
{
  self->broken = TRUE;
  /* Best effort: after a failed write or sync the file's state is not
   * known; cutting it back and syncing again is all that can be done.
   * The log stays broken either way (no retry after a failed fsync: the
   * kernel may have dropped the dirty pages). */
  if (ftruncate (self->fd, (off_t) self->length) == 0)
    (void) fdatasync (self->fd);
  self->written = self->length;
  g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_IO,
               "Event log %s: %s record %" G_GUINT64_FORMAT " failed: %s",
               self->path, what, self->next_seq, g_strerror (saved));
  return FALSE;
}

/* Write buf[0..len) after what is written and, unless the sync is
 * deferred, make it durable. On any failure the log is broken. */
static gboolean
commit_bytes (SignetEventLog  *self,
              const guint8    *buf,
              gsize            len,
              GError         **error)
{
  gsize done = 0;

  if (self->memory != NULL)
    {
      g_byte_array_append (self->memory, buf, len);
      self->length += len;
      self->written = self->length;
      return TRUE;
    }

  while (done < len)
    {
      ssize_t n = write (self->fd, buf + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return fail_io (self, n < 0 ? errno : ENOSPC, "writing", error);
      done += (gsize) n;
    }
  self->written += len;
  if (self->defer_sync)
    return TRUE;
  return signet_event_log_sync (self, error);
}

void
signet_event_log_set_defer_sync (SignetEventLog *self,
                                 gboolean        defer)
{
  g_return_if_fail (SIGNET_IS_EVENT_LOG (self));
  self->defer_sync = defer;
}

gboolean
signet_event_log_sync (SignetEventLog  *self,
                       GError         **error)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), FALSE);

  if (self->broken)
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_BROKEN,
                   "Event log %s: a write failed earlier; records since its last durable "
                   "one were lost", self->path != NULL ? self->path : "(memory)");
      return FALSE;
    }
  if (self->memory != NULL || self->fd < 0 || self->written == self->length)
    return TRUE;
  if (fdatasync (self->fd) != 0)
    return fail_io (self, errno, "syncing up to", error);
  self->length = self->written;
  return TRUE;
}

static gboolean
check_writable (SignetEventLog  *self,
                GError         **error)
{
  if (self->broken)
    {
      g_set_error_literal (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_BROKEN,
                           "The event log refuses further records after a failed write");
      return FALSE;
    }
  if (self->closed)
    {
      g_set_error_literal (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_CLOSED,
                           "The event log's session is closed");
      return FALSE;
    }
  return TRUE;
}

/* Encode into out the seal with seq seal_seq that follows the record whose
 * hash is head, and derive the next epoch's key into next_key (the caller
 * installs it once the seal is durable, and wipes it). */
static gboolean
build_seal (SignetEventLog  *self,
            guint64          seal_seq,
            guint64          time_ms,
            const guint8    *head,
            guint8          *out,
            gsize            cap,
            gsize           *out_len,
            guint8           next_key[SIGNET_EVENT_LOG_KEY_LEN],
            GError         **error)
{
  guint8 mac[SIGNET_EVENT_LOG_HASH_LEN];
  guint8 seal_data[64];
  sp_cbor_writer w;
  size_t data_len = 0, len = 0;

  /* The MAC covers the seal's seq, epoch and time and the chain head;
   * its actor and device are fixed by the format, so that no byte of the
   * final seal -- which no later record chains to -- is left free. */
  if (!_signet_event_log_seal_mac (NULL, self->key, seal_seq, self->epoch, time_ms,
                                   head, mac) ||
      !_signet_event_log_next_key (NULL, self->key, self->epoch + 1, next_key))
    {
      signet_secret_wipe (mac, sizeof mac);
      signet_secret_wipe (next_key, SIGNET_EVENT_LOG_KEY_LEN);
      return signet_crypto_set_openssl_error (error, SIGNET_EVENT_LOG_ERROR,
                                              SIGNET_EVENT_LOG_ERROR_FAILED,
                                              "Event log seal");
    }
  /* {"mac": h'...', "epoch": e}: the shorter key first. */
  sp_cbor_writer_init (&w, seal_data, sizeof seal_data);
  sp_cbor_put_map (&w, 2);
  sp_cbor_put_textz (&w, "mac");
  sp_cbor_put_bytes (&w, mac, sizeof mac);
  sp_cbor_put_textz (&w, "epoch");
  sp_cbor_put_uint (&w, self->epoch);
  signet_secret_wipe (mac, sizeof mac);
  g_assert (sp_cbor_writer_finish (&w, &data_len) == SP_OK);

  sp_cbor_writer_init (&w, out, cap);
  put_record (&w, seal_seq, time_ms, SIGNET_EVENT_TYPE_SEAL, self->actor, NULL,
              seal_data, data_len, head);
  g_assert (sp_cbor_writer_finish (&w, &len) == SP_OK);
  *out_len = len;
  return TRUE;
}

/* Append a record, and a seal after it when seal is TRUE or the epoch is
 * full; both in one write and one sync. The writer's state (seq, head,
 * key) moves only once the bytes are durable. */
static gboolean
write_record (SignetEventLog  *self,
              const char      *type,
              const char      *device,
              const guint8    *data,
              gsize            data_len,
              gboolean         seal,
              GError         **error)
{
  guint8 hash[SIGNET_EVENT_LOG_HASH_LEN];
  guint8 seal_hash[SIGNET_EVENT_LOG_HASH_LEN];
  guint8 next_key[SIGNET_EVENT_LOG_KEY_LEN];
  sp_cbor_writer w;
  size_t rec_len = 0, total = 0;
  guint64 time_ms = self->clock (self->clock_data);
  gboolean ok;

  sp_cbor_writer_init (&w, self->buf, SIGNET_EVENT_LOG_MAX_RECORD);
  put_record (&w, self->next_seq, time_ms, type, self->actor, device, data, data_len,
              self->head);
  if (sp_cbor_writer_finish (&w, &rec_len) != SP_OK)
    {
      if (w.err == SP_ERR_BUFFER_TOO_SMALL)
        g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_TOO_LARGE,
                     "Event log: a \"%s\" record would be larger than %u bytes",
                     type, SIGNET_EVENT_LOG_MAX_RECORD);
      else
        g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                     "Event log: cannot encode a \"%s\" record: %s", type,
                     sp_strerror (w.err));
      return FALSE;
    }
  signet_sha256_buf (self->buf, rec_len, hash);
  total = rec_len;

  if (seal || self->pending + 1 >= self->interval)
    {
      gsize seal_len = 0;

      if (!build_seal (self, self->next_seq + 1, time_ms, hash, self->buf + rec_len,
                       self->buf_cap - rec_len, &seal_len, next_key, error))
        return FALSE;
      signet_sha256_buf (self->buf + rec_len, seal_len, seal_hash);
      total += seal_len;

      ok = commit_bytes (self, self->buf, total, error);
      if (ok)
        {
          memcpy (self->key, next_key, sizeof next_key);
          memcpy (self->head, seal_hash, sizeof seal_hash);
          self->epoch++;
          self->next_seq += 2;
          self->pending = 0;
        }
      signet_secret_wipe (next_key, sizeof next_key);
      return ok;
    }

  if (!commit_bytes (self, self->buf, total, error))
    return FALSE;
  memcpy (self->head, hash, sizeof hash);
  self->next_seq++;
  self->pending++;
  return TRUE;
}

static SignetEventLog *
log_new (GBytes                      *k0,
         const char                  *actor,
         const char                  *session_id,
         const SignetEventLogOptions *options,
         GError                     **error)
{
  g_autoptr(SignetEventLog) self = NULL;
  gsize actor_len, session_len;

  g_return_val_if_fail (k0 != NULL, NULL);
  g_return_val_if_fail (actor != NULL, NULL);
  g_return_val_if_fail (session_id != NULL, NULL);

  if (g_bytes_get_size (k0) != SIGNET_EVENT_LOG_KEY_LEN)
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                   "Event log: K_0 must be %d bytes", SIGNET_EVENT_LOG_KEY_LEN);
      return NULL;
    }
  actor_len = strlen (actor);
  session_len = strlen (session_id);
  if (!name_ok (actor, actor_len) || !sp_cbor_utf8_valid ((const guint8 *) actor, actor_len) ||
      !name_ok (session_id, session_len) ||
      !sp_cbor_utf8_valid ((const guint8 *) session_id, session_len))
    {
      g_set_error_literal (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                           "Event log: actor and session id must be 1 to 256 bytes of UTF-8");
      return NULL;
    }
  if (options != NULL && options->seal_interval > SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL)
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                   "Event log: the seal interval is at most %d records",
                   SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL);
      return NULL;
    }

  self = g_object_new (SIGNET_TYPE_EVENT_LOG, NULL);
  memcpy (self->key, g_bytes_get_data (k0, NULL), SIGNET_EVENT_LOG_KEY_LEN);
  self->actor = g_strdup (actor);
  self->session_id = g_strdup (session_id);
  self->interval = options != NULL && options->seal_interval > 0
                   ? options->seal_interval : SIGNET_EVENT_LOG_DEFAULT_SEAL_INTERVAL;
  self->clock = options != NULL && options->clock != NULL ? options->clock : real_time_ms;
  self->clock_data = options != NULL ? options->clock_data : NULL;
  self->buf_cap = SIGNET_EVENT_LOG_MAX_RECORD + SEAL_MAX;
  self->buf = g_malloc (self->buf_cap);
  return g_steal_pointer (&self);
}

static gboolean
write_session_start (SignetEventLog  *self,
                     GError         **error)
{
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GBytes) enc = NULL;

  if (!signet_event_data_add_text (data, "session", self->session_id, error) ||
      !signet_event_data_add_uint (data, "version", SIGNET_EVENT_LOG_FORMAT_VERSION, error) ||
      !signet_event_data_add_uint (data, "seal_interval", self->interval, error))
    return FALSE;
  enc = signet_event_data_encode (data);
  return write_record (self, SIGNET_EVENT_TYPE_SESSION_START, NULL,
                       g_bytes_get_data (enc, NULL), g_bytes_get_size (enc), FALSE, error);
}

/* Make the new file's name durable too: fsync its directory. */
static void
sync_parent_dir (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd >= 0)
    {
      (void) fsync (fd);
      close (fd);
    }
}

SignetEventLog *
signet_event_log_create (const char                  *path,
                         GBytes                      *k0,
                         const char                  *actor,
                         const char                  *session_id,
                         const SignetEventLogOptions *options,
                         GError                     **error)
{
  g_autoptr(SignetEventLog) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = log_new (k0, actor, session_id, options, error);
  if (self == NULL)
    return NULL;
  self->path = g_strdup (path);
  self->fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (self->fd < 0)
    {
      int saved = errno;

      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_IO,
                   "Event log %s: cannot create: %s", path, g_strerror (saved));
      return NULL;
    }
  if (!write_session_start (self, error))
    {
      close_fd (self);
      (void) unlink (path);
      return NULL;
    }
  sync_parent_dir (path);
  return g_steal_pointer (&self);
}

SignetEventLog *
signet_event_log_new_in_memory (GBytes                      *k0,
                                const char                  *actor,
                                const char                  *session_id,
                                const SignetEventLogOptions *options,
                                GError                     **error)
{
  g_autoptr(SignetEventLog) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = log_new (k0, actor, session_id, options, error);
  if (self == NULL)
    return NULL;
  self->memory = g_byte_array_new ();
  if (!write_session_start (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

static gboolean
append_encoded (SignetEventLog  *self,
                const char      *type,
                const char      *device,
                const guint8    *data,
                gsize            data_len,
                GError         **error)
{
  gsize device_len;

  if (!check_writable (self, error))
    return FALSE;
  if (!_signet_event_log_type_ok (type, strlen (type)) ||
      g_str_equal (type, SIGNET_EVENT_TYPE_SEAL) ||
      g_str_equal (type, SIGNET_EVENT_TYPE_SESSION_START) ||
      g_str_equal (type, SIGNET_EVENT_TYPE_SESSION_END))
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                   "Event log: \"%s\" is not a type a caller may append "
                   "(dotted [a-z0-9_-] names, not seal or session.*)", type);
      return FALSE;
    }
  if (device != NULL &&
      (device_len = strlen (device),
       !name_ok (device, device_len) ||
       !sp_cbor_utf8_valid ((const guint8 *) device, device_len)))
    {
      g_set_error_literal (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID,
                           "Event log: a device name must be 1 to 256 bytes of UTF-8");
      return FALSE;
    }
  return write_record (self, type, device, data, data_len, FALSE, error);
}

gboolean
signet_event_log_append (SignetEventLog   *self,
                         const char       *type,
                         const char       *device,
                         SignetEventData  *data,
                         GError          **error)
{
  static const guint8 empty_map[] = { 0xa0 };
  g_autoptr(GBytes) enc = NULL;

  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), FALSE);
  g_return_val_if_fail (type != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (data == NULL)
    return append_encoded (self, type, device, empty_map, sizeof empty_map, error);
  enc = signet_event_data_encode (data);
  return append_encoded (self, type, device, g_bytes_get_data (enc, NULL),
                         g_bytes_get_size (enc), error);
}

gboolean
signet_event_log_append_cbor (SignetEventLog   *self,
                              const char       *type,
                              const char       *device,
                              GBytes           *data_map,
                              GError          **error)
{
  gconstpointer p;
  gsize len;

  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), FALSE);
  g_return_val_if_fail (type != NULL, FALSE);
  g_return_val_if_fail (data_map != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  p = g_bytes_get_data (data_map, &len);
  if (!check_data_item (p, len, TRUE, "the data", error))
    return FALSE;
  return append_encoded (self, type, device, p, len, error);
}

/* Seal the records waiting for one. A seal follows a record, so with
 * nothing pending there is nothing to do. Sealing writes no record of its
 * own but the seal: the seal's MAC covers the head as it is. */
static gboolean
write_seal_only (SignetEventLog  *self,
                 GError         **error)
{
  guint8 next_key[SIGNET_EVENT_LOG_KEY_LEN];
  gsize seal_len = 0;
  gboolean ok;

  if (!build_seal (self, self->next_seq, self->clock (self->clock_data), self->head,
                   self->buf, self->buf_cap, &seal_len, next_key, error))
    return FALSE;
  ok = commit_bytes (self, self->buf, seal_len, error);
  if (ok)
    {
      memcpy (self->key, next_key, sizeof next_key);
      signet_sha256_buf (self->buf, seal_len, self->head);
      self->epoch++;
      self->next_seq++;
      self->pending = 0;
    }
  signet_secret_wipe (next_key, sizeof next_key);
  return ok;
}

gboolean
signet_event_log_seal (SignetEventLog  *self,
                       GError         **error)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_writable (self, error))
    return FALSE;
  if (self->pending == 0)
    return TRUE;
  return write_seal_only (self, error);
}

gboolean
signet_event_log_close_session (SignetEventLog  *self,
                                GError         **error)
{
  static const guint8 empty_map[] = { 0xa0 };

  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_writable (self, error))
    return FALSE;
  self->defer_sync = FALSE;
  if (!write_record (self, SIGNET_EVENT_TYPE_SESSION_END, NULL, empty_map,
                     sizeof empty_map, TRUE, error))
    return FALSE;
  self->closed = TRUE;
  /* The last key would seal nothing more: do not keep it. */
  signet_secret_wipe (self->key, sizeof self->key);
  close_fd (self);
  return TRUE;
}

const char *
signet_event_log_get_path (SignetEventLog *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), NULL);
  return self->path;
}

guint64
signet_event_log_get_next_seq (SignetEventLog *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), 0);
  return self->next_seq;
}

guint64
signet_event_log_get_epoch (SignetEventLog *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), 0);
  return self->epoch;
}

GBytes *
signet_event_log_dup_chain_head (SignetEventLog *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), NULL);
  return g_bytes_new (self->head, sizeof self->head);
}

gboolean
signet_event_log_is_closed (SignetEventLog *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), FALSE);
  return self->closed;
}

gboolean
signet_event_log_is_broken (SignetEventLog *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), FALSE);
  return self->broken;
}

GBytes *
signet_event_log_dup_contents (SignetEventLog *self)
{
  g_return_val_if_fail (SIGNET_IS_EVENT_LOG (self), NULL);
  g_return_val_if_fail (self->memory != NULL, NULL);
  return g_bytes_new (self->memory->data, self->memory->len);
}
