// The Dockerfile parser: text → instructions, read as BuildKit's frontend/dockerfile/parser reads it (parser
// directives, comments, line continuations, heredocs, flags, exec form), each instruction checked on its own.
import { CliError } from '../errors.js';
import { checkInstruction } from './dockerfile-check.js';
import { findHeredocs, INSTRUCTION_FLAGS, parseJsonArray, splitCommand, trimSpace } from './dockerfile-syntax.js';

// A heredoc body that follows a RUN, COPY or ADD line.
export interface Heredoc {
  name: string;
  /** The body as written, each line with its newline; `<<-` tabs are still there (see chompHeredoc). */
  content: string;
  /** False when any part of the name was quoted: the body is then taken literally. */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the body's lines. */
  chomp: boolean;
}

// One instruction as parsed: nothing expanded yet, checked on its own.
export interface Instruction {
  /** Upper case: FROM RUN CMD LABEL MAINTAINER EXPOSE ENV ADD COPY ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL HEALTHCHECK SHELL. */
  keyword: string;
  /** 1-based line the instruction starts on. */
  line: number;
  /** The instruction as written, continuation lines joined and comments removed (Docker's "Original"). */
  text: string;
  /** The leading --name=value / --name flags, in order. */
  flags: { name: string; value: string | undefined }[];
  /** Exec form: the arguments were a JSON array of strings. */
  json: boolean;
  /** Exec form: the array; otherwise the rest of the line after the flags as one string (none when empty), unexpanded. */
  args: string[];
  heredocs: Heredoc[];
  /** ONBUILD: the trigger instruction (args[0] is its text). */
  onbuild?: Instruction;
}

// A parsed Dockerfile: what splitStages and typeInstruction work from.
export interface Dockerfile {
  file: string;
  escape: '\\' | '`';
  syntax?: string;
  instructions: Instruction[];
}

// Anything wrong in a Dockerfile, reported as "FILE:LINE: what is wrong".
export class DockerfileError extends CliError {
  readonly file: string;
  readonly line: number;

  constructor(file: string, line: number, what: string) {
    super('EUSAGE', `${file}:${line}: ${what}`);
    this.name = 'DockerfileError';
    this.file = file;
    this.line = line;
  }
}

// Runs `fn`, turning a usage error it throws into a DockerfileError at FILE:LINE.
export const locateErrors = <T>(file: string, line: number, fn: () => T): T => {
  try {
    return fn();
  } catch (error) {
    if (error instanceof CliError && !(error instanceof DockerfileError) && error.code === 'EUSAGE') throw new DockerfileError(file, line, error.message);
    throw error;
  }
};

const KEYWORDS = new Set([
  ...Object.keys(INSTRUCTION_FLAGS),
  ...'CMD LABEL MAINTAINER EXPOSE ENV ENTRYPOINT VOLUME USER WORKDIR ARG ONBUILD STOPSIGNAL SHELL'.split(' '),
]);
const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const EXEC_FORM_KEYWORDS = new Set(['RUN', 'CMD', 'ENTRYPOINT', 'SHELL', 'ADD', 'COPY', 'VOLUME']);
const DIRECTIVE_RE = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const KNOWN_DIRECTIVES = new Set(['escape', 'syntax', 'check']);

const trimNewline = (line: string): string => line.replace(/[\r\n]+$/, '');
const trimLeft = (line: string): string => trimSpace(line, 'start');
const isComment = (line: string): boolean => trimLeft(line).startsWith('#');

// Parser directives: only `# key=value` lines before anything else; the first other line ends them.
class Directives {
  escape: '\\' | '`' = '\\';
  syntax?: string;
  private done = false;
  private readonly seen = new Set<string>();

  read(line: string): void {
    if (this.done) return;
    const match = line.startsWith('#') ? DIRECTIVE_RE.exec(trimLeft(line.slice(1))) : null;
    const key = match?.[1].toLowerCase();
    if (!match || !key || !KNOWN_DIRECTIVES.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.has(key)) throw new CliError('EUSAGE', `only one ${key} parser directive can be used`);
    this.seen.add(key);
    if (key === 'syntax') this.syntax = match[2];
    if (key !== 'escape') return;
    if (match[2] !== '\\' && match[2] !== '`') throw new CliError('EUSAGE', `invalid escape token '${match[2]}' does not match \` or \\`);
    this.escape = match[2];
  }

  // The escape character at the end of a line (trailing blanks allowed) continues it, unless it is itself escaped.
  continues(line: string): { text: string; continued: boolean } {
    const e = this.escape === '\\' ? '\\\\' : '`';
    const re = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
    return re.test(line) ? { text: line.replace(re, '$1'), continued: true } : { text: line, continued: false };
  }
}

