// skiff info
import { Command } from 'commander';
import { openEngineFor } from '../../engine.js';
import { parseFormat, printJson, printTemplate } from '../../output/print.js';
import { writeOut } from '../../output/stdout.js';
import { toYaml } from '../../output/yaml.js';

export const build = (): Command =>
  new Command('info')
    .description('Show how skiff is set up on this host: storage, runtime, network, cgroups, id mappings')
    .option('-f, --format <format>', 'json or a Go template such as {{.Store.GraphRoot}}')
    .action(async (flags: { format?: string }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const info = await engine.system.info();
      const format = parseFormat(flags.format);
      if (format.kind === 'json') return printJson(info, 2);
      if (format.kind === 'template') {
        // Templates use Podman's capitalised names: {{.Host.Arch}}, {{.Store.GraphRoot}}.
        const capitalise = (v: unknown): unknown =>
          Array.isArray(v)
            ? v.map(capitalise)
            : v && typeof v === 'object'
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0].toUpperCase() + k.slice(1), capitalise(x)]))
              : v;
        return printTemplate(format.template, [capitalise(info)]);
      }
      writeOut(toYaml(info));
    });
