/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* posix_openpt (), grantpt (), unlockpt (), ptsname () */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "devsim-agent.h"
#include "devsim-ble.h"
#include "devsim-error.h"
#include "devsim-flash.h"
#include "devsim-model.h"
#include "devsim-platform.h"
#include "devsim-probe.h"
#include "devsim-report.h"
#include "devsim-run.h"

#define READ_CHUNK 4096
/* Mixed into the seed for the torn-write generator, so it does not draw
 * the same numbers as the link faults. */
#define TORN_SEED_SALT G_GUINT64_CONSTANT (0x9e3779b97f4a7c15)

typedef struct {
  gint64 due;                    /* monotonic microseconds */
  GBytes *bytes;
} DelayedFrame;

typedef struct {
  const DevsimRunOptions *opts;
  GMainLoop *loop;
  guint64 seed;

  DevsimFlash *flash;
  DevsimModel *model;
  DevsimPlatform *platform;
  DevsimAgent *agent;
  DevsimDeviceInfo *identity;
  DevsimFaults *faults;
  DevsimFrameSplitter in_split;
  DevsimFrameSplitter out_split;

  int master;
  char *slave_path;              /* --ble: "ble:hciN" */
  DevsimBle *ble;
  GError *ble_error;             /* a run-time failure of the BLE face */
  gboolean hung_up;
  guint read_watch;
  guint write_watch;
  guint hangup_timer;
  guint tick_timer;
  guint delay_timer;
  GByteArray *outq;              /* bytes ready for the master */
  GQueue delayed;                /* DelayedFrame */

  int status_fd;                 /* -1: no --json-status */
  gboolean status_fd_owned;
  char *live_path;
  sa_status last_status;
  gboolean have_status;
  guint64 frames_dropped_out;    /* writes lost to a slave side that does not read */
} Run;

static gboolean on_readable (gint fd, GIOCondition cond, gpointer user_data);

/* ---- status output --------------------------------------------------------- */

static void
emit_line (Run        *run,
           const char *line)
{
  gsize len = strlen (line);

  if (run->status_fd < 0)
    return;
  /* One write () per line (see devsim-run.h); a short write to a pipe of
   * a line this small does not happen, and a reader that went away is
   * not the device's problem. */
  while (len > 0)
    {
      ssize_t n = write (run->status_fd, line, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      line += n;
      len -= (gsize) n;
    }
}

static JsonBuilder *
event_begin (const char *event)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "event");
  json_builder_add_string_value (b, event);
  return b;
}

static void
event_end (Run         *run,
           JsonBuilder *b)
{
  g_autofree char *line = NULL;

  json_builder_end_object (b);
  line = devsim_report_to_line (b);
  emit_line (run, line);
  g_object_unref (b);
}

static void
add_flash_counters (Run         *run,
                    JsonBuilder *b)
{
  json_builder_set_member_name (b, "flash_chunks");
  json_builder_add_int_value (b, (gint64) devsim_flash_get_chunks (run->flash));
  json_builder_set_member_name (b, "flash_writes");
  json_builder_add_int_value (b, (gint64) devsim_flash_get_writes (run->flash));
  json_builder_set_member_name (b, "flash_erases");
  json_builder_add_int_value (b, (gint64) devsim_flash_get_erases (run->flash));
}

static void
write_live_file (Run *run)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autofree char *text = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "running");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_set_member_name (b, "pty");
  json_builder_add_string_value (b, run->slave_path);
  devsim_report_add_identity (b, run->identity);
  devsim_report_add_status (b, &run->last_status);
  json_builder_end_object (b);
  text = devsim_report_to_line (b);
  /* Atomic (a new file renamed over the old), not synced: it describes a
   * running process and means nothing after a crash. */
  if (!g_file_set_contents_full (run->live_path, text, -1, G_FILE_SET_CONTENTS_NONE, 0644, NULL))
    g_message ("could not write %s", run->live_path);
}

