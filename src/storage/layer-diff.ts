// What changed between two stacks of layers (image diff): each stack's merged tree is listed from
// its layers' diff directories as overlayfs would merge them (whiteouts delete, opaque directories
// hide what is below), then the two listings are compared as containers/storage's naive differ
// does: added, deleted, or changed (type, mode, owner, device, link target; size or mtime for
// anything but a directory; a directory's own mtime too).
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { native } from '../util/native.js';

export interface LayerChange {
  kind: 'A' | 'C' | 'D';
  path: string;
}

interface Entry {
  dir: string;
  rel: string;
  st: Stats;
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;

const isOpaque = (path: string): boolean => {
  try {
    return native().lgetxattr(path, 'user.overlay.opaque')?.toString() === 'y' || native().lgetxattr(path, 'trusted.overlay.opaque')?.toString() === 'y';
  } catch {
    return false;
  }
};

// The merged tree of `layers` (diff directories, lowest first): path → the entry that shows there.
export const mergedTree = (layers: string[]): Map<string, Entry> => {
  const tree = new Map<string, Entry>();
  const dropBelow = (rel: string) => {
    const prefix = `${rel}/`;
    for (const key of [...tree.keys()]) if (key.startsWith(prefix)) tree.delete(key);
  };
  for (const layer of layers) {
    const walk = (rel: string) => {
      const here = rel ? join(layer, rel) : layer;
      for (const name of readdirSync(here)) {
        const path = rel ? `${rel}/${name}` : name;
        const full = join(layer, path);
        const st = lstatSync(full);
        if (isWhiteout(st)) {
          tree.delete(path);
          dropBelow(path);
          continue;
        }
        const previous = tree.get(path);
        if (st.isDirectory()) {
          if (!previous?.st.isDirectory() || isOpaque(full)) dropBelow(path);
        } else if (previous?.st.isDirectory()) dropBelow(path);
        tree.set(path, { dir: layer, rel: path, st });
        if (st.isDirectory()) walk(path);
      }
    };
    walk('');
  }
  return tree;
};

const kindOf = (st: Stats): number => st.mode & 0o170000;

const linkTarget = (e: Entry): string | undefined => (e.st.isSymbolicLink() ? readlinkSync(join(e.dir, e.rel)) : undefined);

const differs = (a: Entry, b: Entry): boolean => {
  if (kindOf(a.st) !== kindOf(b.st) || a.st.mode !== b.st.mode || a.st.uid !== b.st.uid || a.st.gid !== b.st.gid || a.st.rdev !== b.st.rdev) return true;
  if (a.st.mtimeMs !== b.st.mtimeMs) return true;
  if (a.st.isDirectory()) return false;
  if (a.st.size !== b.st.size) return true;
  return linkTarget(a) !== linkTarget(b);
};

// The changes that turn the tree of `from` into the tree of `to`, sorted by path.
export const diffLayers = (from: string[], to: string[]): LayerChange[] => {
  const before = mergedTree(from);
  const after = mergedTree(to);
  const out: LayerChange[] = [];
  for (const [path, entry] of after) {
    const old = before.get(path);
    if (!old) out.push({ kind: 'A', path: `/${path}` });
    else if (differs(old, entry)) out.push({ kind: 'C', path: `/${path}` });
  }
  for (const path of before.keys()) if (!after.has(path)) out.push({ kind: 'D', path: `/${path}` });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
};
