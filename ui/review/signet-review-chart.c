/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-review-chart.c: a stacked bar chart of events over time.
 *
 * The log model counts events per minute and category while it indexes,
 * so a million events are a few hundred buckets here: a redraw folds
 * them into at most one bar per 6 px and never touches a record.
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "signet-review-chart.h"

#define BAR_PX 6
#define MARGIN_LEFT 48
#define MARGIN_BOTTOM 40
#define MARGIN_TOP 8

struct _SignetReviewChart {
  GtkWidget parent_instance;
  SignetReviewLogModel *model;
};

G_DEFINE_FINAL_TYPE (SignetReviewChart, signet_review_chart, GTK_TYPE_WIDGET)

static const char * const category_colors[SIGNET_REVIEW_N_CATEGORIES] = {
  [SIGNET_REVIEW_CATEGORY_SESSION] = "#3584e4",   /* GNOME blue 3 */
  [SIGNET_REVIEW_CATEGORY_DEVICE] = "#33d17a",    /* green 3 */
  [SIGNET_REVIEW_CATEGORY_RECEIPT] = "#9141ac",   /* purple 3 */
  [SIGNET_REVIEW_CATEGORY_ERROR] = "#e01b24",     /* red 3 */
  [SIGNET_REVIEW_CATEGORY_SEAL] = "#9a9996",      /* light 5 */
  [SIGNET_REVIEW_CATEGORY_OTHER] = "#f6d32d",     /* yellow 3 */
};

void
signet_review_chart_get_category_color (SignetReviewCategory  category,
                                        GdkRGBA              *out)
{
  g_return_if_fail (category < SIGNET_REVIEW_N_CATEGORIES);
  gdk_rgba_parse (out, category_colors[category]);
}

const char *
signet_review_category_get_name (SignetReviewCategory category)
{
  switch (category)
    {
    case SIGNET_REVIEW_CATEGORY_SESSION: return _("Session");
    case SIGNET_REVIEW_CATEGORY_DEVICE: return _("Device");
    case SIGNET_REVIEW_CATEGORY_RECEIPT: return _("Receipt");
    case SIGNET_REVIEW_CATEGORY_ERROR: return _("Error");
    /* Translators: a seal record of the event log */
    case SIGNET_REVIEW_CATEGORY_SEAL: return _("Seal");
    case SIGNET_REVIEW_CATEGORY_OTHER:
    case SIGNET_REVIEW_N_CATEGORIES:
    default: return _("Other");
    }
}

guint64 *
signet_review_chart_compute_bars (const SignetReviewBucket *buckets,
                                  guint                     n_buckets,
                                  guint                     max_bars,
                                  guint                    *n_bars,
                                  gint64                   *first_minute,
                                  gint64                   *minutes_per_bar)
{
  gint64 span, per;
  guint n;
  guint64 *bars;

  if (n_buckets == 0 || max_bars == 0)
    {
      *n_bars = 0;
      *first_minute = 0;
      *minutes_per_bar = 1;
      return g_new0 (guint64, SIGNET_REVIEW_N_CATEGORIES);
    }
  /* Buckets are sorted by minute. */
  span = buckets[n_buckets - 1].minute - buckets[0].minute + 1;
  per = (span + max_bars - 1) / max_bars;
  if (per < 1)
    per = 1;
  n = (guint) ((span + per - 1) / per);
  bars = g_new0 (guint64, (gsize) n * SIGNET_REVIEW_N_CATEGORIES);
  for (guint i = 0; i < n_buckets; i++)
    {
      guint bar = (guint) ((buckets[i].minute - buckets[0].minute) / per);

      for (guint c = 0; c < SIGNET_REVIEW_N_CATEGORIES; c++)
        bars[bar * SIGNET_REVIEW_N_CATEGORIES + c] += buckets[i].counts[c];
    }
  *n_bars = n;
  *first_minute = buckets[0].minute;
  *minutes_per_bar = per;
  return bars;
}

static char *
format_minute (gint64 minute)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (minute * 60);

  return dt != NULL ? g_date_time_format (dt, "%x %H:%M") : g_strdup ("?");
}

