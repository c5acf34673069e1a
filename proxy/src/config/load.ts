/**
 * Reading a config file (JSON or YAML): parse, expand `${ENV}` references, validate against the
 * config schema, and resolve relative paths against the file's directory. Every failure is a
 * ConfigError whose message names the file, the field and what to do.
 */
import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { WorkspaceDefinition } from '../workspaces/definition';
import { configFileSchema } from '../workspaces/schema';
import { formatProblems, type Problem, validator } from '../workspaces/validation';
import { expandEnv } from './env';

export type ConfigErrorCode =
  | 'ERR_CONFIG_NOT_FOUND'
  | 'ERR_CONFIG_SYNTAX'
  | 'ERR_CONFIG_ENV'
  | 'ERR_CONFIG_INVALID';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode;
  readonly file: string;
  readonly problems: Problem[];

  constructor(code: ConfigErrorCode, file: string, message: string, problems: Problem[] = []) {
    super(message);
    this.code = code;
    this.file = file;
    this.problems = problems;
  }
}

export interface ServerSettings {
  port?: number;
  host?: string;
  publicUrl?: string;
  allowedHosts?: string[];
  /** Absolute (resolved against the config file's directory). */
  dataDir?: string;
  /** Let spec URLs point at private address ranges (loopback is always allowed). */
  allowPrivateNetworks?: boolean;
}

export interface ProxyConfig {
  /** The config file, absolute. */
  path: string;
  /** Relative spec files and the data dir resolve against this directory. */
  baseDir: string;
  workspaces: WorkspaceDefinition[];
  server: ServerSettings;
}

interface ConfigFile {
  workspaces: WorkspaceDefinition[];
  server?: ServerSettings;
}

const validateConfigFile = validator<ConfigFile>(configFileSchema);

/** Loads and checks a config file; `env` supplies `${NAME}` values (default `process.env`). */
export function loadConfig(file: string, options: { env?: NodeJS.ProcessEnv } = {}): ProxyConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new ConfigError(
      'ERR_CONFIG_NOT_FOUND',
      path,
      `cannot read config file ${path}: ${reason}`,
    );
  }
  return parseConfig(text, path, options);
}

/** Checks config text as if read from `path` (whose extension picks JSON or YAML). */
export function parseConfig(
  text: string,
  path: string,
  options: { env?: NodeJS.ProcessEnv } = {},
): ProxyConfig {
  const raw = parseText(text, path);
  const expanded = expandEnv(raw, options.env ?? process.env);
  if (expanded.problems.length > 0) {
    throw new ConfigError(
      'ERR_CONFIG_ENV',
      path,
      formatProblems(`${path}: missing environment variables:`, expanded.problems),
      expanded.problems,
    );
  }
  const checked = validateConfigFile(expanded.value);
  if (!checked.ok) {
    const problems = nameWorkspaces(checked.problems, expanded.value);
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      path,
      formatProblems(`${path}: invalid config:`, problems),
      problems,
    );
  }
  const duplicates = duplicateIds(checked.value.workspaces);
  if (duplicates.length > 0) {
    throw new ConfigError(
      'ERR_CONFIG_INVALID',
      path,
      formatProblems(`${path}: invalid config:`, duplicates),
      duplicates,
    );
  }
  const baseDir = dirname(path);
  const server = { ...checked.value.server };
  if (server.dataDir !== undefined) server.dataDir = resolve(baseDir, server.dataDir);
  return { path, baseDir, workspaces: checked.value.workspaces, server };
}

function parseText(text: string, path: string): unknown {
  const extension = extname(path).toLowerCase();
  if (extension === '.json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ConfigError(
        'ERR_CONFIG_SYNTAX',
        path,
        `${path}: not valid JSON: ${(error as Error).message}`,
      );
    }
  }
  const document = parseDocument(text, { prettyErrors: true });
  const [first] = document.errors;
  if (first !== undefined) {
    throw new ConfigError('ERR_CONFIG_SYNTAX', path, `${path}: not valid YAML: ${first.message}`);
  }
  return document.toJS() as unknown;
}

/** `workspaces[2].auth` reads better as `workspaces[2] ("my-api").auth` when the id is known. */
function nameWorkspaces(problems: Problem[], config: unknown): Problem[] {
  const workspaces = (config as { workspaces?: unknown })?.workspaces;
  if (!Array.isArray(workspaces)) return problems;
  return problems.map((problem) => {
    const match = /^workspaces\[(\d+)\]/.exec(problem.field);
    if (match === null) return problem;
    const entry = workspaces[Number(match[1])] as { id?: unknown; name?: unknown } | undefined;
    const label = typeof entry?.id === 'string' ? entry.id : entry?.name;
    if (typeof label !== 'string') return problem;
    return {
      ...problem,
      field: problem.field.replace(match[0], `${match[0]} (${JSON.stringify(label)})`),
    };
  });
}

function duplicateIds(workspaces: WorkspaceDefinition[]): Problem[] {
  const seen = new Map<string, number>();
  const problems: Problem[] = [];
  workspaces.forEach((workspace, index) => {
    if (workspace.id === undefined) return;
    const first = seen.get(workspace.id);
    if (first === undefined) seen.set(workspace.id, index);
    else {
      problems.push({
        field: `workspaces[${index}].id`,
        message: `"${workspace.id}" is already used by workspaces[${first}]; ids must be unique`,
      });
    }
  });
  return problems;
}
