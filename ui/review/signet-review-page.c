/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-review-page.c: the supervisor's Review view.
 *
 * Nothing here blocks the main thread: the log is indexed by
 * SignetReviewLogModel's worker, its chain checked in another
 * (signet_event_log_check_chain), exports written from a third, and the
 * service reached through the core's async client. The timeline is a
 * GtkListView over the lazy model, so a million records cost four bytes
 * each until a row shows one.
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "signet-eventlog-chain.h"
#include "signet-review-chart.h"
#include "signet-review-log-model.h"
#include "signet-review-page.h"
#include "signet-review-report.h"

struct _SignetReviewPage {
  AdwBin parent_instance;

  SignetSession *session;
  SignetReviewLogModel *model;
  GtkSingleSelection *selection;
  gint64 pending_show;          /* Show Record asked for a record not indexed yet, or -1 */
  SignetServiceLog *service_log;          /* nullable: the log is a file */
  SignetEventLogChainResult *chain;       /* nullable: still checking */
  GCancellable *log_cancellable;          /* fetch and chain check of the open log */
  GCancellable *search_cancellable;
  char *next_cursor;
  char *title;
  gint64 open_time;                       /* µs, for the status line */
  gint64 indexed_time;

  /* template */
  AdwToastOverlay *toasts;
  AdwLeaflet *leaflet;
  GtkWidget *sidebar;
  GtkWidget *sidebar_separator;
  GtkWidget *content;
  AdwEntryRow *technician_row;
  AdwEntryRow *device_row;
  AdwEntryRow *from_row;
  AdwEntryRow *to_row;
  AdwComboRow *outcome_row;
  GtkLabel *sessions_status;
  GtkListBox *sessions_list;
  GtkButton *more_button;
  GtkButton *back_button;
  GtkLabel *title_label;
  GtkStack *stack;
  AdwStatusPage *error_page;
  GtkWidget *banner;
  GtkImage *verdict_icon;
  GtkLabel *verdict_label;
  GtkButton *show_record_button;
  AdwViewStack *view_stack;
  GtkListView *timeline_view;
  SignetReviewChart *chart;
  GtkStack *receipts_stack;
  GtkListView *receipts_view;
  GtkLabel *status_label;
};

G_DEFINE_FINAL_TYPE (SignetReviewPage, signet_review_page, ADW_TYPE_BIN)

static void show_record_when_indexed (SignetReviewPage *self);

enum {
  PROP_0,
  PROP_SESSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char * const outcome_ids[] = { NULL, "verified", "tampered", "open", "incomplete" };

/* ---- helpers ------------------------------------------------------------- */

static char *
format_count (guint64 n)
{
  return g_strdup_printf ("%'" G_GUINT64_FORMAT, n);
}

static char *
format_time_ms (guint64  time_ms,
                gboolean with_date)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *s = NULL;

  if (time_ms / 1000 > (guint64) G_MAXINT64 / 2)
    return g_strdup ("?");
  dt = g_date_time_new_from_unix_local ((gint64) (time_ms / 1000));
  if (dt == NULL)
    return g_strdup ("?");
  s = g_date_time_format (dt, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S");
  return g_strdup_printf ("%s.%03u", s, (guint) (time_ms % 1000));
}

static char *
format_seconds (gint64 seconds)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (seconds);

  return dt != NULL ? g_date_time_format (dt, "%Y-%m-%d %H:%M") : g_strdup ("?");
}

static void
toast (SignetReviewPage *self,
       const char       *text)
{
  adw_toast_overlay_add_toast (self->toasts, adw_toast_new (text));
}

/* A phrase for people about a reason of docs/eventlog.md §5. */
static const char *
reason_phrase (SignetEventLogReason reason)
{
  switch (reason)
    {
    case SIGNET_EVENT_LOG_REASON_EMPTY: return _("the log holds no record");
    case SIGNET_EVENT_LOG_REASON_PARTIAL_RECORD: return _("the log ends inside this record: it was cut");
    case SIGNET_EVENT_LOG_REASON_NO_SESSION_END: return _("the log stops without the end of the session");
    case SIGNET_EVENT_LOG_REASON_UNSEALED_RECORDS: return _("no seal covers the records from here on");
    case SIGNET_EVENT_LOG_REASON_CBOR:
    case SIGNET_EVENT_LOG_REASON_TOO_LARGE:
    case SIGNET_EVENT_LOG_REASON_BAD_SHAPE:
    case SIGNET_EVENT_LOG_REASON_BAD_TYPE:
    case SIGNET_EVENT_LOG_REASON_BAD_DATA: return _("the bytes are not a well-formed record");
    case SIGNET_EVENT_LOG_REASON_BAD_SESSION_START: return _("the session start is not as written");
    case SIGNET_EVENT_LOG_REASON_UNSUPPORTED_VERSION: return _("the log is in an unknown format version");
    case SIGNET_EVENT_LOG_REASON_BAD_SEAL: return _("a seal is not as written");
    case SIGNET_EVENT_LOG_REASON_NOT_SESSION_START: return _("the log does not start with its session start");
    case SIGNET_EVENT_LOG_REASON_SEQ_GAP: return _("records before it were removed");
    case SIGNET_EVENT_LOG_REASON_SEQ_REPEATED: return _("a record was duplicated or inserted");
    case SIGNET_EVENT_LOG_REASON_SEQ_BACKWARDS: return _("records were reordered or replayed");
    case SIGNET_EVENT_LOG_REASON_CHAIN_BROKEN: return _("it does not chain to the record before it: one of them was changed");
    case SIGNET_EVENT_LOG_REASON_SESSION_START_REPEATED: return _("a second session start");
    case SIGNET_EVENT_LOG_REASON_RECORD_AFTER_END: return _("a record after the end of the session");
    case SIGNET_EVENT_LOG_REASON_SEAL_MISSING: return _("a seal was removed or moved");
    case SIGNET_EVENT_LOG_REASON_EMPTY_EPOCH: return _("a seal was duplicated");
    case SIGNET_EVENT_LOG_REASON_EPOCH_SKIPPED: return _("a seal made with a later key");
    case SIGNET_EVENT_LOG_REASON_EPOCH_MISMATCH: return _("an earlier seal was copied here");
    case SIGNET_EVENT_LOG_REASON_SEAL_MAC: return _("the seal does not verify: a record it covers was changed");
    case SIGNET_EVENT_LOG_REASON_TRAILING_DATA: return _("bytes were added after the end of the log");
    case SIGNET_EVENT_LOG_REASON_NONE:
    default: return _("unknown reason");
    }
}

