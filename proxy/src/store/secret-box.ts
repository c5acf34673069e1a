/**
 * Secrets at rest: AES-256-GCM with a random 12-byte IV per value, sealed into a versioned string
 * `v1.<iv>.<ciphertext>.<tag>` (base64url parts). An optional context string is bound as
 * additional authenticated data, so a sealed value copied to another field or row won't open.
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors';

const VERSION = 'v1';
const IV_BYTES = 12;
const KEY_BYTES = 32;
const TAG_BYTES = 16;

/** The file a generated key lives in, inside the data dir. */
export const KEY_FILE_NAME = 'encryption.key';

/** Seals and opens secret strings under one 32-byte key. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw new StoreError(
        'ERR_ENCRYPTION_KEY_INVALID',
        `the encryption key must be ${KEY_BYTES} bytes, got ${key.length}`,
      );
    }
    this.#key = Buffer.from(key);
  }

  /** Encrypts `plain`; `context` (e.g. `workspace:abc:auth.token`) must be given again to open it. */
  seal(plain: string, context = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, b64(iv), b64(ciphertext), b64(tag)].join('.');
  }

  /** Decrypts a value made by `seal` with the same context; throws ERR_SECRET_UNREADABLE otherwise. */
  open(sealed: string, context = ''): string {
    const parts = sealed.split('.');
    const [version, ivPart, ctPart, tagPart] = parts;
    if (
      parts.length !== 4 ||
      version !== VERSION ||
      ivPart === undefined ||
      ctPart === undefined ||
      tagPart === undefined
    ) {
      throw new StoreError('ERR_SECRET_UNREADABLE', 'a stored secret is not in a known format');
    }
    const iv = Buffer.from(ivPart, 'base64url');
    const tag = Buffer.from(tagPart, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new StoreError('ERR_SECRET_UNREADABLE', 'a stored secret is not in a known format');
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([
        decipher.update(Buffer.from(ctPart, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new StoreError(
        'ERR_SECRET_UNREADABLE',
        'a stored secret could not be decrypted (wrong encryption key, or the value was altered)',
      );
    }
  }

  /** True when `value` looks like something `seal` produced. */
  static isSealed(value: string): boolean {
    return value.startsWith(`${VERSION}.`) && value.split('.').length === 4;
  }
}

function b64(buffer: Buffer): string {
  return buffer.toString('base64url');
}

/**
 * Parses `PROXY_ENCRYPTION_KEY`: 32 bytes as 64 hex digits or base64/base64url (padding optional).
 * The error never repeats the value.
 */
export function parseEncryptionKey(text: string): Buffer {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(value)) {
    const key = Buffer.from(value.replace(/=+$/, ''), 'base64url');
    if (key.length === KEY_BYTES) return key;
  }
  throw new StoreError(
    'ERR_ENCRYPTION_KEY_INVALID',
    'PROXY_ENCRYPTION_KEY must be 32 random bytes, base64 or hex encoded ' +
      '(generate one with `openssl rand -base64 32`)',
  );
}

/** Where the key came from, for the startup log. */
export type KeySource = 'environment' | 'key file (created)' | 'key file';

/**
 * The store's key: from `encryptionKey` (the environment's value) when given, else from
 * `<dataDir>/encryption.key`, generated with mode 0600 on first use. An existing key file that
 * group or others can read is refused.
 */
export function loadEncryptionKey(
  dataDir: string,
  encryptionKey?: string,
): { key: Buffer; source: KeySource } {
  if (encryptionKey !== undefined && encryptionKey !== '') {
    return { key: parseEncryptionKey(encryptionKey), source: 'environment' };
  }
  const path = join(dataDir, KEY_FILE_NAME);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(KEY_BYTES);
    writeFileSync(path, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    return { key, source: 'key file (created)' };
  }
  if (process.platform !== 'win32') {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new StoreError(
        'ERR_ENCRYPTION_KEY_FILE_PERMISSIONS',
        `the key file ${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); ` +
          `run \`chmod 600 ${path}\` and start again`,
      );
    }
  }
  try {
    return { key: parseEncryptionKey(readFileSync(path, 'utf8')), source: 'key file' };
  } catch (error) {
    if (error instanceof StoreError) {
      throw new StoreError(
        'ERR_ENCRYPTION_KEY_INVALID',
        `the key file ${path} does not hold a 32-byte base64 or hex key`,
      );
    }
    throw error;
  }
}
