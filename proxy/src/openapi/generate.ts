/**
 * OpenAPI 3.x document → MCP tools: one tool per operation, with its inputSchema (parameters plus
 * the request body under `body`), outputSchema, annotations and the binding that turns a call
 * back into an HTTP request. An operation that cannot be used is skipped with a pointer and a
 * reason; only a document that cannot be used at all throws a SpecError.
 */
import { createHash } from 'node:crypto';
import $RefParser from '@apidevtools/json-schema-ref-parser';
import type {
  GeneratedTool,
  JsonSchema,
  OperationBinding,
  ParameterBinding,
  SkippedOperation,
  ToolAnnotations,
  ToolSet,
} from '../types';
import { SpecError, toPointer } from './errors';
import {
  assignUniqueNames,
  claim,
  nameFromMethodAndPath,
  sanitizeArgName,
  sanitizeToolName,
} from './names';
import { type FetchLimits, fetchText } from './network';
import { type Dialect, isObject, OperationProblem, SchemaConverter } from './schema';

export interface GenerateOptions {
  /** sha256 of the spec text (LoadedSpec.hash); computed from the document when absent. */
  specHash?: string;
  /** Where the spec was fetched from: relative `servers` URLs resolve against it. */
  specUrl?: string;
  /** Where the spec was read from: relative file `$ref`s resolve against it. */
  specPath?: string;
  /**
   * Resolve `$ref`s into other documents (http(s) with `fetchLimits`; files next to a file spec)
   * with json-schema-ref-parser. Off by default: such operations are skipped with the reason.
   */
  externalRefs?: boolean;
  fetchLimits?: FetchLimits;
  /** Schema nodes one operation may expand to before it is skipped. Default 100 000. */
  maxSchemaNodes?: number;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Method = (typeof METHODS)[number];

const STYLES: Record<ParameterBinding['in'], readonly string[]> = {
  path: ['simple', 'label', 'matrix'],
  query: ['form', 'spaceDelimited', 'pipeDelimited', 'deepObject'],
  header: ['simple'],
  cookie: ['form'],
};
const DEFAULT_STYLE: Record<ParameterBinding['in'], string> = {
  path: 'simple',
  query: 'form',
  header: 'simple',
  cookie: 'form',
};
/** Header parameters OpenAPI says are ignored (the transport sets them). */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);
const MAX_DESCRIPTION = 4096;

interface Candidate {
  raw: string;
  name: string;
  tool: Omit<GeneratedTool, 'name'>;
}

