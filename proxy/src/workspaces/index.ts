/** Workspaces: definitions, validation, tool selection, compiled tool sets and the service. */
export {
  type AuthInput,
  applyPatch,
  buildWorkspace,
  generateAccessKey,
  MASKED_SECRET,
  maskWorkspace,
  needsAccessKey,
  newWorkspaceId,
  type SpecInput,
  toSpecSource,
  toUpstreamAuth,
  type WorkspaceDefinition,
  type WorkspacePatch,
} from './definition';
export { WorkspaceError, type WorkspaceErrorCode } from './errors';
export {
  authSchema,
  configFileSchema,
  WORKSPACE_ID_PATTERN,
  workspaceDefinitionSchema,
  workspacePatchSchema,
} from './schema';
export {
  type CreatedWorkspace,
  checkAuth,
  checkDefinition,
  checkPatch,
  checkToolSelection,
  type ToolListing,
  type ToolListingEntry,
  toolListing,
  WorkspaceService,
} from './service';
export { ALL_TOOLS, disableTools, enableTools, isToolEnabled } from './tool-selection';
export { WorkspaceToolSets } from './tool-sets';
export { formatProblems, type Problem } from './validation';
