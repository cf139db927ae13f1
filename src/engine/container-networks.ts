// Containers and the network around them: named-network membership (`network connect` and
// `disconnect`), the /etc/hosts of each container and skiff-dns's view of every network, the
// network namespace a pasta container's monitor bound to a file, and --network container:NAME.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { etcHosts } from '../network/etc.js';
import { networkMode } from '../network/modes.js';
import { adoptedPasta } from '../network/spare.js';
import { memberships, type ContainerRecord, type ContainerStore, type NetworkAttachment } from '../state/containers.js';
import { writeFileAtomic } from '../util/fs.js';
import { MNT_DETACH, native } from '../util/native.js';
import type { EngineContext } from './context.js';

const isRunning = (status: string) => status === 'running' || status === 'stopping';

// --mac-address: six hex pairs, a unicast address.
export const checkMac = (mac: string): string => {
  if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac) || Number.parseInt(mac.slice(0, 2), 16) & 1)
    throw new CliError('EUSAGE', `invalid --mac-address ${mac}: use six hex pairs of a unicast address, such as 92:d0:c6:0a:29:33`);
  return mac.toLowerCase();
};

export class ContainerNetworks {
  constructor(
    private readonly ctx: EngineContext,
    private readonly store: ContainerStore,
  ) {}

  // A free address on the network (caller holds the networks lock): `wanted` (--ip) if it is one.
  allocate(network: string, wanted?: string): string {
    const used = this.store.list().flatMap((c) =>
      memberships(c.config)
        .filter((m) => m.network === network)
        .map((m) => m.ip),
    );
    const record = this.ctx.networks.find(network);
    return wanted ? this.ctx.networks.claim(record, wanted, used) : this.ctx.networks.allocate(record, used);
  }

  // `network connect`: joins a container to one more named network (at once when it is running).
  async connect(input: string, network: string, aliases: string[] = [], options: { ip?: string; mac?: string } = {}): Promise<void> {
    const record = this.store.find(input);
    const net = this.ctx.networks.find(network);
    await this.store.withContainerLock(record.id, async () => {
      const current = this.store.get(record.id)!;
      const joined = memberships(current.config);
      if (joined.some((m) => m.network === net.name)) throw new CliError('ESTATE', `container ${current.name} is already on network ${net.name}`);
      if (!joined.length && current.config.network !== 'none')
        throw new CliError(
          'ESTATE',
          `container ${current.name} uses --network ${current.config.network}: only containers on named networks (or none) can join more`,
        );
      let attachment!: NetworkAttachment;
      await this.ctx.networks.withLock(async () => {
        attachment = {
          network: net.name,
          ip: this.allocate(net.name, options.ip),
          aliases,
          device: `eth${joined.length}`,
          ...(options.mac ? { mac: checkMac(options.mac) } : {}),
        };
        this.store.update({ ...current, config: { ...current.config, extraNetworks: [...(current.config.extraNetworks ?? []), attachment] } });
      });
      const state = this.store.effectiveState(record.id);
      if (isRunning(state.status) && state.pid) {
        const { attach, detach } = await import('../network/bridge.js');
        try {
          await attach(this.ctx.paths.run, net, this.ctx.networks.list(), record.id, state.pid, attachment.ip, attachment.device, attachment.mac);
        } catch (error) {
          await detach(this.ctx.paths.run, net, record.id).catch(() => undefined);
          this.store.update(current);
          throw error;
        }
      }
    });
    this.refreshHosts(net.name);
  }

  // `network disconnect`: leaves a network joined with `network connect`.
  async disconnect(input: string, network: string): Promise<void> {
    const record = this.store.find(input);
    const net = this.ctx.networks.find(network);
    await this.store.withContainerLock(record.id, async () => {
      const current = this.store.get(record.id)!;
      if (current.config.namedNetwork && current.config.network === net.name)
        throw new CliError(
          'ESTATE',
          `network ${net.name} is container ${current.name}'s own network (--network): it cannot leave it; remove the container instead`,
        );
      const extras = current.config.extraNetworks ?? [];
      if (!extras.some((m) => m.network === net.name)) throw new CliError('ESTATE', `container ${current.name} is not on network ${net.name}`);
      this.store.update({ ...current, config: { ...current.config, extraNetworks: extras.filter((m) => m.network !== net.name) } });
      const { detach } = await import('../network/bridge.js');
      await detach(this.ctx.paths.run, net, record.id);
    });
    this.refreshHosts(net.name);
    const after = this.store.get(record.id);
    if (after) this.writeHostsFile(after);
  }

