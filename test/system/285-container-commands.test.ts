// Podman's container, volume, network and system commands that skiff lacked, against real
// containers as the unprivileged test user: init (the initialized state), mount/unmount (inside
// skiff unshare, counted), container clone, container runlabel, container cleanup by hand,
// generate spec, network reload and unshare --rootless-netns, the prune filters, system df
// --verbose, volume rm --force/--time, and the groups' unknown or missing commands.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { buildHelpers } from '../helpers/build.js';
import { SKIFF, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;
const SLEEPER = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.1; done'];

const sb = useSandbox('ctr-commands', { pull: [IMG] });
const { context } = buildHelpers(sb);

afterEach(async () => {
  await sb.run(['rm', '-a', '-f', '-t', '0', '--depend']);
});

const errorLine = async (args: string[], code = 125): Promise<string> => {
  const r = await sb.run(args);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  return r.stderr.trim();
};

const inspect = async (name: string, template: string): Promise<string> => (await sb.runCli(0, 'inspect', '--format', template, name)).stdout.trim();

const isAlive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');

// Mount points in skiff's rootless mount namespace (its pause process's) under the store.
const storeMounts = (): string[] =>
  readFileSync(`/proc/${sb.pausePid()}/mountinfo`, 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p) => p?.startsWith(join(sb.dataDir, 'containers')));

describe('command groups', () => {
  it('an unknown command of a group fails as Podman says, with --help too; no command prints the help and fails', async () => {
    for (const args of [
      ['image', 'nosuch'],
      ['image', 'nosuch', '--help'],
      ['container', 'nosuch'],
    ]) {
      const r = await sb.run(args);
      expect([r.code, r.stdout], args.join(' ')).toEqual([125, '']);
      const where = `skiff ${args[0]}`;
      expect(r.stderr).toBe(`Error: unrecognized command \`${where} nosuch\`\nTry '${where} --help' for more information\n`);
    }
    const bare = await sb.run(['volume']);
    expect(bare.code).toBe(125);
    expect(bare.stdout).toMatch(/^Usage: skiff volume/);
    expect(bare.stderr).toBe("Error: missing command 'skiff volume COMMAND'\n");
    expect((await sb.runCli(0, 'container', 'ps', '--help')).stdout).toMatch(/^Usage: skiff container ps \[options\]/);
    expect((await sb.runCli(0, 'container', 'list', '--help')).stdout).toMatch(/^Usage: skiff container ls\|list/);
  });

  it('container ps lists as ps does; container exists takes --external', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'listed', IMG, ...SLEEPER);
    expect((await sb.runCli(0, 'container', 'ps', '--format', '{{.Names}}')).stdout).toBe('listed\n');
    expect((await sb.run(['container', 'exists', '--external', 'listed'])).code).toBe(0);
    expect((await sb.run(['container', 'exists', '--external', 'nothere'])).code).toBe(1);
  });
});

