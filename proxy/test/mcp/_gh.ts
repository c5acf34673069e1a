import { generateTools } from '../../src/openapi/generate';
import { loadSpec } from '../../src/openapi/load';
import { startProxy, workspace } from './harness';

async function main() {
  const spec = await loadSpec({
    kind: 'file',
    path: require.resolve('@octokit/openapi/generated/api.github.com.json'),
  });
  const toolSet = await generateTools(spec.document, { specHash: spec.hash });
  const proxy = await startProxy(
    [workspace({ id: 'gh', auth: { type: 'none' }, public: true })],
    toolSet,
  );
  for (let i = 0; i < 3; i++) {
    const t = Date.now();
    const res = await fetch(`${proxy.url}/mcp/gh`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2025-11-25',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    const body = await res.text();
    console.log(res.status, (body.length / 1e6).toFixed(1), 'MB in', Date.now() - t, 'ms');
  }
  console.log(proxy.logger.lines.slice(0, 3));
  await proxy.close();
}
main();