// Builds one instruction from its joined line: keyword, flags, exec form, ONBUILD's trigger (checked later).
const buildInstruction = (text: string, line: number, escapeToken: string, file: string): Instruction =>
  locateErrors(file, line, () => {
    const { keyword: written, flags: rawFlags, rest } = splitCommand(text, escapeToken);
    const keyword = written.toUpperCase();
    if (!KEYWORDS.has(keyword)) throw new CliError('EUSAGE', `unknown instruction: ${written}`);
    const flags = rawFlags.map((flag) => {
      const eq = flag.indexOf('=');
      return eq < 0 ? { name: flag.slice(2), value: undefined } : { name: flag.slice(2, eq), value: flag.slice(eq + 1) };
    });
    const array = EXEC_FORM_KEYWORDS.has(keyword) ? parseJsonArray(rest) : undefined;
    const ins: Instruction = { keyword, line, text, flags, json: array !== undefined, args: array ?? (rest === '' ? [] : [rest]), heredocs: [] };
    if (keyword === 'ONBUILD' && rest !== '') {
      const trigger = splitCommand(rest, escapeToken).keyword.toUpperCase();
      if (trigger === 'ONBUILD') throw new CliError('EUSAGE', "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (trigger === 'FROM' || trigger === 'MAINTAINER') throw new CliError('EUSAGE', `${trigger} isn't allowed as an ONBUILD trigger`);
      ins.onbuild = buildInstruction(rest, line, escapeToken, file);
    }
    return ins;
  });

// Reads each heredoc body that follows an instruction line, up to its terminator line.
const readHeredocs = (ins: Instruction, lines: string[], at: number, file: string): number => {
  const holder = ins.onbuild ?? ins;
  if (!HEREDOC_KEYWORDS.has(holder.keyword) || holder.json || !ins.text.includes('<<')) return at;
  for (const marker of findHeredocs(ins.text)) {
    let content = '';
    let terminated = false;
    while (at < lines.length) {
      const raw = lines[at++];
      const candidate = marker.chomp ? trimNewline(raw).replace(/^\t+/, '') : trimNewline(raw);
      if (candidate === marker.name) {
        terminated = true;
        break;
      }
      content += raw;
    }
    if (!terminated) throw new DockerfileError(file, ins.line, 'unterminated heredoc');
    holder.heredocs.push({ ...marker, content });
  }
  return at;
};

// A Dockerfile starts (after parser directives, comments and global ARGs) with FROM.
const checkStart = (instructions: Instruction[], file: string, lastLine: number): void => {
  if (instructions.length === 0) throw new DockerfileError(file, lastLine, 'file with no instructions');
  const first = instructions.find((ins) => ins.keyword !== 'ARG');
  if (!first) throw new DockerfileError(file, instructions[0].line, 'dockerfile contains no stages to build');
  if (first.keyword !== 'FROM') throw new DockerfileError(file, first.line, `no build stage in current context (${first.keyword} before the first FROM)`);
};

// Reads instructions line by line; the caller decides what the whole must look like.
const parseLines = (text: string, file: string): { directives: Directives; instructions: Instruction[]; lineCount: number } => {
  const lines = text === '' ? [] : text.replace(/^\uFEFF/, '').split(/(?<=\n)/);
  const directives = new Directives();
  const instructions: Instruction[] = [];
  let at = 0;
  while (at < lines.length) {
    const start = ++at;
    const first = trimLeft(trimNewline(lines[start - 1]));
    locateErrors(file, start, () => directives.read(first));
    if (isComment(first)) continue;
    let { text: joined, continued } = directives.continues(first);
    if (!continued && joined === '') continue;
    while (continued && at < lines.length) {
      const next = trimNewline(lines[at++]);
      if (isComment(next) || trimLeft(next) === '') continue;
      const part = directives.continues(next);
      joined += part.text;
      continued = part.continued;
    }
    const ins = buildInstruction(joined, start, directives.escape, file);
    at = readHeredocs(ins, lines, at, file);
    locateErrors(file, start, () => checkInstruction(ins, directives.escape));
    instructions.push(ins);
  }
  return { directives, instructions, lineCount: lines.length };
};

// Parses a Dockerfile's text; every problem is a DockerfileError naming the file and line.
export const parseDockerfile = (text: string, file = 'Dockerfile'): Dockerfile => {
  const { directives, instructions, lineCount } = parseLines(text, file);
  checkStart(instructions, file, Math.max(lineCount, 1));
  return { file, escape: directives.escape, ...(directives.syntax !== undefined ? { syntax: directives.syntax } : {}), instructions };
};

// Parses one ONBUILD trigger as a base image stores it (a step's text, heredoc bodies included), for the
// build that uses the image: exactly one instruction, never ONBUILD, FROM or MAINTAINER.
export const parseTrigger = (text: string, file = 'ONBUILD'): Instruction => {
  const { instructions } = parseLines(text, file);
  if (instructions.length !== 1) throw new DockerfileError(file, instructions[1]?.line ?? 1, 'an ONBUILD trigger must be a single instruction');
  const [ins] = instructions;
  if (['ONBUILD', 'FROM', 'MAINTAINER'].includes(ins.keyword)) throw new DockerfileError(file, ins.line, `${ins.keyword} isn't allowed as an ONBUILD trigger`);
  return ins;
};
