#define _GNU_SOURCE
/* skiff_native: the few system calls Node does not offer, as an N-API addon.
 *
 * flock(fd, exclusive, wait): BSD file locks, which the kernel releases when the holder dies, so a
 * skiff process killed with SIGKILL never leaves a lock behind.  The JS side only ever asks for
 * non-blocking locks (wait = false) and polls, because a blocking call would stall the event loop
 * that the lock holder's own downloads run on.
 *
 * mount/umount: see js_mount.
 *
 * mknod(path, mode, major, minor): special files, for the copy rootfs driver.  lgetxattr(path, name):
 * reading overlay's markers (opaque directories) where a layer is packed or copied.
 *
 * unpacker(target, blob, gzip, chown, onEvent): a layer's blob unpacked on a thread of its own:
 * see unpack.c.
 *
 * spawn(file, argv, fds, cwd, setsid) and waitpid(pid): starting a helper (crun, skiff-monitor, or a
 * command the user names: a file without a slash is looked up in PATH) with posix_spawn, which
 * vforks; `setsid` puts it in a session of its own (a helper that outlives the command).  Node's child_process forks, and forking a process Node's size costs
 * milliseconds (page tables) where vfork costs tens of microseconds; a container's start runs
 * several helpers.  waitpid waits on libuv's thread pool (libuv reaps only its own children);
 * reap waits on the calling thread, for a child that has exited or is about to.
 *
 * openInRoot(root, path, flags): openat2(2) with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS: `path` is
 * resolved as if `root` were "/" (symlinks, absolute or relative, and ".." all stay inside it), in
 * one system call, so a container changing its tree meanwhile cannot lead it outside.  cp, load and
 * the --user lookup open what lies inside a container root or an archive through it.
 *
 * shiftCopy(source, target, uidMap, gidMap, threads): an id-shifted copy of a layer on the thread
 * pool: see idshift.c.
 *
 * sealedCopy(path): a sealed memfd copy of an executable (the OCI runtime), to spawn as
 * /proc/self/fd/N: see native/common/sealed-copy.h.  */
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <node_api.h>
#include "../common/sealed-copy.h"
#include "idshift.h"
#include "unpack.h"

static napi_value
throw_errno (napi_env env, const char *what, int err)
{
  char buf[256];
  snprintf (buf, sizeof buf, "%s: %s", what, strerror (err));
  const char *code = err == EPERM          ? "EPERM"
                     : err == EINVAL       ? "EINVAL"
                     : err == ENOTSUP      ? "ENOTSUP"
                     : err == EEXIST       ? "EEXIST"
                     : err == ENOENT       ? "ENOENT"
                     : err == EBUSY        ? "EBUSY"
                     : err == ENODEV       ? "ENODEV"
                     : err == ENOTDIR      ? "ENOTDIR"
                     : err == ELOOP        ? "ELOOP"
                     : err == EACCES       ? "EACCES"
                     : err == EXDEV        ? "EXDEV"
                     : err == ENOSYS       ? "ENOSYS"
                     : err == ENAMETOOLONG ? "ENAMETOOLONG"
                     : err == EMFILE       ? "EMFILE"
                     : err == ENFILE       ? "ENFILE"
                     : err == EAGAIN       ? "EAGAIN"
                     : err == ENOSPC       ? "ENOSPC"
                                           : "ESYSCALL";
  napi_throw_error (env, code, buf);
  return NULL;
}

/* flock(fd: number, exclusive: boolean, wait: boolean): boolean — false when the lock is held
 * elsewhere and wait is false.  */
