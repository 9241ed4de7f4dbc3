/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-eventlog.c: the event log (docs/eventlog.md).
 *
 * Logs are written with the writer, then tampered with as bytes, or
 * rebuilt record by record by a small independent "forger" below: it
 * re-encodes records with sp_cbor, re-chains them, and -- when given a
 * key -- re-seals them with keys derived from the spec's definitions
 * (signet_hkdf_sha256 / signet_hmac_sha256, not the library's own
 * helpers). A forger that holds every key can build logs that pass every
 * cryptographic check, so each structural rule of the verifier is tested
 * on its own; one that holds none tests what the chain and seals catch.
 */
#define _GNU_SOURCE   /* memmem */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "signet-crypto.h"
#include "signet-eventlog.h"
#include "signet-test-util.h"
#include "sp-cbor.h"

#define T0 G_GUINT64_CONSTANT (1700000000000)

/* ---- fixtures ------------------------------------------------------------ */

static guint64
test_clock (gpointer user_data)
{
  guint64 *t = user_data;

  return T0 + 1000 * (*t)++;
}

static GBytes *
test_k0 (void)
{
  return signet_test_hex ("000102030405060708090a0b0c0d0e0f"
                          "101112131415161718191a1b1c1d1e1f");
}

typedef struct {
  guint64 tick;
  SignetEventLogOptions options;
} Clock;

static void
clock_init (Clock *c,
            guint  interval)
{
  c->tick = 0;
  c->options.seal_interval = interval;
  c->options.clock = test_clock;
  c->options.clock_data = &c->tick;
}

static void
append_n (SignetEventLog *log,
          guint           from,
          guint           n)
{
  for (guint i = from; i < from + n; i++)
    {
      g_autoptr(SignetEventData) data = signet_event_data_new ();
      g_autoptr(GError) error = NULL;
      g_autofree char *device = g_strdup_printf ("dev-%u", i % 3);

      g_assert_true (signet_event_data_add_text (data, "op", "config.set", &error));
      g_assert_true (signet_event_data_add_uint (data, "n", i, &error));
      g_assert_true (signet_event_log_append (log, "device.apply", i % 4 ? device : NULL,
                                              data, &error));
      g_assert_no_error (error);
    }
}

/* A log in memory with n appended records, sealed every interval;
 * closed or not. */
static GBytes *
make_log_session (guint       n,
                  guint       interval,
                  gboolean    close,
                  const char *session)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(GError) error = NULL;
  Clock c;

  clock_init (&c, interval);
  log = signet_event_log_new_in_memory (k0, "alice", session, &c.options, &error);
  g_assert_no_error (error);
  append_n (log, 0, n);
  if (close)
    {
      g_assert_true (signet_event_log_close_session (log, &error));
      g_assert_no_error (error);
    }
  return signet_event_log_dup_contents (log);
}

static GBytes *
make_log (guint    n,
          guint    interval,
          gboolean close)
{
  return make_log_session (n, interval, close, "session-1");
}

static SignetEventLogResult *
verify (GBytes *log)
{
  g_autoptr(GBytes) k0 = test_k0 ();

  return signet_event_log_verify (log, k0);
}

static void
assert_result (SignetEventLogResult  *r,
               SignetEventLogVerdict  verdict,
               SignetEventLogReason   reason,
               gint64                 index)
{
  if (signet_event_log_result_get_verdict (r) != verdict ||
      signet_event_log_result_get_reason (r) != reason ||
      signet_event_log_result_get_index (r) != index)
    g_error ("expected %s/%s at %" G_GINT64_FORMAT ", got %s/%s at %" G_GINT64_FORMAT ": %s",
             signet_event_log_verdict_to_string (verdict),
             signet_event_log_reason_to_string (reason), index,
             signet_event_log_verdict_to_string (signet_event_log_result_get_verdict (r)),
             signet_event_log_reason_to_string (signet_event_log_result_get_reason (r)),
             signet_event_log_result_get_index (r), signet_event_log_result_get_message (r));
  g_assert_nonnull (signet_event_log_result_get_message (r));
}

static void
expect (GBytes                *log,
        SignetEventLogVerdict  verdict,
        SignetEventLogReason   reason,
        gint64                 index)
{
  g_autoptr(SignetEventLogResult) r = verify (log);

  assert_result (r, verdict, reason, index);
}

/* Record boundaries of a log: offsets[i] is where record i starts,
 * offsets[n] the end. */
static GArray *
record_offsets (GBytes *log)
{
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (log);
  GArray *offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  SignetEventRecord *rec;
  g_autoptr(GError) error = NULL;
  gsize end = g_bytes_get_size (log);

  while (signet_event_log_reader_next (reader, &rec, &error))
    {
      gsize off = signet_event_record_get_offset (rec);

      g_array_append_val (offsets, off);
      signet_event_record_unref (rec);
    }
  g_assert_no_error (error);
  g_array_append_val (offsets, end);
  return offsets;
}

/* log with bytes [from, to) removed and insert put at from. */
static GBytes *
splice_bytes (GBytes       *log,
        gsize         from,
        gsize         to,
        const guint8 *insert,
        gsize         insert_len)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);
  GByteArray *out = g_byte_array_new ();

  g_byte_array_append (out, p, from);
  if (insert_len > 0)
    g_byte_array_append (out, insert, insert_len);
  g_byte_array_append (out, p + to, len - to);
  return g_byte_array_free_to_bytes (out);
}

/* ---- the forger ---------------------------------------------------------- */

typedef struct {
  guint64 seq;
  guint64 time_ms;
  char *type;
  char *actor;
  char *device;        /* nullable */
  GBytes *data;        /* encoded map; for seals rebuilt from epoch */
  guint64 epoch;       /* seals only: the epoch the seal claims */
  gint64 key_epoch;    /* seals only: the key to MAC with; -1: = epoch */
  guint8 mac[32];      /* seals only: the MAC read, kept when forging without keys */
  gboolean keep_data;  /* seals only: write data as is */
} FRec;

static void
frec_free (gpointer p)
{
  FRec *r = p;

  g_free (r->type);
  g_free (r->actor);
  g_free (r->device);
  g_clear_pointer (&r->data, g_bytes_unref);
  g_free (r);
}

static gboolean
is_seal (const FRec *r)
{
  return g_str_equal (r->type, "seal");
}

/* A log's records as editable FRecs. */
static GPtrArray *
forge_parse (GBytes *log)
{
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (log);
  GPtrArray *recs = g_ptr_array_new_with_free_func (frec_free);
  SignetEventRecord *rec;
  g_autoptr(GError) error = NULL;

  while (signet_event_log_reader_next (reader, &rec, &error))
    {
      FRec *r = g_new0 (FRec, 1);

      r->seq = signet_event_record_get_seq (rec);
      r->time_ms = signet_event_record_get_time_ms (rec);
      r->type = g_strdup (signet_event_record_get_record_type (rec));
      r->actor = g_strdup (signet_event_record_get_actor (rec));
      r->device = g_strdup (signet_event_record_get_device (rec));
      r->data = signet_event_record_dup_data (rec);
      r->key_epoch = -1;
      if (is_seal (r))
        {
          g_autofree char *json = signet_event_record_data_to_json (rec);
          g_autoptr(JsonNode) node = json_from_string (json, NULL);

          JsonObject *obj = json_node_get_object (node);
          g_autoptr(GBytes) mac = signet_test_hex (json_object_get_string_member (obj, "mac"));

          r->epoch = (guint64) json_object_get_int_member (obj, "epoch");
          g_assert_cmpuint (g_bytes_get_size (mac), ==, 32);
          memcpy (r->mac, g_bytes_get_data (mac, NULL), 32);
        }
      g_ptr_array_add (recs, r);
      signet_event_record_unref (rec);
    }
  g_assert_no_error (error);
  return recs;
}

static FRec *
frec_new (guint64     seq,
          const char *type,
          const char *device,
          const char *data_hex)
{
  FRec *r = g_new0 (FRec, 1);

  r->seq = seq;
  r->time_ms = T0 + 500000 + seq;
  r->type = g_strdup (type);
  r->actor = g_strdup ("alice");
  r->device = g_strdup (device);
  r->data = signet_test_hex (data_hex);
  r->key_epoch = -1;
  return r;
}

static FRec *
seal_new (guint64 seq,
          guint64 epoch)
{
  FRec *r = frec_new (seq, "seal", NULL, "a0");

  r->epoch = epoch;
  return r;
}

static void
be64 (guint8  *out,
      guint64  v)
{
  for (int i = 7; i >= 0; i--, v >>= 8)
    out[i] = (guint8) v;
}

/* K_e from the spec: K_{e+1} = HKDF-SHA256 (salt none, ikm K_e,
 * info "signet-log-key-v1" || u64be (e+1), 32 bytes). */
static GBytes *
spec_key (GBytes  *k0,
          guint64  epoch)
{
  g_autoptr(GBytes) k = g_bytes_ref (k0);

  for (guint64 e = 1; e <= epoch; e++)
    {
      guint8 info[17 + 8];
      g_autoptr(GBytes) info_b = NULL;
      g_autoptr(GError) error = NULL;
      GBytes *next;

      memcpy (info, "signet-log-key-v1", 17);
      be64 (info + 17, e);
      info_b = g_bytes_new (info, sizeof info);
      next = signet_hkdf_sha256 (k, NULL, info_b, 32, &error);
      g_assert_no_error (error);
      g_bytes_unref (k);
      k = next;
    }
  return g_steal_pointer (&k);
}

/* Encode recs: seq renumbered from 0 if renumber; each prev_hash the hash
 * of the record before; seals MAC'd with spec keys from k0 -- or, if k0
 * is NULL (a forger without keys), with the MAC they had. */
static GBytes *
forge (GPtrArray *recs,
       GBytes    *k0,
       gboolean   renumber)
{
  GByteArray *out = g_byte_array_new ();
  guint8 head[32] = { 0 };
  g_autofree guint8 *buf = g_malloc (70000);

  for (guint i = 0; i < recs->len; i++)
    {
      FRec *r = g_ptr_array_index (recs, i);
      guint8 mac[32];
      guint8 seal_data[64];
      const guint8 *data;
      gsize data_len;
      sp_cbor_writer w;
      size_t len = 0;

      if (renumber)
        r->seq = i;
      memcpy (mac, r->mac, 32);
      if (is_seal (r) && !r->keep_data)
        {
          if (k0 != NULL)
            {
              guint8 msg[18 + 24 + 32];
              g_autoptr(GBytes) key = spec_key (k0, r->key_epoch >= 0 ? (guint64) r->key_epoch
                                                                      : r->epoch);
              g_autoptr(GBytes) msg_b = NULL;
              g_autoptr(GBytes) tag = NULL;
              g_autoptr(GError) error = NULL;

              memcpy (msg, "signet-log-seal-v1", 18);
              be64 (msg + 18, r->seq);
              be64 (msg + 26, r->epoch);
              be64 (msg + 34, r->time_ms);
              memcpy (msg + 42, head, 32);
              msg_b = g_bytes_new (msg, sizeof msg);
              tag = signet_hmac_sha256 (key, msg_b, &error);
              g_assert_no_error (error);
              memcpy (mac, g_bytes_get_data (tag, NULL), 32);
            }
          sp_cbor_writer_init (&w, seal_data, sizeof seal_data);
          sp_cbor_put_map (&w, 2);
          sp_cbor_put_textz (&w, "mac");
          sp_cbor_put_bytes (&w, mac, 32);
          sp_cbor_put_textz (&w, "epoch");
          sp_cbor_put_uint (&w, r->epoch);
          g_assert_cmpint (sp_cbor_writer_finish (&w, &len), ==, SP_OK);
          g_clear_pointer (&r->data, g_bytes_unref);
          r->data = g_bytes_new (seal_data, len);
        }
      data = g_bytes_get_data (r->data, &data_len);

      sp_cbor_writer_init (&w, buf, 70000);
      sp_cbor_put_array (&w, 7);
      sp_cbor_put_uint (&w, r->seq);
      sp_cbor_put_uint (&w, r->time_ms);
      sp_cbor_put_textz (&w, r->type);
      sp_cbor_put_textz (&w, r->actor);
      if (r->device != NULL)
        sp_cbor_put_textz (&w, r->device);
      else
        sp_cbor_put_null (&w);
      sp_cbor_put_raw (&w, data, data_len);
      sp_cbor_put_bytes (&w, head, 32);
      g_assert_cmpint (sp_cbor_writer_finish (&w, &len), ==, SP_OK);
      g_byte_array_append (out, buf, len);
      signet_sha256_buf (buf, len, head);
    }
  return g_byte_array_free_to_bytes (out);
}