/** Generates the MCP tools of an OpenAPI 3.0/3.1 document. */
export async function generateTools(
  document: unknown,
  opts: GenerateOptions = {},
): Promise<ToolSet> {
  if (!isObject(document)) throw new SpecError('invalid_spec', 'the document is not an object');
  const version = String(document.openapi ?? '');
  const dialect: Dialect | undefined = /^3\.0\./.test(version)
    ? '3.0'
    : /^3\.1\./.test(version)
      ? '3.1'
      : undefined;
  if (!dialect && document.swagger !== undefined) {
    throw new SpecError(
      'unsupported_version',
      'Swagger 2.0 must be converted to OpenAPI 3 first (loadSpec does this)',
      '/swagger',
    );
  }
  if (!dialect) {
    throw new SpecError(
      'unsupported_version',
      `openapi ${JSON.stringify(version)} is not 3.0.x or 3.1.x`,
      '/openapi',
    );
  }
  if (document.paths !== undefined && !isObject(document.paths)) {
    throw new SpecError('invalid_spec', '"paths" must be an object', '/paths');
  }
  const doc =
    opts.externalRefs && hasExternalRefs(document)
      ? await bundleExternal(document, opts)
      : document;
  const converter = new SchemaConverter(doc, { dialect, maxNodes: opts.maxSchemaNodes });
  const credentials = credentialParameters(doc);
  const oauthSchemes = oauthSchemeNames(doc);
  const candidates: Candidate[] = [];
  const skipped: SkippedOperation[] = [];
  const notes: string[] = [];

  for (const [path, rawItem] of Object.entries((doc.paths ?? {}) as Record<string, unknown>)) {
    const itemPointer = toPointer(['paths', path]);
    let item: Record<string, unknown>;
    let itemAt: string;
    try {
      const resolved = converter.deref(rawItem, itemPointer);
      if (!isObject(resolved.value))
        throw new OperationProblem('path item is not an object', itemPointer);
      item = resolved.value;
      itemAt = resolved.pointer;
    } catch (err) {
      const problem = asProblem(err, itemPointer);
      skipped.push({ method: '*', path, pointer: problem.pointer, reason: problem.message });
      continue;
    }
    for (const method of METHODS) {
      const op = item[method];
      if (op === undefined) continue;
      const pointer = `${itemAt}/${method}`;
      const operationId =
        isObject(op) && typeof op.operationId === 'string' ? op.operationId : undefined;
      try {
        converter.begin();
        const tool = buildTool({
          doc,
          converter,
          credentials,
          oauthSchemes,
          path,
          method,
          item,
          itemAt,
          op,
          pointer,
          specUrl: opts.specUrl,
          notes,
        });
        const raw = operationId ?? nameFromMethodAndPath(method, path);
        candidates.push({ raw, name: operationId ? sanitizeToolName(operationId) : raw, tool });
      } catch (err) {
        const problem = asProblem(err, pointer);
        skipped.push({
          method: method.toUpperCase(),
          path,
          ...(operationId ? { operationId } : {}),
          pointer: problem.pointer,
          reason: problem.message,
        });
      }
    }
  }

  const names = assignUniqueNames(candidates);
  const tools = candidates.map((c, i) => ({ name: names[i] as string, ...c.tool }));
  notes.push(...[...converter.notes].sort());
  const info = isObject(doc.info) ? doc.info : {};
  const baseUrl = serverUrl(doc, opts.specUrl, notes);
  return {
    specHash: opts.specHash ?? createHash('sha256').update(JSON.stringify(document)).digest('hex'),
    title: typeof info.title === 'string' ? info.title : '',
    version: typeof info.version === 'string' ? info.version : String(info.version ?? ''),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    tools,
    skipped,
    notes,
    securitySchemes: securitySchemes(doc),
  };
}

function asProblem(err: unknown, pointer: string): OperationProblem {
  if (err instanceof OperationProblem) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OperationProblem(`cannot generate a tool: ${message}`, pointer);
}

interface OperationContext {
  doc: Record<string, unknown>;
  converter: SchemaConverter;
  credentials: Set<string>;
  /** Names of the oauth2 and openIdConnect security schemes. */
  oauthSchemes: Set<string>;
  path: string;
  method: Method;
  item: Record<string, unknown>;
  itemAt: string;
  op: unknown;
  pointer: string;
  specUrl: string | undefined;
  /** The tool set's notes, for operation servers that cannot be used. */
  notes: string[];
}

interface ResolvedParameter {
  name: string;
  in: ParameterBinding['in'];
  raw: Record<string, unknown>;
  pointer: string;
}

