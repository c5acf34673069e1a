import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config';
import { buildWorkspace } from '../../src/workspaces/definition';

const fixtures = resolve(__dirname, '../../../fixtures/workspaces');
const dir = mkdtempSync(join(tmpdir(), 'proxy-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

const env = {
  TEST_SERVER_API_SECRET: 'secret-from-env',
  TEST_CLIENT_SECRET: 'cs_from_env',
};

describe('fixtures/workspaces', () => {
  for (const [file, id, type] of [
    ['oauth.yaml', 'test-oauth', 'oauth2'],
    ['dcr.yaml', 'test-dcr', 'oauth2'],
    ['bearer.yaml', 'test-bearer', 'bearer'],
    ['apikey.yaml', 'test-apikey', 'apiKey'],
    ['headers.yaml', 'test-headers', 'headers'],
    ['none.yaml', 'test-none', 'none'],
  ] as const) {
    test(`${file} loads as workspace ${id} with ${type} auth`, () => {
      const config = loadConfig(join(fixtures, file), { env });
      assert.equal(config.workspaces.length, 1);
      const [definition] = config.workspaces;
      assert.equal(definition?.id, id);
      assert.equal(definition?.auth?.type, type);
      assert.equal(definition?.spec, 'http://localhost:3456/openapi.json');
    });
  }

  test('the oauth fixture is the seed workspace, secret from the environment', () => {
    const config = loadConfig(join(fixtures, 'oauth.yaml'), { env });
    const [definition] = config.workspaces;
    assert.ok(definition);
    const workspace = buildWorkspace(definition, { baseDir: config.baseDir });
    assert.deepEqual(workspace.auth, {
      type: 'oauth2',
      provider: 'custom',
      grant: 'authorization_code',
      authorizationUrl: 'http://localhost:3456/auth/authorize',
      tokenUrl: 'http://localhost:3456/auth/token',
      clientId: 'test-client-id',
      clientSecret: 'cs_from_env',
      scopes: ['items:read', 'items:write', 'users:read'],
      pkce: true,
      state: true,
    });
    assert.equal(workspace.accessKey, undefined, 'OAuth workspaces use OAuth, not an access key');
  });

  test('TEST_SERVER_URL points the fixtures at another test server', () => {
    const config = loadConfig(join(fixtures, 'bearer.yaml'), {
      env: { ...env, TEST_SERVER_URL: 'http://127.0.0.1:41234' },
    });
    assert.equal(config.workspaces[0]?.spec, 'http://127.0.0.1:41234/openapi.json');
    assert.deepEqual(config.workspaces[0]?.auth, { type: 'bearer', token: 'secret-from-env' });
  });

  test('a missing secret names the variable and the field', () => {
    const error = configError(() => loadConfig(join(fixtures, 'headers.yaml'), { env: {} }));
    assert.equal(error.code, 'ERR_CONFIG_ENV');
    assert.match(error.message, /headers\.yaml/);
    assert.match(
      error.message,
      /workspaces\[0\]\.auth\.headers\["X-Api-Secret"\]: environment variable TEST_SERVER_API_SECRET is not set/,
    );
  });
});

describe('loadConfig', () => {
  test('JSON and YAML give the same config; relative spec files and data dir resolve against the file', () => {
    const body = {
      workspaces: [
        { id: 'files', name: 'Files', spec: './specs/api.yaml', auth: { type: 'none' } },
      ],
      server: { port: 9000, dataDir: 'state' },
    };
    const fromJson = loadConfig(write('a.json', JSON.stringify(body)));
    const fromYaml = loadConfig(
      write(
        'a.yaml',
        'workspaces:\n  - id: files\n    name: Files\n    spec: ./specs/api.yaml\n    auth: { type: none }\nserver:\n  port: 9000\n  dataDir: state\n',
      ),
    );
    assert.deepEqual(fromJson.workspaces, fromYaml.workspaces);
    assert.deepEqual(fromJson.server, { port: 9000, dataDir: join(dir, 'state') });
    const workspace = buildWorkspace(fromYaml.workspaces[0] ?? assert.fail(), {
      baseDir: fromYaml.baseDir,
    });
    assert.deepEqual(workspace.spec, { kind: 'file', path: join(dir, 'specs/api.yaml') });
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${ENV} syntax is under test
  test('${NAME:-default} and $${ escapes', () => {
    const config = loadConfig(
      write(
        'env.yaml',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${ENV} syntax is under test
        'workspaces:\n  - id: env\n    name: "literal $${NOT_EXPANDED}"\n    spec: ${SPEC_URL:-http://localhost:1/openapi.json}\n',
      ),
      { env: {} },
    );
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config file's own ${ENV} syntax is under test
    assert.equal(config.workspaces[0]?.name, 'literal ${NOT_EXPANDED}');
    assert.equal(config.workspaces[0]?.spec, 'http://localhost:1/openapi.json');
  });

  test('invalid fields are all listed, each with its path and the fix', () => {
    const error = configError(() =>
      loadConfig(
        write(
          'bad.yaml',
          [
            'workspaces:',
            '  - id: Bad_Id',
            '    name: One',
            '    spec: http://localhost:1/openapi.json',
            '    auth: { type: bearer }',
            '  - id: two',
            '    name: Two',
            '    spec: http://localhost:1/openapi.json',
            '    auth: { type: apikey, value: x }',
            '    colour: blue',
            '  - id: three',
            '    name: Three',
            '    spec: http://localhost:1/openapi.json',
            '    auth: { type: oauth2, clientId: c, scopes: [a] }',
            'server:',
            '  port: "eighty"',
          ].join('\n'),
        ),
      ),
    );
    assert.equal(error.code, 'ERR_CONFIG_INVALID');
    const lines = error.problems.map((p) => `${p.field}: ${p.message}`);
    assert.ok(
      lines.includes(
        'workspaces[0] ("Bad_Id").id: must be 1-63 lowercase letters, digits or "-", starting with a letter or digit',
      ),
      lines.join('\n'),
    );
    assert.ok(lines.includes('workspaces[0] ("Bad_Id").auth.token: is required'), lines.join('\n'));
    assert.ok(
      lines.some((l) =>
        l.startsWith(
          'workspaces[1] ("two").auth.type: must be one of "none", "bearer", "apiKey", "headers", "oauth2" (got "apikey")',
        ),
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.startsWith('workspaces[1] ("two").colour: is not a known field')),
      lines.join('\n'),
    );
    assert.ok(
      lines.includes('workspaces[2] ("three").auth.tokenUrl: is required'),
      lines.join('\n'),
    );
    assert.ok(
      lines.includes('workspaces[2] ("three").auth.authorizationUrl: is required'),
      lines.join('\n'),
    );
    assert.ok(lines.includes('server.port: must be an integer'), lines.join('\n'));
    assert.match(error.message, /bad\.yaml: invalid config:\n {2}- /);
  });

  test('duplicate ids, a missing workspaces list and a syntax error are clear', () => {
    const duplicate = configError(() =>
      loadConfig(
        write(
          'dup.json',
          JSON.stringify({
            workspaces: [
              { id: 'same', name: 'A', spec: 'a.json' },
              { id: 'same', name: 'B', spec: 'b.json' },
            ],
          }),
        ),
      ),
    );
    assert.deepEqual(duplicate.problems, [
      {
        field: 'workspaces[1].id',
        message: '"same" is already used by workspaces[0]; ids must be unique',
      },
    ]);

    const empty = configError(() => loadConfig(write('empty.yaml', 'server: { port: 1 }\n')));
    assert.deepEqual(empty.problems, [{ field: 'workspaces', message: 'is required' }]);

    const noId = configError(() =>
      loadConfig(write('noid.yaml', 'workspaces:\n  - name: A\n    spec: a.json\n')),
    );
    assert.deepEqual(noId.problems, [{ field: 'workspaces[0] ("A").id', message: 'is required' }]);

    const syntax = configError(() => loadConfig(write('broken.json', '{ "workspaces": [ }')));
    assert.equal(syntax.code, 'ERR_CONFIG_SYNTAX');
    assert.match(syntax.message, /broken\.json: not valid JSON/);

    const yamlSyntax = configError(() =>
      loadConfig(write('broken.yaml', 'workspaces: [\n  - a: b\n')),
    );
    assert.equal(yamlSyntax.code, 'ERR_CONFIG_SYNTAX');

    const missing = configError(() => loadConfig(join(dir, 'nope.yaml')));
    assert.equal(missing.code, 'ERR_CONFIG_NOT_FOUND');
    assert.match(missing.message, /nope\.yaml: no such file/);
  });
});
