/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-ui-util.h: small helpers the pages share: wording of errors,
 * roles and times for people, event icons.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* "14:05" (minutes:seconds) or "1:02:03"; negative counts as 0.
 * Returns: (transfer full) */
char       *signet_ui_format_countdown (gint64        seconds);
/* A role as people read it ("Technician"); unknown roles as they are. */
const char *signet_ui_role_label       (const char   *role);
/* TRUE for the roles that may review logs (supervisor, admin). */
gboolean    signet_ui_role_can_review  (const char   *role);
/* TRUE for an error that a fresh code (step-up) cures: the service's
 * STEP_UP_REQUIRED or the device's STEP_UP. */
gboolean    signet_ui_error_is_step_up (const GError *error);
/* A sentence for the technician about error (the core's messages are
 * written for people; this adds what to do for the common cases).
 * Returns: (transfer full) */
char       *signet_ui_describe_error   (const GError *error);
/* The symbolic icon of an event-log record type ("device.apply"). */
const char *signet_ui_event_icon       (const char   *type);
/* A record type for people ("Change applied"); unknown ones as they are. */
const char *signet_ui_event_label      (const char   *type);
/* Local time of a Unix time in ms, "14:05:09". Returns: (transfer full) */
char       *signet_ui_format_time_ms   (guint64       time_ms);
/* Lower-case hex of bytes (NULL: NULL). Returns: (transfer full) (nullable) */
char       *signet_ui_hex              (GBytes       *bytes);
/* "ab:cd:…" grouped for reading, wrapped every 16 bytes.
 * Returns: (transfer full) */
char       *signet_ui_group_hex        (const char   *hex);
/* The string form of a GVariant value of a configuration (s, x, i, b).
 * Returns: (transfer full) */
char       *signet_ui_value_to_string  (GVariant     *value);

/* A BLE signal strength for people: "Strong", "Good", "Fair", "Weak" (the
 * thresholds are rough: RSSI depends on the antennas and the room), or
 * "Unknown" for G_MININT16; and a network-cellular-signal-*-symbolic icon. */
const char *signet_ui_signal_label     (gint          rssi);
const char *signet_ui_signal_icon      (gint          rssi);
/* "−67 dBm", or "" for G_MININT16. Returns: (transfer full) */
char       *signet_ui_format_dbm       (gint          rssi);
/* "Good (−67 dBm)", or "Unknown". Returns: (transfer full) */
char       *signet_ui_format_signal    (gint          rssi);

/* Give widget an accessible label (what AT-SPI names it). */
void        signet_ui_set_accessible_label (GtkWidget  *widget,
                                            const char *label);

/* Set a label's text and keep its accessible name: GTK 4.8 replaces a
 * label's name with its text on every set_text, so a label that tests
 * and screen readers know by name ("Time Left") gets the name back and
 * the text as its description. */
void        signet_ui_label_set_text   (GtkLabel   *label,
                                        const char *name,
                                        const char *text);

/* Give every button under widget (widget included) whose label has a
 * mnemonic the accessible name of its label without the underscore (GTK
 * 4.8 names it "_Commit Commit"). */
void        signet_ui_fix_accessible_names (GtkWidget *widget);

G_END_DECLS
