// skiff image scp SRC [DEST]: an image copied to or from another host over ssh.
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';

export const buildScp = (name = 'scp'): Command =>
  new Command(name)
    .description('Securely copy an image to or from another host over ssh')
    .argument('<source>', 'IMAGE to send, or [USER@]HOST[:PORT]::IMAGE to fetch')
    .argument('[destination]', '[USER@]HOST[:PORT]::[NEWNAME] to send to, or the NEWNAME of a fetched image')
    .option('-q, --quiet', 'print nothing (else what the load printed)')
    .addHelpText('after', '\nExamples:\n  skiff image scp myimage:latest otherhost::\n  skiff image scp me@otherhost:2222::myimage:latest myimage:copy')
    .action(async (source: string, destination: string | undefined, flags: { quiet?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const report = await engine.images.scp(source, destination);
      if (!flags.quiet) for (const line of report.output.split('\n').filter(Boolean)) printLine(line);
    });
