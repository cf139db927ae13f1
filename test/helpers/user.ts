// The unprivileged accounts system tests (and benchmarks) run skiff as, when run as root (as CI is).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const TEST_USER = 'skifftest';
// An account with no /etc/subuid or /etc/subgid range.
export const NO_SUBID_USER = 'skiffnosub';

const ensureUser = (name: string): void => {
  try {
    execFileSync('id', [name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name]);
  }
};

// Creates both accounts, gives TEST_USER a subordinate range and NO_SUBID_USER none. Root only.
export const ensureTestUsers = (): void => {
  ensureUser(TEST_USER);
  ensureUser(NO_SUBID_USER);
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    const lines = (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').filter((l) => l && !l.startsWith(`${NO_SUBID_USER}:`));
    if (!lines.some((l) => l.startsWith(`${TEST_USER}:`))) lines.push(`${TEST_USER}:300000:65536`);
    writeFileSync(file, `${lines.join('\n')}\n`);
  }
};

// The uid and gid to run as: TEST_USER when root, else whoever runs.
export const testIds = (user = TEST_USER): { uid: number; gid: number } => {
  if (process.getuid?.() !== 0) return { uid: process.getuid!(), gid: process.getgid!() };
  return { uid: Number(execFileSync('id', ['-u', user]).toString()), gid: Number(execFileSync('id', ['-g', user]).toString()) };
};
