// Resolves `--user` / the image's User ("name", "uid", "name:group", "uid:gid") against the
// container's own /etc/passwd and /etc/group, as Docker does: names must exist there, numbers need not.
// The files are opened inside the container's root (an image's /etc/passwd may be a symlink to
// /etc/passwd, which means the container's, never the host's), and read with a size cap.
import { readFileSync } from 'node:fs';
import { CliError } from '../errors.js';
import { readFileInRoot } from '../util/in-root.js';
import { ACCOUNTS_FILE_MAX } from '../util/limits.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

const readLines = (rootfs: string, file: string, extra = ''): string[][] => {
  let content: Buffer | undefined;
  try {
    content = readFileInRoot(rootfs, file, { what: `the container's /${file}`, limit: ACCOUNTS_FILE_MAX, code: 'EUSAGE' });
  } catch (error) {
    if (error instanceof CliError) throw error;
    return []; // unreadable: as if absent
  }
  return `${content?.toString('utf8') ?? ''}\n${extra}`
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
};

const isNumber = (s: string): boolean => /^\d+$/.test(s);

// `added`: lines added to the container's files that are not in them (a read-only root's copies).
export const resolveUser = (rootfs: string, spec: string | undefined, added: { passwd?: string; group?: string } = {}): ResolvedUser => {
  const [userPart, groupPart] = (spec || '0').split(':', 2) as [string, string | undefined];
  const passwd = readLines(rootfs, 'etc/passwd', added.passwd);
  const entry = passwd.find((f) => (isNumber(userPart) ? f[2] === userPart : f[0] === userPart));
  if (!entry && !isNumber(userPart))
    throw new CliError('EUSAGE', `unable to find user ${userPart}: no matching entries in the container's /etc/passwd`, { exitCode: 126 });
  const uid = Number(entry ? entry[2] : userPart);
  let gid = entry ? Number(entry[3]) : 0;
  const groups = readLines(rootfs, 'etc/group', added.group);
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

// The container's group names by gid (its /etc/group), for top.
export const groupNames = (rootfs: string): Map<string, string> => new Map(readLines(rootfs, 'etc/group').map((f) => [f[2], f[0]]));

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

/** A host account (--hostuser), from the host's /etc/passwd. */
export interface HostAccount {
  name: string;
  uid: string;
  gid: string;
  gecos: string;
  home: string;
}

// --hostuser NAME (or UID): the host's entry, or undefined.
export const hostAccount = (user: string, passwd = '/etc/passwd'): HostAccount | undefined => {
  let text = '';
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  const f = text
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f.length >= 7 && (f[0] === user || (isNumber(user) && f[2] === user)));
  return f && { name: f[0]!, uid: f[2]!, gid: f[3]!, gecos: f[4]!, home: f[5]! };
};

export interface AccountsRequest {
  /** --user as given ("1000", "1000:5", "name"). */
  user: string;
  workdir: string;
  /** --passwd-entry's template. */
  template?: string;
  hostUsers: HostAccount[];
  /** The container's mount destinations (a host user's home is used when it is mounted). */
  mountPoints: string[];
}

// --passwd-entry: $USERNAME, $UID, $GID, $NAME and $HOME filled in.
const fillEntry = (template: string, v: { username: string; uid: string; gid: string; name: string; home: string }): string =>
  template.replaceAll('$USERNAME', v.username).replaceAll('$UID', v.uid).replaceAll('$GID', v.gid).replaceAll('$NAME', v.name).replaceAll('$HOME', v.home);

// The /etc/passwd and /etc/group lines a container gets, as Podman adds them: each --hostuser the
// image lacks (home: its own when mounted in, else the working directory), and a numeric --user
// the image lacks ("container user", home the working directory, group 0 unless one was given),
// with its group when that is a number the image lacks. `home`: the added --user's.
export const addedAccounts = (rootfs: string, r: AccountsRequest): { passwd: string; group: string; home?: string } => {
  const passwd = readLines(rootfs, 'etc/passwd');
  const groups = readLines(rootfs, 'etc/group');
  const hasUser = (key: string) => passwd.some((f) => f[0] === key || f[2] === key);
  const lines: string[] = [];
  const groupLines: string[] = [];
  let home: string | undefined;
  for (const u of r.hostUsers) {
    if (hasUser(u.name) || hasUser(u.uid)) continue;
    const mounted = r.mountPoints.some((m) => m === u.home || (u.home.startsWith(`${m}/`) && m !== '/'));
    const dir = mounted ? u.home : r.workdir;
    const v = { username: u.name, uid: u.uid, gid: u.gid, name: u.gecos, home: dir };
    lines.push(r.template ? fillEntry(r.template, v) : `${u.name}:*:${u.uid}:${u.gid}:${u.gecos}:${dir}:/bin/sh`);
    passwd.push([u.name, '*', u.uid, u.gid]);
    if (r.user.split(':')[0] === u.name) home = dir;
  }
  const [userPart, groupPart] = r.user.split(':', 2) as [string, string | undefined];
  if (isNumber(userPart) && !hasUser(userPart)) {
    let gid = '0';
    if (groupPart && isNumber(groupPart)) gid = groupPart;
    else if (groupPart) {
      const group = groups.find((f) => f[0] === groupPart);
      if (!group) throw new CliError('EUSAGE', `unable to find group ${groupPart}: no matching entries in the container's /etc/group`, { exitCode: 126 });
      gid = group[2]!;
    }
    const v = { username: userPart, uid: userPart, gid, name: 'container user', home: r.workdir };
    lines.push(r.template ? fillEntry(r.template, v) : `${userPart}:*:${userPart}:${gid}:container user:${r.workdir}:/bin/sh`);
    home = r.workdir;
  }
  const groupName = groupPart ?? userPart;
  if (r.user && isNumber(groupName) && !groups.some((f) => f[0] === groupName || f[2] === groupName))
    groupLines.push(`${groupName}:x:${groupName}:${userPart}`);
  return { passwd: lines.map((l) => `${l}\n`).join(''), group: groupLines.map((l) => `${l}\n`).join(''), ...(home ? { home } : {}) };
};
