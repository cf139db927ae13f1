// The limits of the host, named from a failure's text (a runtime's error line, a system call's
// message) with their values as this process reads them, and a system call's error turned into
// skiff's one line (engine/limit-errors.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { explainLimit } from '../../../src/engine/limit-errors.js';
import { CliError } from '../../../src/errors.js';
import { limitHint } from '../../../src/rootless/host-limits.js';

const nofile = readFileSync('/proc/self/limits', 'utf8')
  .split('\n')
  .find((l) => l.startsWith('Max open files'))!
  .slice(26)
  .trim()
  .split(/\s+/);

describe('limitHint', () => {
  it('names the open-files limit with its values, and the system-wide table apart', () => {
    expect(limitHint('pipe: Too many open files')).toBe(
      `the open-files limit is reached (RLIMIT_NOFILE ${nofile[0]}, hard limit ${nofile[1]}): raise it (ulimit -n; LimitNOFILE= in a systemd unit; nofile in /etc/security/limits.conf)`,
    );
    expect(limitHint('open /x: Too many open files in system')).toMatch(
      /^the system's open-file table is full \(fs\.file-max=\d+\): raise it with sysctl as root$/,
    );
  });

  it("names the processes limits when the runtime's fork or clone fails with EAGAIN", () => {
    for (const line of [
      'clone: Resource temporarily unavailable',
      'runc create failed: unable to start container process: error during container init: fork/exec /proc/self/exe: resource temporarily unavailable',
      'fork: Resource temporarily unavailable',
    ])
      expect(limitHint(line), line).toMatch(/RLIMIT_NPROC .*ulimit -u.*kernel\.threads-max=\d+, kernel\.pid_max=\d+/);
  });

  it('names the per-user namespace counts when a namespace cannot be made; a full disk is not one', () => {
    expect(limitHint('unshare: No space left on device')).toMatch(/user\.max_\*_namespaces: user \d+, mnt \d+, pid \d+, net \d+, ipc \d+, uts \d+, cgroup \d+/);
    expect(limitHint('write /var/lib/x: No space left on device')).toBeUndefined();
    expect(limitHint('the image was not found')).toBeUndefined();
  });
});

describe('explainLimit', () => {
  it("adds the hint to a system call's error, or to skiff's error that wraps one, keeping its exit code", () => {
    const spawn = Object.assign(new Error('spawn crun EAGAIN'), { code: 'EAGAIN', syscall: 'spawn crun' });
    const explained = explainLimit(spawn) as CliError;
    expect(explained).toBeInstanceOf(CliError);
    expect(explained.code).toBe('ELIMIT');
    expect(explained.message).toMatch(/^spawn crun EAGAIN: no more processes can start: /);
    const open = Object.assign(new Error("EMFILE: too many open files, open '/x'"), { code: 'EMFILE', syscall: 'open' });
    const wrapped = new CliError('ESTATE', 'cannot record the container', { cause: open, exitCode: 126 });
    const out = explainLimit(wrapped) as CliError;
    expect(out.message).toMatch(/^cannot record the container: the open-files limit is reached \(RLIMIT_NOFILE /);
    expect(out.exitCode).toBe(126);
  });

  it('leaves every other error as it is', () => {
    const plain = new CliError('ESTATE', 'no such container: x');
    expect(explainLimit(plain)).toBe(plain);
    const enoent = Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' });
    expect(explainLimit(enoent)).toBe(enoent);
    // A runtime's line (its hint is added where it is read) is a CliError without a system cause.
    const runtime = new CliError('EHELPER', 'clone: Resource temporarily unavailable: no more processes can start: ...');
    expect(explainLimit(runtime)).toBe(runtime);
  });
});
