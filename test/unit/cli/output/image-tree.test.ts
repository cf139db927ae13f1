import { describe, expect, it } from 'vitest';
import { renderImageTree } from '../../../../src/cli/output/image.js';
import type { LayerNode } from '../../../../src/engine/index.js';

const layer = (hex: string, size: number, topOf: string[] = [], children: LayerNode[] = []): LayerNode => ({
  id: `sha256:${hex.repeat(64 / hex.length)}`,
  size,
  topOf,
  children,
});

describe('renderImageTree', () => {
  it("prints an image's layers as Podman's image tree does", () => {
    const out = renderImageTree({
      id: `sha256:${'71f1bef1dfce'.padEnd(64, '0')}`,
      names: ['localhost/bb:1', 'quay.io/foo/bar:x'],
      size: 1987999,
      layers: [layer('ec4a', 1986560, ['localhost/bb:1', 'quay.io/foo/bar:x']), layer('a33c', 2560), layer('0924', 2048, ['localhost/child:1'])],
      whatRequires: false,
    });
    expect(out).toBe(
      [
        'Image ID: 71f1bef1dfce',
        'Tags:     [localhost/bb:1 quay.io/foo/bar:x]',
        'Size:     1.988MB',
        'Image Layers',
        '├── ID: ec4aec4aec4a Size: 1.987MB Top Layer of: [localhost/bb:1 quay.io/foo/bar:x]',
        '├── ID: a33ca33ca33c Size:  2.56kB',
        '└── ID: 092409240924 Size: 2.048kB Top Layer of: [localhost/child:1]',
        '',
        '',
      ].join('\n'),
    );
  });

  // libimage's traversal: a layer without siblings goes on in its parent's list, a layer with
  // siblings gets a branch of its own for its children.
  it('branches --whatrequires where a layer has siblings', () => {
    const out = renderImageTree({
      id: `sha256:${'1'.repeat(64)}`,
      names: [],
      size: 512,
      layers: [layer('aa', 512, ['base:1'], [layer('bb', 100, ['one:1']), layer('cc', 999, [], [layer('dd', 1000, ['two:1'])])])],
      whatRequires: true,
    });
    expect(out.split('\n').slice(4)).toEqual([
      '├── ID: aaaaaaaaaaaa Size:    512B Top Layer of: [base:1]',
      '├── ID: bbbbbbbbbbbb Size:    100B Top Layer of: [one:1]',
      '└── ID: cccccccccccc Size:    999B',
      '    └── ID: dddddddddddd Size:     1kB Top Layer of: [two:1]',
      '',
      '',
    ]);
  });
});
