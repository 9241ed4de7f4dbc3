/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-review-report.c: the printed or PDF report of a log.
 *
 * The text is laid out once with Pango at the page width; begin-print
 * cuts it into pages at line boundaries (the first page keeps room for
 * the chart) and draw-page paints one page's lines.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "signet-review-chart.h"
#include "signet-review-report.h"

#define CHART_HEIGHT 160.0
#define FONT "Sans 9"

typedef struct {
  SignetReviewLogModel *model;
  char *markup;
  PangoLayout *layout;
  GArray *page_starts;   /* int: first line of each page */
  double chart_height;
} Report;

static void
report_free (Report *r)
{
  g_object_unref (r->model);
  g_free (r->markup);
  g_clear_object (&r->layout);
  g_clear_pointer (&r->page_starts, g_array_unref);
  g_free (r);
}

static char *
fmt_time (guint64 time_ms)
{
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *s = NULL;

  if (time_ms / 1000 > (guint64) G_MAXINT64 / 2 ||
      (dt = g_date_time_new_from_unix_local ((gint64) (time_ms / 1000))) == NULL)
    return g_strdup ("?");
  s = g_date_time_format (dt, "%Y-%m-%d %H:%M:%S");
  return g_strdup_printf ("%s.%03u", s, (guint) (time_ms % 1000));
}

static void
append_event (GString           *out,
              SignetReviewEvent *event)
{
  SignetEventRecord *record = signet_review_event_get_record (event);
  g_autofree char *time_s = NULL, *data = NULL, *line = NULL;

  if (record == NULL)
    {
      line = g_markup_printf_escaped ("%u  %s\n", signet_review_event_get_position (event),
                                      signet_review_event_get_problem (event));
      g_string_append (out, line);
      return;
    }
  time_s = fmt_time (signet_event_record_get_time_ms (record));
  data = signet_event_record_data_to_json (record);
  if (g_utf8_strlen (data, -1) > 200)
    {
      g_autofree char *cut = g_utf8_substring (data, 0, 199);

      g_free (data);
      data = g_strconcat (cut, "…", NULL);
    }
  line = g_markup_printf_escaped ("<tt>%6u</tt>  %s  <b>%s</b>  %s  <span size=\"small\">%s</span>\n",
                                  signet_review_event_get_position (event), time_s,
                                  signet_event_record_get_record_type (record),
                                  signet_event_record_get_device (record) != NULL
                                  ? signet_event_record_get_device (record)
                                  : signet_event_record_get_actor (record),
                                  data);
  g_string_append (out, line);
}

char *
signet_review_report_markup (SignetReviewLogModel *model,
                             const char           *title,
                             const char           *verdict)
{
  GString *out = g_string_new (NULL);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (model));
  guint n_receipts = 0, shown;
  const guint *receipts = signet_review_log_model_get_receipts (model, &n_receipts);
  g_autofree char *first = fmt_time (signet_review_log_model_get_first_time (model));
  g_autofree char *last = fmt_time (signet_review_log_model_get_last_time (model));
  g_autofree char *head = NULL, *summary = NULL, *now_s = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  now_s = g_date_time_format (now, "%Y-%m-%d %H:%M");
  head = g_markup_printf_escaped ("<span size=\"x-large\" weight=\"bold\">%s</span>\n%s\n\n"
                                  "<b>%s</b>\n%s\n\n",
                                  title != NULL ? title : _("Event Log"),
                                  now_s, _("Verdict"), verdict != NULL ? verdict : "");
  g_string_append (out, head);
  /* Translators: a report's summary: records, first and last time */
  summary = g_markup_printf_escaped (_("%'u records, from %s to %s."), n, first, last);
  g_string_append_printf (out, "<b>%s</b>\n%s\n", _("Summary"), summary);
  for (guint c = 0; c < SIGNET_REVIEW_N_CATEGORIES; c++)
    {
      g_autofree char *line =
        g_markup_printf_escaped ("%s: %'" G_GUINT64_FORMAT "\n", signet_review_category_get_name (c),
                                 signet_review_log_model_get_category_count (model, c));

      g_string_append (out, line);
    }

  g_string_append_printf (out, "\n<b>%s</b>\n", _("Device Receipts"));
  if (n_receipts == 0)
    g_string_append_printf (out, "%s\n", _("None."));
  shown = MIN (n_receipts, SIGNET_REVIEW_REPORT_MAX_RECEIPTS);
  for (guint i = 0; i < shown; i++)
    {
      g_autoptr(SignetReviewEvent) event = signet_review_log_model_get_event (model, receipts[i]);

      if (event != NULL)
        append_event (out, event);
    }
  if (shown < n_receipts)
    g_string_append_printf (out, _("…and %'u more (see the CSV or JSON export).\n"),
                            n_receipts - shown);

  shown = MIN (n, SIGNET_REVIEW_REPORT_MAX_EVENTS);
  g_string_append_printf (out, "\n<b>%s</b>\n", _("Timeline"));
  for (guint i = 0; i < shown; i++)
    {
      g_autoptr(SignetReviewEvent) event = signet_review_log_model_get_event (model, i);

      if (event != NULL)
        append_event (out, event);
    }
  if (shown < n)
    g_string_append_printf (out, _("…and %'u more records (see the CSV or JSON export).\n"),
                            n - shown);
  return g_string_free (out, FALSE);
}

