/**
 * Tool call arguments → the upstream HTTP request, per the operation's binding: path templating
 * with percent-encoding, query/header/cookie serialization by `style` and `explode`, and the body.
 * Arguments are expected to be validated against the inputSchema already; this only refuses what
 * cannot be put on the wire safely. Besides OpenAPI's styles, `style: 'json'` (a parameter defined
 * with `content: application/json`) sends the value as JSON text.
 * @see https://spec.openapis.org/oas/v3.1.1.html#style-examples
 */
import type { GeneratedTool, ParameterBinding, UpstreamRequest } from '../types';
import { RequestBuildError } from './errors';

type Primitive = string | number | boolean;

const RESERVED = /%(3A|2F|3F|23|5B|5D|40|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function encode(text: string, allowReserved = false): string {
  // encodeURIComponent throws on lone surrogates; they become U+FFFD as in String#toWellFormed.
  const encoded = encodeURIComponent(text.replace(LONE_SURROGATE, '\uFFFD')).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return allowReserved ? encoded.replace(RESERVED, (m) => decodeURIComponent(m)) : encoded;
}

function scalar(value: unknown): Primitive {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  // Nested structures have no style serialization: they travel as JSON text.
  return JSON.stringify(value);
}

/** Classifies an argument value: a scalar, an array of scalars, or an object's [key, value] pairs. */
function shape(value: unknown):
  | { kind: 'scalar'; v: Primitive }
  | { kind: 'array'; v: Primitive[] }
  | {
      kind: 'object';
      v: Array<[string, Primitive]>;
    } {
  if (Array.isArray(value)) return { kind: 'array', v: value.map(scalar) };
  if (value !== null && typeof value === 'object') {
    return {
      kind: 'object',
      v: Object.entries(value).map(([k, v]) => [k, scalar(v)] as [string, Primitive]),
    };
  }
  return { kind: 'scalar', v: scalar(value) };
}

/** A path parameter, serialized as `simple`, `label` or `matrix`, percent-encoded. */
export function serializePathParameter(p: ParameterBinding, value: unknown): string {
  const s = shape(value);
  const e = (x: Primitive) => encode(String(x), p.allowReserved);
  const name = encode(p.name);
  const pairs = (sep: string, kv: string) =>
    (s.v as Array<[string, Primitive]>).map(([k, v]) => `${e(k)}${kv}${e(v)}`).join(sep);
  const flat = () =>
    (s.v as Array<[string, Primitive]>).flatMap(([k, v]) => [e(k), e(v)]).join(',');
  switch (p.style) {
    case 'label': {
      if (s.kind === 'scalar') return `.${e(s.v)}`;
      if (s.kind === 'array') return `.${s.v.map(e).join(p.explode ? '.' : ',')}`;
      return p.explode ? `.${pairs('.', '=')}` : `.${flat()}`;
    }
    case 'matrix': {
      if (s.kind === 'scalar') return `;${name}=${e(s.v)}`;
      if (s.kind === 'array') {
        if (s.v.length === 0) return `;${name}`;
        return p.explode
          ? s.v.map((v) => `;${name}=${e(v)}`).join('')
          : `;${name}=${s.v.map(e).join(',')}`;
      }
      return p.explode ? `;${pairs(';', '=')}` : `;${name}=${flat()}`;
    }
    case 'json':
      return encode(JSON.stringify(value));
    default: {
      if (s.kind === 'scalar') return e(s.v);
      if (s.kind === 'array') return s.v.map(e).join(',');
      return p.explode ? pairs(',', '=') : flat();
    }
  }
}

/** A query parameter as `name=value` pieces (already encoded), by style and explode. */
export function serializeQueryParameter(p: ParameterBinding, value: unknown): string[] {
  const e = (x: Primitive) => encode(String(x), p.allowReserved);
  const name = encode(p.name);
  if (p.style === 'json') return [`${name}=${encode(JSON.stringify(value))}`];
  if (p.style === 'deepObject') {
    return deepObject(p.name, value).map(([k, v]) => `${encode(k)}=${e(v)}`);
  }
  const s = shape(value);
  if (s.kind === 'scalar') return [`${name}=${e(s.v)}`];
  const items = s.kind === 'array' ? s.v : s.v.flat();
  if (p.style === 'spaceDelimited' || p.style === 'pipeDelimited') {
    const sep = p.style === 'spaceDelimited' ? '%20' : '%7C';
    if (p.explode && s.kind === 'array') return s.v.map((v) => `${name}=${e(v)}`);
    return [`${name}=${items.map(e).join(sep)}`];
  }
  // form
  if (!p.explode) return [`${name}=${items.map(e).join(',')}`];
  if (s.kind === 'array')
    return s.v.length === 0 ? [`${name}=`] : s.v.map((v) => `${name}=${e(v)}`);
  return s.v.map(([k, v]) => `${e(k)}=${e(v)}`);
}

function deepObject(prefix: string, value: unknown): Array<[string, Primitive]> {
  if (Array.isArray(value)) return value.flatMap((v) => deepObject(prefix, v));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => deepObject(`${prefix}[${k}]`, v));
  }
  return [[prefix, scalar(value)]];
}

