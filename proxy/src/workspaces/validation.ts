/**
 * Validation at the edges (config files, admin API bodies, CLI input) with ajv, and problems worded
 * for people: each names the field as a path (`workspaces[0].auth.token`) and says what to write.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { JsonSchema } from '../types';

/** One thing wrong with an input: where, and what to do about it. */
export interface Problem {
  /** Dotted path to the field, e.g. `workspaces[0].auth.token`; `''` for the whole input. */
  field: string;
  message: string;
}

/** A validated value, or the problems found. */
export type Validated<T> = { ok: true; value: T } | { ok: false; problems: Problem[] };

const ajv = new Ajv({
  allErrors: true,
  discriminator: true,
  strict: true,
  // The discriminator and if/then require properties declared in sibling schemas.
  strictRequired: false,
  allowUnionTypes: true,
  // parentSchema in errors lets messages list the known fields and allowed forms.
  verbose: true,
});
addFormats(ajv);

/** Compiles `schema` once; the returned function validates inputs against it. */
export function validator<T>(schema: JsonSchema): (input: unknown, base?: string) => Validated<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (input, base = '') => {
    if (validate(input)) return { ok: true, value: input as T };
    return { ok: false, problems: describeErrors(validate.errors ?? [], base) };
  };
}

/** Turns a JSON pointer (`/workspaces/0/auth`) into a readable path (`workspaces[0].auth`). */
export function fieldPath(pointer: string, base = ''): string {
  let path = base;
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^\d+$/.test(part)) path += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) path += path === '' ? part : `.${part}`;
    else path += `[${JSON.stringify(part)}]`;
  }
  return path;
}

function join(path: string, key: string): string {
  return fieldPath(`/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, path);
}

/**
 * Keeps the errors people can act on: inside a `oneOf` the branch errors are noise when a
 * discriminator or a simpler message explains it, so those are folded into one line.
 */
function describeErrors(errors: ErrorObject[], base: string): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  const oneOfPaths = new Set(
    errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath),
  );
  for (const error of errors) {
    // Branch errors below a failed oneOf (other than the discriminator's) are summarized by it.
    if (
      error.keyword !== 'oneOf' &&
      error.keyword !== 'discriminator' &&
      oneOfPaths.has(error.instancePath) &&
      error.schemaPath.includes('/oneOf/')
    ) {
      continue;
    }
    if (error.keyword === 'if') continue;
    const problem = describe(error, base);
    const key = `${problem.field}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems;
}

function describe(error: ErrorObject, base: string): Problem {
  const field = fieldPath(error.instancePath, base);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return {
        field: join(field, String(params.missingProperty)),
        message: 'is required',
      };
    case 'additionalProperties':
      return {
        field: join(field, String(params.additionalProperty)),
        message: `is not a known field${knownFields(error)}; remove it or fix its name`,
      };
    case 'discriminator':
      return {
        field: join(field, String(params.tag)),
        message:
          params.tagValue === undefined
            ? 'is required'
            : `must be one of ${discriminatorValues(error)} (got ${JSON.stringify(params.tagValue)})`,
      };
    case 'enum':
      return {
        field,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { field, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'oneOf':
      return { field, message: oneOfHint(error) };
    case 'pattern':
      return { field, message: patternHint(String(params.pattern)) };
    case 'format':
      return {
        field,
        message:
          params.format === 'uri'
            ? 'must be an absolute URL (http:// or https://)'
            : `must be a ${String(params.format)}`,
      };
    case 'type':
      return { field, message: `must be ${article(String(params.type))}` };
    case 'minLength':
      return { field, message: 'must not be empty' };
    case 'minProperties':
      return { field, message: `must have at least ${String(params.limit)} entry` };
    case 'propertyNames':
      return { field, message: 'has an invalid name' };
    default:
      return { field, message: error.message ?? 'is invalid' };
  }
}

function knownFields(error: ErrorObject): string {
  const properties = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)
    ?.properties;
  const names = properties === undefined ? [] : Object.keys(properties).filter((n) => n !== 'type');
  return names.length === 0 ? '' : ` (known: ${names.join(', ')})`;
}

function discriminatorValues(error: ErrorObject): string {
  const branches = (
    error.parentSchema as { oneOf?: { properties?: { type?: { const?: unknown } } }[] }
  )?.oneOf;
  return (branches ?? []).map((b) => JSON.stringify(b.properties?.type?.const)).join(', ');
}

function oneOfHint(error: ErrorObject): string {
  const branches = (error.parentSchema as { oneOf?: unknown[] } | undefined)?.oneOf ?? [];
  const text = JSON.stringify(branches);
  if (text.includes('"document"')) {
    return 'must be a URL or file path string, or one of { "url": … }, { "file": … }, { "document": … }';
  }
  if (text.includes('"all"')) return 'must be "all" or a list of tool names';
  if (text.includes('"array"') && text.includes('"string"')) {
    return 'must be a list of scope strings or one space-separated string';
  }
  return 'does not match any allowed form';
}

function patternHint(pattern: string): string {
  if (pattern.startsWith('^[a-z0-9][a-z0-9-]')) {
    return 'must be 1-63 lowercase letters, digits or "-", starting with a letter or digit';
  }
  if (pattern === '^https?://') return 'must be an http:// or https:// URL';
  if (pattern.startsWith("^[!#$%&'")) return 'must be a valid HTTP header name';
  if (pattern.startsWith('^[A-Za-z0-9._~+/-]')) {
    return 'must be at least 16 characters of letters, digits and -._~+/';
  }
  return `must match ${pattern}`;
}

function article(type: string): string {
  const words = type.split(',').map((t) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`));
  return words.join(' or ');
}

/** `problems` as indented lines under a heading, for error messages. */
export function formatProblems(heading: string, problems: Problem[]): string {
  return [
    heading,
    ...problems.map((p) => `  - ${p.field === '' ? '(top level)' : p.field}: ${p.message}`),
  ].join('\n');
}
