/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-output.h: what signetctl prints.
 *
 * Text for people on stdout; notes and progress on stderr (none with
 * --quiet). With --json, stdout gets exactly one JSON object per run,
 * the result or {"error": {"domain", "code", "name", "message"}}, and
 * nothing else.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

void      signetctl_output_init      (gboolean json,
                                      gboolean quiet);
gboolean  signetctl_output_is_json   (void);
gboolean  signetctl_output_is_quiet  (void);

/* Text on stdout (nothing with --json). */
void      signetctl_print            (const char *format,
                                      ...) G_GNUC_PRINTF (1, 2);
/* A note on stderr (nothing with --quiet). */
void      signetctl_note             (const char *format,
                                      ...) G_GNUC_PRINTF (1, 2);

/* "DEVICE: step 50%" on stderr, in place, when it is a terminal (and not
 * --quiet); progress_clear erases the line after the last one. */
void      signetctl_output_progress       (const char *device,
                                           const char *step,
                                           double      fraction);
void      signetctl_output_progress_clear (void);

/* With --json, print object (a JSON object node; taken). Without, drop it. */
void      signetctl_output_json      (JsonNode   *object);

/* GVariant (a{sv}, aa{sv}, ...) as JSON. Returns: (transfer full) */
JsonNode *signetctl_variant_to_json  (GVariant   *value);

/* Report error (stderr, or the JSON error object) and return its exit
 * status (signetctl-error.h). */
int       signetctl_output_error     (const GError *error);

G_END_DECLS
