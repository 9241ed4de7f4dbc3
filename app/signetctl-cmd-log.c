/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-cmd-log.c: `log verify` and `log export`, on a file, in this
 * process (no agent, no sign-in).
 *
 * With the session's K_0 (--key-file), verification is core's
 * (signet_event_log_verify_file): chain and seals. Without it, this file
 * walks the records itself and checks what needs no key -- each record
 * well formed, seq 0, 1, 2..., each prev_hash the SHA-256 of the record
 * before, session.start first, ending with session.end and a seal --
 * which finds a changed, removed, inserted, reordered or cut record, but
 * not a log re-chained by someone who rewrote it: only the seals show
 * that, hence the distinct exit status 10.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "signet-eventlog.h"
#include "signet-secret.h"
#include "signetctl-cli.h"
#include "signetctl-error.h"
#include "signetctl-output.h"

/* What a verification found, for printing either way. */
typedef struct {
  const char *verdict;
  const char *reason;
  char *message;
  gint64 index;
  gint64 seq;
  gint64 offset;
  gint64 last_sealed_seq;
  guint64 records;
  gboolean seals_checked;
} Outcome;

static GBytes *
read_key (const char  *path,
          GError     **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  guint8 key[SIGNET_EVENT_LOG_KEY_LEN];
  GBytes *out;

  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  if (len == SIGNET_EVENT_LOG_KEY_LEN)
    out = signet_secret_bytes_new (data, len);
  else
    {
      g_autofree char *hex = g_strstrip (g_strndup (data, len));

      if (strlen (hex) != 2 * SIGNET_EVENT_LOG_KEY_LEN)
        goto bad;
      for (guint i = 0; i < SIGNET_EVENT_LOG_KEY_LEN; i++)
        {
          int hi = g_ascii_xdigit_value (hex[2 * i]);
          int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

          if (hi < 0 || lo < 0)
            {
              signet_secret_wipe (hex, strlen (hex));
              goto bad;
            }
          key[i] = (guint8) (hi << 4 | lo);
        }
      signet_secret_wipe (hex, strlen (hex));
      out = signet_secret_bytes_new (key, sizeof key);
      signet_secret_wipe (key, sizeof key);
    }
  signet_secret_wipe (data, len);
  return out;

bad:
  signet_secret_wipe (data, len);
  g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
               _("%s does not hold a log key (32 bytes, raw or as 64 hex digits)"), path);
  return NULL;
}

