/* What the launcher reads of files and processes (skiff.c, stats.c, ps.c).  */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "proc.h"

/* Reads a small file into buf, NUL-terminated; the bytes read, 0 on any failure.  */
size_t
read_small (const char *path, char *buf, size_t size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  ssize_t n = read (fd, buf, size - 1);
  close (fd);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  return (size_t) n;
}

/* /proc/PID/stat's start time (field 22); false for a zombie or a missing process.  */
bool
start_time (const char *pid, char *out, size_t size)
{
  char path[64], stat[1024];
  snprintf (path, sizeof path, "/proc/%s/stat", pid);
  if (!read_small (path, stat, sizeof stat))
    return false;
  char *p = strrchr (stat, ')');
  if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
    return false;
  p += 2;
  for (int field = 3; field < 22 && p; field++)
    {
      p = strchr (p, ' ');
      if (p)
        p++;
    }
  if (!p)
    return false;
  size_t n = strcspn (p, " ");
  if (n >= size)
    return false;
  memcpy (out, p, n);
  out[n] = '\0';
  return true;
}

/* A whole file of at most `max` bytes, NUL-terminated, in a buffer to free; NULL when it is
   missing, unreadable or larger.  */
char *
read_bounded (const char *path, size_t max)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  char *buf = malloc (max + 1);
  size_t have = 0;
  ssize_t n = 1;
  while (buf && have <= max && (n = read (fd, buf + have, max + 1 - have)) > 0)
    have += (size_t) n;
  close (fd);
  if (!buf || n < 0 || have > max)
    {
      free (buf);
      return NULL;
    }
  buf[have] = '\0';
  return buf;
}

/* skiff's data directory as src/config/paths.ts finds it; false without a HOME to put it in.  */
bool
data_dir (char *out, size_t size)
{
  const char *home = getenv ("HOME");
  if (getenv ("SKIFF_ROOT"))
    snprintf (out, size, "%s", getenv ("SKIFF_ROOT"));
  else if (getenv ("XDG_DATA_HOME") && *getenv ("XDG_DATA_HOME"))
    snprintf (out, size, "%s/skiff", getenv ("XDG_DATA_HOME"));
  else if (home && *home)
    snprintf (out, size, "%s/.local/share/skiff", home);
  else
    return false;
  return true;
}

static int
by_name (const struct dirent **a, const struct dirent **b)
{
  return strcmp ((*a)->d_name, (*b)->d_name);
}

static int
is_id (const struct dirent *entry)
{
  return strlen (entry->d_name) == 64 && strspn (entry->d_name, "0123456789abcdef") == 64;
}

/* The containers' directories under DATA/containers (64 hex digits each), sorted by name; the
   count (0 when there is no such directory).  The caller frees each entry and the array.  */
int
container_ids (const char *data, struct dirent ***entries)
{
  char dir[PATH_MAX];
  *entries = NULL;
  if (snprintf (dir, sizeof dir, "%s/containers", data) >= (int) sizeof dir)
    return 0;
  int count = scandir (dir, entries, is_id, by_name);
  return count < 0 ? 0 : count;
}

int
container_files (const char *data, const char *id, size_t record_max, char **record, char **state)
{
  char path[PATH_MAX];
  *record = *state = NULL;
  if (snprintf (path, sizeof path, "%s/containers/%s/container.json", data, id) >= (int) sizeof path)
    return -1;
  if (!(*record = read_bounded (path, record_max)))
    return access (path, F_OK) != 0 ? 0 : -1;
  if (snprintf (path, sizeof path, "%s/containers/%s/state.json", data, id) >= (int) sizeof path || !(*state = read_bounded (path, 1 << 16)))
    return -1;
  return 1;
}

bool
monitor_alive (const char *run, const char *id, const char *state)
{
  char path[PATH_MAX], monitor[32], recorded[32], actual[32];
  long long monitor_pid = json_integer (state, "monitorPid");
  if (snprintf (path, sizeof path, "%s/containers/%s/exit", run, id) >= (int) sizeof path || access (path, F_OK) == 0 || monitor_pid <= 0
      || !json_string (state, "monitorStartTime", recorded, sizeof recorded))
    return false;
  snprintf (monitor, sizeof monitor, "%lld", monitor_pid);
  return start_time (monitor, actual, sizeof actual) && strcmp (actual, recorded) == 0;
}

bool
own_cgroup (const char *record)
{
  char manager[32], cgroups[32];
  return json_string (record, "cgroupManager", manager, sizeof manager) && strcmp (manager, "none") != 0
         && !(json_string (record, "config.cgroups", cgroups, sizeof cgroups) && strcmp (cgroups, "disabled") == 0);
}
