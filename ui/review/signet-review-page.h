/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-review-page.h: the supervisor's Review view (issue 6, "For the
 * supervisor"; docs/review.md).
 *
 * With a signed-in session whose token has the log.read scope
 * (supervisors, admins): a sidebar searches the service's logs (GET
 * /v1/logs) by technician, device, time and outcome, and opens one (GET
 * /v1/logs/{id}). Without one (any user): open a log file. Either way
 * the page shows a verdict banner, the timeline, a chart of events over
 * time and the device receipts, and exports CSV, JSON and a PDF report
 * or prints it.
 *
 * Actions (group "review"), for the shell's menus and shortcuts:
 * review.open (Ctrl+O), review.search, review.export-csv,
 * review.export-json, review.export-pdf, review.print (Ctrl+P),
 * review.show-record (scroll to the record the verdict names).
 */
#pragma once

#include <adwaita.h>

#include "signet-session.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_REVIEW_PAGE (signet_review_page_get_type ())
G_DECLARE_FINAL_TYPE (SignetReviewPage, signet_review_page, SIGNET, REVIEW_PAGE, AdwBin)

/* session: (nullable): NULL for a file-only view.
 * Returns: (transfer floating) */
GtkWidget     *signet_review_page_new         (SignetSession    *session);

/* Open a local log file (mapped, indexed in the background) and check
 * its chain (signet_event_log_check_chain: no key on this computer). */
void           signet_review_page_open_file   (SignetReviewPage *self,
                                               GFile            *file);
/* Fetch and show the service's log id (needs a signed-in supervisor). */
void           signet_review_page_open_log    (SignetReviewPage *self,
                                               const char       *id);

/* Returns: (transfer none) (nullable) */
SignetSession *signet_review_page_get_session (SignetReviewPage *self);
void           signet_review_page_set_session (SignetReviewPage *self,
                                               SignetSession    *session);

G_END_DECLS
