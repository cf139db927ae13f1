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
 * user's range.  A later entry replaces an earlier one of the same name, as tar does.  */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <node_api.h>
/* Node exports its OpenSSL and zlib to addons; the headers come with Node's (or the system's).  */
#include <openssl/evp.h>
#include <zlib.h>
#include "unpack.h"

#define HIGH_WATER (8u << 20) /* push returns false above this many queued bytes */
#define LOW_WATER (2u << 20)  /* and 'drain' comes when the queue is back below this */
#define OUT_CHUNK (256u << 10)
#define MAX_META (1u << 20) /* a PAX header or a GNU long name */
#define MAX_XATTRS 64
#define MAX_DEPTH 128 /* parent directories kept open */
#define MAX_DEVICES 64

enum failure { OK, REFUSE, RANGE, SYS, CORRUPT, ABORTED };

struct chunk
{
  struct chunk *next;
  size_t len;
  unsigned char data[];
};

struct xattr
{
  const char *name;
  const char *value;
  size_t len;
};

/* What a PAX header ('x') or GNU long name ('L', 'K') says about the next entry.  */
struct pending
{
  char *meta;   /* the PAX records, kept until the entry is done (xattrs point into them) */
  char *longname, *longlink;
  const char *path, *linkpath;
  bool has_size, has_uid, has_gid, has_mtime;
  uint64_t size;
  uint64_t uid, gid;
  int64_t mtime_sec;
  long mtime_nsec;
  struct xattr xattrs[MAX_XATTRS];
  int n_xattrs;
};

struct dir_time
{
  char *rel;
  struct timespec mtime;
};

struct unpacker
{
  /* Shared with the main thread, under mu.  */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct chunk *head, *tail;
  size_t queued;
  bool eof, aborted, finished, want_drain;
  atomic_int refs; /* the JS object and the thread */
  napi_threadsafe_function tsfn;

  /* The thread's own.  */
  char *target, *blob_path;
  int target_fd; /* given instead of a path: a duplicate the thread owns */
  bool gzip, chown, plain;
  int root_fd, blob_fd;
  EVP_MD_CTX *pushed_hash, *tar_hash;
  uint64_t pushed_bytes;
  z_stream z;
  bool z_ready, z_ended;
  unsigned char *out;

  /* The tar parser.  */
  enum { HEADER, DATA, META, PAD, END } state;
  unsigned char header[512];
  size_t have;
  uint64_t remaining;
  size_t pad;
  char meta_type; /* 'x', 'g', 'L', 'K' while in META */
  char *meta_buf;
  size_t meta_len;
  struct pending pending;
  int file_fd; /* the regular file being written, or -1 */
  char name[PATH_MAX]; /* the current entry's name, for messages */
  uint32_t mode;
  uint64_t uid, gid;
  struct timespec mtime;

  /* Open parent directories: stack_fd[i] is the directory at components 0..i.  */
  char *stack_name[MAX_DEPTH];
  int stack_fd[MAX_DEPTH];
  int depth;

  struct dir_time *dir_times;
  size_t n_dir_times, cap_dir_times;

  /* The result.  */
  enum failure failure;
  char message[PATH_MAX + 256];
  uint64_t size, entries;
  char *devices[MAX_DEVICES];
  int n_devices;
  char pushed_digest[72], tar_digest[72];
};

static void
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

static void
refuse (struct unpacker *u, const char *why)
{
  fail (u, REFUSE, "refusing %s \"%s\": %s", u->plain ? "entry" : "layer entry", u->name, why);
}

static void
sys_fail (struct unpacker *u, const char *what, int err)
{
  fail (u, SYS, "cannot %s %s: %s", what, u->name, strerror (err));
}

/* ---- Parent directories ---------------------------------------------------------------------- */

static void
stack_pop_to (struct unpacker *u, int depth)
{
  while (u->depth > depth)
    {
      u->depth--;
      close (u->stack_fd[u->depth]);
      free (u->stack_name[u->depth]);
    }
}

/* Splits `name` in place into components; ".." is refused, "" and "." dropped.  Returns the count
 * or -1.  */
