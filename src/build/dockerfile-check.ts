// The checks Docker makes on each instruction before any variable is known: flags, argument counts, exec
// form where it is required, stage names, ONBUILD triggers. Values that may hold variables are checked later.
import { CliError } from '../errors.js';
import type { Instruction } from './dockerfile.js';
import { INSTRUCTION_FLAGS, splitFields, trimSpace } from './dockerfile-syntax.js';
import { parseHealthcheck } from './healthcheck.js';
import { readFlag, readFlags, splitArgs, splitKeyValues, splitSources } from './instruction-args.js';
import { splitMountFields } from './run-mount.js';

const usage = (message: string): CliError => new CliError('EUSAGE', message);

// Stage names: lower case letters, digits, - _ . starting with a letter (checked lower-cased).
const STAGE_NAME_RE = /^[a-z][a-z0-9-_.]*$/;

// Each flag must be one the instruction takes, given once (unless repeatable), with a value of its kind.
const checkFlags = (ins: Instruction): void => {
  const accepted = INSTRUCTION_FLAGS[ins.keyword] ?? {};
  const seen = new Set<string>();
  for (const { name, value } of ins.flags) {
    const kind = Object.hasOwn(accepted, name) ? accepted[name] : undefined;
    if (!kind) throw usage(`unknown flag: --${name}`);
    if (seen.has(name) && kind !== 'strings') throw usage(`duplicate flag specified: --${name}`);
    seen.add(name);
    if (kind === 'bool') {
      if (value === '') throw usage(`missing a value on flag: --${name}`);
      if (value !== undefined && !['true', 'false'].includes(value.toLowerCase())) throw usage(`expecting boolean value for flag --${name}, not: ${value}`);
    } else if (value === undefined) throw usage(`missing a value on flag: --${name}`);
  }
};

// FROM image [AS name]: one or three words, the name valid.
const checkFrom = (ins: Instruction): void => {
  const words = splitFields(ins.args[0] ?? '');
  if (words.length === 3 && words[1].toLowerCase() === 'as') {
    if (!STAGE_NAME_RE.test(words[2].toLowerCase()))
      throw usage(`invalid name for build stage: ${JSON.stringify(words[2])}, name can't start with a number or contain symbols`);
  } else if (words.length !== 1) throw usage('FROM requires either one or three arguments');
};

// RUN: mount keys (values may hold variables), and the network and security modes.
const checkRun = (ins: Instruction): void => {
  for (const spec of readFlags(ins, 'mount')) splitMountFields(spec);
  const network = readFlag(ins, 'network');
  if (network !== undefined && !['default', 'none', 'host'].includes(network)) throw usage(`invalid network mode ${JSON.stringify(network)}`);
  const security = readFlag(ins, 'security');
  if (security !== undefined && !['sandbox', 'insecure'].includes(security)) throw usage(`security ${JSON.stringify(security)} is not valid`);
};

const exactlyOne = (ins: Instruction): void => {
  if (ins.args.length !== 1) throw usage(`${ins.keyword} requires exactly one argument`);
};

const atLeastOne = (ins: Instruction): void => {
  if (ins.args.length === 0) throw usage(`${ins.keyword} requires at least one argument`);
};

// Checks one parsed instruction (an ONBUILD trigger too); throws a usage error saying what is wrong.
export const checkInstruction = (ins: Instruction, escapeToken: string): void => {
  checkFlags(ins);
  switch (ins.keyword) {
    case 'FROM':
      checkFrom(ins);
      return;
    case 'RUN':
      checkRun(ins);
      return;
    case 'SHELL':
      atLeastOne(ins);
      if (!ins.json) throw usage('SHELL requires the arguments to be in JSON form');
      return;
    case 'ENV':
    case 'LABEL':
      splitKeyValues(ins, escapeToken);
      return;
    case 'ARG':
      splitArgs(ins, escapeToken);
      return;
    case 'MAINTAINER':
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
      exactlyOne(ins);
      return;
    case 'EXPOSE':
      atLeastOne(ins);
      return;
    case 'VOLUME':
      atLeastOne(ins);
      if (ins.args.some((path) => trimSpace(path) === '')) throw usage('VOLUME specified can not be an empty string');
      return;
    case 'ADD':
    case 'COPY':
      splitSources(ins);
      return;
    case 'HEALTHCHECK':
      parseHealthcheck(ins);
      return;
    case 'ONBUILD':
      atLeastOne(ins);
      if (ins.onbuild) checkInstruction(ins.onbuild, escapeToken);
      return;
  }
};
