/**
 * From what a person writes (a workspace definition: config entry, admin body, CLI flags) to the
 * `Workspace` the store keeps: defaults filled in, spec paths made absolute, an id and an access
 * key generated when needed. Secrets shown back to people are masked here too.
 */
import { randomBytes } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { mapAuthSecrets, mapWorkspaceSecrets } from '../store';
import type { SpecSource, ToolSelection, UpstreamAuth, Workspace } from '../types';
import { WorkspaceError } from './errors';
import type { Problem } from './validation';

/** Where the spec comes from, as written: a URL or file path string, or an explicit object. */
export type SpecInput =
  | string
  | { url: string }
  | { file: string }
  | { document: string | Record<string, unknown> };

/** Upstream auth as written: oauth2 fields may be omitted and take defaults. */
export type AuthInput =
  | Exclude<UpstreamAuth, { type: 'oauth2' }>
  | ({ type: 'oauth2' } & Partial<
      Omit<Extract<UpstreamAuth, { type: 'oauth2' }>, 'type' | 'scopes'>
    > & {
        scopes?: string[] | string;
      });

export interface WorkspaceDefinition {
  id?: string;
  name: string;
  spec: SpecInput;
  baseUrl?: string;
  auth?: AuthInput;
  tools?: Partial<ToolSelection>;
  public?: boolean;
  accessKey?: string;
}

export type WorkspacePatch = Partial<Omit<WorkspaceDefinition, 'id'>>;

/** What masked secrets read as in admin API answers and CLI listings. */
export const MASKED_SECRET = '********';

/** A spec input as a `SpecSource`; relative file paths resolve against `baseDir`. */
export function toSpecSource(input: SpecInput, baseDir: string): SpecSource {
  if (typeof input === 'string') {
    return /^https?:\/\//i.test(input)
      ? { kind: 'url', url: input }
      : { kind: 'file', path: absolute(input, baseDir) };
  }
  if ('url' in input) return { kind: 'url', url: input.url };
  if ('file' in input) return { kind: 'file', path: absolute(input.file, baseDir) };
  const text =
    typeof input.document === 'string' ? input.document : JSON.stringify(input.document, null, 2);
  return { kind: 'document', text };
}

function absolute(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** Auth input with defaults: OAuth provider custom, authorization_code, PKCE and state on. */
export function toUpstreamAuth(input: AuthInput | undefined): UpstreamAuth {
  if (input === undefined) return { type: 'none' };
  if (input.type !== 'oauth2') return input;
  const scopes =
    typeof input.scopes === 'string'
      ? input.scopes.split(/\s+/).filter((s) => s !== '')
      : (input.scopes ?? []);
  return {
    ...input,
    provider: input.provider ?? 'custom',
    grant: input.grant ?? 'authorization_code',
    scopes,
    pkce: input.pkce ?? true,
    state: input.state ?? true,
  };
}

/** A new random access key: `mcpk_` and 32 random bytes, a valid RFC 6750 bearer token. */
export function generateAccessKey(): string {
  return `mcpk_${randomBytes(32).toString('base64url')}`;
}

/** An id from a name: a slug and a random suffix (`my-api-3f9k2q`). */
export function newWorkspaceId(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  const suffix = randomBytes(6)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0');
  return slug === '' ? `ws-${suffix}` : `${slug}-${suffix}`;
}

/** True when MCP clients of `workspace` must present its access key. */
export function needsAccessKey(workspace: Pick<Workspace, 'public' | 'auth'>): boolean {
  return !workspace.public && workspace.auth.type !== 'oauth2';
}

/**
 * The workspace a definition describes. With `existing` (same id), what the definition leaves out
 * is kept: its creation time, its tool selection and its access key.
 */
export function buildWorkspace(
  definition: WorkspaceDefinition,
  options: { baseDir: string; existing?: Workspace; now?: Date },
): Workspace {
  const { existing } = options;
  const now = (options.now ?? new Date()).toISOString();
  const workspace: Workspace = {
    id: definition.id ?? existing?.id ?? newWorkspaceId(definition.name),
    name: definition.name,
    spec: toSpecSource(definition.spec, options.baseDir),
    auth: toUpstreamAuth(definition.auth),
    tools: {
      enabled: definition.tools?.enabled ?? existing?.tools.enabled ?? 'all',
      disabled: definition.tools?.disabled ?? existing?.tools.disabled ?? [],
    },
    public: definition.public ?? false,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  if (definition.baseUrl !== undefined) workspace.baseUrl = definition.baseUrl;
  const accessKey = definition.accessKey ?? existing?.accessKey;
  if (accessKey !== undefined) workspace.accessKey = accessKey;
  else if (needsAccessKey(workspace)) workspace.accessKey = generateAccessKey();
  return workspace;
}

/**
 * `current` with `patch` applied. A secret given as MASKED_SECRET keeps the stored value, so a
 * workspace read from the admin API can be edited and sent back as is.
 */
export function applyPatch(
  current: Workspace,
  patch: WorkspacePatch,
  options: { baseDir: string; now?: Date },
): Workspace {
  const next: Workspace = {
    ...current,
    updatedAt: (options.now ?? new Date()).toISOString(),
  };
  if (patch.name !== undefined) next.name = patch.name;
  if (patch.spec !== undefined) next.spec = toSpecSource(patch.spec, options.baseDir);
  if (patch.baseUrl !== undefined) next.baseUrl = patch.baseUrl;
  if (patch.auth !== undefined)
    next.auth = keepMaskedSecrets(toUpstreamAuth(patch.auth), current.auth);
  if (patch.tools !== undefined) {
    next.tools = {
      enabled: patch.tools.enabled ?? current.tools.enabled,
      disabled: patch.tools.disabled ?? current.tools.disabled,
    };
  }
  if (patch.public !== undefined) next.public = patch.public;
  if (patch.accessKey !== undefined && patch.accessKey !== MASKED_SECRET) {
    next.accessKey = patch.accessKey;
  }
  if (next.accessKey === undefined && needsAccessKey(next)) next.accessKey = generateAccessKey();
  return next;
}

/** Replaces MASKED_SECRET values in `auth` with the stored ones of the same field. */
export function keepMaskedSecrets(auth: UpstreamAuth, stored: UpstreamAuth): UpstreamAuth {
  const storedSecrets = new Map<string, string>();
  if (stored.type === auth.type) {
    mapAuthSecrets(stored, (value, field) => {
      storedSecrets.set(field, value);
      return value;
    });
  }
  const problems: Problem[] = [];
  const result = mapAuthSecrets(auth, (value, field) => {
    if (value !== MASKED_SECRET) return value;
    const kept = storedSecrets.get(field);
    if (kept === undefined) {
      problems.push({
        field,
        message: `is "${MASKED_SECRET}" but no value is stored; give the secret`,
      });
      return value;
    }
    return kept;
  });
  if (problems.length > 0) {
    throw new WorkspaceError(
      'ERR_WORKSPACE_INVALID',
      'a masked secret has no stored value',
      problems,
    );
  }
  return result;
}

/** The workspace with every secret replaced by MASKED_SECRET: safe to show and to log. */
export function maskWorkspace(workspace: Workspace): Workspace {
  return mapWorkspaceSecrets(workspace, () => MASKED_SECRET);
}
