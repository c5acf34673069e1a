/**
 * Turns OpenAPI schema objects into self-contained JSON Schema 2020-12 for MCP tools: local `$ref`s
 * inlined (memoized, so shared components are converted once), circular references cut where
 * they close with a note, OpenAPI 3.0 dialect (`nullable`, boolean `exclusiveMinimum`, `example`)
 * rewritten, and OpenAPI-only keywords (`discriminator`, `xml`, `x-*`) dropped. Input schemas
 * also lose `readOnly` properties and output schemas `writeOnly` ones.
 */
import type { JsonSchema } from '../types';
import { toPointer } from './errors';

export type Dialect = '3.0' | '3.1';
/** Input: what a client sends (readOnly properties dropped); output: what the API returns. */
export type SchemaMode = 'input' | 'output';

/** A problem that makes one operation unusable (a broken `$ref`, a schema over the size budget). */
export class OperationProblem extends Error {
  readonly pointer: string;
  constructor(message: string, pointer: string) {
    super(message);
    this.pointer = pointer;
  }
}

const DROPPED_KEYS = new Set([
  'discriminator',
  'xml',
  'externalDocs',
  'example',
  'nullable',
  '$schema',
  '$id',
  '$anchor',
  '$dynamicAnchor',
  '$comment',
  '$defs',
  'definitions',
]);
const SCHEMA_MAP_KEYS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
const SCHEMA_LIST_KEYS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);
const SCHEMA_KEYS = new Set([
  'items',
  'additionalProperties',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contains',
  'not',
  'if',
  'then',
  'else',
  'propertyNames',
  'contentSchema',
]);
/** Keywords that may sit beside `$ref` in 3.1 and merge into the target without changing what it accepts. */
const ANNOTATION_KEYS = new Set([
  'description',
  'title',
  'summary',
  'default',
  'examples',
  'deprecated',
]);

interface Frame {
  ref: string;
  /** Lowest stack index a cut inside this frame's expansion pointed at. */
  lowestCut: number;
}

export interface SchemaConverterOptions {
  dialect: Dialect;
  /** New schema nodes one `begin()`…conversion may create before the operation is refused. */
  maxNodes?: number;
}

/** Resolves local JSON pointers in one document and converts its schemas; one per document. */
export class SchemaConverter {
  readonly notes = new Set<string>();
  private readonly doc: unknown;
  private readonly dialect: Dialect;
  private readonly maxNodes: number;
  private readonly memo = new Map<string, JsonSchema | boolean>();
  private readonly pointerCache = new Map<string, unknown>();
  private stack: Frame[] = [];
  private budget = 0;

  constructor(doc: unknown, opts: SchemaConverterOptions) {
    this.doc = doc;
    this.dialect = opts.dialect;
    this.maxNodes = opts.maxNodes ?? 100_000;
  }

  /** Starts the node budget for one operation. */
  begin(): void {
    this.budget = this.maxNodes;
    this.stack = [];
  }

