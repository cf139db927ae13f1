/* skiff-monitor: watches one container for its whole life, conmon-style, without GLib.
 *
 * Started by the skiff CLI, it detaches (setsid, no fork), becomes a child subreaper, runs the OCI
 * runtime's `create`, reports the container's pid over a sync pipe, then copies the container's
 * output to a k8s-file log and to attach clients, feeds stdin and pty resizes from those clients,
 * writes an exit file when the container's process ends, and finally runs the exit command
 * (`skiff container cleanup ID`).  The protocol is in PROTOCOL.md beside this file.
 *
 * This file is main() and its phases: set-up, create, watch, end.  Each concern has a file of its
 * own: cli.c (the command line), sync-pipe.c (the report to the CLI), runtime.c (the OCI runtime:
 * spawn, gate, sealed copy), container-io.c (the container's stdio), log.c, attach.c (the attach
 * socket), exit-file.c (exit file, OOM, exit command), net-helper.c (pasta, slirp4netns),
 * ports.c (ports the monitor forwards itself), health.c (the healthcheck timer) and notify.c
 * (sd_notify for systemd units).  */
#define _GNU_SOURCE
#include "attach.h"
#include "bridge.h"
#include "cli.h"
#include "container-io.h"
#include "exit-file.h"
#include "health.h"
#include "log.h"
#include "net-helper.h"
#include "notify.h"
#include "ports.h"
#include "runtime.h"
#include "sync-pipe.h"
#include "util.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long an attached client may take to clean up after the exit before the monitor does it.  */
#define CLIENT_CLEANUP_MS 60000

/* The monitor's state, one part per concern; main() hands each to the code of its file.  (Static,
   not on the stack: the attach clients' buffers are 1 MiB, touched only when used.)  */
static struct options opt = { .sync_fd = -1, .go_fd = -1 };
static struct runtime runtime;
static struct container_io io;
static struct log log_file;
static struct attach attach;
static struct net_helper net;
static struct ports ports;
static struct health health = { .timer_fd = -1 };
static int timeout_fd = -1; /* --timeout-s, armed once the container runs */
static struct notify notify = { .host_fd = -1, .proxy_fd = -1 };
static struct oom_watch oom = { .kills_at_start = -1, .fd = -1, .parent_fd = -1, .parent_kills_at_start = -1 };

/* Ends a create that cannot go on: the held runtime is let go (it ends having done nothing), and
   the failure is reported.  */
static __attribute__ ((noreturn, format (printf, 1, 2))) void
create_failed (const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start (ap, fmt);
  vsnprintf (msg, sizeof msg, fmt, ap);
  va_end (ap);
  runtime_open_gate (&runtime, false);
  sync_pipe_report (&opt.sync_fd, -1, msg, strlen (msg));
  exit (1);
}

