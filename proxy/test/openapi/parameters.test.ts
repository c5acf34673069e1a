import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildUpstreamRequest } from '../../src/openapi/request';
import { assertToolSetUsable, newAjv, tool, toolsOf } from './helpers';

const specUrl = 'https://api.example.com/specs/openapi.json';

describe('generateTools: parameter and schema corner cases (OpenAPI 3.1)', () => {
  test('credential parameters (apiKey query and cookie, Authorization) and Accept/Content-Type are hidden', async () => {
    const set = await toolsOf('parameters-3.1.json', { specUrl });
    assertToolSetUsable(set);
    const search = tool(set, 'search');
    assert.deepEqual(Object.keys(search.inputSchema.properties as object), [
      'filter',
      'sort',
      'X-Trace',
      'session',
    ]);
    assert.deepEqual(
      search.binding.parameters.map((p) => [p.arg, p.in, p.style, p.explode]),
      [
        ['filter', 'query', 'json', false],
        ['sort', 'query', 'deepObject', true],
        ['X-Trace', 'header', 'simple', false],
        ['session', 'cookie', 'form', true],
      ],
    );
    assert.deepEqual((search.inputSchema.properties as Record<string, unknown>)['X-Trace'], {
      type: 'string',
      deprecated: true,
    });
  });

  test('security: an operation override (even empty) wins over the document default', async () => {
    const set = await toolsOf('parameters-3.1.json', { specUrl });
    assert.deepEqual(tool(set, 'search').binding.security, []);
    assert.deepEqual(tool(set, 'saveSearch').binding.security, [['key']]);
  });

  test('no servers: the base URL is the origin the spec came from', async () => {
    const set = await toolsOf('parameters-3.1.json', { specUrl });
    assert.equal(set.baseUrl, 'https://api.example.com');
  });

  test('readOnly leaves inputs, writeOnly leaves outputs; extensions are dropped', async () => {
    const set = await toolsOf('parameters-3.1.json', { specUrl });
    const out = tool(set, 'search').outputSchema;
    assert.deepEqual(out, {
      type: 'object',
      properties: {
        id: { type: 'integer', readOnly: true },
        name: { type: 'string', default: 'anon' },
        balance: { type: 'number', exclusiveMinimum: 0, multipleOf: 0.01 },
      },
    });
    const body = (
      tool(set, 'saveSearch').inputSchema.properties as Record<string, Record<string, unknown>>
    ).body;
    // A 3.1 $ref with a constraining sibling becomes allOf + the sibling.
    assert.deepEqual(body?.required, ['password']);
    const inner = (body?.allOf as Array<Record<string, Record<string, unknown>>> | undefined)?.[0];
    assert.deepEqual(Object.keys(inner?.properties ?? {}), ['name', 'password', 'balance']);
    assert.equal(tool(set, 'saveSearch').outputSchema?.type, 'object', 'a 2XX range counts as 2xx');
    const validate = newAjv().compile(tool(set, 'saveSearch').inputSchema);
    assert.equal(validate({ body: { password: 'p', balance: 1 } }), true);
    assert.equal(validate({ body: { balance: 1 } }), false);
    assert.equal(validate({ body: { password: 'p', balance: 0 } }), false);
  });

  test('a +json body is preferred to text; tuple items become prefixItems', async () => {
    const set = await toolsOf('parameters-3.1.json', { specUrl });
    const put = tool(set, 'putCoords');
    assert.deepEqual(put.binding.body, {
      arg: 'body',
      contentType: 'application/vnd.api+json',
      required: false,
    });
    assert.deepEqual((put.inputSchema.properties as Record<string, unknown>).body, {
      type: 'array',
      prefixItems: [{ type: 'number' }, { type: 'number' }],
    });
    assert.equal(put.inputSchema.required, undefined);
    assert.equal(put.annotations.idempotentHint, true);
  });

  test('content (JSON), deepObject and cookie parameters on the wire', async () => {
    const set = await toolsOf('parameters-3.1.json', { specUrl });
    const req = buildUpstreamRequest(
      tool(set, 'search'),
      { filter: { q: 'a b' }, sort: { name: 'asc' }, 'X-Trace': 't1', session: 's' },
      set.baseUrl ?? '',
    );
    assert.equal(
      req.url,
      `https://api.example.com/search?filter=${encodeURIComponent('{"q":"a b"}')}&sort%5Bname%5D=asc`,
    );
    assert.deepEqual(req.headers, { 'x-trace': 't1', cookie: 'session=s' });
  });
});
