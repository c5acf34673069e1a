/**
 * Generated tool sets keyed by spec content hash: a spec version is compiled once, however many
 * workspaces, sessions and requests use it. Concurrent compiles of one hash share one generation.
 */
import type { ToolSet } from '../types';
import { type GenerateOptions, generateTools } from './generate';
import type { LoadedSpec } from './load';

export interface ToolCacheOptions {
  /** Tool sets kept, least recently used dropped first. Default 32. */
  maxEntries?: number;
  /** Options for every generation (spec URL/path and hash come from the LoadedSpec). */
  generate?: Omit<GenerateOptions, 'specHash' | 'specUrl' | 'specPath'>;
}

/** Compiles each spec version (by content hash) once and keeps the result. */
export class ToolCache {
  private readonly entries = new Map<string, ToolSet>();
  private readonly pending = new Map<string, Promise<ToolSet>>();
  private readonly maxEntries: number;
  private readonly generateOptions: ToolCacheOptions['generate'];
  /** How many generations ran (a cache hit runs none). */
  compilations = 0;

  constructor(opts: ToolCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 32;
    this.generateOptions = opts.generate;
  }

  /** The tool set of a spec hash, if compiled. */
  get(hash: string): ToolSet | undefined {
    const hit = this.entries.get(hash);
    if (hit) {
      this.entries.delete(hash);
      this.entries.set(hash, hit);
    }
    return hit;
  }

  /** The tool set of a loaded spec: from the cache, or generated once and cached. */
  compile(loaded: LoadedSpec): Promise<ToolSet> {
    const hit = this.get(loaded.hash);
    if (hit) return Promise.resolve(hit);
    const inFlight = this.pending.get(loaded.hash);
    if (inFlight) return inFlight;
    this.compilations += 1;
    const job = generateTools(loaded.document, {
      ...this.generateOptions,
      specHash: loaded.hash,
      ...(loaded.url ? { specUrl: loaded.url } : {}),
      ...(loaded.path ? { specPath: loaded.path } : {}),
    })
      .then((set) => {
        this.entries.set(loaded.hash, set);
        while (this.entries.size > this.maxEntries) {
          const oldest = this.entries.keys().next().value as string;
          this.entries.delete(oldest);
        }
        return set;
      })
      .finally(() => this.pending.delete(loaded.hash));
    this.pending.set(loaded.hash, job);
    return job;
  }

  /** Forgets one spec version (e.g. a workspace's spec was replaced). */
  delete(hash: string): void {
    this.entries.delete(hash);
  }

  get size(): number {
    return this.entries.size;
  }
}
