/* sealed_copy(path): a sealed memfd copy of an executable, or -1.
 *
 * runc and crun refuse to run from a file a container could write through /proc/self/exe
 * (CVE-2019-5736): each call first re-executes itself from a copy (crun: a read-only bind mount),
 * which costs crun ~1.5 ms a call here.  Started from a memfd sealed against writes, shrinking and
 * growing, they see that /proc/self/exe is safe and go straight on.  The copy is close-on-exec
 * (an ELF binary still runs through it: the kernel holds it before closing descriptors) and kept
 * above the low descriptors a spawn hands its child.  Files over 64 MiB are not copied.  */
#ifndef SKIFF_SEALED_COPY_H
#define SKIFF_SEALED_COPY_H

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

static int
sealed_copy (const char *path)
{
  struct stat st;
  int fd = -1, src = open (path, O_RDONLY | O_CLOEXEC);
  if (src < 0)
    return -1;
  if (fstat (src, &st) < 0 || !S_ISREG (st.st_mode) || st.st_size > (64 << 20))
    goto out;
  fd = memfd_create ("skiff-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    goto out;
  for (off_t left = st.st_size; left > 0;)
    {
      ssize_t n = sendfile (fd, src, NULL, (size_t) left);
      if (n <= 0)
        goto fail;
      left -= n;
    }
  if (fcntl (fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
    goto fail;
  if (fd < 64)
    {
      int high = fcntl (fd, F_DUPFD_CLOEXEC, 64);
      close (fd);
      fd = high;
    }
  goto out;
fail:
  close (fd);
  fd = -1;
out:
  close (src);
  return fd;
}

#endif
