// Bundles the CLI for a fast start: all of skiff's own code and commander in one file
// (dist/main.js: one module to load), and each heavy dependency in a bundle of its own under
// dist/vendor/, loaded by a dynamic import only by the commands that need it (`skiff --version`
// and `skiff images` never parse undici, tar-stream, execa or the TOML parser).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist/vendor', { recursive: true });

// What skiff uses of each heavy dependency, re-exported from one bundle per dependency.
const vendors = {
  undici: 'export { Agent, request } from "undici";',
  execa: 'export { execa } from "execa";',
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
    b.onResolve({ filter: new RegExp(`^(${Object.keys(vendors).join('|')})$`) }, (args) => ({ path: `./vendor/${args.path}.js`, external: true }));
  },
};

await build({ ...common, entryPoints: { main: 'src/cli/main.ts' }, outdir: 'dist', banner, plugins: [vendorExternal] });
writeFileSync('dist/package.json', '{ "type": "module" }\n');
