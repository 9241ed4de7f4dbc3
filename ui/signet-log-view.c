/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-log-view.c: see signet-log-view.h.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>

#include "signet-log-view.h"
#include "signet-ui-util.h"
#include "signet-window.h"

/* ---- a record in a GListModel (private to the timeline) ----------------- */

#define SIGNET_TYPE_LOG_ENTRY (signet_log_entry_get_type ())
G_DECLARE_FINAL_TYPE (SignetLogEntry, signet_log_entry, SIGNET, LOG_ENTRY, GObject)

struct _SignetLogEntry
{
  GObject parent_instance;
  SignetEventRecord *record;
};

G_DEFINE_FINAL_TYPE (SignetLogEntry, signet_log_entry, G_TYPE_OBJECT)

static void
signet_log_entry_finalize (GObject *object)
{
  g_clear_pointer (&SIGNET_LOG_ENTRY (object)->record, signet_event_record_unref);
  G_OBJECT_CLASS (signet_log_entry_parent_class)->finalize (object);
}

static void
signet_log_entry_class_init (SignetLogEntryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = signet_log_entry_finalize;
}

static void
signet_log_entry_init (SignetLogEntry *self)
{
}

/* ---- the view ----------------------------------------------------------- */

#define REFRESH_DELAY_MS 150

struct _SignetLogView
{
  GtkWidget parent_instance;

  /* template */
  GtkImage *status_icon;
  GtkLabel *status_label;
  GtkButton *upload_button;
  GtkButton *export_json_button;
  GtkButton *export_csv_button;
  GtkStack *stack;
  GtkScrolledWindow *scrolled;
  GtkListView *list_view;

  GListStore *store;
  SignetSession *session;
  gulong notify_id;
  char *path;
  GFileMonitor *monitor;
  guint refresh_id;
  gboolean reading;
  gboolean again;
  GCancellable *cancellable;
  GtkNativeDialog *chooser;
};

G_DEFINE_FINAL_TYPE (SignetLogView, signet_log_view, GTK_TYPE_WIDGET)

typedef struct {
  GPtrArray *records;        /* (element-type SignetEventRecord) */
  gboolean chain_ok;
  gint64 broken_at;          /* seq of the first record whose prev_hash does not match */
  gint64 last_seal_seq;      /* -1: none */
  guint seals;
  char *read_error;
} ReadResult;

static void
read_result_free (gpointer data)
{
  ReadResult *r = data;

  g_clear_pointer (&r->records, g_ptr_array_unref);
  g_free (r->read_error);
  g_free (r);
}

static void
read_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  const char *path = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(SignetEventLogReader) reader = NULL;
  ReadResult *r = g_new0 (ReadResult, 1);
  const guint8 *prev = NULL;
  SignetEventRecord *record = NULL;

  r->records = g_ptr_array_new_with_free_func ((GDestroyNotify) signet_event_record_unref);
  r->chain_ok = TRUE;
  r->broken_at = -1;
  r->last_seal_seq = -1;
  reader = signet_event_log_reader_new_for_path (path, &error);
  if (reader == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      read_result_free (r);
      return;
    }
  while (signet_event_log_reader_next (reader, &record, &error))
    {
      static const guint8 zeros[SIGNET_EVENT_LOG_HASH_LEN];
      const guint8 *expected = prev != NULL ? prev : zeros;

      if (r->chain_ok &&
          memcmp (signet_event_record_get_prev_hash (record), expected,
                  SIGNET_EVENT_LOG_HASH_LEN) != 0)
        {
          r->chain_ok = FALSE;
          r->broken_at = (gint64) signet_event_record_get_seq (record);
        }
      if (g_strcmp0 (signet_event_record_get_record_type (record), SIGNET_EVENT_TYPE_SEAL) == 0)
        {
          r->seals++;
          r->last_seal_seq = (gint64) signet_event_record_get_seq (record);
        }
      prev = signet_event_record_get_hash (record);
      g_ptr_array_add (r->records, record);   /* keeps prev alive */
      record = NULL;
    }
  /* a record being written as we read shows up as a partial one: the
   * next refresh reads it whole */
  if (error != NULL && r->records->len == 0)
    r->read_error = g_strdup (error->message);
  g_task_return_pointer (task, r, read_result_free);
}

