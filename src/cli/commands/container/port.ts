// skiff port CONTAINER [PRIVATE_PORT[/PROTO]]: the host addresses a container's ports are published on.
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';

export const build = (name = 'port'): Command =>
  new Command(name)
    .description('List the published ports of a container')
    .argument('[container]')
    .argument('[port]', 'a container port, e.g. 80 or 53/udp')
    .option('-a, --all', 'the published ports of every running container')
    .option('-l, --latest', 'the newest container')
    .action(async (input: string | undefined, port: string | undefined, flags: { all?: boolean; latest?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      if (flags.all) {
        if (input !== undefined || flags.latest) throw new CliError('EUSAGE', '--all takes no container name and no --latest');
        // As Podman: the running containers' ports, each line after the container's short id and a tab.
        for (const { record } of engine.reports.ps({}))
          for (const p of record.config.ports ?? []) printLine(`${record.id.slice(0, 12)}\t${p.containerPort}/${p.protocol} -> ${p.hostIp}:${p.hostPort}`);
        return;
      }
      // (With --latest the one argument is the port.)
      if (flags.latest && input !== undefined && port === undefined) [input, port] = [undefined, input];
      const record = engine.containers.find(engine.reports.one(input, flags.latest));
      const [number, proto = 'tcp'] = (port ?? '').split('/');
      const ports = (record.config.ports ?? []).filter((p) => !port || (p.containerPort === Number(number) && p.protocol === proto));
      if (port && !ports.length) throw new CliError('ESTATE', `container ${record.name} does not publish port ${number}/${proto}`);
      for (const p of ports) printLine(port ? `${p.hostIp}:${p.hostPort}` : `${p.containerPort}/${p.protocol} -> ${p.hostIp}:${p.hostPort}`);
    });
