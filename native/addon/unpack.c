/* unpack.c: a layer's blob becomes a directory tree, on a thread of its own.
 *
 * unpacker(target, blob, gzip, chown, onEvent, plain) returns { push(buffer), end(), abort() }.
 * The bytes pushed are a layer's blob as it arrives: this thread writes them to `blob` (when given),
 * hashes them, gunzips them (when `gzip`), hashes the tar, and unpacks it into `target`, an
 * existing directory (its path, or a descriptor of it, e.g. one openInRoot resolved inside a
 * container's root).  `plain` unpacks a copy rather than a layer (cp): ".wh." names are files like
 * any other, and messages speak of entries, not layer entries.  onEvent('drain') says the queue has room again after push returned false;
 * onEvent('done', result) comes once, with the digests, what was unpacked, or an error.  In
 * JavaScript this took a round trip to the thread pool per chunk, per small file and for the
 * gunzip, with the tar parsed and both digests computed on Node's main thread.
 *
 * What never happens, whatever the tar says (each has a test with a crafted layer):
 * - a write outside `target`: names are split into components and ".." is refused; an absolute
 *   name is taken relative to the target; every parent is opened component by component from the
 *   target's descriptor with O_NOFOLLOW|O_DIRECTORY, so a symlink among the parents is refused
 *   rather than followed, and files are created with O_EXCL|O_NOFOLLOW relative to that parent;
 * - a hardlink to a file outside: the link's target is resolved the same way, inside the layer;
 * - a device node: a rootless user cannot make one, and the runtime bind-mounts /dev anyway;
 * - a change made through a symlink that someone else puts in place meanwhile (a running
 *   container, while `cp` writes into it): what is made is then changed through a descriptor
 *   opened with O_NOFOLLOW, or by name with AT_SYMLINK_NOFOLLOW, never by a name that follows;
 * - overlay's own attributes (trusted.overlay.*, user.overlay.*, fuse-overlayfs' markers) taken
 *   from the tar: they would redirect or fake what overlayfs shows, so they are dropped, as
 *   containers/storage drops them.
 * Whiteouts (.wh.NAME) become 0/0 character devices, opaque markers user.overlay.opaque=y, as
 * overlayfs wants them in a user namespace.  Ownership is given with fchown, inside the rootless
 * namespace (so an image's uid lands on the mapped subuid); EINVAL there means an id outside the
 * user's range.  A later entry replaces an earlier one of the same name, as tar does.
 *
 * This file drives: the queue between Node and the thread, gunzip, the digests, the result.  tar.c
 * reads the tar format; tree.c makes the entries.  */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unpack.h"
#include "unpack-internal.h"

void
fail (struct unpacker *u, enum failure kind, const char *fmt, ...)
{
  va_list ap;
  if (u->failure != OK)
    return;
  u->failure = kind;
  va_start (ap, fmt);
  vsnprintf (u->message, sizeof u->message, fmt, ap);
  va_end (ap);
}

void
refuse (struct unpacker *u, const char *why)
{
  fail (u, REFUSE, "refusing %s \"%s\": %s", u->plain ? "entry" : "layer entry", u->name, why);
}

void
sys_fail (struct unpacker *u, const char *what, int err)
{
  fail (u, SYS, "cannot %s %s: %s", what, u->name, strerror (err));
}

