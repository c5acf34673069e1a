/**
 * Everything people do to workspaces, whichever way they come in (admin API, CLI, config file):
 * create, change, delete, set the spec and the auth, list and select tools. Inputs arrive
 * already checked (see `check…` below); the store keeps the result.
 */
import { type ProxyStore, StoreError } from '../store';
import type { SkippedOperation, SpecSource, ToolSelection, ToolSet, Workspace } from '../types';
import {
  type AuthInput,
  applyPatch,
  buildWorkspace,
  generateAccessKey,
  keepMaskedSecrets,
  needsAccessKey,
  toUpstreamAuth,
  type WorkspaceDefinition,
  type WorkspacePatch,
} from './definition';
import { WorkspaceError } from './errors';
import {
  authSchema,
  toolSelectionSchema,
  workspaceDefinitionSchema,
  workspacePatchSchema,
} from './schema';
import { ALL_TOOLS, disableTools, enableTools, isToolEnabled } from './tool-selection';
import type { WorkspaceToolSets } from './tool-sets';
import { type Validated, validator } from './validation';

/** One generated tool as listings show it. */
export interface ToolListingEntry {
  name: string;
  title?: string;
  description: string;
  method: string;
  path: string;
  enabled: boolean;
}

/** What a workspace's spec yields and which tools are on. */
export interface ToolListing {
  workspace: string;
  specHash: string;
  title: string;
  version: string;
  baseUrl?: string;
  tools: ToolListingEntry[];
  skipped: SkippedOperation[];
  notes: string[];
}

export interface WorkspaceServiceOptions {
  store: ProxyStore;
  toolSets: WorkspaceToolSets;
  now?: () => Date;
}

/** The result of creating a workspace; `accessKey` is set only when it was generated now. */
export interface CreatedWorkspace {
  workspace: Workspace;
  generatedAccessKey?: string;
}

export class WorkspaceService {
  readonly #store: ProxyStore;
  readonly #toolSets: WorkspaceToolSets;
  readonly #now: () => Date;

  constructor(options: WorkspaceServiceOptions) {
    this.#store = options.store;
    this.#toolSets = options.toolSets;
    this.#now = options.now ?? (() => new Date());
  }

  list(): Workspace[] {
    return this.#store.workspaces.list();
  }

  find(id: string): Workspace | undefined {
    return this.#store.workspaces.get(id);
  }

  /** The workspace `id`; ERR_WORKSPACE_NOT_FOUND when there is none. */
  get(id: string): Workspace {
    const workspace = this.find(id);
    if (workspace === undefined) throw notFound(id);
    return workspace;
  }

