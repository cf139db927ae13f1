// Evaluation: one execution of a parsed template over one value, as Go's exec.go runs it, with its execution errors.
import { CliError } from '../../../errors.js';
import { fmtV } from './fmt.js';
import { FUNCS, FuncError } from './functions.js';
import { lineCol } from './lexer.js';
import type { Arg, Cmd, Control, Node, Parsed, Pipe } from './parser.js';
import { isObject, isStructLike, keysOf, type Span, truth, typeName, type Value } from './values.js';

const MISSING = Symbol('no piped value');
type Signal = 'break' | 'continue' | undefined;

// One execution of a parsed template over one value: Go's exec.go state (output, variable stack, template depth).
export class Exec {
  out = '';
  private vars: [string, Value][];
  private depth = 0;
  constructor(
    readonly t: Parsed,
    data: Value,
  ) {
    this.vars = [['$', data]];
  }

  // An execution error, located as Go locates it: line, column and the text of the action part that failed.
  private fail(at: Span, msg: string): never {
    const [line, col] = lineCol(this.t.src.text, at.pos);
    const context = this.t.src.text.slice(at.pos, at.end).replace(/\s+/g, ' ');
    throw new CliError('EUSAGE', `template: ${this.t.src.name}:${line}:${col}: executing at <${context}>: ${msg}`);
  }

  // Walks a list of nodes, stopping at a break or continue for the enclosing range.
  walk(dot: Value, nodes: Node[]): Signal {
    for (const n of nodes) {
      const signal = this.node(dot, n);
      if (signal) return signal;
    }
    return undefined;
  }

  // Writes one node's output: text, an action's value (unless it declares), or a control structure's chosen branch.
  private node(dot: Value, n: Node): Signal {
    switch (n.kind) {
      case 'text':
        this.out += n.text;
        return undefined;
      case 'action': {
        const v = this.pipe(dot, n.pipe);
        if (!n.pipe.decl.length) this.out += v === undefined || v === null ? '<no value>' : fmtV(v);
        return undefined;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.pipe(dot, n.pipe);
        const signal = truth(v) ? this.walk(n.kind === 'with' ? v : dot, n.list) : n.elseList && this.walk(dot, n.elseList);
        this.vars.length = mark;
        return signal;
      }
      case 'range':
        return this.range(dot, n);
      case 'template': {
        const body = this.t.defines.get(n.name) ?? this.fail(n, `template ${JSON.stringify(n.name)} not defined`);
        if (this.depth >= 1000) this.fail(n, 'exceeded maximum template depth (1000)');
        const data = n.pipe ? this.pipe(dot, n.pipe) : undefined;
        const vars = this.vars;
        [this.vars, this.depth] = [[['$', data]], this.depth + 1];
        this.walk(data, body);
        [this.vars, this.depth] = [vars, this.depth - 1];
        return undefined;
      }
      default:
        return n.kind;
    }
  }

  // range over an array, an object (sorted keys, as Go ranges a map) or an integer; else when nothing ran.
  private range(dot: Value, n: Control): Signal {
    const mark = this.vars.length;
    const val = this.pipe(dot, n.pipe);
    const body = this.vars.length;
    const { decl, assign } = n.pipe;
    let ran = false;
    // One iteration: sets the range's variables (one: the element; two: key and element), then walks the body.
    const step = (key: Value, elem: Value): boolean => {
      ran = true;
      if (assign) decl.forEach((name, i) => this.setVar(name, decl.length === 2 && i === 0 ? key : elem));
      else if (decl.length) {
        this.vars[body - 1][1] = elem;
        if (decl.length === 2) this.vars[body - 2][1] = key;
      }
      const signal = this.walk(elem, n.list);
      this.vars.length = body;
      return signal === 'break';
    };
    if (Array.isArray(val)) {
      for (let i = 0; i < val.length && !step(i, val[i]); i++);
    } else if (isObject(val)) {
      for (const k of keysOf(val)) if (step(k, val[k])) break;
    } else if (typeof val === 'number' && Number.isSafeInteger(val)) {
      if (decl.length > 1) this.fail(n.pipe.cmds[0], `can't use ${val} to iterate over more than one variable`);
      for (let i = 0; i < val && !step(i, i); i++);
    } else if (val !== undefined && val !== null) {
      this.fail(n.pipe.cmds[0], `range can't iterate over ${fmtV(val)}`);
    }
    const signal = !ran && n.elseList ? this.walk(dot, n.elseList) : undefined;
    this.vars.length = mark;
    return signal;
  }

