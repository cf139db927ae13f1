// /etc/subuid and /etc/subgid: the id ranges a user may map into a user namespace.
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

export interface IdRange {
  start: number;
  count: number;
}

// Parses "name-or-uid:start:count" lines; comments and malformed lines are skipped.
export const parseSubidFile = (text: string, user: string, uid: number): IdRange[] => {
  const ranges: IdRange[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [owner, start, count] = line.split(':');
    if (owner !== user && owner !== String(uid)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && c > 0) ranges.push({ start: s, count: c });
  }
  return ranges;
};

export const currentUser = (): { name: string; uid: number; gid: number } => {
  const info = userInfo();
  return { name: info.username, uid: info.uid, gid: info.gid };
};

// The user's ranges from a subid file (an unreadable or missing file means none).
export const readSubids = (file: '/etc/subuid' | '/etc/subgid' | string, user = currentUser()): IdRange[] => {
  try {
    return parseSubidFile(readFileSync(file, 'utf8'), user.name, user.uid);
  } catch {
    return [];
  }
};

// Two ranges overlap when they share an id.
export const rangesOverlap = (a: IdRange, b: IdRange): boolean => a.start < b.start + b.count && b.start < a.start + a.count;