/* The checks that need no key. */
static gboolean
check_chain (const char  *path,
             Outcome     *o,
             GError     **error)
{
  g_autoptr(SignetEventLogReader) reader = signet_event_log_reader_new_for_path (path, error);
  guint8 prev[SIGNET_EVENT_LOG_HASH_LEN] = { 0 };
  gboolean ended = FALSE;
  gboolean sealed_end = FALSE;
  const char *last_type = NULL;
  g_autofree char *last_type_copy = NULL;
  guint64 end_offset = 0;

  if (reader == NULL)
    return FALSE;
  o->index = o->seq = o->offset = o->last_sealed_seq = -1;
  for (guint64 i = 0;; i++)
    {
      g_autoptr(SignetEventRecord) rec = NULL;
      g_autoptr(GError) local = NULL;
      g_autoptr(GBytes) raw = NULL;
      const char *type;

      if (!signet_event_log_reader_next (reader, &rec, &local))
        {
          if (local != NULL)
            {
              o->verdict = "malformed";
              o->reason = "cbor";
              o->index = (gint64) i;
              o->offset = (gint64) end_offset;
              o->message = g_strdup_printf (_("Record %llu (at byte %llu) is not a well-formed "
                                              "record: %s"),
                                            (unsigned long long) i,
                                            (unsigned long long) end_offset, local->message);
              return TRUE;
            }
          break;
        }
      type = signet_event_record_get_record_type (rec);
      raw = signet_event_record_dup_raw (rec);
      end_offset = signet_event_record_get_offset (rec) + g_bytes_get_size (raw);
      o->records = i + 1;
      if (signet_event_record_get_seq (rec) != i ||
          memcmp (signet_event_record_get_prev_hash (rec), prev, sizeof prev) != 0 ||
          (i == 0) != (g_strcmp0 (type, SIGNET_EVENT_TYPE_SESSION_START) == 0) ||
          (ended && g_strcmp0 (type, SIGNET_EVENT_TYPE_SEAL) != 0))
        {
          guint64 seq = signet_event_record_get_seq (rec);

          o->verdict = "tampered";
          o->reason = seq > i ? "seq-gap" : seq == i - 1 && i > 0 ? "seq-repeated"
                    : seq < i ? "seq-backwards"
                    : memcmp (signet_event_record_get_prev_hash (rec), prev, sizeof prev) != 0
                    ? "chain-broken" : i == 0 ? "not-session-start" : ended
                    ? "record-after-end" : "session-start-repeated";
          o->index = (gint64) i;
          o->seq = (gint64) seq;
          o->offset = (gint64) signet_event_record_get_offset (rec);
          o->records = i;
          o->message = g_strdup_printf (_("Record %llu (seq %llu, at byte %lld) does not follow "
                                          "the one before it (%s): the log was changed there"),
                                        (unsigned long long) i, (unsigned long long) seq,
                                        (long long) o->offset, o->reason);
          return TRUE;
        }
      if (g_strcmp0 (type, SIGNET_EVENT_TYPE_SESSION_END) == 0)
        ended = TRUE;
      if (g_strcmp0 (type, SIGNET_EVENT_TYPE_SEAL) == 0 && ended)
        sealed_end = TRUE;
      memcpy (prev, signet_event_record_get_hash (rec), sizeof prev);
      g_free (last_type_copy);
      last_type = last_type_copy = g_strdup (type);
    }
  if (o->records == 0)
    {
      o->verdict = "truncated";
      o->reason = "empty";
      o->message = g_strdup (_("The log holds no record"));
      return TRUE;
    }
  if (!sealed_end)
    {
      o->verdict = g_strcmp0 (last_type, SIGNET_EVENT_TYPE_SEAL) == 0 ? "truncated"
                                                                       : "unsealed-tail";
      o->reason = g_strcmp0 (last_type, SIGNET_EVENT_TYPE_SEAL) == 0 ? "no-session-end"
                                                                     : "unsealed-records";
      o->index = (gint64) o->records;
      o->message = g_strdup (_("The log does not end with session.end and its final seal: "
                               "cut short, or still being written"));
      return TRUE;
    }
  o->verdict = "chain-intact";
  o->reason = "none";
  o->message = g_strdup_printf (_("%llu records, chain intact; the seals "
                                  "were not checked (no key: give --key-file, or ask the "
                                  "service for its verdict)"), (unsigned long long) o->records);
  return TRUE;
}

int
signetctl_cmd_log_verify (SignetctlCli  *cli,
                          int            argc,
                          char         **argv)
{
  g_autofree char *key_file = NULL;
  const GOptionEntry entries[] = {
    { "key-file", 'k', 0, G_OPTION_ARG_FILENAME, &key_file,
      N_("The session's log key K_0 (32 bytes, raw or hex)"), N_("KEYFILE") },
    { NULL }
  };
  const SignetctlCommand *command = signetctl_cli_command ("log verify");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  Outcome o = { 0 };
  int status;
  int rc;

  rc = signetctl_cli_parse (cli, command, entries, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc != 2)
    return signetctl_cli_usage (command, _("Give the log FILE to verify"));

  if (key_file != NULL)
    {
      g_autoptr(GBytes) k0 = read_key (key_file, &error);
      g_autoptr(SignetEventLogResult) r = NULL;

      if (k0 == NULL)
        return signetctl_cli_fail (error);
      r = signet_event_log_verify_file (argv[1], k0, &error);
      if (r == NULL)
        return signetctl_cli_fail (error);
      o.verdict = signet_event_log_verdict_to_string (signet_event_log_result_get_verdict (r));
      o.reason = signet_event_log_reason_to_string (signet_event_log_result_get_reason (r));
      o.message = g_strdup (signet_event_log_result_get_message (r));
      o.index = signet_event_log_result_get_index (r);
      o.seq = signet_event_log_result_get_seq (r);
      o.offset = signet_event_log_result_get_offset (r);
      o.last_sealed_seq = signet_event_log_result_get_last_sealed_seq (r);
      o.records = signet_event_log_result_get_n_records (r);
      o.seals_checked = TRUE;
      status = signet_event_log_result_get_verdict (r) == SIGNET_EVENT_LOG_VERIFIED
               ? SIGNETCTL_EXIT_OK : SIGNETCTL_EXIT_LOG_INVALID;
    }
  else
    {
      if (!check_chain (argv[1], &o, &error))
        return signetctl_cli_fail (error);
      status = g_strcmp0 (o.verdict, "chain-intact") == 0 ? SIGNETCTL_EXIT_LOG_UNCHECKED
                                                           : SIGNETCTL_EXIT_LOG_INVALID;
    }

  signetctl_print ("%s: %s\n", argv[1], o.verdict);
  signetctl_print ("  %s\n", o.message != NULL ? o.message : "");
  if (o.index >= 0)
    signetctl_print (_("  first bad record: index %lld, seq %lld, byte offset %lld\n"),
                     (long long) o.index, (long long) o.seq, (long long) o.offset);
  if (o.seals_checked)
    signetctl_print (_("  last sealed seq: %lld (everything up to it is authentic)\n"),
                     (long long) o.last_sealed_seq);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, argv[1]);
  json_builder_set_member_name (b, "verdict");
  json_builder_add_string_value (b, o.verdict);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, o.reason);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, o.message != NULL ? o.message : "");
  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, o.index);
  json_builder_set_member_name (b, "seq");
  json_builder_add_int_value (b, o.seq);
  json_builder_set_member_name (b, "offset");
  json_builder_add_int_value (b, o.offset);
  json_builder_set_member_name (b, "last_sealed_seq");
  json_builder_add_int_value (b, o.last_sealed_seq);
  json_builder_set_member_name (b, "records");
  json_builder_add_int_value (b, (gint64) o.records);
  json_builder_set_member_name (b, "seals_checked");
  json_builder_add_boolean_value (b, o.seals_checked);
  json_builder_set_member_name (b, "exit");
  json_builder_add_int_value (b, status);
  json_builder_end_object (b);
  signetctl_output_json (json_builder_get_root (b));
  g_free (o.message);
  return status;
}

