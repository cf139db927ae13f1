/* The container's log, k8s-file format (PROTOCOL.md, "Log"): one line per line of output, a
 * partial line marked P; renamed to FILE.1 past --log-size-max and started again.  */
#define _GNU_SOURCE
#include "log.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A longer line is logged in parts, each marked partial but the last.  */
#define LINE_MAX_BYTES (16 * 1024)

int
log_open (struct log *log)
{
  struct stat st;
  log->fd = open (log->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
  if (log->fd < 0)
    return errno;
  log->size = fstat (log->fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

static void
rotate (struct log *log)
{
  char old[PATH_MAX];
  if (log->size_max <= 0 || log->size < log->size_max)
    return;
  snprintf (old, sizeof old, "%s.1", log->path);
  close (log->fd);
  rename (log->path, old);
  /* A log that cannot be reopened is lost from here on; the container goes on (this once ended
     the monitor through create_failed, long after its report).  */
  (void) log_open (log);
}

static void
log_line (struct log *log, const char *stream, const char *data, size_t len, bool partial)
{
  char head[64];
  char ts[48];
  rfc3339nano (ts, sizeof ts);
  int n = snprintf (head, sizeof head, "%s %s %c ", ts, stream, partial ? 'P' : 'F');
  if (write_all (log->fd, head, (size_t) n) < 0 || write_all (log->fd, data, len) < 0 || write_all (log->fd, "\n", 1) < 0)
    return;
  log->size += n + (long long) len + 1;
  rotate (log);
}

void
log_output (struct log *log, const char *stream, const char *data, size_t len)
{
  while (len > 0)
    {
      const char *nl = memchr (data, '\n', len < LINE_MAX_BYTES ? len : LINE_MAX_BYTES);
      if (nl)
        {
          log_line (log, stream, data, (size_t) (nl - data), false);
          len -= (size_t) (nl - data) + 1;
          data = nl + 1;
        }
      else
        {
          size_t chunk = len < LINE_MAX_BYTES ? len : LINE_MAX_BYTES;
          log_line (log, stream, data, chunk, true);
          len -= chunk;
          data += chunk;
        }
    }
}