static void
update_description (SignetReviewChart *self)
{
  const SignetReviewBucket *b;
  guint n = 0, peak_i = 0;
  guint64 total = 0, peak = 0;
  g_autofree char *from = NULL, *to = NULL, *at = NULL, *text = NULL;
  g_autofree char *total_s = NULL, *peak_s = NULL;

  b = self->model != NULL ? signet_review_log_model_get_histogram (self->model, &n) : NULL;
  if (n == 0)
    {
      gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                      _("No events"), -1);
      return;
    }
  for (guint i = 0; i < n; i++)
    {
      guint64 sum = 0;

      for (guint c = 0; c < SIGNET_REVIEW_N_CATEGORIES; c++)
        sum += b[i].counts[c];
      total += sum;
      if (sum > peak)
        {
          peak = sum;
          peak_i = i;
        }
    }
  from = format_minute (b[0].minute);
  to = format_minute (b[n - 1].minute);
  at = format_minute (b[peak_i].minute);
  total_s = g_strdup_printf ("%'" G_GUINT64_FORMAT, total);
  peak_s = g_strdup_printf ("%'" G_GUINT64_FORMAT, peak);
  /* Translators: the accessible description of the chart: events, first
   * and last minute, the most events in one minute, and that minute */
  text = g_strdup_printf (_("%s events from %s to %s; at most %s in one minute, at %s"),
                          total_s, from, to, peak_s, at);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  text, -1);
}

static void
histogram_changed (SignetReviewChart *self)
{
  update_description (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* The foreground colour (gtk_widget_get_color is GTK 4.10). */
static void
get_fg (GtkWidget *widget,
        GdkRGBA   *out)
{
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), out);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

static void
draw_text (GtkWidget   *widget,
           GtkSnapshot *snapshot,
           const char  *text,
           float        x,
           float        y,
           gboolean     right_align)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (widget, text);
  GdkRGBA fg;
  int w, h;

  get_fg (widget, &fg);
  pango_layout_get_pixel_size (layout, &w, &h);
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (right_align ? x - w : x, y));
  gtk_snapshot_append_layout (snapshot, layout, &fg);
  gtk_snapshot_restore (snapshot);
}

