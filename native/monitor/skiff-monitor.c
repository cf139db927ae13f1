/* skiff-monitor: watches one container for its whole life, conmon-style, without GLib.
 *
 * Started by the skiff CLI, it detaches (setsid, no fork), becomes a child subreaper, runs the OCI
 * runtime's `create`, reports the container's pid over a sync pipe, then copies the container's
 * output to a k8s-file log and to attach clients, feeds stdin and pty resizes from those clients,
 * writes an exit file when the container's process ends, and finally runs the exit command
 * (`skiff container cleanup ID`).  The protocol is in PROTOCOL.md beside this file.  */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define MAX_ARGS 64
#define MAX_CLIENTS 16
#define LINE_MAX_BYTES (16 * 1024)
#define READ_BUF (64 * 1024)
#define CREATE_OUTPUT_MAX 8192

enum { FRAME_STDIN = 0, FRAME_STDOUT = 1, FRAME_STDERR = 2, FRAME_EXIT = 3, FRAME_CLOSE_STDIN = 4, FRAME_RESIZE = 5, FRAME_CLEANED = 6, FRAME_DELETE = 7 };

/* How long an attached client may take to clean up after the exit before the monitor does it.  */
#define CLIENT_CLEANUP_MS 60000

struct options
{
  const char *cid, *runtime, *bundle, *pid_file, *log_path, *exit_file, *socket_path, *monitor_pid_file;
  const char *exit_command;
  const char *runtime_args[MAX_ARGS];
  int n_runtime_args;
  const char *exit_args[MAX_ARGS];
  int n_exit_args;
  const char *net_helper, *net_ns_path, *net_helper_pid_file;
  bool net_helper_ports;        /* the helper holds host ports: wait for it to end */
  const char *net_helper_adopt; /* the pid of a pasta on the namespace already (the launcher's spare) */
  const char *net_args[MAX_ARGS];
  int n_net_args;
  const char *publish[64];
  bool publish_udp[64];
  int n_publish;
  long long log_size_max;
  bool terminal, open_stdin, start;
  int sync_fd, go_fd;
};

struct client
{
  int fd;
  unsigned char buf[READ_BUF + 5];
  size_t len;
};

static struct options opt = { .sync_fd = -1, .go_fd = -1 };
static int log_fd = -1;
static long long log_size;
static struct client clients[MAX_CLIENTS];
static int stdin_fd = -1; /* where client stdin goes: a pipe's write end, or the pty master */
static int pty_fd = -1;
static char memory_events[PATH_MAX]; /* the container's cgroup v2 memory.events, when it has one */
static long oom_kills_at_start = -1;
static bool cleaned_by_client; /* an attached client ran the exit command's work itself */
static bool delete_left;       /* a client left the runtime's delete to this monitor (a removed --rm container) */

/* Receives one message on a unix socket into `data` (up to `len` bytes) and the file descriptor it
   carries (SCM_RIGHTS); -1 when there is none or the receive failed.  */
