// skiff image trust show [REGISTRY] / skiff image trust set --type T [--pubkeysfile F]... REGISTRY
import { Command, Option } from 'commander';
import { showTrust, setTrustPolicy } from '../../../engine/trust.js';
import { collect } from '../../engine.js';
import { printJson, printLine, printTable } from '../../output/print.js';

// Podman's hidden --policypath: another policy file than the user's or the system's.
const policyPathOption = () =>
  new Option('--policypath <path>', 'policy file to use instead of ~/.config/containers/policy.json or /etc/containers/policy.json').hideHelp();

const buildShow = (): Command =>
  new Command('show')
    .description("Display trust policy for the system (only REGISTRY's scope when one is named)")
    .argument('[registry]')
    .option('-j, --json', 'Output as json')
    .option('-n, --noheading', 'Do not print column headings')
    .option('--raw', 'Output raw policy file')
    .addOption(policyPathOption())
    .action(async (registry: string | undefined, flags: { json?: boolean; noheading?: boolean; raw?: boolean; policypath?: string }) => {
      const report = await showTrust({ policyPath: flags.policypath, registry });
      if (flags.raw) return printLine(report.raw.replace(/\n$/, ''));
      if (flags.json) return printJson(report.rows);
      printTable(
        ['TRANSPORT', 'NAME', 'TYPE', 'ID', 'STORE'],
        report.rows.map((r) => [r.transport, r.repo_name, r.type, r.gpg_id ?? '', r.sigstore ?? '']),
        { noHeading: flags.noheading },
      );
    });

const buildSet = (): Command =>
  new Command('set')
    .description('Set default trust policy or a new trust policy for a registry')
    .argument('<registry>', 'a registry or repository (host[/namespace...]), or "default"')
    .option('-t, --type <type>', 'Trust type, accept values: signedBy(default), accept, reject', 'signedBy')
    .option('-f, --pubkeysfile <path>', 'Path of installed public key(s) to trust for TARGET (repeatable)', collect)
    .addOption(policyPathOption())
    .action((registry: string, flags: { type: string; pubkeysfile?: string[]; policypath?: string }) => {
      setTrustPolicy(registry, { type: flags.type, pubkeysfile: flags.pubkeysfile, policyPath: flags.policypath });
    });

export const buildTrust = (): Command => new Command('trust').description('Manage container image trust policy').addCommand(buildShow()).addCommand(buildSet());
