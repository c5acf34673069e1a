/**
 * Host and Origin checks on the MCP endpoint: a browser page on another origin, or a DNS name
 * rebound to the proxy's address, must not reach the tools.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** localhost, 127.0.0.1 and [::1] on `port`: the default allow list of a locally bound proxy. */
export function defaultAllowedHosts(port: number): string[] {
  return [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`];
}

/** `http://` and `https://` origins for each allowed host. */
export function originsForHosts(hosts: string[]): string[] {
  return hosts.flatMap((host) => [`http://${host}`, `https://${host}`]);
}

/**
 * Middleware answering 403 when the Host header is not in `allowedHosts` (an entry without a port
 * matches that name on any port) or an Origin header is present and not in `allowedOrigins`
 * (default: the allowed hosts over http and https). Requests without Origin (non-browser MCP
 * clients) pass the Origin check.
 */
export function hostOriginGuard(options: {
  allowedHosts: string[];
  allowedOrigins?: string[];
}): RequestHandler {
  if (options.allowedHosts.length === 0) {
    throw Object.assign(new TypeError('allowedHosts must list at least one host'), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  const exact = new Set(options.allowedHosts.map((h) => h.toLowerCase()));
  const anyPort = new Set(
    options.allowedHosts.filter((h) => !hasPort(h)).map((h) => h.toLowerCase()),
  );
  const origins = new Set(
    (options.allowedOrigins ?? originsForHosts(options.allowedHosts)).map((o) => o.toLowerCase()),
  );

  return function checkHostAndOrigin(req: Request, res: Response, next: NextFunction): void {
    const host = req.headers.host?.toLowerCase();
    if (!host || !(exact.has(host) || anyPort.has(hostName(host)))) {
      forbidden(res, 'Forbidden: Host not allowed');
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      forbidden(res, 'Forbidden: Origin not allowed');
      return;
    }
    next();
  };
}

function hasPort(host: string): boolean {
  return /:\d+$/.test(host);
}

function hostName(host: string): string {
  return hasPort(host) ? host.slice(0, host.lastIndexOf(':')) : host;
}

function forbidden(res: Response, message: string): void {
  res.status(403).json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
}
