/* skiff-gate.so: holds an OCI runtime at the start line.
 *
 * The monitor starts the runtime (`crun run --detach …`) before the CLI has written the bundle,
 * with this library in LD_PRELOAD and SKIFF_GATE_FD=N:INODE naming a pipe.  The dynamic loader
 * maps and relocates the runtime and its libraries first (for crun, ~8 ms of a container's start,
 * most of it page faults), then runs this constructor, which waits for one byte on the pipe: the
 * monitor writes it when the bundle is there.  End of file instead means the monitor gave up (the
 * CLI cancelled or died): the runtime ends at once, having done nothing.
 *
 * Before it waits, the constructor puts the environment back as it was (LD_PRELOAD as the monitor
 * found it, kept in SKIFF_GATE_PRELOAD).  A program that reads its environment from its stack (Go:
 * runc) still passes the variables on to what it starts; there descriptor N is not that pipe (the
 * gate closed it), so the library lets the process go on untouched.  Without SKIFF_GATE_FD it does
 * nothing.  See native/monitor/PROTOCOL.md ("The runtime gate").  */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

__attribute__ ((constructor)) static void
wait_at_gate (void)
{
  const char *gate = getenv ("SKIFF_GATE_FD");
  if (!gate)
    return;
  char *end;
  long fd = strtol (gate, &end, 10);
  unsigned long long inode = *end == ':' ? strtoull (end + 1, &end, 10) : 0;
  const char *preload = getenv ("SKIFF_GATE_PRELOAD");
  if (preload)
    setenv ("LD_PRELOAD", preload, 1);
  else
    unsetenv ("LD_PRELOAD");
  unsetenv ("SKIFF_GATE_PRELOAD");
  unsetenv ("SKIFF_GATE_FD");
  struct stat st;
  if (*end || fd < 3 || fd > 1024 || fstat ((int) fd, &st) < 0 || !S_ISFIFO (st.st_mode) || st.st_ino != inode)
    return;
  char go;
  ssize_t got;
  while ((got = read ((int) fd, &go, 1)) < 0 && errno == EINTR)
    ;
  close ((int) fd);
  if (got != 1)
    _exit (125);
}
