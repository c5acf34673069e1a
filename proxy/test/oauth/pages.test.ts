import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import express from 'express';
import { type ConsentPageModel, sendConsentPage } from '../../src/oauth/pages';

/** The consent page as a browser receives it, for a model. */
async function render(model: Partial<ConsentPageModel>): Promise<string> {
  const app = express();
  app.get('/', (_req, res) => {
    sendConsentPage(res, {
      workspaceName: 'Test OAuth API',
      clientName: 'Some client',
      redirectUri: 'http://localhost:1234/cb',
      scopes: ['items:read'],
      action: '/consent',
      flow: 'f',
      csrf: 'c',
      ...model,
    });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await (await fetch(`http://127.0.0.1:${port}/`)).text();
  } finally {
    server.close();
  }
}

test('consent page for a client_credentials workspace: no upstream sign-in is announced', async () => {
  const html = await render({ serviceCredentials: true });
  assert.match(html, /with its own service credentials \(no sign-in\)/);
  assert.doesNotMatch(html, /sign in at/);
});

test('consent page when the upstream origin is unknown: a sign-in is still announced', async () => {
  const html = await render({});
  assert.match(html, /you will sign in at the upstream service/);
  assert.doesNotMatch(html, /id="upstream-origin"/);
});

test('consent page escapes the upstream origin', async () => {
  const html = await render({ upstreamOrigin: 'https://a.example"><script>' });
  assert.doesNotMatch(html, /<script>/);
});
