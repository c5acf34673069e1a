import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestBuildError } from '../../src/openapi/errors';
import {
  buildUpstreamRequest,
  serializeCookieParameter,
  serializeHeaderParameter,
  serializePathParameter,
  serializeQueryParameter,
} from '../../src/openapi/request';
import type { GeneratedTool, OperationBinding, ParameterBinding } from '../../src/types';
import { tool, toolsOf } from './helpers';

// The values of the OpenAPI 3.1.1 style examples table.
const string = 'blue';
const array = ['blue', 'black', 'brown'];
const object = { R: 100, G: 200, B: 150 };

function param(
  inn: ParameterBinding['in'],
  style: string,
  explode: boolean,
  allowReserved = false,
): ParameterBinding {
  return { arg: 'color', name: 'color', in: inn, required: false, style, explode, allowReserved };
}

// Rows of https://spec.openapis.org/oas/v3.1.1.html#style-examples: [style, explode, string, array, object]
const pathRows: Array<[string, boolean, string, string, string]> = [
  ['matrix', false, ';color=blue', ';color=blue,black,brown', ';color=R,100,G,200,B,150'],
  ['matrix', true, ';color=blue', ';color=blue;color=black;color=brown', ';R=100;G=200;B=150'],
  ['label', false, '.blue', '.blue,black,brown', '.R,100,G,200,B,150'],
  ['label', true, '.blue', '.blue.black.brown', '.R=100.G=200.B=150'],
  ['simple', false, 'blue', 'blue,black,brown', 'R,100,G,200,B,150'],
  ['simple', true, 'blue', 'blue,black,brown', 'R=100,G=200,B=150'],
];

const queryRows: Array<[string, boolean, string | undefined, string, string]> = [
  ['form', false, 'color=blue', 'color=blue,black,brown', 'color=R,100,G,200,B,150'],
  ['form', true, 'color=blue', 'color=blue&color=black&color=brown', 'R=100&G=200&B=150'],
  [
    'spaceDelimited',
    false,
    undefined,
    'color=blue%20black%20brown',
    'color=R%20100%20G%20200%20B%20150',
  ],
  [
    'pipeDelimited',
    false,
    undefined,
    'color=blue%7Cblack%7Cbrown',
    'color=R%7C100%7CG%7C200%7CB%7C150',
  ],
  ['deepObject', true, undefined, '', 'color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150'],
];

