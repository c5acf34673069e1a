/**
 * The harness's browser: follows redirects by hand, keeps cookies, and fills the login and consent
 * forms it meets (hidden CSRF fields included), until it is about to leave for a URL the caller
 * wants to intercept (a redirect_uri, an upstream authorize endpoint, a callback).
 */
import { CookieJar } from './cookie-jar';
import { type HtmlForm, parseForms } from './forms';

export type StopAt = (url: URL) => boolean;

export type Navigation =
  /** The browser was redirected to a URL matched by `stopAt`; it was not fetched. */
  | { kind: 'stopped'; url: URL; steps: string[] }
  /** A page the agent could not go on from (error page, no usable form). */
  | { kind: 'page'; url: URL; status: number; body: string; steps: string[] };

export interface UserAgentOptions {
  jar?: CookieJar;
  username?: string;
  password?: string;
  maxSteps?: number;
  /** Refuse forms whose buttons only deny (the default) or click "deny" (consent tests). */
  decision?: 'approve' | 'deny';
}

const DENY = /\b(deny|cancel|reject|decline|abort|refuse)\b/i;
const APPROVE =
  /(approve|allow|accept|authori[sz]e|consent|continue|confirm|grant|yes|sign ?in|log ?in|submit)/i;

function buttonText(button: HtmlForm['buttons'][number]): string {
  return `${button.name ?? ''} ${button.value} ${button.label}`;
}

function scoreForm(form: HtmlForm, decision: 'approve' | 'deny'): number {
  let score = 0;
  if (form.fields.some((f) => f.type === 'password')) score += 10;
  const wanted = decision === 'approve' ? APPROVE : DENY;
  if (
    form.buttons.some(
      (b) => wanted.test(buttonText(b)) && (decision === 'deny' || !DENY.test(buttonText(b))),
    )
  )
    score += 5;
  if (
    decision === 'approve' &&
    form.buttons.length > 0 &&
    form.buttons.every((b) => DENY.test(buttonText(b)))
  )
    score -= 20;
  if (decision === 'approve' && DENY.test(form.action)) score -= 20;
  if (form.buttons.length === 0 && form.fields.length > 0) score += 1;
  return score;
}

/** A simulated browser with its own cookie jar. */
export class UserAgent {
  readonly jar: CookieJar;
  private readonly options: UserAgentOptions;

  constructor(options: UserAgentOptions = {}) {
    this.jar = options.jar ?? new CookieJar();
    this.options = options;
  }

  /** One request with this browser's cookies; redirects are not followed. */
  async request(
    url: URL,
    init: { method?: string; body?: URLSearchParams; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {
      accept: 'text/html,application/json;q=0.9,*/*;q=0.8',
    };
    const cookie = this.jar.header(url);
    if (cookie) headers.cookie = cookie;
    if (init.body) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = url.origin;
    }
    const response = await fetch(url, {
      method: init.method ?? 'GET',
      headers,
      redirect: 'manual',
      ...(init.body ? { body: init.body.toString() } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
    this.jar.store(url, response.headers);
    return response;
  }

  /** Opens `start` and goes on through redirects and forms until `stopAt` matches or a dead end. */
  async navigate(start: URL | string, stopAt: StopAt, signal?: AbortSignal): Promise<Navigation> {
    let url = new URL(start);
    let method = 'GET';
    let body: URLSearchParams | undefined;
    const steps: string[] = [];
    const maxSteps = this.options.maxSteps ?? 20;
    if (stopAt(url)) return { kind: 'stopped', url, steps };
    for (let step = 0; step < maxSteps; step += 1) {
      steps.push(`${method} ${url.origin}${url.pathname}`);
      const response = await this.request(url, {
        method,
        ...(body ? { body } : {}),
        ...(signal ? { signal } : {}),
      });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer();
        const next = new URL(location, url);
        if (stopAt(next)) return { kind: 'stopped', url: next, steps };
        url = next;
        method = 'GET';
        body = undefined;
        continue;
      }
      const text = await response.text();
      const form = this.pickForm(text);
      if (!form || response.status >= 400)
        return { kind: 'page', url, status: response.status, body: text, steps };
      const target = new URL(form.action || url.href, url);
      const params = this.fill(form);
      if (form.method === 'GET') {
        for (const [k, v] of params) target.searchParams.set(k, v);
        if (stopAt(target)) return { kind: 'stopped', url: target, steps };
        method = 'GET';
        body = undefined;
      } else {
        method = 'POST';
        body = params;
      }
      url = target;
    }
    throw new Error(`user agent gave up after ${maxSteps} steps: ${steps.join(' -> ')}`);
  }

  private pickForm(html: string): HtmlForm | undefined {
    const decision = this.options.decision ?? 'approve';
    const ranked = parseForms(html)
      .map((form) => ({ form, score: scoreForm(form, decision) }))
      .filter((f) => f.score > 0)
      .sort((a, b) => b.score - a.score);
    return ranked[0]?.form;
  }

  private fill(form: HtmlForm): URLSearchParams {
    const params = new URLSearchParams();
    for (const field of form.fields) {
      let value = field.value;
      if (field.type === 'password') value = this.options.password ?? value;
      else if (/user|login|email/i.test(field.name) && field.type !== 'hidden')
        value = this.options.username ?? value;
      params.append(field.name, value);
    }
    const decision = this.options.decision ?? 'approve';
    const wanted = decision === 'approve' ? APPROVE : DENY;
    const button =
      form.buttons.find(
        (b) => wanted.test(buttonText(b)) && (decision === 'deny' || !DENY.test(buttonText(b))),
      ) ?? form.buttons.find((b) => decision === 'deny' || !DENY.test(buttonText(b)));
    if (button?.name) params.append(button.name, button.value);
    return params;
  }
}
