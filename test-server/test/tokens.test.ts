import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { test } from 'node:test';
import { generateSigningKeys } from '../src/keys';
import type { Provider } from '../src/provider';
import { createTokenVerifier, InvalidTokenError } from '../src/tokens';

const keys = generateSigningKeys();
const rsa = keys.jwks.keys.find((k) => k.alg === 'RS256');
const ISSUER = 'http://localhost:1';
const AUDIENCE = `${ISSUER}/api`;
const NOW = 1_800_000_000_000;

function sign(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const signer = createSign('sha256');
  signer.update(`${h}.${p}`);
  const key = { key: rsa as object, format: 'jwk' } as Parameters<typeof signer.sign>[0];
  return `${h}.${p}.${signer.sign(key).toString('base64url')}`;
}

const header = { alg: 'RS256', typ: 'at+jwt', kid: rsa?.kid };
const claims = {
  iss: ISSUER,
  aud: AUDIENCE,
  exp: NOW / 1000 + 60,
  scope: 'items:read',
  client_id: 'c',
  sub: 'alice',
};
const verify = createTokenVerifier({
  issuer: ISSUER,
  audience: AUDIENCE,
  keys,
  provider: {} as Provider,
  isRevoked: () => false,
  now: () => NOW,
});

test('a valid RFC 9068 token yields client, subject and scopes', async () => {
  const verified = await verify(sign(header, claims));
  assert.equal(verified.clientId, 'c');
  assert.equal(verified.subject, 'alice');
  assert.deepEqual([...verified.scopes], ['items:read']);
});

test('wrong typ, issuer, audience, expiry, key or signature: invalid_token with the reason', async () => {
  const cases: Array<[string, RegExp]> = [
    [sign({ ...header, typ: 'JWT' }, claims), /not an access token/],
    [sign(header, { ...claims, iss: 'http://evil' }), /issuer/],
    [sign(header, { ...claims, aud: 'http://localhost:1/other' }), /audience/],
    [sign(header, { ...claims, exp: NOW / 1000 }), /expired/],
    [sign({ ...header, kid: 'unknown' }, claims), /not signed by this server/],
    [`${sign(header, claims).slice(0, -4)}AAAA`, /signature/],
  ];
  for (const [token, reason] of cases) {
    await assert.rejects(verify(token), (err: unknown) => {
      assert.ok(err instanceof InvalidTokenError);
      assert.match(err.message, reason);
      return true;
    });
  }
});
