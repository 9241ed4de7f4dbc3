/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-devsim: libsignet-agent on a Linux host (docs/devsim.md).
 *
 *   signet-devsim ca create --dir DIR [--name NAME]
 *   signet-devsim provision --state FILE --model-file MODEL.json --serial S ...
 *   signet-devsim run --state FILE --pty [--link-name PATH] [--json-status FD|FILE] ...
 *   signet-devsim status --state FILE [--json]
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "devsim-ca.h"
#include "devsim-error.h"
#include "devsim-faults.h"
#include "devsim-flash.h"
#include "devsim-model.h"
#include "devsim-probe.h"
#include "devsim-provision.h"
#include "devsim-report.h"
#include "devsim-run.h"
#include "devsim-trust.h"
#include "signet-x509.h"

#define EXIT_HELP \
  "Exit status: 0 success, 1 failure, 2 usage error, 99 a simulated power loss\n" \
  "(--crash-at, --crash-after-writes)."

static int
usage_error (GOptionContext *ctx,
             const char     *message)
{
  g_printerr ("signet-devsim: %s\n", message);
  if (ctx != NULL)
    {
      g_autofree char *help = g_option_context_get_help (ctx, TRUE, NULL);

      g_printerr ("\n%s", help);
    }
  return DEVSIM_EXIT_USAGE;
}

static int
fail (GError *error)
{
  g_printerr ("signet-devsim: %s\n", error->message);
  return DEVSIM_EXIT_FAILURE;
}

/* Parse argv with entries; FALSE (and a message) on a usage error. */
static gboolean
parse (GOptionContext  *ctx,
       GOptionEntry    *entries,
       int             *argc,
       char          ***argv)
{
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, argc, argv, &error))
    {
      g_printerr ("signet-devsim: %s\n", error->message);
      return FALSE;
    }
  if (*argc > 1)
    {
      g_printerr ("signet-devsim: unexpected argument %s\n", (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

static void
print_builder (JsonBuilder *b)
{
  g_autofree char *line = devsim_report_to_line (b);

  fputs (line, stdout);
}

/* ---- ca create ----------------------------------------------------------------- */

static int
cmd_ca (int    argc,
        char **argv)
{
  g_autofree char *dir = NULL;
  g_autofree char *name = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "Directory for the CA (made if missing)", "DIR" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The CA's common name", "NAME" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("create - make a manufacturer CA");
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimCa) ca = NULL;
  g_autoptr(SignetX509Info) info = NULL;

  g_option_context_set_description (ctx,
    "Writes DIR/" DEVSIM_CA_CERT_FILE " (self-signed P-256, CA:TRUE, keyCertSign) and\n"
    "DIR/" DEVSIM_CA_KEY_FILE " (its private key, mode 0600). `signetd ca add "
    "DIR/" DEVSIM_CA_CERT_FILE "`\nmakes the service trust the devices it certifies.\n\n"
    EXIT_HELP);
  g_set_prgname ("signet-devsim ca create");
  if (!parse (ctx, entries, &argc, &argv))
    return DEVSIM_EXIT_USAGE;
  if (dir == NULL)
    return usage_error (ctx, "ca create needs --dir");

  ca = devsim_ca_create (dir, name, &error);
  if (ca == NULL || (info = signet_x509_info_new (ca->cert, &error)) == NULL)
    return fail (error);
  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *cert = g_build_filename (dir, DEVSIM_CA_CERT_FILE, NULL);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "certificate");
      json_builder_add_string_value (b, cert);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, info->subject_cn);
      json_builder_set_member_name (b, "sha256");
      json_builder_add_string_value (b, info->sha256_hex);
      json_builder_end_object (b);
      print_builder (b);
    }
  else
    g_print ("CA “%s” in %s (certificate SHA-256 %s)\n", info->subject_cn, dir,
             info->sha256_hex);
  return DEVSIM_EXIT_OK;
}

/* ---- provision ------------------------------------------------------------------- */

