/**
 * The fetch the OAuth module uses toward upstream authorization servers: addresses checked at
 * connect time (loopback allowed, private ranges only when the operator allows them, as for spec
 * URLs), no redirects followed, and response bodies capped.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { addressRefusal, type FetchLimits } from '../openapi';

/** Token, metadata and registration responses are small; anything larger is refused. */
export const MAX_OAUTH_RESPONSE_BYTES = 1024 * 1024;

function guardedLookup(limits: FetchLimits): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', 0);
        return;
      }
      for (const entry of addresses) {
        const refusal = addressRefusal(entry.address, limits);
        if (refusal !== undefined) {
          callback(
            Object.assign(new Error(`${hostname}: ${refusal}`), { code: 'ERR_FORBIDDEN_ADDRESS' }),
            '',
            0,
          );
          return;
        }
      }
      if (options.all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        return;
      }
      const first = addresses[0];
      if (first === undefined) callback(new Error(`${hostname} did not resolve`), '', 0);
      else callback(null, first.address, first.family);
    });
  };
}

/** A fetch for upstream OAuth endpoints under the given address policy. */
export function guardedFetch(limits: FetchLimits = {}): typeof fetch {
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(limits) } });
  const maxBytes = limits.maxBytes ?? MAX_OAUTH_RESPONSE_BYTES;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    // IP literals never reach the lookup: judge them here.
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const refusal = isIP(host) === 0 ? undefined : addressRefusal(host, limits);
    if (refusal !== undefined) {
      throw Object.assign(new Error(`${url.host}: ${refusal}`), { code: 'ERR_FORBIDDEN_ADDRESS' });
    }
    const response = await undiciFetch(url, {
      ...(init as Parameters<typeof undiciFetch>[1]),
      redirect: 'manual',
      dispatcher,
    });
    const reader = response.body?.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const next = await reader?.read();
      if (next === undefined || next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) {
        await reader?.cancel();
        throw Object.assign(new Error(`response larger than ${maxBytes} bytes`), {
          code: 'ERR_RESPONSE_TOO_LARGE',
        });
      }
      chunks.push(next.value);
    }
    const status = response.status;
    const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
    return new Response(body, {
      status,
      statusText: response.statusText,
      headers: response.headers as unknown as Headers,
    });
  }) as typeof fetch;
}
