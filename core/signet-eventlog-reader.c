/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-eventlog-reader.c: reading an event log's records, and exporting
 * them as JSON and CSV.
 *
 * The reader checks each record's shape with the same decoder as the
 * verifier, but nothing about the chain or the seals: it is for showing a
 * log (a timeline, an export), after or beside verifying it.
 */
#include "config.h"

#include <string.h>

#include "signet-crypto.h"
#include "signet-eventlog-private.h"

/* ---- SignetEventRecord --------------------------------------------------- */

struct _SignetEventRecord {
  gatomicrefcount ref_count;
  GBytes *raw;           /* the record's encoding (a slice of the log) */
  guint64 seq;
  guint64 time_ms;
  guint64 offset;
  char *type;
  char *actor;
  char *device;          /* nullable */
  gsize data_offset;     /* of the data map within raw */
  gsize data_len;
  guint8 prev_hash[SIGNET_EVENT_LOG_HASH_LEN];
  guint8 hash[SIGNET_EVENT_LOG_HASH_LEN];
};

G_DEFINE_BOXED_TYPE (SignetEventRecord, signet_event_record,
                     signet_event_record_ref, signet_event_record_unref)

SignetEventRecord *
signet_event_record_ref (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  g_atomic_ref_count_inc (&record->ref_count);
  return record;
}

void
signet_event_record_unref (SignetEventRecord *record)
{
  g_return_if_fail (record != NULL);
  if (g_atomic_ref_count_dec (&record->ref_count))
    {
      g_bytes_unref (record->raw);
      g_free (record->type);
      g_free (record->actor);
      g_free (record->device);
      g_free (record);
    }
}

guint64
signet_event_record_get_seq (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, 0);
  return record->seq;
}

guint64
signet_event_record_get_time_ms (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, 0);
  return record->time_ms;
}

const char *
signet_event_record_get_record_type (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  return record->type;
}

const char *
signet_event_record_get_actor (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  return record->actor;
}

const char *
signet_event_record_get_device (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  return record->device;
}

GBytes *
signet_event_record_dup_data (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  return g_bytes_new_from_bytes (record->raw, record->data_offset, record->data_len);
}

char *
signet_event_record_data_to_json (SignetEventRecord *record)
{
  g_autofree sp_cbor_item *items = NULL;
  GString *out;
  sp_cbor_doc doc;
  const guint8 *p;

  g_return_val_if_fail (record != NULL, NULL);

  items = g_new (sp_cbor_item, _SIGNET_EVENT_LOG_MAX_ITEMS);
  p = (const guint8 *) g_bytes_get_data (record->raw, NULL) + record->data_offset;
  out = g_string_new (NULL);
  /* It decoded when the record was read: it decodes again. */
  if (sp_cbor_decode (p, record->data_len, &_signet_event_log_limits, items,
                      _SIGNET_EVENT_LOG_MAX_ITEMS, &doc) == SP_OK)
    _signet_event_log_item_to_json (&doc, 0, out);
  else
    g_string_append (out, "null");
  return g_string_free (out, FALSE);
}

const guint8 *
signet_event_record_get_prev_hash (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  return record->prev_hash;
}

const guint8 *
signet_event_record_get_hash (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  return record->hash;
}

GBytes *
signet_event_record_dup_raw (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, NULL);
  return g_bytes_ref (record->raw);
}

guint64
signet_event_record_get_offset (SignetEventRecord *record)
{
  g_return_val_if_fail (record != NULL, 0);
  return record->offset;
}

/* ---- SignetEventLogReader ------------------------------------------------ */

struct _SignetEventLogReader {
  GBytes *log;
  GMappedFile *file;   /* nullable: keeps a mapped file's pages */
  gsize pos;
  gboolean failed;
  sp_cbor_item *items;
};

SignetEventLogReader *
signet_event_log_reader_new (GBytes *log)
{
  SignetEventLogReader *reader;

  g_return_val_if_fail (log != NULL, NULL);

  reader = g_new0 (SignetEventLogReader, 1);
  reader->log = g_bytes_ref (log);
  reader->items = g_new (sp_cbor_item, _SIGNET_EVENT_LOG_MAX_ITEMS);
  return reader;
}

SignetEventLogReader *
signet_event_log_reader_new_for_path (const char  *path,
                                      GError     **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  SignetEventLogReader *reader;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return NULL;
  bytes = g_mapped_file_get_bytes (file);
  reader = signet_event_log_reader_new (bytes);
  reader->file = g_steal_pointer (&file);
  return reader;
}