static gboolean
parse_size (const char  *text,
            const char  *option,
            guint32     *out,
            GError     **error)
{
  g_autofree char *digits = NULL;
  guint64 v, unit = 1;
  gsize len;

  *out = 0;
  if (text == NULL)
    return TRUE;
  /* bytes, or KiB / MiB with a K or M suffix */
  len = strlen (text);
  if (len > 1 && (text[len - 1] == 'K' || text[len - 1] == 'k'))
    unit = 1024;
  else if (len > 1 && (text[len - 1] == 'M' || text[len - 1] == 'm'))
    unit = 1024 * 1024;
  digits = g_strndup (text, unit == 1 ? len : len - 1);
  if (!g_ascii_string_to_unsigned (digits, 10, 1, G_MAXUINT32 / unit, &v, NULL))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "%s takes a number of bytes (or KiB with K, MiB with M)", option);
      return FALSE;
    }
  *out = (guint32) (v * unit);
  return TRUE;
}

static int
cmd_provision (int    argc,
               char **argv)
{
  g_autofree char *state = NULL;
  g_autofree char *model_file = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *firmware = NULL;
  g_autofree char *ca_dir = NULL;
  g_autofree char *create_ca = NULL;
  g_autofree char *trust_file = NULL;
  g_autofree char *trust_url = NULL;
  g_autofree char *trust_ca = NULL;
  g_autofree char *flash_size = NULL;
  g_autofree char *sector_size = NULL;
  g_autofree char *clone_from = NULL;
  gint64 clock_floor = -1;
  gboolean force = FALSE;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state, "The new device's state file", "FILE" },
    { "model-file", 0, 0, G_OPTION_ARG_FILENAME, &model_file, "The model (data/models/*.json)",
      "FILE" },
    { "serial", 0, 0, G_OPTION_ARG_STRING, &serial, "The device serial", "S" },
    { "firmware", 0, 0, G_OPTION_ARG_STRING, &firmware, "Firmware version (default: the model's)",
      "V" },
    { "ca-dir", 0, 0, G_OPTION_ARG_FILENAME, &ca_dir, "The manufacturer CA (ca create)", "DIR" },
    { "create-ca", 0, 0, G_OPTION_ARG_FILENAME, &create_ca,
      "The manufacturer CA, made first if DIR holds none", "DIR" },
    { "trust-file", 0, 0, G_OPTION_ARG_FILENAME, &trust_file,
      "Authority keys: a GET /v1/trust document", "FILE" },
    { "trust-url", 0, 0, G_OPTION_ARG_STRING, &trust_url,
      "Authority keys: fetch GET /v1/trust from the service", "URL" },
    { "trust-ca", 0, 0, G_OPTION_ARG_FILENAME, &trust_ca,
      "The only CA (or certificate) trusted for --trust-url", "CERT.pem" },
    { "clock-floor", 0, 0, G_OPTION_ARG_INT64, &clock_floor,
      "Clock floor, seconds since the epoch (default: now)", "T" },
    { "flash-size", 0, 0, G_OPTION_ARG_STRING, &flash_size,
      "Flash size, a power of two (default 256K)", "BYTES" },
    { "sector-size", 0, 0, G_OPTION_ARG_STRING, &sector_size,
      "Erase sector, a power of two, 512 to 64K (default 4K)", "BYTES" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace an existing state file", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "clone-cert-from", 0, 0, G_OPTION_ARG_FILENAME, &clone_from,
      "Tests only: a cloned device, with the certificate of the device in STATE (same "
      "--serial) but its own new key", "STATE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- make a simulated device");
  g_autoptr(DevsimDeviceInfo) original = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimModel) model = NULL;
  g_autoptr(DevsimCa) ca = NULL;
  g_autoptr(GBytes) trust = NULL;
  g_autoptr(DevsimDeviceInfo) info = NULL;
  sa_authority authorities[SA_AUTHORITIES_MAX];
  DevsimProvisionParams params = { 0 };
  gsize n_authorities = 0;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_option_context_set_description (ctx,
    "Generates the identity and KEM keys, has the CA issue the identity\n"
    "certificate (serialNumber = serial, CN = model), and writes identity,\n"
    "trusted authority keys, clock floor and the model's factory configuration\n"
    "into the new state file's flash (sa_provision).\n\n" EXIT_HELP);
  g_set_prgname ("signet-devsim provision");
  if (!parse (ctx, entries, &argc, &argv))
    return DEVSIM_EXIT_USAGE;
  if (state == NULL || model_file == NULL || serial == NULL)
    return usage_error (ctx, "provision needs --state, --model-file and --serial");
  if (clone_from == NULL && (ca_dir == NULL) == (create_ca == NULL))
    return usage_error (ctx, "provision needs one of --ca-dir and --create-ca");
  if (clone_from != NULL && (ca_dir != NULL || create_ca != NULL))
    return usage_error (ctx, "--clone-cert-from takes no CA (the certificate is copied)");
  if ((trust_file == NULL) == (trust_url == NULL))
    return usage_error (ctx, "provision needs one of --trust-file and --trust-url");
  if (trust_url != NULL && trust_ca == NULL)
    return usage_error (ctx, "--trust-url needs --trust-ca (the service's certificate is "
                        "pinned, never taken from the system store)");
  if (clock_floor < -1)
    return usage_error (ctx, "--clock-floor is seconds since the epoch");

  if (!parse_size (flash_size, "--flash-size", &params.flash_size, &error)
      || !parse_size (sector_size, "--sector-size", &params.sector_size, &error))
    return usage_error (ctx, error->message);

  model = devsim_model_new_from_file (model_file, &error);
  if (model == NULL)
    return fail (error);

  if (clone_from != NULL)
    {
      g_autoptr(DevsimFlash) snapshot = devsim_flash_open (clone_from, DEVSIM_FLASH_SNAPSHOT,
                                                           &error);

      if (snapshot == NULL || (original = devsim_probe (snapshot, model, &error)) == NULL)
        return fail (error);
      if (!g_str_equal (original->serial, serial) || original->chain->len == 0)
        return usage_error (ctx, "--clone-cert-from: the device there has another serial");
      params.clone_certificate = g_ptr_array_index (original->chain, 0);
    }
  else if (create_ca != NULL)
    {
      ca = devsim_ca_load (create_ca, &error);
      if (ca == NULL && g_error_matches (error, DEVSIM_ERROR, DEVSIM_ERROR_NOT_FOUND))
        {
          g_clear_error (&error);
          ca = devsim_ca_create (create_ca, NULL, &error);
          /* another factory made it meanwhile: use theirs */
          if (ca == NULL && g_error_matches (error, DEVSIM_ERROR, DEVSIM_ERROR_EXISTS))
            {
              g_clear_error (&error);
              ca = devsim_ca_load (create_ca, &error);
            }
        }
    }
  else
    ca = devsim_ca_load (ca_dir, &error);
  if (ca == NULL && clone_from == NULL)
    return fail (error);

  if (trust_file != NULL)
    {
      g_autofree char *text = NULL;
      gsize len = 0;

      if (!g_file_get_contents (trust_file, &text, &len, &error))
        return fail (error);
      trust = g_bytes_new_take (g_steal_pointer (&text), len);
    }
  else
    {
      trust = devsim_trust_fetch (trust_url, trust_ca, &error);
      if (trust == NULL)
        return fail (error);
    }
  if (!devsim_trust_parse (g_bytes_get_data (trust, NULL), g_bytes_get_size (trust), now,
                           authorities, &n_authorities, &error))
    return fail (error);

  params.state_path = state;
  params.model = model;
  params.serial = serial;
  params.firmware = firmware;
  params.ca = ca;
  params.authorities = authorities;
  params.n_authorities = n_authorities;
  params.clock_floor = clock_floor >= 0 ? (guint64) clock_floor : (guint64) now;
  params.force = force;
  info = devsim_provision (&params, &error);
  if (info == NULL)
    return fail (error);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      gsize i;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "state");
      json_builder_add_string_value (b, state);
      devsim_report_add_identity (b, info);
      devsim_report_add_status (b, &info->status);
      json_builder_set_member_name (b, "authorities");
      json_builder_begin_array (b);
      for (i = 0; i < n_authorities; i++)
        {
          g_autofree char *kid = g_strndup ((const char *) authorities[i].kid,
                                            authorities[i].kid_len);

          json_builder_add_string_value (b, kid);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      print_builder (b);
    }
  else
    g_print ("Provisioned %s %s (firmware %s, configuration version %" G_GUINT64_FORMAT
             ", %" G_GSIZE_FORMAT " authority key%s) in %s\n",
             info->model, info->serial, info->firmware, info->status.committed_version,
             n_authorities, n_authorities == 1 ? "" : "s", state);
  return DEVSIM_EXIT_OK;
}