static void
blob_feed (struct unpacker *u, const unsigned char *p, size_t n)
{
  if (u->blob_fd >= 0)
    write_all (u, u->blob_fd, p, n, u->blob_path);
  EVP_DigestUpdate (u->pushed_hash, p, n);
  u->pushed_bytes += n;
  if (!u->gzip)
    return tar_feed (u, p, n);
  u->z.next_in = (unsigned char *) p;
  u->z.avail_in = n;
  while (u->failure == OK)
    {
      int ret;
      if (u->z_ended)
        {
          /* Another gzip member, or trailing bytes that gzip would ignore too.  */
          if (u->z.avail_in < 2 || u->z.next_in[0] != 0x1f || u->z.next_in[1] != 0x8b)
            return;
          inflateReset (&u->z);
          u->z_ended = false;
        }
      u->z.next_out = u->out;
      u->z.avail_out = OUT_CHUNK;
      ret = inflate (&u->z, Z_NO_FLUSH);
      if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR)
        return fail (u, CORRUPT, "gunzip: %s", u->z.msg ? u->z.msg : "invalid data");
      if (OUT_CHUNK - u->z.avail_out)
        tar_feed (u, u->out, OUT_CHUNK - u->z.avail_out);
      if (ret == Z_STREAM_END)
        u->z_ended = true;
      /* A full output buffer may leave more to come without more input.  */
      else if (u->z.avail_in == 0 && u->z.avail_out != 0)
        return;
      else if (ret == Z_BUF_ERROR && u->z.avail_out != 0)
        return fail (u, CORRUPT, "gunzip: no progress");
    }
}

/* At the end of the blob: what an incomplete tar or gzip stream means, directory times, digests.  */
static void
finish (struct unpacker *u)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len;
  if (u->failure == OK && u->gzip && !u->z_ended)
    fail (u, CORRUPT, "gunzip: unexpected end of file");
  if (u->failure == OK && u->state != HEADER && u->state != END)
    fail (u, CORRUPT, "unexpected end of the tar data in \"%s\"", u->name);
  if (u->failure == OK && u->state == HEADER && u->have)
    fail (u, CORRUPT, "unexpected end of the tar data after \"%s\"", u->name);
  if (u->failure == OK)
    restore_dir_times (u);
  EVP_DigestFinal_ex (u->pushed_hash, md, &len);
  strcpy (u->pushed_digest, "sha256:");
  for (unsigned int i = 0; i < len; i++)
    sprintf (u->pushed_digest + 7 + 2 * i, "%02x", md[i]);
  EVP_DigestFinal_ex (u->tar_hash, md, &len);
  strcpy (u->tar_digest, "sha256:");
  for (unsigned int i = 0; i < len; i++)
    sprintf (u->tar_digest + 7 + 2 * i, "%02x", md[i]);
}

/* ---- The thread and its JavaScript side ------------------------------------------------------- */

enum event_kind { EV_DRAIN, EV_DONE };

static void
unref (struct unpacker *u)
{
  if (atomic_fetch_sub (&u->refs, 1) != 1)
    return;
  for (struct chunk *c = u->head, *next; c; c = next)
    {
      next = c->next;
      free (c);
    }
  for (size_t i = 0; i < u->n_dir_times; i++)
    free (u->dir_times[i].rel);
  for (int i = 0; i < u->n_devices; i++)
    free (u->devices[i]);
  free (u->dir_times);
  free (u->target);
  free (u->blob_path);
  pthread_mutex_destroy (&u->mu);
  pthread_cond_destroy (&u->cv);
  free (u);
}

