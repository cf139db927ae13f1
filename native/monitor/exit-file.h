/* The container's end: the exit file (PROTOCOL.md, "Exit file"), with an OOM kill seen in the
 * container's cgroup v2 memory.events, and the exit command (`skiff container cleanup ID`).  */
#ifndef SKIFF_MONITOR_EXIT_FILE_H
#define SKIFF_MONITOR_EXIT_FILE_H

#include "cli.h"
#include <limits.h>
#include <stdbool.h>

struct oom_watch
{
  long kills_at_start;          /* the oom_kill count when the container was created, or -1 */
  char memory_events[PATH_MAX]; /* the container's cgroup v2 memory.events, when it has one */
  int fd;                       /* that file, held open and polled (POLLPRI) while the container runs, or -1 */
  bool seen;                    /* an OOM kill was counted there */
  int parent_fd;                /* memory.events of the cgroup above the container's own (hierarchical counts), or -1 */
  long parent_kills_at_start;   /* its oom_kill count at the start, or -1 */
};

/* Finds the container's cgroup (v2: the "0::" line of /proc/PID/cgroup) and its OOM kill count,
   and opens its memory.events to poll.  Before exit_file_write.  */
void oom_watch_start (struct oom_watch *w, int pid);

/* Reads memory.events again (its fd polled POLLPRI, or the container ended): an oom_kill count
   above the start's is remembered, as a manager may remove the cgroup as soon as it is empty.  */
void oom_watch_check (struct oom_watch *w);

/* Writes the exit file for the wait status `status`, atomically (a SIGKILL whose own cgroup was
   gone before it could be read again counts as an OOM kill when the parent cgroup's count rose): the exit code it holds (the
   status, or 128 + the signal), or -1 when the file cannot be written.  */
int exit_file_write (const char *path, struct oom_watch *w, int status);

/* Runs the exit command and waits for it, collecting the container's last orphans meanwhile.  */
void exit_command_run (const struct options *opt);

#endif