/* Report the device's state if it changed. */
static void
check_status (Run *run)
{
  sa_status st;
  JsonBuilder *b;

  sa_agent_get_status (&run->agent->agent, &st);
  if (run->have_status && memcmp (&st, &run->last_status, sizeof st) == 0)
    return;
  run->last_status = st;
  run->have_status = TRUE;

  b = event_begin ("status");
  devsim_report_add_status (b, &st);
  add_flash_counters (run, b);
  event_end (run, b);
  write_live_file (run);
}

static void
on_fault_point (const char *point,
                gpointer    user_data)
{
  Run *run = user_data;
  JsonBuilder *b = event_begin ("point");

  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, point);
  add_flash_counters (run, b);
  event_end (run, b);
}

static void
report_fault (Run               *run,
              const char        *dir,
              DevsimFaultAction  action)
{
  JsonBuilder *b;

  if (action == DEVSIM_FAULT_PASS)
    return;
  b = event_begin ("fault");
  json_builder_set_member_name (b, "dir");
  json_builder_add_string_value (b, dir);
  json_builder_set_member_name (b, "action");
  json_builder_add_string_value (b, devsim_fault_action_to_string (action));
  event_end (run, b);
}

/* ---- output ---------------------------------------------------------------- */

static gboolean on_writable (gint fd, GIOCondition cond, gpointer user_data);

static void
flush_output (Run *run)
{
  while (run->outq->len > 0 && !run->hung_up)
    {
      ssize_t n = write (run->master, run->outq->data, run->outq->len);

      if (n > 0)
        {
          g_byte_array_remove_range (run->outq, 0, (guint) n);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          if (run->write_watch == 0)
            run->write_watch = g_unix_fd_add (run->master, G_IO_OUT, on_writable, run);
          return;
        }
      /* EIO: the slave side went away; what was not sent is lost, as on
       * a USB cable pulled mid-frame. The read side notices the hang-up. */
      g_byte_array_set_size (run->outq, 0);
      return;
    }
}

static gboolean
on_writable (gint         fd,
             GIOCondition cond,
             gpointer     user_data)
{
  Run *run = user_data;

  run->write_watch = 0;
  flush_output (run);
  return G_SOURCE_REMOVE;
}

static void
queue_output (Run          *run,
              const guint8 *data,
              gsize         len)
{
  if (run->hung_up)
    return;
  if (run->outq->len + len > DEVSIM_RUN_OUTPUT_MAX)
    {
      run->frames_dropped_out++;
      return;
    }
  g_byte_array_append (run->outq, data, (guint) len);
}

static gboolean
on_delay_timer (gpointer user_data)
{
  Run *run = user_data;
  gint64 now = g_get_monotonic_time ();
  DelayedFrame *f;

  run->delay_timer = 0;
  while ((f = g_queue_peek_head (&run->delayed)) != NULL && f->due <= now)
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (f->bytes, &len);

      queue_output (run, data, len);
      g_queue_pop_head (&run->delayed);
      g_bytes_unref (f->bytes);
      g_free (f);
    }
  if (f != NULL)
    run->delay_timer = g_timeout_add ((guint) MAX (1, (f->due - now + 999) / 1000),
                                      on_delay_timer, run);
  flush_output (run);
  return G_SOURCE_REMOVE;
}

static void
clear_delayed (Run *run)
{
  DelayedFrame *f;

  while ((f = g_queue_pop_head (&run->delayed)) != NULL)
    {
      g_bytes_unref (f->bytes);
      g_free (f);
    }
  g_clear_handle_id (&run->delay_timer, g_source_remove);
}

/* One whole frame from the agent, after the fault injection. */
static void
send_frame (Run          *run,
            const guint8 *data,
            gsize         len)
{
  DelayedFrame *f;

  if (run->opts->delay_ms == 0)
    {
      queue_output (run, data, len);
      return;
    }
  f = g_new0 (DelayedFrame, 1);
  f->due = g_get_monotonic_time () + (gint64) run->opts->delay_ms * 1000;
  f->bytes = g_bytes_new (data, len);
  g_queue_push_tail (&run->delayed, f);
  if (run->delay_timer == 0)
    run->delay_timer = g_timeout_add (run->opts->delay_ms, on_delay_timer, run);
}

