// `images --filter` and `image prune --filter` (Podman's image filters): dangling, reference, id,
// label, label!, before, since and until; every filter must hold.
import { CliError } from '../errors.js';
import type { ImageConfig } from '../image-format.js';
import { splitTaggedName } from '../image/reference.js';
import type { ImageRecord } from '../storage/image-store.js';
import { parseTime } from '../util/time.js';
import { findImage } from './image-lookup.js';

const globToRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );

// Podman's reference filter: the pattern may name the full name, the repository, or its tail.
const matchesReference = (name: string, pattern: string): boolean => {
  const re = globToRegExp(pattern.includes(':') || pattern.includes('*') ? pattern : `${pattern}:*`);
  const { repository, tag } = splitTaggedName(name);
  const forms = [name, repository];
  const parts = repository.split('/');
  for (let i = 1; i < parts.length; i++) {
    forms.push(`${parts.slice(i).join('/')}:${tag}`, parts.slice(i).join('/'));
  }
  return forms.some((f) => re.test(f));
};

const hasLabel = (labels: Record<string, string>, spec: string): boolean => {
  const eq = spec.indexOf('=');
  return eq < 0 ? Object.hasOwn(labels, spec) : labels[spec.slice(0, eq)] === spec.slice(eq + 1);
};

export interface FilterContext {
  images: ImageRecord[];
  config: (id: string) => ImageConfig;
  now?: number;
}

// Compiles filters into one predicate; a malformed filter fails with what the filters are.
export const imageFilter = (filters: string[], ctx: FilterContext): ((image: ImageRecord) => boolean) => {
  const labels = (i: ImageRecord) => ctx.config(i.id).config?.Labels ?? {};
  const tests = filters.map((filter): ((image: ImageRecord) => boolean) => {
    const [, key, not, value] = /^([a-z]+)(!?)=(.*)$/s.exec(filter) ?? [undefined, filter, '', ''];
    if (not && key !== 'label') throw new CliError('EUSAGE', `invalid filter "${filter}": only label takes !=`);
    switch (key) {
      case 'dangling':
        if (value !== 'true' && value !== 'false') throw new CliError('EUSAGE', `invalid filter "${filter}": dangling takes true or false`);
        return (i) => (i.names.length === 0) === (value === 'true');
      case 'reference':
        if (!value) throw new CliError('EUSAGE', `invalid filter "${filter}": reference needs a pattern`);
        return (i) => i.names.some((n) => matchesReference(n, value));
      case 'id':
        return (i) => i.id.slice(7).startsWith(value.replace(/^sha256:/, ''));
      case 'label':
        if (!value) throw new CliError('EUSAGE', `invalid filter "${filter}": label needs KEY or KEY=VALUE`);
        return (i) => hasLabel(labels(i), value) !== Boolean(not);
      case 'before':
      case 'since': {
        const other = Date.parse(findImage(ctx.images, value).created);
        return key === 'before' ? (i) => Date.parse(i.created) < other : (i) => Date.parse(i.created) > other;
      }
      case 'until': {
        const before = parseTime(value, 'until= filter', ctx.now);
        return (i) => Date.parse(i.created) < before;
      }
      default:
        throw new CliError(
          'EUSAGE',
          `invalid filter "${filter}": supported filters are dangling=true|false, reference=PATTERN, id=ID, label=KEY[=VALUE], label!=KEY[=VALUE], before=IMAGE, since=IMAGE, until=TIME`,
        );
    }
  });
  return (i) => tests.every((t) => t(i));
};
