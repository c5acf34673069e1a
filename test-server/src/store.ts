/**
 * An in-memory oidc-provider adapter whose records can be listed, so that the control API can
 * revoke every token and grant of one client.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface StoredRecord {
  model: string;
  payload: AdapterPayload;
  expiresAt: number | undefined;
}

/** Token-like models the control API revokes per client. */
const CLIENT_BOUND_MODELS = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'ClientCredentials',
  'Grant',
  'RegistrationAccessToken',
]);

/** All records of one provider, keyed by model and id. */
export class MemoryStore {
  readonly #records = new Map<string, StoredRecord>();
  readonly #now: () => number;
  #writes = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** An adapter class for oidc-provider's `adapter` option, backed by this store. */
  adapterFor(): new (model: string) => Adapter {
    const store = this;
    return class StoreAdapter implements Adapter {
      readonly #model: string;
      constructor(model: string) {
        this.#model = model;
      }
      async upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void> {
        store.put(this.#model, id, payload, expiresIn);
      }
      async find(id: string): Promise<AdapterPayload | undefined> {
        return store.get(this.#model, id);
      }
      async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
        return store.findBy(this.#model, (p) => p.userCode === userCode);
      }
      async findByUid(uid: string): Promise<AdapterPayload | undefined> {
        return store.findBy(this.#model, (p) => p.uid === uid);
      }
      async consume(id: string): Promise<void> {
        const record = store.get(this.#model, id);
        if (record) record.consumed = Math.floor(store.#now() / 1000);
      }
      async destroy(id: string): Promise<void> {
        store.delete(this.#model, id);
      }
      async revokeByGrantId(grantId: string): Promise<void> {
        store.deleteWhere((r) => r.payload.grantId === grantId);
      }
    };
  }

  put(model: string, id: string, payload: AdapterPayload, expiresIn: number): void {
    const expiresAt = expiresIn ? this.#now() + expiresIn * 1000 : undefined;
    this.#records.set(`${model}:${id}`, { model, payload, expiresAt });
    // Records nobody reads again would otherwise stay forever: sweep now and then.
    this.#writes += 1;
    if (this.#writes % 1000 === 0) this.sweep();
  }

  /** Drops expired records; returns how many went. */
  sweep(): number {
    const now = this.#now();
    return this.deleteWhere((r) => r.expiresAt !== undefined && r.expiresAt <= now);
  }

  get(model: string, id: string): AdapterPayload | undefined {
    const record = this.#records.get(`${model}:${id}`);
    if (!record) return undefined;
    if (record.expiresAt !== undefined && record.expiresAt <= this.#now()) {
      this.#records.delete(`${model}:${id}`);
      return undefined;
    }
    return record.payload;
  }

  delete(model: string, id: string): void {
    this.#records.delete(`${model}:${id}`);
  }

  findBy(model: string, match: (p: AdapterPayload) => boolean): AdapterPayload | undefined {
    for (const record of this.#records.values()) {
      if (record.model === model && match(record.payload)) return record.payload;
    }
    return undefined;
  }

  /** Deletes the matching records and says how many there were. */
  deleteWhere(match: (r: StoredRecord) => boolean): number {
    let count = 0;
    for (const [key, record] of this.#records) {
      if (match(record)) {
        this.#records.delete(key);
        count += 1;
      }
    }
    return count;
  }

  /** Revokes every token, code and grant issued to `clientId`; returns how many went. */
  revokeClient(clientId: string): number {
    return this.deleteWhere(
      (r) => CLIENT_BOUND_MODELS.has(r.model) && r.payload.clientId === clientId,
    );
  }
}
