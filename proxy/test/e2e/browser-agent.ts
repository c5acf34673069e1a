#!/usr/bin/env -S node --import tsx
/**
 * A stand-in for a person's browser, for `BROWSER=<this>` (mcp-remote and other clients that
 * open the authorization URL through xdg-open): takes the URL as its argument, follows the
 * redirects with a cookie jar, approves the proxy's consent page, signs in to the test server
 * when asked, and finally opens the client's loopback callback, as a browser would.
 *
 * Environment:
 * - E2E_BROWSER_LOG: a file to append lines to: `open <url>` per invocation, `page <status>
 *   <title>` per page shown, `reload <reason>` per retry of the client's callback, then
 *   `done <status>` or `error <message>` (xdg-open hides this program's output).
 * - E2E_LOGIN: `username:password` for the test server's login page (default alice).
 * - E2E_CALLBACK: the client's redirect URI; default: the first `/oauth/callback` on another
 *   origin than the authorization server's (the proxy's own callback shares its origin).
 */
import { appendFileSync } from 'node:fs';
import { UserAgent } from '../oauth/user-agent';

const log = (line: string): void => {
  const file = process.env.E2E_BROWSER_LOG;
  if (file !== undefined && file !== '') appendFileSync(file, `${line}\n`);
};

/** Drives one authorization URL to the client's callback; resolves the callback's HTTP status. */
export async function browse(authorizationUrl: string): Promise<number> {
  const start = new URL(authorizationUrl);
  const [username = 'alice', password = 'alice-pass'] = (
    process.env.E2E_LOGIN ?? 'alice:alice-pass'
  ).split(':');
  const callback = process.env.E2E_CALLBACK;
  const isCallback = (url: URL): boolean =>
    callback !== undefined && callback !== ''
      ? url.href.startsWith(callback)
      : url.origin !== start.origin && url.pathname === '/oauth/callback';
  const agent = new UserAgent({ login: { username, password }, consent: 'approve' });
  let landing: URL;
  try {
    landing = await agent.run(start, isCallback);
  } finally {
    for (const page of agent.pages) {
      const title = /<title>([^<]*)<\/title>/i.exec(page.html)?.[1] ?? '(no title)';
      log(`page ${page.status} ${title}`);
    }
  }
  // A client may open the browser before its callback listener is up (mcp-remote does when it
  // re-authorizes mid-session); a person would reload the page, so retry a refused connection.
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const response = await agent.request(landing);
      await response.body?.cancel();
      return response.status;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      log(`reload ${error instanceof Error ? error.message : String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

if (require.main === module) {
  const url = process.argv[2];
  if (url === undefined) {
    console.error('usage: browser-agent <authorization url>');
    process.exit(2);
  }
  log(`open ${url}`);
  browse(url)
    .then(
      (status) => log(`done ${status}`),
      (error: unknown) =>
        log(`error ${error instanceof Error ? error.message : String(error)}`.replace(/\n/g, ' ')),
    )
    // Exit 0 either way, as a browser does whatever the page says: a failing exit would make
    // xdg-open run BROWSER a second time. Exit now rather than wait for idle keep-alive sockets.
    .finally(() => process.exit(0));
}
