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
 * The same command-line rules as joinEarly() in src/rootless/enter.ts; keep both in step.  */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const NEEDS_NAMESPACE[] = {
  "run", "create", "start", "stop", "kill", "restart", "rm", "exec", "attach", "cp", "diff", "export", "commit", "top", "import", "unshare", "pull", "rmi", "load", "rename", "network", NULL,
};

static bool
needs_namespace (const char *command)
{
  for (int i = 0; NEEDS_NAMESPACE[i]; i++)
    if (strcmp (command, NEEDS_NAMESPACE[i]) == 0)
      return true;
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
      else if ((strcmp (a, "--root") == 0 || strcmp (a, "--log-level") == 0) && i + 1 < argc)
        i++;
      else if (strncmp (a, "--root=", 7) != 0 && strncmp (a, "--log-level=", 12) != 0)
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

/* Reads a small file into buf; false on any failure.  */
static bool
read_small (const char *path, char *buf, size_t size)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  ssize_t n = read (fd, buf, size - 1);
  close (fd);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  return true;
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

/* /proc/PID/stat's start time (field 22); false for a zombie or a missing process.  */
static bool
start_time (const char *pid, char *out, size_t size)
{
  char path[64], stat[1024];
  snprintf (path, sizeof path, "/proc/%s/stat", pid);
  if (!read_small (path, stat, sizeof stat))
    return false;
  char *p = strrchr (stat, ')');
  if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
    return false;
  p += 2;
  for (int field = 3; field < 22 && p; field++)
    {
      p = strchr (p, ' ');
      if (p)
        p++;
    }
  if (!p)
    return false;
  size_t n = strcspn (p, " ");
  if (n >= size)
    return false;
  memcpy (out, p, n);
  out[n] = '\0';
  return true;
}

static bool
same_file (const char *a, const char *b)
{
  struct stat sa, sb;
  return stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Enters the live pause process's namespaces; false (and nothing changed) when there is none.  */
static bool
enter_namespace (const char *runroot, char *pid_out, size_t pid_size)
{
  char dir[PATH_MAX], file[PATH_MAX + 16], json[512], pid[32], recorded[32], actual[32], mode[16] = "";
  if (runroot)
    snprintf (dir, sizeof dir, "%s", runroot);
  else if (getenv ("SKIFF_RUNROOT"))
    snprintf (dir, sizeof dir, "%s", getenv ("SKIFF_RUNROOT"));
  else if (getenv ("XDG_RUNTIME_DIR") && *getenv ("XDG_RUNTIME_DIR"))
    snprintf (dir, sizeof dir, "%s/skiff", getenv ("XDG_RUNTIME_DIR"));
  else
    snprintf (dir, sizeof dir, "/tmp/skiff-run-%u/skiff", getuid ());
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

int
main (int argc, char **argv)
{
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

  const char *runroot = NULL;
  int index = 0;
  const char *command = getenv ("SKIFF_USERNS_PID") || getuid () == 0 ? NULL : command_of (argc, argv, &runroot, &index);
  bool help = false;
  for (int i = 1; i < argc; i++)
    help = help || strcmp (argv[i], "--help") == 0;
  char pid[32];
  if (command && !help && needs_namespace (command) && enter_namespace (runroot, pid, sizeof pid))
    {
      setenv ("SKIFF_USERNS_PID", pid, 1);
      setenv ("UV_THREADPOOL_SIZE", "8", 0);
    }

  const char *node = getenv ("SKIFF_NODE") ? getenv ("SKIFF_NODE") : "node";
  char **args = calloc ((size_t) argc + 3, sizeof *args);
  if (!args)
    return 125;
  args[0] = (char *) node;
  /* One V8 worker thread, not Node's four: a command lives for tens of milliseconds, where three
     more threads to start (and to compete with the monitor and the runtime for the CPUs) cost
     more than the parallel GC and compiling they would do.  A Node option, so V8's code cache
     stays valid.  */
  args[1] = (char *) "--v8-pool-size=1";
  args[2] = script;
  for (int i = 1; i < argc; i++)
    args[i + 2] = argv[i];
  execvp (node, args);
  fprintf (stderr, "Error: cannot run %s: %s (install Node.js, or set SKIFF_NODE)\n", node, strerror (errno));
  return 127;
}