/** A header parameter's value (`simple` style); CR, LF, NUL and non-Latin-1 characters are refused. */
export function serializeHeaderParameter(p: ParameterBinding, value: unknown): string {
  const s = shape(value);
  let text: string;
  if (p.style === 'json') text = JSON.stringify(value);
  else if (s.kind === 'scalar') text = String(s.v);
  else if (s.kind === 'array') text = s.v.join(',');
  else text = s.v.map(([k, v]) => (p.explode ? `${k}=${v}` : `${k},${v}`)).join(',');
  if (/[\r\n\0]/.test(text)) {
    throw new RequestBuildError(
      'ERR_INVALID_ARGUMENT',
      p.arg,
      `header ${p.name} cannot contain CR, LF or NUL`,
    );
  }
  // RFC 9110 §5.5 field values: visible ASCII, space, tab, and obs-text (Latin-1) only.
  if (/[^\t\x20-\x7e\x80-\xff]/.test(text)) {
    throw new RequestBuildError(
      'ERR_INVALID_ARGUMENT',
      p.arg,
      `header ${p.name} can only carry printable ASCII or Latin-1 characters`,
    );
  }
  return text;
}

/** A cookie parameter as `name=value` pairs (`form` style), values percent-encoded. */
export function serializeCookieParameter(p: ParameterBinding, value: unknown): string[] {
  const s = shape(value);
  const e = (x: Primitive) => encode(String(x));
  if (p.style === 'json') return [`${p.name}=${encode(JSON.stringify(value))}`];
  if (s.kind === 'scalar') return [`${p.name}=${e(s.v)}`];
  if (s.kind === 'array') {
    return p.explode ? s.v.map((v) => `${p.name}=${e(v)}`) : [`${p.name}=${s.v.map(e).join(',')}`];
  }
  return p.explode
    ? s.v.map(([k, v]) => `${k}=${e(v)}`)
    : [`${p.name}=${s.v.flatMap(([k, v]) => [e(k), e(v)]).join(',')}`];
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/** Builds the upstream request for one tool call (before upstream auth headers are added). */
export function buildUpstreamRequest(
  tool: GeneratedTool,
  args: Record<string, unknown>,
  baseUrl: string,
): UpstreamRequest {
  const { binding } = tool;
  let path = binding.path;
  const query: string[] = [];
  const headers: Record<string, string> = {};
  const cookies: string[] = [];

  for (const p of binding.parameters) {
    const value = args[p.arg];
    if (isAbsent(value)) {
      if (p.required) {
        throw new RequestBuildError(
          'ERR_MISSING_ARGUMENT',
          p.arg,
          `missing required argument "${p.arg}"`,
        );
      }
      continue;
    }
    switch (p.in) {
      case 'path': {
        const segment = serializePathParameter(p, value);
        // WHATWG URLs treat "." / ".." (and %2E forms) as dot-segments: they would climb the path.
        if (/^(\.|%2e){1,2}$/i.test(segment)) {
          throw new RequestBuildError(
            'ERR_INVALID_ARGUMENT',
            p.arg,
            `"${p.arg}" cannot be "." or ".."`,
          );
        }
        path = path.split(`{${p.name}}`).join(segment);
        break;
      }
      case 'query':
        query.push(...serializeQueryParameter(p, value));
        break;
      case 'header':
        headers[p.name.toLowerCase()] = serializeHeaderParameter(p, value);
        break;
      case 'cookie':
        cookies.push(...serializeCookieParameter(p, value));
        break;
    }
  }
  if (cookies.length > 0) headers.cookie = cookies.join('; ');

  let body: string | undefined;
  if (binding.body) {
    const value = args[binding.body.arg];
    if (value === undefined) {
      if (binding.body.required) {
        throw new RequestBuildError(
          'ERR_MISSING_ARGUMENT',
          binding.body.arg,
          `missing required argument "${binding.body.arg}"`,
        );
      }
    } else {
      body = serializeBody(binding.body.contentType, value, binding.body.arg);
      headers['content-type'] = binding.body.contentType;
    }
  }

  const url = `${baseUrl.replace(/\/+$/, '')}${path}${query.length > 0 ? `?${query.join('&')}` : ''}`;
  return { method: binding.method, url, headers, ...(body !== undefined ? { body } : {}) };
}

function serializeBody(contentType: string, value: unknown, arg: string): string {
  if (/x-www-form-urlencoded/i.test(contentType)) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new RequestBuildError(
        'ERR_INVALID_ARGUMENT',
        arg,
        `"${arg}" must be an object for ${contentType}`,
      );
    }
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(value)) {
      if (Array.isArray(v)) for (const item of v) form.append(k, String(scalar(item)));
      else if (!isAbsent(v)) form.append(k, String(scalar(v)));
    }
    return form.toString();
  }
  if (/^text\//i.test(contentType))
    return typeof value === 'string' ? value : JSON.stringify(value);
  return JSON.stringify(value);
}
