/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-eventlog.c: the event log's verifier, reader and exports on
 * arbitrary input, and its tamper evidence on logs built from the input.
 *
 * The first byte picks a mode:
 *
 *   even: the rest is a log, verified with a fixed K_0 -- whole, and fed
 *         in two segments cut where the second byte says (the caller
 *         keeping what the first feed left, as the service does); both
 *         verdicts must agree. The reader and both exports run on it; a
 *         JSON export must parse, and a VERIFIED log must read whole.
 *
 *   odd:  the rest drives the writer: byte 1 the seal interval, byte 2
 *         whether to close, bytes 3-4 a position and byte 5 a nonzero XOR
 *         mask, the rest records (type, device, data). The log built must
 *         verify (or, open, be reported open); the log with one byte
 *         changed must never verify.
 *
 * Any broken promise is an abort ().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "signet-eventlog.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const guint8 k0_bytes[32] = {
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
  0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void
check (gboolean ok)
{
  if (!ok)
    abort ();
}

static gboolean
same_result (SignetEventLogResult *a,
             SignetEventLogResult *b)
{
  return signet_event_log_result_get_verdict (a) == signet_event_log_result_get_verdict (b) &&
         signet_event_log_result_get_reason (a) == signet_event_log_result_get_reason (b) &&
         signet_event_log_result_get_index (a) == signet_event_log_result_get_index (b) &&
         signet_event_log_result_get_n_records (a) == signet_event_log_result_get_n_records (b) &&
         signet_event_log_result_get_n_seals (a) == signet_event_log_result_get_n_seals (b) &&
         g_strcmp0 (signet_event_log_result_get_message (a),
                    signet_event_log_result_get_message (b)) == 0;
}

static void
fuzz_verify (const guint8 *data,
             gsize         size,
             GBytes       *k0)
{
  g_autoptr(GBytes) log = NULL;
  g_autoptr(SignetEventLogResult) whole = NULL;
  g_autoptr(SignetEventLogResult) split = NULL;
  g_autoptr(SignetEventLogVerifier) v = NULL;
  g_autoptr(SignetEventLogReader) reader = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = NULL;
  g_autofree char *csv = NULL;
  SignetEventRecord *rec;
  gsize cut;
  gssize used;
  guint64 n = 0;

  if (size < 1)
    return;
  cut = data[0];
  data++, size--;
  cut = size > 0 ? cut * size / 255 : 0;
  log = g_bytes_new (data, size);

  whole = signet_event_log_verify (log, k0);
  v = signet_event_log_verifier_new (k0);
  used = signet_event_log_verifier_feed_data (v, data, cut, NULL);
  if (used >= 0)
    {
      check ((gsize) used <= cut);
      signet_event_log_verifier_feed_data (v, data + used, size - (gsize) used, NULL);
    }
  split = signet_event_log_verifier_finish (v);
  check (same_result (whole, split));

  reader = signet_event_log_reader_new (log);
  while (signet_event_log_reader_next (reader, &rec, &error))
    {
      g_autofree char *data_json = signet_event_record_data_to_json (rec);

      check (data_json != NULL && data_json[0] == '{');
      signet_event_record_unref (rec);
      n++;
    }
  if (signet_event_log_result_get_verdict (whole) == SIGNET_EVENT_LOG_VERIFIED)
    check (error == NULL && n == signet_event_log_result_get_n_records (whole));
  g_clear_error (&error);

  json = signet_event_log_export_json (log, &error);
  g_clear_error (&error);
  if (json != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      check (json_parser_load_from_data (parser, json, -1, NULL));
    }
  csv = signet_event_log_export_csv (log, &error);
  check ((json == NULL) == (csv == NULL));
}

static guint64
fuzz_clock (gpointer user_data)
{
  guint64 *t = user_data;

  return 1700000000000 + 1000 * (*t)++;
}

static const char * const types[] = {
  "device.hello", "device.attest", "device.apply", "device.commit", "token.refresh",
  "x", "a.b.c.d",
};
static const char * const devices[] = { "dev-1", "dev-2", "SN 0042 ünïcode" };

static void
fuzz_build (const guint8 *data,
            gsize         size,
            GBytes       *k0)
{
  g_autoptr(SignetEventLog) log = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) mutated = NULL;
  g_autoptr(SignetEventLogResult) r = NULL;
  g_autoptr(SignetEventLogResult) rm = NULL;
  g_autofree guint8 *copy = NULL;
  SignetEventLogOptions options = { 0 };
  guint64 tick = 0;
  gboolean close;
  gsize pos, len, i = 5;
  guint8 mask;
  guint n = 0;

  if (size < 5)
    return;
  options.seal_interval = 1 + data[0] % 8;
  options.clock = fuzz_clock;
  options.clock_data = &tick;
  close = data[1] & 1;
  pos = (gsize) data[2] << 8 | data[3];
  mask = data[4] != 0 ? data[4] : 1;

  log = signet_event_log_new_in_memory (k0, "fuzz", "session", &options, NULL);
  check (log != NULL);
  while (i < size && n++ < 64)
    {
      guint8 c = data[i++];

      if (c % 8 == 7)
        {
          check (signet_event_log_seal (log, NULL));
          continue;
        }
      {
        g_autoptr(SignetEventData) d = signet_event_data_new ();
        guint n_fields = (c >> 3) % 4;
        char key[8];

        for (guint f = 0; f < n_fields && i < size; f++)
          {
            guint8 vlen = data[i++] % 16;
            g_autoptr(GBytes) value = NULL;

            vlen = (guint8) MIN ((gsize) vlen, size - i);
            value = g_bytes_new (data + i, vlen);
            i += vlen;
            g_snprintf (key, sizeof key, "k%u", f);
            if (f % 2 == 0)
              check (signet_event_data_add_bytes (d, key, value, NULL));
            else
              check (signet_event_data_add_uint (d, key, vlen, NULL));
          }
        check (signet_event_log_append (log, types[c % G_N_ELEMENTS (types)],
                                        (c >> 5) < G_N_ELEMENTS (devices) ? devices[c >> 5] : NULL,
                                        d, NULL));
      }
    }
  if (close)
    check (signet_event_log_close_session (log, NULL));

  bytes = signet_event_log_dup_contents (log);
  r = signet_event_log_verify (bytes, k0);
  if (close)
    check (signet_event_log_result_get_verdict (r) == SIGNET_EVENT_LOG_VERIFIED);
  else
    check (signet_event_log_result_get_verdict (r) == SIGNET_EVENT_LOG_UNSEALED_TAIL ||
           (signet_event_log_result_get_verdict (r) == SIGNET_EVENT_LOG_TRUNCATED &&
            signet_event_log_result_get_reason (r) == SIGNET_EVENT_LOG_REASON_NO_SESSION_END));

  copy = g_bytes_unref_to_data (g_steal_pointer (&bytes), &len);
  copy[pos % len] ^= mask;
  mutated = g_bytes_new_take (g_steal_pointer (&copy), len);
  rm = signet_event_log_verify (mutated, k0);
  check (signet_event_log_result_get_verdict (rm) != SIGNET_EVENT_LOG_VERIFIED);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) k0 = g_bytes_new_static (k0_bytes, sizeof k0_bytes);

  if (size < 1)
    return 0;
  if (data[0] & 1)
    fuzz_build (data + 1, size - 1, k0);
  else
    fuzz_verify (data + 1, size - 1, k0);
  return 0;
}