/* The forger rebuilding a writer's log with every key gives back the same
 * bytes: the writer follows the spec's key schedule and MAC exactly. */
static void
test_spec_conformance (void)
{
  g_autoptr(GBytes) k0 = test_k0 ();

  for (guint interval = 1; interval <= 5; interval++)
    {
      g_autoptr(GBytes) log = make_log (11, interval, TRUE);
      g_autoptr(GPtrArray) recs = forge_parse (log);
      g_autoptr(GBytes) again = forge (recs, k0, FALSE);

      g_assert_true (g_bytes_equal (log, again));
      expect (log, SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE, -1);
    }
}

/* ---- writer and round trip ----------------------------------------------- */

static void
test_roundtrip (void)
{
  g_autoptr(GBytes) log = make_log (10, 4, TRUE);
  g_autoptr(SignetEventLogResult) r = verify (log);
  g_autoptr(GPtrArray) recs = forge_parse (log);
  guint seals = 0;

  assert_result (r, SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE, -1);
  /* session.start + 10 + session.end = 12 records; seals after 4, 8, 12 */
  g_assert_cmpuint (signet_event_log_result_get_n_records (r), ==, 15);
  g_assert_cmpuint (signet_event_log_result_get_n_seals (r), ==, 3);
  g_assert_cmpint (signet_event_log_result_get_last_sealed_seq (r), ==, 14);
  g_assert_cmpuint (signet_event_log_result_get_first_time (r), ==, T0);
  g_assert_cmpuint (signet_event_log_result_get_last_time (r), ==, T0 + 11 * 1000);
  g_assert_cmpstr (signet_event_log_result_get_session_id (r), ==, "session-1");
  g_assert_cmpstr (signet_event_log_result_get_actor (r), ==, "alice");
  g_assert_cmpint (signet_event_log_result_get_seq (r), ==, -1);

  g_assert_cmpuint (recs->len, ==, 15);
  g_assert_cmpstr (((FRec *) recs->pdata[0])->type, ==, "session.start");
  g_assert_cmpstr (((FRec *) recs->pdata[13])->type, ==, "session.end");
  for (guint i = 0; i < recs->len; i++)
    {
      FRec *f = recs->pdata[i];

      g_assert_cmpuint (f->seq, ==, i);
      if (is_seal (f))
        {
          g_assert_cmpuint (f->epoch, ==, seals);
          g_assert_null (f->device);
          seals++;
        }
    }
  g_assert_true (is_seal (recs->pdata[4]) && is_seal (recs->pdata[9]) && is_seal (recs->pdata[14]));
}

static void
test_session_start (void)
{
  g_autoptr(GBytes) log = make_log (0, 0, TRUE);
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (log);
  g_autoptr(SignetEventRecord) rec = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  guint8 zero[32] = { 0 };

  g_assert_true (signet_event_log_reader_next (reader, &rec, &error));
  g_assert_cmpstr (signet_event_record_get_record_type (rec), ==, "session.start");
  g_assert_cmpstr (signet_event_record_get_actor (rec), ==, "alice");
  g_assert_null (signet_event_record_get_device (rec));
  g_assert_cmpmem (signet_event_record_get_prev_hash (rec), 32, zero, 32);
  json = signet_event_record_data_to_json (rec);
  g_assert_cmpstr (json, ==, "{\"session\":\"session-1\",\"version\":1,\"seal_interval\":64}");
  expect (log, SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE, -1);
}

static void
test_data_builder (void)
{
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) enc = NULL;
  g_autoptr(GBytes) expected = NULL;
  g_autoptr(GBytes) raw = signet_test_hex ("8201a1616102");   /* [1, {"a": 2}] */
  g_autoptr(GBytes) blob = signet_test_hex ("0102");

  /* Added out of order; encoded shorter keys first, then bytewise. */
  g_assert_true (signet_event_data_add_text (data, "zz", "t", &error));
  g_assert_true (signet_event_data_add_int (data, "b", -2, &error));
  g_assert_true (signet_event_data_add_uint (data, "a", 500, &error));
  g_assert_true (signet_event_data_add_bool (data, "ok", TRUE, &error));
  g_assert_true (signet_event_data_add_null (data, "no", &error));
  g_assert_true (signet_event_data_add_bytes (data, "bin", blob, &error));
  g_assert_true (signet_event_data_add_cbor (data, "arr", raw, &error));
  g_assert_no_error (error);
  enc = signet_event_data_encode (data);
  expected = signet_test_hex ("a7"
                              "6161 1901f4"          /* "a": 500 */
                              "6162 21"              /* "b": -2 */
                              "626e6f f6"            /* "no": null */
                              "626f6b f5"            /* "ok": true */
                              "627a7a 6174"          /* "zz": "t" */
                              "63617272 8201a1616102" /* "arr": [1, {"a": 2}] */
                              "6362696e 420102");    /* "bin": h'0102' */
  g_assert_true (g_bytes_equal (enc, expected));

  /* Refused: duplicate, empty, overlong and non-UTF-8 keys, bad CBOR. */
  g_assert_false (signet_event_data_add_uint (data, "a", 1, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (signet_event_data_add_uint (data, "", 1, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
  g_clear_error (&error);
  {
    g_autofree char *longkey = g_strnfill (257, 'k');

    g_assert_false (signet_event_data_add_uint (data, longkey, 1, &error));
    g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
    g_clear_error (&error);
  }
  g_assert_false (signet_event_data_add_uint (data, "\xff", 1, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (signet_event_data_add_text (data, "t", "\xc0\xaf", &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
  g_clear_error (&error);
  {
    const char *bad[] = {
      "a20101",        /* truncated */
      "a1010203",      /* trailing */
      "a10102",        /* map with an integer key */
      "c102",          /* a tag */
      "a2616202616101", /* unsorted keys */
      "1800",          /* non-minimal */
      "9f01ff",        /* indefinite */
    };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GBytes) b = signet_test_hex (bad[i]);

        g_assert_false (signet_event_data_add_cbor (data, "x", b, &error));
        g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
        g_clear_error (&error);
      }
  }
}

static void
test_digest_helper (void)
{
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GBytes) secret = g_bytes_new_static ("hunter2-wifi-psk", 16);
  g_autoptr(GBytes) digest = signet_sha256 (secret);
  g_autoptr(GBytes) enc = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *p;

  g_assert_true (signet_event_data_add_digest (data, "psk_sha256", secret, &error));
  g_assert_no_error (error);
  enc = signet_event_data_encode (data);
  p = g_bytes_get_data (enc, &len);
  /* {"psk_sha256": h'<32 bytes>'}: the digest, and no trace of the secret */
  g_assert_cmpuint (len, ==, 1 + 11 + 2 + 32);
  g_assert_cmpmem (p + 14, 32, g_bytes_get_data (digest, NULL), 32);
  g_assert_null (memmem (p, len, "hunter2", 7));
}

static void
test_writer_refusals (void)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(GBytes) short_key = signet_test_hex ("0011");
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) big = NULL;
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GBytes) not_map = signet_test_hex ("8100");
  const char *bad_types[] = {
    "seal", "session.start", "session.end", "", "Device.apply", "device..apply",
    ".device", "device.", "device apply", "dévice",
    "a.very.long.type.name.that.goes.on.and.on.past.sixty.four.bytes.x",
  };
  SignetEventLogOptions opts = { .seal_interval = SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL + 1 };

  g_assert_null (signet_event_log_new_in_memory (short_key, "alice", "s", NULL, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (signet_event_log_new_in_memory (k0, "", "s", NULL, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (signet_event_log_new_in_memory (k0, "alice", "s", &opts, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
  g_clear_error (&error);

  log = signet_event_log_new_in_memory (k0, "alice", "s", NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_types); i++)
    {
      g_assert_false (signet_event_log_append (log, bad_types[i], NULL, NULL, &error));
      g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
      g_clear_error (&error);
    }
  g_assert_false (signet_event_log_append (log, "x", "", NULL, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (signet_event_log_append_cbor (log, "x", NULL, not_map, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
  g_clear_error (&error);

  /* Too large: refused, but the log goes on. */
  {
    g_autofree guint8 *blob = g_malloc0 (SIGNET_EVENT_LOG_MAX_RECORD - 40);

    big = g_bytes_new (blob, SIGNET_EVENT_LOG_MAX_RECORD - 40);
  }
  g_assert_true (signet_event_data_add_bytes (data, "blob", big, &error));
  g_assert_false (signet_event_log_append (log, "x", NULL, data, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_false (signet_event_log_is_broken (log));
  g_assert_true (signet_event_log_append (log, "x", NULL, NULL, &error));
  g_assert_cmpuint (signet_event_log_get_next_seq (log), ==, 2);

  /* Closed: nothing more, not even a seal. */
  g_assert_true (signet_event_log_close_session (log, &error));
  g_assert_true (signet_event_log_is_closed (log));
  g_assert_cmpuint (signet_event_log_get_epoch (log), ==, 1);
  g_assert_false (signet_event_log_append (log, "x", NULL, NULL, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (signet_event_log_seal (log, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (signet_event_log_close_session (log, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_CLOSED);
  g_clear_error (&error);
  {
    g_autoptr(GBytes) bytes = signet_event_log_dup_contents (log);

    expect (bytes, SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE, -1);
  }
}

/* An explicit seal (before an upload) is a no-op with nothing pending,
 * and the seal interval counts from it. */
static void
test_explicit_seal (void)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  Clock c;

  clock_init (&c, 3);
  log = signet_event_log_new_in_memory (k0, "alice", "s", &c.options, &error);
  append_n (log, 0, 1);
  g_assert_true (signet_event_log_seal (log, &error));     /* after 2 records */
  g_assert_cmpuint (signet_event_log_get_next_seq (log), ==, 3);
  g_assert_true (signet_event_log_seal (log, &error));     /* nothing pending */
  g_assert_cmpuint (signet_event_log_get_next_seq (log), ==, 3);
  append_n (log, 1, 3);                                    /* 3 records, seal */
  g_assert_cmpuint (signet_event_log_get_next_seq (log), ==, 7);
  g_assert_cmpuint (signet_event_log_get_epoch (log), ==, 2);
  bytes = signet_event_log_dup_contents (log);
  expect (bytes, SIGNET_EVENT_LOG_TRUNCATED, SIGNET_EVENT_LOG_REASON_NO_SESSION_END, 7);
  g_assert_no_error (error);
}

/* ---- files --------------------------------------------------------------- */

static char *
tmp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("signet-eventlog-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
rm_rf (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);

      g_unlink (p);
    }
  g_rmdir (dir);
}

static void
test_file (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "session.log", NULL);
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetEventLog) again = NULL;
  g_autoptr(SignetEventLogResult) r = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetEventLogReader) reader = NULL;
  SignetEventRecord *rec;
  struct stat st;
  guint n = 0;

  log = signet_event_log_create (path, k0, "alice", "s-file", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (signet_event_log_get_path (log), ==, path);
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  append_n (log, 0, 70);   /* past one default epoch */
  g_assert_true (signet_event_log_close_session (log, &error));
  g_assert_no_error (error);

  r = signet_event_log_verify_file (path, k0, &error);
  g_assert_no_error (error);
  assert_result (r, SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE, -1);
  g_assert_cmpuint (signet_event_log_result_get_n_seals (r), ==, 2);

  /* An existing file is never reused (O_EXCL), whatever it holds. */
  again = signet_event_log_create (path, k0, "alice", "s-file", NULL, &error);
  g_assert_null (again);
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_IO);
  g_clear_error (&error);

  reader = signet_event_log_reader_new_for_path (path, &error);
  g_assert_no_error (error);
  while (signet_event_log_reader_next (reader, &rec, &error))
    {
      g_assert_cmpuint (signet_event_record_get_seq (rec), ==, n++);
      signet_event_record_unref (rec);
    }
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 74);

  rm_rf (dir);
}

static void
test_file_create_fails (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "gone", "session.log", NULL);
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(GError) error = NULL;

  log = signet_event_log_create (path, k0, "alice", "s", NULL, &error);
  g_assert_null (log);
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_IO);
  rm_rf (dir);
}

/* A write that fails half-way (the file size limit cuts it short, as a
 * full disk would) is rolled back to a whole record, and the log then
 * refuses everything. In a subprocess: it changes RLIMIT_FSIZE. */
static void
test_write_failure (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = tmp_dir ();
      g_autofree char *path = g_build_filename (dir, "session.log", NULL);
      g_autoptr(GBytes) k0 = test_k0 ();
      g_autoptr(SignetEventLog) log = NULL;
      g_autoptr(SignetEventLogResult) r = NULL;
      g_autoptr(GError) error = NULL;
      struct rlimit lim;
      struct stat st;
      off_t before;

      log = signet_event_log_create (path, k0, "alice", "s", NULL, &error);
      g_assert_no_error (error);
      append_n (log, 0, 5);
      g_assert_cmpint (stat (path, &st), ==, 0);
      before = st.st_size;

      /* Room for a part of the next record only. */
      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &lim), ==, 0);
      lim.rlim_cur = (rlim_t) before + 10;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);

      g_assert_false (signet_event_log_append (log, "device.apply", NULL, NULL, &error));
      g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_IO);
      g_clear_error (&error);
      g_assert_true (signet_event_log_is_broken (log));
      g_assert_cmpint (stat (path, &st), ==, 0);
      g_assert_cmpint (st.st_size, ==, before);   /* no half record */

      lim.rlim_cur = lim.rlim_max;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);
      g_assert_false (signet_event_log_append (log, "device.apply", NULL, NULL, &error));
      g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_BROKEN);
      g_clear_error (&error);
      g_assert_false (signet_event_log_close_session (log, &error));
      g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_BROKEN);
      g_clear_error (&error);
      g_assert_false (signet_event_log_seal (log, &error));
      g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_BROKEN);
      g_clear_error (&error);

      /* What is there is whole: 6 records, none sealed. */
      r = signet_event_log_verify_file (path, k0, &error);
      g_assert_no_error (error);
      assert_result (r, SIGNET_EVENT_LOG_UNSEALED_TAIL, SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS, 0);
      g_assert_cmpuint (signet_event_log_result_get_n_records (r), ==, 6);
      rm_rf (dir);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* The file's directory disappears under the log: the next write still
 * goes to the open file (POSIX keeps it), so the log only ends when the
 * session is closed -- and the file, once gone, cannot be half-written.
 * A file opened read-only under the writer is covered by write_failure. */
static void
test_refuse_after_close_file (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "session.log", NULL);
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(GError) error = NULL;

  log = signet_event_log_create (path, k0, "alice", "s", NULL, &error);
  append_n (log, 0, 2);
  rm_rf (dir);
  g_assert_true (signet_event_log_append (log, "device.apply", NULL, NULL, &error));
  g_assert_true (signet_event_log_close_session (log, &error));
  g_assert_no_error (error);
  g_assert_false (signet_event_log_append (log, "device.apply", NULL, NULL, &error));
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_CLOSED);
}

