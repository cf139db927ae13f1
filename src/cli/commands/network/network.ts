// skiff network create|ls|inspect|rm|prune|exists|connect|disconnect: named networks (a bridge each, inside the
// rootless network namespace; containers on one reach each other by name and alias).
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import type { NetworkSummary } from '../../../engine/index.js';
import { buildExists, collect, openEngineFor, reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { parseFormat, printJson, printLine, printTable, printTemplate } from '../../output/print.js';

// Podman's `network inspect` shape (the fields scripts read).
const networkJson = (n: NetworkSummary) => ({
  name: n.name,
  id: n.id,
  driver: n.driver,
  network_interface: n.bridge,
  created: n.created,
  subnets: [{ subnet: n.subnet, gateway: n.gateway }],
  ipv6_enabled: false,
  internal: n.internal,
  dns_enabled: n.dnsEnabled !== false,
  labels: n.labels,
  containers: Object.fromEntries(
    n.containers.map((c) => [
      c.id,
      { name: c.name, interfaces: { eth0: { subnets: [{ ipnet: `${c.ip}/${n.subnet.split('/')[1]}`, gateway: n.gateway }] } }, aliases: c.aliases },
    ]),
  ),
});

const templateFields = (n: NetworkSummary) => ({
  ...networkJson(n),
  Name: n.name,
  ID: n.id.slice(0, 12),
  Driver: n.driver,
  Subnet: n.subnet,
  Internal: n.internal,
  Labels: n.labels,
});

const buildCreate = (): Command =>
  new Command('create')
    .description('Create a network')
    .argument('<name>')
    .option('--subnet <cidr>', 'IPv4 subnet, e.g. 10.89.5.0/24 (default: the next free 10.89.N.0/24)')
    .option('--internal', 'no way out of the network (named networks have none yet in any case)')
    .option('-l, --label <key=value>', 'set a label', collect)
    .option('-d, --driver <driver>', 'only bridge', 'bridge')
    .option('--ignore', 'no error if the network exists already')
    .option('--gateway <ip>', "the bridge's address in the subnet (default: its first)")
    .option('--ip-range <cidr>', 'containers get addresses from this part of the subnet only')
    .option('-o, --opt <key=value>', 'a driver option: mtu=N', collect)
    .option('--ipv6', 'refused: named networks are IPv4')
    .option('--ipam-driver <driver>', 'host-local (the only one: skiff hands out the addresses)')
    .option('--disable-dns', "containers on the network do not find each other by name (skiff's name server and /etc/hosts leave them out)")
    .action(
      async (
        name: string,
        flags: {
          subnet?: string;
          internal?: boolean;
          label?: string[];
          ignore?: boolean;
          gateway?: string;
          ipRange?: string;
          opt?: string[];
          ipv6?: boolean;
          ipamDriver?: string;
          disableDns?: boolean;
        },
        cmd: Command,
      ) => {
        if (flags.ipamDriver !== undefined && flags.ipamDriver !== 'host-local')
          throw new CliError('EUSAGE', `--ipam-driver ${flags.ipamDriver} is not supported: skiff hands out addresses itself (host-local)`);
        const engine = await openEngineFor(cmd);
        await engine.enterUserNamespace();
        if (flags.ignore && engine.networks.exists(name)) return printLine(name);
        const options = {
          subnet: flags.subnet,
          internal: flags.internal,
          labels: flags.label,
          gateway: flags.gateway,
          ipRange: flags.ipRange,
          opts: flags.opt,
          ipv6: flags.ipv6,
          disableDns: flags.disableDns,
        };
        printLine((await engine.networks.create(name, options)).name);
      },
    );

const buildList = (): Command =>
  new Command('ls')
    .alias('list')
    .description('List networks')
    .option('-q, --quiet', 'print only names')
    .option('--format <format>', 'json, or a Go template such as {{.Name}} {{.Subnet}}')
    .option('--no-trunc', 'do not truncate ids')
    .option('-f, --filter <filter>', 'name=, id=, driver=, label=KEY[=VALUE], label!=..., dangling=true|false (all must hold)', collect)
    .option('-n, --noheading', 'do not print the header row')
    .action(async (flags: { quiet?: boolean; format?: string; trunc?: boolean; filter?: string[]; noheading?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const match = networkFilter(flags.filter ?? []);
      const networks = engine.networks.list().filter(match);
      if (flags.quiet) return networks.forEach((n) => printLine(n.name));
      const format = parseFormat(flags.format);
      if (format.kind === 'json') return printJson(networks.map(networkJson), 2);
      if (format.kind === 'template') return printTemplate(format.template, networks.map(templateFields));
      // Podman's columns ({{.Subnet}} in a template shows the subnet); --noheading pads them all the same.
      const rows = networks.map((n) => [flags.trunc === false ? n.id : n.id.slice(0, 12), n.name, n.driver]);
      printTable(['NETWORK ID', 'NAME', 'DRIVER'], rows, { noHeading: flags.noheading });
    });

// network ls --filter, as Podman's: each KEY=VALUE must hold (the same key twice: either value).
const networkFilter = (filters: string[]): ((n: NetworkSummary) => boolean) => {
  const tests = filters.map((filter) => {
    const eq = filter.indexOf('=');
    const [key, value] = [filter.slice(0, eq), filter.slice(eq + 1)];
    const label = (n: NetworkSummary) => {
      const at = value.indexOf('=');
      return at < 0 ? value in n.labels : n.labels[value.slice(0, at)] === value.slice(at + 1);
    };
    switch (eq < 1 ? '' : key) {
      case 'name':
        return { key, test: (n: NetworkSummary) => new RegExp(value).test(n.name) };
      case 'id':
        return { key, test: (n: NetworkSummary) => n.id.startsWith(value) };
      case 'driver':
        return { key, test: (n: NetworkSummary) => n.driver === value };
      case 'label':
        return { key, test: label };
      case 'label!':
        return { key, test: (n: NetworkSummary) => !label(n) };
      case 'dangling':
        return { key, test: (n: NetworkSummary) => (n.containers.length === 0) === (value === 'true') };
      default:
        throw new CliError('EUSAGE', `invalid network filter "${filter}": use name=, id=, driver=, label=, label!= or dangling=`);
    }
  });
  return (n) => [...new Set(tests.map((t) => t.key))].every((key) => tests.filter((t) => t.key === key).some((t) => t.test(n)));
};

const buildInspect = (): Command =>
  new Command('inspect')
    .description('Show networks in detail')
    .argument('<name...>')
    .option('-f, --format <format>', 'json (default) or a Go template')
    .action(async (names: string[], flags: { format?: string }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const reports = names.map((name) => {
        try {
          return { data: engine.networks.inspect(name) };
        } catch (error) {
          return { error: error as Error };
        }
      });
      const found = reports.flatMap((r) => (r.data ? [r.data] : []));
      const format = parseFormat(flags.format);
      if (format.kind === 'template') printTemplate(format.template, found.map(templateFields));
      else printJson(found.map(networkJson), 5);
      reportItems(reports, () => {}, printError);
    });

const buildRm = (): Command =>
  new Command('rm')
    .alias('remove')
    .description('Remove networks')
    .argument('<name...>')
    .option('-f, --force', 'remove the containers on it too')
    .option('-t, --time <seconds>', 'accepted for Podman scripts: the containers -f removes are killed at once')
    .action(async (names: string[], flags: { force?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const reports = [];
      for (const name of names) {
        try {
          reports.push({ name: (await engine.networks.remove(name, flags)).name });
        } catch (error) {
          // (With --force a network that is not there is no error, as Podman's.)
          if (!(flags.force && error instanceof CliError && error.code === 'ENONETWORK')) reports.push({ name, error: error as Error });
        }
      }
      reportItems(reports, (r) => printLine(r.name), printError);
    });

const buildPrune = (): Command =>
  new Command('prune')
    .description('Remove networks no container uses')
    .option('-f, --force', 'do not ask for confirmation (skiff never asks)')
    .option('--filter <filter>', 'only those made before until=TIME, or with label=KEY[=VALUE], or without label!=KEY[=VALUE]', collect)
    .action(async (flags: { filter?: string[] }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      for (const n of await engine.networks.prune(flags.filter)) printLine(n.name);
    });

const buildConnect = (): Command =>
  new Command('connect')
    .description('Join a container to a named network (at once if it is running)')
    .argument('<network>')
    .argument('<container>')
    .option('--alias <alias>', 'another name for the container on this network', collect)
    .option('--ip <address>', "the container's address on the network (a free one of its subnet)")
    .option('--mac-address <mac>', "the container's interface address on the network")
    .option('--ip6 <address>', 'refused: named networks are IPv4')
    .action(async (network: string, container: string, flags: { alias?: string[]; ip?: string; macAddress?: string; ip6?: string }, cmd: Command) => {
      if (flags.ip6 !== undefined) throw new CliError('EUSAGE', "--ip6 is not supported: skiff's named networks are IPv4");
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      await engine.containers.networking.connect(container, network, flags.alias ?? [], { ip: flags.ip, mac: flags.macAddress });
    });

const buildDisconnect = (): Command =>
  new Command('disconnect')
    .description('Take a container off a network it joined with connect')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'accepted for compatibility')
    .action(async (network: string, container: string, _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      await engine.containers.networking.disconnect(container, network);
    });

// network reload: the named-network set-up of running containers made again (after a firewall
// reset, or the rootless network namespace going); prints each container's id.
const buildReload = (): Command =>
  new Command('reload')
    .description("Set up running containers' named networks again (veth, addresses, routes, firewall)")
    .argument('[container...]')
    .option('-a, --all', 'every running container on a named network')
    .option('-l, --latest', 'the newest container')
    .action(async (inputs: string[], flags: { all?: boolean; latest?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      await engine.enterUserNamespace();
      const targets = engine.reports.select(inputs, flags);
      const reports: { id: string; error?: Error }[] = [];
      for (const target of targets) {
        try {
          const record = engine.containers.find(target);
          if (await engine.containers.networking.reload(target, flags.all)) reports.push({ id: record.id });
        } catch (error) {
          reports.push({ id: target, error: error as Error });
        }
      }
      reportItems(reports, (r) => printLine(r.id), printError);
    });

export const build = (): Command =>
  new Command('network')
    .description('Manage named networks')
    .addCommand(buildCreate())
    .addCommand(buildList())
    .addCommand(buildInspect())
    .addCommand(buildRm())
    .addCommand(buildPrune())
    .addCommand(buildExists('network', (engine, name) => engine.networks.exists(name)))
    .addCommand(buildConnect())
    .addCommand(buildDisconnect())
    .addCommand(buildReload());
