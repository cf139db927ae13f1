// OCI hooks from hook directories, as Podman injects them (oci-hooks(5)): each *.json file of a
// directory defines one hook (schema 1.0.0, or the older 0.1.0), a file of a later directory
// replaces one of the same name in an earlier one, and the hooks whose `when` matches the container
// go into its runtime spec's `hooks`, in the order of their file names (lower-cased). The runtime
// runs them: createRuntime, createContainer, startContainer and poststart as it creates and starts
// the container, poststop when it deletes it (skiff's clean-up does that once the container ended).
import { closeSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { readBoundedFile } from '../util/bounded-read.js';
import { log } from '../util/log.js';

// Podman's directories, the second overriding the first, when neither --hooks-dir nor
// containers.conf's hooks_dir names others.
export const DEFAULT_HOOKS_DIRS = ['/usr/share/containers/oci/hooks.d', '/etc/containers/oci/hooks.d'];

// A hook file is a few hundred bytes; a directory holds a handful.
export const HOOK_FILE_MAX = 64 * 1024;
export const HOOK_FILES_MAX = 1024;

// A hook as the runtime spec has it.
export interface OciHook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export const HOOK_STAGES = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookStage = (typeof HOOK_STAGES)[number];
export type OciHooks = Partial<Record<Exclude<HookStage, 'prestart'>, OciHook[]>>;

export interface HookDefinition {
  /** The file it came from. */
  file: string;
  hook: OciHook;
  when: {
    always?: boolean;
    annotations?: Record<string, RegExp[]>;
    commands?: RegExp[];
    hasBindMounts?: boolean;
    /** 0.1.0 files: any one condition suffices. */
    or?: boolean;
  };
  stages: string[];
}

// What a hook's `when` is matched against.
export interface HookSubject {
  /** process.args of the spec (args[0] is what `commands` match). */
  args: string[];
  annotations: Record<string, string>;
  /** The caller asked for host directories in the container (-v, --mount). */
  hasBindMounts: boolean;
}

const bad = (file: string, why: string): CliError => new CliError('ECONFIG', `hook file ${file}: ${why}: fix or remove it`);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const strings = (value: unknown, key: string, file: string): string[] => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw bad(file, `${key} must be a list of strings`);
  return value;
};

const regex = (pattern: string, what: string, file: string): RegExp => {
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw bad(file, `invalid ${what} ${JSON.stringify(pattern)}: ${messageOf(error)}`);
  }
};

const parseHook = (value: unknown, file: string): OciHook => {
  if (!isObject(value)) throw bad(file, 'missing required property: hook');
  if (typeof value.path !== 'string' || value.path === '') throw bad(file, 'missing required property: hook.path');
  if (!value.path.startsWith('/')) throw bad(file, `hook.path ${JSON.stringify(value.path)} must be an absolute path`);
  const hook: OciHook = { path: value.path };
  if (value.args !== undefined) hook.args = strings(value.args, 'hook.args', file);
  if (value.env !== undefined) hook.env = strings(value.env, 'hook.env', file);
  if (value.timeout !== undefined) {
    if (typeof value.timeout !== 'number' || !Number.isInteger(value.timeout) || value.timeout <= 0)
      throw bad(file, 'hook.timeout must be a whole number of seconds above 0');
    hook.timeout = value.timeout;
  }
  return hook;
};

// Schema 1.0.0: {version, hook: {path, args, env, timeout}, when: {...}, stages: [...]}.
const parseCurrent = (doc: Record<string, unknown>, file: string): HookDefinition => {
  const when = doc.when === undefined ? {} : doc.when;
  if (!isObject(when)) throw bad(file, '"when" must be an object');
  const def: HookDefinition = { file, hook: parseHook(doc.hook, file), when: {}, stages: [] };
  for (const key of ['always', 'hasBindMounts'] as const)
    if (when[key] !== undefined) {
      if (typeof when[key] !== 'boolean') throw bad(file, `when.${key} must be true or false`);
      def.when[key] = when[key] as boolean;
    }
  if (when.annotations !== undefined) {
    if (!isObject(when.annotations) || !Object.values(when.annotations).every((v) => typeof v === 'string'))
      throw bad(file, 'when.annotations must map patterns to patterns');
    def.when.annotations = Object.fromEntries(
      Object.entries(when.annotations as Record<string, string>).map(([k, v]) => [k, [regex(k, 'annotation key', file), regex(v, 'annotation value', file)]]),
    );
  }
  if (when.commands !== undefined) def.when.commands = strings(when.commands, 'when.commands', file).map((c) => regex(c, 'command', file));
  if (doc.stages === undefined) throw bad(file, 'missing required property: stages');
  def.stages = strings(doc.stages, 'stages', file);
  return def;
};