function buildTool(ctx: OperationContext): Omit<GeneratedTool, 'name'> {
  const { op, pointer, converter, path, method } = ctx;
  if (!isObject(op)) throw new OperationProblem('operation is not an object', pointer);
  const upper = method.toUpperCase() as OperationBinding['method'];

  const parameters = mergedParameters(ctx, op);
  const templateNames = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  for (const name of templateNames) {
    if (!parameters.some((p) => p.in === 'path' && p.name === name)) {
      throw new OperationProblem(`path parameter {${name}} has no definition`, pointer);
    }
  }

  const properties: Record<string, JsonSchema | boolean> = {};
  const required: string[] = [];
  const bindings: ParameterBinding[] = [];
  const taken = new Set<string>();
  for (const location of ['path', 'query', 'header', 'cookie'] as const) {
    for (const p of parameters) {
      if (p.in !== location) continue;
      if (location === 'path' && !templateNames.includes(p.name)) continue;
      if (isCredential(p, ctx.credentials)) continue;
      const { schema, style, explode } = parameterSchema(p, converter);
      const base = sanitizeArgName(p.name);
      const arg = claim(taken.has(base) ? sanitizeArgName(`${p.in}_${p.name}`) : base, taken);
      const isRequired = p.in === 'path' || p.raw.required === true;
      properties[arg] = schema;
      if (isRequired) required.push(arg);
      bindings.push({
        arg,
        name: p.name,
        in: p.in,
        required: isRequired,
        style,
        explode,
        allowReserved: p.raw.allowReserved === true,
      });
    }
  }

  let body: OperationBinding['body'];
  if (op.requestBody !== undefined) {
    const resolved = converter.deref(op.requestBody, `${pointer}/requestBody`);
    const requestBody = resolved.value;
    if (!isObject(requestBody))
      throw new OperationProblem('requestBody is not an object', resolved.pointer);
    const content = isObject(requestBody.content) ? requestBody.content : {};
    const mediaType = pickMediaType(Object.keys(content), ['json', 'form', 'text']);
    const bodyRequired = requestBody.required === true;
    if (mediaType) {
      const media = content[mediaType];
      const schemaAt = `${resolved.pointer}/content${toPointer([mediaType])}/schema`;
      let schema: JsonSchema | boolean =
        isObject(media) && media.schema !== undefined
          ? converter.convert(media.schema, schemaAt, 'input')
          : {};
      if (
        typeof schema === 'object' &&
        typeof requestBody.description === 'string' &&
        !schema.description
      ) {
        schema = { ...schema, description: requestBody.description };
      }
      const arg = claim(taken.has('body') ? 'requestBody' : 'body', taken);
      properties[arg] = schema;
      if (bodyRequired) required.push(arg);
      body = { arg, contentType: mediaType, required: bodyRequired };
    } else if (bodyRequired) {
      const types = Object.keys(content).join(', ') || 'none';
      throw new OperationProblem(
        `request body media type(s) ${types} not supported (JSON, form-urlencoded or text/plain)`,
        `${resolved.pointer}/content`,
      );
    }
  }

  const inputSchema: JsonSchema = { type: 'object', properties };
  if (required.length > 0) inputSchema.required = required;
  inputSchema.additionalProperties = false;

  const outputSchema = responseSchema(op, pointer, converter);
  const summary = typeof op.summary === 'string' ? op.summary.trim() : '';
  const security = op.security ?? ctx.doc.security;
  const scopes = requiredScopes(security, ctx.oauthSchemes);
  const baseUrl = operationServerUrl(ctx, op, ctx.notes);
  const binding: OperationBinding = {
    method: upper,
    path,
    ...(typeof op.operationId === 'string' ? { operationId: op.operationId } : {}),
    parameters: bindings,
    ...(body ? { body } : {}),
    security: securityAlternatives(security),
    ...(scopes ? { scopes } : {}),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
  };
  return {
    ...(summary ? { title: summary } : {}),
    description: describe(op, upper, path),
    inputSchema,
    ...(outputSchema ? { outputSchema } : {}),
    annotations: annotations(upper, summary),
    binding,
  };
}

function mergedParameters(ctx: OperationContext, op: Record<string, unknown>): ResolvedParameter[] {
  const result = new Map<string, ResolvedParameter>();
  const lists: Array<[unknown, string]> = [
    [ctx.item.parameters, `${ctx.itemAt}/parameters`],
    [op.parameters, `${ctx.pointer}/parameters`],
  ];
  for (const [list, at] of lists) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new OperationProblem('parameters is not an array', at);
    list.forEach((entry, i) => {
      const { value, pointer } = ctx.converter.deref(entry, `${at}/${i}`);
      if (!isObject(value)) throw new OperationProblem('parameter is not an object', pointer);
      const name = value.name;
      const location = value.in;
      if (typeof name !== 'string' || name === '') {
        throw new OperationProblem('parameter has no name', pointer);
      }
      if (
        location !== 'path' &&
        location !== 'query' &&
        location !== 'header' &&
        location !== 'cookie'
      ) {
        throw new OperationProblem(
          `parameter ${name} has unsupported "in": ${JSON.stringify(location)}`,
          pointer,
        );
      }
      // Operation-level parameters override path-level ones with the same name and location.
      result.set(`${location}:${location === 'header' ? name.toLowerCase() : name}`, {
        name,
        in: location,
        raw: value,
        pointer,
      });
    });
  }
  return [...result.values()];
}

