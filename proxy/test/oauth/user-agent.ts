/**
 * A headless HTTP user agent for OAuth tests: follows redirects by hand with a cookie jar per
 * host, and submits the forms it meets (the test server's login and consent, the proxy's consent).
 */

export interface UserAgentOptions {
  /** Test-server login, when its page shows (no auto-approve). */
  login?: { username: string; password: string };
  /** Decision on the proxy's consent page. */
  consent?: 'approve' | 'deny';
  /** Decision on the test server's own consent page (its Allow or Deny form). */
  upstreamConsent?: 'allow' | 'deny';
}

interface Form {
  action: string;
  fields: Record<string, string>;
  buttons: Array<{ name?: string; value?: string }>;
  hasUsername: boolean;
}

const attr = (tag: string, name: string): string | undefined => {
  const match = new RegExp(`${name}="([^"]*)"`, 'i').exec(tag);
  return match?.[1]
    ?.replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
};

/** The forms of an HTML page, with their hidden inputs and submit buttons. */
export function parseForms(html: string): Form[] {
  const forms: Form[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const [, open = '', body = ''] = match;
    const fields: Record<string, string> = {};
    let hasUsername = false;
    for (const input of body.matchAll(/<input\b[^>]*>/gi)) {
      const name = attr(input[0], 'name');
      if (name === undefined) continue;
      if (name === 'username') hasUsername = true;
      fields[name] = attr(input[0], 'value') ?? '';
    }
    const buttons = [...body.matchAll(/<button\b[^>]*>/gi)].map((b) => ({
      name: attr(b[0], 'name'),
      value: attr(b[0], 'value'),
    }));
    forms.push({ action: attr(open, 'action') ?? '', fields, buttons, hasUsername });
  }
  return forms;
}

export class UserAgent {
  /** Cookies per host, keyed by `path;name` so each path keeps its own. */
  readonly jar = new Map<string, Map<string, string>>();
  /** Every page (HTML) the agent saw, with its URL and headers, for assertions. */
  readonly pages: Array<{ url: string; status: number; headers: Headers; html: string }> = [];
  private readonly options: UserAgentOptions;

  constructor(options: UserAgentOptions = {}) {
    this.options = options;
  }

  /** Sends one request with this agent's cookies; remembers the cookies set. */
  async request(url: URL, init: RequestInit = {}): Promise<Response> {
    const cookies = this.jar.get(url.host);
    const headers = new Headers(init.headers);
    const sent = [...(cookies ?? [])]
      .map(([key, value]) => {
        const [path = '/', name = ''] = key.split(';');
        const inPath =
          url.pathname === path || url.pathname.startsWith(path.endsWith('/') ? path : `${path}/`);
        return inPath ? `${name}=${value}` : undefined;
      })
      .filter((c): c is string => c !== undefined);
    if (sent.length > 0) headers.set('cookie', sent.join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const path = /;\s*path=([^;]*)/i.exec(line)?.[1]?.trim() || '/';
      const name = `${path};${pair.slice(0, eq).trim()}`;
      const value = pair.slice(eq + 1).trim();
      const jar = this.jar.get(url.host) ?? new Map<string, string>();
      this.jar.set(url.host, jar);
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  /**
   * Opens `start` and goes on (redirects, forms) until a redirect targets a URL for which `stop`
   * is true; returns that URL. Throws on an error page, with its text.
   */
  async run(start: string | URL, stop: (url: URL) => boolean, maxSteps = 30): Promise<URL> {
    let url = new URL(start);
    let init: RequestInit = {};
    for (let step = 0; step < maxSteps; step++) {
      const response = await this.request(url, init);
      init = {};
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        const next = new URL(location, url);
        if (stop(next)) return next;
        url = next;
        continue;
      }
      const html = await response.text();
      this.pages.push({ url: url.href, status: response.status, headers: response.headers, html });
      if (response.status >= 400) {
        throw new Error(`HTTP ${response.status} at ${url.href}: ${html.slice(0, 500)}`);
      }
      const next = this.submission(html, url);
      url = next.url;
      init = next.init;
    }
    throw new Error(`no end after ${maxSteps} steps (at ${url.href})`);
  }

  private submission(html: string, at: URL): { url: URL; init: RequestInit } {
    const forms = parseForms(html);
    const consent = forms.find((f) => f.buttons.some((b) => b.name === 'decision'));
    const login = forms.find((f) => f.hasUsername);
    const abort = forms.find((f) => f.action.endsWith('/abort'));
    const upstreamDeny = this.options.upstreamConsent === 'deny' && login === undefined;
    const form = consent ?? login ?? (upstreamDeny ? abort : undefined) ?? forms[0];
    if (form === undefined)
      throw new Error(`no form on the page at ${at.href}: ${html.slice(0, 300)}`);
    const fields = new URLSearchParams(form.fields);
    if (form === consent) fields.set('decision', this.options.consent ?? 'approve');
    if (form === login) {
      if (this.options.login === undefined)
        throw new Error(`login page at ${at.href} but no login given`);
      fields.set('username', this.options.login.username);
      fields.set('password', this.options.login.password);
    }
    return {
      url: new URL(form.action, at),
      init: {
        method: 'POST',
        body: fields.toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    };
  }
}