/* ---- deferred sync ------------------------------------------------------- */

/* The writer's fdatasync calls, counted, and failed on demand. The
 * executable's own definition takes precedence over libc's for the core
 * library linked into it, so this sees every sync of the writer (the
 * fsync of a new file's directory is another call). */
static guint fdatasync_calls;
static gboolean fdatasync_fails;

int
fdatasync (int fd)
{
  fdatasync_calls++;
  if (fdatasync_fails)
    {
      errno = EIO;
      return -1;
    }
  return fsync (fd);
}

static goffset
file_size (const char *path)
{
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return st.st_size;
}

/* With defer on, appends and seals write but do not sync; one sync makes
 * them all durable, and what was written reads and verifies; close syncs
 * what is still pending. */
static void
test_defer_sync (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "session.log", NULL);
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetEventLogResult) r = NULL;
  g_autoptr(SignetEventLogReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  SignetEventRecord *rec;
  goffset size;
  guint64 n;
  guint seen = 0;
  Clock c;

  clock_init (&c, 4);
  log = signet_event_log_create (path, k0, "alice", "s-defer", &c.options, &error);
  g_assert_no_error (error);

  /* Off by default: each append is synced before it returns. */
  fdatasync_calls = 0;
  append_n (log, 0, 2);
  g_assert_cmpuint (fdatasync_calls, ==, 2);

  signet_event_log_set_defer_sync (log, TRUE);
  fdatasync_calls = 0;
  size = file_size (path);
  append_n (log, 2, 8);   /* across two seals, then three waiting for one */
  g_assert_cmpuint (signet_event_log_get_epoch (log), ==, 2);
  g_assert_true (signet_event_log_seal (log, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fdatasync_calls, ==, 0);
  g_assert_cmpint (file_size (path), >, size);
  g_assert_true (signet_event_log_sync (log, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fdatasync_calls, ==, 1);
  /* Nothing new to sync: no call. */
  g_assert_true (signet_event_log_sync (log, &error));
  g_assert_cmpuint (fdatasync_calls, ==, 1);

  /* Every record is in the file, whole, chained and sealed. */
  n = signet_event_log_get_next_seq (log);
  g_assert_cmpuint (signet_event_log_get_epoch (log), ==, 3);
  r = signet_event_log_verify_file (path, k0, &error);
  g_assert_no_error (error);
  assert_result (r, SIGNET_EVENT_LOG_TRUNCATED, SIGNET_EVENT_LOG_REASON_NO_SESSION_END,
                 (gint64) n);
  g_assert_cmpuint (signet_event_log_result_get_n_records (r), ==, n);
  g_assert_cmpint (signet_event_log_result_get_last_sealed_seq (r), ==, (gint64) n - 1);
  g_clear_object (&r);

  /* More records, not synced; close syncs them with session.end and the
   * final seal, once. */
  fdatasync_calls = 0;
  append_n (log, 10, 3);
  g_assert_cmpuint (fdatasync_calls, ==, 0);
  g_assert_true (signet_event_log_close_session (log, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fdatasync_calls, ==, 1);
  n = signet_event_log_get_next_seq (log);

  r = signet_event_log_verify_file (path, k0, &error);
  g_assert_no_error (error);
  assert_result (r, SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE, -1);
  g_assert_cmpuint (signet_event_log_result_get_n_records (r), ==, n);
  reader = signet_event_log_reader_new_for_path (path, &error);
  g_assert_no_error (error);
  while (signet_event_log_reader_next (reader, &rec, &error))
    {
      g_assert_cmpuint (signet_event_record_get_seq (rec), ==, seen++);
      signet_event_record_unref (rec);
    }
  g_assert_no_error (error);
  g_assert_cmpuint (seen, ==, n);

  /* A log in memory has nothing to sync. */
  {
    g_autoptr(SignetEventLog) mem = signet_event_log_new_in_memory (k0, "alice", "s-mem", NULL,
                                                                    &error);
    g_autoptr(GBytes) contents = NULL;
    g_autoptr(SignetEventLogResult) mr = NULL;

    signet_event_log_set_defer_sync (mem, TRUE);
    fdatasync_calls = 0;
    append_n (mem, 0, 3);
    g_assert_true (signet_event_log_sync (mem, &error));
    g_assert_true (signet_event_log_close_session (mem, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (fdatasync_calls, ==, 0);
    contents = signet_event_log_dup_contents (mem);
    mr = verify (contents);
    assert_result (mr, SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE, -1);
  }
  rm_rf (dir);
}

/* A failed deferred sync cuts the file back to what the last good sync
 * made durable, and breaks the log. */
static void
test_defer_sync_failure (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(GError) error = NULL;

  for (guint at_close = 0; at_close < 2; at_close++)
    {
      g_autofree char *name = g_strdup_printf ("session-%u.log", at_close);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr(SignetEventLog) log = NULL;
      g_autoptr(SignetEventLogResult) r = NULL;
      goffset durable;
      Clock c;

      clock_init (&c, 4);
      log = signet_event_log_create (path, k0, "alice", "s-fail", &c.options, &error);
      g_assert_no_error (error);
      signet_event_log_set_defer_sync (log, TRUE);
      append_n (log, 0, 2);
      g_assert_true (signet_event_log_sync (log, &error));
      durable = file_size (path);
      append_n (log, 2, 4);   /* with a seal among them */
      g_assert_cmpint (file_size (path), >, durable);

      fdatasync_fails = TRUE;
      if (at_close)
        g_assert_false (signet_event_log_close_session (log, &error));
      else
        g_assert_false (signet_event_log_sync (log, &error));
      fdatasync_fails = FALSE;
      g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_IO);
      g_clear_error (&error);
      g_assert_true (signet_event_log_is_broken (log));
      g_assert_cmpint (file_size (path), ==, durable);

      /* Nothing more is taken, and a sync does not pretend all is well. */
      g_assert_false (signet_event_log_append (log, "device.apply", NULL, NULL, &error));
      g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_BROKEN);
      g_clear_error (&error);
      g_assert_false (signet_event_log_sync (log, &error));
      g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_BROKEN);
      g_clear_error (&error);
      g_assert_false (signet_event_log_close_session (log, &error));
      g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_BROKEN);
      g_clear_error (&error);

      /* What is left is what was durable: record 0 and two more, whole. */
      r = signet_event_log_verify_file (path, k0, &error);
      g_assert_no_error (error);
      assert_result (r, SIGNET_EVENT_LOG_UNSEALED_TAIL, SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS,
                     0);
      g_assert_cmpuint (signet_event_log_result_get_n_records (r), ==, 3);
    }
  rm_rf (dir);
}

/* ---- verdicts: cut short ------------------------------------------------- */

static void
test_empty (void)
{
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(SignetEventLogResult) r = verify (empty);

  assert_result (r, SIGNET_EVENT_LOG_TRUNCATED, SIGNET_EVENT_LOG_REASON_EMPTY, -1);
  g_assert_cmpuint (signet_event_log_result_get_n_records (r), ==, 0);
  g_assert_null (signet_event_log_result_get_session_id (r));
}

static void
test_unsealed_tail (void)
{
  g_autoptr(GBytes) open_log = make_log (6, 4, FALSE);   /* start + 6: seal after 4 */
  g_autoptr(GBytes) closed = make_log (6, 4, TRUE);
  g_autoptr(GArray) off = record_offsets (closed);
  g_autoptr(GBytes) no_final_seal = NULL;
  g_autoptr(SignetEventLogResult) r = verify (open_log);

  /* records 5..7 after the seal at 4 */
  assert_result (r, SIGNET_EVENT_LOG_UNSEALED_TAIL, SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS, 5);
  g_assert_cmpint (signet_event_log_result_get_last_sealed_seq (r), ==, 4);
  g_assert_cmpuint (signet_event_log_result_get_n_records (r), ==, 8);

  /* The final seal cut off: session.end is not enough by itself. */
  no_final_seal = g_bytes_new_from_bytes (closed, 0, g_array_index (off, gsize, off->len - 2));
  expect (no_final_seal, SIGNET_EVENT_LOG_UNSEALED_TAIL, SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS, 5);
}

static void
test_truncation_every_offset (void)
{
  g_autoptr(GBytes) log = make_log (6, 3, TRUE);
  g_autoptr(GArray) off = record_offsets (log);
  gsize len = g_bytes_get_size (log);
  guint rec = 0;

  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr(GBytes) part = g_bytes_new_from_bytes (log, 0, cut);
      g_autoptr(SignetEventLogResult) r = verify (part);
      SignetEventLogVerdict v = signet_event_log_result_get_verdict (r);

      while (rec + 1 < off->len && g_array_index (off, gsize, rec + 1) <= cut)
        rec++;
      g_assert_cmpint (v, !=, SIGNET_EVENT_LOG_VERIFIED);
      if (cut == 0)
        assert_result (r, SIGNET_EVENT_LOG_TRUNCATED, SIGNET_EVENT_LOG_REASON_EMPTY, -1);
      else if (cut != g_array_index (off, gsize, rec))
        assert_result (r, SIGNET_EVENT_LOG_TRUNCATED, SIGNET_EVENT_LOG_REASON_PARTIAL_RECORD, rec);
      else
        /* At a boundary: after a seal the session end is missing, else
         * the records since the last seal are unsealed. */
        g_assert_true ((v == SIGNET_EVENT_LOG_TRUNCATED &&
                        signet_event_log_result_get_reason (r) == SIGNET_EVENT_LOG_REASON_NO_SESSION_END) ||
                       (v == SIGNET_EVENT_LOG_UNSEALED_TAIL &&
                        signet_event_log_result_get_reason (r) == SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS));
    }
}

