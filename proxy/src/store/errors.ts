/** Failures of the proxy's store: a bad key, a key file others can read, a value that won't open. */
export type StoreErrorCode =
  | 'ERR_ENCRYPTION_KEY_INVALID'
  | 'ERR_ENCRYPTION_KEY_FILE_PERMISSIONS'
  | 'ERR_ENCRYPTION_KEY_MISMATCH'
  | 'ERR_SECRET_UNREADABLE'
  | 'ERR_WORKSPACE_EXISTS'
  | 'ERR_WORKSPACE_NOT_FOUND';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
