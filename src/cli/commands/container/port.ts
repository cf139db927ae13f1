// skiff port CONTAINER [PRIVATE_PORT[/PROTO]]: the host addresses a container's ports are published on.
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor } from '../../engine.js';
import { printLine } from '../../output/print.js';

export const build = (name = 'port'): Command =>
  new Command(name)
    .description('List the published ports of a container')
    .argument('<container>')
    .argument('[port]', 'a container port, e.g. 80 or 53/udp')
    .action(async (input: string, port: string | undefined, _flags: unknown, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      const record = engine.containers.find(input);
      const [number, proto = 'tcp'] = (port ?? '').split('/');
      const ports = (record.config.ports ?? []).filter((p) => !port || (p.containerPort === Number(number) && p.protocol === proto));
      if (port && !ports.length) throw new CliError('ESTATE', `container ${record.name} does not publish port ${number}/${proto}`);
      for (const p of ports) printLine(port ? `${p.hostIp}:${p.hostPort}` : `${p.containerPort}/${p.protocol} -> ${p.hostIp}:${p.hostPort}`);
    });