describe('init', () => {
  it('makes the container in the runtime without starting its process, until start', async () => {
    await sb.runCli(0, 'create', '--name', 'ready', IMG, 'sh', '-c', 'echo started; while :; do sleep 1; done');
    expect((await sb.runCli(0, 'init', 'ready')).stdout).toBe('ready\n');
    expect(await inspect('ready', '{{.State.Status}}')).toBe('initialized');
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}} {{.Status}}')).stdout).toBe('ready Initialized\n');
    expect((await sb.runCli(0, 'ps', '--format', '{{.Names}}')).stdout).toBe(''); // not running
    // Its process exists (held by the runtime, not yet the command), its monitor runs.
    const [pid, monitor] = (await inspect('ready', '{{.State.Pid}} {{.State.ConmonPid}}')).split(' ').map(Number);
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid) && isAlive(monitor)).toBe(true);
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toMatch(/sleep/);
    expect((await sb.runCli(0, 'logs', 'ready')).stdout).toBe('');
    expect(await errorLine(['init', 'ready'])).toMatch(/container ready has already been created in the runtime \(it is initialized\)/);
    expect(await errorLine(['kill', 'ready'])).toMatch(/can only kill running containers: ready is initialized/);
    expect((await sb.runCli(0, 'start', 'ready')).stdout).toBe('ready\n');
    expect(await inspect('ready', '{{.State.Status}} {{.State.Pid}}')).toBe(`running ${pid}`);
    for (let i = 0; i < 50 && !(await sb.runCli(0, 'logs', 'ready')).stdout; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await sb.runCli(0, 'logs', 'ready')).stdout).toBe('started\n');
    expect(await errorLine(['init', 'ready'])).toMatch(/has already been created in the runtime \(it is running\)/);
  });

  it('stop ends an initialized container at once; rm takes one without --force; --all and --latest', async () => {
    await sb.runCli(0, 'create', '--name', 'i1', IMG, ...SLEEPER);
    await sb.runCli(0, 'init', 'i1');
    const started = Date.now();
    await sb.runCli(0, 'stop', 'i1');
    expect(Date.now() - started).toBeLessThan(5000); // no stop timeout: its process never ran
    expect(await inspect('i1', '{{.State.Status}} {{.State.ExitCode}}')).toBe('exited 137');
    // init again (an exited container can be), then rm without --force: monitor and process go.
    await sb.runCli(0, 'init', 'i1');
    const [pid, monitor] = (await inspect('i1', '{{.State.Pid}} {{.State.ConmonPid}}')).split(' ').map(Number);
    await sb.runCli(0, 'rm', 'i1');
    expect(isAlive(pid) || isAlive(monitor)).toBe(false);
    // --all leaves a running one as it is; --latest is the newest.
    await sb.runCli(0, 'run', '-d', '--name', 'up', IMG, ...SLEEPER);
    await sb.runCli(0, 'create', '--name', 'i2', IMG, ...SLEEPER);
    const all = (await sb.runCli(0, 'init', '--all')).stdout.trim().split('\n');
    expect(all).toHaveLength(2);
    expect((await sb.runCli(0, 'ps', '-a', '--sort', 'names', '--format', '{{.Names}} {{.State}}')).stdout).toBe('i2 initialized\nup running\n');
    await sb.runCli(0, 'create', '--name', 'i3', IMG, ...SLEEPER);
    expect((await sb.runCli(0, 'container', 'init', '--latest')).stdout).toMatch(/^[a-f0-9]{64}\n$/);
    expect(await inspect('i3', '{{.State.Status}}')).toBe('initialized');
    expect(await errorLine(['init'])).toMatch(/name at least one container, or use --all/);
  });
});

