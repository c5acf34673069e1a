import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ToolSchema } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType } from '@modelcontextprotocol/sdk/validation/types.js';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { type GenerateOptions, generateTools } from '../../src/openapi/generate';
import { loadSpec } from '../../src/openapi/load';
import { TOOL_NAME_PATTERN } from '../../src/openapi/names';
import type { GeneratedTool, ToolSet } from '../../src/types';

export const specsDir = join(__dirname, '..', '..', '..', 'fixtures', 'specs');

/** Loads a fixture spec and generates its tools. */
export async function toolsOf(file: string, opts: GenerateOptions = {}): Promise<ToolSet> {
  const loaded = await loadSpec({ kind: 'file', path: join(specsDir, file) });
  return generateTools(loaded.document, { specHash: loaded.hash, specPath: loaded.path, ...opts });
}

export function tool(set: ToolSet, name: string): GeneratedTool {
  const found = set.tools.find((t) => t.name === name);
  assert.ok(found, `no tool ${name}; have ${set.tools.map((t) => t.name).join(', ')}`);
  return found;
}

/** The validator the MCP endpoint uses: JSON Schema 2020-12 with formats. */
export function newAjv(): Ajv2020 {
  // logger: false keeps GitHub's custom formats ("repo.nwo") from warning once per schema.
  const ajv = new Ajv2020({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  return ajv;
}

/**
 * What every tool set must satisfy: names valid and unique, every schema compiles with ajv
 * 2020-12, and the MCP SDK's Tool schema accepts each tool as it would go out in tools/list.
 */
export function assertToolSetUsable(set: ToolSet, opts: { outputSchemas?: boolean } = {}): void {
  const ajv = newAjv();
  // The SDK client compiles every outputSchema from tools/list with its own (draft-07) ajv.
  const sdkValidator = new AjvJsonSchemaValidator();
  const names = new Set<string>();
  for (const t of set.tools) {
    assert.match(t.name, TOOL_NAME_PATTERN);
    assert.ok(!names.has(t.name), `duplicate tool name ${t.name}`);
    names.add(t.name);
    assert.equal(t.inputSchema.type, 'object');
    assert.doesNotThrow(() => ajv.compile(t.inputSchema), `inputSchema of ${t.name} compiles`);
    if (t.outputSchema && opts.outputSchemas !== false) {
      assert.equal(t.outputSchema.type, 'object');
      assert.doesNotThrow(
        () => ajv.compile(t.outputSchema as object),
        `outputSchema of ${t.name} compiles`,
      );
      assert.doesNotThrow(
        () => sdkValidator.getValidator(t.outputSchema as JsonSchemaType),
        `the MCP SDK client's validator compiles the outputSchema of ${t.name}`,
      );
    }
    const listed = ToolSchema.safeParse({
      name: t.name,
      title: t.title,
      description: t.description,
      inputSchema: t.inputSchema,
      outputSchema: t.outputSchema,
      annotations: t.annotations,
    });
    assert.ok(
      listed.success,
      `MCP SDK accepts ${t.name}: ${listed.success ? '' : listed.error.message}`,
    );
  }
}
