// Parsing: the tree of a template (text, actions, pipelines, if/with/range, define/block/template) built from the lexed pieces.
import { FUNCS } from './functions.js';
import { type Piece, parseError, type Tok } from './lexer.js';
import type { Span, Src, Value } from './values.js';

export type Arg = Span &
  (
    | { kind: 'field'; names: string[] }
    | { kind: 'var'; name: string; names: string[] }
    | { kind: 'chain'; base: Arg; names: string[] }
    | { kind: 'func'; name: string }
    | { kind: 'pipe'; pipe: Pipe }
    | { kind: 'dot' | 'nil' }
    | { kind: 'literal'; value: Value }
  );
export interface Cmd extends Span {
  args: Arg[];
}
export interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
}
export type Control = { kind: 'if' | 'with' | 'range'; pipe: Pipe; list: Node[]; elseList?: Node[] };
export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipe }
  | Control
  | { kind: 'break' | 'continue' }
  | (Span & { kind: 'template'; name: string; pipe?: Pipe });
export interface Parsed {
  src: Src;
  root: Node[];
  defines: Map<string, Node[]>;
}

// The tokens of one action, read left to right.
class Stream {
  k = 0;
  constructor(
    readonly toks: Tok[],
    readonly pos: number,
  ) {}
  // The token n ahead, without taking it.
  peek(n = 0): Tok | undefined {
    return this.toks[this.k + n];
  }
  // Takes the next token.
  next(): Tok | undefined {
    return this.toks[this.k++];
  }
}

// Builds the tree from the lexed pieces, checking as Go's parser does: functions exist, variables are declared,
// every block has its {{end}}, break and continue sit inside a range.
export class Parser {
  private i = 0;
  private vars = ['$'];
  private rangeDepth = 0;
  readonly defines = new Map<string, Node[]>();
  constructor(
    private readonly src: Src,
    private readonly pieces: Piece[],
  ) {}

  // A parse error at the action starting at pos.
  private fail(pos: number, msg: string): never {
    return parseError(this.src, pos, msg);
  }

  // Nodes up to the {{end}} or {{else}} closing the block ctx (or to the end of the template, when ctx is unset).
  list(ctx?: string): { nodes: Node[]; stop?: { kw: string; ts: Stream } } {
    const nodes: Node[] = [];
    while (this.i < this.pieces.length) {
      const piece = this.pieces[this.i++];
      if (piece.kind === 'text') {
        nodes.push(piece);
        continue;
      }
      const ts = new Stream(piece.toks, piece.pos);
      const kw = ts.peek()?.t === 'keyword' ? ts.next()!.v : undefined;
      const span = { pos: piece.toks[0]?.pos ?? piece.pos, end: piece.toks.at(-1)?.end ?? piece.pos };
      switch (kw) {
        case 'end':
        case 'else':
          if (!ctx || (kw === 'else' && !['if', 'with', 'range'].includes(ctx))) this.fail(piece.pos, `unexpected {{${kw}}}`);
          if (kw === 'end') this.done(ts, 'end');
          return { nodes, stop: { kw, ts } };
        case 'if':
        case 'with':
        case 'range':
          nodes.push(this.control(kw, ts));
          break;
        case 'break':
        case 'continue':
          if (!this.rangeDepth) this.fail(piece.pos, `{{${kw}}} outside {{range}}`);
          this.done(ts, kw);
          nodes.push({ kind: kw });
          break;
        case 'define':
        case 'block': {
          if (kw === 'define' && ctx) this.fail(piece.pos, `unexpected {{define}} inside {{${ctx}}}`);
          const name = this.templateName(ts, kw);
          const pipe = kw === 'block' ? this.pipeline(ts, kw) : undefined;
          this.done(ts, kw);
          this.definition(name, kw);
          if (pipe) nodes.push({ kind: 'template', name, pipe, ...span });
          break;
        }
        case 'template': {
          const name = this.templateName(ts, kw);
          const pipe = ts.peek() ? this.pipeline(ts, kw) : undefined;
          this.done(ts, kw);
          nodes.push({ kind: 'template', name, pipe, ...span });
          break;
        }
        default: {
          const pipe = this.pipeline(ts, 'command');
          this.done(ts, 'command');
          nodes.push({ kind: 'action', pipe });
        }
      }
    }
    if (ctx) this.fail(this.src.text.length, `unexpected EOF: {{${ctx}}} has no {{end}}`);
    return { nodes };
  }

  // The name of a define, block or template: a string constant.
  private templateName(ts: Stream, ctx: string): string {
    const t = ts.next();
    if (t?.t !== 'string') return this.fail(ts.pos, `unexpected ${t ? JSON.stringify(t.v) : 'end of action'} in ${ctx} clause`);
    return t.value as string;
  }

  // The body of a define or block, which sees no variables but $.
  private definition(name: string, ctx: string): void {
    const [vars, depth] = [this.vars, this.rangeDepth];
    [this.vars, this.rangeDepth] = [['$'], 0];
    this.defines.set(name, this.list(ctx).nodes);
    [this.vars, this.rangeDepth] = [vars, depth];
  }

