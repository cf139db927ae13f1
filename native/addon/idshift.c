/* idshift.c: an id-shifted copy of a layer, for containers with a user namespace of their own
 * (--userns=keep-id, nomap, auto, --uidmap).  Such a container sees skiff's ids through its map, so
 * the image's files must be owned by map(id) to look as they do in the image.  The kernel will not
 * idmap a rootless user's ext4 directory, and FUSE shifting costs ~9x on file-heavy reads, so the
 * layer is copied once per map and the copy is shared by every container with that map.
 *
 * One thread walks the source (a layer's diff directory, which only skiff writes) and makes every
 * entry in the target: directories, links, whiteouts and special files at once; each regular file is
 * created empty with its owner, then handed with both descriptors to a pool of threads that copy the
 * data with copy_file_range (a reflink on btrfs and XFS), then set its mode, xattrs and times (a
 * write would drop set-id bits and file capabilities set before it).
 * Nothing is opened by a path of more than one component, nothing with a symlink followed.
 * security.capability is rewritten so that its root id is the shifted one.  */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "idshift.h"

#define QUEUE_LEN 256
#define MAX_DEPTH 256

struct job
{
  int src, dst;
  off_t size;
  mode_t mode;
  struct timespec times[2];
};

struct links
{
  dev_t *dev;
  ino_t *ino;
  char **path;
  size_t len, cap;
};

struct shift
{
  const struct idshift_map *uids, *gids;
  int src_root, dst_root;
  /* The pool's queue: a ring of jobs, a producer (the walker) and `threads` consumers.  */
  pthread_mutex_t mu;
  pthread_cond_t not_empty, not_full;
  struct job queue[QUEUE_LEN];
  size_t head, count;
  bool closing;
  /* The first failure, said as "what path: strerror".  */
  int err;
  char message[512];
  uint64_t files, bytes;
  struct links links;
  char path[PATH_MAX];
};

uint32_t
idshift_id (const struct idshift_map *map, uint32_t id)
{
  for (size_t i = 0; i < map->len; i++)
    if (id >= map->ranges[i].inner && id - map->ranges[i].inner < map->ranges[i].count)
      return map->ranges[i].outer + (id - map->ranges[i].inner);
  return id;
}

static void
fail (struct shift *s, int err, const char *what, const char *name)
{
  pthread_mutex_lock (&s->mu);
  if (s->err == 0)
    {
      s->err = err;
      snprintf (s->message, sizeof s->message, "%s %.300s%s%.100s: %s", what, s->path, *s->path && name ? "/" : "", name ? name : "", strerror (err));
    }
  pthread_mutex_unlock (&s->mu);
}

/* From the pool, whose files have no path at hand (the walker's moves on meanwhile).  */
static void
fail_plain (struct shift *s, int err, const char *what)
{
  pthread_mutex_lock (&s->mu);
  if (s->err == 0)
    {
      s->err = err;
      snprintf (s->message, sizeof s->message, "%s: %s", what, strerror (err));
    }
  pthread_mutex_unlock (&s->mu);
}

static bool
failed (struct shift *s)
{
  pthread_mutex_lock (&s->mu);
  bool f = s->err != 0;
  pthread_mutex_unlock (&s->mu);
  return f;
}

/* ---- The copying pool ------------------------------------------------------------------------ */

static int copy_xattrs (struct shift *s, int src, int dst);

static int
copy_data (int src, int dst, off_t size)
{
  off_t left = size;
  while (left > 0)
    {
      ssize_t n = copy_file_range (src, NULL, dst, NULL, left, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL))
        break; /* read and write below */
      if (n < 0)
        return -1;
      if (n == 0)
        return 0; /* the file shrank: only skiff writes layers, so it cannot; stop at its end */
      left -= n;
    }
  char buf[65536];
  while (left > 0)
    {
      ssize_t n = read (src, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return n;
      for (ssize_t off = 0; off < n;)
        {
          ssize_t w = write (dst, buf + off, n - off);
          if (w < 0 && errno == EINTR)
            continue;
          if (w < 0)
            return -1;
          off += w;
        }
      left -= n;
    }
  return 0;
}

