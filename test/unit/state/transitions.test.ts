// Every state change of a container, from the states it can come from.
import { describe, expect, it } from 'vitest';
import type { ContainerState } from '../../../src/state/containers.js';
import { transition } from '../../../src/state/transitions.js';

const created: ContainerState = { status: 'created', restartCount: 0 };
const at = '2026-12-07T00:00:00.000Z';
const later = '2026-12-07T00:01:00.000Z';

describe('container state transitions', () => {
  it('goes created → launching → running → started, forgetting an earlier run', () => {
    const old: ContainerState = { ...created, status: 'exited', exitCode: 3, finishedAt: at, error: 'old', stoppedByUser: true, restartCount: 2 };
    const launching = transition(old, { kind: 'launching', monitorPid: 10, monitorStartTime: '1' });
    expect(launching).toMatchObject({ status: 'exited', launching: true, monitorPid: 10, pid: 0 });
    const running = transition(launching, { kind: 'running', pid: 11, pidStartTime: '2', monitorPid: 10, monitorStartTime: '1', launching: true, at });
    expect(running).toEqual({
      status: 'running',
      pid: 11,
      pidStartTime: '2',
      monitorPid: 10,
      monitorStartTime: '1',
      launching: true,
      monitorLost: undefined,
      startedAt: at,
      stoppedByUser: false,
      exitCode: undefined,
      finishedAt: undefined,
      error: undefined,
      restartCount: 2,
    });
    expect(transition(running, { kind: 'started' }).launching).toBeUndefined();
    expect(transition(launching, { kind: 'running', pid: 11, monitorPid: 10, launching: false, at }).launching).toBeUndefined();
  });

  it("ends as exited, or stays created with the failure's code when it never ran", () => {
    const running: ContainerState = {
      status: 'running',
      pid: 11,
      monitorPid: 10,
      launching: true,
      monitorLost: true,
      startedAt: at,
      exitCode: 137,
      restartCount: 0,
    };
    expect(transition(running, { kind: 'ended', neverRan: false, at: later })).toMatchObject({
      status: 'exited',
      pid: 0,
      exitCode: 137,
      finishedAt: later,
      launching: undefined,
      monitorLost: undefined,
      error: undefined,
    });
    // The exit file's time, when the monitor wrote one, wins over the time of the clean-up.
    expect(transition({ ...running, finishedAt: at }, { kind: 'ended', neverRan: false, at: later }).finishedAt).toBe(at);
    expect(transition(running, { kind: 'ended', neverRan: true, error: 'no such file', errorCode: 127, at })).toMatchObject({
      status: 'created',
      exitCode: 127,
      error: 'no such file',
    });
    expect(transition(running, { kind: 'ended', neverRan: true, error: 'failed', at }).exitCode).toBe(125);
  });

  it("marks a user's stop, counts restarts, and takes what the files say", () => {
    const running: ContainerState = { status: 'running', pid: 11, restartCount: 1 };
    expect(transition(running, { kind: 'stopped-by-user' })).toEqual({ ...running, stoppedByUser: true });
    expect(transition(running, { kind: 'stopped-by-user', stopping: true })).toEqual({ ...running, stoppedByUser: true, status: 'stopping' });
    expect(transition(running, { kind: 'restarting' }).restartCount).toBe(2);
    const observed: ContainerState = { status: 'running', pid: 12, restartCount: 1, monitorLost: true };
    expect(transition(running, { kind: 'observed', state: observed })).toBe(observed);
  });
});

describe('the initialized state (init)', () => {
  it('records the created process and its monitor, forgetting an earlier run; a start then runs it', () => {
    const old: ContainerState = { status: 'exited', exitCode: 3, finishedAt: at, error: 'old', stoppedByUser: true, restartCount: 1 };
    const launching = transition(old, { kind: 'launching', monitorPid: 10, monitorStartTime: '1' });
    const initialized = transition(launching, { kind: 'initialized', pid: 11, pidStartTime: '2', monitorPid: 10, monitorStartTime: '1' });
    expect(initialized).toEqual({
      status: 'initialized',
      pid: 11,
      pidStartTime: '2',
      monitorPid: 10,
      monitorStartTime: '1',
      launching: undefined,
      monitorLost: undefined,
      stoppedByUser: false,
      exitCode: undefined,
      finishedAt: undefined,
      error: undefined,
      restartCount: 1,
    });
    const running = transition(initialized, {
      kind: 'running',
      pid: 11,
      pidStartTime: '2',
      monitorPid: 10,
      monitorStartTime: '1',
      launching: false,
      at: later,
    });
    expect(running).toMatchObject({ status: 'running', pid: 11, startedAt: later, launching: undefined });
    expect(transition(initialized, { kind: 'ended', neverRan: false, at })).toMatchObject({ status: 'exited', pid: 0 });
  });
});
