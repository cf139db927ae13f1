// skiff's entry (built to dist/main.js as CommonJS, beside the bundle): compiles dist/skiff.cjs with
// V8's code cache: the user's own for this command when there is one (~/.cache/skiff/code, written
// when a command succeeds without one), else skiff.cjs.cache, made at build time. A cache Node
// rejects only costs the compile. Why: scripts/build.mjs. Only node: modules are imported here.
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Module, createRequire } from 'node:module';
import { join } from 'node:path';
import { Script } from 'node:vm';

// The bundle's hash, put in by the build: caches are named by it (V8 knows a source only by its length).
declare const SKIFF_BUNDLE_ID: string;

const file = join(__dirname, 'skiff.cjs');
const home = process.env.XDG_CACHE_HOME || (process.env.HOME && join(process.env.HOME, '.cache'));
const dir = home && process.env.SKIFF_CODE_CACHE !== '0' ? join(home, 'skiff', 'code') : undefined;
// The command's words (the values of skiff's global options skipped): `container cleanup`, which
// the monitor runs for every exited container, gets a cache of its own.
const words = process.argv.slice(2).filter((a, i, all) => !a.startsWith('-') && !['--root', '--runroot', '--log-level'].includes(all[i - 1]));
const word = (words[0] === 'container' && words[1] ? `container-${words[1]}` : words[0]) ?? 'none';
const own = dir && join(dir, `${SKIFF_BUNDLE_ID}-${process.version}-${/^[a-z][a-z0-9-]{0,31}$/.test(word) ? word : 'other'}`);

// A cache is code that runs as this user: only a directory that is this user's alone is used.
const ours = (path: string | undefined): boolean => {
  try {
    const st = statSync(path!);
    return st.isDirectory() && st.uid === process.getuid!() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
};

let cachedData: Buffer | undefined;
let fromOwn = false;
try {
  if (own && ours(dir)) {
    cachedData = readFileSync(own);
    fromOwn = true;
  }
} catch {
  // no cache of our own yet
}
if (!fromOwn) {
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    // built without one
  }
}

const script = new Script((Module as unknown as { wrap(code: string): string }).wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
if (process.env.SKIFF_WRITE_CODE_CACHE === '1') process.on('exit', () => writeFileSync(`${file}.cache`, script.createCachedData()));
else if (own && dir && (!fromOwn || script.cachedDataRejected)) {
  process.on('exit', (code) => {
    if (code !== 0) return;
    // Best effort: a cache that cannot be written (a read-only or foreign HOME) changes nothing else.
    const temp = `${own}.${process.pid}`;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (!ours(dir)) return;
      accessSync(dir, constants.W_OK);
      writeFileSync(temp, script.createCachedData(), { mode: 0o600 });
      renameSync(temp, own);
      // Caches of other builds of skiff are of no more use.
      for (const name of readdirSync(dir)) if (!name.startsWith(SKIFF_BUNDLE_ID)) rmSync(join(dir, name), { force: true });
    } catch {
      try {
        rmSync(temp, { force: true });
      } catch {
        // nothing to remove
      }
    }
  });
}
const moduleObject = { exports: {}, filename: file, id: file };
(script.runInThisContext() as (...args: unknown[]) => void).call(
  moduleObject.exports,
  moduleObject.exports,
  createRequire(file),
  moduleObject,
  file,
  __dirname,
);
