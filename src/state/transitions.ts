// A container's state changes, all in one place: each event the engine records (a start under way,
// the process running, a user's stop, the end, a restart) and the state it leads to. Pure, so
// the rules are tested without containers; ContainerStore.transition writes the result.
import type { ContainerState } from './containers.js';

export type Transition =
  /** A start under way: its monitor is launched and about to get its go (see effectiveState). */
  | { kind: 'launching'; monitorPid: number; monitorStartTime?: string }
  /** The monitor reported the container's process; `launching` while the CLI still starts it itself. */
  | { kind: 'running'; pid: number; pidStartTime?: string; monitorPid: number; monitorStartTime?: string; launching: boolean; at: string }
  /** `init`: the monitor made the container's process in the runtime, which has not started it. */
  | { kind: 'initialized'; pid: number; pidStartTime?: string; monitorPid: number; monitorStartTime?: string }
  /** The CLI's own start of a created container went through. */
  | { kind: 'started' }
  /** stop, kill (TERM, KILL) or rm -f: the restart policy no longer applies; `stopping` while stop waits. */
  | { kind: 'stopped-by-user'; stopping?: boolean }
  /** Its process ended (or its start failed: `error`, and it stays created with that code). */
  | { kind: 'ended'; neverRan: boolean; error?: string; errorCode?: number; at: string }
  /** The restart policy starts it again. */
  | { kind: 'restarting' }
  /** What the monitor's and the runtime's files say, after a command that would have recorded it was killed. */
  | { kind: 'observed'; state: ContainerState };

export const transition = (state: ContainerState, t: Transition): ContainerState => {
  switch (t.kind) {
    case 'launching':
      return {
        ...state,
        launching: true,
        monitorPid: t.monitorPid,
        monitorStartTime: t.monitorStartTime,
        pid: 0,
        pidStartTime: undefined,
        monitorLost: undefined,
      };
    case 'running':
      return {
        ...state,
        status: 'running',
        pid: t.pid,
        pidStartTime: t.pidStartTime,
        monitorPid: t.monitorPid,
        monitorStartTime: t.monitorStartTime,
        launching: t.launching ? true : undefined,
        monitorLost: undefined,
        startedAt: t.at,
        stoppedByUser: false,
        exitCode: undefined,
        finishedAt: undefined,
        error: undefined,
      };
    case 'initialized':
      return {
        ...state,
        status: 'initialized',
        pid: t.pid,
        pidStartTime: t.pidStartTime,
        monitorPid: t.monitorPid,
        monitorStartTime: t.monitorStartTime,
        launching: undefined,
        monitorLost: undefined,
        stoppedByUser: false,
        exitCode: undefined,
        finishedAt: undefined,
        error: undefined,
      };
    case 'started':
      return { ...state, launching: undefined };
    case 'stopped-by-user':
      return { ...state, stoppedByUser: true, ...(t.stopping ? { status: 'stopping' as const } : {}) };
    case 'ended':
      return {
        ...state,
        launching: undefined,
        monitorLost: undefined,
        status: t.neverRan ? 'created' : 'exited',
        pid: 0,
        finishedAt: state.finishedAt ?? t.at,
        error: t.error,
        ...(t.error !== undefined ? { exitCode: t.errorCode ?? 125 } : {}),
      };
    case 'restarting':
      return { ...state, restartCount: state.restartCount + 1 };
    case 'observed':
      return t.state;
  }
};
