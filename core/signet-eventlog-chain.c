/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-eventlog-chain.c: the keyless check of an event log, and the
 * head-only record peek for viewers (signet-eventlog-chain.h).
 *
 * The check follows docs/eventlog.md §5 in the verifier's order, with
 * the verifier's decoder (the fast one-pass path first, the scan-then-
 * parse path to name a fault), and stops short only of the seal's MAC and
 * the key schedule, which need K_0. Messages are the verifier's where the
 * fault is the same, so the app and the service describe a log alike.
 */
#include "config.h"

#include <string.h>

#include "signet-eventlog-chain.h"
#include "signet-eventlog-private.h"

void
signet_event_log_chain_result_free (SignetEventLogChainResult *result)
{
  if (result == NULL)
    return;
  g_free (result->session_id);
  g_free (result->actor);
  g_free (result->message);
  g_free (result);
}

typedef struct {
  SignetEventLogChainResult *r;
  EVP_MD_CTX *md_ctx;
  EVP_MD *md;            /* fetched once: an implicit fetch per record costs a quarter */
  guint64 next_seq;
  guint64 epoch;
  guint64 pending;
  guint64 interval;
  guint64 offset;
  gboolean ended;
  gboolean complete;
  guint8 head[SIGNET_EVENT_LOG_HASH_LEN];
} Walk;

static gboolean G_GNUC_PRINTF (5, 6)
walk_fail (Walk                  *w,
           SignetEventLogVerdict  verdict,
           SignetEventLogReason   reason,
           gint64                 seq,
           const char            *format,
           ...)
{
  va_list ap;

  w->r->verdict = verdict;
  w->r->reason = reason;
  w->r->index = (gint64) w->r->n_records;
  w->r->seq = seq;
  w->r->offset = (gint64) w->offset;
  va_start (ap, format);
  w->r->message = g_strdup_vprintf (format, ap);
  va_end (ap);
  return FALSE;
}

static gboolean
text_is (const char *p,
         gsize       len,
         const char *s)
{
  return s != NULL && strlen (s) == len && memcmp (p, s, len) == 0;
}

static gboolean
check_session_start (Walk                    *w,
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

  if (sp_cbor_map_check_keys (doc, v->data_idx, keys, G_N_ELEMENTS (keys)) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "session", &i_session) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "version", &i_version) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "seal_interval", &i_interval) != SP_OK ||
      sp_cbor_get_text (doc, i_session, &session, &session_len) != SP_OK ||
      session_len == 0 || session_len > _SIGNET_EVENT_LOG_MAX_NAME ||
      memchr (session, '\0', session_len) != NULL ||
      sp_cbor_get_uint (doc, i_version, &version) != SP_OK ||
      sp_cbor_get_uint (doc, i_interval, &interval) != SP_OK)
    return walk_fail (w, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_BAD_SESSION_START,
                      (gint64) v->seq, "Record 0 (session.start) does not hold exactly a "
                      "session id, a format version and a seal interval.");
  if (version != SIGNET_EVENT_LOG_FORMAT_VERSION)
    return walk_fail (w, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_UNSUPPORTED_VERSION,
                      (gint64) v->seq, "The log is in format version %" G_GUINT64_FORMAT
                      ", which this version of Signet does not know.", version);
  if (interval == 0 || interval > SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL)
    return walk_fail (w, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_BAD_SESSION_START,
                      (gint64) v->seq, "Record 0 (session.start) gives a seal interval of %"
                      G_GUINT64_FORMAT ", outside 1 to %d.", interval,
                      SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL);
  w->interval = interval;
  w->r->session_id = g_strndup (session, session_len);
  w->r->actor = g_strndup (v->actor, v->actor_len);
  return TRUE;
}

