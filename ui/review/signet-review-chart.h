/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-review-chart.h: events over time as stacked bars, coloured by
 * category, drawn with GtkSnapshot from the log model's per-minute
 * histogram (never from the records themselves).
 */
#pragma once

#include <gtk/gtk.h>

#include "signet-review-log-model.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_REVIEW_CHART (signet_review_chart_get_type ())
G_DECLARE_FINAL_TYPE (SignetReviewChart, signet_review_chart, SIGNET, REVIEW_CHART, GtkWidget)

GtkWidget *signet_review_chart_new       (void);
/* Follow model (nullable) as it indexes. */
void       signet_review_chart_set_model (SignetReviewChart    *self,
                                          SignetReviewLogModel *model);
/* The category's colour (for legends and the printed report). */
void       signet_review_chart_get_category_color (SignetReviewCategory  category,
                                                   GdkRGBA              *out);
/* Translated name of a category. */
const char *signet_review_category_get_name (SignetReviewCategory category);

/* Bars for width pixels: count[i * N_CATEGORIES + c] for bar i of
 * *n_bars, each spanning *minutes_per_bar minutes from *first_minute.
 * Returns: (transfer full) */
guint64   *signet_review_chart_compute_bars (const SignetReviewBucket *buckets,
                                             guint                     n_buckets,
                                             guint                     max_bars,
                                             guint                    *n_bars,
                                             gint64                   *first_minute,
                                             gint64                   *minutes_per_bar);

G_END_DECLS
