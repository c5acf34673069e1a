/**
 * The MCP endpoint end to end: MCP SDK client → proxy router → real test server, in each static
 * upstream auth mode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { ToolSet } from '../../src/types';
import {
  apiCalls,
  connect,
  control,
  type RunningProxy,
  SEED_TOOLS,
  type StaticMode,
  seedToolSet,
  sha256,
  startProxy,
  startTestServer,
  type TestServer,
  upstreamAuth,
  workspace,
} from './harness';

const MODES: StaticMode[] = ['bearer', 'apikey', 'headers', 'none'];

function text(result: CallToolResult): string {
  const first = result.content[0];
  assert.ok(first && first.type === 'text', 'first content is text');
  return first.text;
}

for (const mode of MODES) {
  describe(`MCP endpoint, upstream in ${mode} mode`, () => {
    let upstream: TestServer;
    let proxy: RunningProxy;
    let client: Client;
    let toolSet: ToolSet;
    const accessKey = `mk_${mode}-access-key`;

    before(async () => {
      upstream = await startTestServer({ mode, port: 0, quiet: true });
      toolSet = await seedToolSet(upstream);
      proxy = await startProxy(
        [
          workspace({
            id: 'seed',
            auth: upstreamAuth(mode, upstream.apiSecret ?? ''),
            baseUrl: upstream.url,
            accessKey,
          }),
        ],
        toolSet,
      );
      client = await connect(proxy, 'seed', accessKey);
    });
    after(async () => {
      await client?.close();
      await proxy?.close();
      await upstream?.close();
    });

    test('tools/list shows the five seed tools', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), SEED_TOOLS);
      const getItem = tools.find((t) => t.name === 'getItem');
      assert.equal(getItem?.annotations?.readOnlyHint, true);
      assert.deepEqual(getItem?.inputSchema.required, ['id']);
    });

    test('create → get → list → delete → get gives 404 isError', async () => {
      const created = (await client.callTool({
        name: 'createItem',
        arguments: { body: { name: `widget-${mode}`, tags: ['t1'] } },
      })) as CallToolResult;
      assert.equal(created.isError, undefined, text(created));
      const item = JSON.parse(text(created)) as { id: string; name: string };
      assert.equal(item.name, `widget-${mode}`);

      const got = (await client.callTool({
        name: 'getItem',
        arguments: { id: item.id },
      })) as CallToolResult;
      assert.equal(got.isError, undefined, text(got));
      assert.equal((JSON.parse(text(got)) as { id: string }).id, item.id);
      if (toolSet.tools.find((t) => t.name === 'getItem')?.outputSchema) {
        assert.equal((got.structuredContent as { id: string }).id, item.id);
      }

      const listed = (await client.callTool({
        name: 'listItems',
        arguments: { tag: 't1' },
      })) as CallToolResult;
      const { items } = JSON.parse(text(listed)) as { items: Array<{ id: string }> };
      assert.ok(
        items.some((i) => i.id === item.id),
        'the new item is listed under its tag',
      );

      const users = (await client.callTool({ name: 'listUsers', arguments: {} })) as CallToolResult;
      assert.equal(users.isError, undefined, text(users));
      assert.ok(Array.isArray((JSON.parse(text(users)) as { users: unknown[] }).users));

      const deleted = (await client.callTool({
        name: 'deleteItem',
        arguments: { id: item.id },
      })) as CallToolResult;
      assert.equal(deleted.isError, undefined, text(deleted));

      const gone = (await client.callTool({
        name: 'getItem',
        arguments: { id: item.id },
      })) as CallToolResult;
      assert.equal(gone.isError, true);
      assert.match(text(gone), /^Upstream answered 404 Not Found: .*not_found/);
    });

    test('invalid arguments: an MCP error naming the field, and no upstream request', async () => {
      const api = control(upstream);
      const before = apiCalls((await api.counters()).endpoints);
      await assert.rejects(
        client.callTool({ name: 'createItem', arguments: { body: { tags: ['x'] } } }),
        (error: Error & { code?: number }) => {
          assert.equal(error.code, -32602);
          assert.match(
            error.message,
            /Invalid arguments for tool createItem: "body\/name" is required/,
          );
          return true;
        },
      );
      await assert.rejects(
        client.callTool({ name: 'getItem', arguments: {} }),
        /Invalid arguments for tool getItem: "id" is required/,
      );
      await assert.rejects(
        client.callTool({ name: 'listItems', arguments: { limit: 'many' } }),
        /Invalid arguments for tool listItems: "limit" must be integer/,
      );
      assert.equal(apiCalls((await api.counters()).endpoints), before, 'no API request was made');
    });

    test("the MCP client's Authorization never reaches the upstream", async () => {
      const api = control(upstream);
      const { events: earlier } = await api.events();
      const since = earlier.at(-1)?.seq ?? 0;
      const sentBefore = proxy.sent.length;
      await client.callTool({ name: 'listItems', arguments: {} });

      const sent = proxy.sent.slice(sentBefore);
      assert.equal(sent.length, 1, 'one upstream request');
      for (const headers of sent) {
        for (const value of Object.values(headers)) assert.doesNotMatch(value, /mk_/);
        const authorization = headers.authorization;
        if (mode === 'bearer') assert.equal(authorization, `Bearer ${upstream.apiSecret}`);
        else assert.equal(authorization, undefined);
      }

      // The upstream's own record (it hashes bearer tokens it is shown in bearer mode).
      const calls = (await api.events(since)).events.filter((e) => e.kind === 'api');
      assert.equal(calls.length, 1, 'the call reached the API once');
      for (const event of calls) {
        assert.notEqual(event.token_sha256, sha256(accessKey));
        if (mode === 'bearer') assert.equal(event.token_sha256, sha256(upstream.apiSecret ?? ''));
      }
    });
  });
}
