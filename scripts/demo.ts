// The built-in example: a registry on loopback with a busybox image built from busybox-static,
// then skiff pulls it rootless, runs it as containers (foreground, and detached: it outlives the
// command that started it), and removes everything. No internet registry involved.
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixtures } from '../test/fixtures/images.js';
import { fetchTcp } from '../test/helpers/net.js';
import { buildImage, freePort, pushImage, startRegistry } from '../test/helpers/registry.js';
import { ensureTestUsers, testIds, TEST_USER } from '../test/helpers/user.js';

const skiff = fileURLToPath(new URL('../bin/skiff', import.meta.url));
// Its own store and runtime dir, so the demo never touches your images or containers. Rootless is
// the point: run as root, the demo runs skiff as the unprivileged test user.
const asRoot = process.getuid?.() === 0;
if (asRoot) ensureTestUsers();
const ids = asRoot ? testIds() : undefined;
const dir = mkdtempSync(join(tmpdir(), 'skiff-demo-'));
const root = join(dir, 'store');
const runroot = join(dir, 'run');
mkdirSync(runroot, { mode: 0o700 });
if (ids) for (const p of [dir, runroot]) chownSync(p, ids.uid, ids.gid);
const env = { ...process.env, ...(ids ? { HOME: dir, USER: TEST_USER, XDG_RUNTIME_DIR: runroot } : {}) };
// What an HTTP GET of 127.0.0.1:port answers (the body).
const fetchText = async (port: number): Promise<string> => {
  const text = await fetchTcp(port, 50, 'GET / HTTP/1.0\r\n\r\n');
  return text ? text.slice(text.indexOf('\r\n\r\n') + 4) : '(no answer)\n';
};

const skiffRun = (args: string[], stdio: 'inherit' | 'ignore') =>
  spawnSync(skiff, ['--root', root, '--runroot', runroot, ...args], { stdio, env, cwd: dir, uid: ids?.uid, gid: ids?.gid });
const registry = await startRegistry();
let failed = false;
try {
  const f = await buildFixtures();
  await pushImage(registry.host, 'demo/busybox', 'latest', buildImage([f.base, f.app]));
  const image = `${registry.host}/demo/busybox:latest`;
  const webPort = await freePort();
  const steps = [
    ['pull', image],
    ['images'],
    ['image', 'inspect', '--format', '{{.Id}} {{.Architecture}} {{.RootFS.Layers}}', image],
    ['run', '--rm', '--hostname', 'demo', image, 'sh', '-c', 'echo "hello from a rootless container: $(id) on $(hostname), pid $$"; cat /proc/self/uid_map'],
    ['run', '-d', '--name', 'ticker', image, 'sh', '-c', 'trap "exit 0" TERM; i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.2; done'],
    // The canonical example: a server in a container, published on the host's port.
    [
      'run',
      '-d',
      '--name',
      'web',
      '-p',
      `127.0.0.1:${webPort}:80`,
      image,
      'sh',
      '-c',
      'while :; do printf "HTTP/1.0 200 OK\\r\\n\\r\\nhello from a rootless container\\n" | nc -l -p 80; done',
    ],
    ['ps'],
    ['logs', '--tail', '2', 'ticker'],
    ['exec', 'ticker', 'sh', '-c', 'echo exec sees: $(ls /proc | grep -c "^[0-9]") processes'],
    ['stop', 'ticker'],
    ['ps', '-a'],
    ['rm', '-f', 'ticker', 'web'],
    ['system', 'df'],
    ['rmi', image],
  ];
  for (const args of steps) {
    if (args[0] === 'ps' && args.length === 1) {
      await new Promise((r) => setTimeout(r, 500));
      process.stdout.write(`\n# GET http://127.0.0.1:${webPort}/ from the host, through the published port:\n${await fetchText(webPort)}`);
    }
    process.stdout.write(`\n$ skiff ${args.join(' ')}\n`);
    const result = skiffRun(args, 'inherit');
    if (result.status !== 0) {
      failed = true;
      break;
    }
  }
} finally {
  await registry.stop();
  // Layers hold files of subordinate uids: remove them from inside the user namespace.
  skiffRun(['system', 'reset', '--force'], 'ignore');
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(failed ? '\ndemo failed\n' : '\ndemo finished: skiff pulled an image and ran containers without root, then removed them\n');
process.exitCode = failed ? 1 : 0;
