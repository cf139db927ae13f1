// `container inspect` as Podman 4.3 prints it: every key of its document in its order (top level,
// State, Config, HostConfig, NetworkSettings, GraphDriver, Mounts), its value types (StopSignal a
// number, Entrypoint a string) and real values from the container: capabilities from the spec
// skiff wrote, the cgroup it runs in, the healthcheck's result, the log's driver and options, the
// limits, the /etc files' host paths, the image's digest, the exec sessions that run.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { until, useSandbox } from '../helpers/cli.js';

const plain = inject('plainRegistry');
const IMG = `${plain}/skiff/busybox`;

const sb = useSandbox('inspect-parity', { pull: [IMG] });

afterEach(async () => {
  await sb.run(['rm', '-a', '-f', '-t', '0']);
});

// biome-ignore lint/suspicious/noExplicitAny: inspect's document is read key by key.
const inspect = async (name: string, ...flags: string[]): Promise<any> => JSON.parse((await sb.runCli(0, 'container', 'inspect', ...flags, name)).stdout)[0];
const format = async (name: string, template: string): Promise<string> => (await sb.runCli(0, 'inspect', '--format', template, name)).stdout;

// Podman 4.3's keys, in its order (podman --runtime runc inspect of a running container with a
// healthcheck, and of a created one with --init, -p and --size; its omitempty keys only when set).
const TOP = (
  'Id Created Path Args State Image ImageDigest ImageName Rootfs Pod ResolvConfPath HostnamePath HostsPath ' +
  'StaticDir OCIConfigPath OCIRuntime ConmonPidFile PidFile Name RestartCount Driver MountLabel ProcessLabel ' +
  'AppArmorProfile EffectiveCaps BoundingCaps ExecIDs GraphDriver SizeRw SizeRootFs Mounts Dependencies ' +
  'NetworkSettings Namespace IsInfra IsService Config HostConfig'
).split(' ');
const STATE = (
  'OciVersion Status Running Paused Restarting OOMKilled Dead Pid ConmonPid ExitCode Error StartedAt FinishedAt ' +
  'Health CgroupPath CheckpointedAt RestoredAt'
).split(' ');
const CONFIG = (
  'Hostname Domainname User AttachStdin AttachStdout AttachStderr Tty OpenStdin StdinOnce Env Cmd Image Volumes ' +
  'WorkingDir Entrypoint OnBuild Labels Annotations StopSignal Healthcheck HealthcheckOnFailureAction ' +
  'CreateCommand Timezone Umask Timeout StopTimeout Passwd sdNotifyMode'
).split(' ');
const HOST_CONFIG = (
  'Binds CgroupManager CgroupMode ContainerIDFile LogConfig NetworkMode PortBindings RestartPolicy AutoRemove ' +
  'VolumeDriver VolumesFrom CapAdd CapDrop Dns DnsOptions DnsSearch ExtraHosts GroupAdd IpcMode Cgroup Cgroups ' +
  'Links OomScoreAdj PidMode Privileged PublishAllPorts ReadonlyRootfs SecurityOpt Tmpfs UTSMode UsernsMode ' +
  'IDMappings ShmSize Runtime ConsoleSize Isolation CpuShares Memory NanoCpus CgroupParent BlkioWeight BlkioWeightDevice ' +
  'BlkioDeviceReadBps BlkioDeviceWriteBps BlkioDeviceReadIOps BlkioDeviceWriteIOps CpuPeriod CpuQuota ' +
  'CpuRealtimePeriod CpuRealtimeRuntime CpusetCpus CpusetMems Devices DiskQuota KernelMemory MemoryReservation ' +
  'MemorySwap MemorySwappiness OomKillDisable Init PidsLimit Ulimits CpuCount CpuPercent IOMaximumIOps ' +
  'IOMaximumBandwidth CgroupConf'
).split(' ');
const NETWORK_SETTINGS = (
  'EndpointID Gateway IPAddress IPPrefixLen IPv6Gateway GlobalIPv6Address GlobalIPv6PrefixLen MacAddress Bridge ' +
  'SandboxID HairpinMode LinkLocalIPv6Address LinkLocalIPv6PrefixLen Ports SandboxKey Networks'
).split(' ');
const MOUNT = 'Type Source Destination Driver Mode Options RW Propagation'.split(' ');
const LOG_CONFIG = 'Type Config Path Tag Size'.split(' ');

