// Which containers a command acts on: the named ones, or --all (narrowed by --filter), or --latest.
import type { Engine } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { containerFilter } from '../../output/container.js';

export const selectContainers = (engine: Engine, inputs: string[], flags: { all?: boolean; latest?: boolean; filter?: string[] }): string[] => {
  if (flags.all || flags.latest || flags.filter?.length) {
    if (inputs.length) throw new CliError('EUSAGE', '--all, --latest and --filter take no container names');
    const match = containerFilter(flags.filter ?? []);
    let rows = engine.containers.list().filter(match);
    if (flags.latest) rows = rows.sort((a, b) => (a.record.created < b.record.created ? 1 : -1)).slice(0, 1);
    return rows.map((r) => r.record.id);
  }
  if (!inputs.length) throw new CliError('EUSAGE', 'name at least one container, or use --all');
  return inputs;
};
