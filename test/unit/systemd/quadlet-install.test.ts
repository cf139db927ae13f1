import { describe, expect, it } from 'vitest';
import { isQuadletFile, translateQuadlet } from '../../../src/systemd/quadlet.js';
import { errorsOf, SKIFF, unitOf } from './quadlet-helpers.js';

describe('[Install] as symlinks', () => {
  it('makes WantedBy=, RequiredBy=, UpheldBy= and Alias= the links systemctl enable would', () => {
    const unit = unitOf(
      'web.container',
      '[Container]\nImage=x\n[Install]\nWantedBy=default.target multi-user.target\nWantedBy=timers.target\nRequiredBy=app.target\nUpheldBy=up.target\nAlias=www.service\n',
    );
    expect(unit.links).toEqual([
      { path: 'www.service', target: 'web.service' },
      { path: 'default.target.wants/web.service', target: '../web.service' },
      { path: 'multi-user.target.wants/web.service', target: '../web.service' },
      { path: 'timers.target.wants/web.service', target: '../web.service' },
      { path: 'app.target.requires/web.service', target: '../web.service' },
      { path: 'up.target.upholds/web.service', target: '../web.service' },
    ]);
  });

  it('links a volume or network service the same way, and an empty WantedBy= resets the list', () => {
    expect(unitOf('d.volume', '[Volume]\n[Install]\nWantedBy=a.target\nWantedBy=\nWantedBy=default.target\n').links).toEqual([
      { path: 'default.target.wants/d-volume.service', target: '../d-volume.service' },
    ]);
  });

  it('installs a template as its DefaultInstance=, or not at all', () => {
    expect(unitOf('app@.container', '[Container]\nImage=x\n[Install]\nWantedBy=default.target\nDefaultInstance=one\n').links).toEqual([
      { path: 'default.target.wants/app@one.service', target: '../app@.service' },
    ]);
    expect(unitOf('app@.container', '[Container]\nImage=x\n[Install]\nWantedBy=default.target\n').links).toEqual([]);
  });

  it('refuses a path where a unit name goes', () => {
    expect(errorsOf('web.container', '[Container]\nImage=x\n[Install]\nWantedBy=../../etc/x.target\nAlias=a/b.service\n')).toEqual([
      "/q/web.container:4: invalid WantedBy '../../etc/x.target': use a unit name (not a path)",
      "/q/web.container:5: invalid Alias 'a/b.service': use a unit name (not a path)",
    ]);
  });
});

describe('file types and names', () => {
  it('reads .container, .volume and .network files, and names Podman-only ones', () => {
    expect(['a.container', 'a.volume', 'a.network', 'a.kube', 'a.pod'].every(isQuadletFile)).toBe(true);
    expect(['a.service', 'a.container~', 'README'].some(isQuadletFile)).toBe(false);
    expect(errorsOf('web.kube', '[Kube]\nYaml=x.yml\n')).toEqual([
      "/q/web.kube:1: .kube files are Podman's: skiff translates .container, .volume and .network files",
    ]);
    expect(errorsOf('web.txt', '')).toEqual(['/q/web.txt:1: skiff translates only .container, .volume and .network files']);
  });

  it('refuses a file name that makes no valid unit name', () => {
    expect(errorsOf('my web.container', '[Container]\nImage=x\n')).toEqual(["/q/my web.container:1: 'my web.service' is not a valid systemd unit name"]);
    expect(errorsOf('.container', '[Container]\nImage=x\n')).toEqual(["/q/.container:1: '.service' is not a valid systemd unit name"]);
  });

  it('leaves SourcePath= out for a file given by a relative path', () => {
    const result = translateQuadlet('web.container', '[Container]\nImage=x\n', SKIFF);
    expect('unitText' in result && result.unitText).not.toContain('SourcePath=');
  });
});
