// skiff login REGISTRY / skiff logout REGISTRY
import { Command } from 'commander';
import { CliError } from '../../../errors.js';
import { openEngineFor, parseBool } from '../../engine.js';
import { printLine } from '../../output/print.js';

const readStdin = async (): Promise<string> => {
  let data = '';
  for await (const chunk of process.stdin) data += chunk;
  return data.replace(/\r?\n$/, '');
};

export const buildLogin = (): Command =>
  new Command('login')
    .description('Log in to a registry (credentials are stored mode 0600)')
    .argument('<registry>')
    .option('-u, --username <name>')
    .option('-p, --password <password>')
    .option('--password-stdin', 'read the password from standard input')
    .option('--authfile <path>', 'where to store the credentials')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates', parseBool)
    .option('--cert-dir <dir>', 'TLS certificates for the registry: *.crt CAs, a *.cert and *.key client pair')
    .option('--get-login', 'print the user name stored for the registry')
    .option('-v, --verbose', 'also print which auth file was written')
    .action(
      async (
        registry: string,
        flags: {
          username?: string;
          password?: string;
          passwordStdin?: boolean;
          authfile?: string;
          tlsVerify?: boolean;
          certDir?: string;
          getLogin?: boolean;
          verbose?: boolean;
        },
        cmd: Command,
      ) => {
        if (flags.getLogin) {
          const engine = await openEngineFor(cmd);
          return printLine(await engine.images.loginUser(registry, flags));
        }
        const password = flags.passwordStdin ? await readStdin() : flags.password;
        if (!flags.username || password === undefined)
          throw new CliError('EUSAGE', 'login needs --username and --password (or --password-stdin); skiff does not prompt');
        const engine = await openEngineFor(cmd);
        const file = await engine.images.login(registry, {
          username: flags.username,
          password,
          tlsVerify: flags.tlsVerify,
          authfile: flags.authfile,
          certDir: flags.certDir,
        });
        if (flags.verbose) printLine(`Used:  ${file}`);
        printLine('Login Succeeded!');
      },
    );

export const buildLogout = (): Command =>
  new Command('logout')
    .description('Remove stored credentials for a registry')
    .argument('[registry]')
    .option('--authfile <path>')
    .option('-a, --all', 'remove the credentials of every registry')
    .action(async (registry: string | undefined, flags: { authfile?: string; all?: boolean }, cmd: Command) => {
      const engine = await openEngineFor(cmd);
      if (flags.all) {
        if (registry) throw new CliError('EUSAGE', 'logout --all takes no registry');
        await engine.images.logoutAll(flags);
        return printLine('Removed login credentials for all registries');
      }
      if (!registry) throw new CliError('EUSAGE', 'logout needs a registry, or --all');
      if (!(await engine.images.logout(registry, flags))) throw new CliError('EUSAGE', `not logged into ${registry}`);
      printLine(`Removed login credentials for ${registry}`);
    });
