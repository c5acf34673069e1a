/** Starts a fake proxy in front of a fake upstream and runs the proxy suites against it. */

import { proxyChecks } from '../src/suites/index';
import type { RunReport } from '../src/types';
import { startFakeAs } from './fakes/fake-as';
import { type ProxyFlaw, startFakeProxy } from './fakes/fake-proxy';
import { runForTest } from './helpers';

/** Runs every proxy check against a fake proxy with `flaw`, then closes both fakes. */
export async function runProxySuitesAgainstFake(flaw: ProxyFlaw, runs = 2): Promise<RunReport> {
  const redirectUris: string[] = [];
  const upstream = await startFakeAs({ redirectUris });
  const proxy = await startFakeProxy({ flaw });
  try {
    redirectUris.push(proxy.callbackUrl);
    proxy.configure({
      url: upstream.url,
      clientId: upstream.clientId,
      clientSecret: upstream.clientSecret,
      authorizationEndpoint: `${upstream.url}/authorize`,
      tokenEndpoint: `${upstream.url}/token`,
    });
    return await runForTest(
      proxyChecks,
      {
        proxy: { mcpUrls: proxy.mcpUrls, tool: 'listItems' },
        upstream: { url: upstream.url, controlToken: upstream.controlToken },
      },
      runs,
    );
  } finally {
    await proxy.close();
    await upstream.close();
  }
}
