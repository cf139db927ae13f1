// `system df --verbose`: disk use per image (its size, what it shares with other images, what is its
// own), per container (its writable layer) and per volume, as Podman's three tables.
import { volumeUsers } from '../state/containers.js';
import { du } from '../util/du.js';
import type { EngineContext } from './context.js';

export interface ImageUsage {
  repository: string;
  tag: string;
  id: string;
  created: string;
  size: number;
  /** Bytes of its layers that other images have too. */
  sharedSize: number;
  uniqueSize: number;
  /** Containers made from it. */
  containers: number;
}

export interface ContainerUsage {
  id: string;
  imageId: string;
  command: string[];
  localVolumes: number;
  /** Bytes in its writable layer. */
  rwSize: number;
  created: string;
  status: string;
  name: string;
}

export interface VolumeUsage {
  name: string;
  /** Containers that mount it. */
  links: number;
  size: number;
}

export interface DiskUsageDetail {
  images: ImageUsage[];
  containers: ContainerUsage[];
  volumes: VolumeUsage[];
}

// "registry/repo:tag" → ["registry/repo", "tag"] (a port's colon is not a tag's).
const splitName = (name: string): [string, string] => {
  const at = name.lastIndexOf(':');
  return at > name.lastIndexOf('/') ? [name.slice(0, at), name.slice(at + 1)] : [name, '<none>'];
};

export const containerRwSize = (ctx: EngineContext, id: string, driver: string): number =>
  du(`${ctx.containers.containerDir(id)}/${driver === 'copy' ? 'rootfs' : 'upper'}`);

// Each image once per name (as Podman's rows), `<none>` for one without.
export const diskUsage = (ctx: EngineContext): DiskUsageDetail => {
  const containers = ctx.containers.list();
  const images = ctx.images.list();
  const layerSize = new Map(ctx.layers.list().map((l) => [l.chainId, l.size]));
  const holders = new Map<string, number>();
  for (const image of images) for (const layer of new Set(image.layers)) holders.set(layer, (holders.get(layer) ?? 0) + 1);
  const imageRows = images.flatMap((image) => {
    const layers = [...new Set(image.layers)];
    const size = layers.reduce((n, l) => n + (layerSize.get(l) ?? 0), 0);
    const sharedSize = layers.filter((l) => (holders.get(l) ?? 0) > 1).reduce((n, l) => n + (layerSize.get(l) ?? 0), 0);
    const used = containers.filter((c) => c.imageId === image.id).length;
    const names = image.names.length ? image.names.map(splitName) : [['<none>', '<none>'] as [string, string]];
    return names.map(([repository, tag]) => ({
      repository,
      tag,
      id: image.id.replace(/^sha256:/, ''),
      created: image.created,
      size,
      sharedSize,
      uniqueSize: size - sharedSize,
      containers: used,
    }));
  });
  const users = volumeUsers(containers);
  return {
    images: imageRows,
    containers: containers.map((c) => ({
      id: c.id,
      imageId: c.imageId.replace(/^sha256:/, ''),
      command: [...c.config.entrypoint, ...c.config.cmd],
      localVolumes: (c.config.mounts ?? []).filter((m) => m.type === 'volume').length,
      rwSize: containerRwSize(ctx, c.id, c.rootfsDriver),
      created: c.created,
      status: ctx.containers.effectiveState(c.id).status,
      name: c.name,
    })),
    volumes: ctx.volumes.list().map((v) => ({ name: v.Name, links: users.get(v.Name)?.length ?? 0, size: ctx.volumes.size(v.Name) })),
  };
};
