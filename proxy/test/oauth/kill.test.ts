import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { TokenLifecycle } from '../../src/oauth/lifecycle';
import { UpstreamOAuth } from '../../src/oauth/upstream';
import { oauthWorkspace, type TempStore, tempStore } from './support';

/**
 * A rotating token endpoint with the common reuse interval: the refresh token just replaced is
 * still accepted (once the proxy dies before writing, it only has that one). Any older refresh
 * token is invalid_grant. `onResponse` runs when a response has been written out.
 */
function rotatingTokenServer() {
  let n = 0;
  let current = 'rt-0';
  let previous: string | undefined;
  const state = {
    accepted: 0,
    refused: 0,
    onResponse: (_count: number) => {},
    /** Holds the next response instead of answering it (kill while the request is in flight). */
    holdAt: -1,
    valid: (rt: string | undefined) => rt === current || rt === previous,
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += String(chunk);
    });
    req.on('end', () => {
      const rt = new URLSearchParams(body).get('refresh_token') ?? undefined;
      if (!state.valid(rt)) {
        state.refused += 1;
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_grant' }));
        return;
      }
      if (state.accepted + 1 === state.holdAt) {
        state.onResponse(state.accepted + 1);
        return;
      }
      n += 1;
      previous = rt === current ? current : previous;
      current = `rt-${n}`;
      state.accepted += 1;
      res.on('finish', () => state.onResponse(state.accepted));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: `at-${n}`,
          refresh_token: current,
          token_type: 'Bearer',
          expires_in: 3600,
        }),
      );
    });
  });
  return { server, state };
}

describe('a proxy process killed mid-refresh', () => {
  const runChild = (temp: TempStore, workspaceId: string): ChildProcess =>
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, 'fixtures', 'refresh-child.ts'),
        temp.dataDir,
        workspaceId,
        'grant-k',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );

  for (const [label, killAt, hold] of [
    ['right after the upstream sent rotated tokens', 3, false],
    ['while the refresh request is in flight', 4, true],
    ['right after the first rotation', 1, false],
  ] as const) {
    test(`killed ${label}: the grant survives and refreshes again`, async () => {
      const { server, state } = rotatingTokenServer();
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as AddressInfo).port;
      const temp = tempStore();
      try {
        const workspace = oauthWorkspace({ tokenUrl: `http://127.0.0.1:${port}/token` }, 'ws-kill');
        temp.store.workspaces.create(workspace);
        temp.repo.createGrant({
          id: 'grant-k',
          workspaceId: workspace.id,
          clientId: 'mcp-client',
          scopes: [],
          upstream: { accessToken: 'at-start', refreshToken: 'rt-0', obtainedAt: Date.now() },
          upstreamVersion: 0,
          createdAt: Date.now(),
        });
        const child = runChild(temp, workspace.id);
        let stderr = '';
        child.stderr?.on('data', (chunk) => {
          stderr += String(chunk);
        });
        const exited = once(child, 'exit');
        state.holdAt = hold ? killAt : -1;
        state.onResponse = (count) => {
          if (count >= killAt) child.kill('SIGKILL');
        };
        await exited;
        state.onResponse = () => {};
        state.holdAt = -1;
        assert.equal(stderr, '', stderr);
        assert.equal(state.refused, 0);

        // What the dead process left must be a whole token set the upstream still honours.
        const grant = temp.repo.getGrant('grant-k');
        assert.ok(grant?.upstream, 'the grant is still there');
        assert.equal(grant.revokedAt, undefined);
        assert.ok(state.valid(grant.upstream.refreshToken), `stale ${grant.upstream.refreshToken}`);

        const lifecycle = new TokenLifecycle({
          repo: temp.repo,
          upstream: new UpstreamOAuth({
            repo: temp.repo,
            callbackUrl: 'http://localhost:8080/oauth/callback',
            fetch,
            clock: Date.now,
          }),
          clock: Date.now,
        });
        const fresh = await lifecycle.refreshGrant(
          workspace,
          'grant-k',
          grant.upstream.accessToken,
        );
        assert.match(fresh.accessToken, /^at-\d+$/);
        assert.equal(temp.repo.getGrant('grant-k')?.upstream?.refreshToken, fresh.refreshToken);
        assert.equal(state.refused, 0);
      } finally {
        server.closeAllConnections();
        server.close();
        temp.close();
      }
    });
  }
});