describe('mount and unmount', () => {
  it('are refused outside skiff unshare, as rootless Podman refuses them', async () => {
    await sb.runCli(0, 'create', '--name', 'm0', IMG, 'true');
    expect(await errorLine(['mount', 'm0'])).toBe(
      'Error: cannot run command "skiff mount" in rootless mode, must execute `skiff unshare` first (the mounts are in its namespace)',
    );
    expect(storeMounts()).toEqual([]);
  });

  it("mount the root in skiff's namespace, counted; unmount lets go of the user's mounts only; rm takes them", async () => {
    const id = (await sb.runCli(0, 'create', '--name', 'm1', IMG, ...SLEEPER)).stdout.trim();
    const path = (await sb.runCli(0, 'unshare', SKIFF, 'mount', 'm1')).stdout.trim();
    expect(path).toBe(join(sb.dataDir, 'containers', id, 'merged'));
    expect((await sb.runCli(0, 'unshare', 'ls', `${path}/bin`)).stdout).toMatch(/busybox/);
    expect(storeMounts()).toEqual([path]);
    // The list (no names): ID and path; json; --no-trunc.
    expect((await sb.runCli(0, 'unshare', SKIFF, 'mount')).stdout).toBe(`${id.slice(0, 12)}  ${path}\n`);
    expect((await sb.runCli(0, 'unshare', SKIFF, 'container', 'mount', '--no-trunc')).stdout).toBe(`${id}  ${path}\n`);
    expect(JSON.parse((await sb.runCli(0, 'unshare', SKIFF, 'mount', '--format', 'json')).stdout)).toEqual([{ id, Names: ['m1'], mountpoint: path }]);
    expect((await sb.run(['unshare', SKIFF, 'mount', '--format', '{{.ID}}'])).stderr).toMatch(/unknown --format argument/);
    // A start and a stop in between keep the user's mount.
    await sb.runCli(0, 'unshare', SKIFF, 'mount', 'm1');
    await sb.runCli(0, 'start', 'm1');
    await sb.runCli(0, 'stop', '-t', '0', 'm1');
    expect(storeMounts()).toEqual([path]);
    expect((await sb.runCli(0, 'unmount', 'm1')).stdout).toBe(`${id}\n`);
    expect(storeMounts()).toEqual([path]); // one of two let go
    expect((await sb.runCli(0, 'container', 'umount', 'm1')).stdout).toBe(`${id}\n`);
    expect(storeMounts()).toEqual([]);
    expect(await errorLine(['unmount', 'm1'])).toBe('Error: container m1 is not mounted (by skiff mount)');
    // A running container's own mount is never the user's to take.
    await sb.runCli(0, 'start', 'm1');
    expect(await errorLine(['unmount', 'm1'])).toMatch(/not mounted \(by skiff mount\)/);
    expect((await sb.runCli(0, 'exec', 'm1', 'ls', '/bin')).stdout).toMatch(/busybox/);
    expect((await sb.runCli(0, 'unshare', SKIFF, 'mount')).stdout).toBe(`${id.slice(0, 12)}  ${path}\n`); // listed: mounted for its run
    // --force lets go of all the user's mounts at once; --all of every container's.
    for (let i = 0; i < 3; i++) await sb.runCli(0, 'unshare', SKIFF, 'mount', 'm1');
    expect((await sb.runCli(0, 'unmount', '--force', 'm1')).stdout).toBe(`${id}\n`);
    expect(storeMounts()).toEqual([path]); // its run's
    await sb.runCli(0, 'stop', '-t', '0', 'm1');
    expect(storeMounts()).toEqual([]);
    await sb.runCli(0, 'create', '--name', 'm2', IMG, 'true');
    await sb.runCli(0, 'unshare', SKIFF, 'mount', '--all');
    expect(storeMounts()).toHaveLength(2);
    expect((await sb.runCli(0, 'unmount', '--all')).stdout.trim().split('\n')).toHaveLength(2);
    expect(storeMounts()).toEqual([]);
    // rm (-f or not) of a mounted container leaves no mount behind.
    await sb.runCli(0, 'unshare', SKIFF, 'mount', 'm1');
    await sb.runCli(0, 'unshare', SKIFF, 'mount', 'm1');
    await sb.runCli(0, 'rm', '-f', 'm1');
    expect(storeMounts()).toEqual([]);
    expect(readdirSync(join(sb.dir, 'run', 'skiff', 'mounts')).filter((f) => f.startsWith(id))).toEqual([]);
  });
});

