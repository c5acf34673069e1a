/**
 * A workspace's compiled tools. The spec is read once per source (a URL is fetched once, not per
 * request) and compiled once per content hash by openapi's ToolCache; a failed read is not kept,
 * so the next request tries again.
 */
import { createHash } from 'node:crypto';
import { type FetchLimits, type LoadedSpec, loadSpec, ToolCache } from '../openapi';
import type { SpecSource, ToolSet, Workspace } from '../types';

export interface ToolSetsOptions {
  cache?: ToolCache;
  /** Limits for fetching spec URLs and remote `$ref`s. */
  fetchLimits?: FetchLimits;
}

export class WorkspaceToolSets {
  readonly cache: ToolCache;
  readonly #fetchLimits: FetchLimits;
  readonly #loaded = new Map<string, Promise<LoadedSpec>>();

  constructor(options: ToolSetsOptions = {}) {
    this.#fetchLimits = options.fetchLimits ?? {};
    this.cache = options.cache ?? new ToolCache({ generate: { fetchLimits: this.#fetchLimits } });
  }

  /** The tools of `workspace`'s spec, compiled once per spec version. */
  get(workspace: Pick<Workspace, 'spec'>): Promise<ToolSet> {
    return this.#load(workspace.spec).then((loaded) => this.cache.compile(loaded));
  }

  /** Reads the spec again (e.g. the URL now serves a new version) and compiles it. */
  refresh(workspace: Pick<Workspace, 'spec'>): Promise<ToolSet> {
    this.#loaded.delete(sourceKey(workspace.spec));
    return this.get(workspace);
  }

  #load(source: SpecSource): Promise<LoadedSpec> {
    const key = sourceKey(source);
    const hit = this.#loaded.get(key);
    if (hit !== undefined) return hit;
    const job = loadSpec(source, this.#fetchLimits);
    this.#loaded.set(key, job);
    job.catch(() => {
      if (this.#loaded.get(key) === job) this.#loaded.delete(key);
    });
    return job;
  }
}

function sourceKey(source: SpecSource): string {
  switch (source.kind) {
    case 'url':
      return `url:${source.url}`;
    case 'file':
      return `file:${source.path}`;
    case 'document':
      return `document:${createHash('sha256').update(source.text).digest('hex')}`;
  }
}
