// skiff compose config: the resolved, interpolated model as docker compose config prints it (YAML or
// JSON), or one of its lists: services, volumes, networks, profiles, images, config hashes.
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import type { Loaded } from '../../../compose/load.js';
import type { FileObjectConfig, ServiceConfig } from '../../../compose/model.js';
import { loadFor } from './compose.js';

// A file mode as compose-go prints it: octal, in a string ("0440").
const octal = (mode: number): string => `0${mode.toString(8)}`;

const printedService = (s: ServiceConfig): object => {
  const refs = (list: ServiceConfig['secrets']) => list?.map((r) => ({ ...r, ...(r.mode !== undefined ? { mode: octal(r.mode) } : {}) }));
  return { ...s, ...(s.secrets ? { secrets: refs(s.secrets) } : {}), ...(s.configs ? { configs: refs(s.configs) } : {}) };
};

// A secret's content is never printed; a config's is, unless it came from a variable.
const printedFiles = (section: Record<string, FileObjectConfig>, secrets: boolean): Record<string, FileObjectConfig> =>
  Object.fromEntries(
    Object.entries(section).map(([k, v]) => {
      const { content, ...rest } = v;
      return [k, secrets || v.environment !== undefined || content === undefined ? rest : v];
    }),
  );

// The resolved model as docker compose config prints it: name, services, networks, volumes, secrets, configs.
export const configDocument = (loaded: Loaded): object => {
  const p = loaded.project;
  return {
    name: p.name,
    services: Object.fromEntries(Object.entries(p.services).map(([n, s]) => [n, printedService(s)])),
    ...(Object.keys(p.networks).length ? { networks: p.networks } : {}),
    ...(Object.keys(p.volumes).length ? { volumes: p.volumes } : {}),
    ...(p.secrets && Object.keys(p.secrets).length ? { secrets: printedFiles(p.secrets, true) } : {}),
    ...(p.configs && Object.keys(p.configs).length ? { configs: printedFiles(p.configs, false) } : {}),
  };
};

interface ConfigFlags {
  format: string;
  quiet?: boolean;
  services?: boolean;
  volumes?: boolean;
  networks?: boolean;
  profiles?: boolean;
  images?: boolean;
  hash?: string;
  interpolate?: boolean;
  output?: string;
  environment?: boolean;
}

export const buildConfig = (): Command =>
  new Command('config')
    .description('Print the resolved, interpolated compose model')
    .option('--format <format>', 'yaml (the default) or json', 'yaml')
    .option('-q, --quiet', 'only check the files')
    .option('--services', 'print the service names')
    .option('--volumes', 'print the volume names')
    .option('--networks', 'print the network names')
    .option('--profiles', 'print the profile names the services use')
    .option('--images', "print the services' image names")
    .option('--hash <services>', 'print the config hash of the services (comma-separated, or "*" for all)')
    .option('--no-interpolate', "don't substitute variables")
    .option('--environment', 'print the variables interpolation uses (NAME=VALUE)')
    .option('-o, --output <file>', 'write the model to a file instead of standard output')
    .action(async (flags: ConfigFlags, cmd: Command) => {
      if (flags.format !== 'yaml' && flags.format !== 'json') throw new CliError('EUSAGE', `--format ${flags.format}: use yaml or json`);
      const loaded = await loadFor(cmd, { interpolate: flags.interpolate !== false });
      if (flags.quiet) return;
      const p = loaded.project;
      const out = (text: string): void => {
        if (flags.output) writeFileSync(flags.output, text);
        else process.stdout.write(text);
      };
      const lines = (names: string[]) => out(names.map((n) => `${n}\n`).join(''));
      if (flags.services) return lines(Object.keys(p.services));
      if (flags.volumes) return lines(Object.keys(p.volumes));
      if (flags.networks) return lines(Object.keys(p.networks));
      if (flags.environment)
        return lines(
          Object.entries(loaded.environment)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => `${k}=${v}`)
            .sort(),
        );
      if (flags.profiles) {
        const all = [...Object.values(p.services), ...Object.values(p.disabled ?? {})].flatMap((s) => s.profiles ?? []);
        return lines([...new Set(all)].sort());
      }
      if (flags.images) {
        const { imageName } = await import('../../../engine/compose-create.js');
        return lines(Object.keys(p.services).map((n) => imageName(p, n)));
      }
      if (flags.hash !== undefined) {
        const { configHash } = await import('../../../engine/compose.js');
        const names = flags.hash === '*' ? Object.keys(p.services) : flags.hash.split(',').filter(Boolean);
        for (const n of names) if (!p.services[n]) throw new CliError('EUSAGE', `--hash ${flags.hash}: no such service: ${n}`);
        return lines(names.map((n) => `${n} ${configHash(p, n)}`));
      }
      const doc = configDocument(loaded);
      // (yaml is a large module: loaded only by the command that prints YAML.)
      const { stringify } = flags.format === 'json' ? { stringify: undefined } : await import('yaml');
      out(stringify ? stringify(doc, { nullStr: 'null', lineWidth: 0 }) : `${JSON.stringify(doc, null, 2)}\n`);
    });