static void
begin_print (GtkPrintOperation *op,
             GtkPrintContext   *context,
             Report            *r)
{
  g_autoptr(PangoFontDescription) font = pango_font_description_from_string (FONT);
  double page_h = gtk_print_context_get_height (context);
  double used;
  int n_lines, page_first = 0;
  PangoLayoutIter *iter;

  r->layout = gtk_print_context_create_pango_layout (context);
  pango_layout_set_font_description (r->layout, font);
  pango_layout_set_width (r->layout, (int) (gtk_print_context_get_width (context) * PANGO_SCALE));
  pango_layout_set_wrap (r->layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_markup (r->layout, r->markup, -1);
  r->chart_height = MIN (CHART_HEIGHT, page_h / 3);

  r->page_starts = g_array_new (FALSE, FALSE, sizeof (int));
  g_array_append_val (r->page_starts, page_first);
  n_lines = pango_layout_get_line_count (r->layout);
  used = r->chart_height + 12;
  iter = pango_layout_get_iter (r->layout);
  for (int line = 0; line < n_lines; line++)
    {
      PangoRectangle logical;
      double h;

      pango_layout_iter_get_line_extents (iter, NULL, &logical);
      h = (double) logical.height / PANGO_SCALE;
      if (used + h > page_h && line > page_first)
        {
          page_first = line;
          g_array_append_val (r->page_starts, page_first);
          used = 0;
        }
      used += h;
      pango_layout_iter_next_line (iter);
    }
  pango_layout_iter_free (iter);
  gtk_print_operation_set_n_pages (op, (int) r->page_starts->len);
}

static void
draw_chart (cairo_t              *cr,
            SignetReviewLogModel *model,
            double                width,
            double                height)
{
  const SignetReviewBucket *b;
  g_autofree guint64 *bars = NULL;
  guint n = 0, n_bars = 0;
  gint64 first, per;
  guint64 max = 0;
  double bar_w;

  b = signet_review_log_model_get_histogram (model, &n);
  bars = signet_review_chart_compute_bars (b, n, 200, &n_bars, &first, &per);
  for (guint i = 0; i < n_bars; i++)
    {
      guint64 sum = 0;

      for (guint c = 0; c < SIGNET_REVIEW_N_CATEGORIES; c++)
        sum += bars[i * SIGNET_REVIEW_N_CATEGORIES + c];
      max = MAX (max, sum);
    }
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  cairo_rectangle (cr, 0, height - 1, width, 1);
  cairo_fill (cr);
  if (n_bars == 0 || max == 0)
    return;
  bar_w = width / n_bars;
  for (guint i = 0; i < n_bars; i++)
    {
      double y = height - 1;

      for (guint c = 0; c < SIGNET_REVIEW_N_CATEGORIES; c++)
        {
          guint64 v = bars[i * SIGNET_REVIEW_N_CATEGORIES + c];
          double h = (double) v / (double) max * (height - 8);
          GdkRGBA color;

          if (v == 0)
            continue;
          signet_review_chart_get_category_color (c, &color);
          gdk_cairo_set_source_rgba (cr, &color);
          y -= h;
          cairo_rectangle (cr, i * bar_w, y, MAX (bar_w - 0.5, 0.5), h);
          cairo_fill (cr);
        }
    }
}

static void
draw_page (GtkPrintOperation *op,
           GtkPrintContext   *context,
           int                page_nr,
           Report            *r)
{
  cairo_t *cr = gtk_print_context_get_cairo_context (context);
  int first = g_array_index (r->page_starts, int, page_nr);
  int end = (guint) page_nr + 1 < r->page_starts->len
            ? g_array_index (r->page_starts, int, page_nr + 1)
            : pango_layout_get_line_count (r->layout);
  double y0 = 0, top = -1;
  PangoLayoutIter *iter;
  int line = 0;

  if (page_nr == 0)
    {
      /* The chart after the heading would split the text; it goes on
       * top, the text below it. */
      cairo_save (cr);
      draw_chart (cr, r->model, gtk_print_context_get_width (context), r->chart_height);
      cairo_restore (cr);
      y0 = r->chart_height + 12;
    }
  cairo_set_source_rgb (cr, 0, 0, 0);
  iter = pango_layout_get_iter (r->layout);
  do
    {
      if (line >= first && line < end)
        {
          PangoLayoutLine *pl = pango_layout_iter_get_line_readonly (iter);
          PangoRectangle logical;
          int baseline = pango_layout_iter_get_baseline (iter);

          pango_layout_iter_get_line_extents (iter, NULL, &logical);
          if (top < 0)
            top = (double) logical.y / PANGO_SCALE;
          cairo_move_to (cr, (double) logical.x / PANGO_SCALE,
                         y0 + (double) baseline / PANGO_SCALE - top);
          pango_cairo_show_layout_line (cr, pl);
        }
      line++;
    }
  while (line < end && pango_layout_iter_next_line (iter));
  pango_layout_iter_free (iter);
}

static void
print_done (GtkPrintOperation       *op,
            GtkPrintOperationResult  result,
            gpointer                 user_data)
{
  g_autoptr(GError) error = NULL;

  if (result == GTK_PRINT_OPERATION_RESULT_ERROR)
    {
      gtk_print_operation_get_error (op, &error);
      g_warning ("Printing failed: %s", error != NULL ? error->message : "?");
    }
}

void
signet_review_report_run (GtkWidget            *parent,
                          SignetReviewLogModel *model,
                          const char           *title,
                          const char           *verdict,
                          GFile                *pdf)
{
  g_autoptr(GtkPrintOperation) op = gtk_print_operation_new ();
  g_autoptr(GError) error = NULL;
  GtkRoot *root = gtk_widget_get_root (parent);
  Report *r = g_new0 (Report, 1);

  r->model = g_object_ref (model);
  r->markup = signet_review_report_markup (model, title, verdict);
  g_object_set_data_full (G_OBJECT (op), "signet-report", r, (GDestroyNotify) report_free);
  gtk_print_operation_set_job_name (op, title != NULL ? title : _("Event Log"));
  gtk_print_operation_set_embed_page_setup (op, TRUE);
  gtk_print_operation_set_unit (op, GTK_UNIT_POINTS);
  g_signal_connect (op, "begin-print", G_CALLBACK (begin_print), r);
  g_signal_connect (op, "draw-page", G_CALLBACK (draw_page), r);
  g_signal_connect (op, "done", G_CALLBACK (print_done), NULL);
  if (pdf != NULL)
    {
      g_autofree char *path = g_file_get_path (pdf);

      if (path == NULL)
        {
          g_warning ("Cannot export a PDF to a non-local file");
          return;
        }
      gtk_print_operation_set_export_filename (op, path);
      gtk_print_operation_run (op, GTK_PRINT_OPERATION_ACTION_EXPORT, NULL, &error);
    }
  else
    gtk_print_operation_run (op, GTK_PRINT_OPERATION_ACTION_PRINT_DIALOG,
                             GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, &error);
  if (error != NULL)
    g_warning ("Printing failed: %s", error->message);
}
