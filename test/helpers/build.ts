// Shared by the build tests: contexts made under a sandbox's home, and what they ask of the images built.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Sandbox } from './cli.js';

// The helpers bound to one sandbox.
export const buildHelpers = (sb: Sandbox) => ({
  // A build context under the sandbox's home: files given as path -> content.
  context: (name: string, files: Record<string, string | Buffer>): string => {
    const dir = join(sb.home, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    return dir;
  },
  // A script's output in a container of `image` (its entrypoint set aside).
  runIn: async (image: string, script: string): Promise<string> => (await sb.runCli(0, 'run', '--rm', '--entrypoint', 'sh', image, '-c', script)).stdout,
  inspect: async (image: string) => JSON.parse((await sb.runCli(0, 'image', 'inspect', image)).stdout)[0],
  containersLeft: async () => (await sb.runCli(0, 'ps', '-a', '-q')).stdout.trim(),
});
