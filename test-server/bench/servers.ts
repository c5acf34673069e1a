/**
 * Child process of test-server.bench.ts, so that the load generator and the server under test
 * have separate event loops. `test-server`: the test server in oauth mode with --auto-approve.
 * `baseline`: a plain express app answering GET and POST /json with a small JSON body. Prints
 * one JSON line with what the bench needs, then serves until killed.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { startTestServer } from '../src/server';

async function main(role: string | undefined): Promise<void> {
  if (role === 'test-server') {
    const server = await startTestServer({ port: 0, quiet: true, autoApprove: true });
    console.log(JSON.stringify({ url: server.url, clientSecret: server.clientSecret }));
    return;
  }
  if (role === 'baseline') {
    const app = express();
    app.disable('x-powered-by');
    const answer = { access_token: 'x'.repeat(40), token_type: 'Bearer', expires_in: 3600 };
    app.get('/json', (_req, res) => {
      res.json(answer);
    });
    app.post('/json', express.urlencoded({ extended: false }), (_req, res) => {
      res.json(answer);
    });
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
    });
    return;
  }
  throw new Error(`unknown role ${role}`);
}

void main(process.argv[2]);