function isCredential(p: ResolvedParameter, credentials: Set<string>): boolean {
  if (p.in === 'header') {
    const lower = p.name.toLowerCase();
    return IGNORED_HEADERS.has(lower) || credentials.has(`header:${lower}`);
  }
  return credentials.has(`${p.in}:${p.name}`);
}

function parameterSchema(
  p: ResolvedParameter,
  converter: SchemaConverter,
): { schema: JsonSchema | boolean; style: string; explode: boolean } {
  let schema: JsonSchema | boolean;
  let style: string;
  if (isObject(p.raw.content)) {
    // A `content` parameter is one serialized value; only JSON is supported.
    const mediaType = pickMediaType(Object.keys(p.raw.content), ['json']);
    if (!mediaType)
      throw new OperationProblem(`parameter ${p.name} has no JSON content`, `${p.pointer}/content`);
    const media = p.raw.content[mediaType];
    const at = `${p.pointer}/content${toPointer([mediaType])}/schema`;
    schema =
      isObject(media) && media.schema !== undefined
        ? converter.convert(media.schema, at, 'input')
        : {};
    style = 'json';
  } else {
    schema =
      p.raw.schema !== undefined
        ? converter.convert(p.raw.schema, `${p.pointer}/schema`, 'input')
        : {};
    style = typeof p.raw.style === 'string' ? p.raw.style : (DEFAULT_STYLE[p.in] as string);
    if (!STYLES[p.in].includes(style)) {
      throw new OperationProblem(
        `style ${style} is not allowed for ${p.in} parameter ${p.name}`,
        `${p.pointer}/style`,
      );
    }
  }
  const explode = typeof p.raw.explode === 'boolean' ? p.raw.explode : style === 'form';
  const extra: JsonSchema = {};
  if (typeof p.raw.description === 'string') extra.description = p.raw.description;
  if (p.raw.deprecated === true) extra.deprecated = true;
  if (Object.keys(extra).length > 0) {
    schema =
      typeof schema === 'object' ? { ...schema, ...extra } : schema ? extra : { not: {}, ...extra };
  }
  return { schema, style, explode };
}

/** The first media type of the given kinds, in order of preference. */
function pickMediaType(
  types: string[],
  kinds: ReadonlyArray<'json' | 'form' | 'text'>,
): string | undefined {
  const tests = {
    json: (t: string) => /^application\/(?:[\w.+-]+\+)?json\s*(;|$)/i.test(t) || t === '*/*',
    form: (t: string) => /^application\/x-www-form-urlencoded\s*(;|$)/i.test(t),
    text: (t: string) => /^text\/plain\s*(;|$)/i.test(t),
  };
  for (const kind of kinds) {
    const found = types.find(tests[kind]);
    if (found) return found === '*/*' ? 'application/json' : found;
  }
  return undefined;
}

function responseSchema(
  op: Record<string, unknown>,
  pointer: string,
  converter: SchemaConverter,
): JsonSchema | undefined {
  if (!isObject(op.responses)) return undefined;
  const codes = Object.keys(op.responses)
    .filter((c) => /^2(\d\d|XX)$/i.test(c))
    .sort();
  for (const code of codes) {
    const { value, pointer: at } = converter.deref(
      op.responses[code],
      `${pointer}/responses/${code}`,
    );
    if (!isObject(value) || !isObject(value.content)) continue;
    const mediaType = pickMediaType(Object.keys(value.content), ['json']);
    if (!mediaType) continue;
    const media = value.content[mediaType];
    if (!isObject(media) || media.schema === undefined) return undefined;
    const schema = converter.convert(
      media.schema,
      `${at}/content${toPointer([mediaType])}/schema`,
      'output',
    );
    return typeof schema === 'object' && schema.type === 'object' ? schema : undefined;
  }
  return undefined;
}

