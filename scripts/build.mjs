// Bundles the CLI for a fast start: skiff's own code split into chunks that load with the command
// that needs them, and each heavy dependency in a bundle of its own under dist/vendor/, loaded by
// a dynamic import (`skiff --version` and `skiff images` never parse undici, tar-stream or
// the TOML parser, nor load node:tls, node:zlib or node:child_process).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/vendor', { recursive: true });

// What skiff uses of each heavy dependency, re-exported from one bundle per dependency.
const vendors = {
  undici: 'export { Agent, request } from "undici";',
  'tar-stream': 'export { extract, pack } from "tar-stream";',
  'smol-toml': 'export { parse } from "smol-toml";',
};

const common = { bundle: true, format: 'esm', platform: 'node', target: 'node18', legalComments: 'none', logLevel: 'warning', minify: true, sourcemap: 'linked' };
// Bundled CommonJS code calls require(); give ESM output one.
const banner = { js: "import { createRequire as __skiffCreateRequire } from 'node:module'; const require = __skiffCreateRequire(import.meta.url);" };

await Promise.all(
  Object.entries(vendors).map(([name, contents]) =>
    build({ ...common, stdin: { contents, resolveDir: process.cwd(), loader: 'js' }, outfile: `dist/vendor/${name}.js`, banner }),
  ),
);

const vendorExternal = {
  name: 'vendor-external',
  setup(b) {
    // Chunks live in dist/chunks/, the entry in dist/: an absolute specifier works from both.
    b.onResolve({ filter: new RegExp(`^(${Object.keys(vendors).join('|')})$`) }, (args) => ({ path: `#vendor/${args.path}`, external: true }));
  },
};

// commander requires node:child_process at load (only for executable subcommands, which skiff
// has none of); loading it costs every command a few ms, so its require becomes lazy.
const lazyCommanderChildProcess = {
  name: 'lazy-commander-child-process',
  setup(b) {
    b.onLoad({ filter: /commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const patched = source.replace("const childProcess = require('node:child_process');", "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };");
      if (patched === source) throw new Error('commander changed: update lazy-commander-child-process in scripts/build.mjs');
      return { contents: patched, loader: 'js' };
    });
  },
};

await build({ ...common, entryPoints: { main: 'src/cli/main.ts' }, outdir: 'dist', splitting: true, chunkNames: 'chunks/[name]-[hash]', banner, plugins: [vendorExternal, lazyCommanderChildProcess] });
// "#vendor/…" resolves through this package.json's imports map, from any file under dist/.
writeFileSync('dist/package.json', `${JSON.stringify({ type: 'module', imports: { '#vendor/*': './vendor/*.js' } })}\n`);
