import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { generateTools } from '../../src/openapi/generate';
import { parseSpecText } from '../../src/openapi/load';
import { assertToolSetUsable } from './helpers';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function operationCount(document: Record<string, unknown>): number {
  let count = 0;
  for (const item of Object.values(document.paths as Record<string, Record<string, unknown>>)) {
    count += METHODS.filter((m) => item[m] !== undefined).length;
  }
  return count;
}

// Big real specs from @octokit/openapi: GitHub's REST API, GitHub Enterprise Server (which has
// multipart uploads to skip), and GitHub's API fully dereferenced (73 MB, no $refs at all).
const realSpecs = ['api.github.com.json', 'ghes-3.19.json', 'api.github.com.deref.json'];

describe('real-world specs', () => {
  for (const file of realSpecs) {
    test(`${file}: every operation yields a usable tool or a listed skip reason`, async () => {
      const text = readFileSync(require.resolve(`@octokit/openapi/generated/${file}`), 'utf8');
      const loaded = await parseSpecText(text);
      const set = await generateTools(loaded.document, { specHash: loaded.hash });
      const operations = operationCount(loaded.document);
      assert.ok(operations > 900, `${file} has ${operations} operations`);
      assert.equal(set.tools.length + set.skipped.length, operations);
      assert.ok(set.tools.length >= operations - 10, `${set.skipped.length} skipped`);
      for (const skipped of set.skipped) {
        assert.match(skipped.pointer, /^\/paths\/\S+/);
        assert.ok(skipped.reason.length > 0);
      }
      assert.equal(set.baseUrl?.startsWith('http'), true);
      // The dereferenced copy has the same output schemas as api.github.com.json, only unshared
      // (slow to compile again); its input schemas are still all compiled.
      assertToolSetUsable(set, { outputSchemas: !file.includes('.deref.') });
      for (const tool of set.tools) {
        for (const match of tool.binding.path.matchAll(/\{([^}]+)\}/g)) {
          assert.ok(
            tool.binding.parameters.some((p) => p.in === 'path' && p.name === match[1]),
            `${tool.name} binds {${match[1]}}`,
          );
        }
      }
      if (file === 'ghes-3.19.json') {
        assert.ok(set.skipped.some((s) => /multipart\/form-data not supported/.test(s.reason)));
      }
    });
  }
});
