// Bundles the CLI into dist/ with code splitting, so that a command loads only the modules it uses
// (`skiff --version` and `skiff images` never parse undici or tar-stream).
import { build } from 'esbuild';

await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node18',
  minify: false,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  banner: { js: "import { createRequire as __skiffCreateRequire } from 'node:module'; const require = __skiffCreateRequire(import.meta.url);" },
});