static napi_value
js_flock (napi_env env, napi_callback_info info)
{
  size_t argc = 3;
  napi_value argv[3];
  int32_t fd;
  bool exclusive, wait;
  napi_value result;
  int ret;

  if (napi_get_cb_info (env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3)
    {
      napi_throw_type_error (env, NULL, "flock(fd, exclusive, wait)");
      return NULL;
    }
  napi_get_value_int32 (env, argv[0], &fd);
  napi_get_value_bool (env, argv[1], &exclusive);
  napi_get_value_bool (env, argv[2], &wait);

  do
    ret = flock (fd, (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB));
  while (ret < 0 && errno == EINTR);

  if (ret < 0 && errno != EWOULDBLOCK)
    return throw_errno (env, "flock", errno);
  napi_get_boolean (env, ret == 0, &result);
  return result;
}

/* funlock(fd: number): releases a lock without closing the descriptor.  */
static napi_value
js_funlock (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  napi_get_value_int32 (env, argv[0], &fd);
  if (flock (fd, LOCK_UN) < 0)
    return throw_errno (env, "flock(LOCK_UN)", errno);
  return NULL;
}

static bool
get_string (napi_env env, napi_value value, char *buf, size_t len)
{
  size_t got;
  if (napi_get_value_string_utf8 (env, value, buf, len, &got) != napi_ok || got >= len - 1)
    {
      napi_throw_type_error (env, NULL, "expected a string shorter than PATH_MAX");
      return false;
    }
  return true;
}

/* mknod(path: string, mode: number, major: number, minor: number)  */
/* mount(source, target, fstype, flags, data): mount(2), for container root filesystems (overlay)
 * inside skiff's mount namespace.  umount(target, flags): umount2(2).  */
static napi_value
js_mount (napi_env env, napi_callback_info info)
{
  size_t argc = 5;
  napi_value argv[5];
  static char source[4096], target[4096], fstype[64], data[16384];
  uint32_t flags;

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 5 || !get_string (env, argv[0], source, sizeof source) || !get_string (env, argv[1], target, sizeof target)
      || !get_string (env, argv[2], fstype, sizeof fstype) || !get_string (env, argv[4], data, sizeof data))
    return NULL;
  napi_get_value_uint32 (env, argv[3], &flags);
  if (mount (source, target, fstype, flags, data[0] ? data : NULL) < 0)
    return throw_errno (env, target, errno);
  return NULL;
}

static napi_value
js_umount (napi_env env, napi_callback_info info)
{
  size_t argc = 2;
  napi_value argv[2];
  char target[4096];
  uint32_t flags;

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !get_string (env, argv[0], target, sizeof target))
    return NULL;
  napi_get_value_uint32 (env, argv[1], &flags);
  if (umount2 (target, (int) flags) < 0)
    return throw_errno (env, target, errno);
  return NULL;
}

/* pipe(readNonBlocking?): [readFd, writeFd], both close-on-exec (a child gets one through spawn's
 * stdio, which dup2s it into place).  For lifetimes tied to a process: a helper's exit fd.  A
 * non-blocking read end lets a caller take what a writer that never closes has said so far.  */
static napi_value
js_pipe (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  bool nonblocking = false;
  int fds[2];
  napi_value result, value;
  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc >= 1)
    napi_get_value_bool (env, argv[0], &nonblocking);
  if (pipe2 (fds, O_CLOEXEC) < 0)
    return throw_errno (env, "pipe", errno);
  if (nonblocking && fcntl (fds[0], F_SETFL, fcntl (fds[0], F_GETFL) | O_NONBLOCK) < 0)
    {
      int saved = errno;
      close (fds[0]);
      close (fds[1]);
      return throw_errno (env, "pipe", saved);
    }
  napi_create_array_with_length (env, 2, &result);
  for (uint32_t i = 0; i < 2; i++)
    {
      napi_create_int32 (env, fds[i], &value);
      napi_set_element (env, result, i, value);
    }
  return result;
}

static napi_value
js_mknod (napi_env env, napi_callback_info info)
{
  size_t argc = 4;
  napi_value argv[4];
  char path[4096];
  uint32_t mode, major, minor;

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || !get_string (env, argv[0], path, sizeof path))
    return NULL;
  napi_get_value_uint32 (env, argv[1], &mode);
  napi_get_value_uint32 (env, argv[2], &major);
  napi_get_value_uint32 (env, argv[3], &minor);
  if (mknod (path, mode, makedev (major, minor)) < 0)
    return throw_errno (env, path, errno);
  return NULL;
}

/* openInRoot(root: string | number, path: string, flags: number): a descriptor (close-on-exec) of
 * `path` resolved inside `root` (a directory's path, or a descriptor of one).  */
