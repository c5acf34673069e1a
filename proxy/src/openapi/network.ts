/**
 * Fetching operator-supplied URLs (specs, remote `$ref`s) with limits: size, time, redirects, and
 * an address policy against SSRF. The policy is checked on the address actually connected to (a
 * custom DNS lookup), so a name that resolves to a private address after a first check (DNS
 * rebinding) is refused as well.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import { SpecError } from './errors';

export interface FetchLimits {
  /** Largest accepted body in bytes. Default 20 MiB. */
  maxBytes?: number;
  /** Whole-request deadline in milliseconds, redirects included. Default 15 000. */
  timeoutMs?: number;
  /** Redirects followed at most. Default 5. */
  maxRedirects?: number;
  /** Loopback addresses (127.0.0.0/8, ::1, `localhost`): allowed unless set to false. */
  allowLoopback?: boolean;
  /**
   * Private, link-local, CGNAT and other non-public ranges (10/8, 172.16/12, 192.168/16,
   * 169.254/16, fc00::/7, fe80::/10, …): refused unless set to true.
   */
  allowPrivateNetworks?: boolean;
}

const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_REDIRECTS = 5;

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const nonPublic = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
] as const) {
  nonPublic.addSubnet(net, prefix, 'ipv6');
}

/** Why an address may not be connected to under the given policy, or undefined when it may. */
export function addressRefusal(address: string, limits: FetchLimits): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  let type: 'ipv4' | 'ipv6' = family === 4 ? 'ipv4' : 'ipv6';
  let ip = address;
  // IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address it carries.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) {
    ip = mapped[1];
    type = 'ipv4';
  }
  if (loopback.check(ip, type)) {
    return limits.allowLoopback === false
      ? `loopback address ${address} is not allowed`
      : undefined;
  }
  if (nonPublic.check(ip, type)) {
    return limits.allowPrivateNetworks === true
      ? undefined
      : `private or reserved address ${address} is not allowed (allowPrivateNetworks is off)`;
  }
  return undefined;
}

function guardedLookup(limits: FetchLimits): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      for (const entry of addresses) {
        const refusal = addressRefusal(entry.address, limits);
        if (refusal) {
          callback(new SpecError('forbidden_address', `${hostname}: ${refusal}`), '', 0);
          return;
        }
      }
      if (options.all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const first = addresses[0];
      if (!first) {
        callback(new Error(`${hostname} did not resolve`), '', 0);
        return;
      }
      callback(null, first.address, first.family);
    });
  };
}

export interface FetchedText {
  /** The URL the body finally came from, after redirects. */
  url: string;
  text: string;
  contentType?: string;
}

function checkUrl(raw: string, limits: FetchLimits): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SpecError('invalid_url', `${JSON.stringify(raw)} is not a valid URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SpecError(
      'invalid_url',
      `${url.protocol} URLs are not supported (http or https only)`,
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) {
    const refusal = addressRefusal(host, limits);
    if (refusal) throw new SpecError('forbidden_address', `${url.origin}: ${refusal}`);
  }
  return url;
}

/**
 * Fetches a URL as text with the given limits: http(s) only, redirects followed manually up to the
 * limit (each hop checked again), the body read up to `maxBytes`, everything within `timeoutMs`.
 */
export async function fetchText(raw: string, limits: FetchLimits = {}): Promise<FetchedText> {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = limits.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxRedirects = limits.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const signal = AbortSignal.timeout(timeoutMs);
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(limits) } });
  try {
    let url = checkUrl(raw, limits);
    for (let hop = 0; ; hop++) {
      const res = await request(url, {
        method: 'GET',
        dispatcher,
        signal,
        headers: { accept: 'application/json, application/yaml;q=0.9, */*;q=0.5' },
      });
      if (res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
        await res.body.dump();
        if (hop >= maxRedirects) {
          throw new SpecError(
            'too_many_redirects',
            `more than ${maxRedirects} redirects from ${raw}`,
          );
        }
        url = checkUrl(new URL(String(res.headers.location), url).href, limits);
        continue;
      }
      if (res.statusCode < 200 || res.statusCode >= 300) {
        await res.body.dump();
        throw new SpecError('fetch_failed', `GET ${url.href} answered HTTP ${res.statusCode}`);
      }
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        await res.body.dump();
        throw new SpecError(
          'too_large',
          `${url.href} is ${declared} bytes, over the ${maxBytes}-byte limit`,
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > maxBytes) {
          res.body.destroy();
          throw new SpecError('too_large', `${url.href} is over the ${maxBytes}-byte limit`);
        }
        chunks.push(buf);
      }
      const contentType = res.headers['content-type'];
      return {
        url: url.href,
        text: Buffer.concat(chunks).toString('utf8'),
        ...(typeof contentType === 'string' ? { contentType } : {}),
      };
    }
  } catch (err) {
    throw toSpecError(err, raw, timeoutMs, signal);
  } finally {
    await dispatcher.close();
  }
}

function toSpecError(err: unknown, raw: string, timeoutMs: number, signal: AbortSignal): SpecError {
  if (err instanceof SpecError) return err;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof SpecError) return cause;
  if (signal.aborted) {
    return new SpecError('timeout', `fetching ${raw} took longer than ${timeoutMs} ms`, '', {
      cause: err,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new SpecError('fetch_failed', `fetching ${raw} failed: ${message}`, '', { cause: err });
}
