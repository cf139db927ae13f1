/* The sync pipe (PROTOCOL.md): `{"listening":true}` once the attach socket listens, when the CLI
 * gives a go; then the monitor's one report, `{"pid":N}` or `{"pid":-1,"message":"..."}`, after
 * which the pipe is closed.  */
#include "sync-pipe.h"
#include "util.h"
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Writes a JSON string literal (quotes included) of `s` into `out`, which has room for `cap` bytes.  */
static void
json_quote (char *out, size_t cap, const char *s, size_t len)
{
  size_t o = 0;
  if (cap < 3)
    return;
  out[o++] = '"';
  for (size_t i = 0; i < len && o + 8 < cap; i++)
    {
      unsigned char c = (unsigned char) s[i];
      if (c == '"' || c == '\\')
        {
          out[o++] = '\\';
          out[o++] = (char) c;
        }
      else if (c == '\n')
        {
          out[o++] = '\\';
          out[o++] = 'n';
        }
      else if (c < 0x20)
        o += (size_t) snprintf (out + o, cap - o, "\\u%04x", c);
      else
        out[o++] = (char) c;
    }
  out[o++] = '"';
  out[o] = '\0';
}

void
sync_pipe_listening (int fd)
{
  if (fd >= 0)
    write_all (fd, "{\"listening\":true}\n", 19);
}

void
sync_pipe_report (int *fd, int pid, const char *message, size_t message_len)
{
  static char quoted[CREATE_OUTPUT_MAX * 6 + 3];
  char line[sizeof quoted + 64];
  if (*fd < 0)
    return;
  if (message)
    {
      json_quote (quoted, sizeof quoted, message, message_len);
      snprintf (line, sizeof line, "{\"pid\":%d,\"message\":%s}\n", pid, quoted);
    }
  else
    snprintf (line, sizeof line, "{\"pid\":%d}\n", pid);
  write_all (*fd, line, strlen (line));
  close (*fd);
  *fd = -1;
}
