/** The HTML the proxy shows a browser: the consent page and the error page, both unframeable. */
import type { Response } from 'express';

const escapeHtml = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}' +
  'code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px;word-break:break-all}' +
  'button{font-size:1rem;padding:.5rem 1.2rem;margin-right:.5rem;cursor:pointer}' +
  '.note{color:#555;font-size:.9rem}';

/** Headers that keep the page out of frames and caches (clickjacking, token leaks). */
function secureHeaders(res: Response): void {
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  );
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

export interface ConsentPageModel {
  workspaceName: string;
  /** The client's self-declared `client_name` (or its client_id): shown as a claim, not a fact. */
  clientName: string;
  redirectUri: string;
  scopes: string[];
  /**
   * Where the person will sign in: the upstream authorization URL's origin; undefined when no
   * upstream sign-in follows (client_credentials) or it could not be determined.
   */
  upstreamOrigin?: string;
  /** True when the workspace calls the upstream with its own service credentials. */
  serviceCredentials?: boolean;
  /** Where the form posts. */
  action: string;
  flow: string;
  csrf: string;
}

/** What happens after approval: the upstream sign-in (named by origin), then the redirect. */
function nextSteps(model: ConsentPageModel): string {
  if (model.serviceCredentials === true) {
    return `<p>After you approve, the proxy calls ${escapeHtml(model.workspaceName)} with its own service credentials (no sign-in), and you are sent back to:</p>`;
  }
  const where =
    model.upstreamOrigin === undefined
      ? 'the upstream service'
      : `<strong id="upstream-origin">${escapeHtml(model.upstreamOrigin)}</strong>`;
  return `<p>After you approve, you will sign in at ${where}, and then be sent back to:</p>`;
}

/**
 * The consent page: the client's name (as the client's own claim), where it will be redirected,
 * which upstream the person signs in to, and the upstream scopes.
 */
export function sendConsentPage(res: Response, model: ConsentPageModel): void {
  secureHeaders(res);
  const scopes =
    model.scopes.length === 0
      ? '<li>(no specific scopes)</li>'
      : model.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  res
    .status(200)
    .type('html')
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Authorize ${escapeHtml(model.clientName)}</title>
<style>${STYLE}</style></head><body>
<h1>Authorize access to ${escapeHtml(model.workspaceName)}</h1>
<p>An application that says it is <strong id="client-name">${escapeHtml(model.clientName)}</strong>
wants to use <strong>${escapeHtml(model.workspaceName)}</strong> on your behalf.</p>
<p class="note" id="client-name-note">The application chose this name itself; the proxy has not verified it. Approve only if you started this connection.</p>
${nextSteps(model)}
<p><code id="redirect-uri">${escapeHtml(model.redirectUri)}</code></p>
<p>Requested access:</p><ul id="scopes">${scopes}</ul>
<form method="post" action="${escapeHtml(model.action)}">
<input type="hidden" name="flow" value="${escapeHtml(model.flow)}">
<input type="hidden" name="csrf" value="${escapeHtml(model.csrf)}">
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="deny" id="deny">Deny</button>
</form></body></html>`);
}

/** An error page for failures that must not redirect anywhere (bad state, unknown flow). */
export function sendErrorPage(res: Response, status: number, title: string, detail: string): void {
  secureHeaders(res);
  res
    .status(status)
    .type('html')
    .send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head><body>
<h1>${escapeHtml(title)}</h1><p id="error-detail">${escapeHtml(detail)}</p>
<p>Start the connection again from your MCP client.</p></body></html>`);
}
