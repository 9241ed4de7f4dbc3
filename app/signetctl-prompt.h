/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl-prompt.h: asking the technician for a password or a code.
 *
 * Prompts go to the controlling terminal (/dev/tty), never to stdout or
 * stderr, and read with echo off, so that neither a pipe nor a terminal
 * log keeps what was typed. What is read is returned in a string to free
 * with signet_secret_string_free () (g_auto(SignetSecretString)).
 * Errors: SIGNETCTL_ERROR_USAGE when there is no terminal to ask on.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE if /dev/tty can be opened for reading and writing. */
gboolean signetctl_prompt_have_tty (void);

/* Ask on /dev/tty, echo off. Returns: (transfer full) (nullable) */
char    *signetctl_prompt_secret   (const char  *prompt,
                                    GError     **error);

/* One line of standard input, without its line end (--password-stdin).
 * Returns: (transfer full) (nullable) */
char    *signetctl_prompt_stdin    (GError     **error);

G_END_DECLS
