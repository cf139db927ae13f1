// Bundles the CLI for a fast start. Measured on Node 20, what costs a command its start is the ESM
// loader (every file it fetches, resolves and links) and compiling skiff's code, not running it.
// So skiff's own code is one CommonJS bundle, dist/skiff.cjs, which dist/main.js compiles with
// V8's code cache (dist/skiff.cjs.cache, made here by a `--help` run): `skiff images` went from
// 58 to 38 ms against node -e 0's 29. Code reached only through `await import()` still runs only
// when needed. Each heavy dependency is a CommonJS bundle of its own under dist/vendor/, required
// on demand (`skiff --version` and `skiff images` never load undici, tar-stream or the TOML
// parser, nor node:tls, node:zlib or node:child_process).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/vendor', { recursive: true });

// What skiff uses of each heavy dependency, re-exported from one bundle per dependency.
const vendors = {
  undici: 'export { Agent, request } from "undici";',
  'tar-stream': 'export { pack } from "tar-stream";',
  'smol-toml': 'export { parse } from "smol-toml";',
};

const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node18', legalComments: 'none', logLevel: 'warning', minify: true };

await Promise.all(
  Object.entries(vendors).map(([name, contents]) =>
    build({ ...common, stdin: { contents, resolveDir: process.cwd(), loader: 'js' }, outfile: `dist/vendor/${name}.cjs` }),
  ),
);

const vendorExternal = {
  name: 'vendor-external',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${Object.keys(vendors).join('|')})$`) }, (args) => ({ path: `./vendor/${args.path}.cjs`, external: true }));
  },
};

// commander requires node:child_process at load (only for executable subcommands, which skiff
// has none of); loading it costs every command a few ms, so its require becomes lazy.
const lazyCommanderChildProcess = {
  name: 'lazy-commander-child-process',
  setup(b) {
    b.onLoad({ filter: /commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const patched = source.replace(
        "const childProcess = require('node:child_process');",
        "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };",
      );
      if (patched === source) throw new Error('commander changed: update lazy-commander-child-process in scripts/build.mjs');
      return { contents: patched, loader: 'js' };
    });
  },
};

await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/skiff.cjs',
  sourcemap: 'linked',
  // src/util/native.ts finds the native files from its own URL.
  // src/config/toml-files.ts requires the TOML parser's bundle when it first needs it.
  define: { 'import.meta.url': '__skiffUrl', SKIFF_TOML_MODULE: '"./vendor/smol-toml.cjs"' },
  banner: { js: "const __skiffUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [vendorExternal, lazyCommanderChildProcess],
});
// esbuild leaves `import()` of external modules (node builtins, vendor bundles) as it is; code
// compiled through node:vm has no module loader for it, so they become requires.
const bundle = readFileSync('dist/skiff.cjs', 'utf8');
const requiring = bundle.replace(/\bimport\("([^"]+)"\)/g, 'Promise.resolve().then(()=>require("$1"))');
if (/\bimport\("/.test(requiring)) throw new Error('dist/skiff.cjs still has a dynamic import(): see scripts/build.mjs');
writeFileSync('dist/skiff.cjs', requiring);

// Each user also keeps, per command, the cache of what that command compiled when it last ran
// (a run's code is mostly not reached by `--help`): `run --rm` 3-5 ms faster (A/B, 40 alternating
// runs). V8 checks a cache against its own version and flags but knows the source only by its
// length, so those files are named by the bundle's hash.
const bundleId = createHash('sha256').update(requiring).digest('hex').slice(0, 16);
// dist/main.js, the entry that compiles the bundle with a code cache: src/loader.ts, node: modules only.
await build({
  ...common,
  minify: false,
  entryPoints: ['src/loader.ts'],
  outfile: 'dist/main.js',
  define: { SKIFF_BUNDLE_ID: JSON.stringify(bundleId) },
  banner: { js: '// Built by scripts/build.mjs from src/loader.ts.' },
});
writeFileSync('dist/package.json', `${JSON.stringify({ type: 'commonjs' })}\n`);
// The cache holds what a full command tree compiles (`--help` builds every command).
execFileSync(process.execPath, ['dist/main.js', '--help'], { env: { ...process.env, SKIFF_WRITE_CODE_CACHE: '1', SKIFF_CODE_CACHE: '0' }, stdio: 'ignore' });
