// The checker every SDK and sample test relies on must catch responses
// that break the spec; here it is fed answers miniback would never give.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Spec } from './support/contract';

const spec = new Spec();
const json = { 'content-type': 'application/json' };
const user = {
  id: '0b7e6a36-2f4b-4c55-9a56-8d1f2b7c9e01',
  nickname: 'a',
  avatar_url: '',
  bio: '',
  role: 'user',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
};
const problem = (status: number, code: string, requestId = 'req-1') => ({
  status,
  headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId },
  body: JSON.stringify({ type: `https://miniback.dev/problems/${code}`, title: 't', status, code, request_id: requestId }),
});

describe('the contract checker', () => {
  const getMe = spec.route('GET', '/v1/me');

  it('finds operations by method and path', () => {
    assert.equal(getMe?.operationId, 'getMe');
    assert.equal(spec.route('PATCH', '/v1/me')?.operationId, 'updateMe');
    assert.equal(spec.route('GET', '/v1/nothing'), undefined);
    assert.deepEqual(new Set(spec.operationIds()).size, spec.operationIds().length, 'operationIds are unique');
  });

  it('accepts a conforming answer', () => {
    assert.deepEqual(spec.check(getMe, { status: 200, headers: json, body: JSON.stringify(user) }), []);
    assert.deepEqual(spec.check(getMe, problem(401, 'token_missing')), []);
  });

  it('refuses an undeclared status', () => {
    const msgs = spec.check(getMe, { status: 201, headers: json, body: JSON.stringify(user) });
    assert.match(msgs.join('\n'), /status 201 is not declared/);
  });

  it('refuses a body that breaks the schema: missing, extra, mistyped or misformatted fields', () => {
    const cases: Record<string, unknown>[] = [
      { ...user, bio: undefined },
      { ...user, session_key: 'leaked' },
      { ...user, role: 'root' },
      { ...user, nickname: 7 },
      { ...user, id: 'not-a-uuid' },
      { ...user, created_at: 'yesterday' },
    ];
    for (const body of cases) {
      const msgs = spec.check(getMe, { status: 200, headers: json, body: JSON.stringify(body) });
      assert.notDeepEqual(msgs, [], `should refuse ${JSON.stringify(body)}`);
    }
  });

  it('refuses an undeclared content type and a non-JSON body', () => {
    assert.match(spec.check(getMe, { status: 200, headers: { 'content-type': 'text/plain' }, body: 'hi' }).join('\n'), /content type "text\/plain" is not declared/);
    assert.match(spec.check(getMe, { status: 200, headers: json, body: '{' }).join('\n'), /not JSON/);
  });

  it('refuses problems that disagree with their response or lack the problem content type', () => {
    const p = problem(401, 'token_missing');
    assert.match(spec.check(getMe, { ...p, status: 404 }).join('\n'), /problem status 401 differs from HTTP 404/);
    assert.match(spec.check(getMe, { ...p, headers: { ...p.headers, 'x-request-id': 'other' } }).join('\n'), /request_id/);
    assert.match(spec.check(getMe, { ...p, headers: { ...json, 'x-request-id': 'req-1' } }).join('\n'), /content type "application\/json" is not declared|must have an application\/problem\+json body/);
    const wrongType = { ...p, body: p.body.replace('problems/token_missing', 'problems/other') };
    assert.match(spec.check(getMe, wrongType).join('\n'), /problem type/);
  });

  it('checks declared headers: Retry-After must be a non-negative integer', () => {
    const login = spec.route('POST', '/v1/auth/wechat');
    const p = problem(429, 'wechat_rate_limited');
    assert.deepEqual(spec.check(login, { ...p, headers: { ...p.headers, 'retry-after': '60' } }), []);
    assert.match(spec.check(login, { ...p, headers: { ...p.headers, 'retry-after': 'soon' } }).join('\n'), /Retry-After/);
  });

  it('outside the spec, an error must still be a problem document', () => {
    assert.deepEqual(spec.check(undefined, problem(404, 'not_found')), []);
    assert.notDeepEqual(spec.check(undefined, { status: 404, headers: { 'content-type': 'text/html' }, body: '<h1>404</h1>' }), []);
  });
});