static void *
worker (void *arg)
{
  struct shift *s = arg;
  for (;;)
    {
      pthread_mutex_lock (&s->mu);
      while (s->count == 0 && !s->closing)
        pthread_cond_wait (&s->not_empty, &s->mu);
      if (s->count == 0)
        {
          pthread_mutex_unlock (&s->mu);
          return NULL;
        }
      struct job job = s->queue[s->head];
      s->head = (s->head + 1) % QUEUE_LEN;
      s->count--;
      bool skip = s->err != 0;
      pthread_cond_signal (&s->not_full);
      pthread_mutex_unlock (&s->mu);
      /* The mode and the xattrs after the data: a write drops the set-id bits and security.capability.  */
      if (!skip
          && (copy_data (job.src, job.dst, job.size) < 0 || fchmod (job.dst, job.mode & 07777) < 0 || copy_xattrs (s, job.src, job.dst) < 0
              || futimens (job.dst, job.times) < 0))
        fail_plain (s, errno, "cannot copy a file");
      close (job.src);
      close (job.dst);
    }
}

static void
enqueue (struct shift *s, struct job *job)
{
  pthread_mutex_lock (&s->mu);
  while (s->count == QUEUE_LEN)
    pthread_cond_wait (&s->not_full, &s->mu);
  s->queue[(s->head + s->count) % QUEUE_LEN] = *job;
  s->count++;
  pthread_cond_signal (&s->not_empty);
  pthread_mutex_unlock (&s->mu);
}

/* ---- Metadata -------------------------------------------------------------------------------- */

/* security.capability names the root id its capabilities are for (v3); a v2 value is for the
 * reader's namespace root (0).  Either becomes v3 for map(root).  */
#define CAP_REVISION_MASK 0xFF000000u
#define CAP_REVISION_2 0x02000000u
#define CAP_REVISION_3 0x03000000u

static int
set_capability (struct shift *s, int fd, const uint8_t *value, ssize_t len)
{
  uint32_t words[6];
  if (len != 20 && len != 24)
    return 0; /* v1 or unknown: dropped, as the kernel would not honour it in a new namespace */
  memcpy (words, value, len);
  uint32_t magic = words[0];
  uint32_t root = len == 24 ? words[5] : 0;
  if ((magic & CAP_REVISION_MASK) != CAP_REVISION_2 && (magic & CAP_REVISION_MASK) != CAP_REVISION_3)
    return 0;
  words[0] = (magic & ~CAP_REVISION_MASK) | CAP_REVISION_3;
  words[5] = idshift_id (s->uids, root);
  return fsetxattr (fd, "security.capability", words, 24, 0);
}

/* Every xattr that can be read from `src` (an O_PATH descriptor will not do: both are opened).  */
static int
copy_xattrs (struct shift *s, int src, int dst)
{
  char names[4096], value[4096];
  ssize_t len = flistxattr (src, names, sizeof names);
  if (len < 0)
    return errno == ENOTSUP ? 0 : -1;
  for (char *name = names; name < names + len; name += strlen (name) + 1)
    {
      ssize_t n = fgetxattr (src, name, value, sizeof value);
      if (n < 0)
        {
          if (errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP)
            continue;
          return -1;
        }
      int r = strcmp (name, "security.capability") == 0 ? set_capability (s, dst, (uint8_t *) value, n) : fsetxattr (dst, name, value, n, 0);
      if (r < 0 && errno != ENOTSUP && errno != EOPNOTSUPP)
        return -1;
    }
  return 0;
}

static int
set_owner_mode (struct shift *s, int fd, const struct stat *st)
{
  if (fchown (fd, idshift_id (s->uids, st->st_uid), idshift_id (s->gids, st->st_gid)) < 0)
    return -1;
  return fchmod (fd, st->st_mode & 07777);
}

/* Hard links within the layer stay links: the first name of each inode is remembered.  */
static const char *
link_target (struct shift *s, const struct stat *st)
{
  for (size_t i = 0; i < s->links.len; i++)
    if (s->links.ino[i] == st->st_ino && s->links.dev[i] == st->st_dev)
      return s->links.path[i];
  return NULL;
}

