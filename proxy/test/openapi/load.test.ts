import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SpecError } from '../../src/openapi/errors';
import { loadSpec } from '../../src/openapi/load';
import { addressRefusal } from '../../src/openapi/network';

const specs = join(__dirname, '..', '..', '..', 'fixtures', 'specs');
const itemsText = readFileSync(join(specs, 'items-3.1.json'), 'utf8');

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  message: RegExp,
  pointer?: string,
) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    if (pointer !== undefined) assert.equal(err.pointer, pointer);
    return true;
  });
}

describe('loadSpec from files and text', () => {
  test('reads OpenAPI 3.1 JSON, keeps the text and hashes it', async () => {
    const loaded = await loadSpec({ kind: 'file', path: join(specs, 'items-3.1.json') });
    assert.equal(loaded.text, itemsText);
    assert.equal(loaded.hash, createHash('sha256').update(itemsText).digest('hex'));
    assert.equal(loaded.sourceVersion, '3.1.0');
    assert.equal((loaded.document.info as { title: string }).title, 'Demo items API');
    assert.equal(loaded.path, join(specs, 'items-3.1.json'));
  });

  test('reads OpenAPI 3.0 YAML', async () => {
    const loaded = await loadSpec({ kind: 'file', path: join(specs, 'petstore-3.0.yaml') });
    assert.equal(loaded.document.openapi, '3.0.3');
    assert.ok((loaded.document.paths as Record<string, unknown>)['/pets/{petId}']);
  });

  test('converts Swagger 2.0 to OpenAPI 3.0', async () => {
    const text = readFileSync(join(specs, 'petstore-swagger-2.0.json'), 'utf8');
    const loaded = await loadSpec({ kind: 'document', text });
    assert.equal(loaded.sourceVersion, '2.0');
    assert.match(String(loaded.document.openapi), /^3\.0\./);
    assert.deepEqual(loaded.document.servers, [{ url: 'https://petstore.example.com/v2' }]);
    assert.equal(loaded.hash, createHash('sha256').update(text).digest('hex'));
  });

  const bad: Array<[string, string, RegExp, string]> = [
    ['not-openapi.json', 'unsupported_version', /no "openapi" or "swagger" field/, '/openapi'],
    ['openapi-2.5.json', 'unsupported_version', /openapi 2\.5\.0 is not supported/, '/openapi'],
    ['swagger-1.2.json', 'unsupported_version', /swagger 1\.2 is not supported/, '/swagger'],
    ['invalid-yaml.txt', 'parse_error', /neither JSON nor YAML/, ''],
    ['truncated-json.txt', 'parse_error', /invalid JSON/, ''],
  ];
  for (const [file, code, message, pointer] of bad) {
    test(`refuses ${file} with ${code}`, async () => {
      await rejectsWith(
        loadSpec({ kind: 'file', path: join(specs, 'bad', file) }),
        code,
        message,
        pointer,
      );
    });
  }

  test('a missing file is fetch_failed naming the path', async () => {
    await rejectsWith(
      loadSpec({ kind: 'file', path: join(specs, 'nope.json') }),
      'fetch_failed',
      /nope\.json/,
    );
  });

  test('a document over the size limit is refused', async () => {
    await rejectsWith(
      loadSpec({ kind: 'document', text: itemsText }, { maxBytes: 100 }),
      'too_large',
      /100-byte/,
    );
    await rejectsWith(
      loadSpec({ kind: 'file', path: join(specs, 'items-3.1.json') }, { maxBytes: 100 }),
      'too_large',
      /100-byte/,
    );
  });

  test('YAML alias bombs are refused', async () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    await rejectsWith(
      loadSpec({ kind: 'document', text: lines.join('\n') }),
      'parse_error',
      /alias/i,
    );
  });
});

