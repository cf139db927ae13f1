// Random container names in Docker's adjective_noun style ("brave_turing"), and random ids. The rule a
// name must follow is in src/util/names.ts.
import { closeSync, openSync, readSync } from 'node:fs';

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
  'admiring',
  'amazing',
  'awesome',
  'blissful',
  'bold',
  'brave',
  'busy',
  'charming',
  'clever',
  'cool',
  'dazzling',
  'determined',
  'eager',
  'ecstatic',
  'elegant',
  'epic',
  'festive',
  'focused',
  'friendly',
  'gallant',
  'gifted',
  'goofy',
  'gracious',
  'happy',
  'hopeful',
  'jolly',
  'keen',
  'kind',
  'laughing',
  'loving',
  'lucid',
  'magical',
  'modest',
  'nice',
  'nostalgic',
  'optimistic',
  'peaceful',
  'practical',
  'quirky',
  'relaxed',
  'serene',
  'sharp',
  'stoic',
  'sweet',
  'tender',
  'trusting',
  'upbeat',
  'vibrant',
  'wizardly',
  'youthful',
  'zealous',
];
const NOUNS = [
  'albattani',
  'babbage',
  'bell',
  'bohr',
  'curie',
  'darwin',
  'dijkstra',
  'einstein',
  'euler',
  'fermat',
  'feynman',
  'galileo',
  'gauss',
  'goldberg',
  'hamilton',
  'hawking',
  'hopper',
  'hypatia',
  'johnson',
  'kepler',
  'knuth',
  'lamarr',
  'lovelace',
  'mayer',
  'mcclintock',
  'meitner',
  'morse',
  'newton',
  'noether',
  'pascal',
  'ritchie',
  'shannon',
  'thompson',
  'torvalds',
  'turing',
  'wozniak',
];

export const randomName = (): string => {
  const [a, b] = randomBytes(2);
  return `${ADJECTIVES[a % ADJECTIVES.length]}_${NOUNS[b % NOUNS.length]}`;
};

export const randomId = (): string => randomBytes(32).toString('hex');
