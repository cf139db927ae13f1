/* The network helper of the container's network namespace: slirp4netns (ready fd) or pasta (pid
 * file), started by the monitor or adopted from the launcher; and the namespace the monitor makes
 * for pasta.  net-helper.h says how each kind starts, gets ready and ends.  */
#define _GNU_SOURCE
#include "net-helper.h"
#include "../common/child-signals.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

void
net_helper_init (struct net_helper *h, const struct options *opt)
{
  h->opt = opt;
  h->exit_fd = h->ready_fd = h->adopted_pidfd = -1;
  h->pid = h->stoppable = -1;
}

static void
signal_helper (struct net_helper *h, int sig)
{
  if (h->adopted_pidfd >= 0)
    syscall (SYS_pidfd_send_signal, h->adopted_pidfd, sig, NULL, 0);
  else
    kill (h->stoppable, sig);
}

/* FILE.spare, the launcher's marker of an unadopted spare, becomes FILE.adopted (same content:
   "WATCHER PASTA"), by which skiff finds that pasta if this monitor dies before it can stop it.  */
static void
spare_file (const struct net_helper *h, char *out, size_t size, const char *suffix)
{
  snprintf (out, size, "%s.%s", h->opt->net_ns_path, suffix);
}

void
net_helper_adopt (struct net_helper *h)
{
  char spare[PATH_MAX + 16], adopted[PATH_MAX + 16];
  h->stoppable = atoi (h->opt->net_helper_adopt);
  h->adopted_pidfd = (int) syscall (SYS_pidfd_open, h->stoppable, 0);
  spare_file (h, spare, sizeof spare, "spare");
  spare_file (h, adopted, sizeof adopted, "adopted");
  /* (Failing only when the launcher's watcher has removed the spare: the CLI is gone, and the go
     never comes.)  */
  rename (spare, adopted);
}

static void
release_netns (struct net_helper *h)
{
  const struct options *opt = h->opt;
  if (opt->net_ns_path)
    {
      umount2 (opt->net_ns_path, MNT_DETACH);
      unlink (opt->net_ns_path);
    }
  /* (The spare's pid file is beside its namespace, not in the container's runtime dir.)  */
  if (opt->net_helper_adopt && opt->net_helper_pid_file)
    {
      char adopted[PATH_MAX + 16];
      spare_file (h, adopted, sizeof adopted, "adopted");
      unlink (opt->net_helper_pid_file);
      unlink (adopted);
    }
}

void
net_helper_stop (struct net_helper *h)
{
  if (h->exit_fd >= 0)
    close (h->exit_fd);
  h->exit_fd = -1;
  release_netns (h);
  if (h->stoppable <= 0)
    return;
  signal_helper (h, SIGTERM);
  for (int waited = 0; waited < 1000 && h->opt->net_helper_ports; waited++)
    {
      pid_t got = waitpid (h->stoppable, NULL, WNOHANG);
      if (got == h->stoppable || (got < 0 && errno == ECHILD))
        break;
      if (waited == 999)
        kill (h->stoppable, SIGKILL), waitpid (h->stoppable, NULL, 0);
      usleep (1000);
    }
  h->stoppable = -1;
}

