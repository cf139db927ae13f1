/* `skiff ps [-a] [-q] [--no-trunc] [--noheading]` answered by the launcher, without starting Node.
 *
 * Node's own start is most of what `ps` costs (~40 of ~50 ms with a hundred containers, where
 * Podman takes ~90), and the command only reads files: each container's container.json and
 * state.json, and /proc for its monitor (and its cgroup's freezer, for "(Paused)").  So the
 * launcher answers when every container is in a plain state: created or exited as state.json
 * says, or running with its monitor alive (pid and start time) and no exit file; no healthcheck;
 * every string it prints plain ASCII without JSON escapes.  Anything else (a start or stop under
 * way, a monitor gone, an exit not yet cleaned up, any other flag) and it prints nothing and
 * returns -1: Node answers, as it always can.  The output is the same bytes as Node's
 * (src/engine/container-reports.ts, src/cli/output/container.ts, printTable in
 * src/cli/output/print.ts; test/system/310-scale-limits.test.ts compares the two).  */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "format.h"
#include "json.h"
#include "proc.h"
#include "ps.h"

#define COLUMNS 7
#define MAX_ROWS 4096
#define RECORD_MAX (4 << 20)
#define CELL 1024

static const char *const HEADERS[COLUMNS] = { "CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES" };

/* Formats into the array `buf`; false when it did not fit.  */
#define FORMAT(buf, ...) (snprintf (buf, sizeof buf, __VA_ARGS__) < (int) sizeof buf)

typedef struct
{
  char created[32];
  bool running;
  int order; /* the id's place in the listing: ties in `created` keep it (Node's sort is stable) */
  char cells[COLUMNS][CELL];
} row;

/* Plain ASCII: what JavaScript's length counts as C's strlen does.  */
static bool
ascii (const char *text)
{
  for (; *text; text++)
    if ((unsigned char) *text >= 0x80 || (unsigned char) *text < 0x20)
      return false;
  return true;
}

/* The ISO time at `path` in ms, or `fallback` when absent; -1 when there but not such a time.  */
static long long
time_member (const char *json, const char *path, long long fallback)
{
  char text[64];
  if (!json_find (json, path))
    return fallback;
  return json_string (json, path, text, sizeof text) ? iso_ms (text) : -1;
}

/* Whether the cgroup of `pid` is frozen (src/cgroups/manager.ts isFrozen).  */
static bool
frozen (long long pid)
{
  char path[PATH_MAX], text[8];
  if (!FORMAT (path, "/proc/%lld/cgroup", pid))
    return false;
  char *cgroups = read_bounded (path, 1 << 16);
  if (!cgroups)
    return false;
  char *line = strncmp (cgroups, "0::", 3) == 0 ? cgroups : strstr (cgroups, "\n0::");
  bool yes = false;
  if (line)
    {
      line += line[0] == '\n' ? 4 : 3;
      line[strcspn (line, "\n")] = '\0';
      yes = FORMAT (path, "/sys/fs/cgroup%s/cgroup.freeze", line) && read_small (path, text, sizeof text) && strncmp (text, "1", 1) == 0
            && strspn (text + 1, " \n\t") == strlen (text + 1);
    }
  free (cgroups);
  return yes;
}

/* COMMAND: the entrypoint and the command, joined by spaces, cut to 17 characters and "..." past 20.  */
static bool
command_cell (const char *record, bool no_trunc, char *out)
{
  size_t len = 0;
  out[0] = '\0';
  for (int part = 0; part < 2; part++)
    {
      const char *p = json_first (json_find (record, part == 0 ? "config.entrypoint" : "config.cmd"));
      if (!p)
        return false;
      for (; p && *p != ']'; p = json_next (p))
        {
          char word[CELL];
          if (!json_string_at (p, word, sizeof word) || len + strlen (word) + 2 >= CELL)
            return false;
          len += (size_t) sprintf (out + len, "%s%s", len ? " " : "", word);
        }
      if (!p)
        return false;
    }
  if (!ascii (out))
    return false;
  if (!no_trunc && len > 20)
    strcpy (out + 17, "...");
  return true;
}

/* PORTS: "0.0.0.0:8080->80/tcp, ..." (portsText).  */
static bool
ports_cell (const char *record, char *out)
{
  out[0] = '\0';
  const char *ports = json_find (record, "config.ports");
  if (!ports)
    return true;
  size_t len = 0;
  const char *p = json_first (ports);
  for (; p && *p != ']'; p = json_next (p))
    {
      char ip[64], protocol[8], one[128];
      long long host = json_integer (p, "hostPort"), container = json_integer (p, "containerPort");
      if (!json_string (p, "hostIp", ip, sizeof ip) || !json_string (p, "protocol", protocol, sizeof protocol) || host < 0 || container < 0 || !ascii (ip)
          || !FORMAT (one, "%s%s:%lld->%lld/%s", len ? ", " : "", ip, host, container, protocol) || len + strlen (one) >= CELL)
        return false;
      strcpy (out + len, one);
      len += strlen (one);
    }
  return p != NULL;
}

