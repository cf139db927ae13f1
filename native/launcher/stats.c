/* `skiff stats --no-stream [-a]` answered by the launcher, without starting Node.
 *
 * Node's own start is most of what a one-sample `stats` costs (under emulation ~300 ms of ~450),
 * and the command only reads files: each container's container.json and state.json, its cgroup's
 * files and its /proc/PID/net/dev.  So the launcher answers it when every container is in the
 * plain case: state.json says running, no exit file, the monitor alive (pid and start time), a
 * cgroup of its own.  Anything else (a container being started or stopped, a monitor gone, one
 * without a cgroup, a file that does not parse as expected, any other flag) and it prints nothing
 * and returns false: Node answers, as it always can.  The rows are the same bytes as Node's
 * (src/engine/container-stats.ts, src/cgroups/stats.ts, printTable in src/cli/output/print.ts;
 * test/system/275-stats-fast.test.ts and test/vm/cgroups.sh compare the two).  */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "json.h"
#include "proc.h"
#include "stats.h"

#define COLUMNS 10
#define MAX_ROWS 4096
#define RECORD_MAX (4 << 20) /* container.json (the CLI's own cap on a record is lower) */

static const char *const HEADERS[COLUMNS] = { "ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET IO", "BLOCK IO", "PIDS", "CPU TIME", "AVG CPU %" };

/* Formats into the array `buf`; false when it did not fit.  */
#define FORMAT(buf, ...) (snprintf (buf, sizeof buf, __VA_ARGS__) < (int) sizeof buf)

typedef struct
{
  char *cells[COLUMNS];
} row;

/* A number from the start of a cgroup file as Node's Number(text) reads it; 0 when missing.  */
static double
file_number (const char *dir, const char *name)
{
  char path[PATH_MAX], text[64];
  return FORMAT (path, "%s/%s", dir, name) && read_small (path, text, sizeof text) ? strtod (text, NULL) : 0;
}

/* The sum of `key`=N over io.stat's lines.  */
static double
io_total (const char *text, const char *key)
{
  double total = 0;
  size_t len = strlen (key);
  for (const char *p = text; p && (p = strstr (p, key)); p += len)
    if (p == text || p[-1] == ' ')
      total += strtod (p + len, NULL);
  return total;
}

/* A /proc or cgroup file whole, into *text (NULL when the file is missing, as Node reads it:
   zeros); false when it is there but cannot be read, or is over 1 MiB: then Node answers.  */
static bool
read_whole (const char *path, char **text)
{
  *text = read_bounded (path, 1 << 20);
  return *text || access (path, F_OK) != 0;
}

static char *
cell (const char *text)
{
  return strdup (text);
}

static char *
percent (double x)
{
  char number[400], out[410];
  js_fixed (x, 2, number, sizeof number);
  snprintf (out, sizeof out, "%s%%", number);
  return cell (out);
}

static char *
pair (double a, double b)
{
  char x[64], y[64], out[140];
  human_size (a, x, sizeof x);
  human_size (b, y, sizeof y);
  snprintf (out, sizeof out, "%s / %s", x, y);
  return cell (out);
}