// `keys` in the order `podman` lists them, those that are there.
const inOrder = (keys: string[], podman: string[]): void => {
  expect(keys.filter((k) => !podman.includes(k))).toEqual([]);
  expect(keys).toEqual(podman.filter((k) => keys.includes(k)));
};

const specOf = (id: string) => JSON.parse(readFileSync(join(sb.dataDir, 'containers', id, 'bundle', 'config.json'), 'utf8'));

describe('container inspect as Podman 4.3', () => {
  it("a running container: Podman's keys in order, its types, and values from the spec, cgroup, healthcheck, log and /etc files", async () => {
    const flags = '--cap-drop NET_RAW --stop-signal SIGINT --log-opt max-size=1m --health-cmd true --health-interval 1s --tmpfs /scratch';
    const run = await sb.run([
      'run',
      '-d',
      '--name',
      'full',
      ...flags.split(' '),
      '--entrypoint',
      '/bin/sh',
      IMG,
      '-c',
      'trap "exit 0" INT; while :; do sleep 0.1; done',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const id = run.stdout.trim();
    await until(async () => (await inspect('full')).State.Health.Status === 'healthy', 15_000);
    const doc = await inspect('full', '--size');
    inOrder(Object.keys(doc), TOP);
    expect(Object.keys(doc)).toEqual(
      expect.arrayContaining(['ImageDigest', 'HostsPath', 'ResolvConfPath', 'HostnamePath', 'GraphDriver', 'ExecIDs', 'SizeRw', 'SizeRootFs']),
    );
    inOrder(Object.keys(doc.State), STATE);
    inOrder(Object.keys(doc.Config), CONFIG);
    inOrder(Object.keys(doc.HostConfig), HOST_CONFIG);
    inOrder(Object.keys(doc.NetworkSettings), NETWORK_SETTINGS);
    expect(Object.keys(doc.HostConfig.LogConfig)).toEqual(LOG_CONFIG);
    expect(Object.keys(doc.GraphDriver)).toEqual(['Name', 'Data']);
    // Every key Podman always prints is there (omitempty ones aside).
    for (const key of ['OCIConfigPath', 'ConmonPid', 'CgroupPath']) expect(doc.State[key] ?? doc[key], key).toBeDefined();
    for (const key of HOST_CONFIG.filter((k) => k !== 'Init' && k !== 'IDMappings')) expect(key in doc.HostConfig, key).toBe(true);

    // Types and values as Podman's.
    expect(doc.Config.StopSignal).toBe(2);
    expect(doc.Config.Entrypoint).toBe('/bin/sh');
    expect(doc.Config.Cmd).toEqual(['-c', 'trap "exit 0" INT; while :; do sleep 0.1; done']);
    expect(doc.Config.Volumes).toBeNull();
    expect(doc.Config.Umask).toBe('0022');
    expect(doc.Config.HealthcheckOnFailureAction).toBe('none');
    expect(doc.Config.Healthcheck).toEqual({ Test: ['CMD-SHELL', 'true'], Interval: 1e9, Timeout: 30e9, Retries: 3 });
    expect(doc.HostConfig.Runtime).toBe('oci');
    expect(doc.HostConfig.RestartPolicy).toEqual({ Name: '', MaximumRetryCount: 0 });

    // Capabilities: the spec's sets; CapDrop against runtime-tools' default set, as Podman's.
    const spec = specOf(id);
    expect(doc.BoundingCaps).toEqual(spec.process.capabilities.bounding);
    expect(doc.EffectiveCaps).toEqual(spec.process.capabilities.effective);
    expect(doc.BoundingCaps).not.toContain('CAP_NET_RAW');
    expect(doc.BoundingCaps).toContain('CAP_CHOWN');
    expect(doc.HostConfig.CapDrop).toEqual(expect.arrayContaining(['CAP_NET_RAW']));
    expect(doc.HostConfig.CapDrop).toEqual([...doc.HostConfig.CapDrop].sort());
    expect(doc.HostConfig.CapAdd).toEqual([]);
    expect(doc.State.OciVersion).toBe(spec.ociVersion);
    expect(doc.Config.Annotations).toEqual(spec.annotations ?? {});
    expect(doc.HostConfig.Ulimits).toEqual(
      spec.process.rlimits.map((r: { type: string; soft: number; hard: number }) => ({ Name: r.type, Soft: r.soft, Hard: r.hard })),
    );
    expect(doc.OCIConfigPath).toBe(join(sb.dataDir, 'containers', id, 'bundle', 'config.json'));

    // The cgroup its process is in, as /proc says (the cgroup v2 path).
    const line = readFileSync(`/proc/${doc.State.Pid}/cgroup`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'))!;
    expect(doc.State.CgroupPath).toBe(line.slice(3));
    expect(doc.State.ConmonPid).toBeGreaterThan(0);
    // The monitor's and the runtime's pid files, each with its pid.
    expect(readFileSync(doc.ConmonPidFile, 'utf8').trim()).toBe(String(doc.State.ConmonPid));
    expect(readFileSync(doc.PidFile, 'utf8').trim()).toBe(String(doc.State.Pid));

    // The healthcheck's result.
    expect(doc.State.Health.Status).toBe('healthy');
    expect(doc.State.Health.FailingStreak).toBe(0);
    expect(doc.State.Health.Log[0]).toMatchObject({ ExitCode: 0, Output: '' });

    // The log: its driver, file and the max-size it rotates at (Podman's "1MB").
    expect(doc.HostConfig.LogConfig).toEqual({
      Type: 'k8s-file',
      Config: null,
      Path: join(sb.dataDir, 'containers', id, 'userdata', 'ctr.log'),
      Tag: '',
      Size: '1MB',
    });

    // The /etc files' host paths, each the file the container sees.
    expect(readFileSync(doc.HostnamePath, 'utf8')).toBe(`${doc.Config.Hostname}\n`);
    expect((await sb.runCli(0, 'exec', 'full', 'sh', '-c', 'read l < /etc/hostname; echo $l')).stdout).toBe(`${doc.Config.Hostname}\n`);
    expect(readFileSync(doc.HostsPath, 'utf8')).toMatch(new RegExp(doc.Config.Hostname));
    expect(readFileSync(doc.ResolvConfPath, 'utf8')).toMatch(/nameserver/);

    // The image's digest, the graph driver and sizes.
    const digest = (await sb.runCli(0, 'image', 'inspect', '--format', '{{.Digest}}', IMG)).stdout.trim();
    expect(doc.ImageDigest).toBe(digest);
    expect(doc.ImageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(doc.GraphDriver.Name).toBe(doc.Driver);
    expect(typeof doc.SizeRw).toBe('number');
    expect(doc.SizeRootFs).toBeGreaterThan(doc.SizeRw);
    expect(doc.HostConfig.Tmpfs).toEqual({ '/scratch': 'rw,noexec,nosuid,nodev' });

    // --format templates walk the same document.
    expect(await format('full', '{{.Config.StopSignal}} {{.Config.Entrypoint}} {{.HostConfig.LogConfig.Size}} {{.State.Health.Status}}')).toBe(
      '2 /bin/sh 1MB healthy\n',
    );
    expect(await format('full', '{{.State.OciVersion}}')).toBe(`${spec.ociVersion}\n`);
  });

  it('lists the exec sessions that run, and none after', async () => {
    await sb.runCli(0, 'run', '-d', '--name', 'execs', IMG, 'sh', '-c', 'sleep 120');
    expect((await inspect('execs')).ExecIDs).toEqual([]);
    const exec = sb.spawn(['exec', 'execs', 'sh', '-c', 'sleep 3']);
    const done = new Promise((resolve) => exec.on('exit', resolve));
    let ids: string[] = [];
    await until(async () => {
      ids = (await inspect('execs')).ExecIDs;
      return ids.length === 1;
    });
    expect(ids[0]).toMatch(/^[0-9a-f]+$/);
    await done;
    expect((await inspect('execs')).ExecIDs).toEqual([]);
  });

  it('a created container: no pid, cgroup or /etc files yet; caps, stop signal, log tag, binds, ports as Podman', async () => {
    await sb.runCli(0, 'volume', 'create', 'pvol');
    const flags = (
      '--cap-add SYS_ADMIN --cap-drop MKNOD --stop-signal SIGRTMIN+3 --log-opt tag=mytag -v pvol:/data -p 18337:80 --expose 8080 ' +
      '--umask 0027 --read-only --tmpfs /run/x:size=1m --restart on-failure:3 --init -u 1000:1000 --ulimit nofile=100:200'
    ).split(' ');
    const cidfile = join(sb.home, 'made.cid');
    const create = await sb.run([
      'create',
      '--name',
      'made',
      '--cidfile',
      cidfile,
      '-v',
      `${sb.home}:/mnt/h:ro`,
      ...flags,
      '--entrypoint',
      '["/bin/sh","-c"]',
      IMG,
      'sleep 1; echo hi',
    ]);
    expect(create.code, create.stderr).toBe(0);
    const doc = await inspect('made');
    inOrder(Object.keys(doc), TOP);
    inOrder(Object.keys(doc.State), STATE);
    inOrder(Object.keys(doc.Config), CONFIG);
    inOrder(Object.keys(doc.HostConfig), HOST_CONFIG);
    expect(doc.State).toMatchObject({ Status: 'created', Pid: 0, Health: { Status: '', FailingStreak: 0, Log: null } });
    expect('ConmonPid' in doc.State).toBe(false);
    expect('CgroupPath' in doc.State).toBe(false);
    expect([doc.HostsPath, doc.ResolvConfPath, doc.HostnamePath]).toEqual(['', '', '']);
    expect(doc.Config.StopSignal).toBe(37);
    expect(doc.Config.Entrypoint).toBe('/bin/sh -c');
    expect(doc.Config.Cmd).toEqual(['sleep 1; echo hi']);
    expect(doc.Config.Umask).toBe('0027');
    expect(doc.HostConfig.Init).toBe(true);
    expect(doc.HostConfig.ContainerIDFile).toBe(cidfile);
    expect(readFileSync(cidfile, 'utf8')).toBe(doc.Id);
    expect(doc.HostConfig.ReadonlyRootfs).toBe(true);
    expect(doc.HostConfig.Tmpfs).toEqual({
      '/run': 'rw,nosuid,nodev',
      '/run/x': 'size=1m,rw,noexec,nosuid,nodev',
      '/tmp': 'rw,nosuid,nodev',
      '/var/tmp': 'rw,nosuid,nodev',
    });
    expect(doc.HostConfig.CapAdd).toEqual(['CAP_SYS_ADMIN']);
    expect(doc.HostConfig.CapDrop).toContain('CAP_MKNOD');
    expect(doc.BoundingCaps).toContain('CAP_SYS_ADMIN');
    expect(doc.BoundingCaps).not.toContain('CAP_MKNOD');
    expect(doc.HostConfig.LogConfig.Tag).toBe('mytag');
    expect(doc.HostConfig.RestartPolicy).toEqual({ Name: 'on-failure', MaximumRetryCount: 3 });
    expect(doc.HostConfig.Binds).toEqual([`${sb.home}:/mnt/h:ro,rprivate,rbind`, expect.stringMatching(/^pvol:\/data:rw,rprivate,(.+,)?rbind$/)]);
    expect(doc.Mounts[0]).toMatchObject({ Type: 'bind', Source: sb.home, Destination: '/mnt/h', Options: ['rbind'], RW: false, Propagation: 'rprivate' });
    inOrder(Object.keys(doc.Mounts[0]), MOUNT);
    expect(doc.Mounts[1]).toMatchObject({ Type: 'volume', Name: 'pvol', Destination: '/data', Driver: 'local', RW: true });
    expect(doc.Mounts[1].Options.at(-1)).toBe('rbind');
    expect(doc.HostConfig.PortBindings['8080/tcp']).toBeNull();
    expect(doc.NetworkSettings.Ports['80/tcp']).toEqual([{ HostIp: expect.any(String), HostPort: '18337' }]);
    expect(doc.NetworkSettings.Ports['8080/tcp']).toBeNull();
    expect(await format('made', '{{.Config.StopSignal}}')).toBe('37\n');
    // What the spec will say, before there is one: the init's argv, a user's capabilities (the
    // added ones only), the rlimits; the same once it ran.
    expect([doc.Path, doc.Args]).toEqual(['/run/skiff-init', ['--', '/bin/sh', '-c', 'sleep 1; echo hi']]);
    expect(doc.EffectiveCaps).toEqual(['CAP_SYS_ADMIN']);
    // A user without added capabilities has none: Go's nil list, null.
    await sb.runCli(0, 'create', '--name', 'user', '-u', '1000', IMG, 'true');
    expect((await inspect('user')).EffectiveCaps).toBeNull();
    // --userns keep-id: Podman's IDMappings, between UsernsMode and ShmSize.
    await sb.runCli(0, 'create', '--name', 'kept', '--userns', 'keep-id', IMG, 'true');
    const kept = (await inspect('kept')).HostConfig;
    inOrder(Object.keys(kept), HOST_CONFIG);
    expect(kept.IDMappings.UidMap[0]).toMatch(/^\d+:\d+:\d+$/);
    expect(doc.HostConfig.Ulimits).toContainEqual({ Name: 'RLIMIT_NOFILE', Soft: 100, Hard: 200 });
    // (It outlives its start: a container with published ports that ends at once can fail its start.)
    expect((await sb.runCli(0, 'start', '-a', 'made')).stdout).toBe('hi\n');
    const ran = await inspect('made');
    expect(ran.State.Status).toBe('exited');
    expect(ran.OCIConfigPath).toMatch(/\/bundle\/config\.json$/);
    for (const key of ['Path', 'Args', 'EffectiveCaps', 'BoundingCaps']) expect(ran[key], key).toEqual(doc[key]);
    expect(ran.HostConfig.Ulimits).toEqual(doc.HostConfig.Ulimits);
    expect(ran.HostConfig.CapDrop).toEqual(doc.HostConfig.CapDrop);
    expect([ran.HostsPath, ran.ResolvConfPath, ran.HostnamePath].every((p: string) => p.endsWith(`/containers/${ran.Id}/userdata/${p.split('/').pop()}`))).toBe(
      true,
    );
  });

  it("limits from the container's cgroup settings: Memory, MemorySwap, NanoCpus, CpuQuota, PidsLimit", async () => {
    const host = JSON.parse((await sb.runCli(0, 'info', '--format', 'json')).stdout).host;
    const limits = ['--memory', '64m', '--memory-swap', '128m', '--cpus', '1.5', '--pids-limit', '100', '--cpu-shares', '512'];
    if (host.cgroupManager !== 'none') {
      await sb.runCli(0, 'create', '--name', 'limited', ...limits, IMG, 'true');
    } else {
      // No cgroup manager here (hybrid host): the flags are refused, so the record is given the
      // settings they make (as 200-limits does for stats), which inspect must show.
      expect((await sb.run(['create', '--name', 'limited', ...limits, IMG, 'true'])).code).toBe(125);
      await sb.runCli(0, 'create', '--name', 'limited', IMG, 'true');
      const id = (await format('limited', '{{.Id}}')).trim();
      const file = join(sb.dataDir, 'containers', id, 'container.json');
      const record = JSON.parse(readFileSync(file, 'utf8'));
      record.config.resources = { memory: 67108864, memorySwap: 134217728, cpuQuota: 150000, cpuPeriod: 100000, pidsLimit: 100, cpuShares: 512 };
      writeFileSync(file, JSON.stringify(record, null, 2));
    }
    const hc = (await inspect('limited')).HostConfig;
    expect(hc).toMatchObject({
      Memory: 67108864,
      MemorySwap: 134217728,
      NanoCpus: 1_500_000_000,
      CpuQuota: 150000,
      CpuPeriod: 100000,
      PidsLimit: 100,
      CpuShares: 512,
    });
    expect(await format('limited', '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}')).toBe('67108864 100\n');
  });
});
