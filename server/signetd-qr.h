/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetd-qr.h: QR codes of otpauth:// URIs for enrolment (libqrencode).
 *
 * In the terminal with Unicode half blocks (two modules per character,
 * light modules drawn, as `qrencode -t UTF8` does, with a 2-module quiet
 * zone), and as an 8-bit greyscale PNG (libpng; 8 pixels per module, a
 * 4-module quiet zone) written 0600 with O_EXCL, since the code holds the
 * TOTP secret. The text is a secret: it is never logged, and buffers
 * that held it are wiped.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SIGNETD_QR_ERROR (signetd_qr_error_quark ())
GQuark signetd_qr_error_quark (void);

typedef enum {
  SIGNETD_QR_ERROR_FAILED,     /* libqrencode or libpng failed */
  SIGNETD_QR_ERROR_IO,         /* the PNG file cannot be written */
} SignetdQrError;

/* The QR code of text as terminal lines (UTF-8, '\n' after each line).
 * Returns: (transfer full) (nullable): free with signet_secret_string_free() */
char     *signetd_qr_to_terminal (const char  *text,
                                  GError     **error);

/* Write the QR code of text as a PNG to path (which must not exist). */
gboolean  signetd_qr_write_png   (const char  *text,
                                  const char  *path,
                                  GError     **error);

G_END_DECLS
