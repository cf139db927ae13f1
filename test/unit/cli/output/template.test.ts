import { describe, expect, it } from 'vitest';
import { CliError } from '../../../../src/errors.js';
import { renderTemplate, templateHeader } from '../../../../src/cli/output/template.js';

// Expected outputs are what Go's text/template (with Podman's report funcs) prints for the same template and data;
// where a case rests on reading Go's docs or source rather than on running Go, its comment says so.

const data = { ID: 'abc', Repository: 'r', Labels: { a: '1' }, List: ['x', 'y'], Nested: { Deep: { Value: 7 } } };
const render = (template: string, value: unknown = data) => renderTemplate(template, value);

// The CliError a template fails with, checked to be one EUSAGE line naming the template.
const failure = (template: string, value: unknown = data): CliError => {
  try {
    renderTemplate(template, value);
  } catch (e) {
    expect(e).toBeInstanceOf(CliError);
    const error = e as CliError;
    expect(error.code).toBe('EUSAGE');
    expect(error.message).not.toContain('\n');
    expect(error.message.startsWith(`template: ${JSON.stringify(template)}:`)).toBe(true);
    return error;
  }
  throw new Error(`${template} rendered without error`);
};

describe('templates', () => {
  it('renders fields, functions and escapes', () => {
    expect(render('{{.ID}}\\t{{ .Repository }}')).toBe('abc\tr');
    expect(render('{{json .Labels}}')).toBe('{"a":"1"}');
    expect(render('{{.Nested.Deep.Value}} {{upper .ID}} {{truncate .Repository 0}}|')).toBe('7 ABC |');
    expect(render('{{.List}}')).toBe('[x y]');
    expect(render('a\\nb')).toBe('a\nb');
  });

  it('rejects unknown fields and unclosed actions', () => {
    expect(() => render('{{.Nope}}')).toThrow(/can't evaluate field Nope/);
    expect(() => render('{{.ID')).toThrow(/unclosed/);
    expect(() => render('{{range .List}}')).toThrow(/unexpected EOF: \{\{range\}\} has no \{\{end\}\}/);
  });

  it('makes table headers', () => {
    expect(templateHeader('table {{.ID}}\\t{{.CreatedSince}}')).toBe('ID\tCREATED SINCE');
    expect(templateHeader('{{.ID}}')).toBeUndefined();
    expect(templateHeader('table {{.ID}}\\t{{upper .Names}}\\t{{if .Ports}}{{.Ports}}{{end}}\\t{{$.IPAddress}}{{$x := .ID}}')).toBe(
      'ID\tNAMES\tPORTS\tIP ADDRESS',
    );
    expect(render('table {{.ID}}\\t{{.Repository}}')).toBe('abc\tr');
  });
});

describe('values as fmt prints them', () => {
  it('prints dot, $, objects as sorted maps, arrays, nil and numbers as Go does', () => {
    expect(render('{{.}}', 'plain')).toBe('plain');
    expect(render('{{.}}', { b: 2, a: 'x' })).toBe('map[a:x b:2]');
    expect(render('{{$}}', ['a', 1, true])).toBe('[a 1 true]');
    expect(render('{{.}}', [{ k: [1, null] }])).toBe('[map[k:[1 <nil>]]]');
    expect(render('{{.A}}|{{.B}}', { A: null, B: undefined })).toBe('<no value>|<no value>');
    expect(render('{{.I}} {{.F}} {{.Big}} {{.Small}} {{.Mid}} {{.Neg}}', { I: 3, F: 1.5, Big: 1234567.5, Small: 0.00001, Mid: 123456.7, Neg: -0.25 })).toBe(
      '3 1.5 1.2345675e+06 1e-05 123456.7 -0.25',
    );
    expect(render('{{.T}} {{.F}}', { T: true, F: false })).toBe('true false');
  });

  it('looks fields up case-sensitively, as structs or as maps', () => {
    expect(render('{{.Labels.a}}')).toBe('1');
    // Labels is a map: a missing key prints <no value> (Go's default missingkey option).
    expect(render('{{.Labels.missing}}')).toBe('<no value>');
    expect(render('{{.Labels.missing.deeper}}')).toBe('<no value>');
    expect(failure('{{.id}}').message).toMatch(/can't evaluate field id$/);
    expect(failure('{{.Nested.Nope}}').message).toMatch(/can't evaluate field Nope$/);
    expect(failure('{{.ID.Length}}').message).toMatch(/can't evaluate field Length in type string$/);
    expect(failure('{{.ID "x"}}').message).toMatch(/ID has arguments but cannot be invoked as function$/);
  });

  it('reads literals', () => {
    expect(render('{{"a\\u00e9"}} {{`r\\aw`}} {{\'c\'}} {{1}} {{1.5}} {{true}} {{0x10}} {{-2}} {{1_000}} {{0o17}} {{.5}}')).toBe(
      'aé r\\aw 99 1 1.5 true 16 -2 1000 15 0.5',
    );
    expect(failure('{{nil}}').message).toMatch(/nil is not a command$/);
    expect(failure('{{1 2}}').message).toMatch(/can't give argument to non-function 1$/);
    expect(failure('{{"abc}}').message).toMatch(/unterminated quoted string$/);
    expect(failure('{{3x}}').message).toMatch(/bad number syntax: "3x"$/);
  });
});

describe('actions', () => {
  it('drops comments and trims around {{- and -}}', () => {
    expect(render('a {{/* note */}} b')).toBe('a  b');
    expect(render('a {{- /* note */ -}} b')).toBe('ab');
    expect(render(' x \\t {{- .ID -}} \\n y')).toBe(' xabcy');
    // "{{-3}}" is the number -3: a trim marker needs a space after the dash.
    expect(render('{{-3}}')).toBe('-3');
    expect(failure('{{/* open').message).toMatch(/unclosed comment$/);
    expect(failure('{{/* c */ .ID}}').message).toMatch(/comment ends before closing delimiter$/);
  });

  it('declares and assigns variables in their scope', () => {
    expect(render('{{$x := .ID}}{{$x}}-{{$x | upper}}')).toBe('abc-ABC');
    expect(render('{{$x := 1}}{{$x = 2}}{{$x}}')).toBe('2');
    expect(render('{{$n := "none"}}{{range .List}}{{$n = .}}{{end}}{{$n}}')).toBe('y');
    expect(render('{{range .List}}{{$.ID}}{{.}} {{end}}')).toBe('abcx abcy ');
    expect(failure('{{$y}}').message).toMatch(/undefined variable "\$y"$/);
    expect(failure('{{if true}}{{$z := 1}}{{end}}{{$z}}').message).toMatch(/undefined variable "\$z"$/);
    expect(failure('{{$w = 1}}').message).toMatch(/undefined variable "\$w"$/);
  });

  it('chains pipelines, passing each value as the last argument', () => {
    expect(render('{{.ID | upper}}')).toBe('ABC');
    expect(render('{{.ID | printf "%s-%s" "x"}}')).toBe('x-abc');
    expect(render('{{join .List ","}}')).toBe('x,y');
    // Go appends the piped value last, so this is join "," .List: Podman fails on it too.
    expect(failure('{{.List | join ","}}').message).toMatch(/wrong type for value; expected \[\]string; got string$/);
    expect(render('{{(index .List 1) | upper}} {{(.Nested).Deep.Value}} {{len (split "a,b,c" ",")}}')).toBe('Y 7 3');
    expect(failure('{{"a" | "b"}}').message).toMatch(/non executable command in pipeline stage 2$/);
    expect(failure('{{(.ID}}').message).toMatch(/unclosed left paren$/);
    expect(failure('{{.ID)}}').message).toMatch(/unexpected right paren$/);
  });
});

describe('control structures', () => {
  const truthy = { Zero: 0, Empty: '', None: [], NoKeys: {}, Nil: null, F: false, One: 1, S: 's', L: [0], M: { a: 0 }, Struct: { A: 1 } };

  it('tests truth as Go does', () => {
    const all = Object.keys(truthy).map((k) => `{{if .${k}}}1{{else}}0{{end}}`);
    expect(render(all.join(''), truthy)).toBe('00000011111');
  });

  it('runs if / else if / else and with / else with', () => {
    const tpl = '{{if eq .N 1}}one{{else if eq .N 3}}three{{else}}other{{end}}';
    expect([1, 3, 5].map((N) => render(tpl, { N }))).toEqual(['one', 'three', 'other']);
    expect(render('{{if $x := .ID}}{{$x}}{{end}}')).toBe('abc');
    expect(render('{{with .Nested.Deep}}{{.Value}}{{end}}')).toBe('7');
    expect(render('{{with .E}}a{{else}}b{{end}}', { E: '' })).toBe('b');
    expect(render('{{with $x := .ID}}{{$x}}{{.}}{{end}}')).toBe('abcabc');
    expect(render('{{with .E}}a{{else with .ID}}{{.}}{{end}}', { E: '', ID: 'z' })).toBe('z');
    expect(failure('{{if .ID}}x').message).toMatch(/unexpected EOF: \{\{if\}\} has no \{\{end\}\}$/);
    expect(failure('{{end}}').message).toMatch(/unexpected \{\{end\}\}$/);
    expect(failure('{{else}}').message).toMatch(/unexpected \{\{else\}\}$/);
    expect(failure('{{if 1}}a{{else}}b{{else}}c{{end}}').message).toMatch(/expected end; found \{\{else\}\}$/);
    expect(failure('{{if}}{{end}}').message).toMatch(/missing value for if$/);
  });

  it('ranges over arrays, objects in key order and integers, with else, break and continue', () => {
    expect(render('{{range .List}}[{{.}}]{{end}}')).toBe('[x][y]');
    expect(render('{{range $i, $v := .List}}{{$i}}={{$v}} {{end}}')).toBe('0=x 1=y ');
    expect(render('{{range $v := .List}}{{$v}}{{end}}')).toBe('xy');
    expect(render('{{range $k, $v := .M}}{{$k}}:{{$v}},{{end}}', { M: { b: 2, c: 3, a: 1 } })).toBe('a:1,b:2,c:3,');
    expect(render('{{range .M}}{{.}}{{end}}', { M: { b: 2, a: 1 } })).toBe('12');
    expect(render('{{range .None}}x{{else}}none{{end}}|{{range .Nil}}x{{else}}nil{{end}}', truthy)).toBe('none|nil');
    expect(render('{{range .N}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}', { N: [1, 2, 3, 4, 5] })).toBe('13');
    // Range over an integer arrived in Go 1.23 (release notes): 0 to N-1.
    expect(render('{{range 3}}{{.}}{{end}}')).toBe('012');
    expect(failure('{{range .ID}}{{end}}').message).toMatch(/range can't iterate over abc$/);
    expect(failure('{{break}}').message).toMatch(/\{\{break\}\} outside \{\{range\}\}$/);
    expect(failure('{{range .List}}{{else}}{{continue}}{{end}}').message).toMatch(/\{\{continue\}\} outside \{\{range\}\}$/);
  });

  it('defines and calls named templates', () => {
    expect(render('{{define "T"}}<{{.}}>{{end}}{{template "T" .ID}}{{template "T"}}')).toBe('<abc><<no value>>');
    expect(render('{{block "B" .List}}{{len .}}{{end}}')).toBe('2');
    expect(failure('{{template "nope"}}').message).toMatch(/template "nope" not defined$/);
  });
});

describe("Go's builtin functions", () => {
  it('and / or return the deciding operand and stop evaluating there', () => {
    expect(render('{{and 1 0 2}}|{{and 1 2}}|{{or 0 "" "x"}}|{{or 0 ""}}|{{not 0}}')).toBe('0|2|x||true');
    expect(render('{{and false (index .List 9)}} {{or true (index .List 9)}} {{.ID | and 1}}')).toBe('false true abc');
    expect(failure('{{and true (index .List 9)}}').message).toMatch(/error calling index: index out of range: 9$/);
  });

  it('compares with eq (any of several), ne, lt, le, gt, ge', () => {
    expect(render('{{eq .N 1 2 3}} {{eq "a" "b"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}', { N: 3 })).toBe(
      'true false true true true true false',
    );
    expect(failure('{{eq 1 "1"}}').message).toMatch(/error calling eq: incompatible types for comparison$/);
    expect(failure('{{lt true false}}').message).toMatch(/error calling lt: invalid type for comparison$/);
    expect(failure('{{eq 1}}').message).toMatch(/error calling eq: missing argument for comparison$/);
  });

  it('measures, indexes and slices', () => {
    // len counts a string's bytes, as Go does: é is two.
    expect(render('{{len .List}} {{len "héllo"}} {{len .Labels}}')).toBe('2 6 1');
    expect(render('{{index .List 1}} {{index .Labels "a"}} {{index .Grid 1 0}} {{index "abc" 1}}', { ...data, Grid: [[1, 2], [3]] })).toBe('y 1 3 98');
    // A missing key of a map of strings gives its zero value "" (Go's index on map[string]string).
    expect(render('[{{index .Labels "zz"}}]')).toBe('[]');
    expect(render('{{slice .List 1}} {{slice "abcdef" 1 3}} {{slice .List 0 0}}')).toBe('[y] bc []');
    expect(failure('{{index .List 5}}').message).toMatch(/error calling index: index out of range: 5$/);
    expect(failure('{{slice .List 2 1}}').message).toMatch(/error calling slice: invalid slice index: 2 > 1$/);
    expect(failure('{{len 3}}').message).toMatch(/error calling len: len of type int$/);
  });

  it('prints with print, println and printf as fmt does', () => {
    expect(render('{{print "a" 1 2 "b"}}|{{println "a" 1}}|')).toBe('a1 2b|a 1\n|');
    expect(render('{{printf "%s|%d|%v|%q|%t" "s" 42 .List "q" true}}')).toBe('s|42|[x y]|"q"|true');
    expect(render('{{printf "%x %X %x %o %b" 255 255 "hi" 8 5}}')).toBe('ff FF 6869 10 101');
    expect(render('{{printf "%f %.2f %e %g %v" 1.5 3.14159 1234.5 0.00001 2.5}}')).toBe('1.500000 3.14 1.234500e+03 1e-05 2.5');
    expect(render('{{printf "[%5s][%-10s][%05d][%+d][%6.2f][%-6d][%x]" "ab" "cd" 42 7 3.14159 42 -255}}')).toBe(
      '[   ab][cd        ][00042][+7][  3.14][42    ][-ff]',
    );
    expect(render('{{printf "100%%"}} {{printf "%c %U" 65 65}} {{printf "%q" .List}} {{printf "%.2s" "abc"}}')).toBe('100% A U+0041 ["x" "y"] ab');
    expect(render('{{printf "%d" "x"}} {{printf "%s"}} {{printf "%s" "a" 1}}')).toBe('%!d(string=x) %!s(MISSING) a%!(EXTRA int=1)');
    expect(render('{{printf "%v %s" .Nil .Nil}} {{printf "%q" "a\\"b\\x01"}}', { Nil: null })).toBe('<nil> %!s(<nil>) "a\\"b\\x01"');
  });

  it('escapes for html, js and urlquery', () => {
    expect(render('{{html "<a href=\'x\'>&</a>"}}')).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;');
    expect(render('{{js .S}}', { S: `it's <b>"q"</b>=\n` })).toBe(String.raw`it\'s \u003Cb\u003E\"q\"\u003C/b\u003E\u003D\u000A`);
    expect(render('{{urlquery "a b&c=d/é"}} {{html 1 2}}')).toBe('a+b%26c%3Dd%2F%C3%A9 1 2');
  });

  it('refuses call: JSON-like data holds no functions', () => {
    expect(failure('{{call .ID}}').message).toMatch(/error calling call: non-function of type string$/);
  });
});

describe("Podman's functions", () => {
  it('json, lower, upper, title', () => {
    expect(render('{{json .}}', { B: [1, 'x'], A: { c: null } })).toBe('{"B":[1,"x"],"A":{"c":null}}');
    expect(render('{{json .Labels.zz}} {{json "<&>"}}')).toBe('null "<&>"');
    expect(render('{{lower "AbC"}} {{upper "AbC"}} {{title "hello wORLD-foo_bar"}}')).toBe('abc ABC Hello WORLD-Foo_bar');
  });

  it('split, join, truncate (by characters), pad (spaces before and after a non-empty string)', () => {
    expect(render('{{split "a,b" ","}} {{index (split "a:b" ":") 1}} {{join .List ", "}}')).toBe('[a b] b x, y');
    expect(render('{{truncate "héllo" 2}}|{{truncate "ab" 5}}')).toBe('hé|ab');
    expect(render('[{{pad "x" 2 1}}][{{pad "" 2 1}}]')).toBe('[  x ][]');
    expect(failure('{{join .ID ","}}').message).toMatch(/wrong type for value; expected \[\]string; got string$/);
  });
});

describe('errors', () => {
  it('names the template, the place and what is wrong, on one line', () => {
    expect(failure('{{.ID}} {{.Nope}}').message).toBe(`template: "{{.ID}} {{.Nope}}":1:10: executing at <.Nope>: can't evaluate field Nope`);
    expect(failure('a\\n{{.Nope}}').message).toMatch(/^template: "a\\\\n\{\{\.Nope\}\}":2:2: /);
    expect(failure('{{nope .ID}}').message).toBe('template: "{{nope .ID}}":1: function "nope" not defined');
    expect(failure('{{upper}}').message).toMatch(/wrong number of args for upper: want 1 got 0$/);
    expect(failure('{{.ID | upper "x"}}').message).toMatch(/wrong number of args for upper: want 1 got 2$/);
    expect(failure('{{printf}}').message).toMatch(/wrong number of args for printf: want at least 1 got 0$/);
    expect(failure('{{.ID#}}').message).toMatch(/bad character U\+0023 '#'$/);
    expect(failure('{{}}').message).toMatch(/missing value for command$/);
  });

  it('keeps no state between renders of a cached template', () => {
    const tpl = '{{$x := .ID}}{{range .List}}{{$x = .}}{{end}}{{$x}}';
    expect(render(tpl, { ID: 'a', List: [] })).toBe('a');
    expect(render(tpl, { ID: 'b', List: ['c'] })).toBe('c');
    expect(render(tpl, { ID: 'd', List: [] })).toBe('d');
  });
});