/* A seal's shape and the epoch it claims; its MAC needs the key. */
static gboolean
check_seal (Walk                    *w,
            const sp_cbor_doc       *doc,
            const _SignetRecordView *v)
{
  static const sp_cbor_key keys[] = {
    SP_CBOR_KEY_TEXT ("mac"), SP_CBOR_KEY_TEXT ("epoch"),
  };
  size_t i_mac, i_epoch;
  const guint8 *mac;
  gsize mac_len;
  guint64 epoch;
  guint64 n = w->r->n_records;

  if (sp_cbor_map_check_keys (doc, v->data_idx, keys, G_N_ELEMENTS (keys)) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "mac", &i_mac) != SP_OK ||
      sp_cbor_map_find_text (doc, v->data_idx, "epoch", &i_epoch) != SP_OK ||
      sp_cbor_get_bytes (doc, i_mac, &mac, &mac_len) != SP_OK ||
      mac_len != SIGNET_EVENT_LOG_HASH_LEN ||
      sp_cbor_get_uint (doc, i_epoch, &epoch) != SP_OK)
    return walk_fail (w, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_BAD_SEAL,
                      (gint64) v->seq, "Record %" G_GUINT64_FORMAT " is a seal that does not "
                      "hold exactly an epoch number and a 32-byte MAC.", n);
  if (v->device != NULL || !text_is (v->actor, v->actor_len, w->r->actor))
    return walk_fail (w, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_BAD_SEAL,
                      (gint64) v->seq, "Record %" G_GUINT64_FORMAT " is a seal with a device, "
                      "or with another actor than the log's.", n);
  if (w->pending == 0)
    return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_EMPTY_EPOCH,
                      (gint64) v->seq, "Record %" G_GUINT64_FORMAT " is a seal right after "
                      "another seal: a seal was duplicated or records were removed.", n);
  if (epoch > w->epoch)
    return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_EPOCH_SKIPPED,
                      (gint64) v->seq, "Record %" G_GUINT64_FORMAT " is a seal for epoch %"
                      G_GUINT64_FORMAT " where epoch %" G_GUINT64_FORMAT " must be sealed.",
                      n, epoch, w->epoch);
  if (epoch < w->epoch)
    return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_EPOCH_MISMATCH,
                      (gint64) v->seq, "Record %" G_GUINT64_FORMAT " is a seal for epoch %"
                      G_GUINT64_FORMAT " where epoch %" G_GUINT64_FORMAT " must be sealed: "
                      "an earlier seal was copied or moved here.", n, epoch, w->epoch);
  w->epoch++;
  w->pending = 0;
  w->r->n_seals++;
  w->r->last_seal_seq = (gint64) v->seq;
  if (w->ended)
    w->complete = TRUE;
  return TRUE;
}

static gboolean
check_decoded (Walk                    *w,
               const guint8            *p,
               gsize                    len,
               const sp_cbor_doc       *doc,
               const _SignetRecordView *v)
{
  guint64 n = w->r->n_records;
  gboolean is_seal, is_start, is_end;
  unsigned int hash_len = 0;

  if (v->seq != w->next_seq)
    {
      if (v->seq > w->next_seq)
        return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_GAP,
                          (gint64) v->seq, "Record %" G_GUINT64_FORMAT " has seq %"
                          G_GUINT64_FORMAT " where %" G_GUINT64_FORMAT " must come: records "
                          "were removed (or reordered).", n, v->seq, w->next_seq);
      if (v->seq + 1 == w->next_seq)
        return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_REPEATED,
                          (gint64) v->seq, "Record %" G_GUINT64_FORMAT " repeats seq %"
                          G_GUINT64_FORMAT " of the record before it: a record was "
                          "duplicated or inserted.", n, v->seq);
      return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_BACKWARDS,
                        (gint64) v->seq, "Record %" G_GUINT64_FORMAT " has seq %"
                        G_GUINT64_FORMAT ", earlier than the %" G_GUINT64_FORMAT " records "
                        "before it: records were reordered or replayed.", n, v->seq, n);
    }
  if (memcmp (v->prev_hash, w->head, SIGNET_EVENT_LOG_HASH_LEN) != 0)
    {
      if (n == 0)
        return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN,
                          (gint64) v->seq, "Record 0 does not start the chain: its prev_hash "
                          "is not zero.");
      return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN,
                        (gint64) v->seq, "Record %" G_GUINT64_FORMAT " does not chain to "
                        "record %" G_GUINT64_FORMAT ": that record was changed, or records "
                        "were removed or inserted between them.", n, n - 1);
    }

#define TYPE_IS(lit) (v->type_len == sizeof (lit) - 1 && memcmp (v->type, lit, sizeof (lit) - 1) == 0)
  is_seal = TYPE_IS (SIGNET_EVENT_TYPE_SEAL);
  is_start = TYPE_IS (SIGNET_EVENT_TYPE_SESSION_START);
  is_end = TYPE_IS (SIGNET_EVENT_TYPE_SESSION_END);
#undef TYPE_IS

  if (n == 0)
    {
      if (!is_start)
        return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_NOT_SESSION_START,
                          (gint64) v->seq, "Record 0 is not session.start.");
      if (!check_session_start (w, doc, v))
        return FALSE;
    }
  else if (is_start)
    return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SESSION_START_REPEATED,
                      (gint64) v->seq, "Record %" G_GUINT64_FORMAT " is a second "
                      "session.start.", n);

  if (w->complete || (w->ended && !is_seal))
    return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_RECORD_AFTER_END,
                      (gint64) v->seq, "Record %" G_GUINT64_FORMAT " follows session.end%s.",
                      n, w->complete ? " and its final seal" : " where only the final seal may");

  if (is_seal)
    {
      if (!check_seal (w, doc, v))
        return FALSE;
    }
  else
    {
      if (w->pending >= w->interval)
        return walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MISSING,
                          (gint64) v->seq, "Record %" G_GUINT64_FORMAT " comes after %"
                          G_GUINT64_FORMAT " records without a seal, the most the seal "
                          "interval allows: a seal was removed or moved.", n, w->pending);
      w->pending++;
      if (is_end)
        w->ended = TRUE;
    }

  if (EVP_DigestInit_ex (w->md_ctx, w->md, NULL) != 1 ||
      EVP_DigestUpdate (w->md_ctx, p, len) != 1 ||
      EVP_DigestFinal_ex (w->md_ctx, w->head, &hash_len) != 1)
    g_error ("SHA-256 failed");
  w->next_seq++;
  w->r->n_records++;
  w->offset += len;
  return TRUE;
}

