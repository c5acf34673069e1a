/**
 * A minimal cookie jar for the harness's user agent: one per simulated browser. Keyed by host;
 * honours deletion (Max-Age<=0, past Expires) and path prefixes, which is all the login, consent
 * and CSRF flows need.
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-5.3
 */
interface StoredCookie {
  value: string;
  path: string;
}

export class CookieJar {
  private readonly hosts = new Map<string, Map<string, StoredCookie>>();

  /** Stores the Set-Cookie headers of a response to `url`. */
  store(url: URL, headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let path = '/';
      let expired = false;
      for (const attribute of attributes) {
        const [key = '', val = ''] = attribute.split('=').map((s) => s.trim());
        const lower = key.toLowerCase();
        if (lower === 'path' && val.startsWith('/')) path = val;
        if (lower === 'max-age' && Number(val) <= 0) expired = true;
        if (lower === 'expires' && Date.parse(val) < Date.now()) expired = true;
      }
      const cookies = this.hosts.get(url.hostname) ?? new Map<string, StoredCookie>();
      this.hosts.set(url.hostname, cookies);
      if (expired) cookies.delete(`${name}\u0000${path}`);
      else cookies.set(`${name}\u0000${path}`, { value, path });
    }
  }

  /** The Cookie header for a request to `url`, or undefined when nothing applies. */
  header(url: URL): string | undefined {
    const cookies = this.hosts.get(url.hostname);
    if (!cookies) return undefined;
    const pairs: string[] = [];
    for (const [key, cookie] of cookies) {
      if (!url.pathname.startsWith(cookie.path)) continue;
      pairs.push(`${key.split('\u0000')[0]}=${cookie.value}`);
    }
    return pairs.length > 0 ? pairs.join('; ') : undefined;
  }
}
