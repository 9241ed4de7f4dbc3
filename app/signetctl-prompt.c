/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "signet-secret.h"
#include "signetctl-error.h"
#include "signetctl-prompt.h"

/* Longest password or code taken (bytes). */
#define LINE_MAX_LEN 1024

gboolean
signetctl_prompt_have_tty (void)
{
  int fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

/* Read up to a newline from fd into a wiping buffer. */
static char *
read_line (int      fd,
           GError **error)
{
  char *buf = g_malloc0 (LINE_MAX_LEN + 1);
  gsize len = 0;

  for (;;)
    {
      char c;
      ssize_t n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int e = errno;

          signet_secret_free (buf, LINE_MAX_LEN + 1);
          g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_FAILED,
                       _("Cannot read the answer: %s"), g_strerror (e));
          return NULL;
        }
      if (n == 0 && len == 0)
        {
          signet_secret_free (buf, LINE_MAX_LEN + 1);
          g_set_error_literal (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                               _("Nothing to read (end of input)"));
          return NULL;
        }
      if (n == 0 || c == '\n')
        break;
      if (len == LINE_MAX_LEN)
        {
          signet_secret_free (buf, LINE_MAX_LEN + 1);
          g_set_error_literal (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                               _("The answer is too long"));
          return NULL;
        }
      buf[len++] = c;
    }
  if (len > 0 && buf[len - 1] == '\r')
    buf[--len] = '\0';
  return buf;
}

/* While echo is off: the terminal to give its echo back to if a signal
 * ends us (Ctrl+C, Ctrl+\\, a hang-up, kill) before the answer came. */
static const int fatal_signals[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
static struct sigaction saved_actions[G_N_ELEMENTS (fatal_signals)];
static volatile sig_atomic_t echo_fd = -1;
static struct termios echo_termios;

static void
restore_echo_and_die (int sig)
{
  int saved_errno = errno;

  /* tcsetattr, write, signal and raise are async-signal-safe. */
  if (echo_fd >= 0)
    {
      tcsetattr (echo_fd, TCSAFLUSH, &echo_termios);
      if (write (echo_fd, "\n", 1) < 0)
        {
          /* cosmetic only */
        }
    }
  /* Die of the same signal (the shell sees 130 for Ctrl+C): the default
   * action, delivered as soon as this handler returns. */
  signal (sig, SIG_DFL);
  raise (sig);
  errno = saved_errno;
}

static void
guard_echo (int                   fd,
            const struct termios *old)
{
  struct sigaction sa;

  echo_termios = *old;
  echo_fd = fd;
  memset (&sa, 0, sizeof sa);
  sa.sa_handler = restore_echo_and_die;
  sigemptyset (&sa.sa_mask);
  for (guint i = 0; i < G_N_ELEMENTS (fatal_signals); i++)
    sigaddset (&sa.sa_mask, fatal_signals[i]);
  for (guint i = 0; i < G_N_ELEMENTS (fatal_signals); i++)
    sigaction (fatal_signals[i], &sa, &saved_actions[i]);
}

static void
unguard_echo (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (fatal_signals); i++)
    sigaction (fatal_signals[i], &saved_actions[i], NULL);
  echo_fd = -1;
}

char *
signetctl_prompt_secret (const char  *prompt,
                         GError     **error)
{
  int fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  struct termios old, raw;
  gboolean restore = FALSE;
  char *line;

  if (fd < 0)
    {
      g_set_error_literal (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_USAGE,
                           _("There is no terminal to ask on: use --password-stdin and --otp"));
      return NULL;
    }
  if (write (fd, prompt, strlen (prompt)) < 0)
    {
      /* the answer may still be typed */
    }
  if (tcgetattr (fd, &old) == 0)
    {
      raw = old;
      raw.c_lflag &= ~(tcflag_t) (ECHO | ECHOE | ECHOK | ECHONL);
      raw.c_lflag |= ICANON;
      /* The guard first: a signal between the two must not leave echo off. */
      guard_echo (fd, &old);
      restore = tcsetattr (fd, TCSAFLUSH, &raw) == 0;
      if (!restore)
        unguard_echo ();
    }
  line = read_line (fd, error);
  if (restore)
    {
      tcsetattr (fd, TCSAFLUSH, &old);
      unguard_echo ();
    }
  if (write (fd, "\n", 1) < 0)
    {
      /* cosmetic only */
    }
  close (fd);
  return line;
}

char *
signetctl_prompt_stdin (GError **error)
{
  return read_line (STDIN_FILENO, error);
}
