/* The attach socket (PROTOCOL.md, "Attach socket"): clients get the container's output as frames
 * and send stdin, EOF, pty resizes and their clean-up frames back.  A client that cannot keep up
 * is dropped, never waited on.  */
#ifndef SKIFF_MONITOR_ATTACH_H
#define SKIFF_MONITOR_ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#define MAX_CLIENTS 16
/* The largest frame a client may send, and the most output read at once.  */
#define READ_BUF (64 * 1024)

/* Frame types, [type: u8][length: u32 big-endian][payload].  */
enum {
  FRAME_STDIN = 0,
  FRAME_STDOUT = 1,
  FRAME_STDERR = 2,
  FRAME_EXIT = 3,
  FRAME_CLOSE_STDIN = 4,
  FRAME_RESIZE = 5,
  FRAME_CLEANED = 6,
  FRAME_DELETE = 7,
  FRAME_STARTED = 8
};

struct client
{
  int fd; /* -1: a free slot */
  unsigned char buf[READ_BUF + 5];
  size_t len;
};

/* (The clients last: each is a page or more, touched only when used.)  */
struct attach
{
  int listen_fd;
  int stdin_fd;           /* where client stdin goes: a pipe's write end, or the pty master; -1: nowhere */
  int pty_fd;             /* the container's pty (--terminal), for resizes and EOF */
  bool cleaned_by_client; /* a client ran the exit command's work itself (type 6) */
  bool delete_left;       /* a client left the runtime's delete to the monitor (type 7) */
  bool started;           /* a client ran the runtime's start (type 8) */
  struct client clients[MAX_CLIENTS];
};

/* No clients, no listener, nowhere for stdin yet.  */
void attach_init (struct attach *a);

/* Accepts one queued client; false when none is waiting.  */
bool attach_accept (struct attach *a);

/* Reads what a client sent and acts on its whole frames; drops it at EOF, or on a frame too big.  */
void attach_read (struct attach *a, struct client *c);

/* Sends one frame to every client.  */
void attach_broadcast (struct attach *a, int type, const void *data, size_t len);

/* After the exit frame: reads the clients' last frames until all have hung up or `timeout_ms`
   has passed, then drops them.  */
void attach_await_hangups (struct attach *a, long timeout_ms);

#endif
