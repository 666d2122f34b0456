// WeChat open data through the SDK against the real miniback on embedded
// defaults: the WeChat simulator plays the WeChat client, handing out data
// sealed with the session_key it issued last (GET /wechatsim/open-data), so
// the test never sees a key. The cases are the classic failure (a wx.login
// the server never saw replaced the key) and the SDK's cure: one new login,
// one retry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiProblem, isApiProblem, isWeChatSessionStale, type GroupEnterInfo, type WeRunData, type WxOpenData } from '../src';
import { nodeClient, simulatorUrl, uniqueName } from './support/env';

// The simulator's app and secret on embedded defaults (wechatsim.DefaultAppID, DefaultSecret).
const APPID = 'wxd0d0d0d0d0d0d0d0';
const SECRET = 'wechatsim-dev-secret';

async function problem(p: Promise<unknown>): Promise<ApiProblem> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiProblem(e), `want an ApiProblem, got ${String(e)}`);
    return e;
  }
  assert.fail('want the call to fail with an ApiProblem');
}

/** What wx.<api> hands the mini-program of the user of dev-<name> now. */
async function wxOpenData(name: string, api = 'getWeRunData'): Promise<WxOpenData> {
  const q = new URLSearchParams({ appid: APPID, name, api });
  const res = await fetch(`${simulatorUrl()}/wechatsim/open-data?${q}`);
  assert.equal(res.status, 200, `simulator open data: ${await res.clone().text()}`);
  return (await res.json()) as WxOpenData;
}

/**
 * A wx.login whose code never reached miniback: WeChat replaces the
 * user's session_key, the server keeps the old one.
 */
async function wxLoginElsewhere(name: string): Promise<void> {
  const q = new URLSearchParams({ appid: APPID, secret: SECRET, js_code: `dev-${name}`, grant_type: 'authorization_code' });
  const res = await fetch(`${simulatorUrl()}/sns/jscode2session?${q}`);
  const body = (await res.json()) as { openid?: string };
  assert.ok(body.openid, 'the simulator refused the login');
}

/** A client of dev-<name> (or keep-<name>) that counts its login codes. */
function countingClient(name: string, prefix: 'dev' | 'keep' = 'dev') {
  const counter = { codes: 0 };
  const client = nodeClient(name, {
    loginCode: async () => {
      counter.codes++;
      return `${prefix}-${name}`;
    },
  });
  return { client, counter };
}

describe('WeChat open data (decryptWeChatData)', () => {
  it('opens WeRun data and group info as WeChat handed them over', async () => {
    const name = uniqueName();
    const { client } = countingClient(name);
    await client.login();

    const run = await client.wechatData<WeRunData>(() => wxOpenData(name));
    assert.equal(run.data.stepInfoList.length, 31);
    assert.equal(run.watermark.appid, APPID);
    assert.equal(run.data.watermark.timestamp, run.watermark.timestamp);

    const group = await client.wechatData<GroupEnterInfo>(await wxOpenData(name, 'getGroupEnterInfo'));
    assert.match(group.data.opengid ?? '', /^tG/);
  });

  it('passes a signed profile on through the typed POST, raw_data and signature included', async () => {
    const name = uniqueName();
    const { client } = countingClient(name);
    await client.login();
    const d = await wxOpenData(name, 'getUserProfile');
    const { data, status } = await client.POST('/v1/me/wechat-data', {
      body: { encrypted_data: d.encryptedData, iv: d.iv, raw_data: d.rawData, signature: d.signature },
    });
    assert.equal(status, 200);
    assert.equal(data.data.nickName, '微信用户');

    const forged = await problem(
      client.POST('/v1/me/wechat-data', {
        body: { encrypted_data: d.encryptedData, iv: d.iv, raw_data: d.rawData?.replace('微信用户', 'admin'), signature: d.signature },
      }),
    );
    assert.equal(forged.status, 422);
    assert.equal(forged.code, 'wechat_signature_invalid');
  });

  it('after a login elsewhere replaced the key, logs in again by itself and retries once with the data fetched again', async () => {
    const name = uniqueName();
    const { client, counter } = countingClient(name);
    await client.login();
    const stale = await wxOpenData(name); // sealed with the key of this login
    await nodeClient(name).login(); // the same user on another device: miniback stores a new key

    let fetched = 0;
    const run = await client.wechatData<WeRunData>(async () => (fetched++ === 0 ? stale : wxOpenData(name)));
    assert.equal(run.data.stepInfoList.length, 31);
    assert.equal(counter.codes, 2, 'one login of its own, then exactly one more');
    assert.equal(fetched, 2, 'the data was fetched again after the new login');
  });

  it('after a wx.login miniback never saw, one new login and a retry with the same data succeed when WeChat kept the key', async () => {
    const name = uniqueName();
    const { client, counter } = countingClient(name, 'keep'); // WeChat keeps the key across these logins
    await client.login();
    await wxLoginElsewhere(name); // WeChat has a new key; miniback still the old one
    const d = await wxOpenData(name);
    const opened = await client.wechatData<WeRunData>(d);
    assert.equal(opened.data.stepInfoList.length, 31);
    assert.equal(counter.codes, 2);

    // The typed POST cures it the same way.
    await wxLoginElsewhere(name);
    const again = await wxOpenData(name);
    const { status } = await client.POST('/v1/me/wechat-data', { body: { encrypted_data: again.encryptedData, iv: again.iv } });
    assert.equal(status, 200);
    assert.equal(counter.codes, 3);
  });

  it('retries only once: data no login can open ends in wechat_session_stale', async () => {
    const name = uniqueName();
    const { client, counter } = countingClient(name);
    await client.login();
    const stale = await wxOpenData(name);
    await nodeClient(name).login();

    const p = await problem(client.wechatData(stale)); // the same data again after the new login: still the old key
    assert.ok(isWeChatSessionStale(p));
    assert.equal(p.status, 409);
    assert.match(p.detail ?? '', /wx\.login/);
    assert.equal(counter.codes, 2, 'exactly one login to cure it');

    const typed = await problem(client.POST('/v1/me/wechat-data', { body: { encrypted_data: stale.encryptedData, iv: stale.iv } }));
    assert.equal(typed.code, 'wechat_session_stale');
    assert.equal(counter.codes, 3);
  });

  it('other refusals are thrown at once, with no new login', async () => {
    const name = uniqueName();
    await nodeClient(name).login();
    const d = await wxOpenData(name);

    const { client, counter } = countingClient(name);
    const account = uniqueName('u').replace(/-/g, '');
    await client.register({ username: account, email: `${account}@example.com`, password: 'a long and unusual passphrase 42' });
    const password = await problem(client.wechatData(d));
    assert.equal(password.status, 403);
    assert.equal(password.code, 'wechat_login_required');

    await client.login();
    const bad = await problem(client.wechatData({ encryptedData: d.encryptedData, iv: 'AAAAAAAAAAAAAAAAAAAA' }));
    assert.equal(bad.status, 400);
    assert.equal(bad.fieldError('iv')?.code, 'invalid_length');
    assert.equal(counter.codes, 1, 'only the explicit login');
  });
});