// Schema 0.1.0 (no version): {hook: PATH, arguments, stage(s), cmd(s), annotation(s), hasbindmounts}.
const parseLegacy = (doc: Record<string, unknown>, file: string): HookDefinition => {
  if (typeof doc.hook !== 'string') throw bad(file, 'missing required property: hook');
  const either = (a: string, b: string): unknown => {
    if (doc[a] !== undefined && doc[b] !== undefined) throw bad(file, `cannot set both '${b}' and '${a}'`);
    return doc[a] ?? doc[b];
  };
  const stages = either('stages', 'stage');
  if (stages === undefined) throw bad(file, 'missing required property: stages');
  const cmds = either('cmds', 'cmd');
  const annotations = either('annotations', 'annotation');
  const hook: OciHook = { path: doc.hook };
  if (!hook.path.startsWith('/')) throw bad(file, `hook ${JSON.stringify(hook.path)} must be an absolute path`);
  if (doc.arguments !== undefined) hook.args = [hook.path, ...strings(doc.arguments, 'arguments', file)];
  const def: HookDefinition = { file, hook, when: { or: true }, stages: strings(stages, 'stages', file) };
  if (cmds !== undefined) def.when.commands = strings(cmds, 'cmds', file).map((c) => regex(c, 'command', file));
  if (annotations !== undefined) def.when.annotations = { '.*': [/.*/, regex(strings(annotations, 'annotations', file).join('|'), 'annotation', file)] };
  if (doc.hasbindmounts !== undefined) {
    if (typeof doc.hasbindmounts !== 'boolean') throw bad(file, 'hasbindmounts must be true or false');
    def.when.hasBindMounts = doc.hasbindmounts;
  }
  return def;
};

// Parses one hook file's text; an invalid one is an error naming the file (as Podman's).
export const parseHookFile = (text: string, file: string): HookDefinition => {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw bad(file, `not valid JSON (${messageOf(error)})`);
  }
  if (!isObject(doc)) throw bad(file, 'not a JSON object');
  const def: HookDefinition | undefined =
    doc.version === '1.0.0' ? parseCurrent(doc, file) : doc.version === undefined || doc.version === '0.1.0' ? parseLegacy(doc, file) : undefined;
  if (!def) throw bad(file, `unrecognized hook version ${JSON.stringify(doc.version)} (1.0.0 or 0.1.0)`);
  if (!existsSync(def.hook.path)) throw bad(file, `its hook ${def.hook.path} does not exist`);
  // precreate is Podman's own stage (a hook rewriting the spec): not one skiff runs.
  for (const stage of def.stages)
    if (!(HOOK_STAGES as readonly string[]).includes(stage))
      throw bad(file, stage === 'precreate' ? 'the precreate stage is not supported by skiff' : `unknown stage ${JSON.stringify(stage)}`);
  return def;
};

// The hook files of `dirs`, a later directory's file replacing an earlier one of the same name,
// in file-name order (lower-cased, as Podman's). Missing directories are no error.
export const readHookDirs = (dirs: string[]): HookDefinition[] => {
  const byName = new Map<string, string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.json'));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new CliError('ECONFIG', `cannot read hooks directory ${dir}: ${messageOf(error)}`, { cause: error });
    }
    if (names.length > HOOK_FILES_MAX)
      throw new CliError('ECONFIG', `hooks directory ${dir} has ${names.length} hook files: at most ${HOOK_FILES_MAX} are read`);
    for (const name of names) byName.set(name, join(dir, name));
  }
  const sorted = [...byName.entries()].sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
  return sorted.map(([, file]) => {
    let text: string;
    try {
      text = readBoundedFile(file, { what: `hook file ${file}`, limit: HOOK_FILE_MAX, code: 'ECONFIG' }).toString('utf8');
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw bad(file, `cannot read it: ${messageOf(error)}`);
    }
    const def = parseHookFile(text, file);
    log.debug(`hooks: read ${file}`);
    return def;
  });
};

