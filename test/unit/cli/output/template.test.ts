import { describe, expect, it } from 'vitest';
import { renderTemplate, templateHeader } from '../../../../src/cli/output/template.js';

describe('templates', () => {
  const data = { ID: 'abc', Repository: 'r', Labels: { a: '1' }, List: ['x', 'y'], Nested: { Deep: { Value: 7 } } };
  it('renders fields, functions and escapes', () => {
    expect(renderTemplate('{{.ID}}\\t{{ .Repository }}', data)).toBe('abc\tr');
    expect(renderTemplate('{{json .Labels}}', data)).toBe('{"a":"1"}');
    expect(renderTemplate('{{.Nested.Deep.Value}} {{upper .ID}} {{truncate .Repository 0}}|', data)).toBe('7 ABC |');
    expect(renderTemplate('{{.List}}', data)).toBe('[x y]');
  });
  it('rejects unknown fields and unclosed actions', () => {
    expect(() => renderTemplate('{{.Nope}}', data)).toThrow(/can't evaluate field Nope/);
    expect(() => renderTemplate('{{.ID', data)).toThrow(/unclosed/);
    expect(() => renderTemplate('{{range .List}}', data)).toThrow(/unsupported expression/);
  });
  it('makes table headers', () => {
    expect(templateHeader('table {{.ID}}\\t{{.CreatedSince}}')).toBe('ID\tCREATED SINCE');
    expect(templateHeader('{{.ID}}')).toBeUndefined();
  });
});
