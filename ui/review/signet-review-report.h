/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-review-report.h: the printable report of a log (GtkPrintOperation):
 * the verdict, a summary, the chart, the device receipts and the start
 * of the timeline (the whole log is for the CSV and JSON exports: a
 * million records would be twenty thousand pages).
 */
#pragma once

#include <gtk/gtk.h>

#include "signet-review-log-model.h"

G_BEGIN_DECLS

/* Most timeline rows and receipts a report lists. */
#define SIGNET_REVIEW_REPORT_MAX_EVENTS 500
#define SIGNET_REVIEW_REPORT_MAX_RECEIPTS 200

/* The report as Pango markup (what the pages show below the chart).
 * Returns: (transfer full) */
char *signet_review_report_markup (SignetReviewLogModel *model,
                                   const char           *title,
                                   const char           *verdict);

/* Print the report with the print dialog (pdf NULL), or write it to pdf
 * without a dialog (export-filename). */
void  signet_review_report_run    (GtkWidget            *parent,
                                   SignetReviewLogModel *model,
                                   const char           *title,
                                   const char           *verdict,
                                   GFile                *pdf);

G_END_DECLS