static void
on_out_frame (const guint8 *frame,
              gsize         len,
              gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  DevsimFaultAction action = DEVSIM_FAULT_PASS;

  if (run->opts->faults_out)
    action = devsim_faults_apply (run->faults, frame, len, out);
  else
    g_byte_array_append (out, frame, (guint) len);
  report_fault (run, "out", action);
  if (out->len > 0)
    send_frame (run, out->data, out->len);
}

/* sa_write_fn: the agent's bytes, a COBS block at a time. */
static bool
agent_write (void          *ctx,
             const uint8_t *data,
             size_t         len)
{
  Run *run = ctx;

  if ((run->opts->faults_out && devsim_faults_enabled (run->faults)) || run->opts->delay_ms > 0)
    devsim_frame_splitter_push (&run->out_split, data, len, on_out_frame, run);
  else
    queue_output (run, data, len);
  return true;
}

/* ---- input ----------------------------------------------------------------- */

static void
on_in_frame (const guint8 *frame,
             gsize         len,
             gpointer      user_data)
{
  Run *run = user_data;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  DevsimFaultAction action = devsim_faults_apply (run->faults, frame, len, out);

  report_fault (run, "in", action);
  if (out->len > 0)
    sa_link_receive (&run->agent->link, out->data, out->len);
}

static void
reset_link (Run *run)
{
  devsim_frame_splitter_reset (&run->in_split);
  devsim_frame_splitter_reset (&run->out_split);
  g_byte_array_set_size (run->outq, 0);
  clear_delayed (run);
  /* A new link state: no half frame from the last connection. The
   * agent's session and retry cache are the agent's, and stay. */
  sa_link_init (&run->agent->link, &run->agent->agent, agent_write, run);
}

static gboolean
on_hangup_poll (gpointer user_data)
{
  Run *run = user_data;
  struct pollfd p = { run->master, POLLIN, 0 };

  if (poll (&p, 1, 0) < 0 || (p.revents & POLLHUP) != 0)
    return G_SOURCE_CONTINUE;

  /* Someone opened the slave side again. */
  run->hangup_timer = 0;
  run->hung_up = FALSE;
  event_end (run, event_begin ("reopen"));
  run->read_watch = g_unix_fd_add (run->master, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, run);
  return G_SOURCE_REMOVE;
}

static void
hang_up (Run *run)
{
  run->hung_up = TRUE;
  g_clear_handle_id (&run->write_watch, g_source_remove);
  reset_link (run);
  event_end (run, event_begin ("hangup"));
  run->hangup_timer = g_timeout_add (DEVSIM_RUN_HANGUP_POLL_MS, on_hangup_poll, run);
}

