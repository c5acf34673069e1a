import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SpecError } from '../../src/openapi/errors';
import { generateTools } from '../../src/openapi/generate';
import { loadSpec } from '../../src/openapi/load';
import { assertToolSetUsable, newAjv, specsDir, tool, toolsOf } from './helpers';

describe('generateTools: the demo items API (OpenAPI 3.1)', () => {
  test('one tool per operation, named by operationId, with method and path in the description', async () => {
    const set = await toolsOf('items-3.1.json');
    assert.deepEqual(
      set.tools.map((t) => t.name),
      ['listItems', 'createItem', 'getItem', 'deleteItem', 'listUsers'],
    );
    assert.deepEqual(set.skipped, []);
    assert.equal(set.title, 'Demo items API');
    assert.equal(set.version, '1.0.0');
    assert.equal(tool(set, 'listItems').description, 'List items\n\nGET /api/items');
    assert.equal(tool(set, 'listItems').title, 'List items');
    assert.match(set.specHash, /^[0-9a-f]{64}$/);
    assertToolSetUsable(set);
  });

  test('annotations follow the HTTP method', async () => {
    const set = await toolsOf('items-3.1.json');
    assert.deepEqual(tool(set, 'getItem').annotations, {
      title: 'Get an item',
      readOnlyHint: true,
      openWorldHint: true,
    });
    assert.equal(tool(set, 'deleteItem').annotations.destructiveHint, true);
    assert.equal(tool(set, 'deleteItem').annotations.readOnlyHint, false);
    assert.equal(tool(set, 'createItem').annotations.destructiveHint, false);
    assert.equal(tool(set, 'createItem').annotations.idempotentHint, false);
  });

  test('path parameters are required properties; the JSON body sits under "body"', async () => {
    const set = await toolsOf('items-3.1.json');
    const getItem = tool(set, 'getItem');
    assert.deepEqual(getItem.inputSchema, {
      type: 'object',
      properties: { id: { type: 'string' } },
      required: ['id'],
      additionalProperties: false,
    });
    assert.deepEqual(getItem.binding.parameters, [
      {
        arg: 'id',
        name: 'id',
        in: 'path',
        required: true,
        style: 'simple',
        explode: false,
        allowReserved: false,
      },
    ]);
    const createItem = tool(set, 'createItem');
    assert.deepEqual(createItem.inputSchema.required, ['body']);
    const body = (createItem.inputSchema.properties as Record<string, Record<string, unknown>>)
      .body;
    assert.deepEqual(body?.required, ['name']);
    assert.deepEqual(Object.keys(body?.properties as object), ['name', 'description', 'tags']);
    assert.deepEqual(createItem.binding.body, {
      arg: 'body',
      contentType: 'application/json',
      required: true,
    });
    assert.deepEqual(createItem.binding.security, [['bearer']]);
    const ajv = newAjv();
    const validate = ajv.compile(createItem.inputSchema);
    assert.equal(validate({ body: { name: 'x', tags: ['a'] } }), true);
    assert.equal(validate({ body: { description: 'no name' } }), false);
    assert.equal(validate({ body: { name: 'x' }, extra: 1 }), false);
  });

  test('outputSchema from an object-typed 2xx JSON response only', async () => {
    const set = await toolsOf('items-3.1.json');
    const out = tool(set, 'getItem').outputSchema;
    assert.equal(out?.type, 'object');
    assert.deepEqual(out?.required, ['id', 'name']);
    // A 3.1 $ref keeps its sibling description.
    assert.equal(tool(set, 'createItem').outputSchema?.description, 'The new item');
    assert.equal(
      tool(set, 'listUsers').outputSchema,
      undefined,
      'an array response is no outputSchema',
    );
    assert.equal(tool(set, 'deleteItem').outputSchema, undefined);
  });

  test('baseUrl: relative servers resolve against the spec URL', async () => {
    const loaded = await loadSpec({ kind: 'file', path: join(specsDir, 'items-3.1.json') });
    const fromUrl = await generateTools(loaded.document, {
      specUrl: 'http://localhost:3456/openapi.json',
    });
    assert.equal(fromUrl.baseUrl, 'http://localhost:3456');
    const fromFile = await generateTools(loaded.document);
    assert.equal(fromFile.baseUrl, undefined);
  });

  test('generation is deterministic and leaves the document untouched', async () => {
    const loaded = await loadSpec({ kind: 'file', path: join(specsDir, 'items-3.1.json') });
    const before = JSON.stringify(loaded.document);
    const a = await generateTools(loaded.document, { specHash: loaded.hash });
    const b = await generateTools(loaded.document, { specHash: loaded.hash });
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.equal(JSON.stringify(loaded.document), before);
  });
});

