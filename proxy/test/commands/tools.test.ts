import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runToolsCommand } from '../../src/commands/tools';
import type { ToolSet } from '../../src/types';

const specs = join(__dirname, '..', '..', '..', 'fixtures', 'specs');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runToolsCommand(argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

describe('proxy tools', () => {
  test('prints a table of tools with method, path and hints', async () => {
    const { code, out, err } = await run([join(specs, 'items-3.1.json')]);
    assert.equal(code, 0);
    assert.equal(err, '');
    assert.equal(
      out,
      [
        'Demo items API 1.0.0: 5 tools, 0 skipped',
        'base URL: (none: set one on the workspace)',
        '',
        'NAME        METHOD  PATH             HINTS',
        'listItems   GET     /api/items       read-only',
        'createItem  POST    /api/items',
        'getItem     GET     /api/items/{id}  read-only',
        'deleteItem  DELETE  /api/items/{id}  destructive',
        'listUsers   GET     /api/users       read-only',
        '',
      ].join('\n'),
    );
  });

  test('lists skipped operations with reason and pointer', async () => {
    const { code, out } = await run([join(specs, 'petstore-3.0.yaml')]);
    assert.equal(code, 0);
    assert.match(out, /^Petstore \(OpenAPI 3\.0, YAML\) 1\.2\.0: 5 tools, 1 skipped$/m);
    assert.match(out, /^base URL: https:\/\/eu\.pets\.example\.com\/v1$/m);
    assert.match(out, /^replacePet +PUT +\/pets\/\{petId\} +idempotent$/m);
    assert.match(
      out,
      /^Skipped:\n {2}POST \/pets\/\{petId\}\/photo \(uploadPhoto\): request body media type\(s\) multipart\/form-data not supported.*\n {4}at \/paths\/~1pets~1\{petId\}~1photo\/post\/requestBody\/content$/m,
    );
  });

  test('--json prints the tool set', async () => {
    const { code, out } = await run([join(specs, 'petstore-swagger-2.0.json'), '--json']);
    assert.equal(code, 0);
    const set = JSON.parse(out) as ToolSet;
    assert.equal(set.tools.length, 5);
    assert.equal(set.baseUrl, 'https://petstore.example.com/v2');
    assert.match(set.specHash, /^[0-9a-f]{64}$/);
  });

  test('reads a spec URL; relative servers resolve against it', async () => {
    const text = readFileSync(join(specs, 'items-3.1.json'), 'utf8');
    const server = createServer((_req, res) => res.end(text));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const { code, out } = await run([`${base}/openapi.json`, '--json']);
      assert.equal(code, 0);
      assert.equal((JSON.parse(out) as ToolSet).baseUrl, base);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('an unusable spec exits 1 with the reason, pointer and code', async () => {
    const { code, out, err } = await run([join(specs, 'bad', 'openapi-2.5.json')]);
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.match(
      err,
      /openapi-2\.5\.json: openapi 2\.5\.0 is not supported .* \(at \/openapi\) \[unsupported_version\]\n$/,
    );
    const missing = await run([join(specs, 'missing.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot read .*missing\.json/);
  });

  test('usage errors exit 2; --help exits 0', async () => {
    const none = await run([]);
    assert.equal(none.code, 2);
    assert.match(none.err, /expected exactly one spec URL or file[\s\S]*Usage: proxy tools/);
    const unknown = await run(['x.json', '--bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /Unknown option '--bogus'/);
    const help = await run(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.out, /^Usage: proxy tools <spec url or file>/);
  });
});
