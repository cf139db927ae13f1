// Container and network names: the rule a name must follow, and random container names in Docker's
// adjective_noun style ("brave_turing").
import { closeSync, openSync, readSync } from 'node:fs';
import { CliError } from '../errors.js';

// Podman's rule for container (and network) names.
export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

// Docker and Podman set no length, but a name becomes a file name (containers/names/NAME,
// networks/NAME.json, their ".tmp-NAME…-PID-RANDOM" temp siblings; a systemd unit
// container-NAME.service later), and those stop at 255 bytes: 200 leaves room for what skiff adds.
export const NAME_MAX = 200;

// Refuses a name that breaks the rule, in one line that says why.
export const checkName = (kind: 'container' | 'network', name: string): void => {
  if (name.length > NAME_MAX) throw new CliError('EUSAGE', `invalid ${kind} name ${JSON.stringify(`${name.slice(0, 20)}…`)}: it is ${name.length} characters long, at most ${NAME_MAX} are allowed`);
  if (!NAME_RE.test(name)) throw new CliError('EUSAGE', `invalid ${kind} name ${JSON.stringify(name)}: use letters, digits, _ . - (starting with a letter or digit)`);
};

// Whether `name` could be a container's or network's name (lookups of anything else find nothing).
export const isValidName = (name: string): boolean => name.length <= NAME_MAX && NAME_RE.test(name);

// Random bytes straight from the kernel: loading node:crypto costs every command a few ms.
const randomBytes = (n: number): Buffer => {
  const buffer = Buffer.alloc(n);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, buffer);
  } finally {
    closeSync(fd);
  }
  return buffer;
};

const ADJECTIVES = [
  'admiring', 'amazing', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming', 'clever', 'cool', 'dazzling', 'determined',
  'eager', 'ecstatic', 'elegant', 'epic', 'festive', 'focused', 'friendly', 'gallant', 'gifted', 'goofy', 'gracious', 'happy',
  'hopeful', 'jolly', 'keen', 'kind', 'laughing', 'loving', 'lucid', 'magical', 'modest', 'nice', 'nostalgic', 'optimistic',
  'peaceful', 'practical', 'quirky', 'relaxed', 'serene', 'sharp', 'stoic', 'sweet', 'tender', 'trusting', 'upbeat', 'vibrant',
  'wizardly', 'youthful', 'zealous',
];
const NOUNS = [
  'albattani', 'babbage', 'bell', 'bohr', 'curie', 'darwin', 'dijkstra', 'einstein', 'euler', 'fermat', 'feynman', 'galileo',
  'gauss', 'goldberg', 'hamilton', 'hawking', 'hopper', 'hypatia', 'johnson', 'kepler', 'knuth', 'lamarr', 'lovelace', 'mayer',
  'mcclintock', 'meitner', 'morse', 'newton', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'torvalds', 'turing', 'wozniak',
];

export const randomName = (): string => {
  const [a, b] = randomBytes(2);
  return `${ADJECTIVES[a % ADJECTIVES.length]}_${NOUNS[b % NOUNS.length]}`;
};

export const randomId = (): string => randomBytes(32).toString('hex');
