import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { calledTools, missingScopes, scopesToStepUp } from '../../src/mcp/scopes';
import type { GeneratedTool } from '../../src/types';

const toolNeeding = (name: string, scopes?: string[][]): GeneratedTool => ({
  name,
  description: name,
  inputSchema: { type: 'object' },
  annotations: {},
  binding: { method: 'POST', path: `/${name}`, parameters: [], security: [], scopes },
});

describe('tool call scopes', () => {
  test('one alternative met is enough; otherwise the one closest to being met is named', () => {
    const tool = toolNeeding('t', [
      ['a', 'b', 'c'],
      ['a', 'd'],
    ]);
    assert.equal(missingScopes(tool, new Set(['a', 'd'])), undefined);
    assert.equal(missingScopes(tool, new Set(['a', 'b', 'c', 'x'])), undefined);
    assert.deepEqual(missingScopes(tool, new Set(['a', 'b'])), ['a', 'b', 'c']);
    assert.deepEqual(missingScopes(tool, new Set(['a'])), ['a', 'd']);
    assert.deepEqual(missingScopes(tool, new Set()), ['a', 'd']);
    assert.equal(missingScopes(toolNeeding('free'), new Set()), undefined);
  });

  test('only tools/call messages count, single or batched', () => {
    const call = (name: unknown) => ({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name },
    });
    assert.deepEqual(calledTools(call('x')), ['x']);
    assert.deepEqual(calledTools([call('x'), { method: 'tools/list' }, call(3), null, call('y')]), [
      'x',
      'y',
    ]);
    assert.deepEqual(calledTools({ method: 'tools/list', params: { name: 'x' } }), []);
    assert.deepEqual(calledTools(undefined), []);
  });

  test('a batch needs the union of its calls’ missing scopes; unknown tools are not judged here', () => {
    const tools = new Map([
      ['read', toolNeeding('read', [['r']])],
      ['write', toolNeeding('write', [['w']])],
    ]);
    const call = (name: string) => ({ method: 'tools/call', params: { name } });
    assert.equal(scopesToStepUp(tools, [call('read'), call('nope')], ['r']), undefined);
    assert.deepEqual(scopesToStepUp(tools, [call('read'), call('write')], []), ['r', 'w']);
    assert.deepEqual(scopesToStepUp(tools, call('write'), ['r']), ['w']);
  });
});
