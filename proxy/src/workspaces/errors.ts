import type { Problem } from './validation';

/** Why a workspace operation was refused. */
export type WorkspaceErrorCode =
  | 'ERR_WORKSPACE_NOT_FOUND'
  | 'ERR_WORKSPACE_EXISTS'
  | 'ERR_WORKSPACE_INVALID'
  | 'ERR_UNKNOWN_TOOLS';

export class WorkspaceError extends Error {
  override readonly name = 'WorkspaceError';
  readonly code: WorkspaceErrorCode;
  /** For ERR_WORKSPACE_INVALID and ERR_UNKNOWN_TOOLS: each field or tool at fault. */
  readonly problems: Problem[];

  constructor(code: WorkspaceErrorCode, message: string, problems: Problem[] = []) {
    super(message);
    this.code = code;
    this.problems = problems;
  }
}