/* The helper's last line of complaint, without pasta's "Failed to send ... to syslog" noise.  */
static void
last_error_line (int fd, char *out, size_t size)
{
  char buf[4096];
  ssize_t n = read (fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  char *line = strtok (buf, "\n");
  for (; line; line = strtok (NULL, "\n"))
    if (strncmp (line, "Failed to send ", 15) != 0 && line[0])
      snprintf (out, size, "%s", line);
}

/* The namespace is bound to the file by a child (the monitor could not return to its own
   namespace, which belongs to the host's user namespace).  */
const char *
net_helper_create_netns (struct net_helper *h)
{
  const char *path = h->opt->net_ns_path;
  int fd = open (path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), status = -1;
  if (fd < 0)
    {
      snprintf (h->message, sizeof h->message, "cannot create %s: %s", path, strerror (errno));
      return h->message;
    }
  close (fd);
  pid_t child = fork ();
  if (child == 0)
    _exit (unshare (CLONE_NEWNET) < 0 || mount ("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0 ? errno : 0);
  if (child < 0 || waitpid (child, &status, 0) != child || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      snprintf (h->message, sizeof h->message, "cannot make a network namespace at %s: %s", path,
                child < 0            ? strerror (errno)
                : WIFEXITED (status) ? strerror (WEXITSTATUS (status))
                                     : "killed");
      unlink (path);
      return h->message;
    }
  return NULL;
}

const char *
net_helper_launch (struct net_helper *h, int container)
{
  const struct options *opt = h->opt;
  char pid[16];
  const char *argv[MAX_ARGS + 2];
  int exit_pipe[2], ready_pipe[2], n = 0;
  snprintf (pid, sizeof pid, "%d", container);
  argv[n++] = opt->net_helper;
  for (int i = 0; i < opt->n_net_args; i++)
    argv[n++] = strcmp (opt->net_args[i], "{pid}") == 0 ? pid : strcmp (opt->net_args[i], "{netns}") == 0 ? opt->net_ns_path : opt->net_args[i];
  argv[n] = NULL;
  if (pipe2 (exit_pipe, O_CLOEXEC) < 0 || pipe2 (ready_pipe, O_CLOEXEC) < 0)
    return "pipe failed";
  if (opt->net_helper_pid_file)
    unlink (opt->net_helper_pid_file);
  pid_t monitor = getpid ();
  h->pid = fork ();
  if (h->pid < 0)
    return "fork failed";
  if (h->pid == 0)
    {
      reset_child_signals ();
      if (opt->net_helper_pid_file && (prctl (PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid () != monitor))
        _exit (127);
      int devnull = open ("/dev/null", O_RDWR);
      /* Move the pipe ends clear of 3 and 4 first, then into place (dup2 clears O_CLOEXEC).  A
         pid-file helper's stderr is the ready pipe: what it says when it fails.  */
      int e = fcntl (exit_pipe[0], F_DUPFD, 10), r = fcntl (ready_pipe[1], F_DUPFD, 10);
      if (e < 0 || r < 0 || dup2 (devnull, 0) < 0 || dup2 (devnull, 1) < 0)
        _exit (127);
      if (opt->net_helper_pid_file ? dup2 (r, 2) < 0 : (dup2 (e, 3) < 0 || dup2 (r, 4) < 0))
        _exit (127);
      execv (argv[0], (char *const *) argv);
      _exit (127);
    }
  close (exit_pipe[0]);
  close (ready_pipe[1]);
  h->ready_fd = ready_pipe[0];
  if (opt->net_helper_pid_file)
    h->stoppable = h->pid, close (exit_pipe[1]);
  else
    h->exit_fd = exit_pipe[1];
  return NULL;
}

/* The number in the helper's pid file (0 while there is none).  */
static int
read_helper_pid_file (const struct net_helper *h)
{
  int written = 0;
  FILE *f = fopen (h->opt->net_helper_pid_file, "r");
  if (f)
    {
      if (fscanf (f, "%d", &written) != 1)
        written = 0;
      fclose (f);
    }
  return written;
}

const char *
net_helper_await (struct net_helper *h)
{
  const struct options *opt = h->opt;
  bool ready = false, reaped = false;
  h->message[0] = 0;
  if (opt->net_helper_pid_file)
    {
      int status = -1;
      for (int waited = 0; waited < 10000 && !ready && !reaped; waited++)
        {
          ready = read_helper_pid_file (h) == h->pid;
          if (!ready && !(reaped = waitpid (h->pid, &status, WNOHANG) == h->pid))
            usleep (1000);
        }
      if (reaped)
        h->stoppable = -1;
      char line[400] = "";
      fcntl (h->ready_fd, F_SETFL, O_NONBLOCK);
      if (!ready)
        last_error_line (h->ready_fd, line, sizeof line);
      if (!ready && line[0])
        snprintf (h->message, sizeof h->message, "network helper %s failed: %s", opt->net_helper, line);
    }
  else
    {
      struct pollfd p = { h->ready_fd, POLLIN, 0 };
      char byte;
      ready = poll (&p, 1, 10000) > 0 && read (h->ready_fd, &byte, 1) == 1;
    }
  close (h->ready_fd);
  h->ready_fd = -1;
  if (ready)
    return NULL;
  if (!h->message[0])
    snprintf (h->message, sizeof h->message, "network helper %s did not get ready (see its arguments with --log-level debug)", opt->net_helper);
  if (!reaped)
    kill (h->pid, SIGKILL), waitpid (h->pid, NULL, 0);
  h->stoppable = -1;
  release_netns (h);
  return h->message;
}

const char *
net_helper_await_adopted (struct net_helper *h)
{
  for (int waited = 0; waited < 10000; waited++)
    {
      int written = read_helper_pid_file (h);
      if (written == h->stoppable)
        return NULL;
      if (written < 0)
        break;
      usleep (1000);
    }
  if (h->stoppable > 0)
    signal_helper (h, SIGKILL);
  h->stoppable = -1;
  if (h->adopted_pidfd >= 0)
    close (h->adopted_pidfd);
  h->adopted_pidfd = -1;
  const char *failure = net_helper_launch (h, -1);
  return failure ? failure : net_helper_await (h);
}
