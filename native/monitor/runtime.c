/* The OCI runtime (crun or runc): run from a sealed copy of its binary while the container is
 * created and started (native/common/sealed-copy.h), and with --go-fd started before the bundle
 * exists and held at the gate (PROTOCOL.md, "The runtime gate") until the go.  Also the spawning of
 * every other program the monitor runs.  */
#define _GNU_SOURCE
#include "runtime.h"
#include "../common/child-signals.h"
#include "../common/sealed-copy.h"
#include "util.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Starts argv[0] with stdio in, out, err (-1: inherited), through exec_fd when it is >= 0.  gate >= 0:
   the runtime, held at the gate (the library at gate_path) until a byte arrives on that descriptor
   (a pipe's read end).  */
static pid_t
spawn (const char *const argv[], int in, int out, int err, int exec_fd, int gate, const char *gate_path, int preserve)
{
  pid_t pid = fork ();
  if (pid != 0)
    return pid;
  reset_child_signals ();
  if ((in >= 0 && dup2 (in, 0) < 0) || (out >= 0 && dup2 (out, 1) < 0) || (err >= 0 && dup2 (err, 2) < 0))
    _exit (127);
  /* --preserve-fds: kept close-on-exec in the monitor, passed on to the runtime's create only.  */
  for (int fd = 3; fd < 3 + preserve; fd++)
    if (fcntl (fd, F_SETFD, 0) < 0)
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
  if (exec_fd >= 0)
    fexecve (exec_fd, (char *const *) argv, environ);
  execv (argv[0], (char *const *) argv);
  fprintf (stderr, "cannot run %s: %s\n", argv[0], strerror (errno));
  _exit (127);
}

pid_t
spawn_process (const char *const argv[], int in, int out, int err)
{
  return spawn (argv, in, out, err, -1, -1, NULL, 0);
}

pid_t
runtime_spawn (const struct runtime *rt, const char *const argv[], int in, int out, int err)
{
  return spawn (argv, in, out, err, rt->sealed_fd, -1, NULL, 0);
}

pid_t
runtime_spawn_create (const struct runtime *rt, const char *const argv[], int in, int out, int err)
{
  return spawn (argv, in, out, err, rt->sealed_fd, -1, NULL, rt->opt->preserve_fds);
}

void
runtime_init (struct runtime *rt, const struct options *opt)
{
  rt->opt = opt;
  rt->sealed_fd = rt->gate_fd = -1;
  rt->held = -1;
  rt->shared_keyring = false;
}

void
runtime_seal (struct runtime *rt)
{
  rt->sealed_fd = sealed_copy (rt->opt->runtime);
}

/* From <linux/keyctl.h>, which not every libc's headers bring.  */
#define SKIFF_KEYCTL_JOIN_SESSION_KEYRING 1
#define SKIFF_KEYCTL_SETPERM 5
#define SKIFF_KEY_SPEC_SESSION_KEYRING -3
/* Possessor: everything; user (this user's other processes in skiff's namespace, which find it by
   name): view, read, link and search (search: find_keyring_by_name skips a keyring without it).  */
#define SKIFF_SHARED_KEYRING_PERM 0x3f1b0000

void
runtime_join_keyring (struct runtime *rt)
{
  long id = syscall (SYS_keyctl, SKIFF_KEYCTL_JOIN_SESSION_KEYRING, "_ses.skiff");
  if (id < 0)
    return;
  /* The monitor that made it opens it to the next; one that joined it finds it so already.  */
  syscall (SYS_keyctl, SKIFF_KEYCTL_SETPERM, SKIFF_KEY_SPEC_SESSION_KEYRING, SKIFF_SHARED_KEYRING_PERM);
  rt->shared_keyring = true;
}

const char *
runtime_create_argv (const struct runtime *rt, const char **argv, bool run_detached, const char *console_path)
{
  const struct options *opt = rt->opt;
  const char *verb = run_detached ? "run" : "create";
  int n = 0;
  argv[n++] = opt->runtime;
  for (int i = 0; i < opt->n_runtime_args; i++)
    argv[n++] = opt->runtime_args[i];
  argv[n++] = verb;
  if (run_detached)
    argv[n++] = "--detach";
  if (rt->shared_keyring)
    argv[n++] = "--no-new-keyring";
  argv[n++] = "--bundle";
  argv[n++] = opt->bundle;
  argv[n++] = "--pid-file";
  argv[n++] = opt->pid_file;
  static char preserve[16];
  if (opt->preserve_fds > 0)
    {
      snprintf (preserve, sizeof preserve, "%d", opt->preserve_fds);
      argv[n++] = "--preserve-fds";
      argv[n++] = preserve;
    }
  if (console_path)
    {
      argv[n++] = "--console-socket";
      argv[n++] = console_path;
    }
  argv[n++] = opt->cid;
  argv[n] = NULL;
  return verb;
}

/* Whether the runtime can be held at the gate, with gate_path set: it runs from the sealed copy
   (so never in secure-execution mode, where the loader ignores LD_PRELOAD); it is an ELF program
   of the library's class and machine that glibc's dynamic loader starts (the library is built
   against glibc: a static runtime, or musl's, would not load it and would start at once, before
   the bundle is written); and the library sits beside this program, at a path LD_PRELOAD can
   carry (no spaces or colons).  */
static bool
gate_library (struct runtime *rt)
{
  char self[PATH_MAX];
  ssize_t n = rt->sealed_fd >= 0 ? readlink ("/proc/self/exe", self, sizeof self - 1) : -1;
  char *slash = n > 0 ? memrchr (self, '/', (size_t) n) : NULL;
  if (!slash)
    return false;
  *slash = '\0';
  if (snprintf (rt->gate_path, sizeof rt->gate_path, "%s/skiff-gate.so", self) >= (int) sizeof rt->gate_path || strpbrk (rt->gate_path, " :\t\n"))
    return false;
  Elf64_Ehdr runtime, gate;
  int fd = open (rt->gate_path, O_RDONLY | O_CLOEXEC);
  bool read_both = fd >= 0 && pread (fd, &gate, sizeof gate, 0) == sizeof gate && pread (rt->sealed_fd, &runtime, sizeof runtime, 0) == sizeof runtime;
  if (fd >= 0)
    close (fd);
  if (!read_both || memcmp (runtime.e_ident, ELFMAG, SELFMAG) != 0 || memcmp (gate.e_ident, ELFMAG, SELFMAG) != 0 || runtime.e_ident[EI_CLASS] != ELFCLASS64
      || gate.e_ident[EI_CLASS] != ELFCLASS64 || runtime.e_machine != gate.e_machine || runtime.e_phentsize != sizeof (Elf64_Phdr))
    return false;
  for (int i = 0; i < runtime.e_phnum; i++)
    {
      Elf64_Phdr ph;
      if (pread (rt->sealed_fd, &ph, sizeof ph, (off_t) (runtime.e_phoff + (Elf64_Off) i * sizeof ph)) != sizeof ph)
        return false;
      if (ph.p_type != PT_INTERP)
        continue;
      char interp[PATH_MAX] = { 0 };
      if (ph.p_filesz >= sizeof interp || pread (rt->sealed_fd, interp, ph.p_filesz, (off_t) ph.p_offset) != (ssize_t) ph.p_filesz)
        return false;
      return strstr (interp, "/ld-linux") || strstr (interp, "/ld64.so");
    }
  return false;
}

void
runtime_hold (struct runtime *rt, const char *const argv[], int in, int out, int err)
{
  int ends[2];
  if (!gate_library (rt) || pipe2 (ends, O_CLOEXEC) != 0)
    return;
  /* Above the descriptors the child's stdio takes.  */
  int held = fcntl (ends[0], F_DUPFD_CLOEXEC, 10);
  close (ends[0]);
  rt->held = held >= 0 ? spawn (argv, in, out, err, rt->sealed_fd, held, rt->gate_path, rt->opt->preserve_fds) : -1;
  if (held >= 0)
    close (held);
  if (rt->held > 0)
    rt->gate_fd = ends[1];
  else
    close (ends[1]);
}

void
runtime_open_gate (struct runtime *rt, bool go)
{
  if (rt->gate_fd < 0)
    return;
  if (go)
    write_all (rt->gate_fd, "g", 1);
  close (rt->gate_fd);
  rt->gate_fd = -1;
  while (!go && waitpid (rt->held, NULL, 0) < 0 && errno == EINTR)
    ;
}

int
runtime_run (const struct runtime *rt, const char *verb, char *message, size_t size)
{
  const struct options *opt = rt->opt;
  const char *argv[MAX_ARGS + 8];
  int n = 0, err[2] = { -1, -1 };
  argv[n++] = opt->runtime;
  for (int i = 0; i < opt->n_runtime_args; i++)
    argv[n++] = opt->runtime_args[i];
  argv[n++] = verb;
  if (strcmp (verb, "delete") == 0)
    argv[n++] = "--force";
  argv[n++] = opt->cid;
  argv[n] = NULL;
  int devnull = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (message && pipe2 (err, O_CLOEXEC) < 0)
    err[0] = err[1] = -1;
  pid_t pid = runtime_spawn (rt, argv, devnull, devnull, err[1] >= 0 ? err[1] : devnull);
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

void
runtime_drop_copy (struct runtime *rt)
{
  if (rt->sealed_fd >= 0)
    close (rt->sealed_fd);
  rt->sealed_fd = -1;
}