describe('container clone', () => {
  it('copies the configuration with a new name, hostname, addresses and anonymous volumes', async () => {
    await sb.runCli(0, 'network', 'create', 'clonenet');
    const original = (
      await sb.runCli(
        0,
        'create',
        '--name',
        'orig',
        '-e',
        'KEPT=yes',
        '-v',
        'shared:/data',
        '-v',
        '/anon',
        '--network',
        'clonenet',
        '--network-alias',
        'web',
        IMG,
        ...SLEEPER,
      )
    ).stdout.trim();
    const clone = (await sb.runCli(0, 'container', 'clone', 'orig')).stdout.trim();
    expect(clone).toMatch(/^[a-f0-9]{64}$/);
    expect((await sb.runCli(0, 'container', 'clone', 'orig')).stdout).toMatch(/^[a-f0-9]{64}\n$/);
    await sb.runCli(0, 'container', 'clone', 'orig', 'named');
    expect((await sb.runCli(0, 'ps', '-a', '--sort', 'names', '--format', '{{.Names}}')).stdout).toBe('named\norig\norig-clone\norig-clone1\n');
    expect(await inspect('orig-clone', '{{.Config.Hostname}}')).toBe(clone.slice(0, 12));
    await sb.runCli(0, 'start', 'orig', 'orig-clone');
    const env = (await sb.runCli(0, 'exec', 'orig-clone', 'sh', '-c', 'echo $KEPT $HOSTNAME')).stdout;
    expect(env).toBe(`yes ${clone.slice(0, 12)}\n`);
    const net = JSON.parse((await sb.runCli(0, 'network', 'inspect', 'clonenet')).stdout)[0].containers;
    expect(net[clone].aliases).toEqual(['web']);
    expect(net[clone].interfaces.eth0.subnets[0].ipnet).not.toBe(net[original].interfaces.eth0.subnets[0].ipnet);
    // The named volume is shared; the anonymous one is the clone's own.
    await sb.runCli(0, 'exec', 'orig', 'sh', '-c', 'echo from-orig > /data/f; echo anon > /anon/f');
    expect((await sb.runCli(0, 'exec', 'orig-clone', 'sh', '-c', 'read x < /data/f; echo $x; ls /anon')).stdout).toBe('from-orig\n');
    const binds = (await inspect('orig', '{{.HostConfig.Binds}}')) + (await inspect('orig-clone', '{{.HostConfig.Binds}}'));
    expect(new Set(binds.match(/[a-f0-9]{64}:\/anon/g))).toHaveProperty('size', 2);
  });

  it('--destroy, --force, --run, an image argument; refusals make nothing', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'src', IMG, ...SLEEPER);
    const count = async () => (await sb.runCli(0, 'ps', '-a', '-q')).stdout.trim().split('\n').length;
    expect(await errorLine(['container', 'clone', '--destroy', 'src'])).toBe(
      'Error: cannot destroy container src: it is running; stop it first or use --force',
    );
    expect(await errorLine(['container', 'clone', '--force', 'src'])).toBe('Error: cannot set --force without --destroy');
    expect(await errorLine(['container', 'clone', '--pod', 'p', 'src'])).toBe('Error: --pod p: skiff has no pods; clone without --pod');
    // A limit the host cannot enforce fails as create's does, before anything is made.
    expect(await errorLine(['container', 'clone', '--memory', '64m', 'src'])).toMatch(/--memory/);
    expect(await errorLine(['container', 'clone', '--memory', 'lots', 'src'])).toMatch(/invalid.*lots|lots/);
    expect(await count()).toBe(1);
    const moved = (await sb.runCli(0, 'container', 'clone', '--destroy', '--force', '--run', 'src', 'dest', IMG)).stdout.trim();
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.ID}} {{.Names}} {{.State}}', '--no-trunc')).stdout).toBe(`${moved} dest running\n`);
    expect(await errorLine(['container', 'clone', 'nosuch'])).toBe('Error: no such container: nosuch');
  });
});

