/* skiff_native: the few system calls Node does not offer, as an N-API addon.
 *
 * flock(fd, exclusive, wait): BSD file locks, which the kernel releases when the holder dies, so a
 * skiff process killed with SIGKILL never leaves a lock behind.  The JS side only ever asks for
 * non-blocking locks (wait = false) and polls, because a blocking call would stall the event loop
 * that the lock holder's own downloads run on.
 *
 * mknod(path, mode, major, minor) and lsetxattr(path, name, value): what unpacking a layer needs for
 * overlay whiteouts (a 0/0 character device), opaque directories and file capabilities.  */
#define NAPI_VERSION 8
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <node_api.h>

static napi_value
throw_errno (napi_env env, const char *what, int err)
{
  char buf[256];
  snprintf (buf, sizeof buf, "%s: %s", what, strerror (err));
  napi_throw_error (env, err == EPERM ? "EPERM" : err == EINVAL ? "EINVAL" : err == ENOTSUP ? "ENOTSUP" : err == EEXIST ? "EEXIST" : "ESYSCALL", buf);
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

/* lsetxattr(path: string, name: string, value: Buffer)  */
static napi_value
js_lsetxattr (napi_env env, napi_callback_info info)
{
  size_t argc = 3;
  napi_value argv[3];
  char path[4096], name[256];
  void *data;
  size_t len;

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 3 || !get_string (env, argv[0], path, sizeof path) || !get_string (env, argv[1], name, sizeof name))
    return NULL;
  if (napi_get_buffer_info (env, argv[2], &data, &len) != napi_ok)
    {
      napi_throw_type_error (env, NULL, "lsetxattr: value must be a Buffer");
      return NULL;
    }
  if (lsetxattr (path, name, data, len, 0) < 0)
    return throw_errno (env, path, errno);
  return NULL;
}

static napi_value
init (napi_env env, napi_value exports)
{
  napi_property_descriptor props[] = {
    { "flock", NULL, js_flock, NULL, NULL, NULL, napi_default, NULL },
    { "funlock", NULL, js_funlock, NULL, NULL, NULL, napi_default, NULL },
    { "mknod", NULL, js_mknod, NULL, NULL, NULL, napi_default, NULL },
    { "lsetxattr", NULL, js_lsetxattr, NULL, NULL, NULL, napi_default, NULL },
  };
  napi_define_properties (env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE (NODE_GYP_MODULE_NAME, init)