describe('generateTools: OpenAPI 3.0 YAML petstore', () => {
  test('server variables are substituted', async () => {
    const set = await toolsOf('petstore-3.0.yaml');
    assert.equal(set.baseUrl, 'https://eu.pets.example.com/v1');
  });

  test('the apiKey credential header never appears; other headers do', async () => {
    const set = await toolsOf('petstore-3.0.yaml');
    const listPets = tool(set, 'listPets');
    const props = listPets.inputSchema.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(props), ['limit', 'status', 'X-Request-Id']);
    assert.deepEqual(props['X-Request-Id'], { type: 'string', format: 'uuid' });
    assert.equal(
      listPets.binding.parameters.find((p) => p.name === 'X-Api-Key'),
      undefined,
    );
    assert.deepEqual(set.securitySchemes.api_key, {
      type: 'apiKey',
      in: 'header',
      name: 'X-Api-Key',
    });
  });

  test('3.0 keywords become 2020-12: exclusiveMaximum, nullable, example; defaults, enums, formats kept', async () => {
    const set = await toolsOf('petstore-3.0.yaml');
    const props = tool(set, 'listPets').inputSchema.properties as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepEqual(props.limit, {
      type: 'integer',
      minimum: 1,
      exclusiveMaximum: 100,
      default: 20,
    });
    assert.deepEqual(props.status, {
      type: 'array',
      items: { type: 'string', enum: ['available', 'pending', 'sold'] },
      description: 'Statuses to filter by',
    });
    const status = tool(set, 'listPets').binding.parameters.find((p) => p.name === 'status');
    assert.equal(status?.style, 'form');
    assert.equal(status?.explode, false);

    const body = (
      tool(set, 'createPet').inputSchema.properties as Record<string, Record<string, unknown>>
    ).body;
    const bodyProps = body?.properties as Record<string, unknown>;
    assert.equal(body?.description, 'The pet to create');
    assert.equal(bodyProps.id, undefined, 'readOnly properties are not inputs');
    assert.deepEqual(body?.required, ['name']);
    assert.deepEqual(bodyProps.name, { type: 'string', examples: ['Rex'] });
    assert.deepEqual(bodyProps.tag, { type: ['string', 'null'] });
    assert.deepEqual(bodyProps.kind, { type: ['string', 'null'], enum: ['dog', 'cat', null] });
    assert.deepEqual((bodyProps.owner as { anyOf: unknown[] }).anyOf[1], { type: 'null' });
    assert.ok(bodyProps['x-internal'], 'a property named x-… is a property, not an extension');

    const validate = newAjv().compile(tool(set, 'createPet').inputSchema);
    assert.equal(validate({ body: { name: 'Rex', tag: null, kind: null, owner: null } }), true);
    assert.equal(validate({ body: { name: 'Rex', kind: 'cow' } }), false);

    const pet = tool(set, 'getPet').outputSchema;
    assert.equal(pet?.type, 'object');
    assert.equal(pet?.discriminator, undefined);
    assert.ok(Array.isArray(pet?.allOf));
    assertToolSetUsable(set);
  });

  test('path-level parameters apply; no operationId names the tool from method and path', async () => {
    const set = await toolsOf('petstore-3.0.yaml');
    const del = tool(set, 'delete_pets_petId');
    assert.deepEqual(del.inputSchema.properties, {
      petId: { type: 'integer', format: 'int64', minimum: 1, description: "The pet's id" },
    });
    assert.equal(del.description, 'Delete a pet\n\nDELETE /pets/{petId}');
    assert.equal(tool(set, 'replacePet').annotations.idempotentHint, true);
  });

  test('an operation with only a multipart body is skipped with pointer and reason', async () => {
    const set = await toolsOf('petstore-3.0.yaml');
    assert.deepEqual(set.skipped, [
      {
        method: 'POST',
        path: '/pets/{petId}/photo',
        operationId: 'uploadPhoto',
        pointer: '/paths/~1pets~1{petId}~1photo/post/requestBody/content',
        reason:
          'request body media type(s) multipart/form-data not supported (JSON, form-urlencoded or text/plain)',
      },
    ]);
  });
});

describe('generateTools: Swagger 2.0', () => {
  test('converted spec yields tools; the query api_key credential is hidden', async () => {
    const set = await toolsOf('petstore-swagger-2.0.json');
    assert.equal(set.baseUrl, 'https://petstore.example.com/v2');
    assert.deepEqual(
      set.tools.map((t) => t.name),
      ['addPet', 'findPetsByStatus', 'getPetById', 'updatePetWithForm', 'deletePet'],
    );
    const find = tool(set, 'findPetsByStatus');
    assert.deepEqual(Object.keys(find.inputSchema.properties as object), ['status']);
    assert.deepEqual(find.inputSchema.required, ['status']);
    assert.equal(
      find.binding.parameters[0]?.explode,
      true,
      'collectionFormat multi is form/explode',
    );
    assert.deepEqual(
      tool(set, 'updatePetWithForm').binding.body?.contentType,
      'application/x-www-form-urlencoded',
    );
    assert.deepEqual(tool(set, 'addPet').binding.body, {
      arg: 'body',
      contentType: 'application/json',
      required: true,
    });
    assertToolSetUsable(set);
  });
});

