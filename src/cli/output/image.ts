// Podman-compatible shapes of image data for --format json and templates.
import type { ImageInspectReport, ImageSummary } from '../../engine/index.js';
import { humanSize, shortId, timeAgo } from '../../util/units.js';

// `images --format json` entries (podman's ImageSummary fields).
export const imageSummaryJson = (s: ImageSummary) => ({
  Id: s.id.slice(7),
  ParentId: '',
  RepoTags: s.dangling ? null : s.names,
  RepoDigests: s.repoDigests,
  Size: s.size,
  SharedSize: 0,
  VirtualSize: s.size,
  Labels: null,
  Containers: 0,
  Names: s.dangling ? undefined : s.names,
  Digest: s.digest,
  Dangling: s.dangling,
  Created: Math.floor(Date.parse(s.created) / 1000),
  CreatedAt: s.created,
});

// The fields `images --format '{{...}}'` templates see.
export const imageTemplateFields = (s: ImageSummary) => ({
  ...imageSummaryJson(s),
  ID: shortId(s.id),
  Repository: s.repository,
  Tag: s.tag,
  CreatedSince: timeAgo(s.created),
  CreatedAt: s.created,
  Size: humanSize(s.size),
});

// `image inspect` output (podman's ImageData).
export const imageInspectJson = ({ record, config }: ImageInspectReport) => ({
  Id: record.id.slice(7),
  Digest: record.digest,
  RepoTags: record.names,
  RepoDigests: record.repoDigests,
  Parent: '',
  Comment: '',
  Created: record.created,
  Config: config.config ?? {},
  Version: '',
  Author: config.author ?? '',
  Architecture: record.architecture,
  Os: record.os,
  Size: record.size,
  VirtualSize: record.size,
  GraphDriver: { Name: 'overlay', Data: {} },
  RootFS: { Type: 'layers', Layers: config.rootfs.diff_ids },
  Labels: config.config?.Labels ?? null,
  Annotations: {},
  ManifestType: record.manifestMediaType,
  User: config.config?.User ?? '',
  History: config.history ?? [],
  NamesHistory: record.names,
});