  /** The value at a local `$ref` (`#/…`); OperationProblem when it is remote or absent. */
  resolveRef(ref: string, at: string): unknown {
    const cached = this.pointerCache.get(ref);
    if (cached !== undefined) return cached;
    if (!ref.startsWith('#')) {
      throw new OperationProblem(
        `$ref ${JSON.stringify(ref)} is not local and remote $refs are not enabled`,
        at,
      );
    }
    let node: unknown = this.doc;
    const body = ref.slice(1);
    if (body !== '' && !body.startsWith('/')) {
      throw new OperationProblem(`$ref ${JSON.stringify(ref)} is not a JSON pointer`, at);
    }
    const tokens = body === '' ? [] : body.slice(1).split('/');
    for (const raw of tokens) {
      const token = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object' || !Object.hasOwn(node, token)) {
        throw new OperationProblem(`$ref ${JSON.stringify(ref)} does not resolve`, at);
      }
      node = (node as Record<string, unknown>)[token];
    }
    this.pointerCache.set(ref, node);
    return node;
  }

  /**
   * Follows `$ref` chains of a non-schema object (parameter, request body, response, path item).
   * Returns the object and the pointer where it really lives.
   */
  deref(value: unknown, pointer: string): { value: unknown; pointer: string } {
    let current = value;
    let at = pointer;
    for (let hops = 0; isObject(current) && typeof current.$ref === 'string'; hops++) {
      if (hops >= 32) throw new OperationProblem('$ref chain longer than 32 hops (circular?)', at);
      const ref = current.$ref;
      current = this.resolveRef(ref, at);
      at = ref.slice(1);
    }
    return { value: current, pointer: at };
  }

  /** Converts one schema to self-contained JSON Schema 2020-12. */
  convert(schema: unknown, pointer: string, mode: SchemaMode): JsonSchema | boolean {
    return this.node(schema, pointer, mode);
  }

  private spend(pointer: string): void {
    this.budget -= 1;
    if (this.budget < 0) {
      throw new OperationProblem(`schemas expand to more than ${this.maxNodes} nodes`, pointer);
    }
  }

  private node(schema: unknown, pointer: string, mode: SchemaMode): JsonSchema | boolean {
    if (typeof schema === 'boolean') return schema;
    if (!isObject(schema)) throw new OperationProblem('schema is not an object', pointer);
    if (typeof schema.$ref === 'string') return this.refNode(schema, pointer, mode);
    this.spend(pointer);
    return this.plain(schema, pointer, mode);
  }

  private refNode(
    schema: Record<string, unknown>,
    pointer: string,
    mode: SchemaMode,
  ): JsonSchema | boolean {
    const ref = schema.$ref as string;
    const key = `${mode}${ref}`;
    const depth = this.stack.findIndex((f) => f.ref === key);
    let target: JsonSchema | boolean;
    if (depth >= 0) {
      for (let i = depth + 1; i < this.stack.length; i++) {
        const frame = this.stack[i] as Frame;
        frame.lowestCut = Math.min(frame.lowestCut, depth);
      }
      this.notes.add(`circular $ref ${ref} cut at ${pointer}`);
      target = { description: `(circular reference to ${ref}, not expanded)` };
    } else {
      const memoized = this.memo.get(key);
      if (memoized !== undefined) {
        target = memoized;
      } else {
        const index = this.stack.length;
        const frame: Frame = { ref: key, lowestCut: index };
        this.stack.push(frame);
        try {
          target = this.node(this.resolveRef(ref, pointer), ref.slice(1), mode);
        } finally {
          this.stack.pop();
        }
        // A result is reusable anywhere only if no cut inside it pointed further up the stack.
        if (frame.lowestCut >= index) this.memo.set(key, target);
        const parent = this.stack[index - 1];
        if (parent) parent.lowestCut = Math.min(parent.lowestCut, frame.lowestCut);
      }
    }
    const siblings = Object.keys(schema).filter((k) => k !== '$ref' && !k.startsWith('x-'));
    // OpenAPI 3.0 ignores everything beside $ref; 3.1 (JSON Schema 2020-12) applies it.
    if (this.dialect === '3.0' || siblings.length === 0) return target;
    const rest: Record<string, unknown> = {};
    for (const k of siblings) rest[k] = schema[k];
    const extra = this.plain(rest, pointer, mode);
    if (typeof target === 'object' && siblings.every((k) => ANNOTATION_KEYS.has(k))) {
      return { ...target, ...extra };
    }
    return { allOf: [target], ...extra };
  }

  private plain(schema: Record<string, unknown>, pointer: string, mode: SchemaMode): JsonSchema {
    const out: JsonSchema = {};
    const hidden: string[] = [];
    for (const [key, value] of Object.entries(schema)) {
      if (DROPPED_KEYS.has(key) || key.startsWith('x-')) continue;
      const at = `${pointer}/${key}`;
      if (SCHEMA_MAP_KEYS.has(key) && isObject(value)) {
        const map: Record<string, unknown> = {};
        for (const [name, sub] of Object.entries(value)) {
          if (key === 'properties' && isHiddenProperty(sub, mode, this)) {
            hidden.push(name);
            continue;
          }
          map[name] = this.node(sub, `${at}${toPointer([name])}`, mode);
        }
        out[key] = map;
      } else if (SCHEMA_LIST_KEYS.has(key) && Array.isArray(value)) {
        out[key] = value.map((sub, i) => this.node(sub, `${at}/${i}`, mode));
      } else if (key === 'items' && Array.isArray(value)) {
        // draft-4 tuple form: 2020-12 calls it prefixItems
        out.prefixItems = value.map((sub, i) => this.node(sub, `${at}/${i}`, mode));
      } else if (SCHEMA_KEYS.has(key)) {
        out[key] = this.node(value, at, mode);
      } else if (key === '$dynamicRef' || key === 'additionalItems') {
        // not expressible once inlined; accepting anything there is the safe approximation
      } else {
        out[key] = value;
      }
    }
    if (hidden.length > 0 && Array.isArray(out.required)) {
      out.required = (out.required as unknown[]).filter(
        (n) => typeof n !== 'string' || !hidden.includes(n),
      );
    }
    // Draft-4 style boolean bounds also turn up in 3.1 documents; 2020-12 validators reject them.
    rewriteBooleanBounds(schema, out);
    if (this.dialect === '3.0') rewrite30(schema, out);
    this.dropInvalidPatterns(out, pointer);
    if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
    if (out.examples === undefined && schema.example !== undefined) out.examples = [schema.example];
    return out;
  }

  /**
   * JSON Schema patterns are ECMA-262 regular expressions with the `u` flag (what ajv and the MCP
   * SDK compile). A spec written for another engine can carry one that is not: drop it with a
   * note rather than ship a schema no client can compile.
   */
  private dropInvalidPatterns(out: JsonSchema, pointer: string): void {
    if (typeof out.pattern === 'string' && !isEcmaPattern(out.pattern)) {
      this.notes.add(
        `pattern ${JSON.stringify(out.pattern)} at ${pointer} is not an ECMA-262 regular expression; dropped`,
      );
      delete out.pattern;
    }
    if (isObject(out.patternProperties)) {
      for (const key of Object.keys(out.patternProperties)) {
        if (isEcmaPattern(key)) continue;
        this.notes.add(
          `patternProperties key ${JSON.stringify(key)} at ${pointer} is not an ECMA-262 regular expression; dropped`,
        );
        delete out.patternProperties[key];
      }
    }
  }
}

function isEcmaPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

function isHiddenProperty(schema: unknown, mode: SchemaMode, converter: SchemaConverter): boolean {
  let target = schema;
  if (
    isObject(target) &&
    typeof target.$ref === 'string' &&
    target.readOnly === undefined &&
    target.writeOnly === undefined
  ) {
    try {
      target = converter.resolveRef(target.$ref, '');
    } catch {
      return false;
    }
  }
  if (!isObject(target)) return false;
  return mode === 'input' ? target.readOnly === true : target.writeOnly === true;
}

/** Draft-4 boolean `exclusiveMinimum`/`exclusiveMaximum` → the 2020-12 numeric form. */
function rewriteBooleanBounds(source: Record<string, unknown>, out: JsonSchema): void {
  for (const [bool, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof source[bool] === 'boolean') {
      if (source[bool] === true && typeof source[bound] === 'number') {
        out[bool] = source[bound];
        delete out[bound];
      } else {
        delete out[bool];
      }
    }
  }
}

/** OpenAPI 3.0 schema dialect → JSON Schema 2020-12. */
function rewrite30(source: Record<string, unknown>, out: JsonSchema): void {
  if (out.type === 'file') {
    out.type = 'string';
    out.format = 'binary';
  }
  if (source.nullable !== true) return;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  } else if (out.allOf || out.oneOf || out.anyOf || out.enum) {
    const inner: JsonSchema = {};
    for (const k of Object.keys(out)) {
      if (ANNOTATION_KEYS.has(k) || k === 'examples') continue;
      inner[k] = out[k];
      delete out[k];
    }
    out.anyOf = [inner, { type: 'null' }];
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
