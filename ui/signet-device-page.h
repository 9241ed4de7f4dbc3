/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-device-page.h: one device (docs/app.md "Device page"): its
 * identity, the attestation result with the certificate's fingerprint,
 * firmware and configuration versions, the current non-secret
 * configuration (READ), and "Apply Profile…" (SignetApplyView). Showing
 * a device connects to it (open, HELLO, ATTEST, REVOCATION, AUTHORIZE,
 * READ). Signal "back" (): the back button of the folded layout.
 */
#pragma once

#include <gtk/gtk.h>

#include "signet-device.h"

G_BEGIN_DECLS

#define SIGNET_TYPE_DEVICE_PAGE (signet_device_page_get_type ())
G_DECLARE_FINAL_TYPE (SignetDevicePage, signet_device_page, SIGNET, DEVICE_PAGE, GtkWidget)

void signet_device_page_set_session   (SignetDevicePage *self,
                                       SignetSession    *session);
/* device (nullable): the page shows it and connects. */
void signet_device_page_set_device    (SignetDevicePage *self,
                                       SignetDevice     *device);
void signet_device_page_set_show_back (SignetDevicePage *self,
                                       gboolean          show_back);

G_END_DECLS
