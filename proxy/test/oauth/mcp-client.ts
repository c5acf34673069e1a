/** The MCP SDK client with an OAuthClientProvider whose "browser" is the headless UserAgent. */
import { randomBytes } from 'node:crypto';
import {
  type OAuthClientProvider,
  UnauthorizedError,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import { UserAgent, type UserAgentOptions } from './user-agent';

/**
 * The storage half of an OAuth client (like mcp-remote's, in memory): client registration,
 * tokens, PKCE verifier and state. Subclasses say what "opening the browser" means.
 */
export abstract class InMemoryOAuthProvider implements OAuthClientProvider {
  client?: OAuthClientInformationMixed;
  saved?: OAuthTokens;
  verifier = '';
  lastState = '';
  /** Every token the proxy issued to this client. */
  readonly issued: string[] = [];
  authorizations = 0;

  constructor(
    readonly redirectUrl: string,
    readonly clientName: string,
  ) {}

  abstract redirectToAuthorization(url: URL): void | Promise<void>;

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  state(): string {
    this.lastState = randomBytes(16).toString('hex');
    return this.lastState;
  }

  clientInformation() {
    return this.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }

  tokens() {
    return this.saved;
  }

  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
    this.issued.push(tokens.access_token);
    if (tokens.refresh_token !== undefined) this.issued.push(tokens.refresh_token);
  }

  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
    if (scope === 'all' || scope === 'client') this.client = undefined;
  }

  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }

  codeVerifier() {
    return this.verifier;
  }
}

/** An in-memory OAuth client driving the headless UserAgent through the pages. */
export class HeadlessOAuthProvider extends InMemoryOAuthProvider {
  readonly agent: UserAgent;
  /** Where the authorization ended: the client's redirect URI with code (or error) and state. */
  lastRedirect?: URL;

  constructor(
    agentOptions: UserAgentOptions = {},
    redirectUrl = 'http://localhost:53682/oauth/callback',
  ) {
    super(redirectUrl, 'Headless test client');
    this.agent = new UserAgent(agentOptions);
  }

  async redirectToAuthorization(url: URL) {
    this.authorizations += 1;
    this.lastRedirect = await this.agent.run(url, (next) => next.href.startsWith(this.redirectUrl));
  }
}

/** Connects to an MCP URL, completing the OAuth flow through the provider when asked to. */
export async function connectWithOAuth(
  mcpUrl: string,
  provider: HeadlessOAuthProvider,
): Promise<Client> {
  const attempt = async () => {
    const client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), {
      authProvider: provider,
    });
    await client.connect(transport);
    return { client, transport };
  };
  try {
    return (await attempt()).client;
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  await finishAuthorization(mcpUrl, provider);
  const client = new Client({ name: 'oauth-e2e', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }),
  );
  return client;
}

/** Exchanges the code of the provider's last authorization, as a client does once back from it. */
export async function finishAuthorization(
  mcpUrl: string,
  provider: HeadlessOAuthProvider,
): Promise<void> {
  const back = provider.lastRedirect;
  const code = back?.searchParams.get('code');
  if (back === undefined || code === null || code === undefined) {
    throw new Error(`authorization ended without a code: ${back?.href}`);
  }
  if (back.searchParams.get('state') !== provider.lastState) throw new Error('state mismatch');
  const transport = new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider });
  await transport.finishAuth(code);
}
