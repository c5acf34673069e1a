import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MODES } from '../src/options';
import { api, start } from './support';

const OPERATIONS: Record<string, [string, string]> = {
  listItems: ['/api/items', 'get'],
  createItem: ['/api/items', 'post'],
  getItem: ['/api/items/{id}', 'get'],
  deleteItem: ['/api/items/{id}', 'delete'],
  listUsers: ['/api/users', 'get'],
};

type Doc = {
  openapi: string;
  servers: Array<{ url: string }>;
  paths: Record<
    string,
    Record<
      string,
      {
        operationId: string;
        security: unknown[];
        parameters?: unknown[];
        requestBody?: unknown;
        responses: Record<string, unknown>;
      }
    >
  >;
  components: {
    securitySchemes?: Record<string, Record<string, unknown>>;
    schemas: Record<string, unknown>;
  };
};

for (const mode of MODES) {
  test(`/openapi.json in ${mode} mode: 3.1, five operations, the real security`, async () => {
    const server = await start({ mode });
    try {
      const { status, body } = await api(server, 'GET', '/openapi.json');
      assert.equal(status, 200);
      const doc = body as unknown as Doc;
      assert.equal(doc.openapi, '3.1.0');
      assert.equal(doc.servers[0]?.url, server.url);
      const ids = Object.values(doc.paths).flatMap((item) =>
        Object.values(item).map((op) => op.operationId),
      );
      assert.deepEqual(ids.sort(), Object.keys(OPERATIONS).sort());
      for (const [id, [path, method]] of Object.entries(OPERATIONS)) {
        const op = doc.paths[path]?.[method];
        assert.equal(op?.operationId, id);
        assert.ok(op.responses['200'] ?? op.responses['201'], `${id} success response`);
        if (mode === 'none') assert.deepEqual(op.security, []);
        else assert.equal(op.security.length, 1);
      }
      assert.ok(doc.paths['/api/items']?.post?.requestBody);
      assert.equal(
        (doc.paths['/api/items/{id}']?.get?.parameters?.[0] as { name: string } | undefined)?.name,
        'id',
      );
      const schemes = doc.components.securitySchemes ?? {};
      switch (mode) {
        case 'oauth':
        case 'dcr': {
          const flows = schemes.oauth2?.flows as Record<
            string,
            { tokenUrl: string; scopes: Record<string, string> }
          >;
          assert.equal(flows.authorizationCode?.tokenUrl, `${server.url}/auth/token`);
          assert.deepEqual(Object.keys(flows.clientCredentials?.scopes ?? {}), [
            'items:read',
            'items:write',
            'users:read',
          ]);
          assert.deepEqual(doc.paths['/api/items']?.post?.security, [{ oauth2: ['items:write'] }]);
          assert.deepEqual(doc.paths['/api/users']?.get?.security, [{ oauth2: ['users:read'] }]);
          break;
        }
        case 'bearer':
          assert.deepEqual(schemes.bearerAuth, {
            type: 'http',
            scheme: 'bearer',
            description: 'The static token shown in the banner',
          });
          break;
        case 'apikey':
          assert.equal(schemes.apiKey?.name, 'X-Api-Key');
          assert.equal(schemes.apiKey?.in, 'header');
          break;
        case 'headers':
          assert.equal(schemes.tenantId?.name, 'X-Tenant-Id');
          assert.equal(schemes.apiSecret?.name, 'X-Api-Secret');
          assert.deepEqual(doc.paths['/api/users']?.get?.security, [
            { tenantId: [], apiSecret: [] },
          ]);
          break;
        case 'none':
          assert.deepEqual(schemes, {});
          break;
      }
    } finally {
      await server.close();
    }
  });
}
