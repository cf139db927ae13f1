// skiff's entry point. It loads nothing but the command runner, and not even that for
// `skiff --version`, which scripts call often and which needs no command tree.
import { joinEarly } from '../rootless/enter.js';
import { VERSION } from '../version.js';
import { writeOut } from './output/stdout.js';

let finished = false;
// A command whose work hangs on a promise nothing will settle would otherwise exit 0, silently.
process.on('beforeExit', () => {
  if (finished || process.exitCode) return;
  process.stderr.write('Error: skiff stopped before the command finished (internal error: please report it)\n');
  process.exitCode = 125;
});

const main = async (): Promise<void> => {
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
    writeOut(`skiff version ${VERSION}\n`);
  } else if (!joinEarly(process.argv)) {
    // (joinEarly: this command re-runs inside the rootless namespace, and this process exits with
    // that run's code.)
    const { run } = await import('./run.js');
    await run(process.argv);
  }
  finished = true;
};
void main();