int
signetctl_cmd_log_export (SignetctlCli  *cli,
                          int            argc,
                          char         **argv)
{
  g_autofree char *format = NULL;
  g_autofree char *output = NULL;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, N_("json or csv"), N_("FORMAT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Write to OUT (default: standard output)"), N_("OUT") },
    { NULL }
  };
  const SignetctlCommand *command = signetctl_cli_command ("log export");
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) log = NULL;
  g_autofree char *text = NULL;
  gboolean json;
  int rc;

  rc = signetctl_cli_parse (cli, command, entries, &argc, &argv);
  if (rc >= 0)
    return rc;
  if (argc != 2)
    return signetctl_cli_usage (command, _("Give the log FILE to export"));
  if (g_strcmp0 (format, "json") != 0 && g_strcmp0 (format, "csv") != 0)
    return signetctl_cli_usage (command, _("--format is json or csv"));
  json = g_strcmp0 (format, "json") == 0;
  mapped = g_mapped_file_new (argv[1], FALSE, &error);
  if (mapped == NULL)
    return signetctl_cli_fail (error);
  log = g_mapped_file_get_bytes (mapped);
  text = json ? signet_event_log_export_json (log, &error)
              : signet_event_log_export_csv (log, &error);
  if (text == NULL)
    return signetctl_cli_fail (error);
  if (output != NULL)
    {
      if (!g_file_set_contents_full (output, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                     &error))
        return signetctl_cli_fail (error);
      signetctl_note (_("Exported %s to %s (not verified: `signetctl log verify` says whether "
                        "it is genuine)\n"), argv[1], output);
    }
  else if (!signetctl_output_is_json ())
    {
      fputs (text, stdout);
      if (*text != '\0' && text[strlen (text) - 1] != '\n')
        fputc ('\n', stdout);
    }
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "file");
    json_builder_add_string_value (b, argv[1]);
    json_builder_set_member_name (b, "format");
    json_builder_add_string_value (b, format);
    if (output != NULL)
      {
        json_builder_set_member_name (b, "output");
        json_builder_add_string_value (b, output);
      }
    else if (json)
      {
        g_autoptr(JsonNode) node = json_from_string (text, NULL);

        json_builder_set_member_name (b, "records");
        if (node != NULL)
          json_builder_add_value (b, g_steal_pointer (&node));
        else
          json_builder_add_null_value (b);
      }
    else
      {
        json_builder_set_member_name (b, "csv");
        json_builder_add_string_value (b, text);
      }
    json_builder_end_object (b);
    signetctl_output_json (json_builder_get_root (b));
  }
  return SIGNETCTL_EXIT_OK;
}
