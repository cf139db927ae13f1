// Typed build steps from parsed instructions, with Docker's expansion rules: ADD COPY ENV EXPOSE FROM LABEL
// STOPSIGNAL USER VOLUME WORKDIR (and ARG defaults, RUN --mount values) expand variables; RUN CMD ENTRYPOINT
// SHELL HEALTHCHECK ONBUILD MAINTAINER are taken as written (the shell expands RUN's variables at run time).
import { type Heredoc, type Instruction, locateErrors } from './dockerfile.js';
import { chompHeredoc, parseHeredocWord, splitFields, trimSpace } from './dockerfile-syntax.js';
import { expandWord, expandWords, type Lookup, lexWords } from './expand.js';
import { type HealthcheckStep, parseHealthcheck } from './healthcheck.js';
import { isFlagSet, readFlag, readFlags, splitArgs, splitKeyValues, splitSources } from './instruction-args.js';
import { type MountSpec, parseMount } from './run-mount.js';
import { checkSignal, parsePorts } from './values.js';
import { CliError } from '../errors.js';

// The step types of other modules, so callers import steps from one place.
export type { HealthcheckStep } from './healthcheck.js';
// (MountSpec is the type of RunStep's mounts.)
export type { MountSpec } from './run-mount.js';

// RUN, ready to run: the command, its mounts, its network.
export interface RunStep {
  kind: 'run';
  /** Exec form: the argv as written; absent in shell form. */
  command?: string[];
  /** Shell form: `text` runs with the stage's SHELL (default ["/bin/sh", "-c"]). */
  shell: boolean;
  /** Shell form: the command for the shell, heredocs already folded in as Docker does (see typeRun). */
  text: string;
  mounts: MountSpec[];
  network?: 'default' | 'none' | 'host';
  security?: 'sandbox' | 'insecure';
  /** The heredocs as written (bodies unexpanded, `<<-` tabs kept), for cache keys: `text` already holds them. */
  heredocs: Heredoc[];
  /** A lone heredoc starting with #!: write `content` to `path` (mode 0755, a read-only mount); `text` runs it. */
  script?: { path: string; content: string };
}

// COPY or ADD, ready to copy: paths expanded, inline files made.
export interface CopyStep {
  kind: 'copy' | 'add';
  sources: string[];
  dest: string;
  /** COPY --from: a stage name or index, an image, or a named context (never expanded). */
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  /** COPY --parents. */
  parents: boolean;
  /** ADD --checksum. */
  checksum?: string;
  /** ADD --keep-git-dir, when given. */
  keepGitDir?: boolean;
  /** ADD --unpack, when given. */
  unpack?: boolean;
  /** Inline files: `content` is final (tabs chomped for <<-, variables expanded unless the name was quoted). */
  heredocs: { name: string; content: string }[];
  excludes: string[];
}

// What one instruction does, typed: the builder switches on `kind`.
export type Step =
  | { kind: 'from'; image: string; name?: string; platform?: string }
  | RunStep
  | CopyStep
  | { kind: 'env'; pairs: [key: string, value: string][] }
  | { kind: 'label'; pairs: [key: string, value: string][] }
  | { kind: 'arg'; args: { name: string; default?: string }[] }
  | { kind: 'expose'; ports: string[] }
  | { kind: 'workdir'; path: string }
  | { kind: 'user'; user: string }
  | { kind: 'volume'; paths: string[] }
  | { kind: 'cmd' | 'entrypoint'; command: string[]; shellForm: boolean }
  | { kind: 'shell'; shell: string[] }
  | { kind: 'stopsignal'; signal: string }
  | HealthcheckStep
  | { kind: 'onbuild'; text: string }
  | { kind: 'maintainer'; name: string };

// RUN. Heredocs, as Docker folds them: a lone `<<EOF` runs its body with the shell (or, when the body starts
// with #!, as a script file); otherwise the bodies follow the command, each with its terminator, for the shell.
const typeRun = (ins: Instruction, word: (text: string) => string): RunStep => {
  const mounts = readFlags(ins, 'mount').map((spec) => parseMount(spec, word));
  const network = readFlag(ins, 'network') as RunStep['network'];
  const security = readFlag(ins, 'security') as RunStep['security'];
  const step: RunStep = {
    kind: 'run',
    shell: !ins.json,
    text: '',
    mounts,
    heredocs: ins.heredocs,
    ...(network ? { network } : {}),
    ...(security ? { security } : {}),
  };
  if (ins.json) return { ...step, command: [...ins.args] };
  step.text = ins.args[0] ?? '';
  if (ins.heredocs.length === 0) return step;
  if (!parseHeredocWord(step.text)) {
    step.text += ins.heredocs.map((doc) => `\n${doc.content}${doc.name}`).join('');
    return step;
  }
  const [doc] = ins.heredocs;
  const body = doc.chomp ? chompHeredoc(doc.content) : doc.content;
  if (!body.startsWith('#!')) step.text = body;
  else {
    step.script = { path: `/dev/pipes/${doc.name}`, content: body };
    step.text = step.script.path;
  }
  return step;
};

