// A container's OCI hooks (oci/hooks.ts): the spec gets those the runtime runs as it creates and
// starts the container; its poststop hooks are kept beside the bundle and run by skiff's clean-up
// once the container has ended (Podman runs them itself too: crun would read them from a bundle
// that a --rm clean-up removes before the monitor's delete).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { hooksFromDirs, type OciHook, runHooks } from '../oci/hooks.js';
import type { ContainerRecord } from '../state/containers.js';
import { writeFileAtomic } from '../util/fs.js';
import type { EngineContext } from './context.js';

const poststopFile = (ctx: EngineContext, id: string): string => join(ctx.containers.containerDir(id), 'userdata', 'poststop-hooks.json');

// Puts the matching hooks into `spec` (written at each start), the poststop ones aside.
export const addSpecHooks = (ctx: EngineContext, record: ContainerRecord, spec: Record<string, unknown>): void => {
  const { args } = spec.process as { args: string[] };
  const annotations = spec.annotations as Record<string, string>;
  const { poststop, ...rest } = hooksFromDirs(ctx.hooksDirs, { args, annotations, hasBindMounts: Boolean(record.config.mounts?.length) }) ?? {};
  if (Object.keys(rest).length) spec.hooks = rest;
  const file = poststopFile(ctx, record.id);
  if (poststop) writeFileAtomic(file, `${JSON.stringify({ hooks: poststop, annotations })}\n`, 0o644, false);
  else rmSync(file, { force: true });
};

// Runs the poststop hooks the container's last start kept, once (clean-up after it ended).
export const runPoststopHooks = async (ctx: EngineContext, record: ContainerRecord): Promise<void> => {
  const file = poststopFile(ctx, record.id);
  let kept: { hooks: OciHook[]; annotations: Record<string, string> };
  try {
    kept = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return;
  }
  rmSync(file, { force: true });
  const state = {
    ociVersion: '1.0.2',
    id: record.id,
    status: 'stopped',
    bundle: join(ctx.containers.containerDir(record.id), 'bundle'),
    annotations: kept.annotations,
  };
  await runHooks(kept.hooks, state);
};
