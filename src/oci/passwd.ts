// Resolves `--user` / the image's User ("name", "uid", "name:group", "uid:gid") against the
// container's own /etc/passwd and /etc/group, as Docker does: names must exist there, numbers need not.
// The files are opened inside the container's root (an image's /etc/passwd may be a symlink to
// /etc/passwd, which means the container's, never the host's), and read with a size cap.
import { CliError } from '../errors.js';
import { readFileInRoot } from '../util/in-root.js';
import { ACCOUNTS_FILE_MAX } from '../util/limits.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

const readLines = (rootfs: string, file: string): string[][] => {
  let content: Buffer | undefined;
  try {
    content = readFileInRoot(rootfs, file, { what: `the container's /${file}`, limit: ACCOUNTS_FILE_MAX, code: 'EUSAGE' });
  } catch (error) {
    if (error instanceof CliError) throw error;
    return []; // unreadable: as if absent
  }
  return (content?.toString('utf8') ?? '')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
};

const isNumber = (s: string): boolean => /^\d+$/.test(s);

export const resolveUser = (rootfs: string, spec: string | undefined): ResolvedUser => {
  const [userPart, groupPart] = (spec || '0').split(':', 2) as [string, string | undefined];
  const passwd = readLines(rootfs, 'etc/passwd');
  const entry = passwd.find((f) => (isNumber(userPart) ? f[2] === userPart : f[0] === userPart));
  if (!entry && !isNumber(userPart))
    throw new CliError('EUSAGE', `unable to find user ${userPart}: no matching entries in the container's /etc/passwd`, { exitCode: 126 });
  const uid = Number(entry ? entry[2] : userPart);
  let gid = entry ? Number(entry[3]) : 0;
  const groups = readLines(rootfs, 'etc/group');
  if (groupPart !== undefined && groupPart !== '') {
    if (isNumber(groupPart)) gid = Number(groupPart);
    else {
      const group = groups.find((f) => f[0] === groupPart);
      if (!group) throw new CliError('EUSAGE', `unable to find group ${groupPart}: no matching entries in the container's /etc/group`, { exitCode: 126 });
      gid = Number(group[2]);
    }
  }
  // Supplementary groups: those that list the user by name (only when no group was given).
  const name = entry?.[0];
  const additionalGids =
    name && groupPart === undefined
      ? groups
          .filter((f) => (f[3] ?? '').split(',').includes(name))
          .map((f) => Number(f[2]))
          .filter((g) => g !== gid)
      : [];
  return { uid, gid, additionalGids, home: entry?.[5] || '/' };
};

// uid → user name, from the container's /etc/passwd (for `top`).
export const userNames = (rootfs: string): Map<string, string> => new Map(readLines(rootfs, 'etc/passwd').map((f) => [f[2], f[0]]));

// --group-add: each a gid, or a group name looked up in the container's /etc/group.
export const groupIds = (rootfs: string, groups: string[]): number[] => {
  if (!groups.length) return [];
  const table = readLines(rootfs, 'etc/group');
  return groups.map((g) => {
    if (isNumber(g)) return Number(g);
    const found = table.find((f) => f[0] === g);
    if (!found) throw new CliError('EUSAGE', `unable to find group ${g} (--group-add): no matching entries in the container's /etc/group`, { exitCode: 126 });
    return Number(found[2]);
  });
};
