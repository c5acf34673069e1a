/** The admin HTTP API and its token. */
export { type AdminRouterDeps, createAdminRouter, workspaceView } from './router';
export { type AdminToken, AdminTokenError, resetAdminToken, resolveAdminToken } from './token';