static gboolean
on_readable (gint         fd,
             GIOCondition cond,
             gpointer     user_data)
{
  Run *run = user_data;
  guint8 buf[READ_CHUNK];
  gboolean faults_in = run->opts->faults_in && devsim_faults_enabled (run->faults);

  for (;;)
    {
      ssize_t n = read (run->master, buf, sizeof buf);

      if (n > 0)
        {
          if (faults_in)
            devsim_frame_splitter_push (&run->in_split, buf, (gsize) n, on_in_frame, run);
          else
            sa_link_receive (&run->agent->link, buf, (size_t) n);
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      /* EIO (or 0): nobody has the slave open any more */
      check_status (run);
      run->read_watch = 0;
      hang_up (run);
      return G_SOURCE_REMOVE;
    }
  check_status (run);
  flush_output (run);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_tick (gpointer user_data)
{
  Run *run = user_data;

  sa_agent_tick (&run->agent->agent);
  check_status (run);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  Run *run = user_data;

  g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

/* ---- BLE (devsim-ble.h) ------------------------------------------------------- */

static void
on_ble_message (const guint8 *msg,
                gsize         len,
                guint         channel,
                gpointer      user_data)
{
  Run *run = user_data;
  const uint8_t *resp = NULL;
  size_t n = sa_agent_dispatch (&run->agent->agent, msg, len, &resp);

  if (n > 0)
    devsim_ble_send (run->ble, channel, resp, n);
  check_status (run);
}

static void
on_ble_event (const char *event,
              const char *detail,
              gpointer    user_data)
{
  Run *run = user_data;
  JsonBuilder *b;

  if (g_str_equal (event, "fault"))
    {
      const char *colon = strchr (detail, ':');
      g_autofree char *dir = g_strndup (detail, colon != NULL ? (gsize) (colon - detail) : 0);

      b = event_begin ("fault");
      json_builder_set_member_name (b, "dir");
      json_builder_add_string_value (b, dir);
      json_builder_set_member_name (b, "action");
      json_builder_add_string_value (b, colon != NULL ? colon + 1 : detail);
      event_end (run, b);
      return;
    }
  b = event_begin (event);
  if (detail != NULL)
    {
      json_builder_set_member_name (b, "detail");
      json_builder_add_string_value (b, detail);
    }
  event_end (run, b);
  if (g_str_equal (event, "registered"))
    {
      /* The first line of stdout, as "pty PATH" for --pty: scripts wait
       * for it. Again after BlueZ came back. */
      printf ("ble %s %s\n", devsim_ble_get_adapter (run->ble), run->identity->serial);
      fflush (stdout);
    }
  else if (g_str_equal (event, "error") && run->ble_error == NULL)
    {
      g_set_error (&run->ble_error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "%s", detail);
      g_main_loop_quit (run->loop);
    }
}

static gboolean
open_ble (Run     *run,
          GError **error)
{
  DevsimBleOptions o = { 0 };

  o.adapter = run->opts->adapter;
  o.local_name = run->identity->serial;
  o.l2cap = run->opts->l2cap;
  o.psm = run->opts->psm;
  o.faults = run->faults;
  o.faults_in = run->opts->faults_in;
  o.faults_out = run->opts->faults_out;
  run->ble = devsim_ble_new (&o, on_ble_message, on_ble_event, run);
  if (!devsim_ble_start (run->ble, error))
    return FALSE;
  run->slave_path = g_strdup_printf ("ble:%s", devsim_ble_get_adapter (run->ble));
  if (devsim_ble_get_psm (run->ble) != 0)
    sa_agent_set_l2cap_psm (&run->agent->agent, devsim_ble_get_psm (run->ble));
  return TRUE;
}

/* ---- set-up ------------------------------------------------------------------ */

char *
devsim_run_live_path (const char *state_path)
{
  return g_strconcat (state_path, ".live.json", NULL);
}

static gboolean
open_pty (Run     *run,
          GError **error)
{
  struct termios t;
  const char *name;

  run->master = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (run->master < 0 || grantpt (run->master) != 0 || unlockpt (run->master) != 0
      || (name = ptsname (run->master)) == NULL)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "Opening a pseudo-terminal: %s",
                   g_strerror (errno));
      return FALSE;
    }
  run->slave_path = g_strdup (name);

  /* Raw, as a CDC-ACM tty carries bytes: no echo, no line editing, no
   * CR/LF translation, 8 bits. On Linux the master's termios are the
   * slave's, and they stay across reopening the slave; a tool sets its
   * own mode too. */
  if (tcgetattr (run->master, &t) != 0)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "Reading the pty mode: %s",
                   g_strerror (errno));
      return FALSE;
    }
  cfmakeraw (&t);
  cfsetispeed (&t, B115200);
  cfsetospeed (&t, B115200);
  if (tcsetattr (run->master, TCSANOW, &t) != 0
      || !g_unix_set_fd_nonblocking (run->master, TRUE, NULL))
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "Setting the pty mode: %s",
                   g_strerror (errno));
      return FALSE;
    }

  if (run->opts->link_name != NULL)
    {
      /* Replace a stale link (an earlier run), never anything else. */
      if (g_file_test (run->opts->link_name, G_FILE_TEST_IS_SYMLINK))
        g_unlink (run->opts->link_name);
      if (symlink (run->slave_path, run->opts->link_name) != 0)
        {
          g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "--link-name %s: %s",
                       run->opts->link_name, g_strerror (errno));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
open_status (Run     *run,
             GError **error)
{
  const char *spec = run->opts->json_status;
  guint64 fd;

  run->status_fd = -1;
  if (spec == NULL)
    return TRUE;
  if (g_ascii_string_to_unsigned (spec, 10, 0, G_MAXINT, &fd, NULL))
    {
      if (fcntl ((int) fd, F_GETFD) < 0)
        {
          g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                       "--json-status %s: not an open file descriptor", spec);
          return FALSE;
        }
      run->status_fd = (int) fd;
      return TRUE;
    }
  run->status_fd = open (spec, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (run->status_fd < 0)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_FAILED, "--json-status %s: %s", spec,
                   g_strerror (errno));
      return FALSE;
    }
  run->status_fd_owned = TRUE;
  return TRUE;
}