static void
call_js (napi_env env, napi_value callback, void *context, void *data)
{
  struct unpacker *u = context;
  enum event_kind kind = (enum event_kind) (intptr_t) data;
  napi_value argv[2], result, value, list, undefined;
  static const char *const kinds[] = { [OK] = NULL, [REFUSE] = "refuse", [RANGE] = "range", [SYS] = "sys", [CORRUPT] = "corrupt", [ABORTED] = "aborted" };

  if (env == NULL)
    {
      if (kind == EV_DONE)
        unref (u);
      return;
    }
  napi_get_undefined (env, &undefined);
  if (kind == EV_DRAIN)
    {
      napi_create_string_utf8 (env, "drain", NAPI_AUTO_LENGTH, &argv[0]);
      napi_call_function (env, undefined, callback, 1, argv, NULL);
      return;
    }
  napi_create_string_utf8 (env, "done", NAPI_AUTO_LENGTH, &argv[0]);
  napi_create_object (env, &result);
  if (u->failure != OK)
    {
      napi_create_string_utf8 (env, kinds[u->failure], NAPI_AUTO_LENGTH, &value);
      napi_set_named_property (env, result, "failure", value);
      napi_create_string_utf8 (env, u->message, NAPI_AUTO_LENGTH, &value);
      napi_set_named_property (env, result, "message", value);
    }
  napi_create_string_utf8 (env, u->pushed_digest, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property (env, result, "pushedDigest", value);
  napi_create_string_utf8 (env, u->tar_digest, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property (env, result, "tarDigest", value);
  napi_create_double (env, (double) u->pushed_bytes, &value);
  napi_set_named_property (env, result, "pushedBytes", value);
  napi_create_double (env, (double) u->size, &value);
  napi_set_named_property (env, result, "size", value);
  napi_create_double (env, (double) u->tar_bytes, &value);
  napi_set_named_property (env, result, "tarBytes", value);
  napi_create_double (env, (double) u->entries, &value);
  napi_set_named_property (env, result, "entries", value);
  napi_create_array_with_length (env, u->n_devices, &list);
  for (int i = 0; i < u->n_devices; i++)
    {
      napi_create_string_utf8 (env, u->devices[i], NAPI_AUTO_LENGTH, &value);
      napi_set_element (env, list, i, value);
    }
  napi_set_named_property (env, result, "skippedDevices", list);
  argv[1] = result;
  unref (u);
  napi_call_function (env, undefined, callback, 2, argv, NULL);
}

static void *
thread_main (void *arg)
{
  struct unpacker *u = arg;

  if (u->target_fd >= 0)
    u->root_fd = u->target_fd;
  else
    u->root_fd = open (u->target, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (u->root_fd < 0)
    fail (u, SYS, "cannot open %s: %s", u->target, strerror (errno));
  if (u->blob_path && u->failure == OK)
    {
      u->blob_fd = open (u->blob_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (u->blob_fd < 0)
        fail (u, SYS, "cannot create %s: %s", u->blob_path, strerror (errno));
    }
  while (u->failure == OK)
    {
      struct chunk *c;
      bool drain = false;
      pthread_mutex_lock (&u->mu);
      while (u->head == NULL && !u->eof && !u->aborted)
        pthread_cond_wait (&u->cv, &u->mu);
      if (u->aborted)
        fail (u, ABORTED, "the unpacking was cancelled");
      c = u->aborted ? NULL : u->head;
      if (c)
        {
          u->head = c->next;
          if (u->head == NULL)
            u->tail = NULL;
          u->queued -= c->len;
          if (u->want_drain && u->queued <= LOW_WATER)
            {
              u->want_drain = false;
              drain = true;
            }
        }
      pthread_mutex_unlock (&u->mu);
      if (c == NULL)
        break;
      if (drain)
        napi_call_threadsafe_function (u->tsfn, (void *) (intptr_t) EV_DRAIN, napi_tsfn_nonblocking);
      blob_feed (u, c->data, c->len);
      free (c);
    }
  /* From here on push() drops what it gets: 'done' is on its way.  */
  pthread_mutex_lock (&u->mu);
  u->finished = true;
  pthread_mutex_unlock (&u->mu);
  if (u->failure == OK)
    finish (u);
  if (u->file_fd >= 0)
    close (u->file_fd);
  stack_pop_to (u, 0);
  if (u->root_fd >= 0)
    close (u->root_fd);
  if (u->blob_fd >= 0 && close (u->blob_fd) < 0)
    fail (u, SYS, "cannot write %s: %s", u->blob_path, strerror (errno));
  reset_pending (u);
  free (u->meta_buf);
  free (u->out);
  if (u->z_ready)
    inflateEnd (&u->z);
  EVP_MD_CTX_free (u->pushed_hash);
  EVP_MD_CTX_free (u->tar_hash);
  napi_call_threadsafe_function (u->tsfn, (void *) (intptr_t) EV_DONE, napi_tsfn_blocking);
  napi_release_threadsafe_function (u->tsfn, napi_tsfn_release);
  return NULL;
}

static struct unpacker *
this_unpacker (napi_env env, napi_callback_info info, size_t *argc, napi_value *argv)
{
  void *data;
  napi_get_cb_info (env, info, argc, argv, NULL, &data);
  return data;
}

/* push(buffer): boolean — false when the queue is full; wait for 'drain'.  */
static napi_value
js_push (napi_env env, napi_callback_info info)
{
  size_t argc = 1;
  napi_value argv[1], result;
  struct unpacker *u = this_unpacker (env, info, &argc, argv);
  void *data;
  size_t len = 0;
  struct chunk *c;
  bool room = true;

  if (argc < 1 || napi_get_buffer_info (env, argv[0], &data, &len) != napi_ok)
    {
      napi_throw_type_error (env, NULL, "push(buffer)");
      return NULL;
    }
  c = malloc (sizeof *c + len);
  if (c == NULL)
    {
      napi_throw_error (env, "ENOMEM", "unpacker: out of memory");
      return NULL;
    }
  c->next = NULL;
  c->len = len;
  memcpy (c->data, data, len);
  pthread_mutex_lock (&u->mu);
  if (u->eof || u->aborted || u->finished)
    free (c); /* the thread is done, or will be: 'done' says how */
  else
    {
      if (u->tail)
        u->tail->next = c;
      else
        u->head = c;
      u->tail = c;
      u->queued += len;
      if (u->queued > HIGH_WATER)
        {
          room = false;
          u->want_drain = true;
        }
      pthread_cond_signal (&u->cv);
    }
  pthread_mutex_unlock (&u->mu);
  napi_get_boolean (env, room, &result);
  return result;
}

/* end(): no more bytes; abort(): stop now (the source failed).  */
static napi_value
tell_thread (napi_env env, napi_callback_info info, bool abort)
{
  size_t argc = 0;
  struct unpacker *u = this_unpacker (env, info, &argc, NULL);
  pthread_mutex_lock (&u->mu);
  if (abort)
    u->aborted = true;
  else
    u->eof = true;
  pthread_cond_signal (&u->cv);
  pthread_mutex_unlock (&u->mu);
  return NULL;
}

static napi_value
js_end (napi_env env, napi_callback_info info)
{
  return tell_thread (env, info, false);
}

static napi_value
js_abort (napi_env env, napi_callback_info info)
{
  return tell_thread (env, info, true);
}

static void
finalize_object (napi_env env, void *data, void *hint)
{
  unref (data);
}

/* unpacker(target: string | number, blob: string | null, gzip: boolean, chown: boolean,
 *          onEvent: (event: 'drain' | 'done', result?) => void, plain?: boolean)  */
napi_value
js_unpacker (napi_env env, napi_callback_info info)
{
  size_t argc = 6, len;
  napi_value argv[6], object, fn, name;
  napi_valuetype blob_type, target_type;
  struct unpacker *u;
  char path[PATH_MAX];
  pthread_t thread;
  pthread_attr_t attr;
  int err;

  napi_get_cb_info (env, info, &argc, argv, NULL, NULL);
  if (argc < 5)
    {
      napi_throw_type_error (env, NULL, "unpacker(target, blob, gzip, chown, onEvent)");
      return NULL;
    }
  u = calloc (1, sizeof *u);
  if (u == NULL)
    goto nomem;
  pthread_mutex_init (&u->mu, NULL);
  pthread_cond_init (&u->cv, NULL);
  u->root_fd = u->blob_fd = u->file_fd = u->target_fd = -1;
  atomic_init (&u->refs, 2);
  napi_typeof (env, argv[0], &target_type);
  if (target_type == napi_number)
    {
      int32_t fd;
      napi_get_value_int32 (env, argv[0], &fd);
      if ((u->target_fd = fcntl (fd, F_DUPFD_CLOEXEC, 3)) < 0 || (u->target = strdup ("the target")) == NULL)
        goto bad;
    }
  else if (napi_get_value_string_utf8 (env, argv[0], path, sizeof path, &len) != napi_ok || len >= sizeof path - 1 || (u->target = strdup (path)) == NULL)
    goto bad;
  napi_typeof (env, argv[1], &blob_type);
  if (blob_type == napi_string)
    {
      if (napi_get_value_string_utf8 (env, argv[1], path, sizeof path, &len) != napi_ok || len >= sizeof path - 1 || (u->blob_path = strdup (path)) == NULL)
        goto bad;
    }
  napi_get_value_bool (env, argv[2], &u->gzip);
  /* chown: true (the tar's owners), false (ours), or [uid, gid] (these for every entry).  */
  napi_valuetype chown_type;
  napi_typeof (env, argv[3], &chown_type);
  if (chown_type == napi_object)
    {
      napi_value id;
      uint32_t uid, gid;
      if (napi_get_element (env, argv[3], 0, &id) != napi_ok || napi_get_value_uint32 (env, id, &uid) != napi_ok
          || napi_get_element (env, argv[3], 1, &id) != napi_ok || napi_get_value_uint32 (env, id, &gid) != napi_ok)
        goto bad;
      u->chown = u->force_owner = true;
      u->owner_uid = uid;
      u->owner_gid = gid;
    }
  else
    napi_get_value_bool (env, argv[3], &u->chown);
  if (argc > 5)
    napi_get_value_bool (env, argv[5], &u->plain);
  u->pushed_hash = EVP_MD_CTX_new ();
  u->tar_hash = EVP_MD_CTX_new ();
  u->out = malloc (OUT_CHUNK);
  if (u->pushed_hash == NULL || u->tar_hash == NULL || u->out == NULL)
    goto nomem;
  EVP_DigestInit_ex (u->pushed_hash, EVP_sha256 (), NULL);
  EVP_DigestInit_ex (u->tar_hash, EVP_sha256 (), NULL);
  if (u->gzip)
    {
      /* 16 + 15: a gzip header, the largest window.  */
      if (inflateInit2 (&u->z, 16 + MAX_WBITS) != Z_OK)
        goto nomem;
      u->z_ready = true;
    }

  napi_create_string_utf8 (env, "skiff:unpack", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function (env, argv[4], NULL, name, 0, 1, NULL, NULL, u, call_js, &u->tsfn) != napi_ok)
    goto bad;
  napi_create_object (env, &object);
  napi_create_function (env, "push", NAPI_AUTO_LENGTH, js_push, u, &fn);
  napi_set_named_property (env, object, "push", fn);
  napi_create_function (env, "end", NAPI_AUTO_LENGTH, js_end, u, &fn);
  napi_set_named_property (env, object, "end", fn);
  napi_create_function (env, "abort", NAPI_AUTO_LENGTH, js_abort, u, &fn);
  napi_set_named_property (env, object, "abort", fn);
  napi_add_finalizer (env, object, u, finalize_object, NULL, NULL);

  pthread_attr_init (&attr);
  pthread_attr_setdetachstate (&attr, PTHREAD_CREATE_DETACHED);
  err = pthread_create (&thread, &attr, thread_main, u);
  pthread_attr_destroy (&attr);
  if (err)
    {
      /* The object's finalizer drops one reference; 'done' never comes, so drop the thread's.  */
      napi_release_threadsafe_function (u->tsfn, napi_tsfn_abort);
      unref (u);
      napi_throw_error (env, "EAGAIN", "unpacker: cannot start a thread");
      return NULL;
    }
  return object;

nomem:
  napi_throw_error (env, "ENOMEM", "unpacker: out of memory");
  goto free;
bad:
  napi_throw_type_error (env, NULL, "unpacker(target: string | number, blob: string | null, gzip, chown, onEvent, plain)");
free:
  if (u)
    {
      if (u->target_fd >= 0)
        close (u->target_fd);
      if (u->z_ready)
        inflateEnd (&u->z);
      EVP_MD_CTX_free (u->pushed_hash);
      EVP_MD_CTX_free (u->tar_hash);
      free (u->out);
      atomic_store (&u->refs, 1);
      unref (u);
    }
  return NULL;
}
