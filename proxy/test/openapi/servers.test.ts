/**
 * Path-item and operation-level `servers`: each operation's binding carries the server it must be
 * called on when it differs from the document's (OpenAPI 3.x: operation over path item over
 * document).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateTools } from '../../src/openapi/generate';
import { loadSpec } from '../../src/openapi/load';
import type { ToolSet } from '../../src/types';

const SPEC = require.resolve('@readme/oas-examples/3.0/json/server-path-level.json');
const SPEC_URL = 'https://specs.example.com/apis/openapi.json';

async function serverLevels(specUrl?: string): Promise<ToolSet> {
  const loaded = await loadSpec({ kind: 'file', path: SPEC });
  return generateTools(loaded.document, {
    specHash: loaded.hash,
    ...(specUrl ? { specUrl } : {}),
  });
}

/** Each operation's path → the base URL its binding carries (undefined: the document's). */
function serversByPath(set: ToolSet): Record<string, string | undefined> {
  return Object.fromEntries(set.tools.map((t) => [t.binding.path, t.binding.baseUrl]));
}

describe('generateTools: path-item and operation servers (oas-examples server-path-level)', () => {
  test('an operation gets the first server of its own level, else its path item, else none', async () => {
    const set = await serverLevels(SPEC_URL);
    assert.equal(set.baseUrl, 'https://demo.example.com/v2', "the document's servers[0]");
    assert.deepEqual(serversByPath(set), {
      // Relative server URLs are relative to where the document is served.
      '/relative-path-server': 'https://specs.example.com/v2',
      '/relative-operation-server': 'https://specs.example.com/v3',
      '/operation-server-variables': 'https://operation.example.com/v3',
      // A path item reached through $ref brings its servers along.
      '/path-item-ref-server': 'https://path-item-ref.example.com',
      '/path-item-server-source': 'https://path-item-ref.example.com',
      // An empty list declares nothing: the level above applies.
      '/empty-operation-servers': 'https://empty-operation-path.example.com',
      '/empty-path-item-servers': undefined,
    });
  });

  test('a relative operation server with no spec URL is left out, with a note', async () => {
    const set = await serverLevels();
    const byPath = serversByPath(set);
    assert.equal(byPath['/relative-path-server'], undefined);
    assert.equal(byPath['/relative-operation-server'], undefined);
    assert.equal(byPath['/operation-server-variables'], 'https://operation.example.com/v3');
    assert.ok(
      set.notes.some(
        (n) =>
          n.startsWith('/paths/~1relative-operation-server/get/servers/0:') &&
          n.includes('/v3 is relative'),
      ),
      set.notes.join('\n'),
    );
  });

  test('an operation server variable without a default leaves the document server, with a note', async () => {
    const set = await generateTools({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      servers: [{ url: 'https://api.example.com/' }],
      paths: {
        '/upload': {
          post: {
            operationId: 'upload',
            servers: [{ url: 'https://{region}.uploads.example.com/', variables: { region: {} } }],
            responses: { '201': { description: 'ok' } },
          },
        },
        '/download': {
          get: {
            operationId: 'download',
            servers: [{ url: 'https://files.example.com/v1/' }],
            responses: { '200': { description: 'ok' } },
          },
        },
      },
    });
    assert.equal(set.baseUrl, 'https://api.example.com');
    const byPath = serversByPath(set);
    assert.equal(byPath['/upload'], undefined);
    assert.equal(byPath['/download'], 'https://files.example.com/v1', 'no trailing slash');
    assert.ok(
      set.notes.some((n) => n.includes('/paths/~1upload/post/servers/0') && n.includes('{region}')),
      set.notes.join('\n'),
    );
  });
});
