// Podman's value forms in container inspect: signal numbers (StopSignal) and go-units'
// HumanSizeWithPrecision (LogConfig.Size).
import { describe, expect, it } from 'vitest';
import { goHumanSize, signalNumber } from '../../../src/engine/container-inspect.js';

describe('signalNumber', () => {
  it('reads names with and without SIG, numbers, and the realtime ones as Linux numbers them', () => {
    expect(signalNumber('SIGTERM')).toBe(15);
    expect(signalNumber('int')).toBe(2);
    expect(signalNumber('9')).toBe(9);
    expect(signalNumber('SIGRTMIN+3')).toBe(37);
    expect(signalNumber('RTMIN')).toBe(34);
    expect(signalNumber('SIGRTMAX-1')).toBe(63);
    expect(signalNumber('SIGBOGUS')).toBe(0);
  });
});

describe('goHumanSize', () => {
  it('prints decimal units with three significant digits and no space, as Podman', () => {
    expect(goHumanSize(0)).toBe('0B');
    expect(goHumanSize(-1)).toBe('0B');
    expect(goHumanSize(1_000_000)).toBe('1MB');
    expect(goHumanSize(1_048_576)).toBe('1.05MB');
    expect(goHumanSize(10_000_000)).toBe('10MB');
    expect(goHumanSize(512_000)).toBe('512kB');
  });
});
