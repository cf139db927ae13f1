// `container runlabel LABEL IMAGE [ARG...]`: the command an image's label holds (an image's `RUN`,
// `INSTALL`, ... label: "podman run -d --name NAME IMAGE"), made as Podman makes it: the arguments
// appended, NAME and IMAGE (also $NAME, ${NAME}, =NAME) put in, podman, docker and skiff as the
// command meaning skiff itself, $PWD and $OPT1..3 expanded in each word (every other variable to
// nothing).
import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import type { PullEvent } from '../image/pull.js';
import { spawnHelper, type Spawned } from '../util/exec.js';
import { skiffPath } from '../util/self.js';
import type { ContainersEngine } from './containers.js';
import type { ImagesEngine } from './images.js';

export interface RunlabelOptions {
  /** The container's name, for NAME (default: the image's name without registry, path and tag). */
  name?: string;
  authfile?: string;
  creds?: string;
  tlsVerify?: boolean;
  /** Remove the container the command's --name names first. */
  replace?: boolean;
}

export interface RunlabelCommand {
  argv: string[];
  /** argv as shown by --display (skiff itself as `skiff`). */
  display: string;
}

// A command line split into words as a POSIX shell would (google/shlex, as Podman uses): quotes,
// backslash escapes, a # starting a word starts a comment.
export const splitCommandLine = (text: string): string[] => {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '#' && word === undefined) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '\\') {
      word = (word ?? '') + (text[++i] ?? '');
    } else if (c === "'" || c === '"') {
      // (Inside double quotes a backslash escapes the next character; inside single ones nothing.)
      let inner = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== c; j++) inner += c === '"' && text[j] === '\\' ? (text[++j] ?? '') : text[j];
      if (j >= text.length) throw new CliError('EUSAGE', `the label's command has an unclosed ${c === "'" ? 'single' : 'double'} quote: ${text}`);
      word = (word ?? '') + inner;
      i = j;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
};

// NAME and IMAGE in one argument, as Podman puts them in.
const substitute = (arg: string, key: 'NAME' | 'IMAGE', value: string): string => {
  if (arg === key) return value;
  let out = arg.replaceAll(`$${key}`, value).replaceAll(`\${${key}}`, value);
  if (out.endsWith(`=${key}`)) out = out.replaceAll(`=${key}`, `=${value}`);
  return out;
};

// $VAR and ${VAR} (Go's os.Expand): PWD and OPT1..3 have values, every other variable is empty.
const expand = (text: string, values: Record<string, string>): string =>
  text.replace(/\$(?:\{([^}]*)\}|([A-Za-z0-9_]+))/g, (_m, braced: string | undefined, plain: string | undefined) => values[braced ?? plain ?? ''] ?? '');

// The command a label holds, for the image named `imageName` and the container `name`; `skiff`:
// skiff's own path.
export const labelCommand = (label: string, args: string[], imageName: string, name: string, cwd: string, skiff: string): RunlabelCommand => {
  const words = splitCommandLine(args.length ? `${label} ${args.join(' ')}` : label);
  if (!words.length) throw new CliError('EUSAGE', 'the label holds no command');
  const [program, ...rest] = words;
  const self = program === 'podman' || program === 'skiff' || basename(program) === 'docker';
  let command = self ? skiff : program;
  if (!self && (program.includes('/') || program.startsWith('.'))) {
    command = resolve(cwd, program);
    if (!existsSync(command)) throw new CliError('EUSAGE', `the label's command ${command} does not exist`, { exitCode: 127 });
  }
  const substituted = rest.map((arg) => {
    if (arg === 'IMAGE=IMAGE') return `IMAGE=${imageName}`;
    if (arg === 'NAME=NAME') return `NAME=${name}`;
    return substitute(substitute(arg, 'NAME', name), 'IMAGE', imageName);
  });
  // (Word by word: Podman joins the words and splits them again, which loses their quoting.)
  const argv = [command, ...substituted].map((word) => expand(word, { PWD: cwd, OPT1: '', OPT2: '', OPT3: '' }));
  return { argv, display: [self ? 'skiff' : argv[0], ...argv.slice(1)].join(' ') };
};

export class ContainerRunlabel {
  constructor(
    private readonly images: ImagesEngine,
    private readonly containers: ContainersEngine,
  ) {}

  // The label's command for the image (pulled when missing). Caller has joined the user namespace.
  async command(labelName: string, input: string, args: string[], options: RunlabelOptions, onPull?: (event: PullEvent) => void): Promise<RunlabelCommand> {
    const image = this.images.exists(input)
      ? this.images.resolve(input)
      : (await this.images.pull(input, { authfile: options.authfile, creds: options.creds, tlsVerify: options.tlsVerify }, onPull)).image;
    const labels = this.images.inspect(image.id).config.config?.Labels ?? {};
    const key = Object.keys(labels).find((k) => k.toLowerCase() === labelName.toLowerCase());
    if (key === undefined || labels[key] === '') throw new CliError('EUSAGE', `cannot find the value of label: ${labelName} in image: ${input}`);
    const imageName = image.names[0] ?? image.id.replace(/^sha256:/, '');
    // (The name the user gave unless that was the image's id: it is what NAME defaults to.)
    const named = image.id.replace(/^sha256:/, '').startsWith(input.replace(/^sha256:/, '')) ? imageName : input;
    const name = options.name ?? (named.split('/').pop() ?? named).split(':')[0];
    return labelCommand(labels[key], args, imageName, name, process.cwd(), skiffPath());
  }

  // Runs the command (stdio inherited, or none with `quiet`), after removing the container its
  // --name names with `replace`; its exit code.
  async run(command: RunlabelCommand, options: { quiet?: boolean; replace?: boolean }): Promise<number> {
    const at = command.argv.indexOf('--name');
    if (options.replace && at > 0 && command.argv[at + 1] && this.containers.exists(command.argv[at + 1]))
      await this.containers.remove(command.argv[at + 1], { force: true });
    let child: Spawned;
    try {
      const stdio = options.quiet ? [null, null, null] : [0, 1, 2];
      child = spawnHelper(command.argv[0], command.argv.slice(1), stdio, { env: { PODMAN_RUNLABEL_NESTED: '1' } });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CliError('EUSAGE', `cannot run the label's command ${command.argv[0]}: ${code === 'ENOENT' ? 'not found' : messageOf(error)}`, {
        exitCode: code === 'ENOENT' ? 127 : 126,
      });
    }
    return child.exited;
  }
}