  // $x = value: overwrites the innermost $x.
  private setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i][0] === name) return void (this.vars[i][1] = value);
  }

  // The innermost $x's value.
  private variable(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i][0] === name) return this.vars[i][1];
    return undefined;
  }

  // A pipeline: each command's value is the last argument of the next; declarations push, assignments overwrite.
  private pipe(dot: Value, pipe: Pipe): Value {
    let v: Value = MISSING;
    for (const cmd of pipe.cmds) v = this.command(dot, cmd, v);
    for (const name of pipe.decl) {
      if (pipe.assign) this.setVar(name, v);
      else this.vars.push([name, v]);
    }
    return v;
  }

  // One command of a pipeline: a field chain or function given the arguments, or a lone operand's value.
  private command(dot: Value, cmd: Cmd, final: Value): Value {
    const first = cmd.args[0];
    switch (first.kind) {
      case 'field':
        return this.fields(dot, first.names, cmd, final, first);
      case 'chain':
        return this.fields(this.arg(dot, first.base), first.names, cmd, final, first);
      case 'var':
        if (first.names.length) return this.fields(this.variable(first.name), first.names, cmd, final, first);
        break;
      case 'func':
        return this.call(dot, first, cmd, final);
      case 'nil':
        return this.fail(first, 'nil is not a command');
    }
    if (cmd.args.length > 1 || final !== MISSING) this.fail(first, `can't give argument to non-function ${this.t.src.text.slice(first.pos, first.end)}`);
    return this.arg(dot, first);
  }

  // The value of one operand used as an argument.
  private arg(dot: Value, a: Arg): Value {
    switch (a.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'literal':
        return a.value;
      case 'field':
        return this.fields(dot, a.names, undefined, MISSING, a);
      case 'var':
        return a.names.length ? this.fields(this.variable(a.name), a.names, undefined, MISSING, a) : this.variable(a.name);
      case 'chain':
        return this.fields(this.arg(dot, a.base), a.names, undefined, MISSING, a);
      case 'pipe':
        return this.pipe(dot, a.pipe);
      case 'func':
        return this.call(dot, a, undefined, MISSING);
    }
  }

  // .A.B.C from receiver; only the last field may be given arguments, and data fields take none.
  private fields(receiver: Value, names: string[], cmd: Cmd | undefined, final: Value, at: Span): Value {
    const hasArgs = (cmd !== undefined && cmd.args.length > 1) || final !== MISSING;
    names.forEach((name, i) => {
      receiver = this.field(receiver, name, hasArgs && i === names.length - 1, at);
    });
    return receiver;
  }

  // One field of a struct-like object (unknown: an error) or key of a map-like one (missing: no value).
  private field(receiver: Value, name: string, hasArgs: boolean, at: Span): Value {
    if (receiver === undefined || receiver === null) return undefined;
    if (!isObject(receiver)) return this.fail(at, `can't evaluate field ${name} in type ${typeName(receiver)}`);
    const present = Object.hasOwn(receiver, name);
    if (present && !hasArgs) return receiver[name];
    const struct = isStructLike(receiver);
    if (!present && struct) this.fail(at, `can't evaluate field ${name}`);
    if (hasArgs) this.fail(at, struct ? `${name} has arguments but cannot be invoked as function` : `${name} is not a method but has arguments`);
    return undefined;
  }

  // A function call: arity checked as Go does, and/or evaluating their arguments only as far as needed.
  private call(dot: Value, fn: Arg & { kind: 'func' }, cmd: Cmd | undefined, final: Value): Value {
    const { min, max, fn: body } = FUNCS[fn.name];
    const argNodes = cmd ? cmd.args.slice(1) : [];
    const count = argNodes.length + (final === MISSING ? 0 : 1);
    const at = cmd ?? fn;
    if (count < min || (max !== undefined && count > max)) {
      this.fail(at, `wrong number of args for ${fn.name}: want ${max === min ? '' : 'at least '}${min} got ${count}`);
    }
    if (fn.name === 'and' || fn.name === 'or') {
      let v: Value;
      for (const a of argNodes) {
        v = this.arg(dot, a);
        if (truth(v) === (fn.name === 'or')) return v;
      }
      return final === MISSING ? v : final;
    }
    const args = argNodes.map((a) => this.arg(dot, a));
    if (final !== MISSING) args.push(final);
    try {
      return body!(args);
    } catch (e) {
      if (!(e instanceof FuncError)) throw e;
      return this.fail(at, e.calling ? `error calling ${fn.name}: ${e.message}` : e.message);
    }
  }
}