static gboolean
load_model (Run     *run,
            GError **error)
{
  GBytes *rom;
  gsize len = 0;
  const char *text;

  if (run->opts->model_file != NULL)
    {
      run->model = devsim_model_new_from_file (run->opts->model_file, error);
      return run->model != NULL;
    }
  rom = devsim_flash_get_rom (run->flash);
  text = g_bytes_get_data (rom, &len);
  if (len == 0)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_INVALID,
                   "%s holds no model: give --model-file", run->opts->state_path);
      return FALSE;
    }
  run->model = devsim_model_new_from_data (text, (gssize) len, error);
  return run->model != NULL;
}

static gboolean
start (Run     *run,
       GError **error)
{
  const DevsimRunOptions *o = run->opts;
  g_autoptr(DevsimFlash) snapshot = NULL;
  char **rule;
  sp_err err;

  run->flash = devsim_flash_open (o->state_path, DEVSIM_FLASH_READ_WRITE, error);
  if (run->flash == NULL || !load_model (run, error))
    return FALSE;

  /* Who the device is, asked of a copy before the device itself runs: its
   * answers to HELLO and ATTEST would otherwise land in its retry cache
   * and session (devsim-probe.h). */
  snapshot = devsim_flash_open (o->state_path, DEVSIM_FLASH_SNAPSHOT, error);
  if (snapshot == NULL || (run->identity = devsim_probe (snapshot, run->model, error)) == NULL)
    return FALSE;

  devsim_flash_set_chunk_delay (run->flash, o->slow_flash_us);
  devsim_flash_set_nor_policy (run->flash,
                               o->nor_and ? DEVSIM_FLASH_NOR_AND : DEVSIM_FLASH_NOR_REFUSE);
  devsim_flash_set_power_loss (run->flash, o->crash_after_writes, run->seed ^ TORN_SEED_SALT);

  run->platform = devsim_platform_new (run->flash);
  devsim_platform_set_clock (run->platform, !o->no_clock, o->clock_offset);
  devsim_platform_set_point_func (run->platform, on_fault_point, run);
  if (o->crash_at != NULL && !devsim_platform_set_crash_at (run->platform, o->crash_at, error))
    return FALSE;
  for (rule = (char **) o->health_fail; rule != NULL && *rule != NULL; rule++)
    if (!devsim_platform_add_health_rule (run->platform, *rule, error))
      return FALSE;

  if (!open_status (run, error))
    return FALSE;

  run->agent = devsim_agent_new ();
  err = sa_agent_boot (&run->agent->agent, devsim_platform_get (run->platform),
                       devsim_model_get_schema (run->model));
  if (err != SP_OK)
    {
      g_set_error (error, DEVSIM_ERROR, DEVSIM_ERROR_AGENT, "The device does not boot: %s",
                   sp_strerror (err));
      return FALSE;
    }
  sa_link_init (&run->agent->link, &run->agent->agent, agent_write, run);

  return o->ble ? open_ble (run, error) : open_pty (run, error);
}

