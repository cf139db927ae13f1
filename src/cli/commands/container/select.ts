// Which containers a command acts on: the named ones, or --all (narrowed by --filter), or --latest;
// and acting on each of them with Podman's reporting.
import type { Engine } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { containerFilter } from '../../output/container.js';
import { printLine } from '../../output/print.js';

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

// Runs `act` for each selected container; prints what the user typed (or the id for --all), then
// each failure, the last one setting the exit code. `ignore`: a missing container is no failure.
export const actOnEach = async (
  engine: Engine,
  inputs: string[],
  flags: { all?: boolean; latest?: boolean; filter?: string[]; ignore?: boolean },
  act: (target: string) => Promise<unknown>,
): Promise<void> => {
  const reports: { target: string; error?: Error }[] = [];
  for (const target of selectContainers(engine, inputs, flags)) {
    try {
      await act(target);
      reports.push({ target });
    } catch (error) {
      if (flags.ignore && error instanceof CliError && /no such container/.test(error.message)) continue;
      reports.push({ target, error: error as Error });
    }
  }
  reportItems(reports, (r) => printLine(r.target), printError);
};
