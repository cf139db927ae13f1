// What becomes of a container whose process has ended: removed (--rm), started again (its restart
// policy, as Docker and Podman read it), or left exited. A pure decision, so every case is tested.
import type { RestartPolicy } from '../state/containers.js';

export interface Ending {
  /** The process's exit code (128 + signal when a signal ended it). */
  exitCode?: number;
  /** `stop`, `kill` or `rm -f` ended it: no policy brings it back. */
  stoppedByUser: boolean;
  /** It never ran: the start itself failed (no policy retries that). */
  startFailed: boolean;
  /** Restarts so far (on-failure:N counts these). */
  restartCount: number;
}

export type AfterExit = 'remove' | 'restart' | 'stay';

export const afterExit = (policy: RestartPolicy, autoRemove: boolean, ending: Ending): AfterExit => {
  if (autoRemove) return 'remove';
  return shouldRestart(policy, ending) ? 'restart' : 'stay';
};

export const shouldRestart = (policy: RestartPolicy, ending: Ending): boolean => {
  if (ending.stoppedByUser || ending.startFailed) return false;
  switch (policy.name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return (ending.exitCode ?? 0) !== 0 && (policy.maxRetries === 0 || ending.restartCount < policy.maxRetries);
    default:
      return false;
  }
};
