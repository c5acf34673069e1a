import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { startTestServer } from '../../../test-server/src/server';
import { generateTools } from '../../src/openapi/generate';
import { loadSpec } from '../../src/openapi/load';
import { buildUpstreamRequest } from '../../src/openapi/request';
import type { ToolSet, UpstreamRequest } from '../../src/types';
import { assertToolSetUsable, tool } from './helpers';

type RunningTestServer = Awaited<ReturnType<typeof startTestServer>>;

const SEED_TOOLS = ['listItems', 'createItem', 'getItem', 'deleteItem', 'listUsers'];

function authHeaders(mode: string, secret: string): Record<string, string> {
  switch (mode) {
    case 'bearer':
      return { authorization: `Bearer ${secret}` };
    case 'apikey':
      return { 'x-api-key': secret };
    case 'headers':
      return { 'x-tenant-id': 'test-tenant', 'x-api-secret': secret };
    default:
      return {};
  }
}

async function send(req: UpstreamRequest, auth: Record<string, string>) {
  const res = await request(req.url, {
    method: req.method,
    headers: { ...req.headers, ...auth },
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

for (const mode of ['none', 'bearer', 'apikey', 'headers', 'oauth'] as const) {
  describe(`the test server's /openapi.json in ${mode} mode`, () => {
    let server: RunningTestServer;
    let set: ToolSet;

    before(async () => {
      server = await startTestServer({ mode, port: 0, quiet: true });
      const loaded = await loadSpec({ kind: 'url', url: `${server.url}/openapi.json` });
      set = await generateTools(loaded.document, { specHash: loaded.hash, specUrl: loaded.url });
    });
    after(() => server.close());

    test('yields the five seed tools, usable, with no credential parameter', () => {
      assert.deepEqual(
        set.tools.map((t) => t.name),
        SEED_TOOLS,
      );
      assert.deepEqual(set.skipped, []);
      assert.equal(set.baseUrl, server.url);
      assertToolSetUsable(set);
      for (const t of set.tools) {
        const names = t.binding.parameters.map((p) => p.name.toLowerCase());
        for (const credential of ['authorization', 'x-api-key', 'x-tenant-id', 'x-api-secret']) {
          assert.ok(!names.includes(credential), `${t.name} has no ${credential} parameter`);
        }
      }
      assert.equal(tool(set, 'getItem').outputSchema?.type, 'object');
    });

    if (mode !== 'oauth') {
      test('requests built from tool calls succeed against the API', async () => {
        const auth = authHeaders(mode, server.apiSecret ?? '');
        const base = set.baseUrl ?? '';
        const created = await send(
          buildUpstreamRequest(
            tool(set, 'createItem'),
            { body: { name: 'from a tool', tags: ['t'] } },
            base,
          ),
          auth,
        );
        assert.equal(created.status, 201);
        const id = String(created.body.id);
        const listed = await send(
          buildUpstreamRequest(tool(set, 'listItems'), { tag: 't', limit: 10 }, base),
          auth,
        );
        assert.equal(listed.status, 200);
        assert.ok((listed.body.items as Array<{ id: string }>).some((i) => i.id === id));
        const got = await send(buildUpstreamRequest(tool(set, 'getItem'), { id }, base), auth);
        assert.equal(got.status, 200);
        assert.equal(got.body.name, 'from a tool');
        const deleted = await send(
          buildUpstreamRequest(tool(set, 'deleteItem'), { id }, base),
          auth,
        );
        assert.equal(deleted.status, 200);
        const users = await send(buildUpstreamRequest(tool(set, 'listUsers'), {}, base), auth);
        assert.equal(users.status, 200);
      });
    }
  });
}
