/**
 * A corpus of real and edge-case specs (@readme/oas-examples: Swagger 2.0, OpenAPI 3.0 and 3.1,
 * ReadMe's own API, Bump.sh's train-travel API, petstores, every parameter style, circular
 * schemas, callbacks, webhooks, polymorphism): each spec either yields a tool or a listed skip
 * reason for every operation, with input schemas that compile and names that are unique, or is
 * refused as a whole with a SpecError naming where and why.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { SpecError } from '../../src/openapi/errors';
import { generateTools } from '../../src/openapi/generate';
import { loadSpec } from '../../src/openapi/load';
import { assertToolSetUsable } from './helpers';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ROOT = dirname(require.resolve('@readme/oas-examples/package.json'));

/**
 * Operations under `paths`, following a path item's local `$ref` (webhooks and callbacks are not
 * operations a client calls).
 */
function operationCount(document: Record<string, unknown>): number {
  const paths = (document.paths ?? {}) as Record<string, Record<string, unknown>>;
  let count = 0;
  for (let item of Object.values(paths)) {
    if (typeof item?.$ref === 'string' && item.$ref.startsWith('#/')) {
      item = item.$ref
        .slice(2)
        .split('/')
        .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce<Record<string, unknown>>(
          (node, token) => (node[token] ?? {}) as Record<string, unknown>,
          document,
        );
    }
    count += METHODS.filter((m) => item?.[m] !== undefined).length;
  }
  return count;
}

const files = ['2.0', '3.0', '3.1'].flatMap((version) =>
  readdirSync(join(ROOT, version, 'json'), { recursive: true })
    .map(String)
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(version, 'json', name)),
);

describe('@readme/oas-examples', () => {
  test('the corpus is there (Swagger 2.0, OpenAPI 3.0 and 3.1)', () => {
    assert.ok(files.length > 60, `${files.length} specs`);
    for (const version of ['2.0/', '3.0/', '3.1/']) {
      assert.ok(
        files.some((f) => f.startsWith(version)),
        `no ${version} spec`,
      );
    }
  });

  let tools = 0;
  for (const file of files) {
    test(file, async () => {
      let loaded: Awaited<ReturnType<typeof loadSpec>>;
      try {
        loaded = await loadSpec({ kind: 'file', path: join(ROOT, file) });
      } catch (error) {
        assert.ok(error instanceof SpecError, `${file}: ${String(error)}`);
        assert.ok(error.message.length > 0 && error.code.length > 0);
        return;
      }
      const set = await generateTools(loaded.document, { specHash: loaded.hash });
      assert.equal(
        set.tools.length + set.skipped.length,
        operationCount(loaded.document),
        'every operation yields a tool or a skip reason',
      );
      for (const skipped of set.skipped) {
        assert.match(skipped.pointer, /^\/paths(\/|$)/, `${file}: pointer ${skipped.pointer}`);
        assert.ok(skipped.reason.length > 0);
      }
      assertToolSetUsable(set);
      tools += set.tools.length;
    });
  }

  test('the corpus yields hundreds of tools in all', () => {
    assert.ok(tools > 200, `${tools} tools`);
  });
});
