// skiff-restart.service: the user unit that starts, when the user's manager starts (at boot, with
// lingering), the containers whose restart policy asks for it: `always` ones, and `unless-stopped`
// ones the user did not stop. skiff writes it (and its default.target.wants link) the first time a
// container gets such a policy, where systemd runs the machine; Podman ships podman-restart.service
// for the same, to be enabled by hand.
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { systemdCommand as command } from './units.js';

export const RESTART_UNIT = 'skiff-restart.service';

export const restartUnitText = (skiff: string, dataDir: string, runDir: string): string =>
  [
    `# ${RESTART_UNIT}: written by skiff when a container got --restart=always or unless-stopped.`,
    '# Starts those containers when your user manager starts (at boot, with `loginctl enable-linger`).',
    '[Unit]',
    'Description=skiff: start containers with a restart policy',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    // (The stores named: the manager's environment may differ from the shell's. Each line may fail
    // — one broken container — without keeping the next from running.)
    `ExecStart=-${command([skiff, '--root', dataDir, '--runroot', runDir, 'start', '--all', '--filter', 'restart-policy=always'])}`,
    `ExecStart=-${command([skiff, '--root', dataDir, '--runroot', runDir, 'start', '--all', '--filter', 'restart-policy=unless-stopped', '--filter', 'stopped-by-user=false'])}`,
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');

// Writes the unit and enables it (the wants link) under `configHome`/systemd/user, unless both are
// there already; a file there that skiff did not write is left alone. Returns whether it wrote.
export const ensureRestartUnit = (configHome: string, skiff: string, dataDir: string, runDir: string): boolean => {
  const dir = join(configHome, 'systemd', 'user');
  const file = join(dir, RESTART_UNIT);
  const wants = join(dir, 'default.target.wants', RESTART_UNIT);
  const text = restartUnitText(skiff, dataDir, runDir);
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== undefined && !current.startsWith(`# ${RESTART_UNIT}: written by skiff`)) return false;
  const linked = (() => {
    try {
      return lstatSync(wants).isSymbolicLink();
    } catch {
      return false;
    }
  })();
  if (current === text && linked) return false;
  if (current !== text) writeFileAtomic(file, text, 0o644);
  if (!linked && !existsSync(wants)) {
    mkdirSync(join(dir, 'default.target.wants'), { recursive: true });
    symlinkSync(`../${RESTART_UNIT}`, wants);
  }
  return true;
};
