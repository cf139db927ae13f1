// Disk usage of a tree in bytes (apparent sizes, hard links counted once), without following links.
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

export const du = (root: string): number => {
  const seen = new Set<string>();
  let total = 0;
  const walk = (path: string): void => {
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (st.nlink > 1 && !st.isDirectory()) {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
    }
    if (!st.isDirectory()) total += st.size;
    else for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return total;
};
