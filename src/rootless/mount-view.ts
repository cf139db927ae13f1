// What the rootless namespace's mount table lacks: its mount namespace is a copy made when the
// pause process started, with private propagation, so a file system mounted on the host later
// is not in it (the directory under it is seen instead).
import { readFileSync } from 'node:fs';

// Mount points (decoded) of a process's mount table, or undefined if it cannot be read.
const mountPoints = (pid: number | 'self'): string[] | undefined => {
  try {
    return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ')[4].replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8))));
  } catch {
    return undefined;
  }
};

// The deepest mount point at or above `path` in `points`.
const coveringMount = (points: string[], path: string): string =>
  points.filter((p) => p === '/' || path === p || path.startsWith(`${p}/`)).reduce((a, b) => (b.length > a.length ? b : a), '/');

// The mount point above `path` that the process which started this one (outside the namespace:
// the user's shell, or the CLI that re-ran this command inside) has and this namespace has not.
export const unseenMount = (path: string): string | undefined => {
  const outside = mountPoints(process.ppid);
  const inside = mountPoints('self');
  if (!outside || !inside) return undefined;
  const theirs = coveringMount(outside, path);
  return theirs !== coveringMount(inside, path) && !inside.includes(theirs) ? theirs : undefined;
};
