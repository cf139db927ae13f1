// Whether skiff runs as real root, or already inside its rootless namespace: cheap checks that
// every command may make without loading the namespace machinery.
import { readFileSync } from 'node:fs';

export const JOINED_ENV = 'SKIFF_USERNS_PID';

// True when skiff runs as real root in the initial namespace: no user namespace is needed.
export const isRootful = (): boolean =>
  process.getuid?.() === 0 && !process.env[JOINED_ENV] && readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') === '0 0 4294967295';

// True inside the namespace joined by joinUserNamespace (or when rootful: no namespace needed).
export const inUserNamespace = (): boolean => Boolean(process.env[JOINED_ENV]) || isRootful();
