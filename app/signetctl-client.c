/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "signetctl-agent.h"
#include "signetctl-client.h"
#include "signetctl-error.h"

#define SPAWN_WAIT_MS 20000

SignetctlAgent1 *
signetctl_client_connect (const char  *socket_path,
                          GError     **error)
{
  g_autofree char *address = g_strdup_printf ("unix:path=%s", socket_path);
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) local = NULL;
  SignetctlAgent1 *proxy;

  signetctl_error_init ();
  if (!g_file_test (socket_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_NOT_SIGNED_IN,
                   _("Not signed in (no session agent on %s): run signetctl login"),
                   socket_path);
      return NULL;
    }
  connection = g_dbus_connection_new_for_address_sync (
    address, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT, NULL, NULL, &local);
  if (connection == NULL)
    {
      g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_NOT_SIGNED_IN,
                   _("Not signed in (the session agent on %s does not answer: %s): "
                     "run signetctl login"), socket_path, local->message);
      return NULL;
    }
  proxy = signetctl_agent1_proxy_new_sync (connection, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                                           NULL, SIGNETCTL_AGENT_OBJECT_PATH, NULL, error);
  if (proxy != NULL)
    g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (proxy), G_MAXINT);
  return proxy;
}

static char *
self_path (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  if (exe != NULL)
    return g_steal_pointer (&exe);
  return g_find_program_in_path (g_get_prgname () != NULL ? g_get_prgname () : "signetctl");
}

static void
child_setup (gpointer user_data)
{
  setsid ();
}

gboolean
signetctl_client_spawn_agent (const SignetctlConfig  *config,
                              guint                   idle_timeout,
                              GError                **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *exe = self_path ();
  g_autoptr(GString) answer = g_string_new (NULL);
  const char *agent_log = g_getenv ("SIGNETCTL_AGENT_LOG");
  int fds[2];
  gint64 deadline;

  if (exe == NULL)
    {
      g_set_error_literal (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_AGENT,
                           _("Cannot find the signetctl program to start the session agent"));
      return FALSE;
    }
  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    return FALSE;

  g_ptr_array_add (argv, g_strdup (exe));
  g_ptr_array_add (argv, g_strdup ("agent"));
  g_ptr_array_add (argv, g_strdup_printf ("--socket=%s", config->socket_path));
  g_ptr_array_add (argv, g_strdup_printf ("--state-dir=%s", config->state_dir));
  g_ptr_array_add (argv, g_strdup_printf ("--service=%s", config->service_url));
  g_ptr_array_add (argv, g_strdup_printf ("--ca=%s", config->ca_file));
  if (config->pin != NULL)
    g_ptr_array_add (argv, g_strdup_printf ("--pin=%s", config->pin));
  g_ptr_array_add (argv, g_strdup_printf ("--idle-timeout=%u", idle_timeout));
  g_ptr_array_add (argv, g_strdup ("--ready-fd=3"));
  g_ptr_array_add (argv, NULL);

  /* stdout and stderr to /dev/null (or a file for debugging): the agent
   * outlives this terminal. */
  launcher = g_subprocess_launcher_new (agent_log != NULL ? G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                        : G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                          G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  if (agent_log != NULL)
    g_subprocess_launcher_set_stderr_file_path (launcher, agent_log);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  g_subprocess_launcher_take_fd (launcher, fds[1], 3);
  child = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
  /* Our copy of the write end goes with the launcher: EOF means the
   * agent is gone. */
  g_clear_object (&launcher);
  if (child == NULL)
    {
      close (fds[0]);
      return FALSE;
    }

  deadline = g_get_monotonic_time () + SPAWN_WAIT_MS * 1000;
  for (;;)
    {
      struct pollfd pfd = { fds[0], POLLIN, 0 };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char buf[256];
      ssize_t n;
      int r;

      if (left <= 0)
        break;
      r = poll (&pfd, 1, (int) left);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0)
        break;
      n = read (fds[0], buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (answer, buf, n);
      if (strchr (answer->str, '\n') != NULL)
        break;
    }
  close (fds[0]);
  if (g_str_has_prefix (answer->str, "ready\n"))
    return TRUE;
  g_strchomp (answer->str);
  if (g_str_has_prefix (answer->str, "error: "))
    g_set_error (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_AGENT,
                 _("The session agent could not start: %s"), answer->str + strlen ("error: "));
  else
    g_set_error_literal (error, SIGNETCTL_ERROR, SIGNETCTL_ERROR_AGENT,
                         _("The session agent did not start"));
  return FALSE;
}
