/**
 * mcp-remote run as users run it (`npx mcp-remote <url> [callback-port]`), driven over its stdio:
 * newline-delimited JSON-RPC in, responses out, its log on stderr.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { release } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './stack';

/** mcp-remote opens URLs with xdg-open, which honours `BROWSER`, only on Linux (not WSL, macOS). */
export const BROWSER_UNSUPPORTED =
  process.platform !== 'linux' || /microsoft/i.test(release())
    ? 'mcp-remote honours BROWSER through xdg-open on Linux only'
    : false;

/** The `mcp-remote` bin, as npx would run it. */
export function mcpRemoteBin(): string {
  const dir = join(ROOT, 'node_modules', 'mcp-remote');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    bin: Record<string, string>;
  };
  const bin = pkg.bin['mcp-remote'];
  if (bin === undefined) throw new Error('mcp-remote has no "mcp-remote" bin');
  return join(dir, bin);
}

/** A port free on the loopback interface right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Writes an executable `BROWSER` program into `dir` that runs browser-agent.ts (absolute paths,
 * so it works from any working directory); returns its path.
 */
export function writeBrowserProgram(dir: string): string {
  const path = join(dir, 'browser');
  const tsx = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const agent = join(__dirname, 'browser-agent.ts');
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" --import "${tsx}" "${agent}" "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/**
 * The environment of a terminal without a desktop: xdg-open (mcp-remote's opener on Linux) finds
 * no desktop session and falls through to `$BROWSER`.
 */
export function headlessEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of [
    'DISPLAY',
    'WAYLAND_DISPLAY',
    'XDG_CURRENT_DESKTOP',
    'DESKTOP_SESSION',
    'KDE_FULL_SESSION',
    'GNOME_DESKTOP_SESSION_ID',
    'MATE_DESKTOP_SESSION_ID',
    'LXQT_SESSION_CONFIG',
    'DESKTOP',
    'XDG_SESSION_DESKTOP',
    'DBUS_SESSION_BUS_ADDRESS',
    'NODE_OPTIONS',
  ]) {
    delete env[name];
  }
  return env;
}

interface JsonRpcResponse {
  jsonrpc: '2.0';
  id: number;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: unknown };
}

/** One mcp-remote process and the JSON-RPC conversation over its stdio. */
export class McpRemote {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything mcp-remote wrote to stderr (its log), for assertions and diagnostics. */
  stderr = '';
  private stdoutBuffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, (response: JsonRpcResponse) => void>();
  private exited: { code: number | null; signal: string | null } | undefined;

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, [mcpRemoteBin(), ...args], {
      cwd: ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => this.onStdout(chunk));
    this.child.on('exit', (code, signal) => {
      this.exited = { code, signal };
    });
  }

  private onStdout(chunk: string): void {
    this.stdoutBuffer += chunk;
    for (;;) {
      const newline = this.stdoutBuffer.indexOf('\n');
      if (newline < 0) return;
      const line = this.stdoutBuffer.slice(0, newline).trim();
      this.stdoutBuffer = this.stdoutBuffer.slice(newline + 1);
      if (line === '') continue;
      let message: Partial<JsonRpcResponse>;
      try {
        message = JSON.parse(line) as Partial<JsonRpcResponse>;
      } catch {
        this.stderr += `\n[stdout, not JSON] ${line}`;
        continue;
      }
      if (typeof message.id !== 'number') continue; // notifications and server requests
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message as JsonRpcResponse);
    }
  }

  /** Resolves once stderr contains `text`; rejects on exit or after `timeoutMs`. */
  async waitForLog(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stderr.includes(text)) {
      if (this.exited !== undefined) {
        throw new Error(`mcp-remote exited (${JSON.stringify(this.exited)}) before "${text}"`);
      }
      if (Date.now() > deadline) throw new Error(`no "${text}" from mcp-remote in ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Sends a JSON-RPC request and resolves its result; rejects on a JSON-RPC error or timeout. */
  request(
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from mcp-remote in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (response) => {
        clearTimeout(timer);
        if (response.error !== undefined) {
          reject(new Error(`${method}: ${response.error.code} ${response.error.message}`));
        } else resolve(response.result ?? {});
      });
      this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
  }

  /** Ends the process (SIGTERM, then SIGKILL after 3 s) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  }
}
