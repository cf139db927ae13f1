// skiff system check: one line per host prerequisite, each failure with its fix; exit 1 when a
// required one fails.
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';
import { parseFormat, printJson, printLine } from '../../output/print.js';

export const build = (): Command =>
  new Command('check')
    .description('Diagnose the host: user namespaces, id ranges, overlay, runtimes, network helpers, cgroups')
    .option('--format <format>', 'json')
    .action(async (flags: { format?: string }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const results = await engine.system.check();
      if (parseFormat(flags.format).kind === 'json') printJson(results);
      else {
        const width = Math.max(...results.map((r) => r.name.length));
        for (const r of results) {
          const mark = r.status === 'ok' ? 'ok  ' : r.status === 'warn' ? 'warn' : 'FAIL';
          printLine(`${mark}  ${r.name.padEnd(width)}  ${r.detail}${r.fix && r.status !== 'ok' ? ` — fix: ${r.fix}` : ''}`);
        }
      }
      if (results.some((r) => r.required && r.status === 'fail')) process.exitCode = 1;
    });
