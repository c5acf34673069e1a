/** The MCP endpoint of the proxy: what server.ts mounts and what the OAuth module plugs into. */
export { type Authorize, accessKeyAuthorizer } from './access-key';
export { ArgumentValidator, InvalidArgumentsError } from './arguments';
export { defaultAllowedHosts, hostOriginGuard, originsForHosts } from './request-guard';
export {
  createMcpEndpoint,
  createMcpRouter,
  type McpEndpoint,
  type McpRouterDeps,
} from './router';
export { type McpSession, SessionTable, type SessionTableOptions } from './sessions';
export { MAX_ERROR_EXCERPT, MAX_RESULT_TEXT } from './tool-result';
export { type BuildRequest, isEnabled, type McpLogger, toMcpTool } from './tool-server';
