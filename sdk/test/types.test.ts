// The SDK's types come from openapi.yaml: calls that break the spec do not
// compile. Each @ts-expect-error below fails `tsc` if the call it marks
// were accepted; the runtime part only checks the file ran.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { MinibackClient, User } from '../src';

// Never called: these exist to be type-checked.
export async function typeChecks(api: MinibackClient): Promise<void> {
  const { data: me } = await api.GET('/v1/me');
  const user: User = me;
  void user.nickname;
  // @ts-expect-error a User has no `session_key` (it never leaves the server)
  void me.session_key;
  // @ts-expect-error no such path
  await api.GET('/v1/nothing');
  // @ts-expect-error GET /v1/auth/wechat is not an operation
  await api.GET('/v1/auth/wechat');
  // @ts-expect-error PATCH /v1/me needs a body
  await api.PATCH('/v1/me');
  // @ts-expect-error ProfilePatch has no `role`
  await api.PATCH('/v1/me', { body: { role: 'admin' } });
  // @ts-expect-error nickname is a string
  await api.PATCH('/v1/me', { body: { nickname: 7 } });
  // @ts-expect-error the login body needs a code
  await api.POST('/v1/auth/wechat', { body: {} });
  const { data: login } = await api.POST('/v1/auth/wechat', { body: { code: 'dev-x' }, auth: false });
  const expires: number = login.expires_in;
  void expires;
  const { data: health } = await api.GET('/healthz');
  const ok: 'ok' = health.status;
  void ok;
}

it('calls that break openapi.yaml do not compile (checked by tsc)', () => {
  assert.equal(typeof typeChecks, 'function');
});