static napi_value
js_open_in_root (napi_env env, napi_callback_info info)
{
  size_t argc = 3;
  napi_value argv[3], result;
  napi_valuetype root_type;
  char root[4096], path[4096];
  int32_t flags, root_fd = -1, fd;
  bool own_root = false;
  struct open_how how = { 0 };

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 3)
    {
      napi_throw_type_error (env, NULL, "openInRoot(root, path, flags)");
      return NULL;
    }
  napi_typeof (env, argv[0], &root_type);
  if (root_type == napi_number)
    napi_get_value_int32 (env, argv[0], &root_fd);
  else if (!get_string (env, argv[0], root, sizeof root))
    return NULL;
  if (!get_string (env, argv[1], path, sizeof path))
    return NULL;
  napi_get_value_int32 (env, argv[2], &flags);
  if (root_fd < 0)
    {
      root_fd = open (root, O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (root_fd < 0)
        return throw_errno (env, root, errno);
      own_root = true;
    }
  how.flags = (uint64_t) (uint32_t) flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  do
    fd = syscall (SYS_openat2, root_fd, path[0] ? path : ".", &how, sizeof how);
  while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  int err = errno;
  if (own_root)
    close (root_fd);
  if (fd < 0)
    return throw_errno (env, err == ENOSYS ? "openat2 (Linux 5.6 or newer is needed)" : path, err);
  napi_create_int32 (env, fd, &result);
  return result;
}

/* lgetxattr(path, name): the attribute's value as a Buffer, or undefined when it is not set.  */
static napi_value
js_lgetxattr (napi_env env, napi_callback_info info)
{
  size_t argc = 2;
  napi_value argv[2], result;
  char path[4096], name[256], value[4096];
  ssize_t len;

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 2 || !get_string (env, argv[0], path, sizeof path) || !get_string (env, argv[1], name, sizeof name))
    return NULL;
  len = lgetxattr (path, name, value, sizeof value);
  if (len < 0)
    {
      if (errno == ENODATA || errno == ENOTSUP)
        {
          napi_get_undefined (env, &result);
          return result;
        }
      return throw_errno (env, path, errno);
    }
  napi_create_buffer_copy (env, (size_t) len, value, NULL, &result);
  return result;
}

extern char **environ;

/* spawn(file: string, argv: string[], fds: number[], cwd: string | null, setsid?: boolean): number —
 * the child's pid.  fds[i] (when >= 0) becomes the child's fd i; every other descriptor of Node's is
 * close-on-exec.  The child gets default signal dispositions and an empty signal mask.  */
static napi_value
js_spawn (napi_env env, napi_callback_info info)
{
  size_t argc = 5;
  napi_value argv[5], result;
  char file[4096], cwd[4096];
  uint32_t nargs = 0, nfds = 0;
  bool setsid = false;
  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 4 || !get_string (env, argv[0], file, sizeof file) || napi_get_array_length (env, argv[1], &nargs) != napi_ok
      || napi_get_array_length (env, argv[2], &nfds) != napi_ok || nargs > 4096 || nfds > 64)
    {
      napi_throw_type_error (env, NULL, "spawn(file, argv, fds, cwd, setsid)");
      return NULL;
    }
  napi_valuetype cwd_type;
  napi_typeof (env, argv[3], &cwd_type);
  bool with_cwd = cwd_type == napi_string && get_string (env, argv[3], cwd, sizeof cwd);
  if (argc > 4)
    napi_get_value_bool (env, argv[4], &setsid);
  char **args = calloc (nargs + 1, sizeof *args);
  int err = args == NULL ? ENOMEM : 0;
  for (uint32_t i = 0; i < nargs && !err; i++)
    {
      napi_value v;
      size_t len;
      napi_get_element (env, argv[1], i, &v);
      if (napi_get_value_string_utf8 (env, v, NULL, 0, &len) != napi_ok || (args[i] = malloc (len + 1)) == NULL)
        err = EINVAL;
      else
        napi_get_value_string_utf8 (env, v, args[i], len + 1, &len);
    }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  sigset_t none, all;
  sigemptyset (&none);
  sigfillset (&all);
  posix_spawn_file_actions_init (&actions);
  posix_spawnattr_init (&attr);
  posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (setsid ? POSIX_SPAWN_SETSID : 0));
  posix_spawnattr_setsigmask (&attr, &none);
  posix_spawnattr_setsigdefault (&attr, &all);
  for (uint32_t i = 0; i < nfds && !err; i++)
    {
      napi_value v;
      int32_t fd;
      napi_get_element (env, argv[2], i, &v);
      if (napi_get_value_int32 (env, v, &fd) == napi_ok && fd >= 0)
        posix_spawn_file_actions_adddup2 (&actions, fd, (int) i);
    }
  if (with_cwd && !err)
    posix_spawn_file_actions_addchdir_np (&actions, cwd);
  pid_t pid = -1;
  if (!err)
    err = (strchr (file, '/') ? posix_spawn : posix_spawnp) (&pid, file, &actions, &attr, args, environ);
  posix_spawn_file_actions_destroy (&actions);
  posix_spawnattr_destroy (&attr);
  for (uint32_t i = 0; args && i < nargs; i++)
    free (args[i]);
  free (args);
  if (err)
    return throw_errno (env, file, err);
  napi_create_int32 (env, pid, &result);
  return result;
}