static void
run_clear (Run *run)
{
  g_clear_handle_id (&run->read_watch, g_source_remove);
  g_clear_handle_id (&run->write_watch, g_source_remove);
  g_clear_handle_id (&run->hangup_timer, g_source_remove);
  g_clear_handle_id (&run->tick_timer, g_source_remove);
  clear_delayed (run);
  g_clear_pointer (&run->ble, devsim_ble_free);
  g_clear_error (&run->ble_error);
  if (run->master >= 0)
    close (run->master);
  if (run->status_fd_owned)
    close (run->status_fd);
  if (run->opts->link_name != NULL && run->slave_path != NULL && run->ble == NULL)
    {
      g_autofree char *target = g_file_read_link (run->opts->link_name, NULL);

      if (g_strcmp0 (target, run->slave_path) == 0)
        g_unlink (run->opts->link_name);
    }
  g_free (run->slave_path);
  g_clear_pointer (&run->agent, devsim_agent_free);
  g_clear_pointer (&run->platform, devsim_platform_free);
  g_clear_pointer (&run->identity, devsim_device_info_free);
  g_clear_pointer (&run->model, devsim_model_free);
  g_clear_pointer (&run->flash, devsim_flash_free);
  g_clear_pointer (&run->faults, devsim_faults_free);
  devsim_frame_splitter_clear (&run->in_split);
  devsim_frame_splitter_clear (&run->out_split);
  g_clear_pointer (&run->outq, g_byte_array_unref);
  g_clear_pointer (&run->loop, g_main_loop_unref);
  g_free (run->live_path);
}

gboolean
devsim_run (const DevsimRunOptions  *opts,
            GError                 **error)
{
  Run run = { 0 };
  DevsimFaultConfig faults;
  JsonBuilder *b;
  guint sig_term, sig_int;
  gboolean ok = FALSE;

  g_return_val_if_fail (opts != NULL && opts->state_path != NULL, FALSE);

  run.opts = opts;
  run.master = -1;
  run.status_fd = -1;
  /* A random seed stays below 2^53, so JSON readers keep it exact. */
  run.seed = opts->seed_given ? opts->faults.seed
                              : ((guint64) (g_random_int () & 0x1fffff) << 32 | g_random_int ());
  run.outq = g_byte_array_new ();
  run.live_path = devsim_run_live_path (opts->state_path);
  g_queue_init (&run.delayed);
  devsim_frame_splitter_init (&run.in_split);
  devsim_frame_splitter_init (&run.out_split);

  faults = opts->faults;
  faults.seed = run.seed;
  run.faults = devsim_faults_new (&faults, error);
  if (run.faults == NULL || !start (&run, error))
    goto out;

  run.loop = g_main_loop_new (NULL, FALSE);
  b = event_begin ("ready");
  json_builder_set_member_name (b, "pty");
  json_builder_add_string_value (b, run.slave_path);
  if (run.ble != NULL)
    {
      json_builder_set_member_name (b, "adapter");
      json_builder_add_string_value (b, devsim_ble_get_adapter (run.ble));
      json_builder_set_member_name (b, "psm");
      json_builder_add_int_value (b, devsim_ble_get_psm (run.ble));
    }
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, getpid ());
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, (gint64) run.seed);
  devsim_report_add_identity (b, run.identity);
  event_end (&run, b);
  check_status (&run);

  if (run.master >= 0)
    run.read_watch = g_unix_fd_add (run.master, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, &run);
  run.tick_timer = g_timeout_add (DEVSIM_RUN_TICK_MS, on_tick, &run);
  sig_term = g_unix_signal_add (SIGTERM, on_signal, &run);
  sig_int = g_unix_signal_add (SIGINT, on_signal, &run);

  /* The first line of stdout names the pty: scripts wait for it, and
   * then find "ready" and the first "status" in --json-status. From here
   * on, SIGTERM and SIGINT end the run cleanly. */
  if (run.ble == NULL)
    {
      printf ("pty %s\n", run.slave_path);
      fflush (stdout);
    }

  g_main_loop_run (run.loop);
  g_source_remove (sig_term);
  g_source_remove (sig_int);

  b = event_begin ("exit");
  add_flash_counters (&run, b);
  json_builder_set_member_name (b, "output_dropped");
  json_builder_add_int_value (b, (gint64) run.frames_dropped_out);
  event_end (&run, b);
  g_unlink (run.live_path);
  if (run.ble_error != NULL)
    g_propagate_error (error, g_steal_pointer (&run.ble_error));
  else
    ok = TRUE;

out:
  run_clear (&run);
  return ok;
}