function describe(op: Record<string, unknown>, method: string, path: string): string {
  const summary = typeof op.summary === 'string' ? op.summary.trim() : '';
  const description = typeof op.description === 'string' ? op.description.trim() : '';
  const parts = [summary, description && description !== summary ? description : ''].filter(
    Boolean,
  );
  let text = parts.join('\n\n');
  const tail = `${method} ${path}`;
  if (text.length + tail.length + 2 > MAX_DESCRIPTION) {
    text = `${text.slice(0, MAX_DESCRIPTION - tail.length - 3)}…`;
  }
  return text ? `${text}\n\n${tail}` : tail;
}

function annotations(method: OperationBinding['method'], summary: string): ToolAnnotations {
  const readOnly = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  return {
    ...(summary ? { title: summary } : {}),
    readOnlyHint: readOnly,
    // MCP's default for destructiveHint is true: say false outright for non-deleting writes.
    ...(readOnly ? {} : { destructiveHint: method === 'DELETE' }),
    ...(readOnly ? {} : { idempotentHint: method === 'PUT' || method === 'DELETE' }),
    openWorldHint: true,
  };
}

function securityAlternatives(security: unknown): string[][] {
  if (!Array.isArray(security)) return [];
  return security.filter(isObject).map((req) => Object.keys(req));
}

/**
 * The OAuth scopes of each security alternative (from its oauth2 and openIdConnect schemes), or
 * undefined when the operation needs none: no security, or one alternative asking for no scope
 * (an empty requirement, a non-OAuth scheme, an OAuth scheme with an empty list) is enough.
 */
function requiredScopes(security: unknown, oauthSchemes: Set<string>): string[][] | undefined {
  if (!Array.isArray(security) || oauthSchemes.size === 0) return undefined;
  const alternatives: string[][] = [];
  for (const requirement of security) {
    if (!isObject(requirement)) continue;
    const scopes = new Set<string>();
    for (const [scheme, list] of Object.entries(requirement)) {
      if (!oauthSchemes.has(scheme) || !Array.isArray(list)) continue;
      for (const scope of list) if (typeof scope === 'string' && scope !== '') scopes.add(scope);
    }
    if (scopes.size === 0) return undefined;
    alternatives.push([...scopes]);
  }
  return alternatives.length > 0 ? alternatives : undefined;
}

function oauthSchemeNames(doc: Record<string, unknown>): Set<string> {
  const names = new Set<string>();
  for (const [name, scheme] of Object.entries(securitySchemes(doc))) {
    if (scheme.type === 'oauth2' || scheme.type === 'openIdConnect') names.add(name);
  }
  return names;
}

function securitySchemes(doc: Record<string, unknown>): Record<string, JsonSchema> {
  const components = isObject(doc.components) ? doc.components : {};
  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  const result: Record<string, JsonSchema> = {};
  for (const [name, scheme] of Object.entries(schemes)) {
    if (isObject(scheme)) result[name] = scheme;
  }
  return result;
}

/** `in:name` of every apiKey scheme's parameter (header names lower-cased). */
function credentialParameters(doc: Record<string, unknown>): Set<string> {
  const result = new Set<string>();
  for (const scheme of Object.values(securitySchemes(doc))) {
    if (
      scheme.type === 'apiKey' &&
      typeof scheme.name === 'string' &&
      typeof scheme.in === 'string'
    ) {
      result.add(
        `${scheme.in}:${scheme.in === 'header' ? scheme.name.toLowerCase() : scheme.name}`,
      );
    }
  }
  return result;
}

/** `servers[0].url` with its variables' defaults, absolute against the spec URL; no trailing `/`. */
function serverUrl(
  doc: Record<string, unknown>,
  specUrl: string | undefined,
  notes: string[],
): string | undefined {
  const first = Array.isArray(doc.servers) ? doc.servers[0] : undefined;
  // No servers means "/" (OpenAPI 3.x §4.8.1): the spec's own origin when it came from a URL.
  const server = isObject(first) && typeof first.url === 'string' ? first : { url: '/' };
  return resolveServer(server, specUrl, (problem) => notes.push(`${problem}; baseUrl left unset`));
}

