// Which containers a command acts on (the engine decides: names, --all, --filter, --latest), and
// acting on each of them with Podman's reporting.
import type { Engine } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { printLine } from '../../output/print.js';

// Runs `act` for each selected container; prints what the user typed (or the id for --all), then
// each failure, the last one setting the exit code. `ignore`: a missing container is no failure.
export const actOnEach = async (
  engine: Engine,
  inputs: string[],
  flags: { all?: boolean; latest?: boolean; filter?: string[]; ignore?: boolean },
  act: (target: string) => Promise<unknown>,
): Promise<void> => {
  const reports: { target: string; error?: Error }[] = [];
  for (const target of engine.reports.select(inputs, flags)) {
    try {
      await act(target);
      reports.push({ target });
    } catch (error) {
      if (flags.ignore && error instanceof CliError && error.code === 'ENOCONTAINER') continue;
      reports.push({ target, error: error as Error });
    }
  }
  reportItems(reports, (r) => printLine(r.target), printError);
};