/* ---- run ---------------------------------------------------------------------------- */

static int
cmd_run (int    argc,
         char **argv)
{
  g_autofree char *state = NULL;
  g_autofree char *link_name = NULL;
  g_autofree char *json_status = NULL;
  g_autofree char *model_file = NULL;
  g_autofree char *crash_at = NULL;
  g_autofree char *fault_dir = NULL;
  g_auto(GStrv) health_fail = NULL;
  g_autofree char *adapter = NULL;
  gboolean pty = FALSE, ble = FALSE, l2cap = FALSE;
  gint64 psm = 0;
  gboolean no_clock = FALSE;
  gboolean flash_and = FALSE;
  double drop = 0, corrupt = 0, duplicate = 0;
  gint64 delay_ms = 0, seed = -1, crash_after = 0, slow_us = 0, clock_offset = 0;
  GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state, "The device's state file", "FILE" },
    { "pty", 0, 0, G_OPTION_ARG_NONE, &pty, "Serve on a new pseudo-terminal", NULL },
    { "link-name", 0, 0, G_OPTION_ARG_FILENAME, &link_name, "Symlink to the pty", "PATH" },
    { "ble", 0, 0, G_OPTION_ARG_NONE, &ble,
      "Be a BLE GATT peripheral through BlueZ (docs/ble.md)", NULL },
    { "adapter", 0, 0, G_OPTION_ARG_STRING, &adapter, "--ble: the adapter (default hci0)", "hciN" },
    { "l2cap", 0, 0, G_OPTION_ARG_NONE, &l2cap,
      "--ble: also offer an LE L2CAP channel (its PSM in HELLO)", NULL },
    { "psm", 0, 0, G_OPTION_ARG_INT64, &psm,
      "--l2cap: listen on this PSM (default: a dynamic one, 0x80..0xFF)", "N" },
    { "json-status", 0, 0, G_OPTION_ARG_FILENAME, &json_status,
      "JSON lines of events and state", "FD|FILE" },
    { "model-file", 0, 0, G_OPTION_ARG_FILENAME, &model_file,
      "Use this model, not the one of provisioning (a new firmware's schema)", "FILE" },
    { "drop-rate", 0, 0, G_OPTION_ARG_DOUBLE, &drop, "Drop frames with probability P", "P" },
    { "corrupt-rate", 0, 0, G_OPTION_ARG_DOUBLE, &corrupt,
      "Flip one bit of a frame with probability P", "P" },
    { "duplicate-rate", 0, 0, G_OPTION_ARG_DOUBLE, &duplicate,
      "Send a frame twice with probability P", "P" },
    { "fault-direction", 0, 0, G_OPTION_ARG_STRING, &fault_dir,
      "Frames the rates apply to: in, out or both (default)", "DIR" },
    { "delay-ms", 0, 0, G_OPTION_ARG_INT64, &delay_ms, "Delay each outgoing frame", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of all fault randomness", "N" },
    { "crash-at", 0, 0, G_OPTION_ARG_STRING, &crash_at,
      "Power loss at the agent's fault point (Nth time)", "POINT[:N]" },
    { "crash-after-writes", 0, 0, G_OPTION_ARG_INT64, &crash_after,
      "Power loss after the Nth flash write/erase chunk", "N" },
    { "slow-flash-us", 0, 0, G_OPTION_ARG_INT64, &slow_us, "Delay per flash chunk", "N" },
    { "flash-and", 0, 0, G_OPTION_ARG_NONE, &flash_and,
      "AND a write that sets bits into the flash (default: refuse it)", NULL },
    { "no-clock", 0, 0, G_OPTION_ARG_NONE, &no_clock,
      "No real-time clock: the device lives on its clock floor", NULL },
    { "clock-offset", 0, 0, G_OPTION_ARG_INT64, &clock_offset,
      "Add SECONDS to the device clock", "SECONDS" },
    { "health-fail", 0, 0, G_OPTION_ARG_STRING_ARRAY, &health_fail,
      "Fail the health check of a configuration with KEY=VALUE (or *)", "KEY=VALUE" },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- run a simulated device");
  g_autoptr(GError) error = NULL;
  DevsimRunOptions opts = { 0 };

  g_option_context_set_description (ctx,
    "Prints \"pty PATH\" as the first line of stdout, then serves the agent on\n"
    "that pseudo-terminal until SIGTERM or SIGINT. The pty is the lowest interface\n"
    "the product uses for USB serial: the tool's own tty code path runs unchanged.\n"
    "With --ble, registers with BlueZ as a GATT peripheral instead and prints\n"
    "\"ble ADAPTER SERIAL\" once registered; the fault rates apply to segments.\n\n"
    "Fault points of the agent (--crash-at):\n" DEVSIM_FAULT_POINTS_HELP "\n\n" EXIT_HELP);
  g_set_prgname ("signet-devsim run");
  if (!parse (ctx, entries, &argc, &argv))
    return DEVSIM_EXIT_USAGE;
  if (state == NULL)
    return usage_error (ctx, "run needs --state");
  if (pty == ble)
    return usage_error (ctx, "run needs --pty or --ble");
  if (!ble && (adapter != NULL || l2cap || psm != 0))
    return usage_error (ctx, "--adapter, --l2cap and --psm go with --ble");
  if (psm != 0 && (!l2cap || psm < 0x80 || psm > 0xff))
    return usage_error (ctx, "--psm goes with --l2cap and is an LE dynamic PSM, 128..255");
  if (ble && (link_name != NULL || delay_ms != 0))
    return usage_error (ctx, "--link-name and --delay-ms go with --pty");
  if (delay_ms < 0 || delay_ms > 60000 || crash_after < 0 || slow_us < 0 || slow_us > 1000000
      || seed < -1)
    return usage_error (ctx, "--delay-ms 0..60000, --slow-flash-us 0..1000000, "
                        "--crash-after-writes and --seed at least 0");

  opts.state_path = state;
  opts.ble = ble;
  opts.adapter = adapter;
  opts.l2cap = l2cap;
  opts.psm = (guint16) psm;
  opts.model_file = model_file;
  opts.link_name = link_name;
  opts.json_status = json_status;
  opts.faults.drop_rate = drop;
  opts.faults.corrupt_rate = corrupt;
  opts.faults.duplicate_rate = duplicate;
  opts.faults.seed = seed >= 0 ? (guint64) seed : 0;
  opts.seed_given = seed >= 0;
  opts.faults_in = fault_dir == NULL || g_str_equal (fault_dir, "in")
                   || g_str_equal (fault_dir, "both");
  opts.faults_out = fault_dir == NULL || g_str_equal (fault_dir, "out")
                    || g_str_equal (fault_dir, "both");
  if (!opts.faults_in && !opts.faults_out)
    return usage_error (ctx, "--fault-direction is in, out or both");
  opts.delay_ms = (guint) delay_ms;
  opts.crash_at = crash_at;
  opts.crash_after_writes = (guint64) crash_after;
  opts.slow_flash_us = (guint) slow_us;
  opts.nor_and = flash_and;
  opts.no_clock = no_clock;
  opts.clock_offset = clock_offset;
  opts.health_fail = (const char * const *) health_fail;

  {
    g_autoptr(DevsimFaults) check = devsim_faults_new (&opts.faults, &error);

    if (check == NULL)
      return usage_error (ctx, error->message);
  }

  if (!devsim_run (&opts, &error))
    return fail (error);
  return DEVSIM_EXIT_OK;
}

