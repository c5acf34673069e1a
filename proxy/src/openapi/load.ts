/**
 * Reading an OpenAPI document from a URL, a file or uploaded text: JSON or YAML, OpenAPI 3.0/3.1
 * as is, Swagger 2.0 converted to OpenAPI 3.0 with swagger2openapi. Anything else is a SpecError.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { convertObj } from 'swagger2openapi';
import { parse as parseYaml } from 'yaml';
import type { SpecSource } from '../types';
import { SpecError } from './errors';
import { type FetchLimits, fetchText } from './network';

/** Limits for reading a spec; the network ones apply to URLs. */
export interface LoadOptions extends FetchLimits {}

export interface LoadedSpec {
  /** The OpenAPI 3.x document (converted when the source was Swagger 2.0). Treat as read-only. */
  document: Record<string, unknown>;
  /** The source text, verbatim. */
  text: string;
  /** Hex sha256 of `text`: the compile cache key. */
  hash: string;
  /** `openapi` of the document as loaded (`'2.0'` when converted from Swagger). */
  sourceVersion: string;
  /** The URL the spec came from, after redirects (relative `servers` resolve against it). */
  url?: string;
  /** The absolute file path the spec came from. */
  path?: string;
}

const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;

/** Reads, parses and version-checks a spec; Swagger 2.0 is converted to OpenAPI 3.0. */
export async function loadSpec(source: SpecSource, opts: LoadOptions = {}): Promise<LoadedSpec> {
  switch (source.kind) {
    case 'url': {
      const fetched = await fetchText(source.url, opts);
      return { ...(await parseSpecText(fetched.text)), url: fetched.url };
    }
    case 'file': {
      const path = resolvePath(source.path);
      const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
      let text: string;
      try {
        const info = await stat(path);
        if (info.size > maxBytes) {
          throw new SpecError(
            'too_large',
            `${path} is ${info.size} bytes, over the ${maxBytes}-byte limit`,
          );
        }
        text = await readFile(path, 'utf8');
      } catch (err) {
        if (err instanceof SpecError) throw err;
        const message = err instanceof Error ? err.message : String(err);
        throw new SpecError('fetch_failed', `cannot read ${path}: ${message}`, '', { cause: err });
      }
      return { ...(await parseSpecText(text)), path };
    }
    case 'document': {
      const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
      if (Buffer.byteLength(source.text) > maxBytes) {
        throw new SpecError('too_large', `the document is over the ${maxBytes}-byte limit`);
      }
      return parseSpecText(source.text);
    }
  }
}

/** Parses spec text (JSON or YAML) and checks/converts its version. */
export async function parseSpecText(text: string): Promise<LoadedSpec> {
  const hash = createHash('sha256').update(text).digest('hex');
  const parsed = parseDocumentText(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SpecError('invalid_spec', 'the document is not a JSON/YAML object');
  }
  const doc = parsed as Record<string, unknown>;
  if (doc.swagger !== undefined) {
    if (String(doc.swagger) !== '2.0') {
      throw new SpecError(
        'unsupported_version',
        `swagger ${String(doc.swagger)} is not supported (2.0 only)`,
        '/swagger',
      );
    }
    return { document: await convertSwagger2(doc), text, hash, sourceVersion: '2.0' };
  }
  if (doc.openapi === undefined) {
    throw new SpecError(
      'unsupported_version',
      'not an OpenAPI document: no "openapi" or "swagger" field',
      '/openapi',
    );
  }
  const version = String(doc.openapi);
  if (!/^3\.[01]\.\d+(-.+)?$/.test(version)) {
    throw new SpecError(
      'unsupported_version',
      `openapi ${version} is not supported (3.0.x, 3.1.x or Swagger 2.0)`,
      '/openapi',
    );
  }
  return { document: doc, text, hash, sourceVersion: version };
}

function parseDocumentText(text: string): unknown {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(text);
    } catch (err) {
      // JSON is a subset of YAML 1.2 only loosely; report the JSON error, it is what was meant.
      const message = err instanceof Error ? err.message : String(err);
      throw new SpecError('parse_error', `invalid JSON: ${message}`);
    }
  }
  try {
    // A bounded alias count refuses "billion laughs" documents.
    return parseYaml(text, { maxAliasCount: 100, merge: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new SpecError('parse_error', `neither JSON nor YAML: ${message}`);
  }
}

async function convertSwagger2(doc: Record<string, unknown>): Promise<Record<string, unknown>> {
  try {
    // resolve: false: a converter fetching remote $refs would bypass our network limits.
    const options = { patch: true, warnOnly: true, resolve: false, direct: false } as const;
    const converted = await convertObj(structuredClone(doc) as never, options as never);
    return converted.openapi as unknown as Record<string, unknown>;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new SpecError('conversion_failed', `Swagger 2.0 conversion failed: ${message}`, '', {
      cause: err,
    });
  }
}