describe('parameter serialization matches the OpenAPI style examples', () => {
  for (const [style, explode, s, a, o] of pathRows) {
    test(`path ${style} explode=${explode}`, () => {
      const p = param('path', style, explode);
      assert.equal(serializePathParameter(p, string), s);
      assert.equal(serializePathParameter(p, array), a);
      assert.equal(serializePathParameter(p, object), o);
    });
  }

  for (const [style, explode, s, a, o] of queryRows) {
    test(`query ${style} explode=${explode}`, () => {
      const p = param('query', style, explode);
      if (s !== undefined) assert.equal(serializeQueryParameter(p, string).join('&'), s);
      if (a !== '') assert.equal(serializeQueryParameter(p, array).join('&'), a);
      assert.equal(serializeQueryParameter(p, object).join('&'), o);
    });
  }

  test('form: an empty array is "color="', () => {
    assert.equal(serializeQueryParameter(param('query', 'form', false), []).join('&'), 'color=');
    assert.equal(serializeQueryParameter(param('query', 'form', true), []).join('&'), 'color=');
  });

  test('header simple: explode only changes objects', () => {
    assert.equal(serializeHeaderParameter(param('header', 'simple', false), string), 'blue');
    assert.equal(
      serializeHeaderParameter(param('header', 'simple', false), array),
      'blue,black,brown',
    );
    assert.equal(
      serializeHeaderParameter(param('header', 'simple', false), object),
      'R,100,G,200,B,150',
    );
    assert.equal(
      serializeHeaderParameter(param('header', 'simple', true), object),
      'R=100,G=200,B=150',
    );
    assert.equal(serializeHeaderParameter(param('header', 'simple', false), 42), '42');
  });

  test('cookie form', () => {
    assert.deepEqual(serializeCookieParameter(param('cookie', 'form', true), 'a b'), [
      'color=a%20b',
    ]);
    assert.deepEqual(serializeCookieParameter(param('cookie', 'form', false), array), [
      'color=blue,black,brown',
    ]);
    assert.deepEqual(serializeCookieParameter(param('cookie', 'form', true), object), [
      'R=100',
      'G=200',
      'B=150',
    ]);
  });

  test('reserved characters are percent-encoded unless allowReserved', () => {
    const value = 'a/b?c#d&e=f g';
    assert.equal(
      serializePathParameter(param('path', 'simple', false), value),
      'a%2Fb%3Fc%23d%26e%3Df%20g',
    );
    assert.deepEqual(serializeQueryParameter(param('query', 'form', true), value), [
      'color=a%2Fb%3Fc%23d%26e%3Df%20g',
    ]);
    assert.deepEqual(serializeQueryParameter(param('query', 'form', true, true), 'a/b?c:d'), [
      'color=a/b?c:d',
    ]);
    assert.equal(
      serializePathParameter(param('path', 'simple', false), "it's (x)*!"),
      'it%27s%20%28x%29%2A%21',
    );
    assert.equal(serializePathParameter(param('path', 'simple', false), 'é'), '%C3%A9');
    assert.equal(serializePathParameter(param('path', 'simple', false), 'a\uD800b'), 'a%EF%BF%BDb');
  });

  test('nested values travel as JSON text; deepObject nests brackets', () => {
    assert.deepEqual(serializeQueryParameter(param('query', 'form', true), [{ a: 1 }]), [
      `color=${encodeURIComponent('{"a":1}')}`,
    ]);
    assert.deepEqual(serializeQueryParameter(param('query', 'deepObject', true), { a: { b: 1 } }), [
      'color%5Ba%5D%5Bb%5D=1',
    ]);
  });
});

function makeTool(binding: Partial<OperationBinding>): GeneratedTool {
  return {
    name: 't',
    description: '',
    inputSchema: { type: 'object' },
    annotations: {},
    binding: { method: 'GET', path: '/', parameters: [], security: [], ...binding },
  };
}