static void start_read (SignetLogView *self);

static void
update_status (SignetLogView *self,
               ReadResult    *r)
{
  GString *text = g_string_new (NULL);
  SignetLogUploader *uploader = self->session != NULL ?
                                signet_session_get_uploader (self->session) : NULL;
  gint64 acked = uploader != NULL && self->path != NULL ?
                 signet_log_uploader_get_acked (uploader, self->path, NULL) : -1;
  guint n = r->records->len;

  g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u record", "%u records", n), n);
  g_string_append (text, " · ");
  if (r->chain_ok)
    g_string_append (text, _("hash chain intact"));
  else
    g_string_append_printf (text, _("hash chain BROKEN at record %lld"),
                            (long long) r->broken_at);
  g_string_append (text, " · ");
  if (r->last_seal_seq >= 0)
    g_string_append_printf (text, _("sealed through record %lld"),
                            (long long) r->last_seal_seq);
  else
    g_string_append (text, _("not sealed yet"));
  g_string_append (text, " · ");
  if (acked > 0 && (guint64) acked >= n)
    g_string_append (text, _("uploaded"));
  else if (acked > 0)
    g_string_append_printf (text, _("%lld of %u uploaded, the rest queued"),
                            (long long) acked, n);
  else
    g_string_append (text, _("queued for upload"));
  signet_ui_label_set_text (self->status_label, _("Log Status"), text->str);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_label),
                               _("The seals can be checked only by the service, which keeps "
                                 "the log’s first key; it verifies the log when it is "
                                 "uploaded."));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->status_label),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text->str, -1);
  gtk_image_set_from_icon_name (self->status_icon, r->chain_ok ? "channel-secure-symbolic"
                                                               : "dialog-warning-symbolic");
  g_string_free (text, TRUE);
}

static gboolean
scroll_to_end_cb (gpointer user_data)
{
  SignetLogView *self = user_data;
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->scrolled);

  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  return G_SOURCE_REMOVE;
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(SignetLogView) self = user_data;
  g_autoptr(GError) error = NULL;
  ReadResult *r;
  guint old_n, new_n;
  gboolean at_end;
  GtkAdjustment *adj;

  self->reading = FALSE;
  r = g_task_propagate_pointer (G_TASK (result), &error);
  if (r == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        signet_ui_label_set_text (self->status_label, _("Log Status"), error->message);
      return;
    }
  adj = gtk_scrolled_window_get_vadjustment (self->scrolled);
  at_end = gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj) >=
           gtk_adjustment_get_upper (adj) - 8;
  /* records only ever get appended: add the new ones */
  old_n = g_list_model_get_n_items (G_LIST_MODEL (self->store));
  new_n = r->records->len;
  if (new_n < old_n)
    {
      g_list_store_remove_all (self->store);
      old_n = 0;
    }
  if (new_n > old_n)
    {
      g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = old_n; i < new_n; i++)
        {
          SignetLogEntry *e = g_object_new (SIGNET_TYPE_LOG_ENTRY, NULL);

          e->record = signet_event_record_ref (g_ptr_array_index (r->records, i));
          g_ptr_array_add (entries, e);
        }
      g_list_store_splice (self->store, old_n, 0, entries->pdata, entries->len);
      /* follow the tail, as a live timeline does (gtk_list_view_scroll_to
       * is GTK 4.12: move the adjustment once the list has grown) */
      if (at_end)
        g_idle_add_full (G_PRIORITY_LOW, scroll_to_end_cb, g_object_ref (self), g_object_unref);
    }
  gtk_stack_set_visible_child_name (self->stack, new_n > 0 ? "list" : "empty");
  update_status (self, r);
  read_result_free (r);
  if (self->again)
    {
      self->again = FALSE;
      start_read (self);
    }
}

