// Values as Go's text/template sees skiff's JSON-like data: the value types, maps vs structs, type names and truth.
export type Value = unknown;
export type Obj = Record<string, Value>;
export interface Span {
  pos: number;
  end: number;
}
export interface Src {
  name: string;
  text: string;
}

// A plain object from JSON-like data (Go's map or struct), as opposed to arrays, null and class instances.
export const isObject = (v: Value): v is Obj => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

// The keys Go would see in a map, in the order it ranges and prints them (sorted; absent values left out).
export const keysOf = (o: Obj): string[] =>
  Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();

// skiff's data does not say which objects are Go structs (an unknown field is an error) and which are maps (a missing
// key is no value): objects whose keys all start with a capital letter, as exported struct fields do, are structs.
export const isStructLike = (o: Obj): boolean => {
  const keys = Object.keys(o);
  return keys.length > 0 && keys.every((k) => k[0] >= 'A' && k[0] <= 'Z');
};

// The Go type a value stands for, as error messages and %T name it.
export const typeName = (v: Value): string => {
  if (v === undefined || v === null) return 'nil';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return '[]interface {}';
  if (isObject(v)) return 'map[string]interface {}';
  return typeof v === 'boolean' ? 'bool' : typeof v;
};

// Go's truth for if, with, and, or and not: false, 0, "", nil and empty arrays and maps are false.
export const truth = (v: Value): boolean => {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string' || Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return keysOf(v).length > 0;
  return true;
};
