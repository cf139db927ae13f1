// skiff container runlabel [options] LABEL IMAGE [ARG...]: runs the command an image's label holds
// (pulled first when missing), as Podman makes it (src/engine/container-runlabel.ts); --display
// prints it instead. skiff's exit code is the command's.
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor, parseBool } from '../../engine.js';
import { printLine } from '../../output/print.js';
import { pullReporter } from './create.js';

interface RunlabelFlags {
  authfile?: string;
  certDir?: string;
  creds?: string;
  display?: boolean;
  name?: string;
  quiet?: boolean;
  replace?: boolean;
  tlsVerify?: boolean;
}

export const build = (name = 'runlabel'): Command =>
  new Command(name)
    .description("Run the command an image's label holds (NAME, IMAGE and $PWD put in; podman, docker and skiff mean skiff)")
    .argument('<label>')
    .argument('<image>')
    .argument('[arg...]', "appended to the label's command")
    .option('--authfile <file>', 'registry credentials for pulling the image')
    .option('--cert-dir <dir>', "refused: put the registry's CA under ~/.config/skiff/certs.d/REGISTRY/ca.crt")
    .option('--creds <user:password>', 'credentials for pulling the image')
    .option('--display', 'print the command the label would run, and run nothing')
    .option('-n, --name <name>', "the container's name, for NAME (default: the image's name)")
    .option('-q, --quiet', 'no pull progress, and the command runs without standard input and output')
    .option('--replace', 'remove the container the command names with --name first')
    .option('--tls-verify [bool]', "verify the registry's TLS certificate when pulling (default true)", parseBool)
    .passThroughOptions()
    .action(async (label: string, image: string, args: string[], flags: RunlabelFlags, cmd: Command) => {
      if (flags.certDir !== undefined)
        throw new CliError('EUSAGE', `--cert-dir is not supported: put the registry's CA in ~/.config/skiff/certs.d/REGISTRY/ca.crt`);
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const pull = pullReporter(flags.quiet);
      const options = { name: flags.name, authfile: flags.authfile, creds: flags.creds, tlsVerify: flags.tlsVerify };
      const command = await engine.runlabel.command(label, image, args, options, (e) => pull.onEvent(e));
      pull.finish();
      if (flags.display) return printLine(`command: ${command.display}`);
      process.exitCode = await engine.runlabel.run(command, { quiet: flags.quiet, replace: flags.replace });
    });
