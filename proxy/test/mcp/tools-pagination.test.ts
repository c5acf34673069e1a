/**
 * tools/list in pages with an opaque cursor (MCP pagination utility): a client following
 * `nextCursor` collects every tool exactly once; a cursor the proxy did not issue for this listing
 * is refused with -32602.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ErrorCode, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { TOOLS_PAGE_SIZE } from '../../src/mcp/tool-server';
import { generateTools } from '../../src/openapi/generate';
import type { ToolSet } from '../../src/types';
import { connect, type RunningProxy, startProxy, workspace } from './harness';

const OPERATIONS = 2 * TOOLS_PAGE_SIZE + 37;

/** A spec of OPERATIONS GET operations, `getThing0` … */
function manyOperations(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (let i = 0; i < OPERATIONS; i++) {
    paths[`/things/${i}`] = {
      get: { operationId: `getThing${i}`, responses: { '200': { description: 'ok' } } },
    };
  }
  return { openapi: '3.1.0', info: { title: 'Many', version: '1' }, paths };
}

/** Follows nextCursor to the end; returns every page. */
async function allPages(client: Client): Promise<Tool[][]> {
  const pages: Tool[][] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    pages.push(page.tools);
    cursor = page.nextCursor;
    assert.ok(pages.length <= OPERATIONS, 'the cursors end');
  } while (cursor !== undefined);
  return pages;
}

async function rejectsWithInvalidParams(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof McpError, String(error));
    assert.equal(error.code, ErrorCode.InvalidParams);
    assert.match(error.message, message);
    return true;
  });
}

describe('MCP endpoint: tools/list pagination', () => {
  let toolSet: ToolSet;
  let proxy: RunningProxy;
  let all: Client;
  let narrow: Client;
  const hidden = ['getThing0', 'getThing150'];

  before(async () => {
    toolSet = await generateTools(manyOperations());
    proxy = await startProxy(
      [
        workspace({ id: 'all', auth: { type: 'none' }, accessKey: 'mk_all' }),
        workspace({
          id: 'narrow',
          auth: { type: 'none' },
          accessKey: 'mk_narrow',
          tools: { enabled: 'all', disabled: hidden },
        }),
      ],
      toolSet,
    );
    all = await connect(proxy, 'all', 'mk_all');
    narrow = await connect(proxy, 'narrow', 'mk_narrow');
  });
  after(async () => {
    await all?.close();
    await narrow?.close();
    await proxy?.close();
  });

  test('a client following nextCursor gets every tool once, in pages', async () => {
    const pages = await allPages(all);
    assert.deepEqual(
      pages.map((p) => p.length),
      [TOOLS_PAGE_SIZE, TOOLS_PAGE_SIZE, OPERATIONS - 2 * TOOLS_PAGE_SIZE],
    );
    const names = pages.flat().map((t) => t.name);
    assert.equal(new Set(names).size, names.length, 'names are unique');
    assert.deepEqual(
      names,
      toolSet.tools.map((t) => t.name),
    );
  });

  test("pages follow the workspace's selection", async () => {
    const names = (await allPages(narrow)).flat().map((t) => t.name);
    assert.equal(names.length, OPERATIONS - hidden.length);
    assert.equal(new Set(names).size, names.length);
    for (const name of hidden) assert.ok(!names.includes(name), `${name} is hidden`);
  });

  test('a cursor the proxy did not issue is refused with -32602', async () => {
    await rejectsWithInvalidParams(all.listTools({ cursor: 'not-a-cursor' }), /^.*Invalid cursor/);
    await rejectsWithInvalidParams(
      all.listTools({ cursor: Buffer.from('999999.abc').toString('base64url') }),
      /Invalid cursor/,
    );
  });

  test('a cursor from another listing (another selection) is refused with -32602', async () => {
    const first = await all.listTools();
    assert.ok(first.nextCursor);
    await rejectsWithInvalidParams(
      narrow.listTools({ cursor: first.nextCursor }),
      /the tool list changed since it was issued/,
    );
  });
});