describe('container runlabel', () => {
  it("runs a label's command with NAME, IMAGE and $PWD put in; --display, --name, --replace, its exit code", async () => {
    const dir = context('labelled', {
      Containerfile: [
        `FROM ${IMG}`,
        // (\\$: the build leaves them for runlabel.)
        `LABEL RUN="podman run -d --name NAME -e WHO=NAME IMAGE sh -c 'echo \\$NAME from \\$IMAGE; sleep 30'"`,
        'LABEL install="sh -c \'echo installing \\$IMAGE as \\$NAME in \\$PWD \\${HOME}x; exit 3\'"',
      ].join('\n'),
    });
    await sb.runCli(0, 'build', '-q', '-t', 'localhost/labelled', dir);
    const display = await sb.runCli(0, 'container', 'runlabel', '--display', 'run', 'localhost/labelled');
    expect(display.stdout).toBe(
      'command: skiff run -d --name labelled -e WHO=labelled localhost/labelled:latest sh -c echo labelled from localhost/labelled:latest; sleep 30\n',
    );
    expect((await sb.runCli(0, 'ps', '-a', '-q')).stdout).toBe('');
    const run = await sb.runCli(0, 'container', 'runlabel', 'RUN', 'localhost/labelled');
    expect(run.stdout).toMatch(/^[a-f0-9]{64}\n$/);
    for (let i = 0; i < 50 && !(await sb.runCli(0, 'logs', 'labelled')).stdout; i++) await new Promise((r) => setTimeout(r, 100));
    expect((await sb.runCli(0, 'logs', 'labelled')).stdout).toBe('labelled from localhost/labelled:latest\n');
    // The name taken: the label's run fails (its exit code is skiff's), unless --replace.
    expect((await sb.run(['container', 'runlabel', 'RUN', 'localhost/labelled'])).code).toBe(125);
    const replaced = (await sb.runCli(0, 'container', 'runlabel', '--replace', '-q', 'RUN', 'localhost/labelled')).stdout;
    expect(replaced).toBe(''); // --quiet: the command's output goes nowhere
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).toBe('labelled\n');
    await sb.runCli(0, 'container', 'runlabel', '-n', 'other', 'run', 'localhost/labelled');
    expect((await sb.runCli(0, 'ps', '-a', '--sort', 'names', '--format', '{{.Names}}')).stdout).toBe('labelled\nother\n');
    // $PWD is the caller's directory; other variables are empty; arguments are appended.
    const install = await sb.run(['container', 'runlabel', 'install', 'localhost/labelled', 'extra']);
    expect([install.code, install.stdout]).toEqual([3, `installing localhost/labelled:latest as labelled in ${sb.home} x\n`]);
    expect(await errorLine(['container', 'runlabel', 'nolabel', 'localhost/labelled'])).toBe(
      'Error: cannot find the value of label: nolabel in image: localhost/labelled',
    );
    expect(await errorLine(['container', 'runlabel', '--cert-dir', '/tmp', 'run', 'localhost/labelled'])).toMatch(/--cert-dir is not supported/);
  });
});

describe('container cleanup by hand', () => {
  it('--rm removes an exited container, --rmi its image; a running one stays; --exec is refused', async () => {
    const dir = context('tagged', { Containerfile: `FROM ${IMG}\nLABEL only=me\n` });
    await sb.runCli(0, 'build', '-q', '-t', 'localhost/cleanme', dir);
    await sb.runCli(0, 'run', '--name', 'done', 'localhost/cleanme', 'sh', '-c', 'exit 0');
    expect((await sb.runCli(0, 'container', 'cleanup', 'done')).stdout).toBe('done\n');
    expect(await inspect('done', '{{.State.Status}}')).toBe('exited');
    expect((await sb.runCli(0, 'container', 'cleanup', '--rm', '--rmi', 'done')).stdout).toBe('done\n');
    expect((await sb.run(['container', 'exists', 'done'])).code).toBe(1);
    expect((await sb.run(['image', 'exists', 'localhost/cleanme'])).code).toBe(1);
    await sb.runCli(0, 'run', '-d', '--name', 'busy', IMG, ...SLEEPER);
    expect(await errorLine(['container', 'cleanup', '--rm', 'busy'])).toMatch(/cannot remove container busy: it is running/);
    expect(await inspect('busy', '{{.State.Status}}')).toBe('running');
    expect(await errorLine(['container', 'cleanup', '--exec', 'abc', 'busy'])).toMatch(/no exec session with id abc: skiff keeps no exec sessions/);
    expect((await sb.runCli(0, 'container', 'cleanup', '--latest')).stdout).toMatch(/^[a-f0-9]{64}\n$/);
  });
});

