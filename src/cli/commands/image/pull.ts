// skiff pull IMAGE...: from a registry, or copied in from an archive or directory layout
// (docker-archive:, oci-archive:, oci:, dir:).
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { collect, openEngineFor, parseBool } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { createPullProgress } from '../../output/progress.js';

interface PullFlags {
  platform?: string;
  quiet?: boolean;
  tlsVerify?: boolean;
  creds?: string;
  authfile?: string;
  certDir?: string;
  arch?: string;
  os?: string;
  variant?: string;
  allTags?: boolean;
}

export const build = (name = 'pull'): Command =>
  new Command(name)
    .description('Pull images from a registry, or copy them in from an archive or a directory layout')
    .argument('<image...>', 'e.g. busybox, quay.io/org/app:1.2, name@sha256:…, docker-archive:FILE[:NAME], oci-archive:FILE, oci:DIR, dir:DIR')
    .option('-a, --all-tags', 'pull every tagged image of the repository')
    .option('--platform <os/arch[/variant]>', 'pull the image for this platform')
    .option('--arch <arch>', 'pull the image for this architecture')
    .option('--os <os>', 'pull the image for this OS', 'linux')
    .option('--variant <variant>', 'pull the image for this architecture variant (e.g. v7, v8)')
    .option('-q, --quiet', 'print only the image id')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates', parseBool)
    .option('--cert-dir <dir>', 'TLS certificates for the registry: *.crt CAs, a *.cert and *.key client pair')
    .option('--creds <user:password>', 'credentials for the registry')
    .option('--authfile <path>', 'auth file to read credentials from')
    .option('--filter <filter>', 'unused; accepted for compatibility', collect)
    .option('--disable-content-trust', 'accepted for Docker scripts (no content trust here)')
    .action(async (images: string[], flags: PullFlags, cmd: Command) => {
      if (flags.platform && flags.arch) throw new CliError('EUSAGE', '--platform and --arch conflict: give one of them');
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const platform = flags.platform ?? (flags.arch ? `${flags.os ?? 'linux'}/${flags.arch}` : undefined);
      const options = { platform, variant: flags.variant, tlsVerify: flags.tlsVerify, creds: flags.creds, authfile: flags.authfile, certDir: flags.certDir };
      for (const image of images) {
        const progress = createPullProgress({ quiet: Boolean(flags.quiet), tty: process.stderr.isTTY === true });
        const onEvent = (e: Parameters<typeof progress.onEvent>[0]) => progress.onEvent(e);
        const reports = flags.allTags ? await engine.images.pullAllTags(image, options, onEvent) : [await engine.images.pull(image, options, onEvent)];
        progress.finish();
        for (const id of new Set(reports.map((r) => r.image.id.slice(7)))) printLine(id);
      }
    });
