/* skiff: the native launcher in front of the Node CLI.
 *
 * Commands that work inside skiff's rootless namespaces (run, create, exec, rm, pull, ...) must
 * enter the pause process's user and mount namespaces, and setns(2) into a user namespace needs a
 * single-threaded process: never Node.  So this launcher reads $XDG_RUNTIME_DIR/skiff/pause.pid,
 * checks that the process is the one recorded (start time), enters its namespaces, becomes uid 0
 * there, and execs Node on dist/main.js, which then finds itself inside (SKIFF_USERNS_PID).  When
 * the command needs no namespace, or there is no live pause process yet, it just execs Node: the
 * CLI then creates the namespace and re-runs itself through nsenter, once.
 *
 * It answers two commands itself, which only read files, when every container is in the plain
 * case: `stats --no-stream` (stats.c) and `ps` (ps.c); else Node does.
 *
 * The same command-line rules as joinEarly() in src/rootless/enter.ts; keep both in step (its
 * NEEDS_NAMESPACE list is compared with this one by test/unit/rootless/enter.test.ts).  */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/child-signals.h"
#include "proc.h"
#include "ps.h"
#include "stats.h"

static const char *const NEEDS_NAMESPACE[] = {
  "run",    "create",  "start", "stop", "kill", "restart", "rm",      "exec",  "attach",  "cp",     "diff",   "export",      "commit",      "top",
  "import", "unshare", "pull",  "rmi",  "load", "rename",  "network", "pause", "unpause", "update", "volume", "healthcheck", "auto-update", NULL,
};

static bool
needs_namespace (const char *command)
{
  for (int i = 0; NEEDS_NAMESPACE[i]; i++)
    if (strcmp (command, NEEDS_NAMESPACE[i]) == 0)
      return true;
  return false;
}

/* skiff's global options that take a value: GLOBAL_VALUE_OPTIONS in src/rootless/enter.ts (which
   test/unit/rootless/enter.test.ts compares with this list).  */
static const char *const GLOBAL_VALUE_OPTIONS[] = {
  "--root",      "--runroot",    "--log-level", "--cgroup-manager",     "--storage-driver",   "--storage-opt",
  "--runtime",   "--tmpdir",     "--conmon",    "--network-config-dir", "--network-cmd-path", "--volumepath",
  "--url",       "--connection", "--identity",  "--runtime-flag",       "--events-backend",   "--hooks-dir",
  "--namespace", NULL,
};

/* Whether `a` is one of them: as a word of its own, or (with_value) as --name=value.  */
static bool
global_with_value (const char *a, bool with_value)
{
  for (int i = 0; GLOBAL_VALUE_OPTIONS[i]; i++)
    {
      size_t n = strlen (GLOBAL_VALUE_OPTIONS[i]);
      if (strncmp (a, GLOBAL_VALUE_OPTIONS[i], n) == 0 && (with_value ? a[n] == '=' : a[n] == '\0'))
        return true;
    }
  return false;
}

/* The command word after skiff's global options; sets *runroot from --runroot.  NULL when an
   option is not one of the globals (then Node sorts it out).  */
static const char *
command_of (int argc, char **argv, const char **runroot, int *index)
{
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++)
    {
      const char *a = argv[i];
      if (strcmp (a, "--runroot") == 0 && i + 1 < argc)
        *runroot = argv[++i];
      else if (strncmp (a, "--runroot=", 10) == 0)
        *runroot = a + 10;
      else if (global_with_value (a, false) && i + 1 < argc)
        i++;
      else if (!global_with_value (a, true) && strcmp (a, "--noout") != 0 && strcmp (a, "--syslog") != 0)
        return NULL;
    }
  if (i >= argc)
    return NULL;
  *index = i;
  if (strcmp (argv[i], "container") == 0 && i + 1 < argc)
    {
      *index = i + 1;
      return argv[i + 1];
    }
  return argv[i];
}

/* The value of "key" in a flat JSON object, as text without quotes.  */
static bool
json_field (const char *json, const char *key, char *out, size_t size)
{
  char pattern[64];
  snprintf (pattern, sizeof pattern, "\"%s\"", key);
  const char *p = strstr (json, pattern);
  if (!p)
    return false;
  p = strchr (p + strlen (pattern), ':');
  if (!p)
    return false;
  p++;
  while (*p == ' ' || *p == '"' || *p == '\n' || *p == '\t')
    p++;
  size_t n = 0;
  while (p[n] && p[n] != '"' && p[n] != ',' && p[n] != '\n' && p[n] != '}' && n < size - 1)
    n++;
  memcpy (out, p, n);
  out[n] = '\0';
  return n > 0;
}