static void
test_trailing_and_after_end (void)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(GBytes) log = make_log (2, 4, TRUE);
  static const guint8 junk[] = { 0x87, 0x00 };
  g_autoptr(GBytes) trailing = splice_bytes (log, g_bytes_get_size (log), g_bytes_get_size (log),
                                       junk, sizeof junk);
  g_autoptr(GPtrArray) recs = forge_parse (log);
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GBytes) between = NULL;
  guint n = recs->len;

  expect (trailing, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_TRAILING_DATA, n);

  /* A whole record after the final seal, chained and sealed by a forger
   * with every key. */
  g_ptr_array_add (recs, frec_new (n, "device.apply", NULL, "a0"));
  g_ptr_array_add (recs, seal_new (n + 1, 2));
  after = forge (recs, k0, FALSE);
  expect (after, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_RECORD_AFTER_END, n);

  /* A record between session.end and its seal. */
  g_ptr_array_set_size (recs, n - 1);
  g_ptr_array_add (recs, frec_new (0, "device.apply", NULL, "a0"));
  g_ptr_array_add (recs, seal_new (0, 1));
  between = forge (recs, k0, TRUE);
  expect (between, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_RECORD_AFTER_END, n - 1);
}

/* ---- verdicts: malformed ------------------------------------------------- */

/* Replace record i of a closed 3-record log by the hex bytes given. */
static GBytes *
replace_record (guint       i,
                const char *hex)
{
  g_autoptr(GBytes) log = make_log (3, 8, TRUE);
  g_autoptr(GArray) off = record_offsets (log);
  g_autoptr(GBytes) rec = signet_test_hex (hex);

  return splice_bytes (log, g_array_index (off, gsize, i), g_array_index (off, gsize, i + 1),
                 g_bytes_get_data (rec, NULL), g_bytes_get_size (rec));
}

#define ZERO32 "5820 0000000000000000000000000000000000000000000000000000000000000000"

static void
test_malformed (void)
{
  static const struct {
    const char *hex;
    SignetEventLogReason reason;
  } cases[] = {
    /* not deterministic: a non-minimal seq */
    { "87 1801 00 6178 6161 f6 a0 " ZERO32, SIGNET_EVENT_LOG_REASON_CBOR },
    /* indefinite array */
    { "9f 01 00 6178 6161 f6 a0 " ZERO32 " ff", SIGNET_EVENT_LOG_REASON_CBOR },
    /* a float for time */
    { "87 01 f93c00 6178 6161 f6 a0 " ZERO32, SIGNET_EVENT_LOG_REASON_CBOR },
    /* six fields */
    { "86 01 00 6178 6161 f6 a0", SIGNET_EVENT_LOG_REASON_BAD_SHAPE },
    /* a map, not an array */
    { "a1 6161 01", SIGNET_EVENT_LOG_REASON_BAD_SHAPE },
    /* negative seq */
    { "87 20 00 6178 6161 f6 a0 " ZERO32, SIGNET_EVENT_LOG_REASON_BAD_SHAPE },
    /* prev_hash of 31 bytes */
    { "87 01 00 6178 6161 f6 a0 581f 00000000000000000000000000000000000000000000000000000000000000",
      SIGNET_EVENT_LOG_REASON_BAD_SHAPE },
    /* device is a number */
    { "87 01 00 6178 6161 07 a0 " ZERO32, SIGNET_EVENT_LOG_REASON_BAD_SHAPE },
    /* data is an array */
    { "87 01 00 6178 6161 f6 80 " ZERO32, SIGNET_EVENT_LOG_REASON_BAD_SHAPE },
    /* empty actor */
    { "87 01 00 6178 60 f6 a0 " ZERO32, SIGNET_EVENT_LOG_REASON_BAD_SHAPE },
    /* actor with a NUL */
    { "87 01 00 6178 626100 f6 a0 " ZERO32, SIGNET_EVENT_LOG_REASON_BAD_SHAPE },
    /* upper-case type */
    { "87 01 00 6158 6161 f6 a0 " ZERO32, SIGNET_EVENT_LOG_REASON_BAD_TYPE },
    /* integer key in data */
    { "87 01 00 6178 6161 f6 a10101 " ZERO32, SIGNET_EVENT_LOG_REASON_BAD_DATA },
    /* a tag in data */
    { "87 01 00 6178 6161 f6 a16161c101 " ZERO32, SIGNET_EVENT_LOG_REASON_BAD_DATA },
    /* a byte string longer than a record */
    { "87 01 00 6178 6161 f6 a1616158ff", SIGNET_EVENT_LOG_REASON_CBOR },
    { "87 01 00 6178 6161 f6 a161615a00020000", SIGNET_EVENT_LOG_REASON_TOO_LARGE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) log = replace_record (1, cases[i].hex);

      if (cases[i].reason == SIGNET_EVENT_LOG_REASON_CBOR && strstr (cases[i].hex, "58ff"))
        {
          /* Declares 255 bytes that the next records provide: CBOR-wise
           * it may parse -- but never into this log. */
          g_autoptr(SignetEventLogResult) r = verify (log);

          g_assert_cmpint (signet_event_log_result_get_verdict (r), !=, SIGNET_EVENT_LOG_VERIFIED);
          g_assert_cmpint (signet_event_log_result_get_index (r), ==, 1);
          continue;
        }
      expect (log, SIGNET_EVENT_LOG_MALFORMED, cases[i].reason, 1);
    }
}

static void
test_bad_session_start (void)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  static const struct {
    const char *data;
    SignetEventLogReason reason;
  } cases[] = {
    /* {"session": "s", "version": 1} */
    { "a2 6773657373696f6e 6173 6776657273696f6e 01", SIGNET_EVENT_LOG_REASON_BAD_SESSION_START },
    /* + "extra": 1 */
    { "a4 6565787472610167 73657373696f6e 6173 6776657273696f6e 01 6d7365616c5f696e74657276616c 04",
      SIGNET_EVENT_LOG_REASON_BAD_SESSION_START },
    /* version 2 */
    { "a3 6773657373696f6e 6173 6776657273696f6e 02 6d7365616c5f696e74657276616c 04",
      SIGNET_EVENT_LOG_REASON_UNSUPPORTED_VERSION },
    /* seal_interval 0 */
    { "a3 6773657373696f6e 6173 6776657273696f6e 01 6d7365616c5f696e74657276616c 00",
      SIGNET_EVENT_LOG_REASON_BAD_SESSION_START },
    /* session id empty */
    { "a3 6773657373696f6e 60 6776657273696f6e 01 6d7365616c5f696e74657276616c 04",
      SIGNET_EVENT_LOG_REASON_BAD_SESSION_START },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) log = make_log (2, 4, TRUE);
      g_autoptr(GPtrArray) recs = forge_parse (log);
      g_autoptr(GBytes) forged = NULL;
      FRec *start = recs->pdata[0];

      g_bytes_unref (start->data);
      start->data = signet_test_hex (cases[i].data);
      forged = forge (recs, k0, FALSE);
      expect (forged, SIGNET_EVENT_LOG_MALFORMED, cases[i].reason, 0);
    }
}

static void
test_bad_seal (void)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(GBytes) log = make_log (5, 3, TRUE);
  GPtrArray *recs;
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;
  g_autoptr(GBytes) c = NULL;
  FRec *seal;

  /* A seal with a device. */
  recs = forge_parse (log);
  seal = recs->pdata[3];
  g_assert_true (is_seal (seal));
  seal->device = g_strdup ("dev-0");
  a = forge (recs, k0, FALSE);
  expect (a, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_BAD_SEAL, 3);
  g_ptr_array_unref (recs);

  /* A seal by another actor. */
  recs = forge_parse (log);
  seal = recs->pdata[3];
  g_free (seal->actor);
  seal->actor = g_strdup ("mallory");
  b = forge (recs, k0, FALSE);
  expect (b, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_BAD_SEAL, 3);
  g_ptr_array_unref (recs);

  /* A seal with an extra field, or a short MAC. */
  recs = forge_parse (log);
  seal = recs->pdata[3];
  seal->keep_data = TRUE;
  g_bytes_unref (seal->data);
  seal->data = signet_test_hex ("a3 636d6163 " ZERO32 " 6565706f6368 00 656578747261 01");
  c = forge (recs, k0, FALSE);
  expect (c, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_BAD_SEAL, 3);
  g_ptr_array_unref (recs);

  recs = forge_parse (log);
  seal = recs->pdata[3];
  seal->keep_data = TRUE;
  g_bytes_unref (seal->data);
  seal->data = signet_test_hex ("a2 636d6163 4100 6565706f6368 00");
  g_clear_pointer (&c, g_bytes_unref);
  c = forge (recs, k0, FALSE);
  expect (c, SIGNET_EVENT_LOG_MALFORMED, SIGNET_EVENT_LOG_REASON_BAD_SEAL, 3);
  g_ptr_array_unref (recs);
}

