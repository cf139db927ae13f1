import { describe, expect, it } from 'vitest';
import { parseDriverOpts, secretFilter, splitCsv } from '../../../src/engine/secrets.js';
import type { SecretRecord } from '../../../src/storage/secrets.js';

describe('--driver-opts', () => {
  it("splits as Go's CSV reader: commas, quoted fields with commas and doubled quotes", () => {
    expect(splitCsv('a=1,b=2')).toEqual(['a=1', 'b=2']);
    expect(splitCsv('"store=cat > x,y",c=3')).toEqual(['store=cat > x,y', 'c=3']);
    expect(splitCsv('"a=say ""hi"""')).toEqual(['a=say "hi"']);
    expect(() => splitCsv('"a=1')).toThrow(/quote is not closed/);
    expect(() => splitCsv('"a=1"x')).toThrow(/after a closing quote/);
  });

  it('merges repeated flags, later keys winning, and refuses a field without KEY=', () => {
    expect(parseDriverOpts(['list=ls,lookup=cat $SECRET_ID', 'lookup=cat x', 'path=/a=b'])).toEqual({ list: 'ls', lookup: 'cat x', path: '/a=b' });
    expect(() => parseDriverOpts(['novalue'])).toThrow(/KEY=VALUE/);
    expect(() => parseDriverOpts(['=x'])).toThrow(/KEY=VALUE/);
  });
});

describe('secret ls --filter', () => {
  const secret = (Name: string, ID: string, Driver: string, Labels: Record<string, string> = {}): SecretRecord => ({
    ID,
    Name,
    Driver,
    DriverOptions: {},
    Labels,
    CreatedAt: '',
    UpdatedAt: '',
  });
  const all = [secret('db-pass', 'aaa111', 'file', { app: 'db' }), secret('web-key', 'bbb222', 'shell', { app: 'web', tier: '' })];
  const names = (...filters: string[]) => all.filter(secretFilter(filters)).map((s) => s.Name);

  it('matches name= and id= as regular expressions, driver= and label= exactly; one key twice is either, two keys both', () => {
    expect(names('name=^db')).toEqual(['db-pass']);
    expect(names('name=key$', 'name=^db')).toEqual(['db-pass', 'web-key']);
    expect(names('id=^bbb')).toEqual(['web-key']);
    expect(names('driver=shell')).toEqual(['web-key']);
    expect(names('label=app=db')).toEqual(['db-pass']);
    expect(names('label=tier')).toEqual(['web-key']);
    expect(names('label=app', 'driver=file')).toEqual(['db-pass']);
    expect(names()).toEqual(['db-pass', 'web-key']);
  });

  it('refuses an unknown key or a bad expression', () => {
    expect(() => names('dangling=true')).toThrow(/invalid secret filter "dangling=true"/);
    expect(() => names('name')).toThrow(/invalid secret filter/);
    expect(() => names('name=(')).toThrow(/not a regular expression/);
  });
});