describe('loadSpec from URLs', () => {
  let server: Server;
  let base: string;
  let hanging = 0;

  before(async () => {
    server = createServer((req, res) => {
      switch (req.url) {
        case '/openapi.json':
          res.setHeader('content-type', 'application/json');
          res.end(itemsText);
          break;
        case '/redirect':
          res.writeHead(302, { location: '/openapi.json' });
          res.end();
          break;
        case '/loop':
          res.writeHead(302, { location: '/loop' });
          res.end();
          break;
        case '/to-private':
          res.writeHead(302, { location: 'http://10.1.2.3/openapi.json' });
          res.end();
          break;
        case '/big':
          res.end('x'.repeat(5000));
          break;
        case '/hang':
          hanging += 1;
          res.write('{');
          break;
        default:
          res.writeHead(404);
          res.end('not found');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('fetches a spec from loopback and records the URL', async () => {
    const loaded = await loadSpec({ kind: 'url', url: `${base}/openapi.json` });
    assert.equal(loaded.text, itemsText);
    assert.equal(loaded.url, `${base}/openapi.json`);
  });

  test('follows redirects and records the final URL', async () => {
    const loaded = await loadSpec({ kind: 'url', url: `${base}/redirect` });
    assert.equal(loaded.url, `${base}/openapi.json`);
  });

  test('stops after the redirect limit', async () => {
    await rejectsWith(
      loadSpec({ kind: 'url', url: `${base}/loop` }, { maxRedirects: 3 }),
      'too_many_redirects',
      /3 redirects/,
    );
  });

  test('an HTTP error status is fetch_failed with the status', async () => {
    await rejectsWith(
      loadSpec({ kind: 'url', url: `${base}/missing` }),
      'fetch_failed',
      /HTTP 404/,
    );
  });

  test('a body over the limit is too_large', async () => {
    await rejectsWith(
      loadSpec({ kind: 'url', url: `${base}/big` }, { maxBytes: 1000 }),
      'too_large',
      /1000-byte/,
    );
  });

  test('a slow server is a timeout', async () => {
    await rejectsWith(
      loadSpec({ kind: 'url', url: `${base}/hang` }, { timeoutMs: 200 }),
      'timeout',
      /200 ms/,
    );
    assert.equal(hanging, 1);
  });

  test('loopback is refused when allowLoopback is false', async () => {
    await rejectsWith(
      loadSpec({ kind: 'url', url: `${base}/openapi.json` }, { allowLoopback: false }),
      'forbidden_address',
      /loopback address 127\.0\.0\.1 is not allowed/,
    );
    await rejectsWith(
      loadSpec(
        { kind: 'url', url: `http://localhost:${new URL(base).port}/openapi.json` },
        { allowLoopback: false },
      ),
      'forbidden_address',
      /loopback/,
    );
  });

  test('private addresses are refused unless allowed, also behind a redirect', async () => {
    await rejectsWith(
      loadSpec({ kind: 'url', url: 'http://10.0.0.1/openapi.json' }),
      'forbidden_address',
      /10\.0\.0\.1/,
    );
    await rejectsWith(
      loadSpec({ kind: 'url', url: 'http://[::ffff:192.168.1.1]/x' }),
      'forbidden_address',
      /private/,
    );
    await rejectsWith(
      loadSpec({ kind: 'url', url: `${base}/to-private` }),
      'forbidden_address',
      /10\.1\.2\.3/,
    );
  });

  test('only http and https URLs', async () => {
    await rejectsWith(
      loadSpec({ kind: 'url', url: 'file:///etc/passwd' }),
      'invalid_url',
      /file: URLs are not supported/,
    );
    await rejectsWith(
      loadSpec({ kind: 'url', url: 'not a url' }),
      'invalid_url',
      /not a valid URL/,
    );
  });
});

describe('addressRefusal', () => {
  test('classifies addresses under the default policy', () => {
    assert.equal(addressRefusal('127.0.0.1', {}), undefined);
    assert.equal(addressRefusal('::1', {}), undefined);
    assert.equal(addressRefusal('93.184.216.34', {}), undefined);
    assert.equal(addressRefusal('2606:4700::1111', {}), undefined);
    for (const ip of [
      '10.0.0.1',
      '172.16.5.4',
      '192.168.0.1',
      '169.254.169.254',
      '100.64.0.1',
      'fd00::1',
      'fe80::1',
      '0.0.0.0',
    ]) {
      assert.match(addressRefusal(ip, {}) ?? '', /not allowed/, ip);
      assert.equal(addressRefusal(ip, { allowPrivateNetworks: true }), undefined, ip);
    }
  });
});
