import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger, REDACTED } from '../../src/log';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(String(chunk));
      callback();
    },
  });
  return { stream, text: () => chunks.join('') };
}

test('credentials never reach the log, wherever they sit in a log line', () => {
  const out = capture();
  const logger = createLogger({ destination: out.stream, level: 'debug' });
  const secrets = [
    'tk_bearer-0123456789',
    'ak_apikey-0123456789',
    'cs_client-0123456789',
    'rt_refresh-0123456789',
    'session-cookie-0123456789',
    'access-key-0123456789',
    'hs_header-0123456789',
  ];
  logger.info(
    {
      req: { method: 'POST', url: '/mcp/x', headers: { authorization: `Bearer ${secrets[0]}` } },
      headers: { 'X-Api-Key': secrets[1], cookie: secrets[4] },
      upstream: { response: { access_token: 'at_x', refresh_token: secrets[3] } },
      auth: { type: 'oauth2', clientSecret: secrets[2] },
      workspace: { accessKey: secrets[5], auth: { headers: { 'X-Api-Secret': secrets[6] } } },
    },
    'upstream call',
  );
  logger.warn(`retrying with Authorization: Bearer ${secrets[0]}`);
  logger.error(
    new Error(`token endpoint said no to Basic ${Buffer.from('id:secret').toString('base64')}`),
  );
  logger.warn(
    { url: 'https://bob:pw-0123456789@api.example.com/openapi.json?api_key=qk-0123456789&page=2' },
    'fetch failed for https://bob:pw-0123456789@api.example.com/cb?code=ac-0123456789&state=s',
  );
  secrets.push('pw-0123456789', 'qk-0123456789', 'ac-0123456789');
  const text = out.text();
  for (const secret of secrets) assert.equal(text.includes(secret), false, `${secret} leaked`);
  assert.equal(text.includes(Buffer.from('id:secret').toString('base64')), false);
  assert.ok(text.includes(REDACTED));
  // What is not a credential stays readable.
  assert.ok(text.includes('upstream call'));
  assert.ok(text.includes('"type":"oauth2"'));
  assert.ok(text.includes('/mcp/x'));
  assert.ok(text.includes('api.example.com/openapi.json?api_key=[redacted]&page=2'));
});

test('level silent writes nothing', () => {
  const out = capture();
  createLogger({ destination: out.stream, level: 'silent' }).error('boom');
  assert.equal(out.text(), '');
});
