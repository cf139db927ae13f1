// Named networks: create, list, inspect, remove, prune. The bridges live in the rootless network
// namespace (network/bridge.ts); containers join at start (see containers.ts).
import { CliError } from '../errors.js';
import { DEFAULT_NETWORK, type NetworkRecord } from '../network/networks.js';
import { memberships } from '../state/containers.js';
import { randomId } from '../state/names.js';
import type { EngineContext } from './context.js';
import { writeDnsHosts } from './container-networks.js';
import type { ContainersEngine } from './containers.js';
import { pruneMatcher } from './prune-filter.js';

export interface NetworkSummary extends NetworkRecord {
  containers: { id: string; name: string; ip: string; aliases: string[] }[];
}

export class NetworksEngine {
  constructor(
    private readonly ctx: EngineContext,
    private readonly containers: ContainersEngine,
  ) {}

  // Caller has joined the user namespace (the bridge is made in the rootless network namespace).
  async create(
    name: string,
    options: {
      subnet?: string;
      internal?: boolean;
      labels?: string[];
      gateway?: string;
      ipRange?: string;
      opts?: string[];
      ipv6?: boolean;
      disableDns?: boolean;
    },
  ): Promise<NetworkRecord> {
    const labels = Object.fromEntries(
      (options.labels ?? []).map((l) => (l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, ''])),
    );
    if (options.ipv6) throw new CliError('EUSAGE', "--ipv6 is not supported: skiff's named networks are IPv4");
    // --opt: mtu=N (the bridge's MTU); Podman's other driver options have no meaning here.
    const opts: Record<string, string> = {};
    for (const opt of options.opts ?? []) {
      const [key, value] = [opt.slice(0, opt.indexOf('=')), opt.slice(opt.indexOf('=') + 1)];
      if (key !== 'mtu' || !/^\d+$/.test(value) || Number(value) < 68 || Number(value) > 65535)
        throw new CliError('EUSAGE', `invalid --opt "${opt}": skiff's bridge takes mtu=N (68 to 65535)`);
      opts[key] = value;
    }
    const record = await this.ctx.networks.withLock(async () =>
      this.ctx.networks.create(
        name,
        {
          subnet: options.subnet,
          internal: options.internal,
          labels,
          gateway: options.gateway,
          ipRange: options.ipRange,
          options: opts,
          ...(options.disableDns ? { dnsEnabled: false } : {}),
        },
        randomId(),
      ),
    );
    const { applyFirewall, ensureBridge } = await import('../network/bridge.js');
    try {
      await ensureBridge(this.ctx.paths.run, record, this.ctx.networks.list());
      await applyFirewall(this.ctx.paths.run, this.ctx.networks.list());
      writeDnsHosts(this.ctx, this.ctx.containers.list());
    } catch (error) {
      this.ctx.networks.remove(record.name);
      throw error;
    }
    return record;
  }

  summary(record: NetworkRecord): NetworkSummary {
    return {
      ...record,
      containers: this.containers.networking.onNetwork(record.name).map((c) => {
        const m = memberships(c.config).find((x) => x.network === record.name)!;
        return { id: c.id, name: c.name, ip: m.ip, aliases: m.aliases };
      }),
    };
  }

  list(): NetworkSummary[] {
    return this.ctx.networks.list().map((n) => this.summary(n));
  }

  inspect(name: string): NetworkSummary {
    return this.summary(this.ctx.networks.find(name));
  }

  exists(name: string): boolean {
    return this.ctx.networks.get(name) !== undefined;
  }

  // Removes a network; one that containers use only with force (which removes them first).
  async remove(name: string, options: { force?: boolean } = {}): Promise<NetworkRecord> {
    const record = this.ctx.networks.find(name);
    if (record.name === DEFAULT_NETWORK) throw new CliError('EUSAGE', `default network ${DEFAULT_NETWORK} cannot be removed`);
    const users = this.containers.networking.onNetwork(record.name);
    if (users.length && !options.force)
      throw new CliError('ESTATE', `network ${record.name} is used by container ${users[0].name}: remove the containers first, or use --force`);
    for (const c of users) await this.containers.remove(c.id, { force: true });
    const { applyFirewall, removeBridge } = await import('../network/bridge.js');
    await this.ctx.networks.withLock(async () => {
      await removeBridge(this.ctx.paths.run, record);
      this.ctx.networks.remove(record.name);
    });
    await applyFirewall(this.ctx.paths.run, this.ctx.networks.list());
    writeDnsHosts(this.ctx, this.ctx.containers.list());
    return record;
  }

  // Removes every network no container uses (that the prune filters select: see prune-filter.ts).
  async prune(filters: string[] = []): Promise<NetworkRecord[]> {
    const match = pruneMatcher(filters, 'network prune');
    const out: NetworkRecord[] = [];
    for (const n of this.ctx.networks.list())
      if (n.name !== DEFAULT_NETWORK && match(n) && !this.containers.networking.onNetwork(n.name).length) out.push(await this.remove(n.name));
    return out;
  }
}
