/**
 * The "Done when" of the proxy core: `--config fixtures/workspaces/<mode>.yaml` serves the seed's
 * five tools from the test server to the MCP SDK client, in bearer, apikey, headers and none modes.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startTestServer } from '../../../test-server/src/server';
import { silentLogger } from '../../src/log';
import { type RunningProxy, startProxy } from '../../src/server';

const fixtures = resolve(__dirname, '../../../fixtures/workspaces');
const SEED_TOOLS = ['createItem', 'deleteItem', 'getItem', 'listItems', 'listUsers'];

async function connect(url: string, accessKey?: string): Promise<Client> {
  const client = new Client({ name: 'proxy-server-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit:
      accessKey === undefined ? {} : { headers: { Authorization: `Bearer ${accessKey}` } },
  });
  await client.connect(transport);
  return client;
}

for (const mode of ['bearer', 'apikey', 'headers', 'none'] as const) {
  describe(`--config fixtures/workspaces/${mode}.yaml`, () => {
    let upstream: Awaited<ReturnType<typeof startTestServer>>;
    let proxy: RunningProxy;
    let dir: string;
    const id = `test-${mode}`;

    before(async () => {
      upstream = await startTestServer({ mode, port: 0, quiet: true });
      dir = mkdtempSync(join(tmpdir(), `proxy-server-${mode}-`));
      proxy = await startProxy({
        port: 0,
        dataDir: join(dir, 'data'),
        config: join(fixtures, `${mode}.yaml`),
        env: { TEST_SERVER_URL: upstream.url, TEST_SERVER_API_SECRET: upstream.apiSecret },
        logger: silentLogger(),
      });
    });
    after(async () => {
      await proxy?.close();
      await upstream?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('serves the seed five tools to the MCP SDK client, and calls reach the upstream', async () => {
      const accessKey = proxy.generatedAccessKeys[id];
      assert.ok(accessKey, 'an access key is generated for the config workspace and reported once');
      const client = await connect(`${proxy.url}/mcp/${id}`, accessKey);
      try {
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((t) => t.name).sort(), SEED_TOOLS);
        const created = await client.callTool({
          name: 'createItem',
          arguments: { body: { name: `from ${mode}` } },
        });
        assert.equal(created.isError ?? false, false, JSON.stringify(created));
        const listed = await client.callTool({ name: 'listItems', arguments: {} });
        assert.equal(listed.isError ?? false, false, JSON.stringify(listed));
        assert.match(JSON.stringify(listed.content), new RegExp(`from ${mode}`));
      } finally {
        await client.close();
      }
    });

    test('MCP clients without the access key get 401', async () => {
      const response = await fetch(`${proxy.url}/mcp/${id}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      assert.equal(response.status, 401);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer /);
    });
  });
}

describe('server assembly', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'proxy-server-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a restart keeps config workspaces, their access key and tool selection', async () => {
    const upstream = await startTestServer({ mode: 'bearer', port: 0, quiet: true });
    const options = {
      port: 0,
      dataDir: join(dir, 'restart'),
      config: join(fixtures, 'bearer.yaml'),
      env: { TEST_SERVER_URL: upstream.url, TEST_SERVER_API_SECRET: upstream.apiSecret },
      logger: silentLogger(),
    };
    try {
      const first = await startProxy(options);
      const accessKey = first.generatedAccessKeys['test-bearer'];
      await first.service.disableTools('test-bearer', ['deleteItem']);
      await first.close();

      const second = await startProxy(options);
      try {
        assert.deepEqual(second.generatedAccessKeys, {});
        const client = await connect(`${second.url}/mcp/test-bearer`, accessKey);
        const { tools } = await client.listTools();
        assert.deepEqual(
          tools.map((t) => t.name).sort(),
          SEED_TOOLS.filter((n) => n !== 'deleteItem'),
        );
        await client.close();
      } finally {
        await second.close();
      }
    } finally {
      await upstream.close();
    }
  });

  test('oauth2 workspaces: the OAuth module answers 401 with resource metadata; without it, 503', async () => {
    const env = { TEST_SERVER_URL: 'http://localhost:3456', TEST_CLIENT_SECRET: 'cs_unused' };
    const withOAuth = await startProxy({
      port: 0,
      dataDir: join(dir, 'oauth'),
      config: join(fixtures, 'oauth.yaml'),
      env,
      logger: silentLogger(),
    });
    const probe = (url: string) =>
      fetch(`${url}/mcp/test-oauth`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize' }),
      });
    try {
      const response = await probe(withOAuth.url);
      assert.equal(response.status, 401);
      assert.match(response.headers.get('www-authenticate') ?? '', /resource_metadata="/);
    } finally {
      await withOAuth.close();
    }

    const withoutOAuth = await startProxy({
      port: 0,
      dataDir: join(dir, 'oauth'),
      config: join(fixtures, 'oauth.yaml'),
      env,
      logger: silentLogger(),
      oauth: false,
    });
    try {
      assert.equal((await probe(withoutOAuth.url)).status, 503);
    } finally {
      await withoutOAuth.close();
    }
  });

  test('an unknown Host is refused on the MCP endpoint (DNS rebinding)', async () => {
    const proxy = await startProxy({
      port: 0,
      dataDir: join(dir, 'hosts'),
      logger: silentLogger(),
      oauth: false,
    });
    try {
      const status = await new Promise<number>((done, fail) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: proxy.port,
            path: '/mcp/anything',
            method: 'POST',
            headers: { host: 'evil.example:80', 'content-type': 'application/json' },
          },
          (res) => {
            res.resume();
            done(res.statusCode ?? 0);
          },
        );
        req.on('error', fail);
        req.end('{}');
      });
      assert.equal(status, 403);
    } finally {
      await proxy.close();
    }
  });

  test("the config's server section: public URL, allowed hosts and data dir", async () => {
    const file = join(dir, 'server.yaml');
    writeFileSync(
      file,
      [
        'server:',
        '  port: 0',
        '  publicUrl: https://mcp.example.com',
        '  allowedHosts: [mcp.example.com]',
        '  dataDir: server-data',
        'workspaces:',
        '  - id: open',
        '    name: Open',
        '    spec: { document: "{}" }',
        '    public: true',
      ].join('\n'),
    );
    const proxy = await startProxy({
      config: file,
      logger: silentLogger(),
      oauth: false,
      adminToken: 'admin-token-0123456789',
    });
    try {
      assert.equal(proxy.url, 'https://mcp.example.com');
      assert.equal(proxy.store.dataDir, join(dir, 'server-data'));
      assert.deepEqual(proxy.generatedAccessKeys, {}, 'a public workspace has no access key');
      const status = (host: string) =>
        new Promise<number>((done, fail) => {
          const req = request(
            {
              host: '127.0.0.1',
              port: proxy.port,
              path: '/mcp/open',
              method: 'GET',
              headers: { host },
            },
            (res) => {
              res.resume();
              done(res.statusCode ?? 0);
            },
          );
          req.on('error', fail);
          req.end();
        });
      assert.equal(await status(`localhost:${proxy.port}`), 403);
      assert.equal(
        await status('mcp.example.com'),
        405,
        'allowed host, public workspace: GET is not served',
      );
      const view = await fetch(`http://localhost:${proxy.port}/admin/workspaces/open`, {
        headers: { authorization: 'Bearer admin-token-0123456789' },
      });
      assert.equal(
        ((await view.json()) as { mcpUrl: string }).mcpUrl,
        'https://mcp.example.com/mcp/open',
      );
    } finally {
      await proxy.close();
    }
  });

  test('a config with a missing variable fails before anything listens', async () => {
    await assert.rejects(
      startProxy({
        port: 0,
        dataDir: join(dir, 'env'),
        config: join(fixtures, 'bearer.yaml'),
        env: {},
        logger: silentLogger(),
      }),
      (error: unknown) =>
        (error as { code?: string }).code === 'ERR_CONFIG_ENV' &&
        /TEST_SERVER_API_SECRET/.test((error as Error).message),
    );
  });
});