static SignetEventLogReason
reason_from_string (const char *s)
{
  for (int r = SIGNET_EVENT_LOG_REASON_NONE; r <= SIGNET_EVENT_LOG_REASON_TRAILING_DATA; r++)
    if (g_strcmp0 (signet_event_log_reason_to_string (r), s) == 0)
      return r;
  return SIGNET_EVENT_LOG_REASON_NONE;
}

static const char *
verdict_word (SignetEventLogVerdict verdict)
{
  switch (verdict)
    {
    case SIGNET_EVENT_LOG_TRUNCATED: return _("Truncated");
    case SIGNET_EVENT_LOG_UNSEALED_TAIL: return _("Unsealed");
    case SIGNET_EVENT_LOG_MALFORMED: return _("Malformed");
    case SIGNET_EVENT_LOG_TAMPERED:
    case SIGNET_EVENT_LOG_VERIFIED:
    default: return _("Tampered");
    }
}

static SignetEventLogVerdict
verdict_from_string (const char *s)
{
  for (int v = SIGNET_EVENT_LOG_VERIFIED; v <= SIGNET_EVENT_LOG_MALFORMED; v++)
    if (g_strcmp0 (signet_event_log_verdict_to_string (v), s) == 0)
      return v;
  return SIGNET_EVENT_LOG_TAMPERED;
}

/* ---- the verdict banner ---------------------------------------------------- */

typedef enum { BANNER_BUSY, BANNER_OK, BANNER_WARN, BANNER_BAD } BannerKind;

static void
set_banner (SignetReviewPage *self,
            BannerKind        kind,
            const char       *text,
            gint64            bad_index)
{
  static const char * const icons[] = {
    "content-loading-symbolic", "security-high-symbolic", "dialog-warning-symbolic",
    "dialog-error-symbolic",
  };

  gtk_widget_remove_css_class (self->banner, "signet-verdict-ok");
  gtk_widget_remove_css_class (self->banner, "signet-verdict-warn");
  gtk_widget_remove_css_class (self->banner, "signet-verdict-bad");
  if (kind == BANNER_OK)
    gtk_widget_add_css_class (self->banner, "signet-verdict-ok");
  else if (kind == BANNER_WARN)
    gtk_widget_add_css_class (self->banner, "signet-verdict-warn");
  else if (kind == BANNER_BAD)
    gtk_widget_add_css_class (self->banner, "signet-verdict-bad");
  gtk_image_set_from_icon_name (self->verdict_icon, icons[kind]);
  /* GTK 4.8 makes a label's text its name on set_text: keep "Verdict" */
  gtk_label_set_text (self->verdict_label, text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->verdict_label),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Verdict"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
  gtk_widget_set_visible (GTK_WIDGET (self->show_record_button), bad_index >= 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.show-record", bad_index >= 0);
  /* Rows already bound learn of the bad record when they rebind. */
  gtk_widget_queue_draw (GTK_WIDGET (self->timeline_view));
}

/* The record the verdict names, -1: none. */
static gint64
bad_index (SignetReviewPage *self)
{
  if (self->service_log != NULL && g_strcmp0 (self->service_log->verdict, "verified") != 0)
    return self->service_log->index;
  if (self->chain != NULL && self->chain->verdict != SIGNET_EVENT_LOG_VERIFIED)
    return self->chain->index;
  return -1;
}

static void
update_banner (SignetReviewPage *self)
{
  g_autofree char *text = NULL;
  g_autofree char *n = NULL;
  const SignetEventLogChainResult *c = self->chain;
  const SignetServiceLog *s = self->service_log;

  if (s != NULL && g_strcmp0 (s->verdict, "verified") != 0)
    {
      SignetEventLogVerdict v = verdict_from_string (s->verdict);
      const char *why = reason_phrase (reason_from_string (s->reason));

      if (s->index >= 0)
        {
          n = format_count ((guint64) s->index);
          /* Translators: "Tampered at record 1,234: records before it were removed" */
          text = g_strdup_printf (_("%s at record %s: %s (the service's verdict)."),
                                  verdict_word (v), n, why);
        }
      else
        text = g_strdup_printf (_("%s: %s (the service's verdict)."), verdict_word (v), why);
      set_banner (self, BANNER_BAD, text, s->index);
      return;
    }
  if (c == NULL)
    {
      set_banner (self, BANNER_BUSY, s != NULL
                  ? _("Verified by the service. Checking the chain of this copy…")
                  : _("Checking the chain…"), -1);
      return;
    }
  if (c->verdict != SIGNET_EVENT_LOG_VERIFIED)
    {
      const char *why = reason_phrase (c->reason);

      if (c->index >= 0)
        {
          n = format_count ((guint64) c->index);
          text = g_strdup_printf (s != NULL
                                  ? _("%s at record %s: %s (found in the copy received from "
                                      "the service, which it had verified).")
                                  : _("%s at record %s: %s."),
                                  verdict_word (c->verdict), n, why);
        }
      else
        text = g_strdup_printf ("%s: %s.", verdict_word (c->verdict), why);
      set_banner (self, BANNER_BAD, text, c->index);
      return;
    }
  n = format_count (c->n_records);
  if (s != NULL)
    {
      text = g_strdup_printf (_("Verified: the service checked every seal, and the %s records "
                                "of this copy chain up intact."), n);
      set_banner (self, BANNER_OK, text, -1);
    }
  else
    {
      text = g_strdup_printf (_("Chain intact: %s records, each linked to the one before, "
                                "closed by the final seal. Only the service can check the "
                                "seals themselves: open the session from the service to "
                                "verify it."), n);
      set_banner (self, BANNER_WARN, text, -1);
    }
}

/* ---- the status line ------------------------------------------------------- */

static void
update_status (SignetReviewPage *self)
{
  g_autofree char *n = NULL, *text = NULL;
  const GError *error;

  show_record_when_indexed (self);
  if (self->model == NULL)
    {
      gtk_label_set_text (self->status_label, "");
      return;
    }
  n = format_count (g_list_model_get_n_items (G_LIST_MODEL (self->model)));
  error = signet_review_log_model_get_error (self->model);
  if (signet_review_log_model_get_loading (self->model))
    text = g_strdup_printf (_("%s records so far…"), n);
  else if (error != NULL)
    text = g_strdup_printf (_("%s records, then bytes that are not records"), n);
  else
    text = g_strdup_printf (_("%s records, read in %.2f s"), n,
                            (double) (self->indexed_time - self->open_time) / G_USEC_PER_SEC);
  gtk_label_set_text (self->status_label, text);
}

/* ---- the timeline rows ----------------------------------------------------- */

static const char *
category_icon (SignetReviewCategory category)
{
  switch (category)
    {
    case SIGNET_REVIEW_CATEGORY_SESSION: return "avatar-default-symbolic";
    case SIGNET_REVIEW_CATEGORY_DEVICE: return "phone-symbolic";
    case SIGNET_REVIEW_CATEGORY_RECEIPT: return "emblem-ok-symbolic";
    case SIGNET_REVIEW_CATEGORY_ERROR: return "dialog-warning-symbolic";
    case SIGNET_REVIEW_CATEGORY_SEAL: return "channel-secure-symbolic";
    case SIGNET_REVIEW_CATEGORY_OTHER:
    case SIGNET_REVIEW_N_CATEGORIES:
    default: return "text-x-generic-symbolic";
    }
}

static GtkWidget *
row_label (const char *css,
           gboolean    expand)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_single_line_mode (GTK_LABEL (label), TRUE);
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  if (expand)
    {
      gtk_widget_set_hexpand (label, TRUE);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
    }
  return label;
}