struct wait_job
{
  napi_async_work work;
  napi_deferred deferred;
  pid_t pid;
  int status, err;
};

/* Runs `execute` on libuv's thread pool, then `complete` on the JS thread, which settles the
 * promise returned here (its deferred stored in the job).  */
static napi_value
queue_job (napi_env env, const char *label, napi_async_execute_callback execute, napi_async_complete_callback complete, void *job, napi_deferred *deferred,
           napi_async_work *work)
{
  napi_value promise, name;
  napi_create_promise (env, deferred, &promise);
  napi_create_string_utf8 (env, label, NAPI_AUTO_LENGTH, &name);
  napi_create_async_work (env, NULL, name, execute, complete, job, work);
  napi_queue_async_work (env, *work);
  return promise;
}

static void
wait_job_execute (napi_env env, void *arg)
{
  struct wait_job *job = arg;
  while (waitpid (job->pid, &job->status, 0) < 0)
    if (errno != EINTR)
      {
        job->err = errno;
        break;
      }
}

static void
wait_job_complete (napi_env env, napi_status status, void *arg)
{
  struct wait_job *job = arg;
  napi_value result;
  napi_create_int32 (env, job->err ? -job->err : job->status, &result);
  napi_resolve_deferred (env, job->deferred, result);
  napi_delete_async_work (env, job->work);
  free (job);
}

/* reap(pid): number — waitpid(2) on this thread: the raw wait status, or -errno.  For a child
 * known to be gone or about to be (a monitor that reported a failure), where starting libuv's thread
 * pool for the wait would cost more than the wait.  */
static napi_value
js_reap (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1], result;
  int32_t pid;
  int status = 0, ret;
  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32 (env, argv[0], &pid) != napi_ok)
    {
      napi_throw_type_error (env, NULL, "reap(pid)");
      return NULL;
    }
  while ((ret = waitpid (pid, &status, 0)) < 0 && errno == EINTR)
    ;
  napi_create_int32 (env, ret < 0 ? -errno : status, &result);
  return result;
}

/* waitpid(pid): Promise<number> — the raw wait status, or -errno.  */
static napi_value
js_waitpid (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1];
  int32_t pid;
  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32 (env, argv[0], &pid) != napi_ok)
    {
      napi_throw_type_error (env, NULL, "waitpid(pid)");
      return NULL;
    }
  struct wait_job *job = calloc (1, sizeof *job);
  if (job == NULL)
    {
      napi_throw_error (env, "ENOMEM", "waitpid: out of memory");
      return NULL;
    }
  job->pid = pid;
  return queue_job (env, "skiff:waitpid", wait_job_execute, wait_job_complete, job, &job->deferred, &job->work);
}

/* sealedCopy(path): number — a close-on-exec descriptor of a sealed copy, or -1.  */
static napi_value
js_sealed_copy (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1], result;
  char path[4096];
  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || !get_string (env, argv[0], path, sizeof path))
    return NULL;
  napi_create_int32 (env, sealed_copy (path), &result);
  return result;
}

/* shiftCopy(source, target, uidMap, gidMap, threads): Promise<{files, bytes}> — maps are flat
 * arrays of [inner, outer, count] triples.  Rejects with err.code and a message naming the file.  */
struct shift_job
{
  napi_async_work work;
  napi_deferred deferred;
  char source[PATH_MAX], target[PATH_MAX];
  struct idshift_range *ranges;
  struct idshift_map uids, gids;
  int threads, status;
  struct idshift_result result;
};

static void
shift_job_execute (napi_env env, void *arg)
{
  struct shift_job *job = arg;
  job->status = idshift_copy (job->source, job->target, &job->uids, &job->gids, job->threads, &job->result);
}

