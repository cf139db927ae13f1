// skiff push IMAGE [DESTINATION]
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { openEngineFor, parseBool } from '../../engine.js';
import { createPullProgress } from '../../output/progress.js';

interface PushFlags {
  quiet?: boolean;
  tlsVerify?: boolean;
  creds?: string;
  authfile?: string;
  digestfile?: string;
}

export const build = (name = 'push'): Command =>
  new Command(name)
    .description('Push an image to a registry')
    .argument('<image>', 'local image')
    .argument('[destination]', 'where to push it (default: the image name)')
    .option('-q, --quiet', 'print no progress')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates', parseBool)
    .option('--creds <user:password>', 'credentials for the registry')
    .option('--authfile <path>', 'auth file to read credentials from')
    .option('--digestfile <path>', 'write the pushed manifest digest to this file')
    .option('--disable-content-trust', 'accepted for Docker scripts (no content trust here)')
    .action(async (image: string, destination: string | undefined, flags: PushFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const progress = createPullProgress({ quiet: Boolean(flags.quiet), tty: process.stderr.isTTY === true });
      const report = await engine.images.push(image, destination, { tlsVerify: flags.tlsVerify, creds: flags.creds, authfile: flags.authfile }, (e) =>
        progress.onEvent(e),
      );
      progress.finish();
      if (flags.digestfile) writeFileSync(flags.digestfile, report.digest);
    });
