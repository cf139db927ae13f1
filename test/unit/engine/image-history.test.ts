import { describe, expect, it } from 'vitest';
import { imageHistory } from '../../../src/engine/image-history.js';
import type { ImageConfig } from '../../../src/image-format.js';
import type { ImageRecord } from '../../../src/storage/image-store.js';
import type { LayerRecord } from '../../../src/storage/layer-store.js';

const image = (id: string, layers: string[]): ImageRecord =>
  ({ id, names: [], repoDigests: [], digest: '', manifestMediaType: '', layers, size: 0, created: '', stored: '', architecture: '', os: '' }) as ImageRecord;
const layer = (chainId: string, tarSize: number | undefined, size: number): LayerRecord => ({ chainId, diffId: chainId, tarSize, size, created: '' });

describe('history', () => {
  it("walks the layers down from the newest entry, as libimage's History", () => {
    const layers = new Map([
      ['L0', layer('L0', 1998336, 1982000)],
      ['L1', layer('L1', 6656, 12)],
      ['L2', layer('L2', undefined, 300)],
    ]);
    const config = {
      history: [
        { created: '2024-01-01T00:00:00Z', created_by: 'layer 0' },
        { created: '2024-01-02T00:00:00Z', created_by: 'layer 1' },
        { created: '2024-01-03T00:00:00Z', created_by: 'ENV X=1', empty_layer: true },
        { created: '2024-01-04T00:00:00Z', created_by: 'layer 2', comment: 'made here' },
        { created: '2024-01-05T00:00:00Z', created_by: 'CMD sh', empty_layer: true },
      ],
    } as ImageConfig;
    const top = image('sha256:top', ['L0', 'L1', 'L2']);
    const base = image('sha256:base', ['L0', 'L1']);
    const entries = imageHistory(top, config, (id) => layers.get(id), [top, base]);
    expect(entries.map((e) => [e.id, e.createdBy, e.size, e.comment])).toEqual([
      // The image on the top layer once, then the image whose top is L1 (its parent).
      ['sha256:top', 'CMD sh', 0, ''],
      ['<missing>', 'layer 2', 300, 'made here'],
      ['sha256:base', 'ENV X=1', 0, ''],
      ['<missing>', 'layer 1', 6656, ''],
      ['<missing>', 'layer 0', 1998336, ''],
    ]);
  });
});