/**
 * The base URL of an operation's own server: the first of the operation's `servers`, else of its
 * path item's (OpenAPI 3.x: each level overrides the one above). Undefined when neither level
 * declares one (an empty list declares none), or when it cannot be made absolute (noted).
 * @see https://spec.openapis.org/oas/v3.1.0#operation-object
 */
function operationServerUrl(
  ctx: OperationContext,
  op: Record<string, unknown>,
  notes: string[],
): string | undefined {
  const levels: Array<[unknown, string]> = [
    [op.servers, `${ctx.pointer}/servers/0`],
    [ctx.item.servers, `${ctx.itemAt}/servers/0`],
  ];
  for (const [servers, at] of levels) {
    if (!Array.isArray(servers) || servers.length === 0) continue;
    const first: unknown = servers[0];
    if (!isObject(first) || typeof first.url !== 'string') {
      notes.push(`${at} has no url; the document's server is used`);
      return undefined;
    }
    return resolveServer(first, ctx.specUrl, (problem) =>
      notes.push(`${at}: ${problem}; the document's server is used`),
    );
  }
  return undefined;
}

/**
 * A Server Object's URL with its variables' defaults, absolute against the spec URL (a relative
 * server URL is relative to where the document is served); no trailing `/`.
 */
function resolveServer(
  server: Record<string, unknown>,
  specUrl: string | undefined,
  unusable: (problem: string) => void,
): string | undefined {
  let url = String(server.url);
  const variables = isObject(server.variables) ? server.variables : {};
  let missing = false;
  url = url.replace(/\{([^}]+)\}/g, (whole, name: string) => {
    const variable = variables[name];
    if (isObject(variable) && variable.default !== undefined) return String(variable.default);
    unusable(`server variable {${name}} has no default`);
    missing = true;
    return whole;
  });
  if (missing) return undefined;
  let absolute: string;
  try {
    absolute = new URL(url).href;
  } catch {
    if (!specUrl) {
      if (url !== '/') unusable(`server url ${url} is relative and the spec has no URL`);
      return undefined;
    }
    absolute = new URL(url, specUrl).href;
  }
  return absolute.replace(/\/+$/, '');
}

function hasExternalRefs(node: unknown): boolean {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      stack.push(...current);
    } else if (isObject(current)) {
      if (typeof current.$ref === 'string' && !current.$ref.startsWith('#')) return true;
      for (const value of Object.values(current)) {
        if (value !== null && typeof value === 'object') stack.push(value);
      }
    }
  }
  return false;
}

/** Pulls documents referenced by external `$ref`s into this one (json-schema-ref-parser bundle). */
async function bundleExternal(
  document: Record<string, unknown>,
  opts: GenerateOptions,
): Promise<Record<string, unknown>> {
  const base = opts.specUrl ?? opts.specPath ?? `${process.cwd()}/openapi.json`;
  const limits = opts.fetchLimits ?? {};
  let fetchError: SpecError | undefined;
  try {
    const bundled = await $RefParser.bundle(base, structuredClone(document) as never, {
      resolve: {
        external: true,
        ...(opts.specPath === undefined ? { file: false } : {}),
        http: {
          order: 1,
          canRead: /^https?:\/\//i,
          read: async (file: { url: string }) => {
            try {
              return (await fetchText(file.url, limits)).text;
            } catch (err) {
              // json-schema-ref-parser rewraps resolver errors; keep ours to rethrow with its code.
              if (err instanceof SpecError) fetchError = err;
              throw err;
            }
          },
        } as never,
      },
      timeoutMs: limits.timeoutMs ?? 15_000,
    });
    return bundled as unknown as Record<string, unknown>;
  } catch (err) {
    if (err instanceof SpecError) throw err;
    if (fetchError) throw fetchError;
    const message = err instanceof Error ? err.message : String(err);
    throw new SpecError('ref_error', `external $ref resolution failed: ${message}`, '', {
      cause: err,
    });
  }
}