  // `network reload`: a running container's place on its named networks set up again (veth pairs,
  // addresses, the default route, the firewall; the bridges and the rootless network namespace
  // first, if they went), as Podman's reload does for its bridge networks. Other containers have
  // nothing of skiff's to reload: an error, or with `skip` (reload --all) false.
  async reload(input: string, skip = false): Promise<boolean> {
    const record = this.store.find(input);
    const reloaded = await this.store.withContainerLock(record.id, async () => {
      const current = this.store.get(record.id);
      if (!current) throw new CliError('ENOCONTAINER', `no such container: ${input}`);
      const joined = memberships(current.config);
      const state = this.store.effectiveState(record.id);
      const live = (isRunning(state.status) || state.status === 'initialized') && state.pid;
      if (skip && (!live || !joined.length)) return false;
      if (!live) throw new CliError('ESTATE', `cannot reload the network of ${current.name}: it is ${state.status}, and only a running container has one`);
      if (!joined.length)
        throw new CliError(
          'ESTATE',
          `cannot reload the network of ${current.name}: it uses --network ${current.config.network}, which skiff does not set up (reload is for named networks)`,
        );
      const { applyFirewall, attach } = await import('../network/bridge.js');
      const all = this.ctx.networks.list();
      for (const m of joined) await attach(this.ctx.paths.run, this.ctx.networks.find(m.network), all, current.id, state.pid!, m.ip, m.device, m.mac);
      await applyFirewall(this.ctx.paths.run, all);
      return true;
    });
    if (reloaded) for (const m of memberships(record.config)) this.refreshHosts(m.network);
    return reloaded;
  }

  writeHostsFile(record: ContainerRecord, all?: ContainerRecord[]): void {
    try {
      writeFileSync(join(this.store.containerDir(record.id), 'userdata', 'hosts'), this.hostsFor(record, all));
    } catch {
      // never started yet: written at start
    }
  }

  // A container's /etc/hosts: itself, its networks' other members, the host, --add-host. `all`:
  // every container, when the caller has read them already.
  hostsFor(record: ContainerRecord, all?: ContainerRecord[]): string {
    const c = record.config;
    const joined = memberships(c);
    const mine = new Set(joined.map((m) => m.network).filter((name) => this.ctx.networks.get(name)?.dnsEnabled !== false));
    const peers = (joined.length ? (all ?? this.store.list()) : [])
      .filter((peer) => peer.id !== record.id)
      .flatMap((peer) =>
        memberships(peer.config)
          .filter((pm) => mine.has(pm.network))
          .map((pm) => ({ ip: pm.ip, names: [peer.name, ...pm.aliases, peer.id.slice(0, 12)] })),
      );
    const outward = joined.some((m) => this.ctx.networks.get(m.network)?.internal === false);
    const host = networkMode(c).hostAddress(outward);
    return etcHosts(c, record.name, peers, host);
  }

  // The containers on a named network (of `all`, when the caller has read them already).
  onNetwork(name: string, all = this.store.list()): ContainerRecord[] {
    return all.filter((c) => memberships(c.config).some((m) => m.network === name));
  }

  // Rewrites /etc/hosts of every container on a network so each knows the others by name, alias
  // and short id: written in place, since the file is bind-mounted into running containers.
  // The container list is read once for all of them.
  refreshHosts(network: string): void {
    if (this.ctx.networks.get(network)?.dnsEnabled === false) return; // its members know no names
    const all = this.store.list();
    writeDnsHosts(this.ctx, all);
    for (const member of this.onNetwork(network, all)) this.writeHostsFile(member, all);
  }

  // The file the monitor bound a pasta container's network namespace to: unmounted and removed.
  // A pasta the launcher started and the monitor adopted is stopped too (the monitor may have
  // died first), and the files beside the namespace go with it.
  releaseNetns(id: string): void {
    const path = this.store.netnsPath(id);
    if (!existsSync(path)) return;
    const pasta = adoptedPasta(path);
    if (pasta) process.kill(pasta, 'SIGTERM');
    for (const suffix of ['pid', 'adopted']) rmSync(`${path}.${suffix}`, { force: true });
    try {
      native().umount(path, MNT_DETACH);
    } catch {
      // not mounted
    }
    rmSync(path, { force: true });
  }

  // --network container:NAME: the network namespace of that (running) container.
  sharedNetns(input: string): string {
    const other = this.store.find(input);
    const state = this.store.effectiveState(other.id);
    if (state.status !== 'running' || !state.pid) throw new CliError('ESTATE', `--network container:${input}: that container is not running; start it first`);
    return `/proc/${state.pid}/ns/net`;
  }
}

// skiff-dns's view of every named network: "CIDR IP NAME ALIAS... ID" per container and
// "internal CIDR" per internal network, replaced whole (it re-reads the file when it changes).
export const writeDnsHosts = (ctx: EngineContext, containers: ContainerRecord[]): void => {
  const networks = ctx.networks.list();
  const lines = networks.filter((n) => n.internal).map((n) => `internal ${n.subnet}`);
  for (const c of containers)
    for (const m of memberships(c.config)) {
      const network = networks.find((n) => n.name === m.network);
      if (network && network.dnsEnabled !== false) lines.push(`${network.subnet} ${m.ip} ${[c.name, ...m.aliases, c.id.slice(0, 12)].join(' ')}`);
    }
  writeFileAtomic(join(ctx.paths.run, 'dns.hosts'), `${lines.join('\n')}\n`, 0o644, false);
};
