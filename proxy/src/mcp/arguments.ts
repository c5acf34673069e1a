/**
 * Tool-call arguments checked against the tool's inputSchema before anything goes upstream.
 * Validators are compiled lazily, once per tool per spec version (the ToolSet's `specHash`), so a
 * large spec costs nothing until its tools are called and nothing again afterwards.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { GeneratedTool } from '../types';

/** Arguments that do not satisfy the tool's inputSchema. `field` is the path, e.g. `tags/0` ('' = root). */
export class InvalidArgumentsError extends Error {
  override name = 'InvalidArgumentsError';
  readonly code = 'ERR_INVALID_TOOL_ARGUMENTS';
  readonly field: string;
  constructor(tool: string, field: string, reason: string) {
    super(
      `Invalid arguments for tool ${tool}: ${field === '' ? 'arguments' : `"${field}"`} ${reason}`,
    );
    this.field = field;
  }
}

/** A tool's inputSchema that ajv refuses: a generator defect, not a caller mistake. */
export class SchemaCompileError extends Error {
  override name = 'SchemaCompileError';
  readonly code = 'ERR_TOOL_SCHEMA';
}

/** Compiles and caches one validator per tool per spec version. */
export class ArgumentValidator {
  private readonly ajv: Ajv2020;
  private readonly bySpec = new Map<string, Map<string, ValidateFunction>>();

  /** @param maxSpecs spec versions kept; the least recently used one is dropped past it. */
  constructor(private readonly maxSpecs = 32) {
    // strict off: OpenAPI schemas carry annotations ajv does not know (example, xml, discriminator…).
    this.ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
    addFormats(this.ajv);
  }

  /** Throws InvalidArgumentsError naming the first offending field when `args` do not fit. */
  check(specHash: string, tool: GeneratedTool, args: unknown): void {
    const validate = this.validatorFor(specHash, tool);
    if (validate(args)) return;
    const first = validate.errors?.[0];
    throw first
      ? describeError(tool.name, first)
      : new InvalidArgumentsError(tool.name, '', 'are invalid');
  }

  private validatorFor(specHash: string, tool: GeneratedTool): ValidateFunction {
    let tools = this.bySpec.get(specHash);
    if (tools) {
      this.bySpec.delete(specHash);
      this.bySpec.set(specHash, tools);
    } else {
      tools = new Map();
      this.bySpec.set(specHash, tools);
      if (this.bySpec.size > this.maxSpecs) {
        const oldest = this.bySpec.keys().next().value;
        if (oldest !== undefined) this.bySpec.delete(oldest);
      }
    }
    let validate = tools.get(tool.name);
    if (!validate) {
      try {
        validate = this.ajv.compile(stripSchemaId(tool.inputSchema));
      } catch (error) {
        throw new SchemaCompileError(`inputSchema of tool ${tool.name} does not compile`, {
          cause: error,
        });
      }
      tools.set(tool.name, validate);
    }
    return validate;
  }
}

/**
 * ajv keeps every schema with an `$id` in one registry: two spec versions with the same `$id`
 * would clash. Validators are cached by spec hash instead, so the top-level `$id` is dropped.
 */
function stripSchemaId(schema: Record<string, unknown>): Record<string, unknown> {
  if (!('$id' in schema)) return schema;
  const { $id: _ignored, ...rest } = schema;
  return rest;
}

function describeError(tool: string, error: ErrorObject): InvalidArgumentsError {
  const at = error.instancePath.slice(1);
  const child = (name: unknown) => (at === '' ? String(name) : `${at}/${String(name)}`);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return new InvalidArgumentsError(tool, child(params.missingProperty), 'is required');
    case 'additionalProperties':
      return new InvalidArgumentsError(
        tool,
        child(params.additionalProperty),
        'is not an accepted argument',
      );
    default:
      return new InvalidArgumentsError(tool, at, error.message ?? 'is invalid');
  }
}