describe('generateTools: circular schemas', () => {
  test('cycles are cut where they close, with notes; the result is finite and deterministic', async () => {
    const set = await toolsOf('circular-3.1.json');
    assertToolSetUsable(set);
    assert.deepEqual(set.notes, [
      'circular $ref #/components/schemas/Node cut at /components/schemas/Node/properties/children/items',
      'circular $ref #/components/schemas/Person cut at /components/schemas/Pet/properties/owner',
    ]);
    const body = (
      tool(set, 'createNode').inputSchema.properties as Record<string, Record<string, unknown>>
    ).body;
    const children = (body?.properties as Record<string, Record<string, unknown>> | undefined)
      ?.children;
    assert.deepEqual(children?.items, {
      description: '(circular reference to #/components/schemas/Node, not expanded)',
    });
    const tree = tool(set, 'getTree').outputSchema as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    const owner = tree.properties?.owner as Record<string, Record<string, Record<string, unknown>>>;
    assert.equal(owner.properties?.pet?.type, 'object');
    assert.equal(JSON.stringify(set), JSON.stringify(await toolsOf('circular-3.1.json')));
  });

  test('a schema that expands beyond the node budget skips only its operation', async () => {
    const set = await toolsOf('petstore-3.0.yaml', { maxSchemaNodes: 12 });
    assert.ok(set.tools.some((t) => t.name === 'getPet' || t.name === 'delete_pets_petId'));
    const skipped = set.skipped.find((s) => s.operationId === 'createPet');
    assert.match(skipped?.reason ?? '', /more than 12 nodes/);
  });
});

describe('generateTools: names and collisions', () => {
  test('names are sanitized, unique, at most 64 characters, and deterministic', async () => {
    const set = await toolsOf('collisions-3.0.json');
    assertToolSetUsable(set);
    const names = set.tools.map((t) => t.name);
    assert.equal(
      names[0],
      'get_thing_2',
      'get.thing sanitizes onto get_thing, which keeps its own name',
    );
    assert.equal(names[1], 'get_thing');
    assert.equal(names[2], 'get_thing_3');
    assert.equal(names[3]?.length, 64);
    assert.equal(names[4]?.length, 64);
    assert.notEqual(names[3], names[4]);
    assert.equal(names[5], 'get_c_cId_d');
    assert.equal(names[6], 'get_c_cId_d_2');
    assert.equal(names[7], '_t_', 'non-ASCII characters become underscores');
    assert.deepEqual(
      names,
      (await toolsOf('collisions-3.0.json')).tools.map((t) => t.name),
    );
  });

  test('parameter names that collide across locations get location prefixes', async () => {
    const set = await toolsOf('collisions-3.0.json');
    const get = set.tools[0];
    assert.deepEqual(
      get?.binding.parameters.map((p) => [p.arg, p.in, p.name]),
      [
        ['id', 'path', 'id'],
        ['query_id', 'query', 'id'],
        ['body', 'query', 'body'],
        ['filter_name_', 'query', 'filter[name]'],
        ['header_id', 'header', 'id'],
      ],
    );
    const post = tool(set, 'get_thing');
    assert.deepEqual(Object.keys(post.inputSchema.properties as object), [
      'id',
      'body',
      'requestBody',
    ]);
    assert.deepEqual(post.inputSchema.required, ['id', 'body']);
    assert.equal(post.binding.body?.arg, 'requestBody');
  });
});

