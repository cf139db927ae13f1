// Pull progress on stderr: bars redrawn in place on a terminal, one plain line per event otherwise
// (so CI logs get "Copying blob ... done", never a spray of carriage returns).
import type { PullEvent } from '../../engine/index.js';
import { humanSize, shortId } from '../../util/units.js';

export interface Progress {
  onEvent(event: PullEvent): void;
  finish(): void;
}

const bar = (received: number, size: number, width = 30): string => {
  const filled = size > 0 ? Math.min(width, Math.round((received / size) * width)) : width;
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
};

export const createPullProgress = (options: { quiet: boolean; tty: boolean }): Progress => {
  const out = process.stderr;
  if (options.quiet) return { onEvent() {}, finish() {} };
  if (!options.tty) {
    return {
      onEvent(event) {
        if (event.type === 'trying') out.write(`Trying to pull ${event.reference}...\n`);
        else if (event.type === 'layer' && event.status === 'exists') out.write(`Copying blob ${shortId(event.digest)} skipped: already exists\n`);
        else if (event.type === 'layer' && event.status === 'done') out.write(`Copying blob ${shortId(event.digest)} done (${humanSize(event.size)})\n`);
        else if (event.type === 'config') out.write(`Copying config ${shortId(event.digest)} done\n`);
        else if (event.type === 'manifest') out.write('Writing manifest to image destination\n');
      },
      finish() {},
    };
  }
  const layers = new Map<string, { received: number; size: number; state: string }>();
  let drawn = 0;
  let last = 0;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let text = drawn ? `\x1b[${drawn}A` : '';
    for (const [digest, l] of layers) {
      const status = l.state === 'downloading' ? `${bar(l.received, l.size)} ${humanSize(l.received)} / ${humanSize(l.size)}` : l.state;
      text += `\x1b[2KCopying blob ${shortId(digest)} ${status}\n`;
    }
    out.write(text);
    drawn = layers.size;
  };
  return {
    onEvent(event) {
      if (event.type === 'trying') out.write(`Trying to pull ${event.reference}...\n`);
      if (event.type !== 'layer') return;
      const state = event.status === 'exists' ? 'skipped: already exists' : event.status === 'done' ? 'done' : 'downloading';
      layers.set(event.digest, { received: event.received ?? event.size, size: event.size, state });
      draw(event.status !== 'downloading');
    },
    finish() {
      draw(true);
    },
  };
};