/* ---- verdicts: tampered -------------------------------------------------- */

static void
test_record_order (void)
{
  g_autoptr(GBytes) log = make_log (8, 4, TRUE);
  g_autoptr(GArray) off = record_offsets (log);
  const guint8 *p = g_bytes_get_data (log, NULL);
#define OFF(i) g_array_index (off, gsize, (i))

  /* Deleted: record 2. */
  {
    g_autoptr(GBytes) t = splice_bytes (log, OFF (2), OFF (3), NULL, 0);

    expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_GAP, 2);
  }
  /* Deleted: the first record, and the first epoch. */
  {
    g_autoptr(GBytes) t = splice_bytes (log, 0, OFF (1), NULL, 0);
    g_autoptr(GBytes) u = splice_bytes (log, 0, OFF (5), NULL, 0);

    expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_GAP, 0);
    expect (u, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_GAP, 0);
  }
  /* Duplicated: record 2 twice. */
  {
    g_autoptr(GBytes) t = splice_bytes (log, OFF (3), OFF (3), p + OFF (2), OFF (3) - OFF (2));

    expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_REPEATED, 3);
  }
  /* Replayed later: record 1 after record 6. */
  {
    g_autoptr(GBytes) t = splice_bytes (log, OFF (7), OFF (7), p + OFF (1), OFF (2) - OFF (1));

    expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_BACKWARDS, 7);
  }
  /* Reordered: records 2 and 3 swapped. */
  {
    g_autoptr(GByteArray) t = g_byte_array_new ();
    g_autoptr(GBytes) tb = NULL;

    g_byte_array_append (t, p, OFF (2));
    g_byte_array_append (t, p + OFF (3), OFF (4) - OFF (3));
    g_byte_array_append (t, p + OFF (2), OFF (3) - OFF (2));
    g_byte_array_append (t, p + OFF (4), g_bytes_get_size (log) - OFF (4));
    tb = g_byte_array_free_to_bytes (g_steal_pointer (&t));
    expect (tb, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_GAP, 2);
  }
  /* Moved: the seal at 4 to after record 6. */
  {
    g_autoptr(GByteArray) t = g_byte_array_new ();
    g_autoptr(GBytes) tb = NULL;

    g_byte_array_append (t, p, OFF (4));
    g_byte_array_append (t, p + OFF (5), OFF (7) - OFF (5));
    g_byte_array_append (t, p + OFF (4), OFF (5) - OFF (4));
    g_byte_array_append (t, p + OFF (7), g_bytes_get_size (log) - OFF (7));
    tb = g_byte_array_free_to_bytes (g_steal_pointer (&t));
    expect (tb, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEQ_GAP, 4);
  }
#undef OFF
}

/* A forger without the keys can renumber and re-chain perfectly; only
 * the seals stop it. */
static void
test_rechained_without_key (void)
{
  g_autoptr(GBytes) log = make_log (8, 4, TRUE);
  GPtrArray *recs;

  /* Changed: record 2's device, the chain fixed after it. */
  {
    g_autoptr(GBytes) t = NULL;

    recs = forge_parse (log);
    g_free (((FRec *) recs->pdata[2])->device);
    ((FRec *) recs->pdata[2])->device = g_strdup ("dev-evil");
    t = forge (recs, NULL, FALSE);
    expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MAC, 4);
    g_ptr_array_unref (recs);
  }
  /* Changed in the last epoch: the final seal catches it. */
  {
    g_autoptr(GBytes) t = NULL;

    recs = forge_parse (log);
    ((FRec *) recs->pdata[10])->time_ms += 1;
    t = forge (recs, NULL, FALSE);
    expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MAC, 12);
    g_ptr_array_unref (recs);
  }
  /* Inserted, the rest renumbered and re-chained: the final seal's seq
   * and head moved, its MAC fails. */
  {
    g_autoptr(GBytes) t = NULL;

    recs = forge_parse (log);
    g_ptr_array_insert (recs, 10, frec_new (0, "device.apply", "dev-evil", "a0"));
    t = forge (recs, NULL, TRUE);
    expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MAC, 13);
    g_ptr_array_unref (recs);
  }
  /* Deleted, renumbered, re-chained. */
  {
    g_autoptr(GBytes) t = NULL;

    recs = forge_parse (log);
    g_ptr_array_remove_index (recs, 6);
    t = forge (recs, NULL, TRUE);
    expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MAC, 8);
    g_ptr_array_unref (recs);
  }
  /* The final seal's time changed (nothing chains to it). */
  {
    g_autoptr(GBytes) t = NULL;

    recs = forge_parse (log);
    ((FRec *) recs->pdata[12])->time_ms += 1;
    t = forge (recs, NULL, FALSE);
    expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MAC, 12);
    g_ptr_array_unref (recs);
  }
}

static void
test_changed_byte (void)
{
  g_autoptr(GBytes) log = make_log (8, 4, TRUE);
  g_autoptr(GArray) off = record_offsets (log);
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);
  g_autofree guint8 *copy = g_memdup2 (p, len);
  g_autoptr(GBytes) t = NULL;
  guint8 *op;

  /* "config.set" -> "config.seT" in record 2 would be upper case but
   * inside data, which allows it: the chain catches it at record 3. */
  op = memmem (copy + g_array_index (off, gsize, 2),
               g_array_index (off, gsize, 3) - g_array_index (off, gsize, 2), "config.set", 10);
  g_assert_nonnull (op);
  op[9] = 'T';
  t = g_bytes_new (copy, len);
  expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN, 3);

  /* The last record before a seal: the seal's prev_hash breaks. */
  {
    g_autofree guint8 *c2 = g_memdup2 (p, len);
    g_autoptr(GBytes) t2 = NULL;

    op = memmem (c2 + g_array_index (off, gsize, 3),
                 g_array_index (off, gsize, 4) - g_array_index (off, gsize, 3), "config.set", 10);
    op[0] = 'C';
    t2 = g_bytes_new (c2, len);
    expect (t2, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN, 4);
  }
  /* Record 0's prev_hash. */
  {
    g_autofree guint8 *c3 = g_memdup2 (p, len);
    g_autoptr(GBytes) t3 = NULL;

    c3[g_array_index (off, gsize, 1) - 1] ^= 1;
    t3 = g_bytes_new (c3, len);
    expect (t3, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN, 0);
  }
}

/* A forger with every key builds logs that pass every MAC: each grammar
 * rule is checked on its own. */
static void
test_grammar (void)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(GBytes) log = make_log (8, 4, TRUE);
  /* recs: 0 start, 1-3 apply, 4 seal(0), 5-8 apply, 9 seal(1),
   *       10 apply, 11 end, 12 seal(2) */
  GPtrArray *recs;

#define FORGE_EXPECT(verdict, reason, index)               \
  G_STMT_START {                                           \
    g_autoptr(GBytes) t_ = forge (recs, k0, TRUE);         \
    expect (t_, (verdict), (reason), (index));             \
    g_ptr_array_unref (recs);                              \
  } G_STMT_END

  /* The unchanged log, rebuilt: verified. */
  recs = forge_parse (log);
  FORGE_EXPECT (SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE, -1);

  /* Record 0 is not session.start (it was removed and the rest
   * renumbered). */
  recs = forge_parse (log);
  g_ptr_array_remove_index (recs, 0);
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_NOT_SESSION_START, 0);

  /* A second session.start. */
  recs = forge_parse (log);
  g_free (((FRec *) recs->pdata[2])->type);
  ((FRec *) recs->pdata[2])->type = g_strdup ("session.start");
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SESSION_START_REPEATED, 2);

  /* A seal removed: five records in a row. */
  recs = forge_parse (log);
  g_ptr_array_remove_index (recs, 4);
  ((FRec *) recs->pdata[8])->epoch = 0;
  ((FRec *) recs->pdata[11])->epoch = 1;
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MISSING, 4);

  /* A seal moved later, re-sealed with its own key: too many records. */
  recs = forge_parse (log);
  {
    FRec *s = g_ptr_array_steal_index (recs, 4);

    g_ptr_array_insert (recs, 5, s);
  }
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MISSING, 4);

  /* A seal moved earlier: then the next epoch is too long. */
  recs = forge_parse (log);
  {
    FRec *s = g_ptr_array_steal_index (recs, 4);

    g_ptr_array_insert (recs, 2, s);
  }
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MISSING, 7);

  /* A seal duplicated (valid MACs for both). */
  recs = forge_parse (log);
  g_ptr_array_insert (recs, 5, seal_new (0, 1));
  ((FRec *) recs->pdata[10])->epoch = 2;
  ((FRec *) recs->pdata[13])->epoch = 3;
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_EMPTY_EPOCH, 5);

  /* Skipped epoch: the first seal claims epoch 1, made with K_1 -- what
   * an attacker holding a later key would do (journald's flaw). */
  recs = forge_parse (log);
  ((FRec *) recs->pdata[4])->epoch = 1;
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_EPOCH_SKIPPED, 4);

  /* Wrong epoch: the second seal claims epoch 0 (made with K_0). */
  recs = forge_parse (log);
  ((FRec *) recs->pdata[9])->epoch = 0;
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_EPOCH_MISMATCH, 9);

  /* Right epoch number, later key: epoch 0 sealed with K_2 (an attacker
   * who took the machine in epoch 2 rewriting epoch 0). */
  recs = forge_parse (log);
  ((FRec *) recs->pdata[4])->key_epoch = 2;
  g_free (((FRec *) recs->pdata[2])->device);
  ((FRec *) recs->pdata[2])->device = g_strdup ("dev-evil");
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MAC, 4);

  /* The tail after session.end: a record between it and its seal. */
  recs = forge_parse (log);
  g_ptr_array_insert (recs, 12, frec_new (0, "device.apply", NULL, "a0"));
  FORGE_EXPECT (SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_RECORD_AFTER_END, 12);
#undef FORGE_EXPECT
}

static void
test_seal_mac (void)
{
  g_autoptr(GBytes) log = make_log (8, 4, TRUE);
  g_autoptr(GArray) off = record_offsets (log);
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);
  g_autofree guint8 *copy = g_memdup2 (p, len);
  g_autoptr(GBytes) t = NULL;
  guint8 *mac = memmem (copy + g_array_index (off, gsize, 9), len - g_array_index (off, gsize, 9),
                        "\x63mac\x58\x20", 6);

  g_assert_nonnull (mac);
  mac[6 + 31] ^= 0x80;
  t = g_bytes_new (copy, len);
  expect (t, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MAC, 9);
}