  /** Creates a workspace; relative spec paths resolve against `baseDir`. */
  create(definition: WorkspaceDefinition, baseDir: string): CreatedWorkspace {
    const workspace = buildWorkspace(definition, { baseDir, now: this.#now() });
    try {
      this.#store.workspaces.create(workspace);
    } catch (error) {
      throw translate(error);
    }
    return definition.accessKey === undefined && workspace.accessKey !== undefined
      ? { workspace, generatedAccessKey: workspace.accessKey }
      : { workspace };
  }

  /**
   * Creates a workspace only once its spec loads and compiles: a typo in a path or URL is a
   * SpecError now, not a broken workspace found on the first MCP request.
   */
  async createChecked(definition: WorkspaceDefinition, baseDir: string): Promise<CreatedWorkspace> {
    await this.#toolSets.refresh(buildWorkspace(definition, { baseDir, now: this.#now() }));
    return this.create(definition, baseDir);
  }

  /**
   * Creates or replaces a workspace from a config file. What the file leaves out (tool selection,
   * access key) keeps its stored value; an unchanged definition writes nothing.
   */
  upsert(
    definition: WorkspaceDefinition & { id: string },
    baseDir: string,
  ): CreatedWorkspace & { change: 'created' | 'updated' | 'unchanged' } {
    const existing = this.find(definition.id);
    const workspace = buildWorkspace(definition, { baseDir, existing, now: this.#now() });
    if (existing === undefined) {
      this.#store.workspaces.create(workspace);
      return {
        workspace,
        change: 'created',
        ...(definition.accessKey === undefined && workspace.accessKey !== undefined
          ? { generatedAccessKey: workspace.accessKey }
          : {}),
      };
    }
    if (sameContent(existing, workspace)) return { workspace: existing, change: 'unchanged' };
    this.#store.workspaces.update(workspace);
    return {
      workspace,
      change: 'updated',
      ...(existing.accessKey === undefined &&
      workspace.accessKey !== undefined &&
      definition.accessKey === undefined
        ? { generatedAccessKey: workspace.accessKey }
        : {}),
    };
  }

  /** Applies a partial change. */
  update(id: string, patch: WorkspacePatch, baseDir: string): Workspace {
    return this.#modify(id, (current) => applyPatch(current, patch, { baseDir, now: this.#now() }));
  }

  /** Deletes a workspace; ERR_WORKSPACE_NOT_FOUND when there is none. */
  delete(id: string): void {
    if (!this.#store.workspaces.delete(id)) throw notFound(id);
  }

  /** Replaces the upstream auth (masked secrets keep their stored values). */
  setAuth(id: string, auth: AuthInput): Workspace {
    return this.#modify(id, (current) => {
      const next: Workspace = {
        ...current,
        auth: keepMaskedSecrets(toUpstreamAuth(auth), current.auth),
        updatedAt: this.#now().toISOString(),
      };
      if (next.accessKey === undefined && needsAccessKey(next))
        next.accessKey = generateAccessKey();
      return next;
    });
  }

  /**
   * Replaces the spec after compiling it, so an unusable spec is refused (its SpecError, with the
   * JSON pointer, propagates) and the workspace keeps the one it had.
   */
  async setSpec(id: string, spec: SpecSource): Promise<{ workspace: Workspace; toolSet: ToolSet }> {
    this.get(id);
    const toolSet = await this.#toolSets.refresh({ spec });
    const workspace = this.#modify(id, (current) => ({
      ...current,
      spec,
      updatedAt: this.#now().toISOString(),
    }));
    return { workspace, toolSet };
  }

  /** The tools the workspace's spec yields, which are enabled, and the skipped operations. */
  async listTools(id: string): Promise<ToolListing> {
    const workspace = this.get(id);
    const toolSet = await this.#toolSets.get(workspace);
    return toolListing(workspace, toolSet);
  }

  /** Replaces the tool selection; names not in the spec are refused. */
  async setTools(id: string, selection: Partial<ToolSelection>): Promise<Workspace> {
    const names = [
      ...(selection.enabled === 'all' || selection.enabled === undefined ? [] : selection.enabled),
      ...(selection.disabled ?? []),
    ];
    await this.#checkToolNames(id, names);
    return this.#modify(id, (current) => ({
      ...current,
      tools: {
        enabled: selection.enabled ?? current.tools.enabled,
        disabled: selection.disabled ?? current.tools.disabled,
      },
      updatedAt: this.#now().toISOString(),
    }));
  }

  /** Turns tools on; `'all'` turns every tool on. */
  async enableTools(id: string, names: string[] | 'all'): Promise<Workspace> {
    if (names !== 'all') await this.#checkToolNames(id, names);
    return this.#modify(id, (current) => ({
      ...current,
      tools: names === 'all' ? { ...ALL_TOOLS, disabled: [] } : enableTools(current.tools, names),
      updatedAt: this.#now().toISOString(),
    }));
  }

  /** Turns tools off. */
  async disableTools(id: string, names: string[]): Promise<Workspace> {
    await this.#checkToolNames(id, names);
    return this.#modify(id, (current) => ({
      ...current,
      tools: disableTools(current.tools, names),
      updatedAt: this.#now().toISOString(),
    }));
  }

  /** Replaces the access key with a new random one and returns it. */
  rotateAccessKey(id: string): { workspace: Workspace; accessKey: string } {
    const accessKey = generateAccessKey();
    const workspace = this.#modify(id, (current) => ({
      ...current,
      accessKey,
      updatedAt: this.#now().toISOString(),
    }));
    return { workspace, accessKey };
  }

  async #checkToolNames(id: string, names: string[]): Promise<void> {
    if (names.length === 0) return;
    const toolSet = await this.#toolSets.get(this.get(id));
    const known = new Set(toolSet.tools.map((t) => t.name));
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0) {
      throw new WorkspaceError(
        'ERR_UNKNOWN_TOOLS',
        `workspace "${id}" has no tool named ${unknown.map((n) => `"${n}"`).join(', ')}; ` +
          `its tools are ${[...known].join(', ') || '(none)'}`,
        unknown.map((name) => ({ field: name, message: 'is not a tool of this workspace' })),
      );
    }
  }

  #modify(id: string, change: (current: Workspace) => Workspace): Workspace {
    try {
      return this.#store.workspaces.modify(id, change);
    } catch (error) {
      throw translate(error);
    }
  }
}

