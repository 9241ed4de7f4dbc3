/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * signetctl: the command-line face of libsignet (docs/signetctl.md).
 * main () finds the command word among the arguments (global options may
 * come before or after it) and hands the rest to the command.
 */
#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n.h>

#include "signetctl-cli.h"
#include "signetctl-error.h"
#include "signetctl-output.h"

char *signetctl_cli_main_help (void);

/* Global options that take a value as the next argument. */
static gboolean
takes_value (const char *arg)
{
  static const char *const with_value[] = { "--service", "--ca", "--pin", "--state-dir",
                                            "--socket", NULL };

  return g_strv_contains (with_value, arg);
}

int
main (int    argc,
      char **argv)
{
  SignetctlCli cli = { 0 };
  const SignetctlCommand *command = NULL;
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *name = NULL;
  gboolean json = FALSE;
  int first = -1;
  int second = -1;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("signetctl");
  signetctl_error_init ();

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--") == 0)
        break;
      if (strcmp (argv[i], "--json") == 0)
        json = TRUE;
      if (argv[i][0] == '-')
        {
          if (takes_value (argv[i]))
            i++;
          continue;
        }
      if (first < 0)
        first = i;
      else if (second < 0)
        {
          second = i;
          break;
        }
    }

  if (first < 0)
    {
      for (int i = 1; i < argc; i++)
        {
          if (strcmp (argv[i], "--version") == 0)
            {
              printf ("signetctl %s\n", PACKAGE_VERSION);
              return SIGNETCTL_EXIT_OK;
            }
          if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0 ||
              strcmp (argv[i], "help") == 0)
            {
              g_autofree char *help = signetctl_cli_main_help ();

              fputs (help, stdout);
              return SIGNETCTL_EXIT_OK;
            }
        }
      signetctl_output_init (json, FALSE);
      return signetctl_cli_usage (NULL, _("Which command? `signetctl --help` lists them"));
    }

  if (strcmp (argv[first], "help") == 0)
    {
      g_autofree char *help = signetctl_cli_main_help ();

      fputs (help, stdout);
      return SIGNETCTL_EXIT_OK;
    }
  if (strcmp (argv[first], "log") == 0)
    {
      if (second < 0)
        {
          signetctl_output_init (json, FALSE);
          return signetctl_cli_usage (NULL, _("log what? verify, export or upload"));
        }
      name = g_strdup_printf ("log %s", argv[second]);
    }
  else
    name = g_strdup (argv[first]);
  command = signetctl_cli_command (name);
  if (command == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("“%s” is not a command of signetctl "
                                                "(`signetctl --help` lists them)"), name);

      signetctl_output_init (json, FALSE);
      return signetctl_cli_usage (NULL, msg);
    }

  /* The command's argv: its name first, then everything else. */
  g_ptr_array_add (args, argv[0]);
  for (int i = 1; i < argc; i++)
    if (i != first && !(i == second && strcmp (argv[first], "log") == 0))
      g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, NULL);
  {
    int cargc = (int) args->len - 1;
    char **cargv = g_memdup2 (args->pdata, args->len * sizeof (char *));

    status = command->func (&cli, cargc, cargv);
    g_free (cargv);
  }
  signetctl_config_clear (&cli.config);
  return status;
}
