/* tree.c: the layer unpacker's writes (see unpack.c for what never happens, whatever the tar says).
 * Every name is split into components and ".." refused; parents are opened one component at a
 * time from the target's descriptor with O_NOFOLLOW and kept on a stack; an entry is made relative
 * to its parent and then changed only through a descriptor opened with O_NOFOLLOW, or by name with
 * AT_SYMLINK_NOFOLLOW.  */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "unpack-internal.h"

/* ---- Parent directories ---------------------------------------------------------------------- */

void
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
              snprintf (why, sizeof why,
                        S_ISLNK (st.st_mode) ? "its parent \"%s\" is a symlink, which could lead outside the target" : "its parent \"%s\" is not a directory",
                        rel);
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
  uint64_t uid = u->force_owner ? u->owner_uid : u->uid, gid = u->force_owner ? u->owner_gid : u->gid;
  if (!u->chown || (uid == 0 && gid == 0))
    return true;
  /* fchown says EINVAL for an id the namespace does not map; ids past 32 bits never map.  */
  errno = EINVAL;
  if (uid <= 0xfffffffeULL && gid <= 0xfffffffeULL)
    ret = fd >= 0 ? fchown (fd, uid, gid) : fchownat (parent, base, uid, gid, AT_SYMLINK_NOFOLLOW);
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

void
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
          return errno == ELOOP || errno == ENOTDIR ? refuse (u, "it was replaced by something else while it was made")
                                                    : sys_fail (u, "open the directory", errno);
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

void
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

/* Directories get their times last: making their entries changed them.  */
void
restore_dir_times (struct unpacker *u)
{
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
}

void
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