static int
split (struct unpacker *u, char *name, char **parts, int max)
{
  int n = 0;
  for (char *save = NULL, *p = strtok_r (name, "/", &save); p; p = strtok_r (NULL, "/", &save))
    {
      if (strcmp (p, ".") == 0)
        continue;
      if (strcmp (p, "..") == 0)
        {
          refuse (u, "it contains \"..\"");
          return -1;
        }
      if (n == max)
        {
          refuse (u, "it is nested too deeply");
          return -1;
        }
      parts[n++] = p;
    }
  return n;
}

/* The directory holding parts[0..n-1] (its parent chain made as needed, never through a symlink),
 * or -1 with the failure set.  The descriptor stays owned by the stack.  With `create` false
 * nothing is made, and a directory that is not there (or not one) gives -1 without a failure.  */
static int
open_parents (struct unpacker *u, char **parts, int n, bool create)
{
  int common = 0;
  if (n > MAX_DEPTH)
    {
      refuse (u, "it is nested too deeply");
      return -1;
    }
  while (common < u->depth && common < n && strcmp (u->stack_name[common], parts[common]) == 0)
    common++;
  stack_pop_to (u, common);
  for (int i = common; i < n; i++)
    {
      int parent = i ? u->stack_fd[i - 1] : u->root_fd;
      int fd = openat (parent, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT)
        {
          if (!create)
            return -1;
          if (mkdirat (parent, parts[i], 0755) < 0 && errno != EEXIST)
            {
              sys_fail (u, "create a parent directory of", errno);
              return -1;
            }
          fd = openat (parent, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
      if (fd < 0 && !create)
        return -1;
      if (fd < 0)
        {
          int err = errno;
          struct stat st;
          char why[PATH_MAX + 96], rel[PATH_MAX];
          size_t len = 0;
          rel[0] = '\0';
          for (int j = 0; j <= i && len < sizeof rel; j++)
            len += snprintf (rel + len, sizeof rel - len, "%s%s", j ? "/" : "", parts[j]);
          if ((err == ELOOP || err == ENOTDIR) && fstatat (parent, parts[i], &st, AT_SYMLINK_NOFOLLOW) == 0)
            {
              snprintf (why, sizeof why, S_ISLNK (st.st_mode) ? "its parent \"%s\" is a symlink, which could lead outside the target" : "its parent \"%s\" is not a directory", rel);
              refuse (u, why);
            }
          else
            sys_fail (u, "open a parent directory of", err);
          return -1;
        }
      u->stack_fd[i] = fd;
      u->stack_name[i] = strdup (parts[i]);
      u->depth = i + 1;
      if (u->stack_name[i] == NULL)
        {
          sys_fail (u, "unpack", ENOMEM);
          return -1;
        }
    }
  return n ? u->stack_fd[n - 1] : u->root_fd;
}

/* Removes a directory tree below `dirfd`, without following symlinks.  */
static int
remove_tree (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *dir;
  struct dirent *de;
  int ret = 0;
  if (fd < 0)
    return -1;
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return -1;
    }
  while (ret == 0 && (de = readdir (dir)) != NULL)
    {
      struct stat st;
      bool is_dir = de->d_type == DT_DIR;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      if (de->d_type == DT_UNKNOWN)
        is_dir = fstatat (fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR (st.st_mode);
      ret = is_dir ? remove_tree (fd, de->d_name) : unlinkat (fd, de->d_name, 0);
    }
  closedir (dir);
  return ret < 0 ? ret : unlinkat (dirfd, name, AT_REMOVEDIR);
}

/* Makes room for an entry at parent/base (the later entry wins): removes what stands there, unless
 * it is a directory and `keep_dir`.  */
static bool
clear (struct unpacker *u, int parent, const char *base, bool keep_dir)
{
  struct stat st;
  if (fstatat (parent, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    {
      if (errno == ENOENT)
        return true;
      sys_fail (u, "inspect what stands at", errno);
      return false;
    }
  if (S_ISDIR (st.st_mode))
    {
      if (keep_dir)
        return true;
      /* The stack may hold descriptors of what goes: keep only those leading to `parent`.  */
      int keep = 0;
      for (int i = 0; i < u->depth; i++)
        if (u->stack_fd[i] == parent)
          keep = i + 1;
      stack_pop_to (u, keep);
      if (remove_tree (parent, base) < 0)
        {
          sys_fail (u, "replace the directory at", errno);
          return false;
        }
      return true;
    }
  if (unlinkat (parent, base, 0) < 0)
    {
      sys_fail (u, "replace", errno);
      return false;
    }
  return true;
}

/* ---- Entries --------------------------------------------------------------------------------- */

static bool
own (struct unpacker *u, int fd, int parent, const char *base)
{
  int ret = -1;
  if (!u->chown || (u->uid == 0 && u->gid == 0))
    return true;
  /* fchown says EINVAL for an id the namespace does not map; ids past 32 bits never map.  */
  errno = EINVAL;
  if (u->uid <= 0xfffffffeULL && u->gid <= 0xfffffffeULL)
    ret = fd >= 0 ? fchown (fd, u->uid, u->gid) : fchownat (parent, base, u->uid, u->gid, AT_SYMLINK_NOFOLLOW);
  if (ret == 0)
    return true;
  if (errno == EINVAL)
    fail (u, RANGE, "\"%s\" is owned by uid %llu/gid %llu, outside this user's /etc/subuid or /etc/subgid range: give the user a range of at least 65536 ids",
          u->name, (unsigned long long) u->uid, (unsigned long long) u->gid);
  else
    sys_fail (u, "chown", errno);
  return false;
}

/* overlayfs' and fuse-overlayfs' own attributes: whiteouts, opaque markers, redirects, metacopy,
 * ownership overrides.  Only skiff sets them, from the tar's own whiteout entries.  */
static bool
overlay_xattr (const char *name)
{
  static const char *const prefixes[] = { "trusted.overlay.", "user.overlay.", "user.fuseoverlayfs.", "user.containers.override_stat" };
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
    if (strncmp (name, prefixes[i], strlen (prefixes[i])) == 0)
      return true;
  return false;
}

/* Extended attributes from PAX records (file capabilities among them); one the filesystem does
 * not take (or a rootless user may not set) is left out, as tar does, and so are overlay's.  */
static void
set_xattrs (struct unpacker *u, int fd)
{
  for (int i = 0; i < u->pending.n_xattrs; i++)
    if (!overlay_xattr (u->pending.xattrs[i].name))
      (void) fsetxattr (fd, u->pending.xattrs[i].name, u->pending.xattrs[i].value, u->pending.xattrs[i].len, 0);
}

static void
remember_dir_time (struct unpacker *u, char **parts, int n)
{
  char rel[PATH_MAX];
  size_t len = 0;
  for (int i = 0; i < n && len < sizeof rel; i++)
    len += snprintf (rel + len, sizeof rel - len, "%s%s", i ? "/" : "", parts[i]);
  if (u->n_dir_times == u->cap_dir_times)
    {
      size_t cap = u->cap_dir_times ? u->cap_dir_times * 2 : 256;
      struct dir_time *grown = realloc (u->dir_times, cap * sizeof *grown);
      if (grown == NULL)
        return;
      u->dir_times = grown;
      u->cap_dir_times = cap;
    }
  if ((u->dir_times[u->n_dir_times].rel = strdup (rel)) != NULL)
    u->dir_times[u->n_dir_times++].mtime = u->mtime;
}

static void
entry_begin (struct unpacker *u, char type, const char *linkname)
{
  char path[PATH_MAX], *parts[MAX_DEPTH + 1];
  int n, parent;
  const char *base;
  struct timespec times[2];

  u->entries++;
  snprintf (path, sizeof path, "%s", u->name);
  n = split (u, path, parts, MAX_DEPTH + 1);
  if (n <= 0)
    return; /* the layer's root itself, or refused */
  base = parts[n - 1];
  times[0] = times[1] = u->mtime;

  if (!u->plain && strncmp (base, ".wh.", 4) == 0)
    {
      const char *hidden = base + 4;
      parent = open_parents (u, parts, n - 1, true);
      if (parent < 0)
        return;
      if (strcmp (hidden, ".wh..opq") == 0)
        {
          if (fsetxattr (parent, "user.overlay.opaque", "y", 1, 0) < 0)
            sys_fail (u, "mark as opaque the directory of", errno);
          return;
        }
      if (hidden[0] == '\0' || strcmp (hidden, ".") == 0 || strcmp (hidden, "..") == 0)
        {
          refuse (u, "a whiteout must name an entry of its directory");
          return;
        }
      if (clear (u, parent, hidden, false) && mknodat (parent, hidden, S_IFCHR, 0) < 0)
        sys_fail (u, "create the whiteout", errno);
      return;
    }

  switch (type)
    {
    case '5':
      {
        int fd;
        parent = open_parents (u, parts, n - 1, true);
        if (parent < 0 || !clear (u, parent, base, true))
          return;
        if (mkdirat (parent, base, u->mode & 0777) < 0 && errno != EEXIST)
          return sys_fail (u, "create the directory", errno);
        /* From here on through a descriptor: a symlink put there meanwhile is not followed.  */
        fd = openat (parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
          return errno == ELOOP || errno == ENOTDIR ? refuse (u, "it was replaced by something else while it was made") : sys_fail (u, "open the directory", errno);
        /* Always: the umask trims mkdir's mode, and chown clears setgid.  */
        if (own (u, fd, -1, NULL))
          {
            if (fchmod (fd, u->mode) < 0)
              sys_fail (u, "chmod", errno);
            else
              set_xattrs (u, fd);
          }
        close (fd);
        remember_dir_time (u, parts, n);
        return;
      }
    case '0':
    case '7':
      {
        int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
        parent = open_parents (u, parts, n - 1, true);
        if (parent < 0)
          return;
        u->file_fd = openat (parent, base, flags, u->mode & 0777);
        if (u->file_fd < 0 && errno == EEXIST && clear (u, parent, base, false))
          u->file_fd = openat (parent, base, flags, u->mode & 0777);
        if (u->file_fd < 0)
          sys_fail (u, "create", errno);
        return; /* the content follows; entry_end finishes it */
      }
    case '2':
      parent = open_parents (u, parts, n - 1, true);
      if (parent < 0 || !clear (u, parent, base, false))
        return;
      if (symlinkat (linkname, parent, base) < 0)
        return sys_fail (u, "create the symlink", errno);
      if (own (u, -1, parent, base) && utimensat (parent, base, times, AT_SYMLINK_NOFOLLOW) < 0)
        sys_fail (u, "set the time of", errno);
      return;
    case '1':
      {
        char target[PATH_MAX], *tparts[MAX_DEPTH + 1], why[PATH_MAX + 64];
        struct stat st;
        int tparent, n_t;
        snprintf (target, sizeof target, "%s", linkname);
        n_t = split (u, target, tparts, MAX_DEPTH + 1);
        if (n_t < 0)
          return;
        if (n_t == 0)
          return refuse (u, "hardlink to the layer root");
        tparent = open_parents (u, tparts, n_t - 1, true);
        if (tparent < 0)
          return;
        if (fstatat (tparent, tparts[n_t - 1], &st, AT_SYMLINK_NOFOLLOW) < 0)
          {
            snprintf (why, sizeof why, "hardlink target \"%s\" is not in this layer", linkname);
            return refuse (u, why);
          }
        if (S_ISDIR (st.st_mode))
          return refuse (u, "hardlink to a directory");
        /* Both parents are needed at once, and the stack holds one chain.  */
        tparent = dup (tparent);
        if (tparent < 0)
          return sys_fail (u, "link", errno);
        parent = open_parents (u, parts, n - 1, true);
        if (parent >= 0 && clear (u, parent, base, false) && linkat (tparent, tparts[n_t - 1], parent, base, 0) < 0)
          sys_fail (u, "link", errno);
        close (tparent);
        return;
      }
    case '6':
      parent = open_parents (u, parts, n - 1, true);
      if (parent < 0 || !clear (u, parent, base, false))
        return;
      if (mknodat (parent, base, S_IFIFO | (u->mode & 0777), 0) < 0)
        return sys_fail (u, "create the fifo", errno);
      /* AT_SYMLINK_NOFOLLOW: glibc checks what the name is through an O_PATH descriptor.  */
      if (own (u, -1, parent, base) && fchmodat (parent, base, u->mode, AT_SYMLINK_NOFOLLOW) < 0)
        sys_fail (u, "chmod", errno);
      return;
    case '3':
    case '4':
      /* A rootless user cannot create device nodes; the runtime bind-mounts /dev anyway.  */
      if (u->n_devices < MAX_DEVICES && (u->devices[u->n_devices] = strdup (u->name)) != NULL)
        u->n_devices++;
      return;
    default:
      return; /* other types (sparse, volume labels, ...) are not part of images */
    }
}

static void
entry_end (struct unpacker *u)
{
  struct timespec times[2] = { u->mtime, u->mtime };
  int fd = u->file_fd;
  if (fd < 0)
    return;
  u->file_fd = -1;
  if (u->failure == OK && own (u, fd, -1, NULL))
    {
      /* Always: the umask trims open's mode, and chown clears setuid/setgid.  */
      if (fchmod (fd, u->mode) < 0)
        sys_fail (u, "chmod", errno);
      else if (futimens (fd, times) < 0)
        sys_fail (u, "set the time of", errno);
      else
        set_xattrs (u, fd);
    }
  close (fd);
}

/* ---- The tar format -------------------------------------------------------------------------- */

/* An octal field (NUL- or space-terminated), or GNU's base-256 when the high bit is set.  */
static bool
parse_number (const unsigned char *field, size_t len, uint64_t *out)
{
  uint64_t v = 0;
  size_t i = 0;
  if (field[0] & 0x80)
    {
      if (field[0] & 0x40)
        return false; /* negative */
      v = field[0] & 0x3f;
      for (i = 1; i < len; i++)
        {
          if (v >> 56)
            return false;
          v = v << 8 | field[i];
        }
      *out = v;
      return true;
    }
  while (i < len && field[i] == ' ')
    i++;
  for (; i < len && field[i] >= '0' && field[i] <= '7'; i++)
    {
      if (v >> 60)
        return false;
      v = v << 3 | (field[i] - '0');
    }
  if (i < len && field[i] != ' ' && field[i] != '\0')
    return false;
  *out = v;
  return true;
}

static bool
parse_decimal (const char *s, uint64_t *out)
{
  char *end;
  if (*s < '0' || *s > '9')
    return false;
  errno = 0;
  *out = strtoull (s, &end, 10);
  return errno == 0 && *end == '\0';
}

static void
reset_pending (struct unpacker *u)
{
  free (u->pending.meta);
  free (u->pending.longname);
  free (u->pending.longlink);
  memset (&u->pending, 0, sizeof u->pending);
}

/* PAX records: "LEN key=value\n", LEN counting the whole record.  */
static void
parse_pax (struct unpacker *u, char *buf, size_t len)
{
  struct pending *p = &u->pending;
  size_t off = 0;
  /* A second PAX header replaces the first.  */
  free (p->meta);
  p->meta = buf;
  p->path = p->linkpath = NULL;
  p->n_xattrs = 0;
  while (off < len)
    {
      char *rec = buf + off, *sp, *eq, *key, *value;
      size_t rec_len = 0, value_len;
      for (sp = rec; sp < buf + len && *sp >= '0' && *sp <= '9'; sp++)
        rec_len = rec_len * 10 + (*sp - '0');
      if (sp == rec || sp >= buf + len || *sp != ' ' || rec_len > len - off || rec_len < (size_t) (sp - rec) + 3 || rec[rec_len - 1] != '\n')
        return fail (u, CORRUPT, "invalid PAX header before \"%s\"", u->name);
      rec[rec_len - 1] = '\0';
      key = sp + 1;
      eq = memchr (key, '=', rec + rec_len - 1 - key);
      off += rec_len;
      if (eq == NULL)
        return fail (u, CORRUPT, "invalid PAX record");
      *eq = '\0';
      value = eq + 1;
      value_len = rec + rec_len - 1 - value;
      if (strncmp (key, "SCHILY.xattr.", 13) == 0)
        {
          if (p->n_xattrs < MAX_XATTRS)
            p->xattrs[p->n_xattrs++] = (struct xattr) { key + 13, value, value_len };
          continue;
        }
      if (strlen (value) != value_len && (strcmp (key, "path") == 0 || strcmp (key, "linkpath") == 0))
        return fail (u, REFUSE, "refusing a layer entry whose PAX %s contains a NUL byte", key);
      if (strcmp (key, "path") == 0)
        p->path = value;
      else if (strcmp (key, "linkpath") == 0)
        p->linkpath = value;
      else if (strcmp (key, "size") == 0)
        p->has_size = parse_decimal (value, &p->size);
      else if (strcmp (key, "uid") == 0)
        p->has_uid = parse_decimal (value, &p->uid);
      else if (strcmp (key, "gid") == 0)
        p->has_gid = parse_decimal (value, &p->gid);
      else if (strcmp (key, "mtime") == 0)
        {
          /* seconds[.fraction]; a negative time is left to the header's.  */
          char *dot = strchr (value, '.');
          uint64_t sec;
          if (dot)
            *dot = '\0';
          if (parse_decimal (value, &sec))
            {
              long nsec = 0;
              int digits = 0;
              for (char *d = dot ? dot + 1 : NULL; d && *d >= '0' && *d <= '9' && digits < 9; d++, digits++)
                nsec = nsec * 10 + (*d - '0');
              for (; dot && digits < 9; digits++)
                nsec *= 10;
              p->has_mtime = true;
              p->mtime_sec = (int64_t) sec;
              p->mtime_nsec = nsec;
            }
        }
    }
}

static void
copy_field (char *dst, size_t cap, const unsigned char *field, size_t len)
{
  size_t n = strnlen ((const char *) field, len);
  if (n >= cap)
    n = cap - 1;
  memcpy (dst, field, n);
  dst[n] = '\0';
}

static void
on_header (struct unpacker *u)
{
  const unsigned char *h = u->header;
  uint64_t sum = 0, want, size, mode, uid, gid, mtime;
  char type = (char) h[156], linkname[PATH_MAX];
  struct pending *p = &u->pending;
  bool zero = true;

  for (int i = 0; i < 512; i++)
    {
      sum += (i >= 148 && i < 156) ? ' ' : h[i];
      zero = zero && h[i] == 0;
    }
  if (zero)
    {
      /* The end-of-archive marker: whatever follows is hashed but not unpacked.  */
      u->state = END;
      return;
    }
  if (!parse_number (h + 148, 8, &want) || want != sum)
    return fail (u, CORRUPT, "invalid tar header (bad checksum) after %llu entries", (unsigned long long) u->entries);
  if (!parse_number (h + 124, 12, &size) || !parse_number (h + 100, 8, &mode) || !parse_number (h + 108, 8, &uid) || !parse_number (h + 116, 8, &gid)
      || !parse_number (h + 136, 12, &mtime))
    return fail (u, CORRUPT, "invalid number in a tar header after %llu entries", (unsigned long long) u->entries);
  if (p->has_size && type != 'x' && type != 'g')
    size = p->size;

  if (type == 'x' || type == 'g' || type == 'L' || type == 'K')
    {
      if (size > MAX_META)
        return fail (u, REFUSE, "refusing a tar header of %llu bytes (type %c)", (unsigned long long) size, type);
      u->meta_type = type;
      u->meta_buf = malloc (size + 1);
      if (u->meta_buf == NULL)
        return fail (u, SYS, "cannot unpack: out of memory");
      u->meta_len = 0;
      u->remaining = size;
      u->pad = (512 - size % 512) % 512;
      u->state = size ? META : (u->pad ? PAD : HEADER);
      if (size == 0)
        {
          free (u->meta_buf);
          u->meta_buf = NULL;
        }
      return;
    }

  /* The entry's name: PAX path, GNU long name, or the header's (with the POSIX prefix).  */
  if ((p->path && strlen (p->path) >= sizeof u->name) || (p->linkpath && strlen (p->linkpath) >= sizeof linkname))
    return fail (u, REFUSE, "refusing a layer entry whose name is longer than %d bytes", PATH_MAX - 1);
  if (p->path)
    snprintf (u->name, sizeof u->name, "%s", p->path);
  else if (p->longname)
    snprintf (u->name, sizeof u->name, "%s", p->longname);
  else
    {
      char prefix[156] = "", name[101];
      if (memcmp (h + 257, "ustar\0", 6) == 0)
        copy_field (prefix, sizeof prefix, h + 345, 155);
      copy_field (name, sizeof name, h, 100);
      snprintf (u->name, sizeof u->name, "%s%s%s", prefix, prefix[0] ? "/" : "", name);
    }
  if (p->linkpath)
    snprintf (linkname, sizeof linkname, "%s", p->linkpath);
  else if (p->longlink)
    snprintf (linkname, sizeof linkname, "%s", p->longlink);
  else
    copy_field (linkname, sizeof linkname, h + 157, 100);

  if (type == '\0')
    type = '0';
  if (type == '0' && u->name[0] && u->name[strlen (u->name) - 1] == '/')
    type = '5';
  u->mode = mode & 07777;
  u->uid = p->has_uid ? p->uid : uid;
  u->gid = p->has_gid ? p->gid : gid;
  u->mtime.tv_sec = p->has_mtime ? p->mtime_sec : (int64_t) mtime;
  u->mtime.tv_nsec = p->has_mtime ? p->mtime_nsec : 0;

  entry_begin (u, type, linkname);
  /* Only regular files have content; a size on anything else is skipped.  */
  u->remaining = size;
  u->pad = (512 - size % 512) % 512;
  if (type == '0' || type == '7')
    u->size += size;
  u->state = size ? DATA : (u->pad ? PAD : HEADER);
  if (size == 0)
    {
      entry_end (u);
      reset_pending (u);
    }
}

static void
on_meta (struct unpacker *u)
{
  char *buf = u->meta_buf;
  u->meta_buf = NULL;
  buf[u->meta_len] = '\0';
  switch (u->meta_type)
    {
    case 'x':
      parse_pax (u, buf, u->meta_len);
      return;
    case 'L':
    case 'K':
      if (strlen (buf) >= PATH_MAX)
        {
          free (buf);
          return fail (u, REFUSE, "refusing a layer entry whose name is longer than %d bytes", PATH_MAX - 1);
        }
      if (u->meta_type == 'L')
        {
          free (u->pending.longname);
          u->pending.longname = buf;
        }
      else
        {
          free (u->pending.longlink);
          u->pending.longlink = buf;
        }
      return;
    default:
      free (buf); /* a global PAX header: nothing images rely on */
    }
}

static void
write_all (struct unpacker *u, int fd, const unsigned char *p, size_t n, const char *what)
{
  while (n > 0)
    {
      ssize_t w = write (fd, p, n);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          if (what)
            fail (u, SYS, "cannot write the blob %s: %s", what, strerror (errno));
          else
            sys_fail (u, "write", errno);
          return;
        }
      p += w;
      n -= w;
    }
}

/* Feeds tar bytes through the parser.  */
static void
tar_feed (struct unpacker *u, const unsigned char *p, size_t n)
{
  EVP_DigestUpdate (u->tar_hash, p, n);
  while (n > 0 && u->failure == OK)
    {
      size_t take;
      switch (u->state)
        {
        case HEADER:
          take = 512 - u->have < n ? 512 - u->have : n;
          memcpy (u->header + u->have, p, take);
          u->have += take;
          if (u->have == 512)
            {
              u->have = 0;
              on_header (u);
            }
          break;
        case META:
        case DATA:
          take = u->remaining < n ? u->remaining : n;
          if (u->state == META)
            {
              memcpy (u->meta_buf + u->meta_len, p, take);
              u->meta_len += take;
            }
          else if (u->file_fd >= 0)
            write_all (u, u->file_fd, p, take, NULL);
          u->remaining -= take;
          if (u->remaining == 0)
            {
              if (u->state == META)
                on_meta (u);
              else
                {
                  entry_end (u);
                  reset_pending (u);
                }
              u->state = u->pad ? PAD : HEADER;
            }
          break;
        case PAD:
          take = u->pad < n ? u->pad : n;
          u->pad -= take;
          if (u->pad == 0)
            u->state = HEADER;
          break;
        default:
          take = n;
        }
      p += take;
      n -= take;
    }
}

/* Feeds the blob's bytes: gunzip (several members, as gzip does) or straight to the tar.  */
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
    for (size_t i = u->n_dir_times; i-- > 0;)
      {
        char *parts[MAX_DEPTH + 1];
        struct timespec times[2] = { u->dir_times[i].mtime, u->dir_times[i].mtime };
        int n = split (u, u->dir_times[i].rel, parts, MAX_DEPTH + 1), parent;
        if (n <= 0)
          continue;
        /* A directory gone since (replaced, whited out) has no time to set.  */
        parent = open_parents (u, parts, n - 1, false);
        if (parent >= 0)
          (void) utimensat (parent, parts[n - 1], times, AT_SYMLINK_NOFOLLOW);
      }
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
