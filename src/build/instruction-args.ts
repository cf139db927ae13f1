// An instruction's arguments and flags split as Docker splits them before any expansion: ENV/LABEL pairs
// (`k=v ...` or the legacy `KEY value`), ARG names, COPY/ADD sources and destination.
import { CliError } from '../errors.js';
import type { Instruction } from './dockerfile.js';
import { parseHeredocWord, parseWords, splitFields } from './dockerfile-syntax.js';

const usage = (message: string): CliError => new CliError('EUSAGE', message);

// One ENV or LABEL pair, before expansion.
export interface KeyValue {
  key: string;
  value: string;
}

// ENV and LABEL: `k=v k2="v 2"`, or the legacy `KEY rest of the line` (one pair; the value is all the rest).
export const splitKeyValues = (ins: Instruction, escapeToken: string): KeyValue[] => {
  const rest = ins.args[0] ?? '';
  const words = parseWords(rest, escapeToken);
  if (words.length === 0) throw usage(`${ins.keyword} requires at least one argument`);
  let pairs: KeyValue[];
  if (!words[0].includes('=')) {
    const gap = /[\t\v\f\r ]+/.exec(rest);
    if (!gap) throw usage(`${ins.keyword} must have two arguments`);
    pairs = [{ key: rest.slice(0, gap.index), value: rest.slice(gap.index + gap[0].length) }];
  } else {
    pairs = words.map((word) => {
      const eq = word.indexOf('=');
      if (eq < 0) throw usage(`Syntax error - can't find = in ${JSON.stringify(word)}. Must be of the form: name=value`);
      return { key: word.slice(0, eq), value: word.slice(eq + 1) };
    });
  }
  if (pairs.some((pair) => pair.key === '')) throw usage(`${ins.keyword} names can not be blank`);
  return pairs;
};

// ARG: `name` or `name=default`, several per line; the names are never expanded.
export const splitArgs = (ins: Instruction, escapeToken: string): { name: string; value?: string }[] => {
  const words = parseWords(ins.args[0] ?? '', escapeToken);
  if (words.length === 0) throw usage('ARG requires at least one argument');
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq === 0) throw usage('ARG names can not be blank');
    return eq < 0 ? { name: word } : { name: word.slice(0, eq), value: word.slice(eq + 1) };
  });
};

// COPY and ADD: the last word is the destination, the others sources (paths, or heredoc markers).
export const splitSources = (ins: Instruction): { sources: string[]; dest: string } => {
  const words = ins.json ? ins.args : splitFields(ins.args[0] ?? '');
  if (words.length < 2) throw usage(`${ins.keyword} requires at least two arguments, but only one was provided. Destination could not be determined`);
  const dest = words[words.length - 1];
  if (parseHeredocWord(dest)) throw usage(`${ins.keyword} cannot accept a heredoc as a destination`);
  return { sources: words.slice(0, -1), dest };
};

const lastFlag = (ins: Instruction, name: string): Instruction['flags'][number] | undefined => ins.flags.filter((flag) => flag.name === name).pop();

// A string flag's value (the last one given), or undefined when absent.
export const readFlag = (ins: Instruction, name: string): string | undefined => lastFlag(ins, name)?.value;

// Every value of a repeatable flag (--mount, --exclude), in order.
export const readFlags = (ins: Instruction, name: string): string[] =>
  ins.flags.filter((flag) => flag.name === name && flag.value !== undefined).map((flag) => flag.value!);

// A boolean flag: `--link` and `--link=true` set it, `--link=false` or no flag leave it unset.
export const isFlagSet = (ins: Instruction, name: string): boolean => {
  const flag = lastFlag(ins, name);
  return flag !== undefined && (flag.value === undefined || flag.value.toLowerCase() === 'true');
};
