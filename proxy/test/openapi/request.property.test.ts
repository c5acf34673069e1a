import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RequestBuildError } from '../../src/openapi/errors';
import { buildUpstreamRequest } from '../../src/openapi/request';
import type { GeneratedTool, ParameterBinding } from '../../src/types';

const SEED = Number(process.env.FC_SEED ?? 20260101);

function binding(
  inn: ParameterBinding['in'],
  name: string,
  style: string,
  explode: boolean,
): ParameterBinding {
  return {
    arg: name,
    name,
    in: inn,
    required: inn === 'path',
    style,
    explode,
    allowReserved: false,
  };
}

const getItem: GeneratedTool = {
  name: 'getItem',
  description: '',
  inputSchema: { type: 'object' },
  annotations: {},
  binding: {
    method: 'GET',
    path: '/api/items/{id}/tags',
    parameters: [binding('path', 'id', 'simple', false), binding('query', 'tag', 'form', true)],
    security: [],
  },
};

const text = fc.string({ unit: 'grapheme', maxLength: 30 });

describe('buildUpstreamRequest properties', () => {
  test('any path value stays one segment under the base path and decodes back to itself', () => {
    fc.assert(
      fc.property(text, (id) => {
        let req: ReturnType<typeof buildUpstreamRequest>;
        try {
          req = buildUpstreamRequest(getItem, { id }, 'https://api.example.com/v1');
        } catch (err) {
          assert.ok(err instanceof RequestBuildError);
          assert.ok(
            id === '.' || id === '..',
            `only dot segments are refused, not ${JSON.stringify(id)}`,
          );
          return;
        }
        const url = new URL(req.url);
        assert.equal(url.origin, 'https://api.example.com');
        const segments = url.pathname.split('/');
        assert.equal(segments.length, 6, url.pathname);
        assert.deepEqual(segments.slice(0, 4), ['', 'v1', 'api', 'items']);
        assert.equal(segments[5], 'tags');
        assert.equal(decodeURIComponent(segments[4] as string), id);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  test('exploded form query arrays round-trip through URLSearchParams', () => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 5 }), (tags) => {
        const req = buildUpstreamRequest(
          getItem,
          { id: 'x', tag: tags },
          'https://api.example.com',
        );
        const url = new URL(req.url);
        assert.deepEqual(url.searchParams.getAll('tag'), tags);
        assert.equal(url.hash, '');
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