static int
recv_fd (int sock, void *data, size_t len)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { data, len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
  int fd = -1;
  if (recvmsg (sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
    return -1;
  struct cmsghdr *cm = CMSG_FIRSTHDR (&msg);
  if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
    memcpy (&fd, CMSG_DATA (cm), sizeof fd);
  return fd;
}

#include "ports.c"
#include "../common/sealed-copy.h"
#include "../common/child-signals.h"

static void
die (const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  fputs ("skiff-monitor: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

static int
write_all (int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return -1;
      p += n;
      len -= (size_t) n;
    }
  return 0;
}

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

static void
report_sync (int pid, const char *message, size_t message_len)
{
  static char quoted[CREATE_OUTPUT_MAX * 6 + 3];
  char line[sizeof quoted + 64];
  if (opt.sync_fd < 0)
    return;
  if (message)
    {
      json_quote (quoted, sizeof quoted, message, message_len);
      snprintf (line, sizeof line, "{\"pid\":%d,\"message\":%s}\n", pid, quoted);
    }
  else
    snprintf (line, sizeof line, "{\"pid\":%d}\n", pid);
  write_all (opt.sync_fd, line, strlen (line));
  close (opt.sync_fd);
  opt.sync_fd = -1;
}

/* A runtime held at the gate (see "The runtime gate" in PROTOCOL.md), and the pipe that holds it.  */
static pid_t held_runtime = -1;
static int gate_fd = -1;

/* Opens the gate: with `go` the held runtime goes on, else it gets end of file and ends at once,
   having done nothing (and is reaped).  */
static void
open_gate (bool go)
{
  if (gate_fd < 0)
    return;
  if (go)
    write_all (gate_fd, "g", 1);
  close (gate_fd);
  gate_fd = -1;
  while (!go && waitpid (held_runtime, NULL, 0) < 0 && errno == EINTR)
    ;
}

static void
create_failed (const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  open_gate (false);
  report_sync (-1, msg, strlen (msg));
  exit (1);
}

static void
rfc3339nano (char *out, size_t cap)
{
  struct timespec ts;
  struct tm tm;
  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  size_t n = strftime (out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (out + n, cap - n, ".%09ldZ", ts.tv_nsec);
}

/* 0, or the errno of a log that cannot be opened.  */
static int
open_log (void)
{
  struct stat st;
  log_fd = open (opt.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY, 0600);
  if (log_fd < 0)
    return errno;
  log_size = fstat (log_fd, &st) == 0 ? st.st_size : 0;
  return 0;
}

static void
rotate_log (void)
{
  char old[PATH_MAX];
  if (opt.log_size_max <= 0 || log_size < opt.log_size_max)
    return;
  snprintf (old, sizeof old, "%s.1", opt.log_path);
  close (log_fd);
  rename (opt.log_path, old);
  /* A log that cannot be reopened is lost from here on; the container goes on (this once ended
     the monitor through create_failed, long after its report).  */
  (void) open_log ();
}

static void
log_line (const char *stream, const char *data, size_t len, bool partial)
{
  char head[64];
  char ts[48];
  rfc3339nano (ts, sizeof ts);
  int n = snprintf (head, sizeof head, "%s %s %c ", ts, stream, partial ? 'P' : 'F');
  if (write_all (log_fd, head, (size_t) n) < 0 || write_all (log_fd, data, len) < 0 || write_all (log_fd, "\n", 1) < 0)
    return;
  log_size += n + (long long) len + 1;
  rotate_log ();
}

/* Splits one read of output into log lines; what follows the last newline is a partial line.  */
static void
log_output (const char *stream, const char *data, size_t len)
{
  while (len > 0)
    {
      const char *nl = memchr (data, '\n', len < LINE_MAX_BYTES ? len : LINE_MAX_BYTES);
      if (nl)
        {
          log_line (stream, data, (size_t) (nl - data), false);
          len -= (size_t) (nl - data) + 1;
          data = nl + 1;
        }
      else
        {
          size_t chunk = len < LINE_MAX_BYTES ? len : LINE_MAX_BYTES;
          log_line (stream, data, chunk, true);
          len -= chunk;
          data += chunk;
        }
    }
}

static void
drop_client (struct client *c)
{
  if (c->fd >= 0)
    close (c->fd);
  c->fd = -1;
  c->len = 0;
}

static void
send_frame (struct client *c, int type, const void *data, size_t len)
{
  unsigned char head[5] = { (unsigned char) type, (unsigned char) (len >> 24), (unsigned char) (len >> 16), (unsigned char) (len >> 8), (unsigned char) len };
  if (c->fd < 0)
    return;
  /* The socket is non-blocking: a client that cannot take a frame whole is dropped, never waited on.  */
  struct iovec iov[2] = { { head, 5 }, { (void *) data, len } };
  struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };
  ssize_t n = sendmsg (c->fd, &msg, MSG_NOSIGNAL);
  if (n != (ssize_t) (len + 5))
    drop_client (c);
}

static void
broadcast (int type, const void *data, size_t len)
{
  for (int i = 0; i < MAX_CLIENTS; i++)
    send_frame (&clients[i], type, data, len);
}

/* Reads what is available from a container output fd; returns false at EOF or error.  */
static bool
pump_output (int fd, int type)
{
  static char buf[READ_BUF];
  ssize_t n = read (fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0)
    return false;
  log_output (type == FRAME_STDERR ? "stderr" : "stdout", buf, (size_t) n);
  broadcast (type, buf, (size_t) n);
  return true;
}

static void
handle_frame (int type, const unsigned char *payload, size_t len)
{
  if (type == FRAME_STDIN && stdin_fd >= 0)
    {
      if (write_all (stdin_fd, payload, len) < 0 && pty_fd < 0)
        {
          close (stdin_fd);
          stdin_fd = -1;
        }
    }
  else if (type == FRAME_CLOSE_STDIN && stdin_fd >= 0)
    {
      if (pty_fd >= 0)
        write_all (pty_fd, "\004", 1); /* EOF for a pty in canonical mode */
      else
        {
          close (stdin_fd);
          stdin_fd = -1;
        }
    }
  else if (type == FRAME_CLEANED)
    cleaned_by_client = true;
  else if (type == FRAME_DELETE)
    delete_left = true;
  else if (type == FRAME_RESIZE && pty_fd >= 0)
    {
      char text[32];
      unsigned rows, cols;
      size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
      memcpy (text, payload, n);
      text[n] = '\0';
      if (sscanf (text, "%u %u", &rows, &cols) == 2)
        {
          struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
          ioctl (pty_fd, TIOCSWINSZ, &ws);
        }
    }
}

static void
read_client (struct client *c)
{
  ssize_t n = read (c->fd, c->buf + c->len, sizeof c->buf - c->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0)
    {
      drop_client (c);
      return;
    }
  c->len += (size_t) n;
  size_t off = 0;
  while (c->len - off >= 5)
    {
      size_t flen = ((size_t) c->buf[off + 1] << 24) | ((size_t) c->buf[off + 2] << 16) | ((size_t) c->buf[off + 3] << 8) | c->buf[off + 4];
      if (flen > READ_BUF)
        {
          drop_client (c);
          return;
        }
      if (c->len - off - 5 < flen)
        break;
      handle_frame (c->buf[off], c->buf + off + 5, flen);
      off += 5 + flen;
    }
  memmove (c->buf, c->buf + off, c->len - off);
  c->len -= off;
}

/* Accepts one queued client; false when none is waiting.  */
static bool
accept_client (int listen_fd)
{
  int fd = accept4 (listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0)
    return false;
  int sndbuf = 1024 * 1024;
  setsockopt (fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  for (int i = 0; i < MAX_CLIENTS; i++)
    if (clients[i].fd < 0)
      {
        clients[i].fd = fd;
        clients[i].len = 0;
        return true;
      }
  close (fd);
  return true;
}

static int
listen_unix (const char *path)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen (path) >= sizeof addr.sun_path)
    create_failed ("socket path too long: %s", path);
  strcpy (addr.sun_path, path);
  unlink (path);
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0 || bind (fd, (struct sockaddr *) &addr, sizeof addr) < 0 || listen (fd, 8) < 0)
    create_failed ("cannot listen on %s: %s", path, strerror (errno));
  chmod (path, 0600);
  return fd;
}

/* Receives the pty master that the runtime sends over the console socket (SCM_RIGHTS).  */
static int
receive_pty (int listen_fd)
{
  int conn = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    return -1;
  char data[256];
  int fd = recv_fd (conn, data, sizeof data);
  close (conn);
  return fd;
}

/* oom_kill from a cgroup v2 memory.events file, or -1.  */
static long
oom_kill_count (void)
{
  char buf[1024];
  if (!memory_events[0])
    return -1;
  int fd = open (memory_events, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  char *p = strstr (buf, "oom_kill ");
  return p ? atol (p + 9) : -1;
}

/* Finds the container's cgroup (v2: the "0::" line of /proc/PID/cgroup) for OOM detection.  */
static void
watch_cgroup (int pid)
{
  char path[64], buf[PATH_MAX];
  snprintf (path, sizeof path, "/proc/%d/cgroup", pid);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  if (n <= 0)
    return;
  buf[n] = '\0';
  char *line = strstr (buf, "0::");
  if (!line)
    return;
  line += 3;
  line[strcspn (line, "\n")] = '\0';
  snprintf (memory_events, sizeof memory_events, "/sys/fs/cgroup%s/memory.events", strcmp (line, "/") == 0 ? "" : line);
  oom_kills_at_start = oom_kill_count ();
}

static void
write_exit_file (int status)
{
  char tmp[PATH_MAX], ts[48], body[256];
  int code = WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
  int sig = WIFSIGNALED (status) ? WTERMSIG (status) : 0;
  rfc3339nano (ts, sizeof ts);
  long kills = oom_kill_count ();
  bool oom = oom_kills_at_start >= 0 && kills > oom_kills_at_start;
  int n = snprintf (body, sizeof body, "{\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\"}\n", code, sig, oom ? "true" : "false", ts);
  snprintf (tmp, sizeof tmp, "%s.tmp", opt.exit_file);
  int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return;
  write_all (fd, body, (size_t) n);
  fsync (fd);
  close (fd);
  rename (tmp, opt.exit_file);
  snprintf (body, sizeof body, "%d", code);
  broadcast (FRAME_EXIT, body, strlen (body));
}

/* The OCI runtime as a sealed memfd while the container is created and started (see
   native/common/sealed-copy.h): ~1.5 ms less a runtime call.  -1: run it from its path.  */
static int runtime_fd = -1;

/* The runtime gate's library (native/gate/skiff-gate.c), beside this program: set by
   gate_library when the runtime can be held by it.  */
static char gate_path[PATH_MAX];

/* Starts argv[0] with stdio in, out, err (-1: inherited).  gate >= 0: the runtime, held at the
   gate until a byte arrives on that descriptor (a pipe's read end).  */
static pid_t
spawn (const char *const argv[], int in, int out, int err, int gate)
{
  pid_t pid = fork ();
  if (pid != 0)
    return pid;
  sigset_t all;
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);
  signal (SIGPIPE, SIG_DFL);
  if ((in >= 0 && dup2 (in, 0) < 0) || (out >= 0 && dup2 (out, 1) < 0) || (err >= 0 && dup2 (err, 2) < 0))
    _exit (127);
  if (gate >= 0)
    {
      /* The pipe's inode too: a process the runtime starts later may inherit the variables
         (Go reads its environment from its stack) but not the pipe.  */
      char fd_text[48];
      struct stat st;
      if (fstat (gate, &st) < 0)
        _exit (127);
      snprintf (fd_text, sizeof fd_text, "%d:%llu", gate, (unsigned long long) st.st_ino);
      const char *preload = getenv ("LD_PRELOAD");
      if ((preload && setenv ("SKIFF_GATE_PRELOAD", preload, 1) < 0) || setenv ("LD_PRELOAD", gate_path, 1) < 0 || setenv ("SKIFF_GATE_FD", fd_text, 1) < 0
          || fcntl (gate, F_SETFD, 0) < 0)
        _exit (127);
    }
  if (argv[0] == opt.runtime && runtime_fd >= 0)
    fexecve (runtime_fd, (char *const *) argv, environ);
  execv (argv[0], (char *const *) argv);
  fprintf (stderr, "cannot run %s: %s\n", argv[0], strerror (errno));
  _exit (127);
}

/* Whether the runtime can be held at the gate, with gate_path set: it runs from the sealed copy
   (so never in secure-execution mode, where the loader ignores LD_PRELOAD); it is an ELF program
   of the library's class and machine that glibc's dynamic loader starts (the library is built
   against glibc: a static runtime, or musl's, would not load it and would start at once, before
   the bundle is written); and the library sits beside this program, at a path LD_PRELOAD can
   carry (no spaces or colons).  */
static bool
gate_library (void)
{
  char self[PATH_MAX];
  ssize_t n = runtime_fd >= 0 ? readlink ("/proc/self/exe", self, sizeof self - 1) : -1;
  char *slash = n > 0 ? memrchr (self, '/', (size_t) n) : NULL;
  if (!slash)
    return false;
  *slash = '\0';
  if (snprintf (gate_path, sizeof gate_path, "%s/skiff-gate.so", self) >= (int) sizeof gate_path || strpbrk (gate_path, " :\t\n"))
    return false;
  Elf64_Ehdr runtime, gate;
  int fd = open (gate_path, O_RDONLY | O_CLOEXEC);
  bool read_both = fd >= 0 && pread (fd, &gate, sizeof gate, 0) == sizeof gate && pread (runtime_fd, &runtime, sizeof runtime, 0) == sizeof runtime;
  if (fd >= 0)
    close (fd);
  if (!read_both || memcmp (runtime.e_ident, ELFMAG, SELFMAG) != 0 || memcmp (gate.e_ident, ELFMAG, SELFMAG) != 0 || runtime.e_ident[EI_CLASS] != ELFCLASS64
      || gate.e_ident[EI_CLASS] != ELFCLASS64 || runtime.e_machine != gate.e_machine || runtime.e_phentsize != sizeof (Elf64_Phdr))
    return false;
  for (int i = 0; i < runtime.e_phnum; i++)
    {
      Elf64_Phdr ph;
      if (pread (runtime_fd, &ph, sizeof ph, (off_t) (runtime.e_phoff + (Elf64_Off) i * sizeof ph)) != sizeof ph)
        return false;
      if (ph.p_type != PT_INTERP)
        continue;
      char interp[PATH_MAX] = { 0 };
      if (ph.p_filesz >= sizeof interp || pread (runtime_fd, interp, ph.p_filesz, (off_t) ph.p_offset) != (ssize_t) ph.p_filesz)
        return false;
      return strstr (interp, "/ld-linux") || strstr (interp, "/ld64.so");
    }
  return false;
}

/* The network helper for the container's network namespace.  "{pid}" in its arguments becomes
   the container's pid and "{netns}" the --net-ns-path file.  Two kinds:
   - slirp4netns, started once the container exists: given fd 3 (its exit fd: closed when this
     monitor ends, however it ends) and fd 4 (its ready fd);
   - --net-helper-pid-file F (pasta, in the foreground): ready when it has written its pid to F; it
     gets SIGTERM when this monitor ends however it ends (parent-death signal), and from
     stop_net_helper when the container does.  pasta must be given a file (it keeps too few
     capabilities to open another process's /proc/PID/ns/net): with --net-ns-path the monitor
     makes the namespace itself, bound to that file, and starts the helper before the runtime's
     `create` (whose spec names the file), so pasta's start-up (tens of ms: it fills socket
     pools) overlaps the runtime's.
   launch_net_helper starts it, await_net_helper returns NULL when it is ready, else what went wrong.
   --net-helper-adopt PID: the namespace file and pasta (PID) on it exist already (the launcher's
   spare network, see native/launcher/skiff.c).  The monitor takes it over (adopt_helper: the
   launcher's watcher leaves it alone from then on); await_adopted_helper waits for its pid file,
   and starts the helper itself on the same namespace when that pasta failed (pid file: -1).  */
static int net_exit_fd = -1, net_ready_fd = -1;
static pid_t helper_pid = -1, stoppable_helper = -1;
static int adopted_pidfd = -1; /* the adopted pasta (not a child: its pid could be reused) */
static char net_message[512];

static void
signal_helper (int sig)
{
  if (adopted_pidfd >= 0)
    syscall (SYS_pidfd_send_signal, adopted_pidfd, sig, NULL, 0);
  else
    kill (stoppable_helper, sig);
}

/* FILE.spare, the launcher's marker of an unadopted spare, becomes FILE.adopted (same content:
   "WATCHER PASTA"), by which skiff finds that pasta if this monitor dies before it can stop it.  */
static void
spare_file (char *out, size_t size, const char *suffix)
{
  snprintf (out, size, "%s.%s", opt.net_ns_path, suffix);
}

static void
adopt_helper (void)
{
  char spare[PATH_MAX + 16], adopted[PATH_MAX + 16];
  stoppable_helper = atoi (opt.net_helper_adopt);
  adopted_pidfd = (int) syscall (SYS_pidfd_open, stoppable_helper, 0);
  spare_file (spare, sizeof spare, "spare");
  spare_file (adopted, sizeof adopted, "adopted");
  /* (Failing only when the launcher's watcher has removed the spare: the CLI is gone, and the go
     never comes.)  */
  rename (spare, adopted);
}

static void
release_netns (void)
{
  if (opt.net_ns_path)
    {
      umount2 (opt.net_ns_path, MNT_DETACH);
      unlink (opt.net_ns_path);
    }
  /* (The spare's pid file is beside its namespace, not in the container's runtime dir.)  */
  if (opt.net_helper_adopt && opt.net_helper_pid_file)
    {
      char adopted[PATH_MAX + 16];
      spare_file (adopted, sizeof adopted, "adopted");
      unlink (opt.net_helper_pid_file);
      unlink (adopted);
    }
}

/* Ends the network helper with its container: slirp4netns sees its exit fd close; pasta is asked
   to quit, and when it holds host ports, waited for (up to a second) so that they are free once
   the exit is reported.  Not otherwise: a pasta takes ~20 ms to end (its socket pools and buffers).  */
static void
stop_net_helper (void)
{
  if (net_exit_fd >= 0)
    close (net_exit_fd);
  net_exit_fd = -1;
  release_netns ();
  if (stoppable_helper <= 0)
    return;
  signal_helper (SIGTERM);
  for (int waited = 0; waited < 1000 && opt.net_helper_ports; waited++)
    {
      pid_t got = waitpid (stoppable_helper, NULL, WNOHANG);
      if (got == stoppable_helper || (got < 0 && errno == ECHILD))
        break;
      if (waited == 999)
        kill (stoppable_helper, SIGKILL), waitpid (stoppable_helper, NULL, 0);
      usleep (1000);
    }
  stoppable_helper = -1;
}

/* The helper's last line of complaint, without pasta's "Failed to send ... to syslog" noise.  */
static void
last_error_line (int fd, char *out, size_t size)
{
  char buf[4096];
  ssize_t n = read (fd, buf, sizeof buf - 1);
  buf[n > 0 ? n : 0] = 0;
  char *line = strtok (buf, "\n");
  for (; line; line = strtok (NULL, "\n"))
    if (strncmp (line, "Failed to send ", 15) != 0 && line[0])
      snprintf (out, size, "%s", line);
}

/* --net-ns-path: a new network namespace, bound to that file by a child (the monitor could not
   return to its own namespace, which belongs to the host's user namespace).  */
static const char *
create_netns (void)
{
  int fd = open (opt.net_ns_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644), status = -1;
  if (fd < 0)
    {
      snprintf (net_message, sizeof net_message, "cannot create %s: %s", opt.net_ns_path, strerror (errno));
      return net_message;
    }
  close (fd);
  pid_t child = fork ();
  if (child == 0)
    _exit (unshare (CLONE_NEWNET) < 0 || mount ("/proc/self/ns/net", opt.net_ns_path, NULL, MS_BIND, NULL) < 0 ? errno : 0);
  if (child < 0 || waitpid (child, &status, 0) != child || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      snprintf (net_message, sizeof net_message, "cannot make a network namespace at %s: %s", opt.net_ns_path,
                child < 0            ? strerror (errno)
                : WIFEXITED (status) ? strerror (WEXITSTATUS (status))
                                     : "killed");
      unlink (opt.net_ns_path);
      return net_message;
    }
  return NULL;
}

static const char *
launch_net_helper (int container)
{
  char pid[16];
  const char *argv[MAX_ARGS + 2];
  int exit_pipe[2], ready_pipe[2], n = 0;
  snprintf (pid, sizeof pid, "%d", container);
  argv[n++] = opt.net_helper;
  for (int i = 0; i < opt.n_net_args; i++)
    argv[n++] = strcmp (opt.net_args[i], "{pid}") == 0 ? pid : strcmp (opt.net_args[i], "{netns}") == 0 ? opt.net_ns_path : opt.net_args[i];
  argv[n] = NULL;
  if (pipe2 (exit_pipe, O_CLOEXEC) < 0 || pipe2 (ready_pipe, O_CLOEXEC) < 0)
    return "pipe failed";
  if (opt.net_helper_pid_file)
    unlink (opt.net_helper_pid_file);
  pid_t monitor = getpid ();
  helper_pid = fork ();
  if (helper_pid < 0)
    return "fork failed";
  if (helper_pid == 0)
    {
      reset_child_signals ();
      if (opt.net_helper_pid_file && (prctl (PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid () != monitor))
        _exit (127);
      int devnull = open ("/dev/null", O_RDWR);
      /* Move the pipe ends clear of 3 and 4 first, then into place (dup2 clears O_CLOEXEC).  A
         pid-file helper's stderr is the ready pipe: what it says when it fails.  */
      int e = fcntl (exit_pipe[0], F_DUPFD, 10), r = fcntl (ready_pipe[1], F_DUPFD, 10);
      if (e < 0 || r < 0 || dup2 (devnull, 0) < 0 || dup2 (devnull, 1) < 0)
        _exit (127);
      if (opt.net_helper_pid_file ? dup2 (r, 2) < 0 : (dup2 (e, 3) < 0 || dup2 (r, 4) < 0))
        _exit (127);
      execv (argv[0], (char *const *) argv);
      _exit (127);
    }
  close (exit_pipe[0]);
  close (ready_pipe[1]);
  net_ready_fd = ready_pipe[0];
  if (opt.net_helper_pid_file)
    stoppable_helper = helper_pid, close (exit_pipe[1]);
  else
    net_exit_fd = exit_pipe[1];
  return NULL;
}

/* The number in the helper's pid file (0 while there is none).  */
static int
helper_pid_file (void)
{
  int written = 0;
  FILE *f = fopen (opt.net_helper_pid_file, "r");
  if (f)
    {
      if (fscanf (f, "%d", &written) != 1)
        written = 0;
      fclose (f);
    }
  return written;
}

static const char *
await_net_helper (void)
{
  bool ready = false, reaped = false;
  net_message[0] = 0;
  if (opt.net_helper_pid_file)
    {
      int status = -1;
      for (int waited = 0; waited < 10000 && !ready && !reaped; waited++)
        {
          ready = helper_pid_file () == helper_pid;
          if (!ready && !(reaped = waitpid (helper_pid, &status, WNOHANG) == helper_pid))
            usleep (1000);
        }
      if (reaped)
        stoppable_helper = -1;
      char line[400] = "";
      fcntl (net_ready_fd, F_SETFL, O_NONBLOCK);
      if (!ready)
        last_error_line (net_ready_fd, line, sizeof line);
      if (!ready && line[0])
        snprintf (net_message, sizeof net_message, "network helper %s failed: %s", opt.net_helper, line);
    }
  else
    {
      struct pollfd p = { net_ready_fd, POLLIN, 0 };
      char byte;
      ready = poll (&p, 1, 10000) > 0 && read (net_ready_fd, &byte, 1) == 1;
    }
  close (net_ready_fd);
  net_ready_fd = -1;
  if (ready)
    return NULL;
  if (!net_message[0])
    snprintf (net_message, sizeof net_message, "network helper %s did not get ready (see its arguments with --log-level debug)", opt.net_helper);
  if (!reaped)
    kill (helper_pid, SIGKILL), waitpid (helper_pid, NULL, 0);
  stoppable_helper = -1;
  release_netns ();
  return net_message;
}

static const char *
await_adopted_helper (void)
{
  for (int waited = 0; waited < 10000; waited++)
    {
      int written = helper_pid_file ();
      if (written == stoppable_helper)
        return NULL;
      if (written < 0)
        break;
      usleep (1000);
    }
  if (stoppable_helper > 0)
    signal_helper (SIGKILL);
  stoppable_helper = -1;
  if (adopted_pidfd >= 0)
    close (adopted_pidfd);
  adopted_pidfd = -1;
  const char *failure = launch_net_helper (-1);
  return failure ? failure : await_net_helper ();
}

/* Runs `RUNTIME [runtime-args] VERB [--force] ID` ("delete" gets --force); its stderr goes to
   `message` when given.  Returns its exit status (0 on success).  */
static int
run_runtime (const char *verb, char *message, size_t size)
{
  const char *argv[MAX_ARGS + 8];
  int n = 0, err[2] = { -1, -1 };
  argv[n++] = opt.runtime;
  for (int i = 0; i < opt.n_runtime_args; i++)
    argv[n++] = opt.runtime_args[i];
  argv[n++] = verb;
  if (strcmp (verb, "delete") == 0)
    argv[n++] = "--force";
  argv[n++] = opt.cid;
  argv[n] = NULL;
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (message && pipe2 (err, O_CLOEXEC) < 0)
    err[0] = err[1] = -1;
  pid_t pid = spawn (argv, devnull, devnull, err[1] >= 0 ? err[1] : devnull, -1);
  close (devnull);
  if (err[1] >= 0)
    close (err[1]);
  size_t len = 0;
  if (err[0] >= 0)
    {
      ssize_t r;
      while (len < size - 1 && (r = read (err[0], message + len, size - 1 - len)) > 0)
        len += (size_t) r;
      close (err[0]);
    }
  if (message)
    {
      while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == ' '))
        len--;
      message[len] = '\0';
    }
  int status = -1;
  while (pid > 0 && waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  return pid > 0 && WIFEXITED (status) ? WEXITSTATUS (status) : 1;
}

static void
run_exit_command (void)
{
  const char *argv[MAX_ARGS + 2];
  int n = 0;
  if (!opt.exit_command)
    return;
  argv[n++] = opt.exit_command;
  for (int i = 0; i < opt.n_exit_args; i++)
    argv[n++] = opt.exit_args[i];
  argv[n] = NULL;
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t pid = spawn (argv, devnull, devnull, devnull, -1);
  int status;
  /* As subreaper this also collects any last orphans of the container.  */
  while (pid > 0)
    {
      pid_t got = waitpid (-1, &status, 0);
      if (got == pid || (got < 0 && errno != EINTR))
        break;
    }
}

static void
parse_args (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(name, field)               \
  if (strcmp (a, name) == 0)            \
    {                                   \
      if (!v)                           \
        die ("%s needs a value", name); \
      field = v;                        \
      i++;                              \
      continue;                         \
    }
      TAKE ("--cid", opt.cid);
      TAKE ("--runtime", opt.runtime);
      TAKE ("--bundle", opt.bundle);
      TAKE ("--pid-file", opt.pid_file);
      TAKE ("--log-path", opt.log_path);
      TAKE ("--exit-file", opt.exit_file);
      TAKE ("--socket-path", opt.socket_path);
      TAKE ("--monitor-pid-file", opt.monitor_pid_file);
      TAKE ("--exit-command", opt.exit_command);
      TAKE ("--net-helper", opt.net_helper);
      TAKE ("--net-ns-path", opt.net_ns_path);
      TAKE ("--net-helper-pid-file", opt.net_helper_pid_file);
      TAKE ("--net-helper-adopt", opt.net_helper_adopt);
#undef TAKE
      if (strcmp (a, "--runtime-arg") == 0 && v && opt.n_runtime_args < MAX_ARGS - 16)
        opt.runtime_args[opt.n_runtime_args++] = argv[++i];
      else if (strcmp (a, "--exit-command-arg") == 0 && v && opt.n_exit_args < MAX_ARGS)
        opt.exit_args[opt.n_exit_args++] = argv[++i];
      else if (strcmp (a, "--net-helper-arg") == 0 && v && opt.n_net_args < MAX_ARGS - 2)
        opt.net_args[opt.n_net_args++] = argv[++i];
      else if ((strcmp (a, "--publish-tcp") == 0 || strcmp (a, "--publish-udp") == 0) && v && opt.n_publish < 64)
        {
          opt.publish_udp[opt.n_publish] = a[10] == 'u';
          opt.publish[opt.n_publish++] = argv[++i];
        }
      else if (strcmp (a, "--log-size-max") == 0 && v)
        opt.log_size_max = atoll (argv[++i]);
      else if (strcmp (a, "--sync-fd") == 0 && v)
        opt.sync_fd = atoi (argv[++i]);
      else if (strcmp (a, "--go-fd") == 0 && v)
        opt.go_fd = atoi (argv[++i]);
      else if (strcmp (a, "--terminal") == 0)
        opt.terminal = true;
      else if (strcmp (a, "--start") == 0)
        opt.start = true;
      else if (strcmp (a, "--net-helper-ports") == 0)
        opt.net_helper_ports = true;
      else if (strcmp (a, "--stdin") == 0)
        opt.open_stdin = true;
      else
        die ("unknown or incomplete option %s", a);
    }
  if (!opt.cid || !opt.runtime || !opt.bundle || !opt.pid_file || !opt.log_path || !opt.exit_file || !opt.socket_path)
    die ("usage: skiff-monitor --cid ID --runtime PATH --bundle DIR --pid-file F --log-path F --exit-file F --socket-path S [...]");
}

