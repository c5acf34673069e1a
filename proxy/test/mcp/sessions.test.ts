/** The session table alone: bounds, idle expiry on an injected clock, binding. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type McpSession, type SessionEnd, SessionTable } from '../../src/mcp/sessions';

interface FakeSession extends McpSession {
  closed: number;
  open: boolean;
}

function session(id: string, principal = 'p1', workspaceId = 'ws'): FakeSession {
  const s: FakeSession = {
    id,
    workspaceId,
    principal,
    closed: 0,
    open: false,
    busy: () => s.open,
    close: async () => {
      s.closed++;
    },
  };
  return s;
}

function table(options: ConstructorParameters<typeof SessionTable>[0] = {}) {
  const clock = { now: 0 };
  const ended: Array<[string, SessionEnd]> = [];
  const sessions = new SessionTable<FakeSession>(
    { now: () => clock.now, sweepIntervalMs: 0, ...options },
    (s, why) => ended.push([s.id, why]),
  );
  return { sessions, clock, ended };
}

describe('SessionTable', () => {
  test('use() returns a session only to its workspace and principal', () => {
    const { sessions } = table();
    const a = session('a', 'alice', 'ws1');
    sessions.add(a);
    assert.equal(sessions.use('a', 'ws1', 'alice'), a);
    assert.equal(sessions.use('a', 'ws1', 'mallory'), undefined);
    assert.equal(sessions.use('a', 'ws2', 'alice'), undefined);
    assert.equal(sessions.use('nope', 'ws1', 'alice'), undefined);
    assert.equal(a.closed, 0, 'a refused presentation does not end the session');
    assert.equal(sessions.use('a', 'ws1', 'alice'), a);
  });

  test('full: the least recently used session is evicted and closed', () => {
    const { sessions, clock, ended } = table({ maxSessions: 2 });
    const a = session('a');
    const b = session('b');
    const c = session('c');
    sessions.add(a);
    clock.now = 1;
    sessions.add(b);
    clock.now = 2;
    sessions.use('a', 'ws', 'p1');
    clock.now = 3;
    sessions.add(c);
    assert.equal(sessions.size, 2);
    assert.equal(b.closed, 1);
    assert.deepEqual(ended, [['b', 'evicted']]);
    assert.equal(sessions.use('b', 'ws', 'p1'), undefined);
    assert.equal(sessions.use('a', 'ws', 'p1'), a);
    assert.equal(sessions.use('c', 'ws', 'p1'), c);
  });

  test('one principal over its bound evicts its own oldest session, not others', () => {
    const { sessions } = table({ maxSessions: 10, maxSessionsPerPrincipal: 2 });
    const other = session('other', 'bob');
    const m1 = session('m1', 'mallory');
    const m2 = session('m2', 'mallory');
    const m3 = session('m3', 'mallory');
    for (const s of [other, m1, m2, m3]) sessions.add(s);
    assert.equal(m1.closed, 1);
    assert.equal(other.closed, 0);
    assert.equal(sessions.size, 3);
  });

  test('idle sessions expire: on use, on add and on sweep', () => {
    const { sessions, clock, ended } = table({ idleTimeoutMs: 1000 });
    const a = session('a');
    const b = session('b');
    sessions.add(a);
    sessions.add(b);
    clock.now = 999;
    assert.equal(sessions.use('b', 'ws', 'p1'), b);
    clock.now = 1000;
    assert.equal(sessions.use('a', 'ws', 'p1'), undefined, 'a expired');
    assert.equal(a.closed, 1);
    clock.now = 1998;
    sessions.sweep();
    assert.equal(sessions.size, 1, 'b was used at 999');
    clock.now = 2000;
    sessions.add(session('c'));
    assert.equal(b.closed, 1);
    assert.deepEqual(ended, [
      ['a', 'expired'],
      ['b', 'expired'],
    ]);
  });

  test('a busy session is neither expired nor evicted while an idle one can go', () => {
    const { sessions, clock } = table({ maxSessions: 2, idleTimeoutMs: 1000 });
    const streaming = session('streaming');
    const quiet = session('quiet');
    streaming.open = true;
    sessions.add(streaming);
    clock.now = 1;
    sessions.add(quiet);
    sessions.add(session('new'));
    assert.equal(quiet.closed, 1, 'the idle session went, though more recent');
    assert.equal(streaming.closed, 0);
    clock.now = 5000;
    sessions.sweep();
    assert.equal(streaming.closed, 0, 'busy: not expired');
    assert.equal(sessions.use('streaming', 'ws', 'p1'), streaming);
    streaming.open = false;
    clock.now = 6000;
    assert.equal(sessions.use('streaming', 'ws', 'p1'), undefined, 'idle again, then expired');
    assert.equal(streaming.closed, 1);
  });

  test('when every session is busy, the bound still holds', () => {
    const { sessions } = table({ maxSessions: 1 });
    const a = session('a');
    a.open = true;
    sessions.add(a);
    sessions.add(session('b'));
    assert.equal(a.closed, 1);
    assert.equal(sessions.size, 1);
  });

  test('remove() forgets without closing; closeAll() closes the rest', async () => {
    const { sessions } = table({ maxSessionsPerPrincipal: 1 });
    const a = session('a');
    sessions.add(a);
    sessions.remove('a');
    assert.equal(a.closed, 0);
    const b = session('b');
    sessions.add(b);
    assert.equal(b.closed, 0, 'the removed session no longer counts for its principal');
    await sessions.closeAll();
    assert.equal(b.closed, 1);
    assert.equal(sessions.size, 0);
  });

  test('bounds must be positive', () => {
    assert.throws(() => table({ maxSessions: 0 }), {
      name: 'TypeError',
      code: 'ERR_INVALID_ARG_VALUE',
      message: 'maxSessions must be a positive number',
    });
  });
});
