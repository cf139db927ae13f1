/* The container's end: the exit file (PROTOCOL.md, "Exit file"), with an OOM kill seen in the
 * container's cgroup v2 memory.events, and the exit command (`skiff container cleanup ID`).  */
#ifndef SKIFF_MONITOR_EXIT_FILE_H
#define SKIFF_MONITOR_EXIT_FILE_H

#include "cli.h"
#include <limits.h>

struct oom_watch
{
  long kills_at_start;          /* the oom_kill count when the container was created, or -1 */
  char memory_events[PATH_MAX]; /* the container's cgroup v2 memory.events, when it has one */
};

/* Finds the container's cgroup (v2: the "0::" line of /proc/PID/cgroup) and its OOM kill count.
   Before exit_file_write.  */
void oom_watch_start (struct oom_watch *w, int pid);

/* Writes the exit file for the wait status `status`, atomically: the exit code it holds (the
   status, or 128 + the signal), or -1 when the file cannot be written.  */
int exit_file_write (const char *path, const struct oom_watch *w, int status);

/* Runs the exit command and waits for it, collecting the container's last orphans meanwhile.  */
void exit_command_run (const struct options *opt);

#endif
