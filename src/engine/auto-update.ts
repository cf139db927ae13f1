// `auto-update`: containers labelled io.containers.autoupdate=registry (or =local) whose image has
// changed (a newer manifest in the registry under the same name, or, for local, a newer image
// with that name in the store) get it: the image is pulled, and the container made again from the
// command that made it, through the systemd unit that runs it (restarted) or by skiff itself
// (`run --replace`) when no unit does. One that does not come back is rolled back: the old image
// gets its name again and the container is made again from it.
import { CliError, messageOf } from '../errors.js';
import type { ContainerRecord } from '../state/containers.js';
import { findHelperBinary, runHelper } from '../util/exec.js';
import { log } from '../util/log.js';
import { skiffPath } from '../util/self.js';
import { parseReference, repositoryName } from '../image/reference.js';
import { createVerb, runArguments } from '../systemd/units.js';
import type { ContainersEngine } from './containers.js';
import type { ImagesEngine } from './images.js';

export const AUTOUPDATE_LABEL = 'io.containers.autoupdate';

export interface AutoUpdateOptions {
  /** run's flags and whether each takes a value (to read the command that made a container). */
  runFlags: Map<string, 'none' | 'value' | 'optional'>;
  dryRun?: boolean;
  rollback?: boolean;
  authfile?: string;
  tlsVerify?: boolean;
}

export interface AutoUpdateReport {
  Unit: string;
  /** "ID12 (NAME)", as Podman prints it. */
  Container: string;
  ContainerID: string;
  ContainerName: string;
  Image: string;
  Policy: string;
  /** true, false, pending (--dry-run), failed, rolled back. */
  Updated: string;
  Error?: string;
}

export class AutoUpdater {
  constructor(
    private readonly containers: ContainersEngine,
    private readonly images: ImagesEngine,
  ) {}

  async run(options: AutoUpdateOptions): Promise<AutoUpdateReport[]> {
    const reports: AutoUpdateReport[] = [];
    for (const { record, state } of this.containers.list()) {
      const policy = record.config.labels[AUTOUPDATE_LABEL];
      if (!policy || policy === 'disabled') continue;
      const report: AutoUpdateReport = {
        Unit: record.systemdUnit ?? '',
        Container: `${record.id.slice(0, 12)} (${record.name})`,
        ContainerID: record.id,
        ContainerName: record.name,
        Image: record.image,
        Policy: policy,
        Updated: 'false',
      };
      reports.push(report);
      try {
        if (policy !== 'registry' && policy !== 'local') throw new CliError('EUSAGE', `unknown ${AUTOUPDATE_LABEL} policy "${policy}": use registry or local`);
        if (!record.imageName) throw new CliError('EUSAGE', 'its image has no name to look for a newer one under');
        if (!record.systemdUnit && !record.createCommand)
          throw new CliError('EUSAGE', 'it was made before skiff kept the command that made it, and no unit runs it: make it again to have it updated');
        if (!(await this.changed(record, policy, options))) continue;
        if (options.dryRun) {
          report.Updated = 'pending';
          continue;
        }
        const old = record.imageId;
        if (policy === 'registry') await this.images.pull(record.image, { authfile: options.authfile, tlsVerify: options.tlsVerify });
        try {
          await this.replace(record, state.status === 'running' || state.status === 'stopping', options.runFlags);
          report.Updated = 'true';
        } catch (error) {
          report.Error = messageOf(error);
          if (options.rollback === false) throw error;
          log.debug(`auto-update: ${record.name} did not come back (${report.Error}): rolling back to ${old}`);
          await this.images.tag(old, [record.image]);
          await this.replace(record, true, options.runFlags);
          report.Updated = 'rolled back';
        }
      } catch (error) {
        report.Updated = 'failed';
        report.Error ??= messageOf(error);
      }
    }
    return reports;
  }

  // Whether the image the container's name stands for is another than the container's.
  private async changed(record: ContainerRecord, policy: string, options: AutoUpdateOptions): Promise<boolean> {
    if (policy === 'local') return this.images.resolve(record.image).id !== record.imageId;
    const digest = await this.images.remoteDigest(record.image, { authfile: options.authfile, tlsVerify: options.tlsVerify });
    const current = this.images.list().find((i) => i.id === record.imageId);
    return !(current?.repoDigests ?? []).includes(`${repositoryName(parseReference(record.image))}@${digest}`);
  }

  // The container made again from the command that made it, with the image its name now names:
  // its unit restarted, or `run --replace` (`create --replace`, then a start, for a created one),
  // with its name and without what made it once only (--cidfile, --rm, -d, --name, --replace).
  private async replace(record: ContainerRecord, running: boolean, runFlags: AutoUpdateOptions['runFlags']): Promise<void> {
    if (record.systemdUnit) {
      const systemctl = findHelperBinary('systemctl');
      if (!systemctl) throw new CliError('EHELPER', `${record.name} runs from unit ${record.systemdUnit}, and systemctl is not installed`);
      await runHelper(systemctl, ['--user', 'restart', record.systemdUnit]);
      return;
    }
    const argv = record.createCommand!;
    const [globals, flags, rest] = runArguments(argv, runFlags);
    const run = createVerb(argv) === 'run';
    const again = [...globals, run ? 'run' : 'create', '--replace', '--name', record.name, ...(run ? ['-d'] : []), ...flags, ...rest];
    const made = (await runHelper(skiffPath(), again)).stdout.trim().split('\n').pop() ?? '';
    if (!run && running) await runHelper(skiffPath(), ['start', made]);
    if (run || running) {
      // Up a moment later, or it did not come back.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = this.containers.state(made);
      if (now.status !== 'running')
        throw new CliError('ESTATE', `the new container ${record.name} is ${now.status}${now.exitCode ? ` (exit code ${now.exitCode})` : ''}`);
    } else if (this.containers.state(made).status !== 'created') throw new CliError('ESTATE', `the new container ${record.name} did not stay created`);
  }
}