/* Undoes the set-up before a failure is reported: the network helper and namespace, the socket.  */
static void
undo_set_up (void)
{
  net_helper_stop (&net);
  unlink (opt.socket_path);
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
  /* (SIGTERM keeps its default: a systemd unit's stop, KillMode=mixed, sends it to its main
     process, the monitor, once ExecStop has stopped the container, and takes a monitor that
     ignored it for one still running; the unit's ExecStopPost, skiff stop, then finishes any
     clean-up the monitor's end cut short.)  */
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

/* skiff stop, kill or rm -f asked for the container's end (SIGUSR1): the monitor then exits 0,
   not with the container's code, and a systemd unit whose main process it is stops cleanly.  */
static bool end_asked;

/* SIGCHLD and SIGUSR1, blocked, as a descriptor the create and watch phases poll with the others.  */
static int
sigchld_fd (void)
{
  sigset_t chld;
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigaddset (&chld, SIGUSR1);
  sigprocmask (SIG_BLOCK, &chld, NULL);
  return signalfd (-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
}

static void
drain_signals (int sig_fd)
{
  struct signalfd_siginfo si;
  while (read (sig_fd, &si, sizeof si) > 0)
    if (si.ssi_signo == SIGUSR1)
      end_asked = true;
}

/* How the runtime creates the container: its command line and stdio.  */
struct create_call
{
  const char *argv[MAX_ARGS + 16];
  const char *verb;  /* "create", or "run" with --detach */
  bool run_detached; /* the container starts with its creation */
  int in, out, err;
};

/* Set-up, first part: the container's stdio, the runtime's command line, and with --go-fd the
   runtime started at once, before the bundle exists, held at the gate (native/gate/skiff-gate.c)
   until the go: its loading overlaps the CLI's work and the rest of this set-up.  */
static void
prepare_create (struct create_call *call)
{
  char error[1024];
  if (container_io_open (&io, &opt, error, sizeof error) < 0)
    create_failed ("%s", error);
  /* The runtime's sealed copy is made while the CLI still writes the bundle.  */
  runtime_seal (&runtime);
  /* --start with nothing to do between create and start: one `run --detach` instead of `create`
     and `start`, a runtime call fewer.  Not with a network helper: slirp4netns needs the
     container's pid, and the container's process must not start before pasta has set up its
     namespace (found with a pasta made slow on purpose: the process saw only lo).  */
  call->run_detached = opt.start && !opt.net_helper;
  if (!opt.own_keyring)
    runtime_join_keyring (&runtime);
  call->verb = runtime_create_argv (&runtime, call->argv, call->run_detached, opt.terminal ? io.console_path : NULL);
  call->in = opt.open_stdin && !opt.terminal ? io.in[0] : io.devnull;
  call->out = opt.terminal ? io.devnull : io.out[1];
  call->err = io.err[1];
  if (opt.go_fd >= 0)
    runtime_hold (&runtime, call->argv, call->in, call->out, call->err);
}

/* The set-up that overlaps the runtime's loading: the attach socket, published ports, and a
   network namespace of the monitor's own making with its helper, started now, while the runtime
   creates.  */
static void
set_up (void)
{
  char error[1024];
  attach.listen_fd = unix_listen (opt.socket_path, error, sizeof error);
  if (attach.listen_fd < 0)
    create_failed ("%s", error);
  const char *unnotified = notify_init (&notify, &opt);
  if (unnotified)
    {
      unlink (opt.socket_path);
      create_failed ("%s", unnotified);
    }
  ports_init (&ports);
  const char *bad_via = opt.publish_via ? ports_via (&ports, opt.publish_via) : NULL;
  if (bad_via)
    {
      unlink (opt.socket_path);
      create_failed ("%s", bad_via);
    }
  for (int i = 0; i < opt.n_publish; i++)
    {
      const char *failure = ports_publish (&ports, opt.publish[i], opt.publish_udp[i]);
      if (failure)
        {
          unlink (opt.socket_path);
          create_failed ("%s", failure);
        }
    }
  if (opt.net_helper_adopt)
    net_helper_adopt (&net);
  else if (opt.net_helper && opt.net_ns_path)
    {
      const char *failure = net_helper_create_netns (&net);
      if (!failure)
        failure = net_helper_launch (&net, -1);
      if (failure)
        {
          undo_set_up ();
          create_failed ("%s", failure);
        }
    }
  else if (opt.bridge_attach && opt.net_ns_path)
    {
      /* A named network: the namespace, on its bridge before the runtime creates anything.  */
      static char message[512];
      const char *failure = net_helper_create_netns (&net);
      if (!failure)
        failure = bridge_attach (opt.bridge_attach, opt.net_ns_path, message, sizeof message);
      if (failure)
        {
          undo_set_up ();
          create_failed ("%s", failure);
        }
    }
}

/* --go-fd: the CLI started this monitor early, to set up (and start the network helper) while it
   mounts the root and writes the bundle; one byte says the bundle is there, end of file that the
   CLI gave up (or died): then nothing is created.  */
static void
await_go (void)
{
  /* The attach socket listens: a client may connect now (the report line follows later).  */
  sync_pipe_listening (opt.sync_fd);
  char go;
  ssize_t got;
  while ((got = read (opt.go_fd, &go, 1)) < 0 && errno == EINTR)
    ;
  close (opt.go_fd);
  if (got != 1)
    {
      undo_set_up ();
      create_failed ("cancelled before the container was created");
    }
}

/* Collects the runtime's messages (and the pty) until `create` (or `run`) exits: its wait status.
   Its stderr is the container's stderr pipe: `out` keeps the tail of what came through it.  */
static int
await_runtime (int sig_fd, pid_t runtime_pid, char *out, size_t cap, size_t *len)
{
  int status = -1;
  fcntl (io.err[0], F_SETFL, O_NONBLOCK);
  while (status < 0)
    {
      struct pollfd p[3] = { { sig_fd, POLLIN, 0 }, { io.err[0], POLLIN, 0 }, { io.console_fd, POLLIN, 0 } };
      if (poll (p, 3, -1) < 0 && errno != EINTR)
        create_failed ("poll: %s", strerror (errno));
      if (p[1].revents & POLLIN)
        {
          ssize_t r = read (io.err[0], out + *len, cap - *len);
          if (r > 0)
            *len += (size_t) r;
          if (*len == cap)
            *len = 0; /* keep the tail, where the error usually is */
        }
      if (io.console_fd >= 0 && (p[2].revents & POLLIN))
        attach.pty_fd = container_io_receive_pty (io.console_fd);
      if (p[0].revents & POLLIN)
        {
          drain_signals (sig_fd);
          int got;
          if (waitpid (runtime_pid, &got, WNOHANG) == runtime_pid)
            status = got;
        }
    }
  if (io.console_fd >= 0)
    {
      close (io.console_fd);
      unlink (io.console_path);
    }
  return status;
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

/* Once the container exists: its network helper ready, the ports' dialer in its namespace and,
   with --start, the container started (without another round trip to the CLI).  NULL, or what
   went wrong.  */
static const char *
finish_create (int container, bool run_detached)
{
  static char start_error[CREATE_OUTPUT_MAX];
  const char *failure = NULL;
  if (opt.net_helper && !opt.net_ns_path)
    failure = net_helper_launch (&net, container);
  if (opt.net_helper && !failure)
    failure = opt.net_helper_adopt ? net_helper_await_adopted (&net) : net_helper_await (&net);
  if (!failure && ports.n_published)
    failure = ports_start_dialer (&ports, container, opt.net_ns_path);
  if (!failure && opt.start && !run_detached && runtime_run (&runtime, "start", start_error, sizeof start_error) != 0)
    failure = start_error[0] ? start_error : "the OCI runtime's start failed";
  return failure;
}

/* A failed create or run: reported with the runtime's output (the tail of it), or its status when
   it said nothing; what a failed `run` left is deleted.  */
static __attribute__ ((noreturn)) void
runtime_failed (const struct create_call *call, int status, char *out, size_t len, size_t cap)
{
  ssize_t r = read (io.err[0], out + len, cap - len);
  if (r > 0)
    len += (size_t) r;
  while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
    len--;
  if (len == 0)
    len = (size_t) snprintf (out, cap, "%s %s exited with status %d", opt.runtime, call->verb,
                             WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
  net_helper_stop (&net);
  if (call->run_detached)
    runtime_run (&runtime, "delete", NULL, 0); /* whatever a failed `run` left */
  unlink (opt.socket_path);
  sync_pipe_report (&opt.sync_fd, -1, out, len);
  exit (1);
}

/* Create: runs the runtime's `create` (or `run --detach`), gets the container ready (network,
   ports, --start) and reports it on the sync pipe.  The container's pid; on a failure the monitor
   has reported it and exits 1.  `out` gets the runtime's messages: with `run --detach`, what the
   container wrote to stderr meanwhile.  */
static int
create (int sig_fd, const struct create_call *call, char *out, size_t cap, size_t *out_len)
{
  /* The log lives in the container's directory, which a `run` may still be writing until the go
     (it starts this monitor first when pasta, slow to start, is to set up the network).  */
  int log_error = log_open (&log_file);
  if (log_error)
    {
      undo_set_up ();
      create_failed ("cannot open log %s: %s", opt.log_path, strerror (log_error));
    }
  runtime_open_gate (&runtime, true);
  pid_t runtime_pid = runtime.held > 0 ? runtime.held : runtime_spawn_create (&runtime, call->argv, call->in, call->out, call->err);
  if (runtime_pid < 0)
    create_failed ("fork: %s", strerror (errno));
  close (io.err[1]);
  if (!opt.terminal)
    {
      close (io.out[1]);
      if (opt.open_stdin)
        {
          close (io.in[0]);
          attach.stdin_fd = io.in[1];
        }
    }
  int status = await_runtime (sig_fd, runtime_pid, out, cap, out_len);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    runtime_failed (call, status, out, *out_len, cap);
  int container = read_pid_file ();
  if (container <= 0)
    create_failed ("%s create left no pid in %s", opt.runtime, opt.pid_file);
  if (opt.terminal)
    {
      if (attach.pty_fd < 0)
        create_failed ("%s sent no terminal over the console socket", opt.runtime);
      close (io.err[0]);
      io.err[0] = -1;
      if (opt.open_stdin)
        attach.stdin_fd = attach.pty_fd;
    }
  oom_watch_start (&oom, container);
  const char *failure = finish_create (container, call->run_detached);
  if (failure)
    {
      /* The container exists but must not run like this: remove it.  */
      net_helper_stop (&net);
      runtime_run (&runtime, "delete", NULL, 0);
      unlink (opt.socket_path);
      sync_pipe_report (&opt.sync_fd, -1, failure, strlen (failure));
      exit (1);
    }
  notify_mainpid (&notify);
  sync_pipe_report (&opt.sync_fd, container, NULL, 0);
  runtime_drop_copy (&runtime);
  return container;
}

/* Copies the container's output to the log and the clients, serves the clients and the published
   ports, and reaps every orphan of the container, until the container's process exits: its wait
   status.  `early_stderr`: what a container run by `run --detach` wrote to stderr while the
   runtime still held the pipe (read as the runtime's, it is the container's).  */
static int
watch (int sig_fd, int container, int *out_fd, int *errout_fd, const char *early_stderr, size_t early_stderr_len)
{
  int exit_status = -1;
  /* The first round looks for an exit without waiting for SIGCHLD: a container run by `run
     --detach` may have ended while the create phase drained the signals.  */
  bool first = true;
  while (exit_status < 0)
    {
      struct pollfd p[7 + MAX_CLIENTS + PORTS_POLL_MAX];
      int np = 0;
      p[np++] = (struct pollfd) { sig_fd, POLLIN, 0 };
      p[np++] = (struct pollfd) { attach.listen_fd, POLLIN, 0 };
      p[np++] = (struct pollfd) { *out_fd, POLLIN, 0 };
      p[np++] = (struct pollfd) { *errout_fd, POLLIN, 0 };
      for (int i = 0; i < MAX_CLIENTS; i++)
        p[np++] = (struct pollfd) { attach.clients[i].fd, POLLIN, 0 };
      int ports_at = np;
      np += ports_poll_fds (&ports, p + np);
      /* memory.events signals a change with POLLPRI (and POLLERR): an OOM kill is counted before the
         container dies of it, and read here while its cgroup still exists.  */
      int oom_at = np;
      if (oom.fd >= 0)
        p[np++] = (struct pollfd) { oom.fd, POLLPRI, 0 };
      int health_at = np;
      if (health.timer_fd >= 0)
        p[np++] = (struct pollfd) { health.timer_fd, POLLIN, 0 };
      int notify_at = np;
      if (notify.proxy_fd >= 0)
        p[np++] = (struct pollfd) { notify.proxy_fd, POLLIN, 0 };
      int timeout_at = np;
      if (timeout_fd >= 0)
        p[np++] = (struct pollfd) { timeout_fd, POLLIN, 0 };
      if (poll (p, (nfds_t) np, first ? 0 : -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      /* Accept first: a client that connected before the container started (the CLI attaches,
         then runs `start`) is already queued here, and must get the very first output.  */
      if (p[1].revents & POLLIN)
        while (attach_accept (&attach))
          ;
      if (first && early_stderr_len > 0)
        {
          log_output (&log_file, "stderr", early_stderr, early_stderr_len);
          attach_broadcast (&attach, FRAME_STDERR, early_stderr, early_stderr_len);
        }
      if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
        if (!container_io_pump (*out_fd, FRAME_STDOUT, &log_file, &attach))
          *out_fd = -1;
      if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
        if (!container_io_pump (*errout_fd, FRAME_STDERR, &log_file, &attach))
          *errout_fd = -1;
      for (int i = 0; i < MAX_CLIENTS; i++)
        if (p[4 + i].fd >= 0 && (p[4 + i].revents & (POLLIN | POLLHUP | POLLERR)))
          attach_read (&attach, &attach.clients[i]);
      ports_handle (&ports, p + ports_at);
      if (oom_at < np && (p[oom_at].revents & (POLLPRI | POLLERR)))
        oom_watch_check (&oom);
      if (health_at < np && p[health_at].fd == health.timer_fd && (p[health_at].revents & POLLIN))
        health_tick (&health, &opt);
      if (notify_at < np && p[notify_at].fd == notify.proxy_fd && (p[notify_at].revents & POLLIN))
        notify_forward (&notify);
      /* --timeout-s: it has run its time.  */
      if (timeout_at < np && p[timeout_at].fd == timeout_fd && (p[timeout_at].revents & POLLIN))
        {
          kill (container, SIGKILL);
          close (timeout_fd);
          timeout_fd = -1;
        }
      /* A CLI that ran the runtime's start itself says so: the container runs.  */
      if (attach.started)
        notify_started (&notify, &opt);
      if ((p[0].revents & POLLIN) || first)
        {
          drain_signals (sig_fd);
          int status;
          pid_t got;
          while ((got = waitpid (-1, &status, WNOHANG)) > 0)
            if (got == container)
              {
                exit_status = status;
                oom_watch_check (&oom);
              }
            else
              health_reaped (&health, got);
        }
      first = false;
    }
  return exit_status;
}

/* Drains what the container wrote before it ended.  */
static void
drain_output (int out_fd, int errout_fd)
{
  for (int fd_i = 0; fd_i < 2; fd_i++)
    {
      int fd = fd_i == 0 ? out_fd : errout_fd;
      if (fd < 0)
        continue;
      fcntl (fd, F_SETFL, O_NONBLOCK);
      while (container_io_pump (fd, fd_i == 0 ? FRAME_STDOUT : FRAME_STDERR, &log_file, &attach))
        {
          struct pollfd p = { fd, POLLIN, 0 };
          if (poll (&p, 1, 0) <= 0)
            break;
        }
    }
}

/* The end: ports and network first (their host ports are free once the exit is seen), the exit
   file and frame, then the clean-up.  Attached clients (`run` in the foreground) clean up
   themselves and say so: wait for them to hang up, and run the exit command only if none did the
   work (or one died trying).  Returns the container's exit code: the monitor's own, so that a
   systemd unit whose main process it is (generate systemd) sees the container fail.  */
static int
end (int exit_status, int sig_fd)
{
  drain_signals (sig_fd); /* an end asked for just before the exit */
  health_stop (&health);
  notify_close (&notify, &opt);
  ports_close (&ports);
  net_helper_stop (&net);
  int code = exit_file_write (opt.exit_file, &oom, exit_status);
  if (code >= 0)
    {
      char text[16];
      snprintf (text, sizeof text, "%d", code);
      attach_broadcast (&attach, FRAME_EXIT, text, strlen (text));
    }
  close (attach.listen_fd);
  unlink (opt.socket_path);
  attach_await_hangups (&attach, CLIENT_CLEANUP_MS);
  if (!attach.cleaned_by_client)
    exit_command_run (&opt);
  if (attach.delete_left)
    runtime_run (&runtime, "delete", NULL, 0);
  return end_asked ? 0 : code >= 0 ? code & 0xff : 1;
}

int
main (int argc, char **argv)
{
  /* The command line.  The sync and go pipes are not passed on to anything the monitor starts.  */
  cli_parse (&opt, argc, argv);
  if (opt.sync_fd >= 0)
    fcntl (opt.sync_fd, F_SETFD, FD_CLOEXEC);
  if (opt.go_fd >= 0)
    fcntl (opt.go_fd, F_SETFD, FD_CLOEXEC);
  for (int fd = 3; fd < 3 + opt.preserve_fds; fd++)
    fcntl (fd, F_SETFD, FD_CLOEXEC);
  runtime_init (&runtime, &opt);
  net_helper_init (&net, &opt);
  attach_init (&attach);
  log_file = (struct log) { .path = opt.log_path, .size_max = opt.log_size_max, .fd = -1 };
  detach ();
  int sig_fd = sigchld_fd ();

  /* Set-up, overlapping the CLI's mount and spec (--go-fd): the runtime held at the gate, the
     attach socket, published ports, the network; then the go.  */
  struct create_call call;
  prepare_create (&call);
  set_up ();
  if (opt.go_fd >= 0)
    await_go ();

  /* Create, and report.  */
  static char create_out[CREATE_OUTPUT_MAX];
  size_t create_len = 0;
  int container = create (sig_fd, &call, create_out, sizeof create_out, &create_len);
  /* The container has the --preserve-fds descriptors now: the monitor keeps none of them open.  */
  for (int fd = 3; fd < 3 + opt.preserve_fds; fd++)
    close (fd);

  /* The container runs (or, without --start, is about to: the CLI's start frame says when).  */
  if (opt.start)
    notify_started (&notify, &opt);
  health_start (&health, &opt);
  if (opt.timeout_s > 0 && (timeout_fd = timerfd_create (CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK)) >= 0)
    {
      struct itimerspec once = { .it_value = { opt.timeout_s, 0 } };
      timerfd_settime (timeout_fd, 0, &once, NULL);
    }

  /* Watch, until the container's process exits.  */
  int out_fd = opt.terminal ? attach.pty_fd : io.out[0];
  int errout_fd = opt.terminal ? -1 : io.err[0];
  int exit_status = watch (sig_fd, container, &out_fd, &errout_fd, call.run_detached ? create_out : NULL, call.run_detached ? create_len : 0);
  drain_output (out_fd, errout_fd);

  return end (exit_status, sig_fd);
}