static void
timeline_setup (GtkSignalListItemFactory *factory,
                GtkListItem              *item,
                gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *type = row_label ("heading", FALSE);
  GtkWidget *seq = row_label ("dim-label", FALSE);
  GtkWidget *time = row_label ("numeric", FALSE);
  GtkWidget *device = row_label ("dim-label", FALSE);
  GtkWidget *summary = row_label ("dim-label", TRUE);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_add_css_class (seq, "numeric");
  gtk_label_set_width_chars (GTK_LABEL (seq), 7);
  gtk_label_set_xalign (GTK_LABEL (seq), 1);
  /* Shrink before the window does (360 px wide at least). */
  gtk_label_set_ellipsize (GTK_LABEL (type), PANGO_ELLIPSIZE_END);
  gtk_label_set_width_chars (GTK_LABEL (type), 6);
  gtk_label_set_max_width_chars (GTK_LABEL (type), 18);
  gtk_label_set_ellipsize (GTK_LABEL (device), PANGO_ELLIPSIZE_END);
  gtk_label_set_width_chars (GTK_LABEL (device), 3);
  gtk_label_set_max_width_chars (GTK_LABEL (device), 16);
  gtk_box_append (GTK_BOX (box), gtk_image_new ());
  gtk_box_append (GTK_BOX (box), seq);
  gtk_box_append (GTK_BOX (box), time);
  gtk_box_append (GTK_BOX (box), type);
  gtk_box_append (GTK_BOX (box), device);
  gtk_box_append (GTK_BOX (box), summary);
  gtk_list_item_set_child (item, box);
}

/* The data map in one line, at most ~160 characters. */
static char *
data_summary (SignetEventRecord *record)
{
  g_autofree char *json = signet_event_record_data_to_json (record);
  gsize len = strlen (json);

  if (len > 160)
    {
      g_autofree char *cut = g_utf8_substring (json, 0, 159);

      return g_strconcat (cut, "…", NULL);
    }
  return g_steal_pointer (&json);
}