/* `ps`, `container ps`, `container ls` or `container list`, after no global option (they change
   what the answer is): the launcher may answer it (ps.c).  */
static bool
is_ps (char **argv, int index)
{
  if (index == 1)
    return strcmp (argv[1], "ps") == 0;
  return index == 2 && strcmp (argv[1], "container") == 0 && (strcmp (argv[2], "ps") == 0 || strcmp (argv[2], "ls") == 0 || strcmp (argv[2], "list") == 0);
}

static bool
same_file (const char *a, const char *b)
{
  struct stat sa, sb;
  return stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* skiff's runtime directory: --runroot, else as src/config/paths.ts finds it.  */
static void
runroot_dir (const char *runroot, char *dir, size_t size)
{
  if (runroot)
    snprintf (dir, size, "%s", runroot);
  else if (getenv ("SKIFF_RUNROOT"))
    snprintf (dir, size, "%s", getenv ("SKIFF_RUNROOT"));
  else if (getenv ("XDG_RUNTIME_DIR") && *getenv ("XDG_RUNTIME_DIR"))
    snprintf (dir, size, "%s/skiff", getenv ("XDG_RUNTIME_DIR"));
  else
    snprintf (dir, size, "/tmp/skiff-run-%u/skiff", getuid ());
}

/* Enters the live pause process's namespaces; false (and nothing changed) when there is none.  */
static bool
enter_namespace (const char *dir, char *pid_out, size_t pid_size)
{
  char file[PATH_MAX + 16], json[512], pid[32], recorded[32], actual[32], mode[16] = "";
  snprintf (file, sizeof file, "%s/pause.pid", dir);
  if (!read_small (file, json, sizeof json) || !json_field (json, "pid", pid, sizeof pid) || !json_field (json, "startTime", recorded, sizeof recorded)
      || !json_field (json, "mode", mode, sizeof mode))
    return false;
  if (!start_time (pid, actual, sizeof actual) || strcmp (actual, recorded) != 0)
    return false;
  char user_ns[64], mnt_ns[64];
  snprintf (user_ns, sizeof user_ns, "/proc/%s/ns/user", pid);
  snprintf (mnt_ns, sizeof mnt_ns, "/proc/%s/ns/mnt", pid);
  if (same_file (user_ns, "/proc/self/ns/user"))
    return false;
  char cwd[PATH_MAX];
  if (!getcwd (cwd, sizeof cwd))
    strcpy (cwd, "/");
  int user_fd = open (user_ns, O_RDONLY | O_CLOEXEC);
  int mnt_fd = open (mnt_ns, O_RDONLY | O_CLOEXEC);
  if (user_fd < 0 || mnt_fd < 0)
    return false;
  if (setns (user_fd, CLONE_NEWUSER) < 0)
    return false;
  /* From here on a failure cannot be undone: report it and stop.  */
  if (setns (mnt_fd, CLONE_NEWNS) < 0)
    {
      fprintf (stderr, "Error: cannot enter skiff's mount namespace: %s\n", strerror (errno));
      exit (125);
    }
  close (user_fd);
  close (mnt_fd);
  /* Become uid 0 of the namespace (you), as nsenter does; in single-uid mode setgroups is denied
     and the ids stay as they are (they map to 0 anyway).  */
  if (strcmp (mode, "single") != 0)
    {
      if (setgroups (0, NULL) < 0 || setresgid (0, 0, 0) < 0 || setresuid (0, 0, 0) < 0)
        {
          fprintf (stderr, "Error: cannot become root in skiff's user namespace: %s\n", strerror (errno));
          exit (125);
        }
    }
  if (chdir (cwd) < 0 && chdir ("/") < 0)
    exit (125);
  snprintf (pid_out, pid_size, "%s", pid);
  return true;
}

/* A spare network for `run`.  A container on the default network waits for pasta, which takes
   20-100 ms to start (it fills socket pools and touches ~30 MB of buffers: page faults), and the
   monitor can only start it once Node has booted and created the container.  So for a `run`
   without network or port flags, the launcher starts one now, in parallel with Node's boot: a
   network namespace bound to RUNROOT/netns/ID, pasta on it (writing RUNROOT/netns/ID.pid once the
   namespace is configured), and the marker ID.spare; Node learns ID from SKIFF_SPARE_NET.
   `run` adopts the spare (the container gets ID; its monitor takes the marker over, renamed
   ID.adopted, and awaits that pasta instead of starting its own), or discards it (network or
   pasta's arguments not the default's).
   A small watcher process lives as long as the CLI: when the CLI ends (however it ends) with the
   marker still there, it stops pasta and removes the namespace, so nothing outlives a failed or
   killed `run`; `run` discards a spare by signalling the watcher.  pasta's arguments come from
   RUNROOT/pasta-spare, which `run` writes (NUL-separated, with {netns} and {pidfile} for the
   paths): the launcher holds no network configuration, and speculates only where the last
   default-network `run` used pasta.  */
#define SPARE_MAX_ARGS 64

/* true when `run`'s arguments name no network, published port, pod or help: flags that start with
   --net, --publish or --pod, and short-flag groups with p, P or h, anywhere after "run" (the
   container's own arguments included: a wrong guess in that direction costs only the speed-up).  */
static bool
may_use_default_network (int argc, char **argv, int index)
{
  if (strcmp (argv[index], "run") != 0)
    return false;
  for (int i = index + 1; i < argc; i++)
    {
      const char *a = argv[i];
      if (a[0] != '-')
        continue;
      if (a[1] == '-')
        {
          if (strncmp (a, "--net", 5) == 0 || strncmp (a, "--publish", 9) == 0 || strncmp (a, "--pod", 5) == 0)
            return false;
        }
      else if (strpbrk (a + 1, "pPh"))
        return false;
    }
  return true;
}

static void
remove_spare (const char *netns, const char *pidfile, const char *marker)
{
  umount2 (netns, MNT_DETACH);
  unlink (netns);
  unlink (pidfile);
  unlink (marker);
}

/* Whether `path` holds the decimal `pid`.  */
static bool
holds_pid (const char *path, pid_t pid)
{
  char text[32];
  return read_small (path, text, sizeof text) && atoi (text) == pid;
}

/* The watcher: pasta's parent while the CLI lives.  It writes -1 to the pid file if pasta ends
   without having configured the namespace (the monitor then starts its own and reports why).  On
   SIGTERM, from `run` discarding the spare or as the parent-death signal when the CLI ends, an
   unadopted spare goes: pasta is stopped (and waited for: it could otherwise still create its pid
   file), then its files.  */
static __attribute__ ((noreturn)) void
watch_spare (pid_t cli, int report, char **pasta, const char *netns, const char *pidfile, const char *marker)
{
  int devnull = open ("/dev/null", O_RDWR);
  if (devnull < 0 || dup2 (devnull, 0) < 0 || dup2 (devnull, 1) < 0 || dup2 (devnull, 2) < 0)
    remove_spare (netns, pidfile, marker), _exit (1);
  setsid ();
  sigset_t wanted;
  sigemptyset (&wanted);
  sigaddset (&wanted, SIGTERM);
  sigaddset (&wanted, SIGCHLD);
  sigprocmask (SIG_BLOCK, &wanted, NULL);
  if (prctl (PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid () != cli)
    remove_spare (netns, pidfile, marker), _exit (1);
  pid_t helper = fork ();
  if (helper == 0)
    {
      reset_child_signals ();
      execv (pasta[0], pasta);
      _exit (127);
    }
  if (helper < 0 || write (report, &helper, sizeof helper) != sizeof helper)
    {
      if (helper > 0)
        kill (helper, SIGKILL);
      remove_spare (netns, pidfile, marker);
      _exit (1);
    }
  close (report);
  bool ended = false;
  for (;;)
    {
      int sig = sigwaitinfo (&wanted, NULL);
      if (sig == SIGTERM)
        break;
      if (sig != SIGCHLD || ended || waitpid (helper, NULL, WNOHANG) != helper)
        continue;
      ended = true;
      if (access (netns, F_OK) != 0)
        unlink (pidfile); /* its namespace released: pasta ended as it should */
      else if (!holds_pid (pidfile, helper))
        {
          int fd = open (pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
          if (fd >= 0)
            (void) !write (fd, "-1\n", 3), close (fd);
        }
    }
  if (access (marker, F_OK) == 0)
    {
      if (!ended)
        {
          kill (helper, SIGTERM);
          for (int waited = 0; waitpid (helper, NULL, WNOHANG) == 0; waited++)
            {
              if (waited == 1000)
                kill (helper, SIGKILL);
              usleep (1000);
            }
        }
      remove_spare (netns, pidfile, marker);
    }
  _exit (0);
}

/* The marker, born with this process's pid in it: written to an unnamed file (O_TMPFILE) and only
   then given its name, so that no kill leaves a marker naming no one (skiff then could only guess
   from its age).  Where O_TMPFILE or the link is refused (but for EEXIST: the id is taken), created and
   written in place.  Returns its fd.  */
static int
create_marker (const char *dir, const char *marker)
{
  char owner[32];
  int owner_len = snprintf (owner, sizeof owner, "%d\n", getpid ());
  int fd = open (dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd >= 0)
    {
      char self[64];
      snprintf (self, sizeof self, "/proc/self/fd/%d", fd);
      if (write (fd, owner, (size_t) owner_len) == owner_len && linkat (AT_FDCWD, self, AT_FDCWD, marker, AT_SYMLINK_FOLLOW) == 0)
        return fd;
      int error = errno;
      close (fd);
      if (error == EEXIST)
        return -1; /* a marker of that name already: the id is taken */
    }
  fd = open (marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0 && write (fd, owner, (size_t) owner_len) != owner_len)
    {
      close (fd);
      unlink (marker);
      return -1;
    }
  return fd;
}

/* Starts a spare network under `dir` and sets SKIFF_SPARE_NET; on any failure, nothing.  */
static void
start_spare_network (const char *dir)
{
  static char template[4096], netns[PATH_MAX], pidfile[PATH_MAX + 8], marker[PATH_MAX + 8];
  char path[PATH_MAX + 16], id[65];
  char *pasta[SPARE_MAX_ARGS + 1];
  unsigned char random[32];
  snprintf (path, sizeof path, "%s/pasta-spare", dir);
  size_t size = read_small (path, template, sizeof template);
  if (size == 0 || template[size - 1] != '\0' || template[0] != '/' || getrandom (random, sizeof random, 0) != sizeof random)
    return;
  for (int i = 0; i < 32; i++)
    snprintf (id + 2 * i, 3, "%02x", random[i]);
  if (snprintf (netns, sizeof netns, "%s/netns/%s", dir, id) >= (int) sizeof netns)
    return;
  snprintf (pidfile, sizeof pidfile, "%s.pid", netns);
  snprintf (marker, sizeof marker, "%s.spare", netns);
  int n = 0;
  for (char *arg = template; arg < template + size; arg += strlen (arg) + 1)
    {
      if (n == SPARE_MAX_ARGS)
        return;
      pasta[n++] = strcmp (arg, "{netns}") == 0 ? netns : strcmp (arg, "{pidfile}") == 0 ? pidfile : arg;
    }
  pasta[n] = NULL;

  /* The marker first, naming this process (the CLI it becomes): no file of a spare exists without
     it, and skiff sweeps a spare whose marker names a process that is gone (a CLI killed before
     its watcher ran, which no one else would remove: src/network/spare.ts).  */
  snprintf (path, sizeof path, "%s/netns", dir);
  mkdir (path, 0700);
  int fd = create_marker (path, marker);
  if (fd < 0)
    return;
  /* The namespace, bound to its file by a child (this process must stay in the host's).  */
  int ns_fd = open (netns, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (ns_fd < 0)
    {
      close (fd);
      unlink (marker);
      return;
    }
  close (ns_fd);
  int status = -1;
  pid_t child = fork ();
  if (child == 0)
    _exit (unshare (CLONE_NEWNET) < 0 || mount ("/proc/self/ns/net", netns, NULL, MS_BIND, NULL) < 0);
  if (child < 0 || waitpid (child, &status, 0) != child || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    {
      close (fd);
      unlink (netns);
      unlink (marker);
      return;
    }
  /* Then the marker says "WATCHER PASTA" (pids): made before the fork, so that a watcher never
     sees the spare without it; the watcher reports pasta's pid over a pipe.  */
  int report[2];
  if (pipe2 (report, O_CLOEXEC) < 0)
    {
      close (fd);
      remove_spare (netns, pidfile, marker);
      return;
    }
  pid_t cli = getpid (), helper = -1;
  pid_t watcher = fork ();
  if (watcher == 0)
    {
      close (report[0]);
      watch_spare (cli, report[1], pasta, netns, pidfile, marker);
    }
  close (report[1]);
  bool reported = watcher > 0 && read (report[0], &helper, sizeof helper) == sizeof helper;
  close (report[0]);
  if (!reported)
    {
      close (fd);
      remove_spare (netns, pidfile, marker);
      return;
    }
  /* Written over the owner's pid in one write, then cut to length (a reader takes the first line).  */
  char pids[64];
  int pids_len = snprintf (pids, sizeof pids, "%d %d\n", watcher, helper);
  if (pwrite (fd, pids, (size_t) pids_len, 0) != pids_len || ftruncate (fd, pids_len) < 0)
    {
      close (fd);
      kill (watcher, SIGTERM);
      return;
    }
  close (fd);
  setenv ("SKIFF_SPARE_NET", id, 1);
}

/* Fewer open files than this and Node itself may not start (it asserts at ~12), or a `run` fails
   midway (~25): said at once instead.  */
#define MIN_NOFILE 64

/* The open-files soft limit up to the hard one, as Podman (and Go's runtime) raise theirs: a
   shell's `ulimit -n 1024` is a default for programs that never need more, not the most the user
   may have, and skiff's processes (the CLI removing containers in parallel, the monitors with
   their clients and forwarded connections) need more as containers add up.  A container's own
   limit is its spec's.  False (said on stderr) when the hard limit is too low for skiff.  */
static bool
raise_open_files (void)
{
  struct rlimit nofile;
  if (getrlimit (RLIMIT_NOFILE, &nofile) < 0)
    return true;
  if (nofile.rlim_cur < nofile.rlim_max)
    {
      nofile.rlim_cur = nofile.rlim_max;
      setrlimit (RLIMIT_NOFILE, &nofile);
    }
  if (nofile.rlim_max >= MIN_NOFILE)
    return true;
  fprintf (stderr,
           "Error: the open-files limit is %llu (RLIMIT_NOFILE, hard limit %llu) and skiff needs at least %d: raise it (ulimit -n; LimitNOFILE= in a "
           "systemd unit; nofile in /etc/security/limits.conf)\n",
           (unsigned long long) nofile.rlim_cur, (unsigned long long) nofile.rlim_max, MIN_NOFILE);
  return false;
}

int
main (int argc, char **argv)
{
  /* --preserve-fds: how many descriptors from 3 up skiff was given, counted before anything here
     (or Node) opens its own at those numbers.  */
  int given = 3;
  while (fcntl (given, F_GETFD) >= 0)
    given++;
  char given_text[16];
  snprintf (given_text, sizeof given_text, "%d", given - 3);
  setenv ("SKIFF_INHERITED_FDS", given_text, 1);
  char self[PATH_MAX], script[PATH_MAX + 32];
  ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    {
      perror ("skiff: /proc/self/exe");
      return 125;
    }
  self[n] = '\0';
  /* native/build/skiff → dist/main.js */
  char *slash = strrchr (self, '/');
  *slash = '\0';
  snprintf (script, sizeof script, "%s/../../dist/main.js", self);

  if (!raise_open_files ())
    return 125;
  const char *runroot = NULL;
  int index = 0;
  const char *command = getenv ("SKIFF_USERNS_PID") || getuid () == 0 ? NULL : command_of (argc, argv, &runroot, &index);
  bool help = false;
  for (int i = 1; i < argc; i++)
    help = help || strcmp (argv[i], "--help") == 0;
  char pid[32], dir[PATH_MAX];
  runroot_dir (runroot, dir, sizeof dir);
  int answered = command && !help && strcmp (command, "stats") == 0 ? fast_stats (argc, argv, index, dir) : -1;
  char data[PATH_MAX];
  if (command && !help && is_ps (argv, index) && !getenv ("SKIFF_NO_FAST_PATH") && data_dir (data, sizeof data))
    answered = fast_ps (argc, argv, index, dir, data);
  if (answered >= 0)
    return answered;
  if (command && !help && needs_namespace (command) && enter_namespace (dir, pid, sizeof pid))
    {
      setenv ("SKIFF_USERNS_PID", pid, 1);
      setenv ("UV_THREADPOOL_SIZE", "8", 0);
      if (may_use_default_network (argc, argv, index))
        start_spare_network (dir);
    }

  const char *node = getenv ("SKIFF_NODE") ? getenv ("SKIFF_NODE") : "node";
  char **args = calloc ((size_t) argc + 4, sizeof *args);
  if (!args)
    return 125;
  args[0] = (char *) node;
  /* One V8 worker thread, not Node's four: a command lives for tens of milliseconds, where three
     more threads to start (and to compete with the monitor and the runtime for the CPUs) cost
     more than the parallel GC and compiling they would do.  A Node option, so V8's code cache
     stays valid.  */
  args[1] = (char *) "--v8-pool-size=1";
  /* "--": Node 20 takes an --env-file anywhere on its command line as its own, even after the
     script (`skiff run --env-file F` read F into skiff's environment, and a missing F ended Node
     with 9 before skiff ran).  */
  args[2] = (char *) "--";
  args[3] = script;
  for (int i = 1; i < argc; i++)
    args[i + 3] = argv[i];
  execvp (node, args);
  fprintf (stderr, "Error: cannot run %s: %s (install Node.js, or set SKIFF_NODE)\n", node, strerror (errno));
  return 127;
}
