/* The sync pipe (PROTOCOL.md): `{"listening":true}` once the attach socket listens, when the CLI
 * gives a go; then the monitor's one report, `{"pid":N}` or `{"pid":-1,"message":"..."}`, after
 * which the pipe is closed.  */
#ifndef SKIFF_MONITOR_SYNC_PIPE_H
#define SKIFF_MONITOR_SYNC_PIPE_H

#include <stddef.h>

/* The most of the runtime's output a failure report carries (its tail, where the error is).  */
#define CREATE_OUTPUT_MAX 8192

/* Says the attach socket listens: a client may connect before the go.  */
void sync_pipe_listening (int fd);

/* Reports the container's pid, or -1 and what went wrong, then closes *fd and sets it to -1
   (nothing when it is -1 already).  */
void sync_pipe_report (int *fd, int pid, const char *message, size_t message_len);

#endif
