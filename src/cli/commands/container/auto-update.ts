// skiff auto-update [--dry-run] [--rollback[=false]] [--format json|TEMPLATE]: containers labelled
// io.containers.autoupdate=registry|local get their image's newer version (src/engine/auto-update.ts).
import { Command } from 'commander';
import type { AutoUpdateReport } from '../../../engine/index.js';
import { openEngineFor, parseBool } from '../../engine.js';
import { parseFormat, printJson, printTable, printTemplate } from '../../output/print.js';
import { runFlags } from './generate.js';

const json = (r: AutoUpdateReport) => ({
  Unit: r.Unit,
  Container: r.Container,
  ContainerID: r.ContainerID,
  ContainerName: r.ContainerName,
  Image: r.Image,
  Policy: r.Policy,
  Updated: r.Updated,
});

export const build = (): Command =>
  new Command('auto-update')
    .description('Update containers labelled io.containers.autoupdate=registry (or local) whose image has a newer version')
    .option('--dry-run', 'only say which containers would be updated (pending)')
    .option('--rollback [bool]', 'make a container that does not come back again from its old image (default true)', parseBool, true)
    .option('--format <format>', 'json or a Go template such as {{.Unit}} {{.Updated}}')
    .option('--authfile <file>', 'registry credentials file')
    .option('--tls-verify [bool]', "verify the registry's TLS certificate (default true)", parseBool)
    .action(async (flags: { dryRun?: boolean; rollback: boolean; format?: string; authfile?: string; tlsVerify?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const format = parseFormat(flags.format);
      const reports = await (await engine.autoUpdater()).run({
        runFlags: runFlags(),
        dryRun: flags.dryRun,
        rollback: flags.rollback,
        authfile: flags.authfile,
        tlsVerify: flags.tlsVerify,
      });
      if (format.kind === 'json') printJson(reports.map(json));
      else if (format.kind === 'template') printTemplate(format.template, reports);
      else
        printTable(
          ['UNIT', 'CONTAINER', 'IMAGE', 'POLICY', 'UPDATED'],
          reports.map((r) => [r.Unit, r.Container, r.Image, r.Policy, r.Updated]),
        );
      const failed = reports.filter((r) => r.Error);
      for (const r of failed) process.stderr.write(`Error: ${r.ContainerName}: ${r.Error}\n`);
      if (reports.some((r) => r.Updated === 'failed')) process.exitCode = 125;
    });