/* One container's row; false when Node must answer (see the top).  `*listed`: it has a record.  */
static bool
container_row (const char *data, const char *run, const char *id, bool no_trunc, long long now, row *r, bool *listed)
{
  char status[32], text[64];
  char *record = NULL, *state = NULL;
  bool ok = false;
  *listed = false;
  int files = container_files (data, id, RECORD_MAX, &record, &state);
  if (files == 0)
    return true; /* Node skips a container without a record */
  if (files < 0)
    goto out;
  if (!json_string (state, "status", status, sizeof status) || json_find (state, "launching") || json_find (record, "config.healthcheck"))
    goto out;
  if (!json_string (record, "created", r->created, sizeof r->created) || iso_ms (r->created) < 0)
    goto out;
  char *status_cell = r->cells[4];
  if (strcmp (status, "created") == 0)
    snprintf (status_cell, CELL, "Created");
  else if (strcmp (status, "exited") == 0)
    {
      long long code = -1, finished = time_member (state, "finishedAt", now);
      if ((json_find (state, "exitCode") && !json_signed (state, "exitCode", &code)) || finished < 0)
        goto out;
      human_duration (finished, now, text, sizeof text);
      snprintf (status_cell, CELL, "Exited (%lld) %s ago", code, text);
    }
  else if (strcmp (status, "running") == 0)
    {
      /* The plain case: its monitor alive (pid and start time) and no exit file yet.  */
      long long pid = json_integer (state, "pid");
      if (!monitor_alive (run, id, state))
        goto out;
      long long started = time_member (state, "startedAt", now);
      if (started < 0)
        goto out;
      human_duration (started, now, text, sizeof text);
      /* (Paused) where it has a cgroup of its own (withPaused).  */
      snprintf (status_cell, CELL, "Up %s%s", text, own_cgroup (record) && pid > 0 && frozen (pid) ? " (Paused)" : "");
      r->running = true;
    }
  else
    goto out; /* stopping: Node sorts it out */
  snprintf (r->cells[0], CELL, "%.*s", no_trunc ? 64 : 12, id);
  if (!json_string (record, "image", r->cells[1], CELL) || !ascii (r->cells[1]) || !command_cell (record, no_trunc, r->cells[2]))
    goto out;
  human_duration (iso_ms (r->created), now, text, sizeof text);
  snprintf (r->cells[3], CELL, "%s ago", text);
  if (!ports_cell (record, r->cells[5]) || !json_string (record, "name", r->cells[6], CELL) || !ascii (r->cells[6]))
    goto out;
  ok = *listed = true;
out:
  free (record);
  free (state);
  return ok;
}

/* Oldest first, as Podman lists; equal times in the listing's order.  */
static int
by_created (const void *a, const void *b)
{
  const row *x = *(row *const *) a, *y = *(row *const *) b;
  int c = strcmp (x->created, y->created);
  return c ? c : x->order - y->order;
}

int
fast_ps (int argc, char **argv, int index, const char *runroot, const char *data)
{
  bool all = false, quiet = false, no_trunc = false, noheading = false;
  for (int i = index + 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--all") == 0)
        all = true;
      else if (strcmp (a, "--quiet") == 0)
        quiet = true;
      else if (strcmp (a, "--no-trunc") == 0)
        no_trunc = true;
      else if (strcmp (a, "--noheading") == 0)
        noheading = true;
      else if (a[0] == '-' && a[1] != '-' && a[1] && strspn (a + 1, "aq") == strlen (a + 1))
        all = all || strchr (a, 'a'), quiet = quiet || strchr (a, 'q');
      else
        return -1;
    }

  struct timespec clock;
  clock_gettime (CLOCK_REALTIME, &clock);
  long long now = (long long) clock.tv_sec * 1000 + clock.tv_nsec / 1000000;
  struct dirent **entries = NULL;
  int count = container_ids (data, &entries);
  row *rows = count ? calloc ((size_t) count, sizeof *rows) : NULL;
  row **shown = count ? calloc ((size_t) count, sizeof *shown) : NULL;
  int n = 0;
  bool ok = count <= MAX_ROWS && (!count || (rows && shown));
  for (int i = 0; i < count; i++)
    {
      bool listed = false;
      if (ok && !container_row (data, runroot, entries[i]->d_name, no_trunc, now, &rows[i], &listed))
        ok = false;
      rows[i].order = i;
      if (ok && listed && (all || rows[i].running))
        shown[n++] = &rows[i];
      free (entries[i]);
    }
  free (entries);
  if (!ok)
    {
      free (rows);
      free (shown);
      return -1;
    }
  qsort (shown, (size_t) n, sizeof *shown, by_created);

  /* -q: the ids; else printTable (every column but the last padded to its widest cell and at least
     MIN_COLUMN_WIDTH, two spaces between, trailing spaces cut; --noheading: no header row, which
     then does not widen its column).  Written once.  */
  size_t widths[COLUMNS], size = 1;
  for (int c = 0; c < COLUMNS; c++)
    {
      widths[c] = !noheading && strlen (HEADERS[c]) > MIN_COLUMN_WIDTH ? strlen (HEADERS[c]) : MIN_COLUMN_WIDTH;
      for (int i = 0; i < n; i++)
        if (strlen (shown[i]->cells[c]) > widths[c])
          widths[c] = strlen (shown[i]->cells[c]);
      size += (widths[c] + 2) * (size_t) (n + 1);
    }
  size += (size_t) n + 1;
  char *out = malloc (size);
  if (!out)
    {
      free (rows);
      free (shown);
      return -1;
    }
  size_t len = 0;
  for (int i = quiet || noheading ? 0 : -1; i < n; i++)
    {
      size_t start = len;
      if (quiet)
        len += (size_t) snprintf (out + len, size - len, "%s", shown[i]->cells[0]);
      else
        for (int c = 0; c < COLUMNS; c++)
          {
            const char *text = i < 0 ? HEADERS[c] : shown[i]->cells[c];
            int width = c == COLUMNS - 1 ? 0 : (int) widths[c];
            len += (size_t) snprintf (out + len, size - len, c == COLUMNS - 1 ? "%-*s" : "%-*s  ", width, text);
          }
      while (!quiet && len > start && out[len - 1] == ' ')
        len--;
      out[len++] = '\n';
    }
  bool written = fwrite (out, 1, len, stdout) == len && fflush (stdout) == 0;
  free (out);
  free (rows);
  free (shown);
  return written ? 0 : 1;
}
