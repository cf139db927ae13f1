/* The container's end: the exit file (PROTOCOL.md, "Exit file"), with an OOM kill seen in the
 * container's cgroup v2 memory.events, and the exit command (`skiff container cleanup ID`).  */
#define _GNU_SOURCE
#include "exit-file.h"
#include "runtime.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* oom_kill from a held memory.events, or -1 (the cgroup is gone: the fd is closed).  */
static long
count_in (int *fd)
{
  char buf[1024];
  if (*fd < 0)
    return -1;
  ssize_t n = pread (*fd, buf, sizeof buf - 1, 0);
  if (n <= 0)
    {
      close (*fd);
      *fd = -1;
      return -1;
    }
  buf[n] = '\0';
  char *p = strstr (buf, "oom_kill ");
  return p ? atol (p + 9) : -1;
}

static long
oom_kill_count (struct oom_watch *w)
{
  return count_in (&w->fd);
}

void
oom_watch_check (struct oom_watch *w)
{
  long kills = oom_kill_count (w);
  if (w->kills_at_start >= 0 && kills > w->kills_at_start)
    w->seen = true;
}

/* The cgroup v2 path of a process ("0::" line of /proc/PID/cgroup), into `out`; false without one.  */
static bool
cgroup_of (const char *proc, char *out, size_t size)
{
  char buf[PATH_MAX];
  int fd = open (proc, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  char *line = strstr (buf, "0::");
  if (!line)
    return false;
  line += 3;
  line[strcspn (line, "\n")] = '\0';
  snprintf (out, size, "%s", line);
  return true;
}

void
oom_watch_start (struct oom_watch *w, int pid)
{
  char path[64], cgroup[2048], own[2048];
  w->memory_events[0] = '\0';
  w->kills_at_start = -1;
  w->fd = -1;
  w->seen = false;
  w->parent_fd = -1;
  w->parent_kills_at_start = -1;
  snprintf (path, sizeof path, "/proc/%d/cgroup", pid);
  if (!cgroup_of (path, cgroup, sizeof cgroup))
    return;
  snprintf (w->memory_events, sizeof w->memory_events, "/sys/fs/cgroup%s/memory.events", strcmp (cgroup, "/") == 0 ? "" : cgroup);
  w->fd = open (w->memory_events, O_RDONLY | O_CLOEXEC);
  /* A cgroup of the container's own is new with it: every kill in it counts, even one before this
     look (a container started at once, `run`, can be killed by then).  A cgroup it shares with
     this monitor counts only the kills from now on.  */
  long now = oom_kill_count (w);
  bool shared = cgroup_of ("/proc/self/cgroup", own, sizeof own) && strcmp (own, cgroup) == 0;
  w->kills_at_start = now < 0 ? -1 : shared ? now : 0;
  /* The counts of the cgroup that holds the container's (its scope, skiff-ID.scope, or skiff-ID
     under a delegated unit: the runtime may make more below it) include the container's and
     outlive it: a manager removes an empty scope at once, and under load that can be before the
     monitor reads the kill.  */
  char *slash = strstr (cgroup, "/skiff-");
  for (char *next = slash; next; next = strstr (next + 1, "/skiff-"))
    slash = next;
  if (!shared && slash && slash != cgroup)
    {
      *slash = '\0';
      char parent[PATH_MAX];
      snprintf (parent, sizeof parent, "/sys/fs/cgroup%s/memory.events", cgroup);
      w->parent_fd = open (parent, O_RDONLY | O_CLOEXEC);
      w->parent_kills_at_start = count_in (&w->parent_fd);
    }
}

int
exit_file_write (const char *path, struct oom_watch *w, int status)
{
  char tmp[PATH_MAX], ts[48], body[256];
  int code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  int sig = WIFSIGNALED (status) ? WTERMSIG (status) : 0;
  rfc3339nano (ts, sizeof ts);
  oom_watch_check (w);
  bool oom = w->seen;
  if (!oom && w->fd < 0 && sig == SIGKILL && w->parent_kills_at_start >= 0)
    oom = count_in (&w->parent_fd) > w->parent_kills_at_start;
  int n = snprintf (body, sizeof body, "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\"}\n", code, sig, oom ? "true" : "false", ts);
  snprintf (tmp, sizeof tmp, "%s.tmp", path);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -1;
  write_all (fd, body, (size_t) n);
  fsync (fd);
  close (fd);
  rename (tmp, path);
  return code;
}

void
exit_command_run (const struct options *opt)
{
  const char *argv[MAX_ARGS + 2];
  int n = 0;
  if (!opt->exit_command)
    return;
  argv[n++] = opt->exit_command;
  for (int i = 0; i < opt->n_exit_args; i++)
    argv[n++] = opt->exit_args[i];
  argv[n] = NULL;
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid = spawn_process (argv, devnull, devnull, devnull);
  int status;
  /* As subreaper this also collects any last orphans of the container.  */
  while (pid > 0)
    {
      pid_t got = waitpid (-1, &status, 0);
      if (got == pid || (got < 0 && errno != EINTR))
        break;
    }
}
