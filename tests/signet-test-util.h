/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-test-util.h: helpers shared by the unit tests (never by the
 * product). They assert instead of returning errors: a bad fixture is a
 * bug in the test.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Hex digits (upper or lower case; spaces ignored) to a new GBytes. */
GBytes *signet_test_hex       (const char *hex);

/* Hex digits that must decode to exactly len bytes, into out. */
void    signet_test_hex_fill  (const char *hex,
                               guint8     *out,
                               gsize       len);

G_END_DECLS