// Whether a hook applies (oci-hooks(5)): every condition given holds (for 0.1.0 files, any one);
// `commands`, when given, decides alone.
export const hookMatches = (def: HookDefinition, subject: HookSubject): boolean => {
  const { when } = def;
  let matches = 0;
  const verdict = (holds: boolean): boolean | undefined => {
    if (holds && when.or) return true;
    if (holds) matches++;
    else if (!when.or) return false;
    return undefined;
  };
  const checks: (() => boolean)[] = [];
  if (when.always !== undefined) checks.push(() => when.always === true);
  if (when.hasBindMounts !== undefined) checks.push(() => when.hasBindMounts === true && subject.hasBindMounts);
  for (const [key, value] of Object.values(when.annotations ?? {}))
    checks.push(() => Object.entries(subject.annotations).some(([k, v]) => key.test(k) && value.test(v)));
  for (const check of checks) {
    const decided = verdict(check());
    if (decided !== undefined) return decided;
  }
  if (when.commands?.length) return subject.args.length > 0 && when.commands.some((c) => c.test(subject.args[0]));
  return matches > 0;
};

// The spec's `hooks` for a container: the matching hooks of `defs`, by stage (prestart is the
// runtime spec's createRuntime now). Undefined when none matches.
export const hooksFor = (defs: HookDefinition[], subject: HookSubject): OciHooks | undefined => {
  const hooks: OciHooks = {};
  for (const def of defs) {
    if (!hookMatches(def, subject)) {
      log.debug(`hooks: ${def.file} does not match`);
      continue;
    }
    for (const stage of def.stages) {
      const key = stage === 'prestart' ? 'createRuntime' : (stage as keyof OciHooks);
      (hooks[key] ??= []).push(def.hook);
    }
    log.debug(`hooks: ${def.file} matches: ${def.stages.join(', ')}`);
  }
  return Object.keys(hooks).length ? hooks : undefined;
};

// Hook directories to spec hooks, in one call (run and build containers alike).
export const hooksFromDirs = (dirs: string[], subject: HookSubject): OciHooks | undefined => hooksFor(readHookDirs(dirs), subject);

// Runs hooks the way a runtime does (the state JSON on stdin, the hook's own environment only,
// killed past its timeout); a failing hook is reported and the next one still runs. skiff runs
// the poststop hooks itself, as Podman does: crun reads them from the bundle at its delete, which
// a --rm container's clean-up may have removed by then.
export const runHooks = async (hooks: OciHook[], state: Record<string, unknown>): Promise<void> => {
  const { native } = await import('../util/native.js');
  const { spawnHelper, signalQuietly } = await import('../util/exec.js');
  for (const hook of hooks) {
    const wanted = new Map((hook.env ?? []).map((e) => [e.slice(0, e.indexOf('=') < 0 ? undefined : e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    const env: Record<string, string | undefined> = Object.fromEntries(Object.keys(process.env).map((k) => [k, undefined]));
    for (const [k, v] of wanted) env[k] = v;
    const [inRead, inWrite] = native().pipe();
    let exited: Promise<number>;
    let pid: number;
    try {
      ({ pid, exited } = spawnHelper(hook.path, hook.args?.slice(1) ?? [], [inRead, null, null], { env, cwd: '/' }));
    } catch (error) {
      log.warn(`hook ${hook.path}: ${messageOf(error)}`);
      continue;
    } finally {
      closeSync(inRead);
    }
    const { Socket } = await import('node:net');
    new Socket({ fd: inWrite, readable: false, writable: true }).on('error', () => undefined).end(JSON.stringify(state));
    const timer = hook.timeout ? setTimeout(() => signalQuietly(pid, 'SIGKILL'), hook.timeout * 1000) : undefined;
    const code = await exited;
    clearTimeout(timer);
    if (code !== 0) log.warn(`hook ${hook.path} ${code > 128 ? `was killed by signal ${code - 128}` : `exited with ${code}`}`);
  }
};
