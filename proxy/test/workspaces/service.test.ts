import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SpecError } from '../../src/openapi';
import { openStore, type ProxyStore } from '../../src/store';
import {
  checkDefinition,
  isToolEnabled,
  MASKED_SECRET,
  maskWorkspace,
  WorkspaceError,
  WorkspaceService,
  WorkspaceToolSets,
} from '../../src/workspaces';

const specs = resolve(__dirname, '../../../fixtures/specs');
const ITEM_TOOLS = ['createItem', 'deleteItem', 'getItem', 'listItems', 'listUsers'];

describe('WorkspaceService', () => {
  let dir: string;
  let store: ProxyStore;
  let service: WorkspaceService;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'proxy-ws-'));
    store = openStore({ dataDir: join(dir, 'data') });
    service = new WorkspaceService({ store, toolSets: new WorkspaceToolSets() });
  });
  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('create: an id from the name, all tools on, an access key generated once', async () => {
    const created = service.create(
      { name: 'Items API', spec: 'items-3.1.json', auth: { type: 'bearer', token: 'tk_1' } },
      specs,
    );
    const { workspace } = created;
    assert.match(workspace.id, /^items-api-[a-z0-9]{8}$/);
    assert.deepEqual(workspace.spec, { kind: 'file', path: join(specs, 'items-3.1.json') });
    assert.deepEqual(workspace.tools, { enabled: 'all', disabled: [] });
    assert.match(created.generatedAccessKey ?? '', /^mcpk_[A-Za-z0-9_-]{43}$/);
    assert.equal(service.get(workspace.id).accessKey, created.generatedAccessKey);

    const listing = await service.listTools(workspace.id);
    assert.deepEqual(listing.tools.map((t) => t.name).sort(), ITEM_TOOLS);
    assert.ok(listing.tools.every((t) => t.enabled));
    const getItem = listing.tools.find((t) => t.name === 'getItem');
    assert.equal(getItem?.method, 'GET');
    assert.equal(getItem?.path, '/api/items/{id}');
  });

  test('enable/disable tools; unknown names are refused by name', async () => {
    const { workspace } = service.create(
      { id: 'tools', name: 'Tools', spec: 'items-3.1.json' },
      specs,
    );
    await service.disableTools('tools', ['deleteItem', 'createItem']);
    let listing = await service.listTools('tools');
    assert.deepEqual(
      listing.tools
        .filter((t) => !t.enabled)
        .map((t) => t.name)
        .sort(),
      ['createItem', 'deleteItem'],
    );
    await service.enableTools('tools', ['createItem']);
    listing = await service.listTools('tools');
    assert.deepEqual(
      listing.tools.filter((t) => !t.enabled).map((t) => t.name),
      ['deleteItem'],
    );

    await service.setTools('tools', { enabled: ['listItems'], disabled: [] });
    const only = service.get('tools');
    assert.deepEqual(
      ITEM_TOOLS.filter((n) => isToolEnabled(only.tools, n)),
      ['listItems'],
    );
    await service.enableTools('tools', 'all');
    assert.deepEqual(service.get('tools').tools, { enabled: 'all', disabled: [] });

    await assert.rejects(service.disableTools('tools', ['dropTables']), (error: unknown) => {
      assert.ok(error instanceof WorkspaceError);
      assert.equal(error.code, 'ERR_UNKNOWN_TOOLS');
      assert.match(error.message, /no tool named "dropTables"; its tools are listItems/);
      return true;
    });
    assert.equal(workspace.public, false);
  });

  test('an unusable spec is refused with its pointer; the workspace keeps its spec', async () => {
    service.create({ id: 'spec', name: 'Spec', spec: 'items-3.1.json' }, specs);
    const bad = readFileSync(join(specs, 'bad/paths-array.json'), 'utf8');
    await assert.rejects(
      service.setSpec('spec', { kind: 'document', text: bad }),
      (error: unknown) => error instanceof SpecError,
    );
    assert.deepEqual(service.get('spec').spec, {
      kind: 'file',
      path: join(specs, 'items-3.1.json'),
    });

    const good = readFileSync(join(specs, 'petstore-3.0.yaml'), 'utf8');
    const { toolSet } = await service.setSpec('spec', { kind: 'document', text: good });
    assert.ok(toolSet.tools.length > 0);
    assert.deepEqual(service.get('spec').spec, { kind: 'document', text: good });
  });

  test('upsert from config keeps the stored access key and tool selection, and skips unchanged', async () => {
    const definition = {
      id: 'cfg',
      name: 'Config',
      spec: 'items-3.1.json',
      auth: { type: 'apiKey' as const, value: 'ak_1' },
    };
    const first = service.upsert(definition, specs);
    assert.equal(first.change, 'created');
    assert.ok(first.generatedAccessKey);
    await service.disableTools('cfg', ['deleteItem']);

    const again = service.upsert(definition, specs);
    assert.equal(again.change, 'unchanged');
    assert.equal(again.generatedAccessKey, undefined);

    const changed = service.upsert({ ...definition, name: 'Config v2' }, specs);
    assert.equal(changed.change, 'updated');
    const stored = service.get('cfg');
    assert.equal(stored.name, 'Config v2');
    assert.equal(stored.accessKey, first.generatedAccessKey);
    assert.deepEqual(stored.tools.disabled, ['deleteItem']);
    assert.equal(stored.createdAt, first.workspace.createdAt);
  });

  test('masked secrets: shown masked, and sent back masked they keep the stored value', () => {
    service.create(
      {
        id: 'masked',
        name: 'Masked',
        spec: 'items-3.1.json',
        auth: { type: 'headers', headers: { 'X-Tenant-Id': 't', 'X-Api-Secret': 'hs_secret' } },
      },
      specs,
    );
    const shown = maskWorkspace(service.get('masked'));
    assert.deepEqual(shown.auth, {
      type: 'headers',
      headers: { 'X-Tenant-Id': MASKED_SECRET, 'X-Api-Secret': MASKED_SECRET },
    });
    assert.equal(shown.accessKey, MASKED_SECRET);

    service.setAuth('masked', {
      type: 'headers',
      headers: { 'X-Tenant-Id': 'other', 'X-Api-Secret': MASKED_SECRET },
    });
    assert.deepEqual(service.get('masked').auth, {
      type: 'headers',
      headers: { 'X-Tenant-Id': 'other', 'X-Api-Secret': 'hs_secret' },
    });
    assert.throws(
      () => service.setAuth('masked', { type: 'bearer', token: MASKED_SECRET }),
      (error: unknown) =>
        error instanceof WorkspaceError &&
        error.code === 'ERR_WORKSPACE_INVALID' &&
        error.problems[0]?.field === 'auth.token',
    );
  });

  test('missing workspaces and taken ids are errors with codes', () => {
    assert.throws(() => service.get('nope'), { code: 'ERR_WORKSPACE_NOT_FOUND' });
    assert.throws(() => service.delete('nope'), { code: 'ERR_WORKSPACE_NOT_FOUND' });
    service.create({ id: 'taken', name: 'A', spec: 'items-3.1.json' }, specs);
    assert.throws(() => service.create({ id: 'taken', name: 'B', spec: 'x.json' }, specs), {
      code: 'ERR_WORKSPACE_EXISTS',
    });
    service.delete('taken');
    assert.equal(service.find('taken'), undefined);
  });

  test('checkDefinition lists each bad field', () => {
    assert.throws(
      () => checkDefinition({ name: '', spec: 3, auth: { type: 'bearer', token: '' } }),
      (error: unknown) => {
        assert.ok(error instanceof WorkspaceError);
        assert.deepEqual(
          error.problems.map((p) => p.field),
          ['name', 'spec', 'auth.token'],
        );
        return true;
      },
    );
  });
});
