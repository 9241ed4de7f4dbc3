/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <locale.h>
#include <sys/stat.h>

#include "signetd-cli.h"

int
main (int    argc,
      char **argv)
{
  /* Every file signetd makes (database, WAL, keys) is for its user only. */
  umask (077);
  setlocale (LC_ALL, "");
  return signetd_cli_main (argc, argv);
}
