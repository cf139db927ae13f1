import { describe, expect, it } from 'vitest';
import { quadletRef } from '../../../src/systemd/quadlet.js';
import { commandOf, errorsOf, SKIFF, unitOf, valuesOf } from './quadlet-helpers.js';

describe('a .volume file', () => {
  it('becomes NAME-volume.service, a oneshot creating systemd-NAME once', () => {
    const unit = unitOf('data.volume', '[Volume]\n');
    expect(unit.unitName).toBe('data-volume.service');
    expect(commandOf(unit, 'ExecStart')).toEqual([SKIFF, 'volume', 'create', '--ignore', 'systemd-data']);
    expect(valuesOf(unit, 'Service', 'Type')).toEqual(['oneshot']);
    expect(valuesOf(unit, 'Service', 'RemainAfterExit')).toEqual(['yes']);
    expect(valuesOf(unit, 'Service', 'SyslogIdentifier')).toEqual(['%N']);
    expect(valuesOf(unit, 'X-Volume', 'VolumeName')).toEqual([]);
  });

  it('takes VolumeName=, Label=, Driver=local, a tmpfs Device=/Type=/Options=, PodmanArgs= and GlobalArgs=', () => {
    const unit = unitOf(
      'cache.volume',
      '[Volume]\nVolumeName=webcache\nLabel=app=web "note=two words"\nDriver=local\nDevice=tmpfs\nType=tmpfs\nOptions=size=64m\nPodmanArgs=--label extra=1\nGlobalArgs=--root /srv/store\n[Service]\nTimeoutStartSec=30\n',
    );
    expect(commandOf(unit, 'ExecStart')).toEqual([
      SKIFF,
      '--root',
      '/srv/store',
      'volume',
      'create',
      '--ignore',
      '--driver=local',
      '--opt=device=tmpfs',
      '--opt=type=tmpfs',
      '--opt=o=size=64m',
      '--label=app=web',
      '--label=note=two words',
      '--label',
      'extra=1',
      'webcache',
    ]);
    expect(valuesOf(unit, 'Service', 'TimeoutStartSec')).toEqual(['30']);
  });

  it('lets the user set the service type', () => {
    expect(valuesOf(unitOf('d.volume', '[Volume]\n[Service]\nRemainAfterExit=no\n'), 'Service', 'RemainAfterExit')).toEqual(['no']);
  });

  it('refuses what skiff volumes cannot do, each at its line', () => {
    expect(
      errorsOf('d.volume', '[Volume]\nDriver=image\nType=nfs\nOptions=addr=1.2.3.4\nCopy=yes\nUser=1000\nVolumeName=bad/name\nWhat=1\n[Container]\nImage=x\n'),
    ).toEqual([
      "/q/d.volume:2: invalid Driver 'image': skiff's volumes have only the local driver",
      "/q/d.volume:3: key Type can't be used without Device",
      "/q/d.volume:3: invalid Type 'nfs': skiff's volumes mount only a tmpfs (Type=tmpfs, Device=tmpfs)",
      "/q/d.volume:4: key Options can't be used without Device",
      '/q/d.volume:5: key Copy in [Volume] is not supported by skiff: skiff volume create has no copy or nocopy option',
      '/q/d.volume:6: key User in [Volume] is not supported by skiff: skiff volume create has no uid= option',
      '/q/d.volume:7: VolumeName=: invalid volume name "bad/name": use letters, digits, _ . - (starting with a letter or digit)',
      "/q/d.volume:8: unsupported key 'What' in [Volume]",
      '/q/d.volume:9: unsupported section [Container] in a .volume file',
    ]);
  });
});

describe('a .network file', () => {
  it('becomes NAME-network.service, a oneshot creating systemd-NAME once', () => {
    const unit = unitOf('front.network', '[Network]\n');
    expect(unit.unitName).toBe('front-network.service');
    expect(commandOf(unit, 'ExecStart')).toEqual([SKIFF, 'network', 'create', '--ignore', 'systemd-front']);
    expect(valuesOf(unit, 'Service', 'Type')).toEqual(['oneshot']);
    expect(valuesOf(unit, 'Service', 'RemainAfterExit')).toEqual(['yes']);
    expect(valuesOf(unit, 'Service', 'ExecStopPost')).toEqual([]);
  });

  it('takes NetworkName=, Driver=bridge, Subnet=, Internal=, Label=, PodmanArgs= and NetworkDeleteOnStop=', () => {
    const unit = unitOf(
      'front.network',
      '[Network]\nNetworkName=web\nDriver=bridge\nSubnet=10.89.7.0/24\nInternal=yes\nLabel=app=web\nPodmanArgs=--label x=y\nNetworkDeleteOnStop=true\n',
    );
    expect(commandOf(unit, 'ExecStart')).toEqual([
      SKIFF,
      'network',
      'create',
      '--ignore',
      '--driver=bridge',
      '--subnet=10.89.7.0/24',
      '--internal',
      '--label=app=web',
      '--label',
      'x=y',
      'web',
    ]);
    expect(commandOf(unit, 'ExecStopPost')).toEqual([SKIFF, 'network', 'rm', 'web']);
  });

  it('refuses what skiff networks cannot do, each at its line', () => {
    expect(
      errorsOf('n.network', '[Network]\nSubnet=10.89.7.0/24\nSubnet=10.89.8.0/24\nGateway=10.89.7.1\nIPv6=yes\nDriver=macvlan\nInternal=sometimes\n'),
    ).toEqual([
      '/q/n.network:3: skiff network create takes one Subnet= (an IPv4 one)',
      "/q/n.network:4: key Gateway in [Network] is not supported by skiff: skiff's networks take only --subnet, --internal and --label",
      '/q/n.network:5: key IPv6 in [Network] is not supported by skiff: skiff networks are IPv4 only',
      "/q/n.network:6: invalid Driver 'macvlan': skiff's networks have only the bridge driver",
      "/q/n.network:7: invalid Internal 'sometimes': use a boolean (yes or no)",
    ]);
    expect(errorsOf('n.network', '[Network]\nSubnet=fd00::/64\n')).toEqual([
      "/q/n.network:2: invalid Subnet 'fd00::/64': use an IPv4 CIDR such as 10.89.5.0/24",
    ]);
  });
});

describe('quadletRef', () => {
  it("says what each file makes, for the others' references", () => {
    expect(quadletRef('data.volume', '[Volume]\n')).toEqual({ unitName: 'data-volume.service', resourceName: 'systemd-data' });
    expect(quadletRef('data.volume', '[Volume]\nVolumeName="webdata"\n')).toEqual({ unitName: 'data-volume.service', resourceName: 'webdata' });
    expect(quadletRef('front.network', '[Network]\nNetworkName=web\n')).toEqual({ unitName: 'front-network.service', resourceName: 'web' });
    expect(quadletRef('db.container', '[Container]\nContainerName=%N-main\n')).toEqual({ unitName: 'db.service', resourceName: 'db-main' });
    expect(quadletRef('db.container', '[Container]\nContainerName=%u-db\n')).toEqual({ unitName: 'db.service', resourceName: undefined });
    expect(quadletRef('x.kube', '')).toBeUndefined();
  });
});
