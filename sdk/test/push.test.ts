// Message push (消息推送) against the real miniback on embedded defaults:
// WeChat's servers, not the mini-program, call these operations, so the
// test plays WeChat — it signs (and encrypts) with Node's crypto and the
// simulator app's development Token and EncodingAESKey — and checks every
// answer against openapi.yaml. The typed client makes the URL check; the
// deliveries go through the validating transport, as WeChat's raw bodies.
import assert from 'node:assert/strict';
import { createCipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createClient, isApiProblem, memoryTokenStore } from '../src';
import { baseUrl, nodeClient, nodeTransport, uniqueName } from './support/env';

// The simulator's app and its development push settings
// (wechatsim.DefaultAppID, DefaultPushToken, DefaultEncodingAESKey).
const APPID = 'wxd0d0d0d0d0d0d0d0';
const TOKEN = 'wechatsimDevPushToken';
const AES_KEY = 'wechatsimDevEncodingAESKey0123456789abcdefg';

/** WeChat's signature: hex(sha1(the parts sorted and concatenated)). */
function signature(...parts: string[]): string {
  return createHash('sha1').update([...parts].sort().join('')).digest('hex');
}

/** WeChat's Encrypt: AES-256-CBC of random(16) + length + message + AppID, PKCS#7 to 32 bytes. */
function encrypt(message: string, appid = APPID): string {
  const key = Buffer.from(AES_KEY + '=', 'base64');
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  let plain = Buffer.concat([randomBytes(16), len, msg, Buffer.from(appid)]);
  const pad = 32 - (plain.length % 32);
  plain = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

/** The openid the simulator gives dev-<name> in APPID. */
function simOpenID(name: string): string {
  return 'o' + createHmac('sha256', APPID).update(name).digest('base64url').slice(0, 27);
}

function signedQuery(extra: Record<string, string> = {}): URLSearchParams {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const nonce = String(Math.floor(Math.random() * 1e9));
  return new URLSearchParams({ signature: signature(TOKEN, timestamp, nonce), timestamp, nonce, ...extra });
}

async function deliver(query: URLSearchParams, body: string, contentType = 'application/json') {
  return nodeTransport().request({
    method: 'POST',
    url: `${baseUrl()}/v1/wechat/push/${APPID}?${query.toString()}`,
    headers: { 'Content-Type': contentType },
    body,
  });
}

/** A delivery in safe mode (安全模式): msg_signature over the ciphertext. */
async function deliverEncrypted(message: string, format: 'json' | 'xml' = 'json') {
  const enc = encrypt(message);
  const q = signedQuery();
  q.set('encrypt_type', 'aes');
  q.set('msg_signature', signature(TOKEN, q.get('timestamp')!, q.get('nonce')!, enc));
  const body =
    format === 'json'
      ? JSON.stringify({ ToUserName: 'gh_d0d0d0d0d0d0', Encrypt: enc })
      : `<xml><ToUserName><![CDATA[gh_d0d0d0d0d0d0]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt></xml>`;
  return deliver(q, body, format === 'json' ? 'application/json' : 'text/xml');
}

describe('message push (verifyWeChatPushURL, receiveWeChatPush)', () => {
  it('answers WeChat’s URL check with echostr when signed with the Token', async () => {
    const api = createClient({ baseUrl: baseUrl(), transport: nodeTransport(), tokens: memoryTokenStore() });
    const q = signedQuery();
    const res = await api.GET('/v1/wechat/push/{appid}', {
      path: { appid: APPID },
      query: { signature: q.get('signature')!, timestamp: q.get('timestamp')!, nonce: q.get('nonce')!, echostr: '4375120948345356249' },
      auth: false,
    });
    assert.equal(res.status, 200);
    assert.equal(res.data, '4375120948345356249');

    await assert.rejects(
      api.GET('/v1/wechat/push/{appid}', {
        path: { appid: APPID },
        query: { signature: signature('another-token', q.get('timestamp')!, q.get('nonce')!), timestamp: q.get('timestamp')!, nonce: q.get('nonce')!, echostr: '1' },
        auth: false,
      }),
      (e: unknown) => isApiProblem(e) && e.status === 401 && e.code === 'push_signature_invalid',
    );
  });

  it('takes a signed plaintext JSON delivery and answers success', async () => {
    const msg = { ToUserName: 'gh_d0d0d0d0d0d0', FromUserName: simOpenID(uniqueName()), CreateTime: Math.floor(Date.now() / 1000), MsgType: 'event', Event: 'debug_demo' };
    const res = await deliver(signedQuery(), JSON.stringify(msg));
    assert.equal(res.status, 200);
    assert.equal(res.body, 'success');
  });

  it('takes an encrypted XML delivery of subscription choices', async () => {
    const xml =
      `<xml><ToUserName><![CDATA[gh_d0d0d0d0d0d0]]></ToUserName><FromUserName><![CDATA[${simOpenID(uniqueName())}]]></FromUserName>` +
      `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event>` +
      `<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[T1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>` +
      `<PopupScene>0</PopupScene></List></SubscribeMsgPopupEvent></xml>`;
    const res = await deliverEncrypted(xml, 'xml');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'success');
  });

  it('refuses a delivery whose signature is not the Token’s, or whose ciphertext names another app', async () => {
    const q = signedQuery();
    q.set('signature', signature('another-token', q.get('timestamp')!, q.get('nonce')!));
    const bad = await deliver(q, '{"Event":"debug_demo"}');
    assert.equal(bad.status, 401);
    assert.equal(JSON.parse(bad.body).code, 'push_signature_invalid');

    const enc = encrypt('{"Event":"debug_demo"}', 'wx0000000000000000');
    const q2 = signedQuery({ encrypt_type: 'aes' });
    q2.set('msg_signature', signature(TOKEN, q2.get('timestamp')!, q2.get('nonce')!, enc));
    const other = await deliver(q2, JSON.stringify({ ToUserName: 'gh_1', Encrypt: enc }));
    assert.equal(other.status, 401);
  });

  it('user_authorization_revoke ends the user’s session; the SDK logs in again with wx.login', async () => {
    const name = uniqueName('revoked');
    const c = nodeClient(name);
    await c.login();
    const { data: before } = await c.GET('/v1/auth/sessions');
    const old = before.items.map((s) => s.id);
    assert.equal(old.length, 1);

    const msg = {
      ToUserName: 'gh_d0d0d0d0d0d0', FromUserName: 'o_platform', CreateTime: Math.floor(Date.now() / 1000), MsgType: 'event',
      Event: 'user_authorization_revoke', OpenID: simOpenID(name), AppID: APPID, RevokeInfo: '1',
    };
    for (let i = 0; i < 2; i++) {
      // WeChat's delivery and a retry: both acknowledged.
      const res = await deliverEncrypted(JSON.stringify(msg));
      assert.equal(res.status, 200);
    }

    // The old session is over: its refresh token is refused, so the SDK
    // logs in again and the call succeeds in a new session.
    const { data: me } = await c.GET('/v1/me');
    assert.ok(me.id);
    const { data: after } = await c.GET('/v1/auth/sessions');
    assert.equal(after.items.length, 1);
    assert.ok(!old.includes(after.items[0].id), 'the revoked session is over; the call ran in a new one');
  });
});
