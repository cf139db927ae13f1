// Podman-compatible shapes of image data for --format json and templates.
import type { ImageInspectReport, ImageSummary, ImageTreeReport, LayerNode } from '../../engine/index.js';
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
  History: s.history,
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
  History: s.history.join(', '),
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
  NamesHistory: record.namesHistory ?? record.names,
});

// Docker's units.HumanSizeWithPrecision(size, 4): decimal units, four significant digits ("1.987MB").
const goHumanSize = (bytes: number): string => {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < units.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(4))}${units[i]}`;
};

type TreeItem = { text: string; items: TreeItem[] };

// gotree's rendering, as Podman prints trees: ├── and └── before items, │ under the open ones.
const renderItems = (items: TreeItem[], spaces: boolean[]): string =>
  items
    .map((item, i) => {
      const last = i === items.length - 1;
      const prefix = spaces.map((s) => (s ? '    ' : '│   ')).join('');
      const lines = item.text.split('\n');
      const text = lines.map((line, n) => `${prefix}${n === 0 ? (last ? '└── ' : '├── ') : last ? '    ' : '│   '}${line}\n`).join('');
      return text + (item.items.length ? renderItems(item.items, [...spaces, last]) : '');
    })
    .join('');

const layerLine = (node: LayerNode): string =>
  `ID: ${node.id.slice(7, 19)} Size: ${goHumanSize(node.size).padStart(7)}${node.topOf.length ? ` Top Layer of: [${node.topOf.join(' ')}]` : ''}`;

// A --whatrequires node: linear where it has no siblings, a branch of its own where it has.
const requiredItems = (node: LayerNode, parentChildren: number, into: TreeItem[]): void => {
  const item: TreeItem = { text: layerLine(node), items: [] };
  into.push(item);
  const next = parentChildren <= 1 ? into : item.items;
  for (const child of node.children) requiredItems(child, node.children.length, next);
};

// `image tree` as Podman prints it (libimage's Tree), its trailing blank line included.
export const renderImageTree = (report: ImageTreeReport): string => {
  const header = [
    `Image ID: ${report.id.slice(7, 19)}`,
    `Tags:     [${report.names.join(' ')}]`,
    `Size:     ${goHumanSize(report.size)}`,
    report.layers.length ? 'Image Layers' : 'No Image Layers',
  ].join('\n');
  const items: TreeItem[] = [];
  if (report.whatRequires) for (const node of report.layers) requiredItems(node, 1, items);
  else for (const node of report.layers) items.push({ text: layerLine(node), items: [] });
  return `${header}\n${renderItems(items, [])}\n`;
};
