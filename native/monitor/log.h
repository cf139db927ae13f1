/* The container's log, k8s-file format (PROTOCOL.md, "Log"): one line per line of output, a
 * partial line marked P; renamed to FILE.1 past --log-size-max and started again.  */
#ifndef SKIFF_MONITOR_LOG_H
#define SKIFF_MONITOR_LOG_H

#include <stddef.h>

struct log
{
  const char *path;
  long long size_max; /* rotate past this size; 0: never */
  int fd;             /* -1: not open (or lost at a rotation): output goes to attach clients only */
  long long size;
};

/* Opens (appends to) the log: 0, or the errno of a log that cannot be opened.  */
int log_open (struct log *log);

/* Splits one read of output into log lines; what follows the last newline is a partial line.  */
void log_output (struct log *log, const char *stream, const char *data, size_t len);

#endif
