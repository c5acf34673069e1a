/**
 * The proxy's shared vocabulary: what a workspace is, what tool generation yields, and the seams
 * between the store, the MCP endpoint and upstream authentication. Every module of proxy/ speaks
 * in these types; none of them is tied to how it is stored or served.
 */

/** A JSON Schema object as it goes into an MCP tool's inputSchema/outputSchema. */
export type JsonSchema = { [key: string]: unknown };

/** Where a workspace's OpenAPI document comes from. */
export type SpecSource =
  | { kind: 'url'; url: string }
  | { kind: 'file'; path: string }
  /** An uploaded document, kept verbatim (JSON or YAML text). */
  | { kind: 'document'; text: string };

/** How the proxy authenticates to the upstream API on each tool call. */
export type UpstreamAuth =
  | { type: 'none' }
  | { type: 'bearer'; token: string }
  /** `header` defaults to `X-Api-Key`. */
  | { type: 'apiKey'; header?: string; value: string }
  | { type: 'headers'; headers: Record<string, string> }
  | OAuth2UpstreamAuth;

/** Upstream OAuth 2.0 (the seed's "OAuth 2.0" card). Secrets are encrypted at rest. */
export interface OAuth2UpstreamAuth {
  type: 'oauth2';
  /** custom: pre-registered client; dcr: the operator's own registration endpoint; auto: proxy-managed DCR. */
  provider: 'custom' | 'dcr' | 'auto';
  grant: 'authorization_code' | 'client_credentials';
  authorizationUrl?: string;
  tokenUrl?: string;
  registrationUrl?: string;
  initialAccessToken?: string;
  /** Issuer for RFC 8414 discovery, when known. */
  issuer?: string;
  clientId?: string;
  clientSecret?: string;
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post' | 'none';
  scopes: string[];
  pkce: boolean;
  state: boolean;
  resource?: string;
  extraAuthorizeParams?: Record<string, string>;
}

/** Which generated tools a workspace exposes. */
export interface ToolSelection {
  /** `'all'` (the default) or the tool names to expose. */
  enabled: 'all' | string[];
  /** Names hidden even when `enabled` is `'all'`. */
  disabled: string[];
}

/** A workspace as the store keeps it and every definition path (config, admin API, CLI) produces it. */
export interface Workspace {
  /** URL-safe: `^[a-z0-9][a-z0-9-]{0,62}$`. */
  id: string;
  name: string;
  spec: SpecSource;
  /** Overrides the base URL taken from the spec's `servers[0]`. */
  baseUrl?: string;
  auth: UpstreamAuth;
  tools: ToolSelection;
  /** A public workspace needs no access key from MCP clients (non-OAuth workspaces only). */
  public: boolean;
  /**
   * The key MCP clients of a non-OAuth, non-public workspace present as `Authorization: Bearer`.
   * Stored encrypted; generated when absent.
   */
  accessKey?: string;
  createdAt: string;
  updatedAt: string;
}

/** Where one tool argument goes in the upstream HTTP request. */
export interface ParameterBinding {
  /** The property name in the tool's inputSchema. */
  arg: string;
  /** The parameter's name in the OpenAPI document. */
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  style: string;
  explode: boolean;
  allowReserved: boolean;
}

/** How to turn a tool call into the upstream HTTP request. */
export interface OperationBinding {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS' | 'HEAD' | 'PATCH' | 'TRACE';
  /** The OpenAPI path template, e.g. `/api/items/{id}`. */
  path: string;
  operationId?: string;
  parameters: ParameterBinding[];
  body?: { arg: string; contentType: string; required: boolean };
  /** Security requirement alternatives of the operation (names of securitySchemes). */
  security: string[][];
  /**
   * The OAuth scopes (oauth2 and openIdConnect schemes) of each security alternative: a token
   * holding every scope of one alternative may call the operation. Absent when no scope is needed.
   */
  scopes?: string[][];
  /**
   * The operation's own server (the first of its `servers`, else of its path item's), variables
   * substituted and absolute; no trailing `/`. Absent when the document's server applies.
   */
  baseUrl?: string;
}

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** One MCP tool generated from one OpenAPI operation. */
export interface GeneratedTool {
  name: string;
  title?: string;
  description: string;
  inputSchema: JsonSchema;
  outputSchema?: JsonSchema;
  annotations: ToolAnnotations;
  binding: OperationBinding;
}

/** An operation that yielded no tool, and why. */
export interface SkippedOperation {
  method: string;
  path: string;
  operationId?: string;
  /** JSON pointer into the spec, e.g. `/paths/~1items/get`. */
  pointer: string;
  reason: string;
}

/** Everything generation yields for one spec version. */
export interface ToolSet {
  /** sha256 of the spec's text: the compile cache key. */
  specHash: string;
  title: string;
  version: string;
  /** `servers[0].url` with variables substituted, if the spec has one. */
  baseUrl?: string;
  tools: GeneratedTool[];
  skipped: SkippedOperation[];
  /** Non-fatal notes (e.g. a circular schema cut at a given pointer). */
  notes: string[];
  /** The spec's securitySchemes, as written. */
  securitySchemes: Record<string, JsonSchema>;
}

/** The HTTP request a tool call turns into, before upstream auth is attached. */
export interface UpstreamRequest {
  method: OperationBinding['method'];
  url: string;
  headers: Record<string, string>;
  body?: string;
}

/** Who is calling a tool: the workspace, and for OAuth workspaces the downstream grant. */
export interface CallContext {
  workspace: Workspace;
  /** The proxy's grant id behind the MCP client's token (OAuth workspaces). */
  grantId?: string;
  signal?: AbortSignal;
}

/**
 * Supplies the upstream credentials for a call. Static auth types are one implementation; the
 * OAuth module provides another that refreshes tokens.
 */
export interface UpstreamCredentials {
  /** Headers to add to the upstream request (never logged). */
  headers(ctx: CallContext): Promise<Record<string, string>>;
  /**
   * Called when the upstream answered 401. Returns true when fresh credentials are available and
   * the call should be retried once.
   */
  onUnauthorized?(ctx: CallContext): Promise<boolean>;
}