describe('buildUpstreamRequest', () => {
  test('the seed tools against the demo API', async () => {
    const set = await toolsOf('items-3.1.json');
    const base = 'http://localhost:3456';
    assert.deepEqual(buildUpstreamRequest(tool(set, 'listItems'), {}, base), {
      method: 'GET',
      url: 'http://localhost:3456/api/items',
      headers: {},
    });
    assert.deepEqual(
      buildUpstreamRequest(tool(set, 'listItems'), { tag: 'red & blue' }, base).url,
      `${base}/api/items?tag=red%20%26%20blue`,
    );
    assert.deepEqual(buildUpstreamRequest(tool(set, 'getItem'), { id: 'a/b' }, `${base}/`), {
      method: 'GET',
      url: 'http://localhost:3456/api/items/a%2Fb',
      headers: {},
    });
    assert.deepEqual(
      buildUpstreamRequest(tool(set, 'createItem'), { body: { name: 'n', tags: ['x'] } }, base),
      {
        method: 'POST',
        url: 'http://localhost:3456/api/items',
        headers: { 'content-type': 'application/json' },
        body: '{"name":"n","tags":["x"]}',
      },
    );
    assert.equal(buildUpstreamRequest(tool(set, 'deleteItem'), { id: '7' }, base).method, 'DELETE');
  });

  test('query, header and cookie parameters together; absent optional ones left out', () => {
    const t = makeTool({
      path: '/things/{id}',
      parameters: [
        {
          arg: 'id',
          name: 'id',
          in: 'path',
          required: true,
          style: 'simple',
          explode: false,
          allowReserved: false,
        },
        {
          arg: 'q',
          name: 'q',
          in: 'query',
          required: false,
          style: 'form',
          explode: true,
          allowReserved: false,
        },
        {
          arg: 'tags',
          name: 'tags',
          in: 'query',
          required: false,
          style: 'form',
          explode: false,
          allowReserved: false,
        },
        {
          arg: 'skip',
          name: 'skip',
          in: 'query',
          required: false,
          style: 'form',
          explode: true,
          allowReserved: false,
        },
        {
          arg: 'trace',
          name: 'X-Trace',
          in: 'header',
          required: false,
          style: 'simple',
          explode: false,
          allowReserved: false,
        },
        {
          arg: 'session',
          name: 'session',
          in: 'cookie',
          required: false,
          style: 'form',
          explode: true,
          allowReserved: false,
        },
        {
          arg: 'theme',
          name: 'theme',
          in: 'cookie',
          required: false,
          style: 'form',
          explode: true,
          allowReserved: false,
        },
      ],
    });
    const req = buildUpstreamRequest(
      t,
      { id: 5, q: 'x', tags: ['a', 'b'], skip: null, trace: 'abc', session: 's 1', theme: 'dark' },
      'https://api.example.com/v1',
    );
    assert.equal(req.url, 'https://api.example.com/v1/things/5?q=x&tags=a,b');
    assert.deepEqual(req.headers, { 'x-trace': 'abc', cookie: 'session=s%201; theme=dark' });
  });

  test('missing required arguments and unsafe values are RequestBuildErrors naming the argument', () => {
    const t = makeTool({
      method: 'POST',
      path: '/things/{id}',
      parameters: [
        {
          arg: 'id',
          name: 'id',
          in: 'path',
          required: true,
          style: 'simple',
          explode: false,
          allowReserved: false,
        },
        {
          arg: 'h',
          name: 'X-H',
          in: 'header',
          required: false,
          style: 'simple',
          explode: false,
          allowReserved: false,
        },
      ],
      body: { arg: 'body', contentType: 'application/json', required: true },
    });
    const check = (args: Record<string, unknown>, code: string, arg: string, message: RegExp) =>
      assert.throws(
        () => buildUpstreamRequest(t, args, 'http://x'),
        (err: unknown) =>
          err instanceof RequestBuildError &&
          err.code === code &&
          err.arg === arg &&
          message.test(err.message),
      );
    check({ body: {} }, 'ERR_MISSING_ARGUMENT', 'id', /missing required argument "id"/);
    check({ id: '1' }, 'ERR_MISSING_ARGUMENT', 'body', /missing required argument "body"/);
    check({ id: '..', body: {} }, 'ERR_INVALID_ARGUMENT', 'id', /cannot be "\." or "\.\."/);
    check({ id: '.', body: {} }, 'ERR_INVALID_ARGUMENT', 'id', /cannot be/);
    check({ id: '1', h: 'a\r\nX-Evil: 1', body: {} }, 'ERR_INVALID_ARGUMENT', 'h', /CR, LF or NUL/);
    check(
      { id: '1', h: 'snow \u2603', body: {} },
      'ERR_INVALID_ARGUMENT',
      'h',
      /printable ASCII or Latin-1/,
    );
    assert.equal(
      buildUpstreamRequest(t, { id: '..a', body: {} }, 'http://x').url,
      'http://x/things/..a',
    );
  });

  test('form-urlencoded and text bodies', () => {
    const form = makeTool({
      method: 'POST',
      body: { arg: 'body', contentType: 'application/x-www-form-urlencoded', required: false },
    });
    assert.deepEqual(
      buildUpstreamRequest(form, { body: { name: 'a b', tags: ['x', 'y'] } }, 'http://x'),
      {
        method: 'POST',
        url: 'http://x/',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'name=a+b&tags=x&tags=y',
      },
    );
    assert.equal(buildUpstreamRequest(form, {}, 'http://x').body, undefined);
    const text = makeTool({
      method: 'POST',
      body: { arg: 'body', contentType: 'text/plain', required: true },
    });
    assert.equal(buildUpstreamRequest(text, { body: 'hello' }, 'http://x').body, 'hello');
  });
});
