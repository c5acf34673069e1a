import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MAX_ERROR_EXCERPT, MAX_RESULT_TEXT, toolResult } from '../../src/mcp/tool-result';
import type { GeneratedTool } from '../../src/types';

const base: GeneratedTool = {
  name: 'getItem',
  description: 'Get an item',
  inputSchema: { type: 'object' },
  annotations: {},
  binding: { method: 'GET', path: '/api/items/{id}', parameters: [], security: [] },
};
const withOutput: GeneratedTool = { ...base, outputSchema: { type: 'object' } };
const answer = (status: number, body: string) => ({ status, body, headers: {}, durationMs: 1 });

describe('toolResult', () => {
  test('a JSON object body gives text and, with an outputSchema, structuredContent', () => {
    const result = toolResult(withOutput, answer(200, '{"id":"1"}'));
    assert.deepEqual(result, {
      content: [{ type: 'text', text: '{"id":"1"}' }],
      structuredContent: { id: '1' },
    });
  });

  test('no structuredContent without an outputSchema, or for arrays and non-JSON', () => {
    assert.equal(toolResult(base, answer(200, '{"id":"1"}')).structuredContent, undefined);
    assert.equal(toolResult(withOutput, answer(200, '[1]')).structuredContent, undefined);
    assert.equal(toolResult(withOutput, answer(200, 'plain')).structuredContent, undefined);
  });

  test('an empty body says which status came back', () => {
    assert.deepEqual(toolResult(base, answer(204, '')).content, [
      { type: 'text', text: 'Upstream answered 204' },
    ]);
  });

  test('4xx/5xx give isError with the status and a bounded excerpt', () => {
    const result = toolResult(withOutput, answer(404, '{"error":"not_found"}'));
    assert.equal(result.isError, true);
    assert.equal(result.structuredContent, undefined);
    assert.deepEqual(result.content, [
      { type: 'text', text: 'Upstream answered 404 Not Found: {"error":"not_found"}' },
    ]);
    const long = toolResult(base, answer(503, 'e'.repeat(MAX_ERROR_EXCERPT * 3)));
    const text = (long.content[0] as { text: string }).text;
    assert.ok(text.startsWith('Upstream answered 503 Service Unavailable: eee'));
    assert.ok(text.length < MAX_ERROR_EXCERPT + 200);
    assert.match(text, /truncated: 4000 more characters/);
  });

  test('a large body is cut at the text bound and says so', () => {
    const result = toolResult(base, answer(200, 'x'.repeat(MAX_RESULT_TEXT + 10)));
    const text = (result.content[0] as { text: string }).text;
    assert.equal(text.slice(0, MAX_RESULT_TEXT), 'x'.repeat(MAX_RESULT_TEXT));
    assert.match(text, /truncated: 10 more characters\]$/);
  });
});
