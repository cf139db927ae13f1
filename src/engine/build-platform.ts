// The platform a build is for (--platform, or --os/--arch/--variant, with --os-version and
// --os-feature): what FROM picks from an index, what the image config records, what BuildKit's
// TARGET* args say. RUN steps run the image's binaries: on another architecture only through an
// emulator the kernel has registered (binfmt_misc), as Podman needs too.
import { readdirSync, readFileSync } from 'node:fs';
import { CliError } from '../errors.js';
import type { ImageConfig, Platform } from '../image-format.js';
import { formatPlatform, hostPlatform, parsePlatform } from '../image/manifest.js';

export interface TargetPlatform extends Platform {
  osVersion?: string;
  /** --os-feature: added, or taken away with a trailing "-". */
  osFeatures?: string[];
  /** Given by the user (else the host's, and a base image's own platform is kept). */
  explicit: boolean;
}

export interface PlatformRequest {
  platform?: string;
  os?: string;
  arch?: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
}

// The build's one target. Several (--platform a,b) would make a manifest list: refused.
export const targetPlatform = (request: PlatformRequest): TargetPlatform => {
  const host = hostPlatform();
  const extra = {
    ...(request.osVersion ? { osVersion: request.osVersion } : {}),
    ...(request.osFeatures?.length ? { osFeatures: request.osFeatures } : {}),
  };
  if (request.platform) {
    if (request.os || request.arch || request.variant) throw new CliError('EUSAGE', '--platform may not be used with --os, --arch or --variant');
    const all = request.platform.split(',').map((p) => p.trim());
    if (all.length > 1)
      throw new CliError(
        'EUSAGE',
        `--platform ${request.platform}: building for several platforms makes a manifest list, which skiff cannot write yet; build one platform at a time`,
      );
    const p = parsePlatform(all[0]);
    return { os: p.os, architecture: p.architecture, ...(p.variant ? { variant: p.variant } : {}), ...extra, explicit: true };
  }
  const explicit = Boolean(request.os || request.arch || request.variant);
  return {
    os: request.os || host.os,
    architecture: request.arch || host.architecture,
    ...(request.variant ? { variant: request.variant } : {}),
    ...extra,
    explicit,
  };
};

// BuildKit's automatic platform args: the build runs on this host, for `target`.
export const platformArgs = (target: TargetPlatform): Record<string, string> => {
  const host = hostPlatform();
  const args: Record<string, string> = {};
  for (const [prefix, p] of [
    ['BUILD', host],
    ['TARGET', target],
  ] as const) {
    args[`${prefix}PLATFORM`] = formatPlatform(p);
    args[`${prefix}OS`] = p.os;
    args[`${prefix}ARCH`] = p.architecture;
    args[`${prefix}VARIANT`] = p.variant ?? '';
  }
  return args;
};

// The config's platform fields as the build sets them: the target's when the user gave one (a
// base image's own otherwise), --os-version and --os-feature on top.
export const applyPlatform = (config: ImageConfig, target: TargetPlatform): void => {
  if (target.explicit) {
    config.os = target.os;
    config.architecture = target.architecture;
    if (target.variant) config.variant = target.variant;
    else delete config.variant;
  }
  if (target.osVersion) config['os.version'] = target.osVersion;
  for (const feature of target.osFeatures ?? []) {
    const features = config['os.features'] ?? [];
    config['os.features'] = feature.endsWith('-') ? features.filter((f) => f !== feature.slice(0, -1)) : [...features.filter((f) => f !== feature), feature];
    if (!config['os.features'].length) delete config['os.features'];
  }
};

// An image config is for `target` (its os and architecture, and its variant when both say one).
export const configMatches = (config: ImageConfig, target: Platform): boolean =>
  (config.os ?? 'linux') === target.os &&
  config.architecture === target.architecture &&
  (!target.variant || !config.variant || config.variant === target.variant);

// qemu's names for the architectures Go names.
const QEMU: Record<string, string> = {
  amd64: 'x86_64',
  386: 'i386',
  arm64: 'aarch64',
  arm: 'arm',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64le: 'mips64el',
  loong64: 'loongarch64',
};

// What this host runs without an emulator besides its own architecture.
const NATIVE_TOO: Record<string, string[]> = { amd64: ['386'], arm64: ['arm'] };

const BINFMT = '/proc/sys/fs/binfmt_misc';

// An enabled binfmt_misc handler for the architecture's binaries (qemu-user-static's names).
const emulated = (architecture: string): boolean => {
  const qemu = QEMU[architecture] ?? architecture;
  let names: string[];
  try {
    names = readdirSync(BINFMT);
  } catch {
    return false;
  }
  return names
    .filter((n) => n === `qemu-${qemu}` || n === `qemu-${qemu}-static`)
    .some((n) => {
      try {
        return readFileSync(`${BINFMT}/${n}`, 'utf8').startsWith('enabled');
      } catch {
        return false;
      }
    });
};

// Refuses a RUN step this host cannot run: another OS, or another architecture without an emulator.
export const checkRunnable = (target: Platform, step: string): void => {
  const host = hostPlatform();
  if (target.os === host.os && (target.architecture === host.architecture || NATIVE_TOO[host.architecture]?.includes(target.architecture))) return;
  if (target.os === host.os && emulated(target.architecture)) return;
  const why =
    target.os !== host.os
      ? `this host runs ${host.os} binaries only`
      : `this host is ${formatPlatform(host)} and has no emulator registered for ${target.architecture} (binfmt_misc; Debian: apt-get install qemu-user-static)`;
  throw new CliError('EUSAGE', `building at STEP "${step}": RUN needs ${formatPlatform(target)} binaries run, and ${why}`);
};