static int
remember_link (struct shift *s, const struct stat *st, const char *name)
{
  struct links *l = &s->links;
  if (l->len == l->cap)
    {
      size_t cap = l->cap ? l->cap * 2 : 64;
      dev_t *dev = realloc (l->dev, cap * sizeof *dev);
      if (dev)
        l->dev = dev;
      ino_t *ino = realloc (l->ino, cap * sizeof *ino);
      if (ino)
        l->ino = ino;
      char **path = realloc (l->path, cap * sizeof *path);
      if (path)
        l->path = path;
      if (!dev || !ino || !path)
        return -1;
      l->cap = cap;
    }
  char *copy;
  if (asprintf (&copy, "%s%s%s", s->path, *s->path ? "/" : "", name) < 0)
    return -1;
  l->dev[l->len] = st->st_dev;
  l->ino[l->len] = st->st_ino;
  l->path[l->len++] = copy;
  return 0;
}

/* ---- The walk -------------------------------------------------------------------------------- */

static int walk (struct shift *s, int src, int dst, int depth);

static int
copy_file (struct shift *s, int src_dir, int dst_dir, const char *name, const struct stat *st)
{
  const char *first = st->st_nlink > 1 ? link_target (s, st) : NULL;
  if (first)
    return linkat (s->dst_root, first, dst_dir, name, 0);
  if (st->st_nlink > 1 && remember_link (s, st, name) < 0)
    return -1;
  int src = openat (src_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0)
    return -1;
  int dst = openat (dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (dst < 0 || fchown (dst, idshift_id (s->uids, st->st_uid), idshift_id (s->gids, st->st_gid)) < 0)
    {
      int err = errno;
      close (src);
      if (dst >= 0)
        close (dst);
      errno = err;
      return -1;
    }
  struct job job = { .src = src, .dst = dst, .size = st->st_size, .mode = st->st_mode, .times = { st->st_atim, st->st_mtim } };
  enqueue (s, &job);
  s->files++;
  s->bytes += st->st_size;
  return 0;
}

static int
copy_dir (struct shift *s, int src_dir, int dst_dir, const char *name, const struct stat *st, int depth)
{
  if (depth >= MAX_DEPTH)
    {
      errno = ELOOP;
      return -1;
    }
  if (mkdirat (dst_dir, name, 0700) < 0)
    return -1;
  int src = openat (src_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (src < 0)
    return -1;
  int dst = openat (dst_dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  size_t len = strlen (s->path);
  int r = -1;
  if (dst >= 0 && len + strlen (name) + 2 < sizeof s->path)
    {
      snprintf (s->path + len, sizeof s->path - len, "%s%s", len ? "/" : "", name);
      r = walk (s, src, dst, depth + 1);
      s->path[len] = '\0';
    }
  if (r == 0)
    r = copy_xattrs (s, src, dst) < 0 || set_owner_mode (s, dst, st) < 0 ? -1 : 0;
  struct timespec times[2] = { st->st_atim, st->st_mtim };
  if (r == 0)
    r = futimens (dst, times);
  int err = errno;
  close (src);
  if (dst >= 0)
    close (dst);
  errno = err;
  return r;
}

static int
copy_entry (struct shift *s, int src, int dst, const char *name, int depth)
{
  struct stat st;
  if (fstatat (src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return -1;
  struct timespec times[2] = { st.st_atim, st.st_mtim };
  uid_t uid = idshift_id (s->uids, st.st_uid);
  gid_t gid = idshift_id (s->gids, st.st_gid);
  switch (st.st_mode & S_IFMT)
    {
    case S_IFDIR:
      return copy_dir (s, src, dst, name, &st, depth);
    case S_IFREG:
      return copy_file (s, src, dst, name, &st);
    case S_IFLNK:
      {
        char target[PATH_MAX];
        ssize_t n = readlinkat (src, name, target, sizeof target - 1);
        if (n < 0)
          return -1;
        target[n] = '\0';
        if (symlinkat (target, dst, name) < 0)
          return -1;
        break;
      }
    default:
      /* Whiteouts (0/0 character devices), fifos, sockets: made anew, never opened.  */
      if (mknodat (dst, name, st.st_mode & (S_IFMT | 07777), st.st_rdev) < 0)
        return -1;
      break;
    }
  if (fchownat (dst, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return -1;
  if (!S_ISLNK (st.st_mode) && fchmodat (dst, name, st.st_mode & 07777, 0) < 0)
    return -1;
  return utimensat (dst, name, times, AT_SYMLINK_NOFOLLOW);
}

/* Copies the entries of `src` into `dst` (both directory descriptors, kept by the caller).  */
static int
walk (struct shift *s, int src, int dst, int depth)
{
  int fd = dup (src);
  DIR *dir = fd < 0 ? NULL : fdopendir (fd);
  if (dir == NULL)
    {
      if (fd >= 0)
        close (fd);
      fail (s, errno, "cannot read", NULL);
      return -1;
    }
  struct dirent *d;
  int r = 0;
  while (r == 0 && (errno = 0, d = readdir (dir)) != NULL)
    {
      if (strcmp (d->d_name, ".") == 0 || strcmp (d->d_name, "..") == 0)
        continue;
      if (failed (s))
        r = -1;
      else if (copy_entry (s, src, dst, d->d_name, depth) < 0)
        {
          int err = errno;
          if (!failed (s))
            fail (s, err, "cannot copy", d->d_name);
          r = -1;
        }
    }
  if (r == 0 && errno != 0)
    {
      fail (s, errno, "cannot read", NULL);
      r = -1;
    }
  closedir (dir);
  return r;
}

int
idshift_copy (const char *source, const char *target, const struct idshift_map *uids, const struct idshift_map *gids, int threads,
              struct idshift_result *result)
{
  struct shift *s = calloc (1, sizeof *s);
  if (s == NULL)
    {
      snprintf (result->message, sizeof result->message, "out of memory");
      return -1;
    }
  s->uids = uids;
  s->gids = gids;
  s->src_root = s->dst_root = -1;
  pthread_mutex_init (&s->mu, NULL);
  pthread_cond_init (&s->not_empty, NULL);
  pthread_cond_init (&s->not_full, NULL);
  pthread_t pool[16];
  int started = 0;
  if (threads < 1)
    threads = 1;
  if (threads > 16)
    threads = 16;
  s->src_root = open (source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (s->src_root < 0)
    fail (s, errno, "cannot open", source);
  else if ((s->dst_root = open (target, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    fail (s, errno, "cannot open", target);
  else
    {
      for (; started < threads; started++)
        if (pthread_create (&pool[started], NULL, worker, s) != 0)
          break;
      if (started == 0)
        fail (s, EAGAIN, "cannot start a thread for", NULL);
      else if (walk (s, s->src_root, s->dst_root, 0) == 0)
        {
          /* The target directory itself: owner, mode, xattrs (opaque), times.  */
          struct stat st;
          if (fstat (s->src_root, &st) < 0 || copy_xattrs (s, s->src_root, s->dst_root) < 0 || set_owner_mode (s, s->dst_root, &st) < 0)
            fail (s, errno, "cannot copy", "the layer's root");
        }
    }
  pthread_mutex_lock (&s->mu);
  s->closing = true;
  pthread_cond_broadcast (&s->not_empty);
  pthread_mutex_unlock (&s->mu);
  for (int i = 0; i < started; i++)
    pthread_join (pool[i], NULL);
  /* Times of the root last: the pool's files are done by now.  */
  struct stat st;
  if (s->err == 0 && fstat (s->src_root, &st) == 0)
    {
      struct timespec times[2] = { st.st_atim, st.st_mtim };
      if (futimens (s->dst_root, times) < 0)
        fail (s, errno, "cannot copy", "the layer's root");
    }
  result->files = s->files;
  result->bytes = s->bytes;
  int r = s->err ? -1 : 0;
  if (s->err)
    snprintf (result->message, sizeof result->message, "%s", s->message);
  result->err = s->err;
  if (s->src_root >= 0)
    close (s->src_root);
  if (s->dst_root >= 0)
    close (s->dst_root);
  for (size_t i = 0; i < s->links.len; i++)
    free (s->links.path[i]);
  free (s->links.dev);
  free (s->links.ino);
  free (s->links.path);
  pthread_mutex_destroy (&s->mu);
  pthread_cond_destroy (&s->not_empty);
  pthread_cond_destroy (&s->not_full);
  free (s);
  return r;
}
