/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <png.h>
#include <qrencode.h>

#include "signet-secret.h"
#include "signetd-qr.h"

G_DEFINE_QUARK (signetd-qr-error-quark, signetd_qr_error)

#define TERMINAL_QUIET 2
#define PNG_QUIET 4
#define PNG_SCALE 8

static void
qrcode_wipe_free (QRcode *qr)
{
  if (qr == NULL)
    return;
  signet_secret_wipe (qr->data, (gsize) qr->width * (gsize) qr->width);
  QRcode_free (qr);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QRcode, qrcode_wipe_free)

static QRcode *
encode (const char  *text,
        GError     **error)
{
  QRcode *qr = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

  if (qr == NULL)
    {
      int saved = errno;

      g_set_error (error, SIGNETD_QR_ERROR, SIGNETD_QR_ERROR_FAILED,
                   "QR encoding failed: %s", g_strerror (saved));
    }
  return qr;
}

/* Is module (x, y) dark? Outside the symbol (the quiet zone) is light. */
static gboolean
dark (const QRcode *qr,
      int           x,
      int           y)
{
  if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
    return FALSE;
  return (qr->data[y * qr->width + x] & 1) != 0;
}

char *
signetd_qr_to_terminal (const char  *text,
                        GError     **error)
{
  g_autoptr(QRcode) qr = encode (text, error);
  GString *out;
  int lo, hi;

  if (qr == NULL)
    return NULL;
  lo = -TERMINAL_QUIET;
  hi = qr->width + TERMINAL_QUIET;
  /* Size it up front: a GString that grows would leave copies behind. */
  out = g_string_sized_new ((gsize) (hi - lo) * (gsize) ((hi - lo) / 2 + 1) * 3 + 64);
  for (int y = lo; y < hi; y += 2)
    {
      for (int x = lo; x < hi; x++)
        {
          /* Light modules are drawn, so the code reads on a dark terminal. */
          gboolean top = !dark (qr, x, y);
          gboolean bottom = y + 1 < hi && !dark (qr, x, y + 1);

          if (top && bottom)
            g_string_append (out, "\u2588");
          else if (top)
            g_string_append (out, "\u2580");
          else if (bottom)
            g_string_append (out, "\u2584");
          else
            g_string_append_c (out, ' ');
        }
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

typedef struct {
  GError **error;
} PngErrorContext;

static void
png_error_cb (png_structp      png,
              png_const_charp  msg)
{
  PngErrorContext *ctx = png_get_error_ptr (png);

  if (ctx != NULL && ctx->error != NULL && *ctx->error == NULL)
    g_set_error (ctx->error, SIGNETD_QR_ERROR, SIGNETD_QR_ERROR_FAILED, "PNG: %s", msg);
  png_longjmp (png, 1);
}

static void
png_warning_cb (png_structp      png,
                png_const_charp  msg)
{
}

/* Kept apart from the caller so that nothing with automatic cleanup
 * lives across the setjmp. */
static gboolean
write_png_rows (FILE         *fp,
                const QRcode *qr,
                GError      **error)
{
  PngErrorContext ctx = { error };
  png_structp png = NULL;
  png_infop info = NULL;
  guint8 *volatile row = NULL;
  volatile gboolean ok = FALSE;
  int size = (qr->width + 2 * PNG_QUIET) * PNG_SCALE;

  png = png_create_write_struct (PNG_LIBPNG_VER_STRING, &ctx, png_error_cb, png_warning_cb);
  if (png == NULL)
    goto out;
  info = png_create_info_struct (png);
  if (info == NULL)
    goto out;
  if (setjmp (png_jmpbuf (png)))
    goto out;

  png_init_io (png, fp);
  png_set_IHDR (png, info, (png_uint_32) size, (png_uint_32) size, 8, PNG_COLOR_TYPE_GRAY,
                PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info (png, info);
  row = g_malloc ((gsize) size);
  for (int py = 0; py < size; py++)
    {
      int y = py / PNG_SCALE - PNG_QUIET;

      for (int px = 0; px < size; px++)
        row[px] = dark (qr, px / PNG_SCALE - PNG_QUIET, y) ? 0x00 : 0xff;
      png_write_row (png, row);
    }
  png_write_end (png, NULL);
  ok = TRUE;

out:
  if (!ok && error != NULL && *error == NULL)
    g_set_error (error, SIGNETD_QR_ERROR, SIGNETD_QR_ERROR_FAILED, "PNG: cannot write");
  png_destroy_write_struct (&png, &info);
  if (row != NULL)
    signet_secret_free (row, (gsize) size);
  return ok;
}

gboolean
signetd_qr_write_png (const char  *text,
                      const char  *path,
                      GError     **error)
{
  g_autoptr(QRcode) qr = encode (text, error);
  FILE *fp;
  gboolean ok;
  int fd;

  if (qr == NULL)
    return FALSE;
  fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, SIGNETD_QR_ERROR, SIGNETD_QR_ERROR_IO, "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  fp = fdopen (fd, "wb");
  if (fp == NULL)
    {
      int saved = errno;

      close (fd);
      g_set_error (error, SIGNETD_QR_ERROR, SIGNETD_QR_ERROR_IO, "%s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  ok = write_png_rows (fp, qr, error);
  if (fclose (fp) != 0 && ok)
    {
      int saved = errno;

      g_set_error (error, SIGNETD_QR_ERROR, SIGNETD_QR_ERROR_IO, "%s: %s", path,
                   g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (path);
  return ok;
}
