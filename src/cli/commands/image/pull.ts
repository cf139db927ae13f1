// skiff pull IMAGE
import { Command } from 'commander';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { createPullProgress } from '../../output/progress.js';

interface PullFlags {
  platform?: string;
  quiet?: boolean;
  tlsVerify?: boolean;
  creds?: string;
  authfile?: string;
  arch?: string;
  os?: string;
}

export const build = (name = 'pull'): Command =>
  new Command(name)
    .description('Pull an image from a registry')
    .argument('<image>', 'image reference, e.g. busybox, quay.io/org/app:1.2 or name@sha256:…')
    .option('--platform <os/arch[/variant]>', 'pull the image for this platform')
    .option('--arch <arch>', 'pull the image for this architecture')
    .option('--os <os>', 'pull the image for this OS', 'linux')
    .option('-q, --quiet', 'print only the image id')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates', parseBool)
    .option('--creds <user:password>', 'credentials for the registry')
    .option('--authfile <path>', 'auth file to read credentials from')
    .option('--filter <filter>', 'unused; accepted for compatibility', collect)
    .option('--disable-content-trust', 'accepted for Docker scripts (no content trust here)')
    .action(async (image: string, flags: PullFlags, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const platform = flags.platform ?? (flags.arch ? `${flags.os ?? 'linux'}/${flags.arch}` : undefined);
      const progress = createPullProgress({ quiet: Boolean(flags.quiet), tty: process.stderr.isTTY === true });
      const report = await engine.images.pull(image, { platform, tlsVerify: flags.tlsVerify, creds: flags.creds, authfile: flags.authfile }, (e) =>
        progress.onEvent(e),
      );
      progress.finish();
      printLine(report.image.id.slice(7));
    });
