// Finding a local image from what a user typed: an id or id prefix, a digest, or a name, where a
// short name ("busybox") also matches the same repository under any registry.
import { CliError } from '../errors.js';
import { parseReference, repositoryName } from '../image/reference.js';
import type { ImageRecord } from '../storage/image-store.js';

const ID_PREFIX_RE = /^(?:sha256:)?[a-f0-9]{3,64}$/;

const noSuchImage = (input: string): CliError => new CliError('ENOIMAGE', `${input}: image not known`);

export interface ImageMatch {
  image: ImageRecord;
  /** The name `input` matched, when it matched by name rather than by id or digest. */
  name?: string;
}

// Matches `input` against `images`; throws ENOIMAGE when nothing (or, for an id prefix, more than one) matches.
export const findImage = (images: ImageRecord[], input: string): ImageRecord => findImageMatch(images, input).image;

export const findImageMatch = (images: ImageRecord[], input: string): ImageMatch => {
  if (ID_PREFIX_RE.test(input)) {
    const hex = input.replace(/^sha256:/, '');
    const byId = images.filter((i) => i.id.slice(7).startsWith(hex));
    if (byId.length === 1) return { image: byId[0] };
    if (byId.length > 1) throw new CliError('ENOIMAGE', `${input}: more than one image has this id prefix; give more digits`);
  }
  let ref: ReturnType<typeof parseReference>;
  try {
    ref = parseReference(input);
  } catch (error) {
    if (ID_PREFIX_RE.test(input)) throw noSuchImage(input);
    throw error;
  }
  const name = repositoryName(ref);
  if (ref.digest) {
    const hit = images.find(
      (i) =>
        i.repoDigests.some((d) => d === `${name}@${ref.digest}`) ||
        (i.digest === ref.digest && (!ref.qualified || i.repoDigests.some((d) => d.startsWith(`${name}@`)))),
    );
    if (hit) return { image: hit };
    if (!ref.qualified) {
      const loose = images.find((i) => i.repoDigests.some((d) => d.endsWith(`@${ref.digest}`)));
      if (loose) return { image: loose };
    }
    throw noSuchImage(input);
  }
  const full = `${name}:${ref.tag}`;
  const exact = images.find((i) => i.names.includes(full));
  if (exact) return { image: exact, name: full };
  if (!ref.qualified) {
    // "busybox" → any registry's ".../busybox:latest" or ".../library/busybox:latest".
    const bare = ref.repository.replace(/^library\//, '');
    const suffixes = [`/${bare}:${ref.tag}`, `/library/${bare}:${ref.tag}`];
    const matchesShort = (n: string) => suffixes.some((s) => n.endsWith(s) && !n.slice(0, n.length - s.length).includes('/'));
    const hits = images.filter((i) => i.names.some(matchesShort));
    if (hits.length === 1) return { image: hits[0], name: hits[0].names.find(matchesShort) };
    if (hits.length > 1) throw new CliError('ENOIMAGE', `${input}: the short name matches images in several registries; use a full name`);
  }
  throw noSuchImage(input);
};
