// The client side of the monitor protocol and the log format, without a monitor.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, parseDetachKeys } from '../../../src/monitor/attach.js';
import { followLog, readLog } from '../../../src/monitor/logs.js';
import { scratchDir } from '../../helpers/scratch.js';

describe('frames', () => {
  it('round-trips frames split at any byte', () => {
    const bytes = Buffer.concat([encodeFrame(1, 'hello'), encodeFrame(2, ''), encodeFrame(3, '137')]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new FrameDecoder();
      const frames = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut))];
      expect(frames.map((f) => [f.type, f.payload.toString()])).toEqual([
        [1, 'hello'],
        [2, ''],
        [3, '137'],
      ]);
    }
  });

  it('parses detach keys', () => {
    expect(parseDetachKeys('ctrl-p,ctrl-q')).toEqual([16, 17]);
    expect(parseDetachKeys('ctrl-a,x')).toEqual([1, 120]);
    expect(parseDetachKeys('')).toEqual([]);
    expect(() => parseDetachKeys('ctrl-')).toThrow(/invalid detach key/);
  });
});

describe('k8s-file logs', () => {
  it('joins partial lines, reads the rotated file first, and tails by lines', () => {
    const dir = scratchDir('skiff-log-');
    const log = join(dir, 'ctr.log');
    writeFileSync(`${log}.1`, '2026-01-01T00:00:00.000000001Z stdout F one\n');
    writeFileSync(
      log,
      '2026-01-01T00:00:01.000000000Z stdout P tw\n2026-01-01T00:00:01.100000000Z stdout F o\n2026-01-01T00:00:02.000000000Z stderr F three\n',
    );
    expect(
      readLog(log)
        .entries.map((e) => e.text)
        .join(''),
    ).toBe('one\ntwo\nthree\n');
    expect(
      readLog(log, { tail: 2 })
        .entries.map((e) => e.text)
        .join(''),
    ).toBe('two\nthree\n');
    expect(readLog(log, { since: Date.parse('2026-01-01T00:00:01.5Z') }).entries.map((e) => [e.stream, e.text])).toEqual([['stderr', 'three\n']]);
  });

  it('leaves a line the monitor is still writing to the follower, which reads it whole', async () => {
    const dir = scratchDir('skiff-log-');
    const log = join(dir, 'ctr.log');
    // The monitor writes a line's head, its text and its newline one after another.
    writeFileSync(log, '2026-01-01T00:00:00.000000001Z stdout F one\n2026-01-01T00:00:01.000000000Z stdout F ');
    const { entries, offset } = readLog(log);
    expect(entries.map((e) => e.text)).toEqual(['one\n']);
    appendFileSync(log, 'two\n');
    const followed: string[] = [];
    for await (const e of followLog(log, offset, () => true)) followed.push(e.text);
    expect(followed).toEqual(['two\n']);
  });
});