void
signet_event_log_reader_free (SignetEventLogReader *reader)
{
  if (reader == NULL)
    return;
  g_bytes_unref (reader->log);
  g_clear_pointer (&reader->file, g_mapped_file_unref);
  g_free (reader->items);
  g_free (reader);
}

gboolean
signet_event_log_reader_next (SignetEventLogReader  *reader,
                              SignetEventRecord    **out,
                              GError               **error)
{
  SignetEventRecord *record;
  _SignetRecordView v;
  sp_cbor_doc doc;
  const guint8 *base;
  gsize len, rec_len = 0;

  g_return_val_if_fail (reader != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out = NULL;
  base = g_bytes_get_data (reader->log, &len);
  if (reader->failed || reader->pos >= len)
    return FALSE;
  if (!_signet_event_log_read_one (base + reader->pos, len - reader->pos, reader->items,
                                   &doc, &v, &rec_len, error))
    {
      reader->failed = TRUE;
      g_prefix_error (error, "Event log, at byte %" G_GSIZE_FORMAT ": ", reader->pos);
      return FALSE;
    }

  record = g_new0 (SignetEventRecord, 1);
  g_atomic_ref_count_init (&record->ref_count);
  record->raw = g_bytes_new_from_bytes (reader->log, reader->pos, rec_len);
  record->seq = v.seq;
  record->time_ms = v.time_ms;
  record->offset = reader->pos;
  record->type = g_strndup (v.type, v.type_len);
  record->actor = g_strndup (v.actor, v.actor_len);
  record->device = v.device != NULL ? g_strndup (v.device, v.device_len) : NULL;
  record->data_offset = (gsize) (v.data - v.raw);
  record->data_len = v.data_len;
  memcpy (record->prev_hash, v.prev_hash, SIGNET_EVENT_LOG_HASH_LEN);
  signet_sha256_buf (v.raw, rec_len, record->hash);
  reader->pos += rec_len;
  *out = record;
  return TRUE;
}

/* ---- export ------------------------------------------------------------- */

static void
append_hex (GString      *out,
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

/* ISO 8601 UTC with milliseconds; empty outside GDateTime's range. */
static void
append_time (GString *out,
             guint64  time_ms)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *s = NULL;

  if (time_ms / 1000 > (guint64) G_MAXINT64)
    return;
  dt = g_date_time_new_from_unix_utc ((gint64) (time_ms / 1000));
  if (dt == NULL)
    return;
  s = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  g_string_append_printf (out, "%s.%03uZ", s, (guint) (time_ms % 1000));
}

/* Call fn for every record of log; FALSE at the first malformed one. */
typedef void (*RecordFunc) (const sp_cbor_doc       *doc,
                            const _SignetRecordView *v,
                            GString                 *out,
                            gboolean                 first);

static gboolean
for_each_record (GBytes      *log,
                 RecordFunc   fn,
                 GString     *out,
                 GError     **error)
{
  g_autofree sp_cbor_item *items = g_new (sp_cbor_item, _SIGNET_EVENT_LOG_MAX_ITEMS);
  const guint8 *base;
  gsize len, pos = 0;

  base = g_bytes_get_data (log, &len);
  while (pos < len)
    {
      _SignetRecordView v;
      sp_cbor_doc doc;
      gsize rec_len = 0;

      if (!_signet_event_log_read_one (base + pos, len - pos, items, &doc, &v, &rec_len, error))
        {
          g_prefix_error (error, "Event log, at byte %" G_GSIZE_FORMAT ": ", pos);
          return FALSE;
        }
      fn (&doc, &v, out, pos == 0);
      pos += rec_len;
    }
  return TRUE;
}

static void
json_text (GString    *out,
           const char *p,
           gsize       len)
{
  sp_cbor_item item = { .type = SP_CBOR_TEXT, .value = len, .payload = 0 };
  sp_cbor_doc doc = { .buf = (const guint8 *) p, .len = len, .items = &item, .n_items = 1 };

  _signet_event_log_item_to_json (&doc, 0, out);
}

static void
record_to_json (const sp_cbor_doc       *doc,
                const _SignetRecordView *v,
                GString                 *out,
                gboolean                 first)
{
  guint8 hash[SIGNET_EVENT_LOG_HASH_LEN];

  g_string_append (out, first ? "[\n" : ",\n");
  g_string_append_printf (out, "{\"seq\":%" G_GUINT64_FORMAT ",\"time_ms\":%" G_GUINT64_FORMAT
                          ",\"time\":\"", v->seq, v->time_ms);
  append_time (out, v->time_ms);
  g_string_append (out, "\",\"type\":");
  json_text (out, v->type, v->type_len);
  g_string_append (out, ",\"actor\":");
  json_text (out, v->actor, v->actor_len);
  g_string_append (out, ",\"device\":");
  if (v->device != NULL)
    json_text (out, v->device, v->device_len);
  else
    g_string_append (out, "null");
  g_string_append (out, ",\"data\":");
  _signet_event_log_item_to_json (doc, v->data_idx, out);
  g_string_append (out, ",\"prev_hash\":\"");
  append_hex (out, v->prev_hash, SIGNET_EVENT_LOG_HASH_LEN);
  g_string_append (out, "\",\"hash\":\"");
  signet_sha256_buf (v->raw, v->raw_len, hash);
  append_hex (out, hash, sizeof hash);
  g_string_append (out, "\"}");
}

char *
signet_event_log_export_json (GBytes  *log,
                              GError **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_return_val_if_fail (log != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!for_each_record (log, record_to_json, out, error))
    return NULL;
  g_string_append (out, out->len == 0 ? "[]\n" : "\n]\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* An RFC 4180 field. A field that a spreadsheet would take for a formula
 * (= + - @ first, or a tab or CR) gets a leading apostrophe: device names
 * and data come from the field, and a CSV export is opened in
 * spreadsheets (CSV injection). */
static void
csv_field (GString    *out,
           const char *p,
           gsize       len)
{
  gboolean quote = FALSE;

  for (gsize i = 0; i < len; i++)
    if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
      quote = TRUE;
  if (quote)
    g_string_append_c (out, '"');
  if (len > 0 && strchr ("=+-@\t\r", p[0]) != NULL)
    g_string_append_c (out, '\'');
  for (gsize i = 0; i < len; i++)
    {
      if (p[i] == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, p[i]);
    }
  if (quote)
    g_string_append_c (out, '"');
}

/* "key=value; ..." with text as is, bytes as hex, containers as JSON. */
static void
data_summary (const sp_cbor_doc *doc,
              size_t             map,
              GString           *out)
{
  sp_cbor_iter it;
  size_t k, v;
  gboolean first = TRUE;

  sp_cbor_iter_init (&it, doc, map, SP_CBOR_MAP);
  while (sp_cbor_iter_next_pair (&it, &k, &v))
    {
      const sp_cbor_item *val = &doc->items[v];
      const sp_cbor_item *key = &doc->items[k];

      if (!first)
        g_string_append (out, "; ");
      first = FALSE;
      g_string_append_len (out, (const char *) doc->buf + key->payload, (gssize) key->value);
      g_string_append_c (out, '=');
      if (val->type == SP_CBOR_TEXT)
        g_string_append_len (out, (const char *) doc->buf + val->payload, (gssize) val->value);
      else if (val->type == SP_CBOR_BYTES)
        append_hex (out, doc->buf + val->payload, (gsize) val->value);
      else
        _signet_event_log_item_to_json (doc, v, out);
    }
}

static void
record_to_csv (const sp_cbor_doc       *doc,
               const _SignetRecordView *v,
               GString                 *out,
               gboolean                 first)
{
  g_autoptr(GString) field = g_string_new (NULL);

  if (first)
    g_string_append (out, "seq,time,type,actor,device,summary\r\n");
  g_string_append_printf (out, "%" G_GUINT64_FORMAT ",", v->seq);
  append_time (out, v->time_ms);
  g_string_append_c (out, ',');
  csv_field (out, v->type, v->type_len);
  g_string_append_c (out, ',');
  csv_field (out, v->actor, v->actor_len);
  g_string_append_c (out, ',');
  if (v->device != NULL)
    csv_field (out, v->device, v->device_len);
  g_string_append_c (out, ',');
  data_summary (doc, v->data_idx, field);
  csv_field (out, field->str, field->len);
  g_string_append (out, "\r\n");
}

char *
signet_event_log_export_csv (GBytes  *log,
                             GError **error)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_return_val_if_fail (log != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!for_each_record (log, record_to_csv, out, error))
    return NULL;
  if (out->len == 0)
    g_string_append (out, "seq,time,type,actor,device,summary\r\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}