/* ---- status ----------------------------------------------------------------------- */

static void
print_status_text (const DevsimDeviceInfo *info,
                   const sa_status        *st,
                   gboolean                running)
{
  g_autofree char *digest = devsim_hex (st->config_digest, sizeof st->config_digest);

  if (info != NULL)
    {
      g_print ("serial            %s\n", info->serial);
      g_print ("model             %s\n", info->model);
      g_print ("firmware          %s\n", info->firmware);
    }
  g_print ("running           %s\n", running ? "yes" : "no");
  g_print ("committed version %" G_GUINT64_FORMAT "\n", st->committed_version);
  if (st->pending_version != 0)
    g_print ("pending version   %" G_GUINT64_FORMAT "\n", st->pending_version);
  else
    g_print ("pending version   none\n");
  g_print ("config digest     %s\n", digest);
  g_print ("clock floor       %" G_GUINT64_FORMAT "\n", st->clock_floor);
  g_print ("revocation list   %" G_GUINT64_FORMAT "\n", st->revocation_version);
  g_print ("boots             %u\n", st->boots);
  g_print ("deadline rollbacks %u\n", st->deadline_rollbacks);
}

/* A running simulator's own report (devsim-run.h). */
static int
status_running (const char *state,
                gboolean    json)
{
  g_autofree char *live = devsim_run_live_path (state);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *o;

  if (!g_file_get_contents (live, &text, NULL, &error)
      || !json_parser_load_from_data (parser, text, -1, &error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_printerr ("signet-devsim: %s runs, but its live status is not readable%s%s\n", state,
                  error != NULL ? ": " : "", error != NULL ? error->message : "");
      return DEVSIM_EXIT_FAILURE;
    }
  if (json)
    {
      fputs (text, stdout);
      return DEVSIM_EXIT_OK;
    }
  o = json_node_get_object (json_parser_get_root (parser));
  g_print ("serial            %s\n", json_object_get_string_member_with_default (o, "serial", "?"));
  g_print ("model             %s\n", json_object_get_string_member_with_default (o, "model", "?"));
  g_print ("firmware          %s\n",
           json_object_get_string_member_with_default (o, "firmware", "?"));
  g_print ("running           yes (pid %" G_GINT64_FORMAT ", %s)\n",
           json_object_get_int_member_with_default (o, "pid", 0),
           json_object_get_string_member_with_default (o, "pty", "?"));
  g_print ("committed version %" G_GINT64_FORMAT "\n",
           json_object_get_int_member_with_default (o, "committed_version", 0));
  g_print ("pending version   %" G_GINT64_FORMAT "\n",
           json_object_get_int_member_with_default (o, "pending_version", 0));
  g_print ("config digest     %s\n",
           json_object_get_string_member_with_default (o, "config_digest", "?"));
  return DEVSIM_EXIT_OK;
}

static int
cmd_status (int    argc,
            char **argv)
{
  g_autofree char *state = NULL;
  g_autofree char *model_file = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state, "The device's state file", "FILE" },
    { "model-file", 0, 0, G_OPTION_ARG_FILENAME, &model_file,
      "Use this model, not the one of provisioning", "FILE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- what a simulated device holds");
  g_autoptr(GError) error = NULL;
  g_autoptr(DevsimFlash) flash = NULL;
  g_autoptr(DevsimModel) model = NULL;
  g_autoptr(DevsimDeviceInfo) info = NULL;

  g_option_context_set_description (ctx,
    "A device that is not running is booted read-only on a copy of its flash and\n"
    "asked HELLO and ATTEST through the agent API: what it would say after its next\n"
    "boot (a pending configuration is rolled back at boot). A running device is\n"
    "described by its simulator's live status file, pending slot included.\n\n" EXIT_HELP);
  g_set_prgname ("signet-devsim status");
  if (!parse (ctx, entries, &argc, &argv))
    return DEVSIM_EXIT_USAGE;
  if (state == NULL)
    return usage_error (ctx, "status needs --state");

  if (devsim_flash_is_busy (state))
    return status_running (state, json);

  flash = devsim_flash_open (state, DEVSIM_FLASH_SNAPSHOT, &error);
  if (flash == NULL)
    return fail (error);
  if (model_file != NULL)
    model = devsim_model_new_from_file (model_file, &error);
  else
    {
      gsize len = 0;
      const char *text = g_bytes_get_data (devsim_flash_get_rom (flash), &len);

      model = devsim_model_new_from_data (len > 0 ? text : "", (gssize) len, &error);
    }
  if (model == NULL || (info = devsim_probe (flash, model, &error)) == NULL)
    return fail (error);

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "running");
      json_builder_add_boolean_value (b, FALSE);
      devsim_report_add_identity (b, info);
      devsim_report_add_status (b, &info->status);
      json_builder_end_object (b);
      print_builder (b);
    }
  else
    print_status_text (info, &info->status, FALSE);
  return DEVSIM_EXIT_OK;
}

