// skiff manifest create|add|annotate|remove|rm|exists: manifest lists kept in the image store
// (inspect is in remote.ts, push in manifest-push.ts).
import { Command } from 'commander';
import type { ManifestRemoveReport } from '../../../engine/index.js';
import { collect, openEngineFor, parseBool, reportItems } from '../../engine.js';
import { printError } from '../../errors.js';
import { printLine } from '../../output/print.js';

interface EntryFlags {
  annotation?: string[];
  arch?: string;
  os?: string;
  variant?: string;
  osVersion?: string;
  features?: string[];
  osFeatures?: string[];
}

interface AddFlags extends EntryFlags {
  all?: boolean;
  tlsVerify?: boolean;
  creds?: string;
  authfile?: string;
  certDir?: string;
}

// Podman's string slices: repeated, or comma-separated.
const slice = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').filter(Boolean)];

const entryFlags = (cmd: Command, annotate: boolean): Command => {
  cmd
    .option('--annotation <key=value>', 'set an annotation for the specified image', collect)
    .option('--arch <architecture>', 'override the architecture of the specified image')
    .option('--features <features>', 'override the features of the specified image', slice)
    .option('--os <OS>', 'override the OS of the specified image');
  if (annotate) cmd.option('--os-features <features>', 'override the OS features of the specified image', slice);
  return cmd
    .option('--os-version <version>', 'override the OS version of the specified image')
    .option('--variant <variant>', 'override the Variant of the specified image');
};

export const buildManifestCreate = (): Command =>
  new Command('create')
    .description('Create manifest list or image index')
    .argument('<list>')
    .argument('[image...]')
    .option('--all', "add all of the lists' images if the images to add are lists")
    .option('-a, --amend', 'modify an existing list if one with the desired name already exists')
    .option('--tls-verify [bool]', 'require HTTPS and verify certificates when accessing the registry', parseBool)
    .action(async (list: string, images: string[], flags: { all?: boolean; amend?: boolean; tlsVerify?: boolean }, cmd: Command) => {
      const manifests = await (await openEngineFor(cmd)).manifests();
      printLine((await manifests.create(list, images, flags)).slice(7));
    });

export const buildManifestAdd = (): Command =>
  entryFlags(
    new Command('add')
      .description('Add images to a manifest list or image index')
      .argument('<list>')
      .argument('<image...>', 'local image (containers-storage:NAME) or registry image (docker://NAME); a name not stored here is looked up in its registry')
      .option('--all', "add all of the list's images if the image is a list")
      .option('--authfile <path>', 'path of the authentication file')
      .option('--cert-dir <dir>', 'TLS certificates for the registry: *.crt CAs, a *.cert and *.key client pair')
      .option('--creds <username:password>', 'use username:password for accessing the registry')
      .option('--tls-verify [bool]', 'require HTTPS and verify certificates when accessing the registry', parseBool),
    false,
  ).action(async (list: string, images: string[], flags: AddFlags, cmd: Command) => {
    const manifests = await (await openEngineFor(cmd)).manifests();
    const id = await manifests.add(list, images, flags);
    printLine(id.slice(7));
  });

export const buildManifestAnnotate = (): Command =>
  entryFlags(
    new Command('annotate')
      .description('Add or update information about an entry in a manifest list or image index')
      .argument('<list>')
      .argument('<image>', "the entry's digest, or a local image in the list"),
    true,
  ).action(async (list: string, image: string, flags: EntryFlags, cmd: Command) => {
    const manifests = await (await openEngineFor(cmd)).manifests();
    printLine((await manifests.annotate(list, image, flags)).slice(7));
  });

export const buildManifestRemove = (): Command =>
  new Command('remove')
    .description('Remove an entry from a manifest list or image index')
    .argument('<list>')
    .argument('<digest>', "the entry's digest (see manifest inspect)")
    .action(async (list: string, digest: string, _flags: unknown, cmd: Command) => {
      const manifests = await (await openEngineFor(cmd)).manifests();
      printLine((await manifests.removeEntry(list, digest)).slice(7));
    });

export const buildManifestRm = (): Command =>
  new Command('rm')
    .description('Remove manifest list or image index from local storage (its images stay)')
    .argument('<list...>')
    .action(async (lists: string[], _flags: unknown, cmd: Command) => {
      const manifests = await (await openEngineFor(cmd)).manifests();
      const reports = await manifests.rm(lists);
      // Podman's order: every name untagged, then every list deleted.
      const ok = reports.filter((r) => !r.error);
      for (const r of ok) for (const name of r.untagged) printLine(`Untagged: ${name}`);
      reportItems(reports, (r: ManifestRemoveReport) => printLine(`Deleted: ${r.id!.slice(7)}`), printError);
    });

export const buildManifestExists = (): Command =>
  new Command('exists')
    .description('Check if a manifest list exists in local storage (exit code 0 or 1)')
    .argument('<list>')
    .action(async (list: string, _flags: unknown, cmd: Command) => {
      const manifests = await (await openEngineFor(cmd)).manifests();
      if (!manifests.exists(list)) process.exitCode = 1;
    });
