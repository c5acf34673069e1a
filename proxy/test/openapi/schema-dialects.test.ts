/** Schemas written for other dialects or regex engines still become schemas clients can compile. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateTools } from '../../src/openapi/generate';
import { assertToolSetUsable, tool } from './helpers';

function specWithQuery(openapi: string, schema: Record<string, unknown>) {
  return {
    openapi,
    info: { title: 't', version: '1' },
    paths: {
      '/things': {
        get: {
          operationId: 'listThings',
          parameters: [{ name: 'q', in: 'query', schema }],
          responses: { '200': { description: 'ok' } },
        },
      },
    },
  };
}

test('draft-4 boolean exclusiveMaximum in a 3.1 document becomes the 2020-12 number', async () => {
  const set = await generateTools(
    specWithQuery('3.1.0', { type: 'integer', maximum: 10, exclusiveMaximum: true, minimum: 1 }),
  );
  const q = (tool(set, 'listThings').inputSchema.properties as Record<string, unknown>).q;
  assert.deepEqual(q, { type: 'integer', exclusiveMaximum: 10, minimum: 1 });
  assertToolSetUsable(set);
});

test('a pattern that is no ECMA-262 regular expression is dropped with a note', async () => {
  const pattern = '^(?:{[0-9a-fA-F]{4}}|[0-9a-fA-F]{4})$';
  const set = await generateTools(specWithQuery('3.0.3', { type: 'string', pattern }));
  const q = (tool(set, 'listThings').inputSchema.properties as Record<string, unknown>).q;
  assert.deepEqual(q, { type: 'string' });
  assert.ok(
    set.notes.some((n) => n.includes(JSON.stringify(pattern)) && n.includes('dropped')),
    set.notes.join('\n'),
  );
  assertToolSetUsable(set);
});

test('a valid pattern is kept', async () => {
  const set = await generateTools(specWithQuery('3.0.3', { type: 'string', pattern: '^[a-z]+$' }));
  const q = (tool(set, 'listThings').inputSchema.properties as Record<string, unknown>).q;
  assert.deepEqual(q, { type: 'string', pattern: '^[a-z]+$' });
  assert.deepEqual(set.notes, []);
});