static void
start_read (SignetLogView *self)
{
  GTask *task;

  if (self->path == NULL)
    return;
  if (self->reading)
    {
      self->again = TRUE;
      return;
    }
  self->reading = TRUE;
  task = g_task_new (self, self->cancellable, read_cb, g_object_ref (self));
  g_task_set_task_data (task, g_strdup (self->path), g_free);
  g_task_run_in_thread (task, read_thread);
  g_object_unref (task);
}

static gboolean
refresh_timeout_cb (gpointer user_data)
{
  SignetLogView *self = user_data;

  self->refresh_id = 0;
  start_read (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_refresh (SignetLogView *self)
{
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_timeout_cb, self);
}

static void
file_changed_cb (GFileMonitor      *monitor,
                 GFile             *file,
                 GFile             *other,
                 GFileMonitorEvent  event,
                 SignetLogView     *self)
{
  if (event == G_FILE_MONITOR_EVENT_CHANGED || event == G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT ||
      event == G_FILE_MONITOR_EVENT_CREATED)
    schedule_refresh (self);
}

static void
follow_log (SignetLogView *self)
{
  SignetEventLog *log = self->session != NULL ? signet_session_get_event_log (self->session)
                                              : NULL;
  const char *path = log != NULL ? signet_event_log_get_path (log) : NULL;
  g_autoptr(GFile) file = NULL;

  if (path == NULL || g_strcmp0 (path, self->path) == 0)
    {
      schedule_refresh (self);
      return;
    }
  g_free (self->path);
  self->path = g_strdup (path);
  g_list_store_remove_all (self->store);
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  file = g_file_new_for_path (path);
  self->monitor = g_file_monitor_file (file, G_FILE_MONITOR_NONE, NULL, NULL);
  if (self->monitor != NULL)
    g_signal_connect (self->monitor, "changed", G_CALLBACK (file_changed_cb), self);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_json_button), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_csv_button), TRUE);
  start_read (self);
}

/* ---- list rows ---------------------------------------------------------- */

static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *icon = gtk_image_new ();
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *subtitle = gtk_label_new (NULL);
  GtkWidget *time = gtk_label_new (NULL);

  gtk_widget_set_hexpand (texts, TRUE);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_widget_add_css_class (time, "timeline-time");
  gtk_widget_add_css_class (time, "dim-label");
  gtk_box_append (GTK_BOX (texts), title);
  gtk_box_append (GTK_BOX (texts), subtitle);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), texts);
  gtk_box_append (GTK_BOX (box), time);
  g_object_set_data (G_OBJECT (box), "icon", icon);
  g_object_set_data (G_OBJECT (box), "title", title);
  g_object_set_data (G_OBJECT (box), "subtitle", subtitle);
  g_object_set_data (G_OBJECT (box), "time", time);
  gtk_list_item_set_child (item, box);
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *item,
         gpointer                  user_data)
{
  SignetLogEntry *e = SIGNET_LOG_ENTRY (gtk_list_item_get_item (item));
  GObject *box = G_OBJECT (gtk_list_item_get_child (item));
  const char *type = signet_event_record_get_record_type (e->record);
  const char *device = signet_event_record_get_device (e->record);
  g_autofree char *time = signet_ui_format_time_ms (signet_event_record_get_time_ms (e->record));
  g_autofree char *subtitle = NULL;
  g_autofree char *a11y = NULL;

  /* TRANSLATORS: record number, type and device of a log record */
  subtitle = g_strdup_printf (_("#%llu %s%s%s"),
                              (unsigned long long) signet_event_record_get_seq (e->record), type,
                              device != NULL ? " · " : "", device != NULL ? device : "");
  gtk_image_set_from_icon_name (g_object_get_data (box, "icon"), signet_ui_event_icon (type));
  gtk_label_set_text (g_object_get_data (box, "title"), signet_ui_event_label (type));
  gtk_label_set_text (g_object_get_data (box, "subtitle"), subtitle);
  gtk_label_set_text (g_object_get_data (box, "time"), time);
  a11y = g_strdup_printf ("%s, %s, %s", signet_ui_event_label (type), subtitle, time);
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
}