// COPY and ADD: paths and chown/chmod/checksum expand; --from and --exclude do not; heredoc sources become files.
const typeCopy = (ins: Instruction, lookup: Lookup, word: (text: string) => string): CopyStep => {
  const { sources, dest } = splitSources(ins);
  const step: CopyStep = {
    kind: ins.keyword === 'ADD' ? 'add' : 'copy',
    sources: [],
    dest: word(dest),
    link: isFlagSet(ins, 'link'),
    parents: isFlagSet(ins, 'parents'),
    heredocs: [],
    excludes: readFlags(ins, 'exclude'),
  };
  for (const source of sources) {
    const marker = parseHeredocWord(source);
    if (!marker) {
      step.sources.push(word(source));
      continue;
    }
    const body = ins.heredocs.find((doc) => doc.name === marker.name)?.content ?? '';
    const content = marker.chomp ? chompHeredoc(body) : body;
    step.heredocs.push({ name: marker.name, content: marker.expand ? lexWords(content, lookup, { skipQuotes: true }).word : content });
  }
  const from = readFlag(ins, 'from');
  if (from) step.from = from;
  for (const key of ['chown', 'chmod', 'checksum'] as const) {
    const value = readFlag(ins, key);
    if (value) step[key] = word(value);
  }
  for (const [key, flag] of [
    ['keepGitDir', 'keep-git-dir'],
    ['unpack', 'unpack'],
  ] as const)
    if (ins.flags.some((f) => f.name === flag)) step[key] = isFlagSet(ins, flag);
  return step;
};

// ONBUILD's trigger as Docker stores it: the line without ONBUILD, each heredoc appended with its terminator.
const onbuildText = (ins: Instruction): string =>
  ins.text.replace(/^\s*ONBUILD\s*/i, '') + (ins.onbuild?.heredocs ?? []).map((doc) => `\n${doc.content}${doc.name}`).join('');

// Types one instruction of a stage, expanding variables where Docker does, with `lookup` as the stage's
// variables at that point (ENV, then ARG values); errors are DockerfileErrors at the instruction's line.
export const typeInstruction = (ins: Instruction, lookup: Lookup, escapeToken = '\\', file = 'Dockerfile'): Step =>
  locateErrors(file, ins.line, (): Step => {
    const word = (text: string): string => expandWord(text, lookup, escapeToken);
    const rest = ins.args[0] ?? '';
    switch (ins.keyword) {
      case 'FROM': {
        const [image, , name] = splitFields(rest);
        const platform = readFlag(ins, 'platform');
        return { kind: 'from', image: word(image), ...(name ? { name: name.toLowerCase() } : {}), ...(platform ? { platform: word(platform) } : {}) };
      }
      case 'RUN':
        return typeRun(ins, word);
      case 'CMD':
      case 'ENTRYPOINT':
        return { kind: ins.keyword === 'CMD' ? 'cmd' : 'entrypoint', command: ins.json ? [...ins.args] : [rest], shellForm: !ins.json };
      case 'SHELL':
        return { kind: 'shell', shell: [...ins.args] };
      case 'COPY':
      case 'ADD':
        return typeCopy(ins, lookup, word);
      case 'ENV':
      case 'LABEL': {
        const pairs = splitKeyValues(ins, escapeToken).map(({ key, value }): [string, string] => [word(key), word(value)]);
        return { kind: ins.keyword === 'ENV' ? 'env' : 'label', pairs };
      }
      case 'ARG':
        return { kind: 'arg', args: splitArgs(ins, escapeToken).map(({ name, value }) => (value === undefined ? { name } : { name, default: word(value) })) };
      case 'EXPOSE':
        return {
          kind: 'expose',
          ports: parsePorts(
            splitFields(rest)
              .sort()
              .flatMap((port) => expandWords(port, lookup, escapeToken)),
          ),
        };
      case 'WORKDIR':
        return { kind: 'workdir', path: word(rest) };
      case 'USER':
        return { kind: 'user', user: word(rest) };
      case 'VOLUME': {
        const paths = (ins.json ? ins.args : splitFields(rest)).map((path) => word(trimSpace(path)));
        if (paths.some((path) => path === '')) throw new CliError('EUSAGE', 'VOLUME specified can not be an empty string');
        return { kind: 'volume', paths };
      }
      case 'STOPSIGNAL': {
        const signal = word(rest);
        checkSignal(signal);
        return { kind: 'stopsignal', signal };
      }
      case 'HEALTHCHECK':
        return parseHealthcheck(ins);
      case 'ONBUILD':
        return { kind: 'onbuild', text: onbuildText(ins) };
      case 'MAINTAINER':
        return { kind: 'maintainer', name: rest };
      default:
        throw new CliError('EUSAGE', `unknown instruction: ${ins.keyword}`);
    }
  });