static void
timeline_bind (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               SignetReviewPage         *self)
{
  SignetReviewEvent *event = gtk_list_item_get_item (item);
  SignetEventRecord *record = signet_review_event_get_record (event);
  GtkWidget *box = gtk_list_item_get_child (item);
  GtkWidget *icon = gtk_widget_get_first_child (box);
  GtkWidget *seq = gtk_widget_get_next_sibling (icon);
  GtkWidget *time = gtk_widget_get_next_sibling (seq);
  GtkWidget *type = gtk_widget_get_next_sibling (time);
  GtkWidget *device = gtk_widget_get_next_sibling (type);
  GtkWidget *summary = gtk_widget_get_next_sibling (device);
  guint position = signet_review_event_get_position (event);
  gboolean bad = (gint64) position == bad_index (self);
  g_autofree char *seq_s = format_count (position);
  g_autofree char *time_s = NULL, *summary_s = NULL;
  g_autofree char *a11y = NULL;

  gtk_label_set_text (GTK_LABEL (seq), seq_s);
  if (bad)
    gtk_widget_add_css_class (box, "signet-bad-record");
  else
    gtk_widget_remove_css_class (box, "signet-bad-record");
  if (record == NULL)
    {
      gtk_image_set_from_icon_name (GTK_IMAGE (icon), "dialog-error-symbolic");
      gtk_label_set_text (GTK_LABEL (time), "");
      gtk_label_set_text (GTK_LABEL (type), _("Not a record"));
      gtk_label_set_text (GTK_LABEL (device), "");
      gtk_label_set_text (GTK_LABEL (summary), signet_review_event_get_problem (event));
      return;
    }
  gtk_image_set_from_icon_name (GTK_IMAGE (icon),
                                bad ? "dialog-error-symbolic"
                                    : category_icon (signet_review_event_get_category (event)));
  time_s = format_time_ms (signet_event_record_get_time_ms (record), FALSE);
  gtk_label_set_text (GTK_LABEL (time), time_s);
  gtk_widget_set_tooltip_text (time, NULL);
  gtk_label_set_text (GTK_LABEL (type), signet_event_record_get_record_type (record));
  gtk_label_set_text (GTK_LABEL (device), signet_event_record_get_device (record) != NULL
                      ? signet_event_record_get_device (record)
                      : signet_event_record_get_actor (record));
  summary_s = data_summary (record);
  gtk_label_set_text (GTK_LABEL (summary), summary_s);
  /* Translators: a timeline row read by a screen reader: record number,
   * time, type, device or actor */
  a11y = g_strdup_printf (_("Record %s, %s, %s, %s"), seq_s, time_s,
                          signet_event_record_get_record_type (record),
                          gtk_label_get_text (GTK_LABEL (device)));
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
}

/* ---- the receipt rows ----------------------------------------------------- */

static void
receipt_setup (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               gpointer                  user_data)
{
  GtkWidget *row = adw_action_row_new ();

  adw_action_row_add_prefix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("emblem-ok-symbolic"));
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  gtk_list_item_set_child (item, row);
  gtk_list_item_set_activatable (item, FALSE);
}

static const char *
op_name (gint64 op)
{
  switch (op)
    {
    case 1: return _("Apply");
    case 2: return _("Commit");
    case 3: return _("Roll back");
    case 4: return _("Transfer");
    default: return _("Command");
    }
}

static void
receipt_bind (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  user_data)
{
  SignetReviewEvent *event = gtk_list_item_get_item (item);
  SignetEventRecord *record = signet_review_event_get_record (event);
  GtkWidget *row = gtk_list_item_get_child (item);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *json = NULL, *title = NULL, *subtitle = NULL, *time_s = NULL;
  g_autofree char *digest = NULL;
  JsonObject *o;

  if (record == NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("Not a record"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), signet_review_event_get_problem (event));
      return;
    }
  json = signet_event_record_data_to_json (record);
  if (!json_parser_load_from_data (parser, json, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return;
  o = json_node_get_object (json_parser_get_root (parser));
  /* Translators: a device receipt: operation, committed and pending
   * configuration versions */
  title = g_strdup_printf (_("%s — committed v%lld, pending v%lld"),
                           op_name (json_object_get_int_member_with_default (o, "op", 0)),
                           (long long) json_object_get_int_member_with_default (o, "committed_version", 0),
                           (long long) json_object_get_int_member_with_default (o, "pending_version", 0));
  time_s = format_time_ms (signet_event_record_get_time_ms (record), TRUE);
  digest = g_strndup (json_object_get_string_member_with_default (o, "config_digest", ""), 16);
  /* Translators: device, time, command seq, the first hex digits of the
   * configuration digest */
  subtitle = g_strdup_printf (_("%s · %s · command %lld · digest %s…"),
                              signet_event_record_get_device (record) != NULL
                              ? signet_event_record_get_device (record) : "—",
                              time_s,
                              (long long) json_object_get_int_member_with_default (o, "seq", 0),
                              digest);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
}

/* ---- opening a log ---------------------------------------------------------- */

static void
chain_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;
  SignetEventLogChainResult *result;

  if (G_IS_FILE (task_data))
    {
      g_autofree char *path = g_file_get_path (task_data);

      if (path == NULL)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                   "Only local files can be opened");
          return;
        }
      mapped = g_mapped_file_new (path, FALSE, &error);
      if (mapped == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
      bytes = g_mapped_file_get_bytes (mapped);
    }
  else
    bytes = g_bytes_ref (task_data);
  result = signet_event_log_check_chain (g_bytes_get_data (bytes, NULL),
                                         g_bytes_get_size (bytes), cancellable);
  if (result == NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
  else
    g_task_return_pointer (task, result, (GDestroyNotify) signet_event_log_chain_result_free);
}

static void
chain_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (source);
  g_autoptr(GError) error = NULL;
  SignetEventLogChainResult *chain = g_task_propagate_pointer (G_TASK (result), &error);

  if (chain == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        set_banner (self, BANNER_BAD, error->message, -1);
      return;
    }
  g_clear_pointer (&self->chain, signet_event_log_chain_result_free);
  self->chain = chain;
  update_banner (self);
}