static void
test_wrong_key (void)
{
  g_autoptr(GBytes) log = make_log (8, 4, TRUE);
  g_autoptr(GBytes) wrong = signet_test_hex ("000102030405060708090a0b0c0d0e0f"
                                             "101112131415161718191a1b1c1d1e1e");
  g_autoptr(SignetEventLogResult) r = signet_event_log_verify (log, wrong);

  assert_result (r, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_SEAL_MAC, 4);
  g_assert_cmpint (signet_event_log_result_get_last_sealed_seq (r), ==, -1);
  g_assert_cmpint (signet_event_log_result_get_seq (r), ==, 4);
  g_assert_cmpint (signet_event_log_result_get_offset (r), >, 0);
  /* The message never carries key material. */
  g_assert_null (strstr (signet_event_log_result_get_message (r), "0001020304"));
}

/* Every single-bit flip of a small sealed log is caught. */
static void
test_bit_flips (void)
{
  g_autoptr(GBytes) log = make_log (4, 2, TRUE);
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);
  g_autofree guint8 *copy = g_memdup2 (p, len);
  guint counts[5] = { 0 };

  for (gsize i = 0; i < len; i++)
    for (int bit = 0; bit < 8; bit++)
      {
        g_autoptr(GBytes) t = NULL;
        g_autoptr(SignetEventLogResult) r = NULL;
        SignetEventLogVerdict v;

        copy[i] ^= (guint8) (1u << bit);
        t = g_bytes_new (copy, len);
        r = verify (t);
        v = signet_event_log_result_get_verdict (r);
        if (v == SIGNET_EVENT_LOG_VERIFIED)
          g_error ("flip of bit %d of byte %" G_GSIZE_FORMAT " verified", bit, i);
        counts[v]++;
        copy[i] ^= (guint8) (1u << bit);
      }
  g_test_message ("%" G_GSIZE_FORMAT " flips: tampered %u, truncated %u, unsealed %u, malformed %u",
                  len * 8, counts[1], counts[2], counts[3], counts[4]);
}

/* ---- segments and state -------------------------------------------------- */

static void
assert_same_result (SignetEventLogResult *a,
                    SignetEventLogResult *b)
{
  g_assert_cmpint (signet_event_log_result_get_verdict (a), ==, signet_event_log_result_get_verdict (b));
  g_assert_cmpint (signet_event_log_result_get_reason (a), ==, signet_event_log_result_get_reason (b));
  g_assert_cmpint (signet_event_log_result_get_index (a), ==, signet_event_log_result_get_index (b));
  g_assert_cmpint (signet_event_log_result_get_offset (a), ==, signet_event_log_result_get_offset (b));
  g_assert_cmpint (signet_event_log_result_get_last_sealed_seq (a), ==,
                   signet_event_log_result_get_last_sealed_seq (b));
  g_assert_cmpuint (signet_event_log_result_get_n_records (a), ==, signet_event_log_result_get_n_records (b));
  g_assert_cmpuint (signet_event_log_result_get_n_seals (a), ==, signet_event_log_result_get_n_seals (b));
  g_assert_cmpstr (signet_event_log_result_get_message (a), ==, signet_event_log_result_get_message (b));
}

/* Feed log cut at every byte into two segments, the caller keeping what
 * the first feed did not consume, as the service does. */
static void
check_segmented (GBytes *log)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLogResult) whole = verify (log);
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);

  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autoptr(SignetEventLogVerifier) v = signet_event_log_verifier_new (k0);
      g_autoptr(SignetEventLogResult) r = NULL;
      g_autoptr(GError) error = NULL;
      gssize used;

      used = signet_event_log_verifier_feed_data (v, p, cut, &error);
      if (used >= 0)
        {
          g_assert_no_error (error);
          g_assert_cmpint (used, <=, cut);
          used = signet_event_log_verifier_feed_data (v, p + used, len - (gsize) used, &error);
        }
      if (used < 0)
        g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_REJECTED);
      r = signet_event_log_verifier_finish (v);
      assert_same_result (whole, r);
    }
}

static void
test_segments (void)
{
  g_autoptr(GBytes) log = make_log (9, 4, TRUE);
  g_autoptr(GBytes) open_log = make_log (6, 4, FALSE);
  g_autoptr(GArray) off = record_offsets (log);
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);
  g_autofree guint8 *copy = g_memdup2 (p, len);
  g_autoptr(GBytes) bad = NULL;

  g_autoptr(GBytes) invalid_head = replace_record (2, "87 02 00 6178 6161 f6 ac 8440 03 a0 e6 d3 de 00");
  g_autoptr(GBytes) too_large = replace_record (2, "87 02 00 6178 6161 f6 a161615a00020000");

  check_segmented (log);
  check_segmented (open_log);
  /* What the verifier says about a bad record must not depend on how many
   * bytes follow it in the segment (found by fuzz-eventlog). */
  check_segmented (invalid_head);
  check_segmented (too_large);
  copy[g_array_index (off, gsize, 6) + 3] ^= 1;
  bad = g_bytes_new (copy, len);
  check_segmented (bad);
}

/* The service's use: one verifier per session, fed the uploads in order;
 * a snapshot before each, to roll back to when a segment is refused. */
static void
test_service_resume (void)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(GBytes) log = make_log (12, 4, TRUE);
  g_autoptr(GBytes) other = NULL;
  g_autoptr(GArray) off = record_offsets (log);
  g_autoptr(SignetEventLogVerifier) v = signet_event_log_verifier_new (k0);
  g_autoptr(SignetEventLogState) state = NULL;
  g_autoptr(SignetEventLogVerifier) resumed = NULL;
  g_autoptr(SignetEventLogResult) r = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *p = g_bytes_get_data (log, NULL);
  gsize seg1 = g_array_index (off, gsize, 5);   /* through the first seal */
  gsize seg2 = g_array_index (off, gsize, 10);  /* through the second */
  gssize used;
  guint8 zero[32] = { 0 };

  state = signet_event_log_verifier_get_state (v);
  g_assert_cmpuint (signet_event_log_state_get_next_seq (state), ==, 0);
  g_assert_cmpmem (signet_event_log_state_get_chain_head (state), 32, zero, 32);
  g_assert_cmpint (signet_event_log_state_get_last_sealed_seq (state), ==, -1);
  g_clear_pointer (&state, signet_event_log_state_unref);

  used = signet_event_log_verifier_feed_data (v, p, seg1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (used, ==, seg1);
  state = signet_event_log_verifier_get_state (v);
  g_assert_cmpuint (signet_event_log_state_get_next_seq (state), ==, 5);
  g_assert_cmpuint (signet_event_log_state_get_epoch (state), ==, 1);
  g_assert_cmpint (signet_event_log_state_get_last_sealed_seq (state), ==, 4);
  {
    guint8 h[32];

    signet_sha256_buf (p + g_array_index (off, gsize, 4), seg1 - g_array_index (off, gsize, 4), h);
    g_assert_cmpmem (signet_event_log_state_get_sealed_head (state), 32, h, 32);
    g_assert_cmpmem (signet_event_log_state_get_chain_head (state), 32, h, 32);
  }
  g_assert_false (signet_event_log_state_is_complete (state));

  /* A segment from another session (another log with the same key) does
   * not continue this one: refused, and the service rolls back. */
  other = make_log_session (12, 4, TRUE, "session-2");
  {
    g_autoptr(GArray) ooff = record_offsets (other);
    const guint8 *op = g_bytes_get_data (other, NULL);

    used = signet_event_log_verifier_feed_data (v, op + g_array_index (ooff, gsize, 5),
                                                g_array_index (ooff, gsize, 10) -
                                                g_array_index (ooff, gsize, 5), &error);
  }
  g_assert_cmpint (used, ==, -1);
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_REJECTED);
  g_clear_error (&error);
  r = signet_event_log_verifier_finish (v);
  assert_result (r, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN, 5);
  g_clear_object (&r);

  /* Roll back; the genuine segments then go through, even after a
   * restart (the state is all the service keeps). */
  resumed = signet_event_log_verifier_new_from_state (state);
  used = signet_event_log_verifier_feed_data (resumed, p + seg1, seg2 - seg1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (used, ==, seg2 - seg1);
  /* A segment not ending on a record boundary: the tail is left over. */
  used = signet_event_log_verifier_feed_data (resumed, p + seg2, g_bytes_get_size (log) - seg2 - 3,
                                              &error);
  g_assert_no_error (error);
  g_assert_cmpint (used, <, g_bytes_get_size (log) - seg2 - 3);
  used = signet_event_log_verifier_feed_data (resumed, p + seg2 + used,
                                              g_bytes_get_size (log) - seg2 - (gsize) used, &error);
  g_assert_no_error (error);
  r = signet_event_log_verifier_finish (resumed);
  assert_result (r, SIGNET_EVENT_LOG_VERIFIED, SIGNET_EVENT_LOG_REASON_NONE, -1);
  g_assert_cmpuint (signet_event_log_result_get_n_records (r), ==, 18);
  {
    g_autoptr(SignetEventLogState) end = signet_event_log_verifier_get_state (resumed);

    g_assert_true (signet_event_log_state_is_complete (end));
  }
}

/* ---- serialized state ------------------------------------------------------ */

static void
assert_same_state (SignetEventLogState *a,
                   SignetEventLogState *b)
{
  g_autoptr(GBytes) sa = signet_event_log_state_serialize (a);
  g_autoptr(GBytes) sb = signet_event_log_state_serialize (b);

  g_assert_cmpuint (signet_event_log_state_get_next_seq (a), ==,
                    signet_event_log_state_get_next_seq (b));
  g_assert_cmpuint (signet_event_log_state_get_epoch (a), ==, signet_event_log_state_get_epoch (b));
  g_assert_cmpmem (signet_event_log_state_get_chain_head (a), 32,
                   signet_event_log_state_get_chain_head (b), 32);
  g_assert_cmpint (signet_event_log_state_get_last_sealed_seq (a), ==,
                   signet_event_log_state_get_last_sealed_seq (b));
  g_assert_cmpmem (signet_event_log_state_get_sealed_head (a), 32,
                   signet_event_log_state_get_sealed_head (b), 32);
  g_assert_cmpint (signet_event_log_state_is_complete (a), ==,
                   signet_event_log_state_is_complete (b));
  g_assert_cmpint (signet_event_log_state_is_ended (a), ==, signet_event_log_state_is_ended (b));
  /* Everything else the state holds (the key, counts, times, names) is
   * only visible through its bytes. */
  g_assert_cmpmem (g_bytes_get_data (sa, NULL), g_bytes_get_size (sa),
                   g_bytes_get_data (sb, NULL), g_bytes_get_size (sb));
}

static SignetEventLogState *
state_roundtrip (SignetEventLogState *state)
{
  g_autoptr(GBytes) bytes = signet_event_log_state_serialize (state);
  g_autoptr(GError) error = NULL;
  SignetEventLogState *back = signet_event_log_state_deserialize (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (back);
  return back;
}

/* The verifier's state after the whole records of log[0..cut). */
static SignetEventLogState *
state_after (GBytes *log,
             gsize   cut)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLogVerifier) v = signet_event_log_verifier_new (k0);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (signet_event_log_verifier_feed_data (v, g_bytes_get_data (log, NULL), cut,
                                                        &error), >=, 0);
  g_assert_no_error (error);
  return signet_event_log_verifier_get_state (v);
}