/* ---- export and upload -------------------------------------------------- */

static void
export_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  GFile *dest = g_object_get_data (G_OBJECT (task), "dest");
  gboolean csv = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (task), "csv"));
  const char *path = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *text = NULL;

  mapped = g_mapped_file_new (path, FALSE, &error);
  if (mapped == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  text = csv ? signet_event_log_export_csv (bytes, &error)
             : signet_event_log_export_json (bytes, &error);
  if (text == NULL ||
      !g_file_replace_contents (dest, text, strlen (text), NULL, FALSE,
                                G_FILE_CREATE_REPLACE_DESTINATION, NULL, cancellable, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
toast (SignetLogView *self,
       const char    *text)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (SIGNET_IS_WINDOW (root))
    signet_window_add_toast (SIGNET_WINDOW (root), text);
}

static void
exported_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SignetLogView) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *text = g_strdup_printf (_("The log could not be exported: %s"),
                                               error->message);

      toast (self, text);
      return;
    }
  toast (self, _("Log exported"));
}

static void
export_response_cb (GtkNativeDialog *chooser,
                    int              response,
                    gpointer         user_data)
{
  SignetLogView *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT && self->path != NULL)
    {
      g_autoptr(GFile) dest = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      GTask *task = g_task_new (self, NULL, exported_cb, g_object_ref (self));

      g_object_set_data_full (G_OBJECT (task), "dest", g_steal_pointer (&dest), g_object_unref);
      g_object_set_data (G_OBJECT (task), "csv", g_object_get_data (G_OBJECT (chooser), "csv"));
      g_task_set_task_data (task, g_strdup (self->path), g_free);
      g_task_run_in_thread (task, export_thread);
      g_object_unref (task);
    }
  g_clear_object (&self->chooser);
}

static void
export (SignetLogView *self,
        gboolean       csv)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkFileChooserNative *chooser;
  g_autofree char *base = NULL;
  g_autofree char *name = NULL;

  if (self->path == NULL || self->chooser != NULL)
    return;
  chooser = gtk_file_chooser_native_new (csv ? _("Export Log as CSV") : _("Export Log as JSON"),
                                         GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
                                         _("_Cancel"));
  base = g_path_get_basename (self->path);
  if (g_str_has_suffix (base, ".log"))
    base[strlen (base) - 4] = '\0';
  name = g_strconcat (base, csv ? ".csv" : ".json", NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_object_set_data (G_OBJECT (chooser), "csv", GINT_TO_POINTER (csv));
  g_signal_connect (chooser, "response", G_CALLBACK (export_response_cb), self);
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  gtk_native_dialog_show (self->chooser);
}

static void
export_json_clicked_cb (SignetLogView *self)
{
  export (self, FALSE);
}

static void
export_csv_clicked_cb (SignetLogView *self)
{
  export (self, TRUE);
}

static void
uploaded_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(SignetLogView) self = user_data;
  g_autoptr(GError) error = NULL;

  gtk_widget_set_sensitive (GTK_WIDGET (self->upload_button), TRUE);
  if (!signet_session_upload_logs_finish (SIGNET_SESSION (source), result, &error))
    {
      g_autofree char *text = signet_ui_describe_error (error);
      g_autofree char *msg = g_strdup_printf (_("The log stays queued: %s"), text);

      toast (self, msg);
    }
  else
    toast (self, _("The service holds the session log"));
  start_read (self);
}

