// skiff-monitor's command line as the tests that drive it directly give it: container `cid`, the
// runtime `runtime` with its state under DIR/state, the bundle DIR/bundle, and every file it writes
// in DIR (pid, ctr.log, exit, attach, monitor.pid); sync on fd 3, go on fd 4.
import { join } from 'node:path';

export const monitorArgs = (cid: string, runtime: string, dir: string): string[] => [
  ...['--cid', cid, '--runtime', runtime, '--runtime-arg', '--root', '--runtime-arg', join(dir, 'state')],
  ...['--bundle', join(dir, 'bundle'), '--pid-file', join(dir, 'pid'), '--log-path', join(dir, 'ctr.log')],
  ...['--exit-file', join(dir, 'exit'), '--socket-path', join(dir, 'attach'), '--monitor-pid-file', join(dir, 'monitor.pid')],
  ...['--sync-fd', '3', '--go-fd', '4'],
];