describe('generate spec', () => {
  it("prints the container's configuration as Podman's SpecGenerator JSON", async () => {
    const id = (
      await sb.runCli(
        0,
        'create',
        '--name',
        'spec',
        '-e',
        'A=1',
        '-p',
        '18185:80',
        '-v',
        'specvol:/data',
        '--restart',
        'on-failure:3',
        '--label',
        'k=v',
        IMG,
        'sleep',
        '9',
      )
    ).stdout.trim();
    const spec = JSON.parse((await sb.runCli(0, 'generate', 'spec', 'spec')).stdout);
    expect(spec).toMatchObject({
      name: 'spec-clone',
      command: ['sleep', '9'],
      labels: { k: 'v' },
      restart_policy: 'on-failure',
      restart_tries: 3,
      stop_signal: 15,
      hostname: id.slice(0, 12),
      volumes: [{ Name: 'specvol', Dest: '/data', Options: [], IsAnonymous: false }],
      portmappings: [{ host_ip: '', container_port: 80, host_port: 18185, range: 1, protocol: 'tcp' }],
      netns: { nsmode: 'bridge' },
      utsns: { nsmode: 'private' },
      init_container_type: '',
      use_image_hosts: false,
    });
    expect(spec.env.A).toBe('1');
    expect(spec.image).toBe((await inspect('spec', '{{.Image}}')).replace(/^sha256:/, ''));
    const compact = (await sb.runCli(0, 'generate', 'spec', '--compact', '--name=false', 'spec')).stdout;
    expect(compact).toMatch(/^\{"name":"spec",[^\n]*\}\n$/);
    const file = join(sb.home, 'spec.json');
    expect((await sb.runCli(0, 'generate', 'spec', '-f', file, 'spec')).stdout).toBe(`${file}\n`);
    expect(JSON.parse(readFileSync(file, 'utf8')).name).toBe('spec-clone');
    expect(await errorLine(['generate', 'spec', 'nosuch'])).toBe('Error: no such container: nosuch');
  });
});

describe('named networks: reload and the rootless netns', () => {
  it("network reload sets a container's veth up again; unshare --rootless-netns is that namespace", async () => {
    await sb.runCli(0, 'network', 'create', '--subnet', '10.89.91.0/24', 'reloadnet');
    const id = (await sb.runCli(0, 'run', '-d', '--name', 'onnet', '--network', 'reloadnet', IMG, ...SLEEPER)).stdout.trim();
    await sb.runCli(0, 'run', '-d', '--name', 'pastaed', '--network', 'pasta', IMG, ...SLEEPER);
    const links = async () => (await sb.runCli(0, 'unshare', '--rootless-netns', 'ip', '-o', 'link')).stdout;
    const bridge = JSON.parse((await sb.runCli(0, 'network', 'inspect', 'reloadnet')).stdout)[0].network_interface as string;
    const veth = `vs${bridge.replace('skiff', '')}-${id.slice(0, 8)}`;
    expect(await links()).toContain(`${veth}@`);
    // Gone (a firewall reset, a crash): the container is off its network until the reload.
    await sb.runCli(0, 'unshare', '--rootless-netns', 'ip', 'link', 'del', veth);
    // (The interfaces of the container's network namespace, from /proc/net/dev.)
    const ifaces = async () =>
      (await sb.runCli(0, 'exec', 'onnet', 'sh', '-c', 'while read l; do echo ${l%%:*}; done < /proc/net/dev')).stdout.trim().split('\n').slice(2).sort();
    expect(await ifaces()).toEqual(['lo']);
    expect((await sb.runCli(0, 'network', 'reload', 'onnet')).stdout).toBe(`${id}\n`);
    expect(await links()).toContain(`${veth}@`);
    expect(await ifaces()).toEqual(['eth0', 'lo']);
    const trie = (await sb.runCli(0, 'exec', 'onnet', 'sh', '-c', 'while read l; do echo $l; done < /proc/net/fib_trie')).stdout;
    expect(trie).toContain('10.89.91.2');
    // Not on a named network: refused, unless --all (which skips it).
    expect(await errorLine(['network', 'reload', 'pastaed'])).toMatch(/cannot reload the network of pastaed: it uses --network pasta/);
    expect((await sb.runCli(0, 'network', 'reload', '--all')).stdout).toBe(`${id}\n`);
    expect(await errorLine(['network', 'reload', '--latest'])).toMatch(/pastaed: it uses --network pasta/); // the newest
    expect((await sb.run(['unshare', '--rootless-netns', 'nosuchcommand'])).code).toBe(127);
  });
});

