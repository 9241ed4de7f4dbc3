/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * replay.c: run a libFuzzer harness over every file of a corpus directory,
 * without libFuzzer, so the corpus replays in the normal test run (and
 * under the ASan/UBSan build). Exits non-zero if a directory is missing
 * or empty; a crash or sanitizer report fails the test by itself.
 */
#define _DEFAULT_SOURCE

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static int
replay_file (const char *path)
{
  FILE *f = fopen (path, "rb");
  uint8_t *buf;
  long len;

  if (f == NULL || fseek (f, 0, SEEK_END) != 0 || (len = ftell (f)) < 0 ||
      fseek (f, 0, SEEK_SET) != 0)
    {
      fprintf (stderr, "cannot read %s\n", path);
      if (f != NULL)
        fclose (f);
      return -1;
    }
  /* An exact-size heap copy, so ASan sees any read past the input. */
  buf = malloc (len > 0 ? (size_t) len : 1);
  if (buf == NULL || fread (buf, 1, (size_t) len, f) != (size_t) len)
    {
      fprintf (stderr, "cannot read %s\n", path);
      free (buf);
      fclose (f);
      return -1;
    }
  fclose (f);
  LLVMFuzzerTestOneInput (buf, (size_t) len);
  free (buf);
  return 0;
}

int
main (int argc, char **argv)
{
  unsigned long count = 0;
  int i;

  for (i = 1; i < argc; i++)
    {
      DIR *dir = opendir (argv[i]);
      struct dirent *ent;

      if (dir == NULL)
        {
          fprintf (stderr, "corpus directory %s: cannot open\n", argv[i]);
          return 1;
        }
      while ((ent = readdir (dir)) != NULL)
        {
          char path[4096];
          struct stat st;

          if (ent->d_name[0] == '.')
            continue;
          snprintf (path, sizeof path, "%s/%s", argv[i], ent->d_name);
          if (stat (path, &st) != 0 || !S_ISREG (st.st_mode))
            continue;
          if (replay_file (path) != 0)
            {
              closedir (dir);
              return 1;
            }
          count++;
        }
      closedir (dir);
    }
  if (count == 0)
    {
      fprintf (stderr, "no corpus files replayed\n");
      return 1;
    }
  printf ("replayed %lu inputs\n", count);
  return 0;
}
