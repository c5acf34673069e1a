/** Links to the spec sections the checks enforce. */
export const RFC = (n: number, section: string) =>
  `https://www.rfc-editor.org/rfc/rfc${n}#section-${section}`;
export const OAUTH21 = (section: string) =>
  `https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-${section}`;
export const MCP_AUTH = (anchor: string) =>
  `https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization#${anchor}`;
export const MCP_SECURITY = (anchor: string) =>
  `https://modelcontextprotocol.io/specification/2025-06-18/basic/security_best_practices#${anchor}`;
