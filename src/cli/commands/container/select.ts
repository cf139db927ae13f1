// Which containers a command acts on (the engine decides: names, --all, --filter, --latest), and
// acting on each of them with Podman's reporting.
import type { Engine } from '../../../engine/index.js';
import { CliError } from '../../../errors.js';
import { reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { printLine } from '../../output/print.js';

// Runs `act` for each selected container; prints what the user typed (or the id for --all), then
// each failure, the last one setting the exit code. `ignore`: a missing container is no failure.
// `parallel`: those of the targets that `together` returns are acted on `jobs` at a time first
// (Podman's rm does its containers in parallel too), the others one by one in order; the lines
// come in the targets' order all the same.
export const actOnEach = async (
  engine: Engine,
  inputs: string[],
  flags: { all?: boolean; latest?: boolean; filter?: string[]; ignore?: boolean },
  act: (target: string) => Promise<unknown>,
  parallel?: { jobs: number; together: (targets: string[]) => Set<string> },
): Promise<void> => {
  const targets = engine.reports.select(inputs, flags);
  const reports: ({ target: string; error?: Error } | undefined)[] = [];
  const one = async (i: number): Promise<void> => {
    const target = targets[i];
    try {
      await act(target);
      reports[i] = { target };
    } catch (error) {
      if (flags.ignore && error instanceof CliError && error.code === 'ENOCONTAINER') return;
      reports[i] = { target, error: error as Error };
    }
  };
  const together = parallel && targets.length > 1 ? parallel.together(targets) : new Set<string>();
  const pooled = targets.flatMap((target, i) => (together.has(target) ? [i] : []));
  let next = 0;
  const worker = async () => {
    while (next < pooled.length) await one(pooled[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(parallel?.jobs ?? 1, pooled.length) }, worker));
  for (let i = 0; i < targets.length; i++) if (!together.has(targets[i])) await one(i);
  reportItems(
    reports.filter((r): r is { target: string; error?: Error } => r !== undefined),
    (r) => printLine(r.target),
    printError,
  );
};