/** A listing of `toolSet` with the workspace's selection applied. */
export function toolListing(workspace: Workspace, toolSet: ToolSet): ToolListing {
  const baseUrl = workspace.baseUrl ?? toolSet.baseUrl;
  return {
    workspace: workspace.id,
    specHash: toolSet.specHash,
    title: toolSet.title,
    version: toolSet.version,
    ...(baseUrl === undefined ? {} : { baseUrl }),
    tools: toolSet.tools.map((tool) => ({
      name: tool.name,
      ...(tool.title === undefined ? {} : { title: tool.title }),
      description: tool.description,
      method: tool.binding.method,
      path: tool.binding.path,
      enabled: isToolEnabled(workspace.tools, tool.name),
    })),
    skipped: toolSet.skipped,
    notes: toolSet.notes,
  };
}

function sameContent(a: Workspace, b: Workspace): boolean {
  const strip = ({ createdAt: _c, updatedAt: _u, ...rest }: Workspace) => rest;
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

function notFound(id: string): WorkspaceError {
  return new WorkspaceError('ERR_WORKSPACE_NOT_FOUND', `workspace "${id}" does not exist`);
}

function translate(error: unknown): unknown {
  if (error instanceof StoreError) {
    if (error.code === 'ERR_WORKSPACE_EXISTS') {
      return new WorkspaceError('ERR_WORKSPACE_EXISTS', error.message);
    }
    if (error.code === 'ERR_WORKSPACE_NOT_FOUND') {
      return new WorkspaceError('ERR_WORKSPACE_NOT_FOUND', error.message);
    }
  }
  return error;
}

function checker<T>(schema: Parameters<typeof validator>[0], what: string) {
  const validate = validator<T>(schema);
  return (input: unknown, base = ''): T => {
    const result: Validated<T> = validate(input, base);
    if (result.ok) return result.value;
    throw new WorkspaceError('ERR_WORKSPACE_INVALID', `invalid ${what}`, result.problems);
  };
}

/** Checks a workspace definition (admin create body, CLI input); ERR_WORKSPACE_INVALID lists each field. */
export const checkDefinition = checker<WorkspaceDefinition>(workspaceDefinitionSchema, 'workspace');
/** Checks a partial change of a workspace. */
export const checkPatch = checker<WorkspacePatch>(workspacePatchSchema, 'workspace change');
/** Checks an upstream auth value. */
export const checkAuth = checker<AuthInput>(authSchema, 'auth');
/** Checks a tool selection. */
export const checkToolSelection = checker<Partial<ToolSelection>>(
  toolSelectionSchema,
  'tool selection',
);
