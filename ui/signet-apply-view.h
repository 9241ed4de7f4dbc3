/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-apply-view.h: applying a profile to a device (docs/app.md
 * "Apply profile"): the profiles the service has for the device's model;
 * a form made from the chosen profile's fields (validated as you type;
 * secret fields shown as sealed by the service, never visible); a diff
 * of current and new values; the steps (authorize, seal, transfer,
 * health check, verify) with a progress bar and Cancel; the device's
 * signed receipt with Commit and Roll Back. A step-up (a fresh code) is
 * asked when the service or the device wants one, then the step is run
 * again. Signal "finished" (): back to the device page.
 */
#pragma once

#include <gtk/gtk.h>

#include "signet-device.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_APPLY_VIEW (signet_apply_view_get_type ())
G_DECLARE_FINAL_TYPE (SignetApplyView, signet_apply_view, SIGNET, APPLY_VIEW, GtkWidget)

/* Start over for device (connected, attested), fetching its profiles. */
void     signet_apply_view_start   (SignetApplyView *self,
                                    SignetSession   *session,
                                    SignetDevice    *device);
/* TRUE while a command is under way or a staged change waits for commit
 * or rollback. */
gboolean signet_apply_view_is_busy (SignetApplyView *self);

G_END_DECLS
