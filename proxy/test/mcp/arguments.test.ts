import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ArgumentValidator,
  InvalidArgumentsError,
  SchemaCompileError,
} from '../../src/mcp/arguments';
import type { GeneratedTool } from '../../src/types';

function tool(name: string, inputSchema: Record<string, unknown>): GeneratedTool {
  return {
    name,
    description: name,
    inputSchema,
    annotations: {},
    binding: { method: 'POST', path: '/x', parameters: [], security: [] },
  };
}

const createItem = tool('createItem', {
  type: 'object',
  properties: {
    body: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        tags: { type: 'array', items: { type: 'string' } },
        when: { type: 'string', format: 'date-time' },
      },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['body'],
});

function rejection(fn: () => void): InvalidArgumentsError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentsError);
    return error;
  }
  assert.fail('expected InvalidArgumentsError');
}

describe('ArgumentValidator', () => {
  const validator = new ArgumentValidator();

  test('valid arguments pass', () => {
    validator.check('h1', createItem, { body: { name: 'a', tags: ['x'] } });
  });

  test('a missing required field is named', () => {
    const error = rejection(() => validator.check('h1', createItem, { body: {} }));
    assert.equal(error.field, 'body/name');
    assert.equal(error.message, 'Invalid arguments for tool createItem: "body/name" is required');
    assert.equal(error.code, 'ERR_INVALID_TOOL_ARGUMENTS');
  });

  test('a wrongly typed nested field is named with its path', () => {
    const error = rejection(() =>
      validator.check('h1', createItem, { body: { name: 'a', tags: [1] } }),
    );
    assert.equal(error.field, 'body/tags/0');
    assert.match(error.message, /"body\/tags\/0" must be string/);
  });

  test('formats are checked', () => {
    const error = rejection(() =>
      validator.check('h1', createItem, { body: { name: 'a', when: 'yesterday' } }),
    );
    assert.equal(error.field, 'body/when');
  });

  test('an unexpected property is named', () => {
    const error = rejection(() =>
      validator.check('h1', createItem, { body: { name: 'a', colour: 'red' } }),
    );
    assert.equal(error.field, 'body/colour');
    assert.match(error.message, /"body\/colour" is not an accepted argument/);
  });

  test('a missing top-level field is named without a leading slash', () => {
    const error = rejection(() => validator.check('h1', createItem, {}));
    assert.equal(error.field, 'body');
  });

  test('validators are per spec version: the same tool name under another hash gets its own', () => {
    const v2 = tool('createItem', { type: 'object', properties: { q: { type: 'integer' } } });
    validator.check('h2', v2, { q: 1 });
    assert.throws(() => validator.check('h2', v2, { q: 'x' }), InvalidArgumentsError);
    validator.check('h1', createItem, { body: { name: 'still v1' } });
  });

  test('two spec versions may use the same $id', () => {
    const a = tool('t', { $id: 'urn:x', type: 'object', properties: { a: { type: 'string' } } });
    const b = tool('t', { $id: 'urn:x', type: 'object', properties: { a: { type: 'number' } } });
    validator.check('ha', a, { a: 's' });
    validator.check('hb', b, { a: 1 });
  });

  test('a schema ajv refuses is a SchemaCompileError, not a caller mistake', () => {
    const broken = tool('broken', { type: 'object', properties: { a: { $ref: '#/nowhere' } } });
    assert.throws(() => validator.check('h3', broken, {}), SchemaCompileError);
  });

  test('old spec versions are dropped past the bound, and recompiled on demand', () => {
    const small = new ArgumentValidator(2);
    const t = tool('t', { type: 'object', properties: { a: { type: 'string' } } });
    for (const hash of ['a', 'b', 'c', 'a']) small.check(hash, t, { a: 'x' });
    assert.throws(() => small.check('a', t, { a: 1 }), InvalidArgumentsError);
  });
});
