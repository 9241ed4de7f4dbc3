/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signet-main.c: the Signet desktop app (docs/app.md); everything but
 * main () is in ui/.
 */
#include "config.h"

#include <locale.h>

#include <glib/gi18n.h>

#include "signet-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SignetApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_application_name (_("Signet"));
  app = signet_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