/* ---- main ----------------------------------------------------------------------------- */

static const char main_help[] =
  "Usage: signet-devsim COMMAND [OPTION...]\n"
  "\n"
  "A Signet device (libsignet-agent) simulated on this host (docs/devsim.md).\n"
  "\n"
  "Commands:\n"
  "  ca create   make a manufacturer CA (--dir DIR [--name NAME])\n"
  "  provision   make a device: --state FILE --model-file MODEL.json --serial S\n"
  "              [--firmware V] (--ca-dir DIR | --create-ca DIR)\n"
  "              (--trust-file FILE | --trust-url URL --trust-ca CERT.pem)\n"
  "              [--clock-floor T] [--json]\n"
  "  run         serve a device on a pty: --state FILE --pty [--link-name PATH]\n"
  "              or over BLE through BlueZ: --state FILE --ble [--adapter hciN] [--l2cap]\n"
  "              [--json-status FD|FILE] [fault options]\n"
  "  status      what a device holds: --state FILE [--json]\n"
  "\n"
  "`signet-devsim COMMAND --help` describes a command's options.\n"
  "\n" EXIT_HELP "\n";

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  /* A --json-status reader that goes away must not kill the device. */
  signal (SIGPIPE, SIG_IGN);

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")
      || g_str_equal (argv[1], "help"))
    {
      fputs (main_help, argc < 2 ? stderr : stdout);
      return argc < 2 ? DEVSIM_EXIT_USAGE : DEVSIM_EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("signet-devsim %s\n", PACKAGE_VERSION);
      return DEVSIM_EXIT_OK;
    }
  if (g_str_equal (argv[1], "ca"))
    {
      if (argc < 3 || !g_str_equal (argv[2], "create"))
        return usage_error (NULL, "usage: signet-devsim ca create --dir DIR [--name NAME]");
      return cmd_ca (argc - 2, argv + 2);
    }
  if (g_str_equal (argv[1], "provision"))
    return cmd_provision (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "run"))
    return cmd_run (argc - 1, argv + 1);
  if (g_str_equal (argv[1], "status"))
    return cmd_status (argc - 1, argv + 1);
  g_printerr ("signet-devsim: unknown command %s\n\n%s", argv[1], main_help);
  return DEVSIM_EXIT_USAGE;
}