static void
model_loading_changed (SignetReviewPage *self)
{
  const GError *error = signet_review_log_model_get_error (self->model);

  if (!signet_review_log_model_get_loading (self->model))
    {
      self->indexed_time = g_get_monotonic_time ();
      if (error != NULL && g_list_model_get_n_items (G_LIST_MODEL (self->model)) == 0 &&
          signet_review_log_model_get_end_offset (self->model) == 0 &&
          !g_error_matches (error, SIGNET_EVENT_LOG_ERROR, SIGNET_EVENT_LOG_ERROR_MALFORMED))
        {
          adw_status_page_set_description (self->error_page, error->message);
          gtk_stack_set_visible_child_name (self->stack, "error");
        }
    }
  update_status (self);
}

static void
model_receipts_changed (SignetReviewPage *self)
{
  guint n = 0;

  signet_review_log_model_get_receipts (self->model, &n);
  gtk_stack_set_visible_child_name (self->receipts_stack, n > 0 ? "list" : "none");
}

/* Show model (taken); what the verdict is about comes separately. */
static void
show_model (SignetReviewPage     *self,
            SignetReviewLogModel *model,
            const char           *title)
{
  g_autoptr(GListModel) receipts = NULL;
  g_autoptr(GtkNoSelection) receipts_sel = NULL;

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_clear_object (&self->model);
  self->model = model;
  self->pending_show = -1;
  self->open_time = g_get_monotonic_time ();
  self->indexed_time = 0;
  g_free (self->title);
  self->title = g_strdup (title);
  gtk_label_set_text (self->title_label, title);

  g_clear_object (&self->selection);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (model)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_list_view_set_model (self->timeline_view, GTK_SELECTION_MODEL (self->selection));
  receipts = signet_review_log_model_dup_receipts_model (model);
  receipts_sel = gtk_no_selection_new (g_object_ref (receipts));
  gtk_list_view_set_model (self->receipts_view, GTK_SELECTION_MODEL (receipts_sel));
  signet_review_chart_set_model (self->chart, model);
  g_signal_connect_swapped (model, "notify::loading", G_CALLBACK (model_loading_changed), self);
  g_signal_connect_swapped (model, "notify::n-items", G_CALLBACK (update_status), self);
  g_signal_connect_swapped (model, "notify::histogram-serial",
                            G_CALLBACK (model_receipts_changed), self);
  model_receipts_changed (self);
  update_status (self);
  gtk_stack_set_visible_child_name (self->stack, "log");
  adw_view_stack_set_visible_child_name (self->view_stack, "timeline");
  adw_leaflet_set_visible_child (self->leaflet, self->content);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.export-csv", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.export-json", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.export-pdf", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.print", TRUE);
}

static void
reset_log (SignetReviewPage *self)
{
  g_cancellable_cancel (self->log_cancellable);
  g_clear_object (&self->log_cancellable);
  self->log_cancellable = g_cancellable_new ();
  g_clear_pointer (&self->service_log, signet_service_log_free);
  g_clear_pointer (&self->chain, signet_event_log_chain_result_free);
}

static void
start_chain_check (SignetReviewPage *self,
                   gpointer          what)   /* a GFile or GBytes, reffed */
{
  g_autoptr(GTask) task = g_task_new (self, self->log_cancellable, chain_done, NULL);

  g_task_set_source_tag (task, start_chain_check);
  g_task_set_task_data (task, what, G_IS_FILE (what) ? g_object_unref
                                                      : (GDestroyNotify) g_bytes_unref);
  g_task_run_in_thread (task, chain_thread);
}

void
signet_review_page_open_file (SignetReviewPage *self,
                              GFile            *file)
{
  g_autofree char *name = NULL;

  g_return_if_fail (SIGNET_IS_REVIEW_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));

  reset_log (self);
  name = g_file_get_basename (file);
  show_model (self, signet_review_log_model_new_for_file (file), name);
  update_banner (self);
  start_chain_check (self, g_object_ref (file));
}

static void
fetch_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  SignetReviewPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetServiceLog) log = NULL;
  g_autofree char *title = NULL;

  log = signet_service_client_log_fetch_finish (SIGNET_SERVICE_CLIENT (source), result, &error);
  if (log == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          adw_status_page_set_description (self->error_page, error->message);
          gtk_stack_set_visible_child_name (self->stack, "error");
        }
      g_object_unref (self);
      return;
    }
  /* Translators: the title of a session log from the service: technician and log id */
  title = g_strdup_printf (_("%s — %s"), log->technician != NULL ? log->technician : "?", log->id);
  show_model (self, signet_review_log_model_new_for_bytes (log->log), title);
  start_chain_check (self, g_bytes_ref (log->log));
  self->service_log = g_steal_pointer (&log);
  update_banner (self);
  g_object_unref (self);
}

void
signet_review_page_open_log (SignetReviewPage *self,
                             const char       *id)
{
  SignetServiceSession *ss;

  g_return_if_fail (SIGNET_IS_REVIEW_PAGE (self));
  g_return_if_fail (id != NULL);

  ss = self->session != NULL ? signet_session_get_service_session (self->session) : NULL;
  if (ss == NULL)
    {
      toast (self, _("Sign in as a supervisor to open the service's logs"));
      return;
    }
  reset_log (self);
  set_banner (self, BANNER_BUSY, _("Fetching the log…"), -1);
  signet_service_client_log_fetch_async (signet_session_get_client (self->session), ss, id,
                                         self->log_cancellable, fetch_done, g_object_ref (self));
}

/* ---- the sessions sidebar --------------------------------------------------- */

static gboolean
can_search (SignetReviewPage *self)
{
  SignetServiceSession *ss;

  if (self->session == NULL ||
      signet_session_get_state (self->session) != SIGNET_SESSION_STATE_SIGNED_IN)
    return FALSE;
  ss = signet_session_get_service_session (self->session);
  return ss != NULL && signet_service_session_has_scope (ss, "log.read");
}