static void
signet_review_chart_snapshot (GtkWidget   *widget,
                              GtkSnapshot *snapshot)
{
  SignetReviewChart *self = SIGNET_REVIEW_CHART (widget);
  const SignetReviewBucket *b;
  g_autofree guint64 *bars = NULL;
  g_autofree char *left = NULL, *right = NULL, *top = NULL, *max_s = NULL;
  guint n = 0, n_bars = 0;
  gint64 first, per;
  guint64 max = 0;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  float plot_w = width - MARGIN_LEFT - 8, plot_h = height - MARGIN_BOTTOM - MARGIN_TOP;
  float bar_w, lx;
  GdkRGBA fg, axis;

  if (plot_w <= 0 || plot_h <= 0)
    return;
  b = self->model != NULL ? signet_review_log_model_get_histogram (self->model, &n) : NULL;
  bars = signet_review_chart_compute_bars (b, n, (guint) (plot_w / BAR_PX), &n_bars, &first,
                                           &per);
  for (guint i = 0; i < n_bars; i++)
    {
      guint64 sum = 0;

      for (guint c = 0; c < SIGNET_REVIEW_N_CATEGORIES; c++)
        sum += bars[i * SIGNET_REVIEW_N_CATEGORIES + c];
      max = MAX (max, sum);
    }

  get_fg (widget, &fg);
  axis = fg;
  axis.alpha = 0.3f;
  gtk_snapshot_append_color (snapshot, &axis,
                             &GRAPHENE_RECT_INIT (MARGIN_LEFT, MARGIN_TOP + plot_h, plot_w, 1));
  gtk_snapshot_append_color (snapshot, &axis,
                             &GRAPHENE_RECT_INIT (MARGIN_LEFT - 1, MARGIN_TOP, 1, plot_h));
  if (n_bars == 0 || max == 0)
    return;

  bar_w = plot_w / n_bars;
  for (guint i = 0; i < n_bars; i++)
    {
      float y = MARGIN_TOP + plot_h;

      for (guint c = 0; c < SIGNET_REVIEW_N_CATEGORIES; c++)
        {
          guint64 v = bars[i * SIGNET_REVIEW_N_CATEGORIES + c];
          float h = (float) v / (float) max * plot_h;
          GdkRGBA color;

          if (v == 0)
            continue;
          signet_review_chart_get_category_color (c, &color);
          y -= h;
          gtk_snapshot_append_color (snapshot, &color,
                                     &GRAPHENE_RECT_INIT (MARGIN_LEFT + i * bar_w, y,
                                                          MAX (bar_w - 1, 1), h));
        }
    }

  /* Axis labels: the peak, the first and last minute, and the legend. */
  /* Translators: the chart's y axis, events per bar of N minutes */
  max_s = g_strdup_printf ("%'" G_GUINT64_FORMAT, max);
  top = g_strdup_printf (per == 1 ? _("%s/min") : _("%s/bar"), max_s);
  draw_text (widget, snapshot, top, MARGIN_LEFT - 4, MARGIN_TOP, TRUE);
  left = format_minute (first);
  right = format_minute (first + (gint64) n_bars * per - 1);
  draw_text (widget, snapshot, left, MARGIN_LEFT, MARGIN_TOP + plot_h + 2, FALSE);
  draw_text (widget, snapshot, right, MARGIN_LEFT + plot_w, MARGIN_TOP + plot_h + 2, TRUE);
  lx = MARGIN_LEFT;
  for (guint c = 0; c < SIGNET_REVIEW_N_CATEGORIES; c++)
    {
      g_autoptr(PangoLayout) layout =
        gtk_widget_create_pango_layout (widget, signet_review_category_get_name (c));
      GdkRGBA color;
      int w, h;

      pango_layout_get_pixel_size (layout, &w, &h);
      signet_review_chart_get_category_color (c, &color);
      gtk_snapshot_append_color (snapshot, &color,
                                 &GRAPHENE_RECT_INIT (lx, height - h + (h - 10) / 2.f, 10, 10));
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (lx + 14, height - h));
      gtk_snapshot_append_layout (snapshot, layout, &fg);
      gtk_snapshot_restore (snapshot);
      lx += 14 + w + 16;
    }
}

static void
signet_review_chart_measure (GtkWidget      *widget,
                             GtkOrientation  orientation,
                             int             for_size,
                             int            *minimum,
                             int            *natural,
                             int            *minimum_baseline,
                             int            *natural_baseline)
{
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 200;
      *natural = 600;
    }
  else
    {
      *minimum = 160;
      *natural = 260;
    }
}

static void
signet_review_chart_dispose (GObject *object)
{
  signet_review_chart_set_model (SIGNET_REVIEW_CHART (object), NULL);
  G_OBJECT_CLASS (signet_review_chart_parent_class)->dispose (object);
}

static void
signet_review_chart_class_init (SignetReviewChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = signet_review_chart_dispose;
  widget_class->snapshot = signet_review_chart_snapshot;
  widget_class->measure = signet_review_chart_measure;
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
  gtk_widget_class_set_css_name (widget_class, "signet-review-chart");
}

static void
signet_review_chart_init (SignetReviewChart *self)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Events over time"), -1);
  update_description (self);
}

GtkWidget *
signet_review_chart_new (void)
{
  return g_object_new (SIGNET_TYPE_REVIEW_CHART, NULL);
}

void
signet_review_chart_set_model (SignetReviewChart    *self,
                               SignetReviewLogModel *model)
{
  g_return_if_fail (SIGNET_IS_REVIEW_CHART (self));

  if (self->model == model)
    return;
  if (self->model != NULL)
    g_signal_handlers_disconnect_by_data (self->model, self);
  g_set_object (&self->model, model);
  if (model != NULL)
    g_signal_connect_swapped (model, "notify::histogram-serial",
                              G_CALLBACK (histogram_changed), self);
  histogram_changed (self);
}
