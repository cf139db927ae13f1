/* tar.c: the tar format for the layer unpacker: ustar headers with the POSIX prefix, GNU long
 * names and base-256 numbers, PAX records (path, linkpath, size, uid, gid, mtime, SCHILY.xattr),
 * fed in chunks of any size.  Each entry goes to tree.c.  */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unpack-internal.h"

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

void
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

/* Feeds tar bytes through the parser.  */
void
tar_feed (struct unpacker *u, const unsigned char *p, size_t n)
{
  EVP_DigestUpdate (u->tar_hash, p, n);
  u->tar_bytes += n;
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
