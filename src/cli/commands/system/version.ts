// skiff version
import { Command } from 'commander';
import { VERSION } from '../../../version.js';
import { parseFormat, printJson, printLine, printTemplate } from '../../output/print.js';

export const build = (): Command =>
  new Command('version')
    .description('Show the skiff version')
    .option('-f, --format <format>', 'json or a Go template such as {{.Client.Version}}')
    .action((flags: { format?: string }) => {
      const client = { Version: VERSION, NodeVersion: process.version, OsArch: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}` };
      const format = parseFormat(flags.format);
      if (format.kind === 'json') return printJson({ Client: client }, 0);
      if (format.kind === 'template') return printTemplate(format.template, [{ Client: client }]);
      printLine('Client:');
      printLine(`Version:      ${client.Version}`);
      printLine(`Node Version: ${client.NodeVersion}`);
      printLine(`OS/Arch:      ${client.OsArch}`);
    });