static void
shift_job_complete (napi_env env, napi_status status, void *arg)
{
  struct shift_job *job = arg;
  napi_value value, n;
  if (job->status == 0)
    {
      napi_create_object (env, &value);
      napi_create_double (env, (double) job->result.files, &n);
      napi_set_named_property (env, value, "files", n);
      napi_create_double (env, (double) job->result.bytes, &n);
      napi_set_named_property (env, value, "bytes", n);
      napi_resolve_deferred (env, job->deferred, value);
    }
  else
    {
      napi_value message, code;
      const char *name = job->result.err == ENOSPC ? "ENOSPC" : job->result.err == EDQUOT ? "EDQUOT" : "ESYSCALL";
      napi_create_string_utf8 (env, job->result.message, NAPI_AUTO_LENGTH, &message);
      napi_create_string_utf8 (env, name, NAPI_AUTO_LENGTH, &code);
      napi_create_error (env, code, message, &value);
      napi_reject_deferred (env, job->deferred, value);
    }
  napi_delete_async_work (env, job->work);
  free (job->ranges);
  free (job);
}

/* Reads a flat [inner, outer, count, ...] array into ranges[]; the count read, or -1.  */
static ssize_t
get_ranges (napi_env env, napi_value array, struct idshift_range *ranges, size_t max)
{
  uint32_t len;
  if (napi_get_array_length (env, array, &len) != napi_ok || len % 3 != 0 || len / 3 > max)
    return -1;
  for (uint32_t i = 0; i < len; i++)
    {
      napi_value v;
      uint32_t x;
      if (napi_get_element (env, array, i, &v) != napi_ok || napi_get_value_uint32 (env, v, &x) != napi_ok)
        return -1;
      ((uint32_t *) &ranges[i / 3])[i % 3] = x;
    }
  return len / 3;
}

static napi_value
js_shift_copy (napi_env env, napi_callback_info info)
{
  size_t argc = 5;
  napi_value argv[5];
  int32_t threads = 1;
  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  struct shift_job *job = calloc (1, sizeof *job);
  struct idshift_range *ranges = calloc (2 * 64, sizeof *ranges);
  ssize_t nu = -1, ng = -1;
  if (job && ranges && argc == 5 && get_string (env, argv[0], job->source, sizeof job->source) && get_string (env, argv[1], job->target, sizeof job->target))
    {
      nu = get_ranges (env, argv[2], ranges, 64);
      ng = get_ranges (env, argv[3], ranges + 64, 64);
      napi_get_value_int32 (env, argv[4], &threads);
    }
  if (nu < 0 || ng < 0)
    {
      free (job);
      free (ranges);
      napi_throw_type_error (env, NULL, "shiftCopy(source, target, uidMap, gidMap, threads)");
      return NULL;
    }
  job->ranges = ranges;
  job->uids = (struct idshift_map) { ranges, nu };
  job->gids = (struct idshift_map) { ranges + 64, ng };
  job->threads = threads;
  return queue_job (env, "skiff:shiftCopy", shift_job_execute, shift_job_complete, job, &job->deferred, &job->work);
}

static napi_value
init (napi_env env, napi_value exports)
{
  napi_property_descriptor props[] = {
    { "flock", NULL, js_flock, NULL, NULL, NULL, napi_default, NULL },
    { "funlock", NULL, js_funlock, NULL, NULL, NULL, napi_default, NULL },
    { "mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL },
    { "mount", NULL, js_mount, NULL, NULL, NULL, napi_default, NULL },
    { "pipe", NULL, js_pipe, NULL, NULL, NULL, napi_default, NULL },
    { "umount", NULL, js_umount, NULL, NULL, NULL, napi_default, NULL },
    { "lgetxattr", NULL, js_lgetxattr, NULL, NULL, NULL, napi_default, NULL },
    { "spawn", NULL, js_spawn, NULL, NULL, NULL, napi_default, NULL },
    { "waitpid", NULL, js_waitpid, NULL, NULL, NULL, napi_default, NULL },
    { "reap", NULL, js_reap, NULL, NULL, NULL, napi_default, NULL },
    { "openInRoot", NULL, js_open_in_root, NULL, NULL, NULL, napi_default, NULL },
    { "shiftCopy", NULL, js_shift_copy, NULL, NULL, NULL, napi_default, NULL },
    { "sealedCopy", NULL, js_sealed_copy, NULL, NULL, NULL, napi_default, NULL },
    { "unpacker", NULL, js_unpacker, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties (env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE (NODE_GYP_MODULE_NAME, init)