describe('prune filters, df --verbose, volumes', () => {
  it('network prune and system prune --filter take only what matches', async () => {
    await sb.runCli(0, 'network', 'create', '--label', 'keep=yes', 'kept');
    await sb.runCli(0, 'network', 'create', '--label', 'keep=no', 'dropped');
    await sb.runCli(0, 'network', 'create', 'stray');
    expect((await sb.runCli(0, 'network', 'prune', '--filter', 'label=keep=no')).stdout).toBe('dropped\n');
    expect(await errorLine(['network', 'prune', '--filter', 'color=red'])).toBe(
      'Error: invalid filter "color=red": network prune takes until=, label= and label!=',
    );
    await sb.runCli(0, 'create', '--name', 'old', '--label', 'tier=x', IMG, 'true');
    await sb.runCli(0, 'create', '--name', 'new', IMG, 'true');
    const pruned = await sb.runCli(0, 'system', 'prune', '-f', '--filter', 'label=tier=x');
    expect(pruned.stdout).toMatch(/^Deleted Containers\n[a-f0-9]{64}\nTotal reclaimed space: /);
    expect((await sb.runCli(0, 'ps', '-a', '--format', '{{.Names}}')).stdout).toBe('new\n');
    const networks = async () => (await sb.runCli(0, 'network', 'ls', '--format', '{{.Name}}')).stdout.trim().split('\n');
    expect(await networks()).toContain('kept');
    expect(await networks()).not.toContain('dropped');
    const unlabelled = await sb.runCli(0, 'system', 'prune', '-f', '--filter', 'label!=keep=yes');
    expect(unlabelled.stdout).toMatch(/^Deleted Containers\n[a-f0-9]{64}\n(.*\n)*Deleted Networks\n/);
    // (The default network stays, as Podman's: its containers' creates made it.)
    expect(await networks()).toEqual(['kept', 'podman']);
    expect(await errorLine(['system', 'prune', '-f', '--filter', 'until=soon'])).toMatch(/invalid until= filter "soon"/);
  });

  it("system df --verbose prints Podman's three tables", async () => {
    await sb.runCli(0, 'run', '--name', 'writer', '-v', 'dfvol:/v', IMG, 'sh', '-c', 'echo data > /v/f; echo x > /file');
    const out = (await sb.runCli(0, 'system', 'df', '--verbose')).stdout;
    const [images, containers, volumes] = out.split(/\n(?=Containers space usage:|Local Volumes space usage:)/);
    expect(images).toMatch(/^Images space usage:\n\nREPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s+SHARED SIZE\s+UNIQUE SIZE\s+CONTAINERS\n/);
    const busybox = `${plain}/skiff/busybox`.replace(/[.]/g, '\\.');
    expect(images).toMatch(new RegExp(`^${busybox}\\s+latest\\s+[a-f0-9]{12}\\s.*\\s1$`, 'm'));
    expect(containers).toMatch(
      /Containers space usage:\n\nCONTAINER ID\s+IMAGE\s+COMMAND\s+LOCAL VOLUMES\s+SIZE\s+CREATED\s+STATUS\s+NAMES\n[a-f0-9]{12}\s+[a-f0-9]{12}\s+sh -c .*\s1\s+\d.*exited\s+writer/,
    );
    expect(volumes).toMatch(/^Local Volumes space usage:\n\nVOLUME NAME\s+LINKS\s+SIZE\n/);
    expect(volumes).toMatch(/^dfvol\s+1\s+5 B$/m);
    const summary = JSON.parse((await sb.runCli(0, 'system', 'df', '--format', 'json')).stdout);
    expect(summary[1]).toMatchObject({ Type: 'Containers', Total: 1, Active: 0 });
    expect(summary[1].RawSize).toBeGreaterThan(0); // its writable layer
  });

  it('volume ls --noheading, volume reload, volume rm --force --time', async () => {
    await sb.runCli(0, 'volume', 'create', 'v1');
    const listed = (await sb.runCli(0, 'volume', 'ls', '--noheading')).stdout;
    expect(listed).toMatch(/^local {7}v1$/m);
    expect(listed).not.toMatch(/DRIVER/);
    expect((await sb.runCli(0, 'volume', 'reload')).stdout).toBe('');
    // A container that ignores TERM: --time 1 kills it after a second; both go.
    await sb.runCli(0, 'run', '-d', '--name', 'user1', '-v', 'v1:/v', IMG, 'sh', '-c', 'trap "" TERM; while :; do sleep 0.1; done');
    await sb.runCli(0, 'create', '--name', 'user2', '-v', 'v1:/v', IMG, 'true');
    expect(await errorLine(['volume', 'rm', 'v1'], 2)).toBe('Error: volume v1 is used by containers user1, user2: remove them first, or use --force');
    const started = Date.now();
    expect((await sb.runCli(0, 'volume', 'rm', '--force', '--time', '1', 'v1')).stdout).toBe('v1\n');
    expect(Date.now() - started).toBeGreaterThan(900);
    expect((await sb.runCli(0, 'ps', '-a', '-q')).stdout).toBe('');
    expect((await sb.run(['volume', 'exists', 'v1'])).code).toBe(1);
    expect(await errorLine(['volume', 'rm', '--time', 'x', 'v1'])).toMatch(/invalid --time "x"/);
  });
});

