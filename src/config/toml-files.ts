// Reading the containers-* TOML files a Podman user already has (registries.conf, containers.conf
// and their drop-in directories): bounded, parsed only when they set something, errors naming the file.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CliError, messageOf } from '../errors.js';
import { readBoundedFile } from '../util/bounded-read.js';
import { CONFIG_FILE_MAX } from '../util/limits.js';

export type TomlDoc = Record<string, unknown>;

// Drop-in directories hold a handful of files; more than this is not a configuration.
export const DROP_IN_MAX = 256;

// A file's text, or undefined when there is none (a missing optional file is no error).
const readText = (file: string, required: boolean): string | undefined => {
  try {
    return readBoundedFile(file, { what: `config file ${file}`, limit: CONFIG_FILE_MAX, code: 'ECONFIG' }).toString('utf8');
  } catch (error) {
    if (error instanceof CliError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (!required && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
    throw new CliError('ECONFIG', `cannot read ${file}: ${messageOf(error)}`, { cause: error });
  }
};

// Distribution files are mostly comments: without multi-line strings (where a "#" line would be
// text) the comment and blank lines go before parsing, and a file of bare [section] headers sets
// nothing, so the TOML parser is not even loaded for it.
const settingsOf = (text: string): string | undefined => {
  if (text.includes('"""') || text.includes("'''")) return text;
  const lines = text.split('\n').filter((l) => !/^\s*(#|$)/.test(l));
  return lines.every((l) => /^\s*\[[^\]]*\]\s*(#.*)?$/.test(l)) ? undefined : lines.join('\n');
};

// The TOML parser's module: its own bundle beside skiff's (scripts/build.mjs defines the path),
// the package itself when skiff runs from its sources (tests).
declare const SKIFF_TOML_MODULE: string | undefined;
let parse: ((text: string) => unknown) | undefined;
const tomlParser = (): ((text: string) => unknown) => {
  parse ??= (createRequire(import.meta.url)(typeof SKIFF_TOML_MODULE === 'string' ? SKIFF_TOML_MODULE : 'smol-toml') as typeof import('smol-toml')).parse;
  return parse;
};

// Parses a TOML file; undefined when it is missing (unless required) or sets nothing. Synchronous:
// Podman's files are read the first time a value of theirs is needed (config.ts configLoader).
export const readTomlFile = (file: string, required = false): TomlDoc | undefined => {
  const text = readText(file, required);
  const settings = text === undefined ? undefined : settingsOf(text);
  if (settings === undefined) return undefined;
  const parse = tomlParser();
  try {
    return parse(settings) as TomlDoc;
  } catch (error) {
    throw new CliError('ECONFIG', `${file} is not valid TOML: ${messageOf(error).split('\n')[0]}`);
  }
};

// The *.conf files of a drop-in directory, in name order (none when it is missing).
export const dropInFiles = (dir: string): string[] => {
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.isDirectory() && e.name.endsWith('.conf'))
      .map((e) => e.name);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new CliError('ECONFIG', `cannot read ${dir}: ${messageOf(error)}`, { cause: error });
  }
  if (names.length > DROP_IN_MAX) throw new CliError('ECONFIG', `${dir} has ${names.length} files: at most ${DROP_IN_MAX} drop-in files are read`);
  return names.sort().map((n) => join(dir, n));
};

export const isTable = (value: unknown): value is TomlDoc => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);

// A value's checks, naming the file and the key: "FILE: containers.dns_servers must be a list of strings".
export const expectString = (value: unknown, key: string, file: string): string => {
  if (typeof value !== 'string') throw new CliError('ECONFIG', `${file}: ${key} must be a string`);
  return value;
};

export const expectStrings = (value: unknown, key: string, file: string): string[] => {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new CliError('ECONFIG', `${file}: ${key} must be a list of strings`);
  return value;
};

export const expectBool = (value: unknown, key: string, file: string): boolean => {
  if (typeof value !== 'boolean') throw new CliError('ECONFIG', `${file}: ${key} must be true or false`);
  return value;
};

export const expectInteger = (value: unknown, key: string, file: string): number => {
  const n = typeof value === 'bigint' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new CliError('ECONFIG', `${file}: ${key} must be a whole number`);
  return n;
};
