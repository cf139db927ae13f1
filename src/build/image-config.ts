// What a build's metadata instructions do to the image config (ENV, LABEL, CMD, …): pure, so the
// rules are unit-tested without a build. Steps that change files are the builder's.
import type { ImageConfig } from '../image-format.js';
import type { Step } from './instructions.js';

type Inner = NonNullable<ImageConfig['config']>;

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

// The image config FROM scratch starts with.
export const scratchConfig = (architecture: string): ImageConfig => ({
  architecture,
  os: 'linux',
  config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
  rootfs: { type: 'layers', diff_ids: [] },
  history: [],
});

// Sets or replaces KEY=VALUE in an Env list.
export const setEnv = (env: string[] | undefined, key: string, value: string): string[] => [
  ...(env ?? []).filter((e) => !e.startsWith(`${key}=`)),
  `${key}=${value}`,
];

// KEY=VALUE pairs over an Env list (build --env): a variable there keeps its place (Buildah's order).
export const withEnv = (env: string[] | undefined, set: Record<string, string>): string[] => {
  const out = [...(env ?? [])];
  for (const [key, value] of Object.entries(set)) {
    const at = out.findIndex((e) => e.startsWith(`${key}=`));
    if (at >= 0) out[at] = `${key}=${value}`;
    else out.push(`${key}=${value}`);
  }
  return out;
};

// The value of KEY in an Env list.
export const envValue = (env: string[] | undefined, key: string): string | undefined => {
  const hit = (env ?? []).find((e) => e.startsWith(`${key}=`));
  return hit === undefined ? undefined : hit.slice(key.length + 1);
};

// A path as WORKDIR resolves it: relative to the one before.
export const resolveWorkdir = (current: string | undefined, path: string): string => {
  const joined = path.startsWith('/') ? path : `${current || '/'}/${path}`;
  const parts: string[] = [];
  for (const p of joined.split('/')) {
    if (!p || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
};

// A CMD/ENTRYPOINT/RUN command: exec form as written, shell form through the stage's SHELL.
export const commandOf = (command: string[], shellForm: boolean, shell: string[] | undefined): string[] =>
  shellForm ? [...(shell?.length ? shell : DEFAULT_SHELL), command.join(' ')] : command;

// Applies a metadata step to `config` (changed in place); false for a step that changes files.
export const applyMetadata = (config: Inner, step: Step): boolean => {
  switch (step.kind) {
    case 'env':
      for (const [k, v] of step.pairs) config.Env = setEnv(config.Env, k, v);
      return true;
    case 'label':
      for (const [k, v] of step.pairs) config.Labels = { ...(config.Labels ?? {}), [k]: v };
      return true;
    case 'expose':
      for (const port of step.ports) config.ExposedPorts = { ...(config.ExposedPorts ?? {}), [port.includes('/') ? port : `${port}/tcp`]: {} };
      return true;
    case 'volume':
      for (const path of step.paths) config.Volumes = { ...(config.Volumes ?? {}), [path]: {} };
      return true;
    case 'workdir':
      config.WorkingDir = resolveWorkdir(config.WorkingDir, step.path);
      return true;
    case 'user':
      config.User = step.user;
      return true;
    case 'stopsignal':
      config.StopSignal = step.signal;
      return true;
    case 'shell':
      config.Shell = step.shell;
      return true;
    case 'cmd':
      config.Cmd = commandOf(step.command, step.shellForm, config.Shell);
      return true;
    case 'entrypoint':
      config.Entrypoint = commandOf(step.command, step.shellForm, config.Shell);
      // Docker's rule: an ENTRYPOINT drops the CMD the base image had.
      delete config.Cmd;
      return true;
    case 'healthcheck':
      if ('none' in step) config.Healthcheck = { Test: ['NONE'] };
      else {
        const { test, interval, timeout, startPeriod, startInterval, retries } = step;
        config.Healthcheck = {
          Test: test,
          ...(interval !== undefined ? { Interval: interval } : {}),
          ...(timeout !== undefined ? { Timeout: timeout } : {}),
          ...(startPeriod !== undefined ? { StartPeriod: startPeriod } : {}),
          ...(startInterval !== undefined ? { StartInterval: startInterval } : {}),
          ...(retries !== undefined ? { Retries: retries } : {}),
        };
      }
      return true;
    case 'onbuild':
      config.OnBuild = [...(config.OnBuild ?? []), step.text];
      return true;
    case 'maintainer':
    case 'arg':
      return true;
    default:
      return false;
  }
};
