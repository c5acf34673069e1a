import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatEvent, Recorder } from '../src/recorder';

test('grant counters split ok and errors; error codes are counted', () => {
  const recorder = new Recorder({ now: () => new Date('2026-01-01T00:00:00Z') });
  recorder.hit('token');
  recorder.record({
    kind: 'token',
    method: 'POST',
    path: '/auth/token',
    status: 200,
    grant_type: 'refresh_token',
  });
  recorder.record({
    kind: 'token',
    method: 'POST',
    path: '/auth/token',
    status: 400,
    grant_type: 'refresh_token',
    error: 'invalid_grant',
  });
  assert.deepEqual(recorder.counters(), {
    endpoints: { token: 1 },
    grants: { refresh_token: { requests: 2, ok: 1, errors: 1 } },
    errors: { invalid_grant: 1 },
  });
  assert.deepEqual(
    recorder.events(1).map((e) => [e.seq, e.at]),
    [[2, '2026-01-01T00:00:00.000Z']],
  );
});

test('reset clears everything but keeps sequence numbers growing', () => {
  const recorder = new Recorder();
  recorder.record({ kind: 'api', method: 'GET', path: '/api/items', status: 200 });
  recorder.reset();
  assert.deepEqual(recorder.events(), []);
  assert.equal(
    recorder.record({ kind: 'api', method: 'GET', path: '/api/items', status: 200 }).seq,
    2,
  );
});

test('the log line shows outcome, grant, client and error, never a token', () => {
  const lines: string[] = [];
  const recorder = new Recorder({ onRecord: (e) => lines.push(formatEvent(e)) });
  recorder.record({
    kind: 'token',
    method: 'POST',
    path: '/auth/token',
    status: 400,
    grant_type: 'refresh_token',
    client_id: 'c1',
    error: 'invalid_grant',
    refresh_token_sha256: 'ab'.repeat(32),
    refresh_token_reused: true,
  });
  assert.match(
    lines[0] ?? '',
    /POST +\/auth\/token → 400 grant=refresh_token client=c1 error=invalid_grant refresh_token_reused$/,
  );
  assert.doesNotMatch(lines[0] ?? '', /abab/);
});