  // if / with / range: the pipeline, the body, and an else (or else-if / else-with chain needing a single {{end}}).
  private control(kw: Control['kind'], ts: Stream): Control {
    const mark = this.vars.length;
    const pipe = this.pipeline(ts, kw);
    this.done(ts, kw);
    this.rangeDepth += kw === 'range' ? 1 : 0;
    const body = this.list(kw);
    this.rangeDepth -= kw === 'range' ? 1 : 0;
    let elseList: Node[] | undefined;
    if (body.stop?.kw === 'else') {
      const ets = body.stop.ts;
      const next = ets.peek();
      if (kw !== 'range' && next?.t === 'keyword' && next.v === kw) {
        ets.next();
        elseList = [this.control(kw, ets)];
      } else {
        this.done(ets, 'else');
        const rest = this.list(kw);
        if (rest.stop?.kw === 'else') this.fail(rest.stop.ts.pos, 'expected end; found {{else}}');
        elseList = rest.nodes;
      }
    }
    this.vars.length = mark;
    return { kind: kw, pipe, list: body.nodes, elseList };
  }

  // Fails unless the action's tokens are all used.
  private done(ts: Stream, ctx: string): void {
    const t = ts.peek();
    if (t) this.fail(ts.pos, t.t === ')' ? 'unexpected right paren' : `unexpected ${JSON.stringify(t.v)} in ${ctx}`);
  }

  // [$x :=|= | $i, $v :=] command | command ...
  private pipeline(ts: Stream, ctx: string): Pipe {
    const pipe: Pipe = { decl: [], assign: false, cmds: [] };
    const [a, b, c, d] = [ts.peek(), ts.peek(1), ts.peek(2), ts.peek(3)];
    if (a?.t === 'var' && (b?.t === ':=' || b?.t === '=')) [pipe.decl, pipe.assign, ts.k] = [[a.v], b.t === '=', ts.k + 2];
    else if (a?.t === 'var' && b?.t === ',') {
      if (ctx !== 'range') this.fail(ts.pos, `too many declarations in ${ctx}`);
      if (c?.t !== 'var' || (d?.t !== ':=' && d?.t !== '=')) return this.fail(ts.pos, 'range can only initialize variables');
      [pipe.decl, pipe.assign, ts.k] = [[a.v, c.v], d.t === '=', ts.k + 4];
    }
    for (const v of pipe.assign ? pipe.decl : []) if (!this.vars.includes(v)) this.fail(ts.pos, `undefined variable "${v}"`);
    for (;;) {
      const cmd = this.command(ts) ?? this.fail(ts.pos, pipe.cmds.length ? 'empty command' : `missing value for ${ctx}`);
      if (pipe.cmds.length && ['literal', 'dot', 'nil'].includes(cmd.args[0].kind)) {
        this.fail(ts.pos, `non executable command in pipeline stage ${pipe.cmds.length + 1}`);
      }
      pipe.cmds.push(cmd);
      if (ts.peek()?.t !== '|') break;
      ts.next();
    }
    if (!pipe.assign) this.vars.push(...pipe.decl);
    return pipe;
  }

  // Space-separated operands up to | or ) or the end of the action.
  private command(ts: Stream): Cmd | undefined {
    const args: Arg[] = [];
    for (let t = ts.peek(); t && t.t !== '|' && t.t !== ')'; t = ts.peek()) {
      args.push(this.operand(ts) ?? this.fail(ts.pos, `unexpected ${JSON.stringify(t.v)} in operand`));
      const n = ts.peek();
      if (n && n.t !== '|' && n.t !== ')' && !n.sp) this.fail(ts.pos, `unexpected ${JSON.stringify(n.v)} in operand`);
    }
    return args.length ? { args, pos: args[0].pos, end: args[args.length - 1].end } : undefined;
  }

  // A term followed by .Field.Chain written against it.
  private operand(ts: Stream): Arg | undefined {
    const term = this.term(ts);
    const names: string[] = [];
    let end = term?.end ?? 0;
    for (let t = ts.peek(); term && t?.t === 'field' && !t.sp; t = ts.peek()) {
      names.push(ts.next()!.v.slice(1));
      end = t.end;
    }
    if (!term || !names.length) return term;
    if (term.kind === 'field' || term.kind === 'var') return { ...term, names: [...term.names, ...names], end };
    if (term.kind === 'literal' || term.kind === 'dot' || term.kind === 'nil') {
      this.fail(ts.pos, `unexpected . after term ${JSON.stringify(this.src.text.slice(term.pos, term.end))}`);
    }
    return { kind: 'chain', base: term, names, pos: term.pos, end };
  }

  // One operand: a function name, ., nil, $var, .Field, a constant or a (parenthesized pipeline).
  private term(ts: Stream): Arg | undefined {
    const t = ts.peek();
    if (!t) return undefined;
    const span = { pos: t.pos, end: t.end };
    switch (t.t) {
      case 'ident':
        if (!Object.hasOwn(FUNCS, t.v)) this.fail(ts.pos, `function "${t.v}" not defined`);
        ts.next();
        return { kind: 'func', name: t.v, ...span };
      case 'dot':
      case 'nil':
        ts.next();
        return { kind: t.t, ...span };
      case 'bool':
      case 'number':
      case 'string':
        ts.next();
        return { kind: 'literal', value: t.value, ...span };
      case 'var':
        if (!this.vars.includes(t.v)) this.fail(ts.pos, `undefined variable "${t.v}"`);
        ts.next();
        return { kind: 'var', name: t.v, names: [], ...span };
      case 'field':
        ts.next();
        return { kind: 'field', names: [t.v.slice(1)], ...span };
      case '(': {
        ts.next();
        const pipe = this.pipeline(ts, 'parenthesized pipeline');
        const close = ts.next();
        if (close?.t !== ')') return this.fail(ts.pos, 'unclosed left paren');
        return { kind: 'pipe', pipe, pos: t.pos, end: close.end };
      }
    }
    return undefined;
  }
}