/* One running container's row; false when Node must answer (see the top).  */
static bool
container_row (const char *data, const char *run, const char *id, double host_memory, row *r, bool *listed)
{
  char path[PATH_MAX], name[256], status[32], started[64], cgroup[PATH_MAX];
  *listed = false;
  char *record = NULL, *state = NULL, *text = NULL, *io = NULL, *cpu = NULL, *net = NULL;
  bool ok = false;
  int files = container_files (data, id, RECORD_MAX, &record, &state);
  if (files == 0)
    return true; /* Node skips a container without a record */
  if (files < 0 || !json_string (record, "name", name, sizeof name) || !json_string (state, "status", status, sizeof status) || json_find (state, "launching"))
    goto out;
  if (strcmp (status, "running") != 0)
    {
      ok = strcmp (status, "stopping") != 0; /* not running: no row */
      goto out;
    }
  /* The plain case: its monitor alive, no exit file yet, and a cgroup of its own to read.  */
  long long pid = json_integer (state, "pid");
  if (pid <= 0 || !monitor_alive (run, id, state) || !own_cgroup (record))
    goto out;
  /* state.startedAt, else the record's created */
  bool known
      = json_find (state, "startedAt") ? json_string (state, "startedAt", started, sizeof started) : json_string (record, "created", started, sizeof started);
  long long started_ms = known ? iso_ms (started) : -1;
  if (started_ms < 0)
    goto out;
  /* Its cgroup: /proc/PID/cgroup's "0::" line.  */
  if (!FORMAT (path, "/proc/%lld/cgroup", pid) || !read_whole (path, &text) || !text)
    goto out;
  char *line = strncmp (text, "0::", 3) == 0 ? text : strstr (text, "\n0::");
  if (!line)
    goto out;
  line += line[0] == '\n' ? 4 : 3;
  line[strcspn (line, "\n")] = '\0';
  if (!FORMAT (cgroup, "/sys/fs/cgroup%s", strcmp (line, "/") == 0 ? "" : line))
    goto out;

  /* The sample (src/cgroups/stats.ts).  */
  char max[64];
  if (!FORMAT (path, "%s/memory.max", cgroup))
    goto out;
  double limit = read_small (path, max, sizeof max) && strncmp (max, "max", 3) != 0 ? strtod (max, NULL) : host_memory;
  double usage = file_number (cgroup, "memory.current"), pids = file_number (cgroup, "pids.current");
  double block_read = 0, block_write = 0, rx = 0, tx = 0, cpu_usec = 0;
  if (!FORMAT (path, "%s/io.stat", cgroup) || !read_whole (path, &io))
    goto out;
  if (io)
    block_read = io_total (io, "rbytes="), block_write = io_total (io, "wbytes=");
  if (!FORMAT (path, "%s/cpu.stat", cgroup) || !read_whole (path, &cpu))
    goto out;
  if (cpu && (line = strstr (cpu, "usage_usec ")))
    cpu_usec = strtod (line + 11, NULL);
  if (!FORMAT (path, "/proc/%lld/net/dev", pid) || !read_whole (path, &net))
    goto out;
  if (net)
    {
      char *save = NULL;
      int n = 0;
      for (char *l = strtok_r (net, "\n", &save); l; l = strtok_r (NULL, "\n", &save))
        {
          char *colon = strchr (l, ':');
          if (n++ < 2 || !colon)
            continue;
          *colon = '\0';
          char *iface = l + strspn (l, " ");
          if (strcmp (iface, "lo") == 0)
            continue;
          double f[9] = { 0 };
          char *p = colon + 1;
          for (int i = 0; i < 9; i++)
            f[i] = strtod (p, &p);
          rx += f[0];
          tx += f[8];
        }
    }
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  long long at = (long long) now.tv_sec * 1000 + now.tv_nsec / 1000000;

  /* The row (src/engine/container-stats.ts).  */
  double since_start = (double) (at - started_ms > 1 ? at - started_ms : 1) * 1000;
  double avg = cpu_usec / since_start * 100;
  char number[400], out[420];
  snprintf (out, sizeof out, "%.12s", id);
  r->cells[0] = cell (out);
  r->cells[1] = cell (name);
  r->cells[2] = percent (avg);
  r->cells[3] = pair (usage, limit);
  r->cells[4] = percent (limit ? usage / limit * 100 : 0);
  r->cells[5] = pair (rx, tx);
  r->cells[6] = pair (block_read, block_write);
  snprintf (out, sizeof out, "%.0f", pids);
  r->cells[7] = cell (out);
  js_fixed (cpu_usec >= 1e6 ? cpu_usec / 1e6 : cpu_usec / 1e3, 3, number, sizeof number);
  snprintf (out, sizeof out, "%s%s", number, cpu_usec >= 1e6 ? "s" : "ms");
  r->cells[8] = cell (out);
  r->cells[9] = percent (avg);
  ok = *listed = true;
  for (int i = 0; i < COLUMNS; i++)
    ok = ok && r->cells[i];
out:
  free (record);
  free (state);
  free (text);
  free (io);
  free (cpu);
  free (net);
  return ok;
}

int
fast_stats (int argc, char **argv, int index, const char *runroot)
{
  bool no_stream = false;
  for (int i = index + 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--no-stream") == 0)
        no_stream = true;
      else if (strcmp (argv[i], "-a") != 0 && strcmp (argv[i], "--all") != 0)
        return -1;
    }
  /* No global options: --root and the others change what the answer is.  */
  if (!no_stream || getenv ("SKIFF_NO_FAST_PATH") || !(index == 1 || (index == 2 && strcmp (argv[1], "container") == 0)))
    return -1;

  char data[PATH_MAX], run[PATH_MAX];
  if (!data_dir (data, sizeof data))
    return -1;
  snprintf (run, sizeof run, "%s", runroot);

  char meminfo[4096];
  const char *total = read_small ("/proc/meminfo", meminfo, sizeof meminfo) ? strstr (meminfo, "MemTotal:") : NULL;
  double host_memory = total ? strtod (total + 9, NULL) * 1024 : 0;

  struct dirent **entries = NULL;
  int count = container_ids (data, &entries);
  static row rows[MAX_ROWS];
  int n = 0;
  bool ok = count <= MAX_ROWS;
  for (int i = 0; i < count; i++)
    {
      bool listed = false;
      if (ok && !container_row (data, run, entries[i]->d_name, host_memory, &rows[n], &listed))
        ok = false;
      if (listed)
        n++;
      free (entries[i]);
    }
  free (entries);
  if (!ok)
    return -1;

  /* printTable: every column but the last padded to its widest cell, two spaces between; the
     whole table in one buffer, written once (from here on Node never answers too).  */
  size_t widths[COLUMNS], size = 1;
  for (int c = 0; c < COLUMNS; c++)
    {
      widths[c] = strlen (HEADERS[c]) > MIN_COLUMN_WIDTH ? strlen (HEADERS[c]) : MIN_COLUMN_WIDTH;
      for (int i = 0; i < n; i++)
        if (strlen (rows[i].cells[c]) > widths[c])
          widths[c] = strlen (rows[i].cells[c]);
      size += (widths[c] + 2) * (size_t) (n + 1);
    }
  size += (size_t) n + 1;
  char *table = malloc (size);
  if (!table)
    return -1;
  size_t len = 0;
  for (int i = -1; i < n; i++)
    {
      size_t start = len;
      for (int c = 0; c < COLUMNS; c++)
        {
          const char *text = i < 0 ? HEADERS[c] : rows[i].cells[c];
          len += (size_t) snprintf (table + len, size - len, c == COLUMNS - 1 ? "%-*s" : "%-*s  ", c == COLUMNS - 1 ? 0 : (int) widths[c], text);
        }
      while (len > start && table[len - 1] == ' ')
        len--;
      table[len++] = '\n';
    }
  bool written = fwrite (table, 1, len, stdout) == len && fflush (stdout) == 0;
  free (table);
  return written ? 0 : 1;
}
