// From a parsed Dockerfile to its build stages: global ARGs, each stage's base image, the stages each one
// needs (FROM, COPY --from, RUN --mount from=) and the stages a target needs; typeInstruction types the steps.
import { CliError } from '../errors.js';
import { type Dockerfile, type Instruction, locateErrors } from './dockerfile.js';
import { splitFields } from './dockerfile-syntax.js';
import { expandWord } from './expand.js';
import { readFlag, readFlags, splitArgs } from './instruction-args.js';
import { splitMountFields } from './run-mount.js';

// The typed steps of a stage's instructions (steps.ts), with their types.
export { typeInstruction } from './steps.js';
// (The types typeInstruction returns.)
export type { CopyStep, HealthcheckStep, MountSpec, RunStep, Step } from './steps.js';

// One build stage: a FROM and the instructions up to the next.
export interface Stage {
  index: number;
  /** The AS name, lower-cased. */
  name?: string;
  /** The FROM image, expanded with the global ARGs (build args overriding their defaults). */
  base: string;
  /** FROM --platform, expanded the same way. */
  platform?: string;
  /** The FROM line. */
  line: number;
  /** The Dockerfile's name, for errors. */
  file: string;
  /** The stage's instructions after its FROM. */
  instructions: Instruction[];
}

// BuildKit's automatic platform ARGs: in the global scope without an ARG when the caller passes them.
const PLATFORM_ARGS = new Set(
  'BUILDPLATFORM BUILDOS BUILDOSVERSION BUILDARCH BUILDVARIANT TARGETPLATFORM TARGETOS TARGETOSVERSION TARGETARCH TARGETVARIANT TARGETSTAGE'.split(' '),
);

// Splits a Dockerfile into its stages. Global ARGs (before the first FROM) take the build arg of their name,
// else their default expanded with the global ARGs before them; an ARG with neither is declared but unset
// (undefined). The automatic platform ARGs (BUILDPLATFORM, TARGETARCH, ...) are global when in `buildArgs`.
export const splitStages = (df: Dockerfile, buildArgs: Record<string, string>): { globalArgs: Record<string, string | undefined>; stages: Stage[] } => {
  const globalArgs: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(buildArgs)) if (PLATFORM_ARGS.has(name)) globalArgs[name] = value;
  const lookup = (name: string): string | undefined => (Object.hasOwn(globalArgs, name) ? globalArgs[name] : undefined);
  const stages: Stage[] = [];
  for (const ins of df.instructions) {
    const stage = stages.at(-1);
    if (ins.keyword === 'FROM') stages.push(locateErrors(df.file, ins.line, () => readFrom(ins, stages, lookup, df)));
    else if (stage) stage.instructions.push(ins);
    else if (ins.keyword === 'ARG')
      for (const { name, value } of locateErrors(df.file, ins.line, () => splitArgs(ins, df.escape))) {
        if (Object.hasOwn(buildArgs, name)) globalArgs[name] = buildArgs[name];
        else if (value !== undefined) globalArgs[name] = locateErrors(df.file, ins.line, () => expandWord(value, lookup, df.escape));
        else if (!Object.hasOwn(globalArgs, name)) globalArgs[name] = undefined;
      }
  }
  return { globalArgs, stages };
};

// One FROM: its image and platform expanded with the global ARGs, its name unique (case-insensitive).
const readFrom = (ins: Instruction, stages: Stage[], lookup: (name: string) => string | undefined, df: Dockerfile): Stage => {
  const [image, , as] = splitFields(ins.args[0] ?? '');
  const base = expandWord(image, lookup, df.escape);
  if (base === '') throw new CliError('EUSAGE', `base name (${image}) should not be blank`);
  const stage: Stage = { index: stages.length, base, line: ins.line, file: df.file, instructions: [] };
  if (as) {
    stage.name = as.toLowerCase();
    const twin = stages.find((other) => other.name === stage.name);
    if (twin) throw new CliError('EUSAGE', `duplicate stage name "${stage.name}" (also on line ${twin.line})`);
  }
  const platform = readFlag(ins, 'platform');
  if (platform !== undefined) {
    stage.platform = expandWord(platform, lookup, df.escape);
    if (stage.platform === '') throw new CliError('EUSAGE', `empty platform value from expression ${platform}`);
  }
  return stage;
};

// The stage a --from / from= value names, if any: an index (COPY only) or a stage name; anything else is an image.
const referencedStage = (stages: Stage[], stage: Stage, value: string, what: string, indexes: boolean): number | undefined => {
  let target: number | undefined;
  if (indexes && /^[-+]?\d+$/.test(value)) {
    target = Number(value);
    if (target < 0 || target >= stages.length) throw new CliError('EUSAGE', `invalid stage index ${value}`);
  } else target = stages.find((other) => other.name === value.toLowerCase())?.index;
  if (target === stage.index) throw new CliError('EUSAGE', `${what} refers to its own stage`);
  if (target !== undefined && target > stage.index) throw new CliError('EUSAGE', `${what} refers to stage ${value}, which is defined later`);
  return target;
};

// The stages one stage needs, in index order.
const dependenciesOf = (stages: Stage[], stage: Stage): number[] => {
  const needs = new Set<number>();
  const base = stages.find((other) => other.name === stage.base.toLowerCase() && other.index < stage.index);
  if (base) needs.add(base.index);
  for (const ins of stage.instructions)
    locateErrors(stage.file, ins.line, () => {
      const from = ins.keyword === 'COPY' ? readFlag(ins, 'from') : undefined;
      if (from) {
        if (expandWord(from, () => undefined) !== from)
          throw new CliError(
            'EUSAGE',
            'variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround',
          );
        const index = referencedStage(stages, stage, from, `--from=${from}`, true);
        if (index !== undefined) needs.add(index);
      }
      if (ins.keyword !== 'RUN') return;
      for (const spec of readFlags(ins, 'mount')) {
        const mountFrom = splitMountFields(spec)
          .filter((field) => field.key === 'from')
          .pop()?.value;
        const index = mountFrom ? referencedStage(stages, stage, mountFrom, `--mount from=${mountFrom}`, false) : undefined;
        if (index !== undefined) needs.add(index);
      }
    });
  return [...needs].sort((a, b) => a - b);
};

// For each stage, the indexes of the earlier stages it needs; a reference to itself or a later stage is an error.
export const stageDependencies = (stages: Stage[]): number[][] => stages.map((stage) => dependenciesOf(stages, stage));

// The stages to build for `target` (a stage name, case-insensitive; default: the last stage), dependencies first.
export const stagesFor = (stages: Stage[], target?: string): number[] => {
  if (stages.length === 0) throw new CliError('EUSAGE', 'the Dockerfile has no stages to build');
  let goal = stages.length - 1;
  if (target !== undefined && target !== '') {
    const found = stages.find((stage) => stage.name === target.toLowerCase());
    if (!found) {
      const names = stages.flatMap((stage) => (stage.name ? [stage.name] : []));
      throw new CliError(
        'EUSAGE',
        `target stage "${target}" could not be found; ${names.length ? `the stages are: ${names.join(', ')}` : 'no stage is named'}`,
      );
    }
    goal = found.index;
  }
  const deps = stageDependencies(stages);
  const needed = new Set<number>();
  const visit = (index: number): void => {
    if (needed.has(index)) return;
    needed.add(index);
    deps[index].forEach(visit);
  };
  visit(goal);
  return [...needed].sort((a, b) => a - b);
};