static void
session_state_changed (SignetReviewPage *self)
{
  gboolean on = can_search (self);

  gtk_widget_set_visible (self->sidebar, on);
  gtk_widget_set_visible (self->sidebar_separator, on);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.search", on);
  if (!on)
    {
      GtkWidget *child;

      while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->sessions_list))) != NULL)
        gtk_list_box_remove (self->sessions_list, child);
      gtk_widget_set_visible (GTK_WIDGET (self->more_button), FALSE);
    }
}

static GtkWidget *
session_row_new (const SignetServiceLogSummary *s)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *badge = gtk_label_new (NULL);
  g_autofree char *started = format_seconds (s->started);
  g_autofree char *records = format_count (s->records);
  g_autofree char *devices = g_strjoinv (", ", s->devices);
  g_autofree char *title = NULL, *subtitle = NULL;
  const char *outcome;

  if (g_strcmp0 (s->outcome, "verified") == 0)
    outcome = _("Verified");
  else if (g_strcmp0 (s->outcome, "tampered") == 0)
    outcome = _("Tampered");
  else if (g_strcmp0 (s->outcome, "open") == 0)
    outcome = _("Open");
  else
    outcome = _("Incomplete");
  /* Translators: technician · start time */
  title = g_strdup_printf (_("%s · %s"), s->technician, started);
  /* Translators: records of a log, and the devices it names */
  subtitle = g_strdup_printf (_("%s records · %s"), records,
                              devices[0] != '\0' ? devices : _("no device"));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_label_set_text (GTK_LABEL (badge), outcome);
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (badge, "caption-heading");
  gtk_widget_add_css_class (badge, g_strcmp0 (s->outcome, "verified") == 0 ? "success"
                                   : g_strcmp0 (s->outcome, "tampered") == 0 ? "error"
                                   : "warning");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), badge);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "signet-log-id", g_strdup (s->id), g_free);
  /* Translators: a session row for screen readers: title, outcome */
  {
    g_autofree char *a11y = g_strdup_printf (_("%s, %s"), title, outcome);

    gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  }
  return row;
}

static void
search_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  SignetReviewPage *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) logs = NULL;
  g_autofree char *cursor = NULL;

  logs = signet_service_client_logs_search_finish (SIGNET_SERVICE_CLIENT (source), result,
                                                   &cursor, &error);
  if (logs == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        gtk_label_set_text (self->sessions_status, error->message);
      g_object_unref (self);
      return;
    }
  for (guint i = 0; i < logs->len; i++)
    gtk_list_box_append (self->sessions_list, session_row_new (g_ptr_array_index (logs, i)));
  g_free (self->next_cursor);
  self->next_cursor = g_steal_pointer (&cursor);
  gtk_widget_set_visible (GTK_WIDGET (self->more_button), self->next_cursor != NULL);
  gtk_label_set_text (self->sessions_status,
                      gtk_widget_get_first_child (GTK_WIDGET (self->sessions_list)) == NULL
                      ? _("No session matches.") : "");
  g_object_unref (self);
}

/* "YYYY-MM-DD" as local midnight (+ a day for an end), or -1 if empty;
 * FALSE for anything else. */
static gboolean
parse_day (AdwEntryRow *row,
           gboolean     end,
           gint64      *out)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row));
  g_autoptr(GDateTime) dt = NULL;
  int y, m, d;
  char extra;

  gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
  *out = -1;
  if (text[0] == '\0')
    return TRUE;
  if (sscanf (text, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3 ||
      (dt = g_date_time_new_local (y, m, d, 0, 0, 0)) == NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (row), "error");
      return FALSE;
    }
  *out = g_date_time_to_unix (dt) + (end ? 86400 - 1 : 0);
  return TRUE;
}

static void
run_search (SignetReviewPage *self,
            gboolean          more)
{
  SignetServiceLogQuery query = SIGNET_SERVICE_LOG_QUERY_INIT;
  g_autofree char *technician = NULL, *device = NULL;
  guint outcome;

  if (!can_search (self))
    return;
  if (!parse_day (self->from_row, FALSE, &query.from) ||
      !parse_day (self->to_row, TRUE, &query.to))
    {
      gtk_label_set_text (self->sessions_status, _("Type dates as YYYY-MM-DD."));
      return;
    }
  technician = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->technician_row))));
  device = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->device_row))));
  query.technician = technician[0] != '\0' ? technician : NULL;
  query.device = device[0] != '\0' ? device : NULL;
  outcome = adw_combo_row_get_selected (self->outcome_row);
  query.outcome = outcome < G_N_ELEMENTS (outcome_ids) ? outcome_ids[outcome] : NULL;
  query.limit = 50;
  if (more)
    query.cursor = self->next_cursor;
  else
    {
      GtkWidget *child;

      while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->sessions_list))) != NULL)
        gtk_list_box_remove (self->sessions_list, child);
    }
  g_cancellable_cancel (self->search_cancellable);
  g_clear_object (&self->search_cancellable);
  self->search_cancellable = g_cancellable_new ();
  gtk_label_set_text (self->sessions_status, _("Searching…"));
  gtk_widget_set_visible (GTK_WIDGET (self->more_button), FALSE);
  signet_service_client_logs_search_async (signet_session_get_client (self->session),
                                           signet_session_get_service_session (self->session),
                                           &query, self->search_cancellable, search_done,
                                           g_object_ref (self));
}

static void
session_activated (SignetReviewPage *self,
                   GtkListBoxRow    *row)
{
  const char *id = g_object_get_data (G_OBJECT (row), "signet-log-id");

  if (id != NULL)
    signet_review_page_open_log (self, id);
}

static void
more_clicked (SignetReviewPage *self)
{
  run_search (self, TRUE);
}