describe('generateTools: bad operations and bad specs', () => {
  test('each bad operation is skipped with its pointer and reason; the others survive', async () => {
    const set = await toolsOf('bad-operations-3.0.json');
    assert.deepEqual(
      set.tools.map((t) => t.name),
      ['good', 'alsoGood'],
    );
    assert.equal(
      tool(set, 'alsoGood').binding.body,
      undefined,
      'an optional unsupported body is left out',
    );
    assert.deepEqual(
      set.skipped.map((s) => [s.operationId ?? s.path, s.pointer, s.reason]),
      [
        [
          'brokenRef',
          '/paths/~1broken-ref/get/parameters/0',
          '$ref "#/components/parameters/Missing" does not resolve',
        ],
        [
          'undefinedPathParam',
          '/paths/~1undefined~1{param}/get',
          'path parameter {param} has no definition',
        ],
        [
          'uploadOnly',
          '/paths/~1upload/post/requestBody/content',
          'request body media type(s) application/octet-stream not supported (JSON, form-urlencoded or text/plain)',
        ],
        [
          'badStyle',
          '/paths/~1bad-style/get/parameters/0/style',
          'style matrix is not allowed for query parameter q',
        ],
        [
          'remoteRef',
          '/paths/~1remote/get/responses/200/content/application~1json/schema',
          '$ref "https://schemas.example.com/thing.json" is not local and remote $refs are not enabled',
        ],
        ['/not-an-object', '/paths/~1not-an-object/get', 'operation is not an object'],
      ],
    );
    assertToolSetUsable(set);
  });

  test('an unusable spec is a SpecError with pointer and reason', async () => {
    const loaded = JSON.parse(readFileSync(join(specsDir, 'bad', 'paths-array.json'), 'utf8'));
    await assert.rejects(generateTools(loaded), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.equal(err.code, 'invalid_spec');
      assert.equal(err.pointer, '/paths');
      assert.equal(err.message, '"paths" must be an object');
      return true;
    });
    await assert.rejects(generateTools({ openapi: '2.0' }), {
      code: 'unsupported_version',
      pointer: '/openapi',
    });
    await assert.rejects(generateTools('nope'), { code: 'invalid_spec', pointer: '' });
    await assert.rejects(generateTools({ swagger: '2.0', paths: {} }), {
      code: 'unsupported_version',
      pointer: '/swagger',
      message: 'Swagger 2.0 must be converted to OpenAPI 3 first (loadSpec does this)',
    });
  });
});

describe('generateTools: external $refs', () => {
  test('file $refs next to a file spec resolve when externalRefs is on', async () => {
    const off = await toolsOf('external/main.json');
    assert.equal(off.tools.length, 0);
    assert.match(off.skipped[0]?.reason ?? '', /not local and remote \$refs are not enabled/);

    const on = await toolsOf('external/main.json', { externalRefs: true });
    const out = tool(on, 'listThings').outputSchema as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    assert.deepEqual(out.properties?.things?.items, {
      type: 'object',
      properties: { id: { type: 'string' } },
    });
  });

  test('http $refs are fetched with the network limits', async () => {
    const shared = readFileSync(join(specsDir, 'external', 'thing.json'), 'utf8');
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(shared);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const doc = JSON.parse(readFileSync(join(specsDir, 'external', 'main.json'), 'utf8'));
      const schema = doc.paths['/things'].get.responses['200'].content['application/json'].schema;
      schema.$ref = `${base}/thing.json#/Things`;
      const on = await generateTools(doc, { externalRefs: true, specUrl: `${base}/openapi.json` });
      assert.equal(tool(on, 'listThings').outputSchema?.type, 'object');
      await assert.rejects(
        generateTools(doc, {
          externalRefs: true,
          specUrl: `${base}/openapi.json`,
          fetchLimits: { allowLoopback: false },
        }),
        (err: unknown) => err instanceof SpecError && /loopback/.test(err.message),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('generateTools: OAuth scopes per operation', () => {
  const spec = (paths: Record<string, unknown>, security?: unknown) => ({
    openapi: '3.1.0',
    info: { title: 'scopes', version: '1' },
    ...(security === undefined ? {} : { security }),
    components: {
      securitySchemes: {
        oauth: { type: 'oauth2', flows: {} },
        oidc: { type: 'openIdConnect', openIdConnectUrl: 'https://as.example/.well-known/x' },
        key: { type: 'apiKey', in: 'header', name: 'X-Key' },
      },
    },
    paths,
  });
  const op = (operationId: string, security?: unknown) => ({
    operationId,
    ...(security === undefined ? {} : { security }),
    responses: { '200': { description: 'ok' } },
  });

  test('the scopes of each OAuth alternative; none recorded when an alternative needs none', async () => {
    const set = await generateTools(
      spec(
        {
          '/a': {
            get: op('inherited'),
            post: op('both', [{ oauth: ['w'], oidc: ['profile', 'w'] }, { oauth: ['admin'] }]),
            put: op('withKey', [{ oauth: ['w'] }, { key: [] }]),
            delete: op('emptyAlternative', [{ oauth: ['w'] }, {}]),
            patch: op('emptyList', [{ oauth: [] }]),
          },
          '/b': { get: op('unsecured', []), post: op('keyOnly', [{ key: [] }]) },
        },
        [{ oauth: ['r'] }],
      ),
    );
    assert.deepEqual(tool(set, 'inherited').binding.scopes, [['r']]);
    assert.deepEqual(tool(set, 'both').binding.scopes, [['w', 'profile'], ['admin']]);
    for (const name of ['withKey', 'emptyAlternative', 'emptyList', 'unsecured', 'keyOnly']) {
      assert.equal(tool(set, name).binding.scopes, undefined, name);
    }
    assert.deepEqual(tool(set, 'withKey').binding.security, [['oauth'], ['key']]);
  });
});