static void
test_state_roundtrip (void)
{
  g_autoptr(GBytes) log = make_log (12, 4, TRUE);
  g_autoptr(GArray) off = record_offsets (log);

  /* At every record boundary: before record 0, mid-epoch, at seals, after
   * session.end, complete. */
  for (guint i = 0; i < off->len; i++)
    {
      g_autoptr(SignetEventLogState) state = state_after (log, g_array_index (off, gsize, i));
      g_autoptr(SignetEventLogState) back = state_roundtrip (state);
      g_autoptr(SignetEventLogState) again = state_roundtrip (back);

      assert_same_state (state, back);
      assert_same_state (back, again);
      g_assert_cmpuint (signet_event_log_state_get_next_seq (back), ==, i);
      g_assert_cmpint (signet_event_log_state_is_complete (back), ==, i == off->len - 1);
    }
}

/* Resuming from a state saved as bytes gives the verdict of verifying the
 * whole log, wherever the log was cut, for good and bad logs alike. */
static void
check_resumed_serialized (GBytes *log)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLogResult) whole = verify (log);
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);
  guint resumed = 0;

  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autoptr(SignetEventLogVerifier) v = signet_event_log_verifier_new (k0);
      g_autoptr(SignetEventLogVerifier) v2 = NULL;
      g_autoptr(SignetEventLogState) state = NULL;
      g_autoptr(SignetEventLogState) loaded = NULL;
      g_autoptr(GBytes) saved = NULL;
      g_autoptr(SignetEventLogResult) r = NULL;
      g_autoptr(GError) error = NULL;
      gssize used;

      used = signet_event_log_verifier_feed_data (v, p, cut, &error);
      if (used < 0)
        continue;   /* refused: the service keeps no state after it */
      state = signet_event_log_verifier_get_state (v);
      saved = signet_event_log_state_serialize (state);
      /* The restart: nothing survives but the bytes. */
      g_clear_object (&v);
      g_clear_pointer (&state, signet_event_log_state_unref);
      loaded = signet_event_log_state_deserialize (saved, &error);
      g_assert_no_error (error);
      v2 = signet_event_log_verifier_new_from_state (loaded);
      used = signet_event_log_verifier_feed_data (v2, p + used, len - (gsize) used, &error);
      if (used < 0)
        g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_REJECTED);
      r = signet_event_log_verifier_finish (v2);
      assert_same_result (whole, r);
      g_assert_cmpstr (signet_event_log_result_get_session_id (whole), ==,
                       signet_event_log_result_get_session_id (r));
      g_assert_cmpstr (signet_event_log_result_get_actor (whole), ==,
                       signet_event_log_result_get_actor (r));
      g_assert_cmpuint (signet_event_log_result_get_first_time (whole), ==,
                        signet_event_log_result_get_first_time (r));
      g_assert_cmpuint (signet_event_log_result_get_last_time (whole), ==,
                        signet_event_log_result_get_last_time (r));
      g_assert_cmpint (signet_event_log_result_get_seq (whole), ==,
                       signet_event_log_result_get_seq (r));
      resumed++;
    }
  g_assert_cmpuint (resumed, >, 0);
}

static void
test_state_resume (void)
{
  g_autoptr(GBytes) log = make_log (12, 4, TRUE);
  g_autoptr(GBytes) open_log = make_log (6, 4, FALSE);
  g_autoptr(GBytes) other = make_log_session (12, 4, TRUE, "session-2");
  g_autoptr(GArray) off = record_offsets (log);
  g_autoptr(GArray) ooff = record_offsets (other);
  gsize len;
  const guint8 *p = g_bytes_get_data (log, &len);
  g_autofree guint8 *copy = g_memdup2 (p, len);
  g_autoptr(GBytes) flipped = NULL;
  g_autoptr(GBytes) spliced = NULL;
  g_autoptr(GBytes) cut_short = g_bytes_new_from_bytes (log, 0, g_array_index (off, gsize, 9));

  /* A changed byte in record 7 (after the second seal is due). */
  copy[g_array_index (off, gsize, 7) + 4] ^= 0x01;
  flipped = g_bytes_new (copy, len);
  /* Records 5..9 of another session (same K_0) in place of ours. */
  spliced = splice_bytes (log, g_array_index (off, gsize, 5), g_array_index (off, gsize, 10),
                          (const guint8 *) g_bytes_get_data (other, NULL) +
                          g_array_index (ooff, gsize, 5),
                          g_array_index (ooff, gsize, 10) - g_array_index (ooff, gsize, 5));

  check_resumed_serialized (log);
  check_resumed_serialized (open_log);
  check_resumed_serialized (cut_short);
  check_resumed_serialized (flipped);
  check_resumed_serialized (spliced);
  /* A state saved from another session's log does not verify ours. */
  {
    g_autoptr(SignetEventLogState) theirs = state_after (other, g_array_index (ooff, gsize, 5));
    g_autoptr(SignetEventLogState) loaded = state_roundtrip (theirs);
    g_autoptr(SignetEventLogVerifier) v = signet_event_log_verifier_new_from_state (loaded);
    g_autoptr(SignetEventLogResult) r = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_cmpint (signet_event_log_verifier_feed_data (v, p + g_array_index (off, gsize, 5),
                                                          len - g_array_index (off, gsize, 5),
                                                          &error), ==, -1);
    g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_REJECTED);
    r = signet_event_log_verifier_finish (v);
    assert_result (r, SIGNET_EVENT_LOG_TAMPERED, SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN, 5);
  }
}

static void
assert_refused (const guint8 *data,
                gsize         len,
                const char   *what)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, len);
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetEventLogState) state = signet_event_log_state_deserialize (bytes, &error);

  if (state != NULL)
    g_error ("a serialized state was accepted after %s", what);
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_INVALID);
}

/* Every corruption of a saved state is refused with an error, never taken
 * for another state: cut short, bytes added, another version, any bit
 * flipped. */
static void
check_corruptions (SignetEventLogState *state)
{
  g_autoptr(GBytes) saved = signet_event_log_state_serialize (state);
  gsize len;
  const guint8 *p = g_bytes_get_data (saved, &len);
  g_autofree guint8 *copy = g_malloc (len + 64);
  static const char * const versions[] = { "SLS0", "SLS1", "SLS2", "SLS3", "SLS9", "sls1",
                                           "XLS1", "SLT1", "\0\0\0\0" };

  /* The genuine bytes load (so the refusals below are the changes'). */
  {
    g_autoptr(SignetEventLogState) back = state_roundtrip (state);

    assert_same_state (state, back);
  }

  for (gsize cut = 0; cut < len; cut++)
    {
      g_autofree char *what = g_strdup_printf ("a cut to %" G_GSIZE_FORMAT " bytes", cut);

      assert_refused (p, cut, what);
    }

  for (gsize extra = 1; extra <= 64; extra *= 2)
    for (guint fill = 0; fill < 2; fill++)
      {
        g_autofree char *what = g_strdup_printf ("%" G_GSIZE_FORMAT " bytes added", extra);

        memcpy (copy, p, len);
        memset (copy + len, fill ? 0xff : 0x00, extra);
        assert_refused (copy, len + extra, what);
      }

  for (gsize i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      memcpy (copy, p, len);
      if (memcmp (copy, versions[i], 4) == 0)
        continue;   /* the current version */
      memcpy (copy, versions[i], 4);
      assert_refused (copy, len, "a change of version");
    }

  for (gsize i = 0; i < len; i++)
    for (guint bit = 0; bit < 8; bit++)
      {
        g_autofree char *what = g_strdup_printf ("flipping bit %u of byte %" G_GSIZE_FORMAT,
                                                 bit, i);

        memcpy (copy, p, len);
        copy[i] ^= (guint8) (1u << bit);
        assert_refused (copy, len, what);
      }

  /* Not a state at all. */
  assert_refused ((const guint8 *) "", 0, "nothing");
  memset (copy, 0, len);
  assert_refused (copy, len, "all zeros");
}

/* The bytes of a saved state are its layout then SHA-256 of it: write
 * that sum after body[0..len), so that a change reaches the layout's own
 * checks behind the sum. Returns the new length. */
static gsize
resum (guint8 *body,
       gsize   len)
{
  signet_sha256_buf (body, len, body + len);
  return len + 32;
}

static void
put_be64 (guint8  *p,
          guint64  v)
{
  for (int i = 7; i >= 0; i--, v >>= 8)
    p[i] = (guint8) (v & 0xff);
}

/* The layout's checks, each reached with a valid sum: a cut or longer
 * layout, another version, and values no verifier could have had. For a
 * state with records (next_seq 7, epoch 1, pending 2, interval 4, seal 4
 * verified, session "session-1", actor "alice"). */
static void
check_layout (SignetEventLogState *state)
{
  g_autoptr(GBytes) saved = signet_event_log_state_serialize (state);
  gsize len;
  const guint8 *p = g_bytes_get_data (saved, &len);
  gsize body_len = len - 32;
  g_autofree guint8 *copy = g_malloc (len + 64);
  /* Offsets in the layout of docs in signet-eventlog-verifier.c. */
  enum { NEXT_SEQ = 4, EPOCH = 12, PENDING = 20, INTERVAL = 28, N_RECORDS = 44, N_SEALS = 52,
         LAST_SEALED = 76, FLAGS = 84, SESSION = 181 };
  struct {
    gsize at;
    guint64 value;
    const char *what;
  } edits[] = {
    { NEXT_SEQ, 8, "next_seq not the record count" },
    { EPOCH, 2, "epoch not the seal count" },
    { N_RECORDS, 8, "a record count not next_seq" },
    { N_SEALS, 0, "a seal count not the epoch" },
    { N_SEALS, 8, "more seals than records" },
    { PENDING, 5, "more pending records than the interval" },
    { INTERVAL, 0, "no interval after record 0" },
    { INTERVAL, SIGNET_EVENT_LOG_MAX_SEAL_INTERVAL + 1, "an interval over the maximum" },
    { LAST_SEALED, 7, "a last seal at next_seq" },
    { LAST_SEALED, G_MAXUINT64 - 1, "a last seal at -2" },
  };

  g_assert_cmpuint (signet_event_log_state_get_next_seq (state), ==, 7);
  /* The test's sum is the library's: re-summing changes nothing. */
  memcpy (copy, p, body_len);
  g_assert_cmpuint (resum (copy, body_len), ==, len);
  g_assert_cmpmem (copy, len, p, len);

  for (gsize cut = 0; cut < body_len; cut++)
    {
      memcpy (copy, p, cut);
      assert_refused (copy, resum (copy, cut), "a cut layout with its sum");
    }
  for (gsize extra = 1; extra <= 32; extra *= 2)
    {
      memcpy (copy, p, body_len);
      memset (copy + body_len, 0, extra);
      assert_refused (copy, resum (copy, body_len + extra), "bytes added with their sum");
    }
  memcpy (copy, p, body_len);
  memcpy (copy, "SLS1", 4);
  assert_refused (copy, resum (copy, body_len), "version 1 with a sum");
  memcpy (copy, "SLS3", 4);
  assert_refused (copy, resum (copy, body_len), "version 3 with a sum");

  for (gsize i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      memcpy (copy, p, body_len);
      put_be64 (copy + edits[i].at, edits[i].value);
      assert_refused (copy, resum (copy, body_len), edits[i].what);
    }
  for (guint flags = 2; flags < 256; flags <<= 1)
    {
      memcpy (copy, p, body_len);
      copy[FLAGS] = (guint8) flags;   /* complete without ended; unknown bits */
      assert_refused (copy, resum (copy, body_len), "bad flags");
    }
  /* The session id: "session-1" (u16 9); a NUL in it, a byte that is not
   * UTF-8, a length past the end, none at all after record 0. */
  g_assert_cmpmem (p + SESSION, 11, "\0\x09session-1", 11);
  memcpy (copy, p, body_len);
  copy[SESSION + 2 + 3] = '\0';
  assert_refused (copy, resum (copy, body_len), "a NUL in the session id");
  memcpy (copy, p, body_len);
  copy[SESSION + 2 + 3] = 0xff;
  assert_refused (copy, resum (copy, body_len), "a session id that is not UTF-8");
  memcpy (copy, p, body_len);
  copy[SESSION + 1] = 0xf0;
  assert_refused (copy, resum (copy, body_len), "a session id longer than the state");
  {
    gsize n = 0;

    memcpy (copy, p, SESSION);
    n = SESSION;
    copy[n++] = 0;
    copy[n++] = 0;
    memcpy (copy + n, p + SESSION + 11, body_len - SESSION - 11);
    n += body_len - SESSION - 11;
    assert_refused (copy, resum (copy, n), "no session id after record 0");
  }
}