/* No fork: the process the CLI started is the monitor, in a session of its own (no signal meant
   for the CLI's terminal reaches it; started in the CLI's process group, it is no group leader,
   so it can make one).  The CLI does not wait for it: it reaps it only when it reported a failure
   (then it exits at once); a running monitor outlives the CLI and is left to PID 1, or to a
   subreaper.  As the session's leader it must open nothing that could be a terminal without
   O_NOCTTY: it opens only its own files, and gets a container's pty over the console socket.
   (conmon forks twice, to not lead its session; on a host where a fork costs ~1 ms that is time
   on every container's start.)  */
static void
detach (void)
{
  if (setsid () < 0)
    create_failed ("setsid: %s", strerror (errno));
  prctl (PR_SET_CHILD_SUBREAPER, 1);
  signal (SIGPIPE, SIG_IGN);
  signal (SIGINT, SIG_IGN);
  signal (SIGHUP, SIG_IGN);
  if (opt.monitor_pid_file)
    {
      FILE *f = fopen (opt.monitor_pid_file, "w");
      if (f)
        {
          fprintf (f, "%d\n", getpid ());
          fclose (f);
        }
    }
}

static int
read_pid_file (void)
{
  char buf[32] = { 0 };
  int fd = open (opt.pid_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read (fd, buf, sizeof buf - 1);
  close (fd);
  return n > 0 ? atoi (buf) : -1;
}

int
main (int argc, char **argv)
{
  parse_args (argc, argv);
  if (opt.sync_fd >= 0)
    fcntl (opt.sync_fd, F_SETFD, FD_CLOEXEC);
  if (opt.go_fd >= 0)
    fcntl (opt.go_fd, F_SETFD, FD_CLOEXEC);
  for (int i = 0; i < MAX_CLIENTS; i++)
    clients[i].fd = -1;
  detach ();

  sigset_t chld;
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, NULL);
  int sig_fd = signalfd (-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

  /* The container's stdio: pipes (the runtime's stderr doubles as the channel for its errors), or a pty.  */
  int out_pipe[2] = { -1, -1 }, err_pipe[2] = { -1, -1 }, in_pipe[2] = { -1, -1 };
  int console_fd = -1;
  char console_path[PATH_MAX];
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (pipe2 (err_pipe, O_CLOEXEC) < 0)
    create_failed ("pipe: %s", strerror (errno));
  if (opt.terminal)
    {
      snprintf (console_path, sizeof console_path, "%s.console", opt.socket_path);
      console_fd = listen_unix (console_path);
    }
  else
    {
      if (pipe2 (out_pipe, O_CLOEXEC) < 0 || (opt.open_stdin && pipe2 (in_pipe, O_CLOEXEC) < 0))
        create_failed ("pipe: %s", strerror (errno));
    }

  /* The runtime's sealed copy is made while the CLI still writes the bundle.  */
  runtime_fd = sealed_copy (opt.runtime);

  /* --start with nothing to do between create and start: one `run --detach` instead of `create`
     and `start`, a runtime call fewer.  Not with a network helper: slirp4netns needs the
     container's pid, and the container's process must not start before pasta has set up its
     namespace (found with a pasta made slow on purpose: the process saw only lo).  */
  bool run_detached = opt.start && !opt.net_helper;
  const char *rargv[MAX_ARGS + 16];
  int n = 0;
  rargv[n++] = opt.runtime;
  for (int i = 0; i < opt.n_runtime_args; i++)
    rargv[n++] = opt.runtime_args[i];
  rargv[n++] = run_detached ? "run" : "create";
  if (run_detached)
    rargv[n++] = "--detach";
  rargv[n++] = "--bundle";
  rargv[n++] = opt.bundle;
  rargv[n++] = "--pid-file";
  rargv[n++] = opt.pid_file;
  if (opt.terminal)
    {
      rargv[n++] = "--console-socket";
      rargv[n++] = console_path;
    }
  rargv[n++] = opt.cid;
  rargv[n] = NULL;
  int runtime_in = opt.open_stdin && !opt.terminal ? in_pipe[0] : devnull, runtime_out = opt.terminal ? devnull : out_pipe[1];

  /* With --go-fd the runtime starts now, before the bundle exists, held at the gate
     (native/gate/skiff-gate.c) until the go: its loading overlaps the CLI's work and the rest of
     this set-up.  */
  if (opt.go_fd >= 0 && gate_library ())
    {
      int ends[2];
      if (pipe2 (ends, O_CLOEXEC) == 0)
        {
          /* Above the descriptors the child's stdio takes.  */
          int held = fcntl (ends[0], F_DUPFD_CLOEXEC, 10);
          close (ends[0]);
          held_runtime = held >= 0 ? spawn (rargv, runtime_in, runtime_out, err_pipe[1], held) : -1;
          if (held >= 0)
            close (held);
          if (held_runtime > 0)
            gate_fd = ends[1];
          else
            close (ends[1]);
        }
    }

  /* The rest of the set-up, while the runtime loads: the attach socket, published ports, the
     network namespace and its helper.  */
  int listen_fd = listen_unix (opt.socket_path);
  ports_init ();
  for (int i = 0; i < opt.n_publish; i++)
    {
      const char *failure = publish_port (opt.publish[i], opt.publish_udp[i]);
      if (failure)
        {
          unlink (opt.socket_path);
          create_failed ("%s", failure);
        }
    }

  /* A namespace of the monitor's own making gets its helper now, while the runtime creates.  */
  if (opt.net_helper_adopt)
    adopt_helper ();
  else if (opt.net_helper && opt.net_ns_path)
    {
      const char *failure = create_netns ();
      if (!failure)
        failure = launch_net_helper (-1);
      if (failure)
        {
          stop_net_helper ();
          unlink (opt.socket_path);
          create_failed ("%s", failure);
        }
    }

  /* --go-fd: the CLI started this monitor early, to set up (and start the network helper) while it
     mounts the root and writes the bundle; one byte says the bundle is there, end of file that
     the CLI gave up (or died): then nothing is created.  */
  if (opt.go_fd >= 0)
    {
      /* The attach socket listens: a client may connect now (the report line follows later).  */
      if (opt.sync_fd >= 0)
        write_all (opt.sync_fd, "{\"listening\":true}\n", 19);
      char go;
      ssize_t got;
      while ((got = read (opt.go_fd, &go, 1)) < 0 && errno == EINTR)
        ;
      close (opt.go_fd);
      if (got != 1)
        {
          stop_net_helper ();
          unlink (opt.socket_path);
          create_failed ("cancelled before the container was created");
        }
    }

  /* The log lives in the container's directory, which a `run` may still be writing until the go
     (it starts this monitor first when pasta, slow to start, is to set up the network).  */
  int log_error = open_log ();
  if (log_error)
    {
      stop_net_helper ();
      unlink (opt.socket_path);
      create_failed ("cannot open log %s: %s", opt.log_path, strerror (log_error));
    }
  open_gate (true);
  pid_t runtime = held_runtime > 0 ? held_runtime : spawn (rargv, runtime_in, runtime_out, err_pipe[1], -1);
  if (runtime < 0)
    create_failed ("fork: %s", strerror (errno));
  close (err_pipe[1]);
  if (!opt.terminal)
    {
      close (out_pipe[1]);
      if (opt.open_stdin)
        {
          close (in_pipe[0]);
          stdin_fd = in_pipe[1];
        }
    }

  /* Create phase: collect the runtime's messages (and the pty) until `create` exits.  */
  static char create_out[CREATE_OUTPUT_MAX];
  size_t create_len = 0;
  int runtime_status = -1;
  fcntl (err_pipe[0], F_SETFL, O_NONBLOCK);
  while (runtime_status < 0)
    {
      struct pollfd p[3] = { { sig_fd, POLLIN, 0 }, { err_pipe[0], POLLIN, 0 }, { console_fd, POLLIN, 0 } };
      if (poll (p, 3, -1) < 0 && errno != EINTR)
        create_failed ("poll: %s", strerror (errno));
      if (p[1].revents & POLLIN)
        {
          ssize_t r = read (err_pipe[0], create_out + create_len, sizeof create_out - create_len);
          if (r > 0)
            create_len += (size_t) r;
          if (create_len == sizeof create_out)
            create_len = 0; /* keep the tail, where the error usually is */
        }
      if (console_fd >= 0 && (p[2].revents & POLLIN))
        pty_fd = receive_pty (console_fd);
      if (p[0].revents & POLLIN)
        {
          struct signalfd_siginfo si;
          while (read (sig_fd, &si, sizeof si) > 0)
            ;
          int status;
          if (waitpid (runtime, &status, WNOHANG) == runtime)
            runtime_status = status;
        }
    }
  if (console_fd >= 0)
    {
      close (console_fd);
      unlink (console_path);
    }
  if (!WIFEXITED (runtime_status) || WEXITSTATUS (runtime_status) != 0)
    {
      ssize_t r = read (err_pipe[0], create_out + create_len, sizeof create_out - create_len);
      if (r > 0)
        create_len += (size_t) r;
      while (create_len > 0 && (create_out[create_len - 1] == '\n' || create_out[create_len - 1] == ' '))
        create_len--;
      if (create_len == 0)
        create_len = (size_t) snprintf (create_out, sizeof create_out, "%s %s exited with status %d", opt.runtime, rargv[opt.n_runtime_args + 1],
                                        WIFEXITED (runtime_status) ? WEXITSTATUS (runtime_status) : 128 + WTERMSIG (runtime_status));
      stop_net_helper ();
      if (run_detached)
        run_runtime ("delete", NULL, 0); /* whatever a failed `run` left */
      unlink (opt.socket_path);
      report_sync (-1, create_out, create_len);
      return 1;
    }
  const char *early_stderr = run_detached ? create_out : NULL;
  size_t early_stderr_len = run_detached ? create_len : 0;
  int container = read_pid_file ();
  if (container <= 0)
    create_failed ("%s create left no pid in %s", opt.runtime, opt.pid_file);
  if (opt.terminal)
    {
      if (pty_fd < 0)
        create_failed ("%s sent no terminal over the console socket", opt.runtime);
      close (err_pipe[0]);
      err_pipe[0] = -1;
      if (opt.open_stdin)
        stdin_fd = pty_fd;
    }
  watch_cgroup (container);
  const char *failure = NULL;
  if (opt.net_helper && !opt.net_ns_path)
    failure = launch_net_helper (container);
  if (opt.net_helper && !failure)
    failure = opt.net_helper_adopt ? await_adopted_helper () : await_net_helper ();
  if (!failure && n_published)
    failure = start_dialer (container);
  /* --start: a detached container is started here, without another round trip to the CLI.  */
  static char start_error[CREATE_OUTPUT_MAX];
  if (!failure && opt.start && !run_detached && run_runtime ("start", start_error, sizeof start_error) != 0)
    failure = start_error[0] ? start_error : "the OCI runtime's start failed";
  if (failure)
    {
      /* The container exists but must not run like this: remove it.  */
      stop_net_helper ();
      run_runtime ("delete", NULL, 0);
      unlink (opt.socket_path);
      report_sync (-1, failure, strlen (failure));
      return 1;
    }
  report_sync (container, NULL, 0);
  /* Not kept for the container's life: its pages would count against the container's memory.  */
  if (runtime_fd >= 0)
    close (runtime_fd);
  runtime_fd = -1;

  /* Watch phase.  */
  int out_fd = opt.terminal ? pty_fd : out_pipe[0];
  int errout_fd = opt.terminal ? -1 : err_pipe[0];
  int exit_status = -1;
  /* The first round looks for an exit without waiting for SIGCHLD: a container run by `run
     --detach` may have ended while the create phase drained the signals.  */
  bool first = true;
  while (exit_status < 0)
    {
      struct pollfd p[4 + MAX_CLIENTS + MAX_PUBLISHED + MAX_FLOWS + 2 * MAX_RELAYS];
      int np = 0;
      p[np++] = (struct pollfd) { sig_fd, POLLIN, 0 };
      p[np++] = (struct pollfd) { listen_fd, POLLIN, 0 };
      p[np++] = (struct pollfd) { out_fd, POLLIN, 0 };
      p[np++] = (struct pollfd) { errout_fd, POLLIN, 0 };
      for (int i = 0; i < MAX_CLIENTS; i++)
        p[np++] = (struct pollfd) { clients[i].fd, POLLIN, 0 };
      int ports_at = np;
      np += ports_poll_fds (p + np);
      if (poll (p, (nfds_t) np, first ? 0 : -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      /* Accept first: a client that connected before the container started (the CLI attaches,
         then runs `start`) is already queued here, and must get the very first output.  */
      if (p[1].revents & POLLIN)
        while (accept_client (listen_fd))
          ;
      /* What a container run by `run --detach` wrote to stderr while the runtime still held the
         pipe was read as the runtime's: it is the container's.  */
      if (first && early_stderr_len > 0)
        {
          log_output ("stderr", early_stderr, early_stderr_len);
          broadcast (FRAME_STDERR, early_stderr, early_stderr_len);
        }
      if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
        if (!pump_output (out_fd, FRAME_STDOUT))
          out_fd = -1;
      if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
        if (!pump_output (errout_fd, FRAME_STDERR))
          errout_fd = -1;
      for (int i = 0; i < MAX_CLIENTS; i++)
        if (p[4 + i].fd >= 0 && (p[4 + i].revents & (POLLIN | POLLHUP | POLLERR)))
          read_client (&clients[i]);
      ports_handle (p + ports_at);
      if ((p[0].revents & POLLIN) || first)
        {
          struct signalfd_siginfo si;
          while (read (sig_fd, &si, sizeof si) > 0)
            ;
          int status;
          pid_t got;
          while ((got = waitpid (-1, &status, WNOHANG)) > 0)
            if (got == container)
              exit_status = status;
        }
      first = false;
    }

  /* Drain what the container wrote before it ended.  */
  for (int fd_i = 0; fd_i < 2; fd_i++)
    {
      int fd = fd_i == 0 ? out_fd : errout_fd;
      if (fd < 0)
        continue;
      fcntl (fd, F_SETFL, O_NONBLOCK);
      while (pump_output (fd, fd_i == 0 ? FRAME_STDOUT : FRAME_STDERR))
        {
          struct pollfd p = { fd, POLLIN, 0 };
          if (poll (&p, 1, 0) <= 0)
            break;
        }
    }
  ports_close ();
  stop_net_helper ();
  write_exit_file (exit_status);
  close (listen_fd);
  unlink (opt.socket_path);
  /* Attached clients (`run` in the foreground) clean up themselves and say so: wait for them to
     hang up, and run the exit command only if none did the work (or one died trying).  */
  struct timespec start, now;
  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;)
    {
      struct pollfd p[MAX_CLIENTS];
      int np = 0;
      for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0)
          p[np++] = (struct pollfd) { clients[i].fd, POLLIN, 0 };
      clock_gettime (CLOCK_MONOTONIC, &now);
      long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
      if (np == 0 || waited >= CLIENT_CLEANUP_MS)
        break;
      if (poll (p, (nfds_t) np, (int) (CLIENT_CLEANUP_MS - waited)) < 0 && errno != EINTR)
        break;
      for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0)
          for (int j = 0; j < np; j++)
            if (p[j].fd == clients[i].fd && (p[j].revents & (POLLIN | POLLHUP | POLLERR)))
              read_client (&clients[i]);
    }
  for (int i = 0; i < MAX_CLIENTS; i++)
    drop_client (&clients[i]);
  if (!cleaned_by_client)
    run_exit_command ();
  if (delete_left)
    run_runtime ("delete", NULL, 0);
  return 0;
}