static void
walk_finish (Walk    *w,
             gboolean partial)
{
  SignetEventLogChainResult *r = w->r;

  if (r->message != NULL)
    return;
  if (partial)
    {
      if (w->complete)
        walk_fail (w, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_TRAILING_DATA, -1,
                   "Bytes follow the final seal: something was appended to a closed log.");
      else
        walk_fail (w, SIGNET_EVENT_LOG_TRUNCATED, SIGNET_EVENT_LOG_REASON_PARTIAL_RECORD, -1,
                   "The log ends inside record %" G_GUINT64_FORMAT ": it was cut.",
                   r->n_records);
      return;
    }
  if (r->n_records == 0)
    {
      r->verdict = SIGNET_EVENT_LOG_TRUNCATED;
      r->reason = SIGNET_EVENT_LOG_REASON_EMPTY;
      r->message = g_strdup ("The log holds no record.");
      return;
    }
  if (w->complete)
    {
      r->verdict = SIGNET_EVENT_LOG_VERIFIED;
      r->reason = SIGNET_EVENT_LOG_REASON_NONE;
      r->message = g_strdup_printf ("All %" G_GUINT64_FORMAT " records are chained and "
                                    "closed by %" G_GUINT64_FORMAT " seals (the seals' MACs "
                                    "need the service's key and were not checked here).",
                                    r->n_records, r->n_seals);
      return;
    }
  if (w->pending > 0)
    {
      guint64 first = r->n_records - w->pending;

      r->verdict = SIGNET_EVENT_LOG_UNSEALED_TAIL;
      r->reason = SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS;
      r->index = (gint64) first;
      r->seq = (gint64) first;
      r->message = g_strdup_printf ("Records %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT
                                    " come after the last seal: no seal covers them (the "
                                    "log was cut after them, or the session crashed).",
                                    first, r->n_records - 1);
      return;
    }
  r->verdict = SIGNET_EVENT_LOG_TRUNCATED;
  r->reason = SIGNET_EVENT_LOG_REASON_NO_SESSION_END;
  r->index = (gint64) r->n_records;
  r->offset = (gint64) w->offset;
  r->message = g_strdup_printf ("The log stops at the seal of seq %" G_GINT64_FORMAT
                                " without session.end: the records after it were cut, or "
                                "the session was never closed.", r->last_seal_seq);
}

SignetEventLogChainResult *
signet_event_log_check_chain (const guint8 *data,
                              gsize         len,
                              GCancellable *cancellable)
{
  g_autofree sp_cbor_item *items = NULL;
  g_autoptr(SignetEventLogChainResult) result = NULL;
  Walk w = { 0 };
  gsize pos = 0;
  gboolean partial = FALSE;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  items = g_new (sp_cbor_item, _SIGNET_EVENT_LOG_MAX_ITEMS);
  result = g_new0 (SignetEventLogChainResult, 1);
  result->index = result->seq = result->offset = result->last_seal_seq = -1;
  w.r = result;
  w.md_ctx = EVP_MD_CTX_new ();
  w.md = EVP_MD_fetch (NULL, "SHA256", NULL);
  if (w.md_ctx == NULL || w.md == NULL)
    g_error ("SHA-256 is not available");

  while (result->message == NULL && pos < len)
    {
      _SignetRecordView view;
      sp_cbor_doc doc;
      gsize rec_len = 0;
      g_autofree char *detail = NULL;
      SignetEventLogReason reason;

      if ((result->n_records & 4095) == 4095 && g_cancellable_is_cancelled (cancellable))
        {
          EVP_MD_CTX_free (w.md_ctx);
          EVP_MD_free (w.md);
          return NULL;
        }

      if (_signet_event_log_parse_next (data + pos, len - pos, items, &doc, &view, &rec_len))
        {
          if (!check_decoded (&w, data + pos, rec_len, &doc, &view))
            break;
          pos += rec_len;
          continue;
        }
      switch (_signet_event_log_scan (data + pos, len - pos, &rec_len))
        {
        case _SIGNET_SCAN_COMPLETE:
          break;
        case _SIGNET_SCAN_NEED_MORE:
          partial = TRUE;
          goto done;
        case _SIGNET_SCAN_TOO_LARGE:
          walk_fail (&w, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_TOO_LARGE, -1,
                     "Record %" G_GUINT64_FORMAT " is malformed: it is larger than %u bytes.",
                     result->n_records, SIGNET_EVENT_LOG_MAX_RECORD);
          goto done;
        case _SIGNET_SCAN_INVALID:
        default:
          detail = _signet_event_log_invalid_detail (data + pos, rec_len);
          walk_fail (&w, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_CBOR, -1,
                     "Record %" G_GUINT64_FORMAT " is malformed: %s.", result->n_records, detail);
          goto done;
        }
      reason = _signet_event_log_parse (data + pos, rec_len, items, &doc, &view, &detail);
      if (reason != SIGNET_EVENT_LOG_REASON_NONE)
        {
          walk_fail (&w, SIGNET_EVENT_LOG_MALFORMED, reason, -1,
                     "Record %" G_GUINT64_FORMAT " is malformed: %s.", result->n_records, detail);
          break;
        }
      if (!check_decoded (&w, data + pos, rec_len, &doc, &view))
        break;
      pos += rec_len;
    }

done:
  walk_finish (&w, partial);
  EVP_MD_CTX_free (w.md_ctx);
  EVP_MD_free (w.md);
  return g_steal_pointer (&result);
}