static void
back_clicked (SignetReviewPage *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
folded_changed (SignetReviewPage *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->back_button),
                          adw_leaflet_get_folded (self->leaflet) && can_search (self));
}

/* ---- exports ------------------------------------------------------------------ */

typedef struct {
  GBytes *log;
  GFile *file;
  gboolean json;
} ExportJob;

static void
export_job_free (ExportJob *job)
{
  g_bytes_unref (job->log);
  g_object_unref (job->file);
  g_free (job);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ExportJob *job = task_data;
  GError *error = NULL;
  g_autofree char *text = job->json ? signet_event_log_export_json (job->log, &error)
                                    : signet_event_log_export_csv (job->log, &error);

  if (text == NULL ||
      !g_file_replace_contents (job->file, text, strlen (text), NULL, FALSE,
                                G_FILE_CREATE_REPLACE_DESTINATION, NULL, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
export_done (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (source);
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *text = g_strdup_printf (_("Could not export: %s"), error->message);

      toast (self, text);
    }
  else
    toast (self, _("Exported"));
}

static void
export_response (GtkNativeDialog *dialog,
                 int              response,
                 gpointer         user_data)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (user_data);
  const char *kind = g_object_get_data (G_OBJECT (dialog), "signet-kind");
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT &&
      (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog))) != NULL &&
      self->model != NULL && signet_review_log_model_get_bytes (self->model) != NULL)
    {
      if (g_str_equal (kind, "pdf"))
        signet_review_report_run (GTK_WIDGET (self), self->model, self->title,
                                  gtk_label_get_text (self->verdict_label), file);
      else
        {
          g_autoptr(GTask) task = g_task_new (self, NULL, export_done, NULL);
          ExportJob *job = g_new0 (ExportJob, 1);

          job->log = g_bytes_ref (signet_review_log_model_get_bytes (self->model));
          job->file = g_object_ref (file);
          job->json = g_str_equal (kind, "json");
          g_task_set_task_data (task, job, (GDestroyNotify) export_job_free);
          g_task_run_in_thread (task, export_thread);
        }
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
ask_export (SignetReviewPage *self,
            const char       *kind,
            const char       *title,
            const char       *suffix,
            const char       *filter_name,
            const char       *mime)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *dialog;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *name = NULL;
  const char *base = self->title != NULL ? self->title : "log";

  if (self->model == NULL)
    return;
  dialog = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  gtk_file_filter_set_name (filter, filter_name);
  gtk_file_filter_add_mime_type (filter, mime);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  name = g_strconcat (base, suffix, NULL);
  g_strdelimit (name, "/ ", '-');
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), name);
  g_object_set_data (G_OBJECT (dialog), "signet-kind", (gpointer) kind);
  g_signal_connect (dialog, "response", G_CALLBACK (export_response), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* ---- actions --------------------------------------------------------------- */

static void
open_response (GtkNativeDialog *dialog,
               int              response,
               gpointer         user_data)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (user_data);
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT &&
      (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog))) != NULL)
    signet_review_page_open_file (self, file);
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
action_open (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *dialog;
  g_autoptr(GtkFileFilter) logs = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  dialog = gtk_file_chooser_native_new (_("Open Log File"),
                                        GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                        GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  gtk_file_filter_set_name (logs, _("Event Logs"));
  gtk_file_filter_add_pattern (logs, "*.log");
  gtk_file_filter_add_pattern (logs, "*.cbor");
  gtk_file_filter_add_mime_type (logs, "application/cbor-seq");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), logs);
  gtk_file_filter_set_name (all, _("All Files"));
  gtk_file_filter_add_pattern (all, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), all);
  g_signal_connect (dialog, "response", G_CALLBACK (open_response), g_object_ref (widget));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

static void
action_search (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  run_search (SIGNET_REVIEW_PAGE (widget), FALSE);
}

static void
action_export (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (widget);

  if (g_str_equal (action_name, "review.export-csv"))
    ask_export (self, "csv", _("Export CSV"), ".csv", _("CSV Files"), "text/csv");
  else if (g_str_equal (action_name, "review.export-json"))
    ask_export (self, "json", _("Export JSON"), ".json", _("JSON Files"), "application/json");
  else
    ask_export (self, "pdf", _("Export PDF Report"), ".pdf", _("PDF Documents"),
                "application/pdf");
}

static void
action_print (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (widget);

  if (self->model == NULL || signet_review_log_model_get_bytes (self->model) == NULL)
    return;
  signet_review_report_run (widget, self->model, self->title,
                            gtk_label_get_text (self->verdict_label), NULL);
}

/* Select the record at index once it is indexed: the verdict (a parallel
 * chain check) can come before the model has reached that record. */
static void
show_record_when_indexed (SignetReviewPage *self)
{
  gint64 index = self->pending_show;
  guint n;

  if (self->model == NULL || index < 0)
    return;
  n = g_list_model_get_n_items (G_LIST_MODEL (self->model));
  if ((gint64) n <= index && signet_review_log_model_get_loading (self->model))
    return;   /* again at the next notify::n-items or notify::loading */
  self->pending_show = -1;
  if (n == 0)
    return;
  /* A cut record is one past the last whole one. */
  index = MIN (index, (gint64) n - 1);
  gtk_single_selection_set_selected (self->selection, (guint) index);
  gtk_widget_activate_action (GTK_WIDGET (self->timeline_view), "list.scroll-to-item", "u",
                              (guint) index);
  gtk_widget_grab_focus (GTK_WIDGET (self->timeline_view));
}

static void
action_show_record (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (widget);
  gint64 index = bad_index (self);

  if (self->model == NULL || index < 0)
    return;
  adw_view_stack_set_visible_child_name (self->view_stack, "timeline");
  self->pending_show = index;
  show_record_when_indexed (self);
}