static void
upload_clicked_cb (SignetLogView *self)
{
  if (self->session == NULL ||
      signet_session_get_state (self->session) != SIGNET_SESSION_STATE_SIGNED_IN)
    return;
  gtk_widget_set_sensitive (GTK_WIDGET (self->upload_button), FALSE);
  signet_session_upload_logs_async (self->session, NULL, uploaded_cb, g_object_ref (self));
}

/* ---- GObject ------------------------------------------------------------ */

static void
session_notify_cb (SignetLogView *self)
{
  gboolean signed_in = self->session != NULL &&
    signet_session_get_state (self->session) == SIGNET_SESSION_STATE_SIGNED_IN;

  gtk_widget_set_sensitive (GTK_WIDGET (self->upload_button), signed_in);
  follow_log (self);
}

static void
signet_log_view_dispose (GObject *object)
{
  SignetLogView *self = SIGNET_LOG_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  signet_log_view_set_session (self, NULL);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  if (self->monitor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_file_monitor_cancel (self->monitor);
      g_clear_object (&self->monitor);
    }
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), SIGNET_TYPE_LOG_VIEW);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (signet_log_view_parent_class)->dispose (object);
}

static void
signet_log_view_finalize (GObject *object)
{
  SignetLogView *self = SIGNET_LOG_VIEW (object);

  g_clear_object (&self->cancellable);
  g_free (self->path);
  G_OBJECT_CLASS (signet_log_view_parent_class)->finalize (object);
}

static void
signet_log_view_class_init (SignetLogViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_log_view_dispose;
  object_class->finalize = signet_log_view_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/signet/Signet/signet-log-view.ui");
  gtk_widget_class_bind_template_child (widget_class, SignetLogView, status_icon);
  gtk_widget_class_bind_template_child (widget_class, SignetLogView, status_label);
  gtk_widget_class_bind_template_child (widget_class, SignetLogView, upload_button);
  gtk_widget_class_bind_template_child (widget_class, SignetLogView, export_json_button);
  gtk_widget_class_bind_template_child (widget_class, SignetLogView, export_csv_button);
  gtk_widget_class_bind_template_child (widget_class, SignetLogView, stack);
  gtk_widget_class_bind_template_child (widget_class, SignetLogView, scrolled);
  gtk_widget_class_bind_template_child (widget_class, SignetLogView, list_view);
  gtk_widget_class_bind_template_callback (widget_class, upload_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, export_json_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, export_csv_clicked_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
signet_log_view_init (SignetLogView *self)
{
  GtkListItemFactory *factory;

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->store = g_list_store_new (SIGNET_TYPE_LOG_ENTRY);
  gtk_list_view_set_model (self->list_view,
                           GTK_SELECTION_MODEL (gtk_no_selection_new (
                             G_LIST_MODEL (g_object_ref (self->store)))));
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), NULL);
  gtk_list_view_set_factory (self->list_view, factory);
  g_object_unref (factory);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_json_button), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->export_csv_button), FALSE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->upload_button), FALSE);
  signet_ui_label_set_text (self->status_label, _("Log Status"), _("No session log yet"));
}

void
signet_log_view_set_session (SignetLogView *self,
                             SignetSession *session)
{
  g_return_if_fail (SIGNET_IS_LOG_VIEW (self));

  if (self->session == session)
    return;
  if (self->session != NULL)
    g_clear_signal_handler (&self->notify_id, self->session);
  g_set_object (&self->session, session);
  if (session != NULL)
    {
      self->notify_id = g_signal_connect_swapped (session, "notify",
                                                  G_CALLBACK (session_notify_cb), self);
      session_notify_cb (self);
    }
}

void
signet_log_view_refresh (SignetLogView *self)
{
  g_return_if_fail (SIGNET_IS_LOG_VIEW (self));

  start_read (self);
}