describe('diff and stats --latest', () => {
  it('act on the newest container', async () => {
    await sb.runCli(0, 'run', '--name', 'older', IMG, 'sh', '-c', 'echo a > /a');
    await sb.runCli(0, 'run', '--name', 'newer', IMG, 'sh', '-c', 'echo b > /b');
    const diff = (await sb.runCli(0, 'diff', '--latest')).stdout;
    expect(diff).toMatch(/^A \/b$/m);
    expect(diff).not.toMatch(/^A \/a$/m);
    expect(await errorLine(['diff', '-l', 'older'])).toMatch(/--latest takes no container name/);
    // (No cgroup for the test user on this host: stats names the newest container's lack of one.)
    await sb.runCli(0, 'start', 'newer');
    await sb.runCli(0, 'run', '-d', '--name', 'newest', IMG, ...SLEEPER);
    const stats = await sb.run(['stats', '--no-stream', '--latest', '--no-trunc']);
    if (stats.code === 0) expect(stats.stdout).toMatch(new RegExp(`\\n${await inspect('newest', '{{.Id}}')}\\s+newest\\s`));
    else expect(stats.stderr).toMatch(/newest has no cgroup of its own/);
    expect(await errorLine(['stats', '--no-stream', '--latest', '--all'])).toMatch(/--all and --latest cannot be used together/);
  });
});
