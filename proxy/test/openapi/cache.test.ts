import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ToolCache } from '../../src/openapi/cache';
import { loadSpec } from '../../src/openapi/load';
import { specsDir } from './helpers';

const itemsText = readFileSync(join(specsDir, 'items-3.1.json'), 'utf8');

describe('ToolCache', () => {
  test('compiles a spec version once, however often and concurrently it is asked for', async () => {
    const cache = new ToolCache();
    const loaded = await loadSpec({ kind: 'document', text: itemsText });
    const again = await loadSpec({ kind: 'document', text: itemsText });
    assert.equal(cache.get(loaded.hash), undefined);
    const [a, b] = await Promise.all([cache.compile(loaded), cache.compile(again)]);
    const c = await cache.compile(loaded);
    assert.equal(a, b);
    assert.equal(a, c);
    assert.equal(cache.get(loaded.hash), a);
    assert.equal(cache.compilations, 1);
    assert.equal(a.specHash, loaded.hash);
  });

  test('a changed spec text is a new version', async () => {
    const cache = new ToolCache();
    const v1 = await loadSpec({ kind: 'document', text: itemsText });
    const v2 = await loadSpec({ kind: 'document', text: itemsText.replace('"1.0.0"', '"1.0.1"') });
    assert.notEqual(v1.hash, v2.hash);
    const [s1, s2] = [await cache.compile(v1), await cache.compile(v2)];
    assert.equal(s1.version, '1.0.0');
    assert.equal(s2.version, '1.0.1');
    assert.equal(cache.compilations, 2);
  });

  test('keeps at most maxEntries, dropping the least recently used', async () => {
    const cache = new ToolCache({ maxEntries: 2 });
    const specs = await Promise.all(
      ['1', '2', '3'].map((v) =>
        loadSpec({ kind: 'document', text: itemsText.replace('"1.0.0"', `"${v}"`) }),
      ),
    );
    const [one, two, three] = specs as [(typeof specs)[0], (typeof specs)[0], (typeof specs)[0]];
    await cache.compile(one);
    await cache.compile(two);
    cache.get(one.hash);
    await cache.compile(three);
    assert.equal(cache.size, 2);
    assert.ok(cache.get(one.hash));
    assert.equal(cache.get(two.hash), undefined);
  });

  test('a failed generation is not cached', async () => {
    const cache = new ToolCache();
    const broken = await loadSpec({
      kind: 'document',
      text: '{"openapi":"3.0.3","info":{"title":"x","version":"1"},"paths":[]}',
    });
    await assert.rejects(cache.compile(broken), { code: 'invalid_spec' });
    await assert.rejects(cache.compile(broken), { code: 'invalid_spec' });
    assert.equal(cache.compilations, 2);
    assert.equal(cache.size, 0);
  });
});