/* ---- GObject -------------------------------------------------------------- */

static void
signet_review_page_dispose (GObject *object)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (object);

  g_cancellable_cancel (self->log_cancellable);
  g_cancellable_cancel (self->search_cancellable);
  signet_review_page_set_session (self, NULL);
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  /* No gtk_widget_dispose_template: the template's root is AdwBin's
   * child, which AdwBin unparents itself (doing it twice is a critical). */
  g_clear_object (&self->model);
  g_clear_object (&self->selection);
  G_OBJECT_CLASS (signet_review_page_parent_class)->dispose (object);
}

static void
signet_review_page_finalize (GObject *object)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (object);

  g_clear_object (&self->log_cancellable);
  g_clear_object (&self->search_cancellable);
  g_clear_pointer (&self->service_log, signet_service_log_free);
  g_clear_pointer (&self->chain, signet_event_log_chain_result_free);
  g_free (self->next_cursor);
  g_free (self->title);
  G_OBJECT_CLASS (signet_review_page_parent_class)->finalize (object);
}

static void
signet_review_page_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_review_page_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  SignetReviewPage *self = SIGNET_REVIEW_PAGE (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      signet_review_page_set_session (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
signet_review_page_class_init (SignetReviewPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_review_page_dispose;
  object_class->finalize = signet_review_page_finalize;
  object_class->get_property = signet_review_page_get_property;
  object_class->set_property = signet_review_page_set_property;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, SIGNET_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (SIGNET_TYPE_REVIEW_CHART);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/review/signet-review-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, toasts);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, sidebar);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, sidebar_separator);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, content);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, technician_row);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, device_row);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, from_row);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, to_row);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, outcome_row);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, sessions_status);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, sessions_list);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, more_button);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, back_button);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, title_label);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, stack);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, error_page);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, banner);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, verdict_icon);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, verdict_label);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, show_record_button);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, view_stack);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, timeline_view);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, chart);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, receipts_stack);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, receipts_view);
  gtk_widget_class_bind_template_child (widget_class, SignetReviewPage, status_label);

  gtk_widget_class_install_action (widget_class, "review.open", NULL, action_open);
  gtk_widget_class_install_action (widget_class, "review.search", NULL, action_search);
  gtk_widget_class_install_action (widget_class, "review.export-csv", NULL, action_export);
  gtk_widget_class_install_action (widget_class, "review.export-json", NULL, action_export);
  gtk_widget_class_install_action (widget_class, "review.export-pdf", NULL, action_export);
  gtk_widget_class_install_action (widget_class, "review.print", NULL, action_print);
  gtk_widget_class_install_action (widget_class, "review.show-record", NULL, action_show_record);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o, GDK_CONTROL_MASK,
                                       "review.open", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_p, GDK_CONTROL_MASK,
                                       "review.print", NULL);
}

static void
signet_review_page_init (SignetReviewPage *self)
{
  static gsize css_once = 0;
  GtkListItemFactory *factory;

  if (g_once_init_enter (&css_once))
    {
      g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

      gtk_css_provider_load_from_resource (css, "/org/signet/Signet/review/signet-review.css");
      gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                  GTK_STYLE_PROVIDER (css),
                                                  GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
      g_once_init_leave (&css_once, 1);
    }

  gtk_widget_init_template (GTK_WIDGET (self));
  self->pending_show = -1;
  self->log_cancellable = g_cancellable_new ();

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (timeline_setup), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (timeline_bind), self);
  gtk_list_view_set_factory (self->timeline_view, factory);
  g_object_unref (factory);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (receipt_setup), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (receipt_bind), NULL);
  gtk_list_view_set_factory (self->receipts_view, factory);
  g_object_unref (factory);

  g_signal_connect_swapped (self->sessions_list, "row-activated",
                            G_CALLBACK (session_activated), self);
  g_signal_connect_swapped (self->more_button, "clicked", G_CALLBACK (more_clicked), self);
  g_signal_connect_swapped (self->back_button, "clicked", G_CALLBACK (back_clicked), self);
  g_signal_connect_swapped (self->leaflet, "notify::folded", G_CALLBACK (folded_changed), self);
  adw_leaflet_set_visible_child (self->leaflet, self->content);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.export-csv", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.export-json", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.export-pdf", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.print", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "review.show-record", FALSE);
  gtk_stack_set_visible_child_name (self->stack, "empty");
  session_state_changed (self);
}

/* ---- public API ------------------------------------------------------------ */

GtkWidget *
signet_review_page_new (SignetSession *session)
{
  g_return_val_if_fail (session == NULL || SIGNET_IS_SESSION (session), NULL);
  return g_object_new (SIGNET_TYPE_REVIEW_PAGE, "session", session, NULL);
}

SignetSession *
signet_review_page_get_session (SignetReviewPage *self)
{
  g_return_val_if_fail (SIGNET_IS_REVIEW_PAGE (self), NULL);
  return self->session;
}

void
signet_review_page_set_session (SignetReviewPage *self,
                                SignetSession    *session)
{
  g_return_if_fail (SIGNET_IS_REVIEW_PAGE (self));
  g_return_if_fail (session == NULL || SIGNET_IS_SESSION (session));

  if (self->session == session)
    return;
  if (self->session != NULL)
    g_signal_handlers_disconnect_by_data (self->session, self);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      g_signal_connect_swapped (session, "notify::state", G_CALLBACK (session_state_changed),
                                self);
      g_signal_connect_swapped (session, "notify::scope", G_CALLBACK (session_state_changed),
                                self);
    }
  if (self->sidebar != NULL)
    session_state_changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SESSION]);
}