static void
test_state_corrupt (void)
{
  g_autoptr(GBytes) log = make_log (12, 4, TRUE);
  g_autoptr(GArray) off = record_offsets (log);
  /* Before any record; mid-epoch (epoch 1, two records pending, seal 4
   * verified); complete. */
  gsize cuts[] = { 0, g_array_index (off, gsize, 7), g_bytes_get_size (log) };

  for (gsize i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autoptr(SignetEventLogState) state = state_after (log, cuts[i]);

      check_corruptions (state);
      if (i == 1)
        check_layout (state);
    }
}

/* ---- reading and export -------------------------------------------------- */

static GBytes *
export_fixture (void)
{
  g_autoptr(GBytes) k0 = test_k0 ();
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(SignetEventData) data = signet_event_data_new ();
  g_autoptr(GBytes) receipt = signet_test_hex ("d28443a10126a0");
  g_autoptr(GBytes) nested = signet_test_hex ("a2616101616282f6f5");
  g_autoptr(GError) error = NULL;
  Clock c;

  clock_init (&c, 64);
  log = signet_event_log_new_in_memory (k0, "alice", "s-42", &c.options, &error);
  g_assert_true (signet_event_data_add_text (data, "note", "a \"quoted\", line\nnext", &error));
  g_assert_true (signet_event_data_add_bytes (data, "receipt", receipt, &error));
  g_assert_true (signet_event_data_add_int (data, "delta", -5, &error));
  g_assert_true (signet_event_data_add_cbor (data, "obj", nested, &error));
  g_assert_true (signet_event_log_append (log, "device.apply", "=cmd|calc", data, &error));
  g_assert_true (signet_event_log_close_session (log, &error));
  g_assert_no_error (error);
  return signet_event_log_dup_contents (log);
}

static void
test_export_json (void)
{
  g_autoptr(GBytes) log = export_fixture ();
  g_autoptr(GError) error = NULL;
  g_autofree char *json = signet_event_log_export_json (log, &error);
  g_autoptr(JsonNode) root = NULL;
  JsonArray *arr;
  JsonObject *rec, *data;

  g_assert_no_error (error);
  root = json_from_string (json, &error);
  g_assert_no_error (error);
  arr = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (arr), ==, 4);

  rec = json_array_get_object_element (arr, 0);
  g_assert_cmpstr (json_object_get_string_member (rec, "type"), ==, "session.start");
  g_assert_true (json_object_get_null_member (rec, "device"));
  g_assert_cmpstr (json_object_get_string_member (rec, "time"), ==, "2023-11-14T22:13:20.000Z");
  g_assert_cmpstr (json_object_get_string_member (rec, "prev_hash"), ==,
                   "0000000000000000000000000000000000000000000000000000000000000000");

  rec = json_array_get_object_element (arr, 1);
  g_assert_cmpint (json_object_get_int_member (rec, "seq"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (rec, "time_ms"), ==, (gint64) T0 + 1000);
  g_assert_cmpstr (json_object_get_string_member (rec, "actor"), ==, "alice");
  g_assert_cmpstr (json_object_get_string_member (rec, "device"), ==, "=cmd|calc");
  g_assert_cmpstr (json_object_get_string_member (rec, "prev_hash"), ==,
                   json_object_get_string_member (json_array_get_object_element (arr, 0), "hash"));
  data = json_object_get_object_member (rec, "data");
  g_assert_cmpstr (json_object_get_string_member (data, "note"), ==, "a \"quoted\", line\nnext");
  g_assert_cmpstr (json_object_get_string_member (data, "receipt"), ==, "d28443a10126a0");
  g_assert_cmpint (json_object_get_int_member (data, "delta"), ==, -5);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (data, "obj"), "a"), ==, 1);
  g_assert_true (json_array_get_boolean_element (
                   json_object_get_array_member (json_object_get_object_member (data, "obj"), "b"), 1));

  rec = json_array_get_object_element (arr, 3);
  g_assert_cmpstr (json_object_get_string_member (rec, "type"), ==, "seal");
  data = json_object_get_object_member (rec, "data");
  g_assert_cmpint (json_object_get_int_member (data, "epoch"), ==, 0);
  g_assert_cmpuint (strlen (json_object_get_string_member (data, "mac")), ==, 64);
}

static void
test_export_csv (void)
{
  g_autoptr(GBytes) log = export_fixture ();
  g_autoptr(GError) error = NULL;
  g_autofree char *csv = signet_event_log_export_csv (log, &error);
  g_auto(GStrv) lines = NULL;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (csv, "seq,time,type,actor,device,summary\r\n"
                                   "0,2023-11-14T22:13:20.000Z,session.start,alice,,"
                                   "session=s-42; version=1; seal_interval=64\r\n"));
  /* The device would be a formula in a spreadsheet: defused. The summary
   * has a comma, a quote and a newline: quoted, quotes doubled. */
  g_assert_nonnull (strstr (csv, "\r\n1,2023-11-14T22:13:21.000Z,device.apply,alice,'=cmd|calc,"
                            "\"obj={\"\"a\"\":1,\"\"b\"\":[null,true]}; note=a \"\"quoted\"\", "
                            "line\nnext; delta=-5; receipt=d28443a10126a0\"\r\n"));
  g_assert_nonnull (strstr (csv, "\r\n2,2023-11-14T22:13:22.000Z,session.end,alice,,\r\n"));
  g_assert_nonnull (strstr (csv, "\r\n3,2023-11-14T22:13:22.000Z,seal,alice,,mac="));
  lines = g_strsplit (csv, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 6);   /* header, 4 records, "" */
}

static void
test_reader_malformed (void)
{
  g_autoptr(GBytes) log = replace_record (2, "87 02 00 6178 6161 f6 a10101 " ZERO32);
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new (log);
  g_autoptr(GError) error = NULL;
  SignetEventRecord *rec;
  guint n = 0;
  g_autofree char *json = NULL;
  g_autofree char *csv = NULL;
  g_autoptr(GBytes) cut = make_log (1, 4, TRUE);
  g_autoptr(GBytes) cut_part = g_bytes_new_from_bytes (cut, 0, g_bytes_get_size (cut) - 1);

  while (signet_event_log_reader_next (reader, &rec, &error))
    {
      n++;
      signet_event_record_unref (rec);
    }
  g_assert_cmpuint (n, ==, 2);
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_false (signet_event_log_reader_next (reader, &rec, &error));
  g_assert_no_error (error);

  json = signet_event_log_export_json (log, &error);
  g_assert_null (json);
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED);
  g_clear_error (&error);
  csv = signet_event_log_export_csv (cut_part, &error);
  g_assert_null (csv);
  g_assert_error (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED);
}

static void
test_names (void)
{
  g_assert_cmpstr (signet_event_log_verdict_to_string (SIGNET_EVENT_LOG_UNSEALED_TAIL), ==, "unsealed-tail");
  g_assert_cmpstr (signet_event_log_reason_to_string (SIGNET_EVENT_LOG_REASON_TRAILING_DATA), ==, "trailing-data");
  for (int r = SIGNET_EVENT_LOG_REASON_NONE; r <= SIGNET_EVENT_LOG_REASON_TRAILING_DATA; r++)
    g_assert_cmpstr (signet_event_log_reason_to_string (r), !=, "unknown");
  g_assert_cmpstr (signet_event_log_reason_to_string (999), ==, "unknown");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/signet/eventlog/spec-conformance", test_spec_conformance);
  g_test_add_func ("/signet/eventlog/roundtrip", test_roundtrip);
  g_test_add_func ("/signet/eventlog/session-start", test_session_start);
  g_test_add_func ("/signet/eventlog/data/builder", test_data_builder);
  g_test_add_func ("/signet/eventlog/data/digest", test_digest_helper);
  g_test_add_func ("/signet/eventlog/writer/refusals", test_writer_refusals);
  g_test_add_func ("/signet/eventlog/writer/explicit-seal", test_explicit_seal);
  g_test_add_func ("/signet/eventlog/writer/file", test_file);
  g_test_add_func ("/signet/eventlog/writer/create-fails", test_file_create_fails);
  g_test_add_func ("/signet/eventlog/writer/write-failure", test_write_failure);
  g_test_add_func ("/signet/eventlog/writer/dir-removed", test_refuse_after_close_file);
  g_test_add_func ("/signet/eventlog/writer/defer-sync", test_defer_sync);
  g_test_add_func ("/signet/eventlog/writer/defer-sync-failure", test_defer_sync_failure);
  g_test_add_func ("/signet/eventlog/verify/empty", test_empty);
  g_test_add_func ("/signet/eventlog/verify/unsealed-tail", test_unsealed_tail);
  g_test_add_func ("/signet/eventlog/verify/truncation", test_truncation_every_offset);
  g_test_add_func ("/signet/eventlog/verify/after-end", test_trailing_and_after_end);
  g_test_add_func ("/signet/eventlog/verify/malformed", test_malformed);
  g_test_add_func ("/signet/eventlog/verify/bad-session-start", test_bad_session_start);
  g_test_add_func ("/signet/eventlog/verify/bad-seal", test_bad_seal);
  g_test_add_func ("/signet/eventlog/verify/record-order", test_record_order);
  g_test_add_func ("/signet/eventlog/verify/rechained", test_rechained_without_key);
  g_test_add_func ("/signet/eventlog/verify/changed-byte", test_changed_byte);
  g_test_add_func ("/signet/eventlog/verify/grammar", test_grammar);
  g_test_add_func ("/signet/eventlog/verify/seal-mac", test_seal_mac);
  g_test_add_func ("/signet/eventlog/verify/wrong-key", test_wrong_key);
  g_test_add_func ("/signet/eventlog/verify/bit-flip", test_bit_flips);
  g_test_add_func ("/signet/eventlog/verify/segments", test_segments);
  g_test_add_func ("/signet/eventlog/verify/service-resume", test_service_resume);
  g_test_add_func ("/signet/eventlog/state/roundtrip", test_state_roundtrip);
  g_test_add_func ("/signet/eventlog/state/resume", test_state_resume);
  g_test_add_func ("/signet/eventlog/state/corrupt", test_state_corrupt);
  g_test_add_func ("/signet/eventlog/export/json", test_export_json);
  g_test_add_func ("/signet/eventlog/export/csv", test_export_csv);
  g_test_add_func ("/signet/eventlog/reader/malformed", test_reader_malformed);
  g_test_add_func ("/signet/eventlog/names", test_names);

  return g_test_run ();
}