/* ---- peek ------------------------------------------------------------------ */

/* One CBOR head at p[*pos..avail): major type and argument. */
static gboolean
read_head (const guint8 *p,
           gsize         avail,
           gsize        *pos,
           guint8       *major,
           guint64      *val)
{
  guint8 ib, ai;

  if (*pos >= avail)
    return FALSE;
  ib = p[(*pos)++];
  *major = ib >> 5;
  ai = ib & 31;
  if (ai < 24)
    *val = ai;
  else if (ai <= 27)
    {
      gsize n = (gsize) 1 << (ai - 24);

      if (n > avail - *pos)
        return FALSE;
      *val = 0;
      for (gsize i = 0; i < n; i++)
        *val = *val << 8 | p[*pos + i];
      *pos += n;
    }
  else
    return FALSE;
  return TRUE;
}

SignetEventLogPeek
signet_event_log_peek (const guint8  *p,
                       gsize          avail,
                       gsize         *out_len,
                       guint64       *out_time_ms,
                       const char   **out_type,
                       gsize         *out_type_len)
{
  gsize len = 0, pos = 0;
  guint8 major;
  guint64 val;

  switch (_signet_event_log_scan (p, avail, &len))
    {
    case _SIGNET_SCAN_COMPLETE:
      break;
    case _SIGNET_SCAN_NEED_MORE:
      return SIGNET_EVENT_LOG_PEEK_PARTIAL;
    case _SIGNET_SCAN_TOO_LARGE:
    case _SIGNET_SCAN_INVALID:
    default:
      return SIGNET_EVENT_LOG_PEEK_INVALID;
    }
  /* [seq, time_ms, type, ...]: the scan bounded every head to len. */
  if (!read_head (p, len, &pos, &major, &val) || major != 4 || val != 7 ||
      !read_head (p, len, &pos, &major, &val) || major != 0 ||
      !read_head (p, len, &pos, &major, &val) || major != 0)
    return SIGNET_EVENT_LOG_PEEK_INVALID;
  *out_time_ms = val;
  if (!read_head (p, len, &pos, &major, &val) || major != 3 || val > len - pos ||
      val == 0 || val > _SIGNET_EVENT_LOG_MAX_TYPE)
    return SIGNET_EVENT_LOG_PEEK_INVALID;
  *out_type = (const char *) p + pos;
  *out_type_len = (gsize) val;
  *out_len = len;
  return SIGNET_EVENT_LOG_PEEK_OK;
}

SignetEventRecord *
signet_event_log_record_new_at (GBytes  *log,
                                gsize    offset,
                                GError **error)
{
  g_autoptr(SignetEventLogReader) reader = NULL;
  g_autoptr(GBytes) slice = NULL;
  SignetEventRecord *record = NULL;
  gsize size;

  g_return_val_if_fail (log != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  size = g_bytes_get_size (log);
  if (offset >= size)
    {
      g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED,
                   "No record at byte %" G_GSIZE_FORMAT, offset);
      return NULL;
    }
  /* The reader over the rest of the log: its first record is the one
   * wanted (decoded and shape-checked by the one decoder of the log). */
  slice = g_bytes_new_from_bytes (log, offset, MIN (size - offset, SIGNET_EVENT_LOG_MAX_RECORD));
  reader = signet_event_log_reader_new (slice);
  if (!signet_event_log_reader_next (reader, &record, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED,
                     "No record at byte %" G_GSIZE_FORMAT, offset);
      return NULL;
    }
  return record;
}
