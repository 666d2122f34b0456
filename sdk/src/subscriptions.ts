// Subscribe messages (订阅消息): asking the user with
// wx.requestSubscribeMessage, and telling the server what they answered
// (POST /v1/me/subscriptions), so that it knows how many messages it may
// send (one per acceptance).
import type { Subscription, SubscriptionChoice } from './schema.gen';

/** The answers wx.requestSubscribeMessage gives: 'accept', 'reject', 'ban' or 'filter' per template id. */
export type SubscribeResult = SubscriptionChoice['result'];

/**
 * Shows the subscription popup for the template ids and resolves to its
 * success result: {errMsg, [templateId]: 'accept' | 'reject' | 'ban' |
 * 'filter'}. In a mini-program: wxRequestSubscribe(wx).
 */
export type AskSubscribe = (tmplIds: string[]) => Promise<Record<string, unknown>>;

export interface SubscribeOptions {
  /** The templates the server configures for this purpose, e.g. 'reminder' (read from GET /v1/me/subscriptions). */
  purpose?: string;
  /** Or the template ids themselves (at most 3: wx.requestSubscribeMessage's limit). */
  templateIds?: string[];
  /** Shows the popup (wx.requestSubscribeMessage). */
  ask: AskSubscribe;
}

/** The part of the mini-program's `wx` that asks for subscriptions. */
export interface WxSubscribeApi {
  requestSubscribeMessage(option: {
    tmplIds: string[];
    success?: (res: Record<string, unknown> & { errMsg: string }) => void;
    fail?: (err: { errMsg: string; errCode?: number }) => void;
  }): unknown;
}

/** wxRequestSubscribe is AskSubscribe over wx.requestSubscribeMessage (it must run in a tap handler). */
export function wxRequestSubscribe(wx: WxSubscribeApi): AskSubscribe {
  return (tmplIds) =>
    new Promise((resolve, reject) => {
      wx.requestSubscribeMessage({
        tmplIds,
        success: resolve,
        fail: (err) => reject(new Error(`wx.requestSubscribeMessage: ${err.errMsg}${err.errCode ? ` (${err.errCode})` : ''}`)),
      });
    });
}

const results: readonly SubscribeResult[] = ['accept', 'reject', 'ban', 'filter'];

/** subscribeAnswers picks the answer for each template id out of a wx.requestSubscribeMessage result. */
export function subscribeAnswers(result: Record<string, unknown>, tmplIds: string[]): SubscriptionChoice[] {
  const out: SubscriptionChoice[] = [];
  for (const id of tmplIds) {
    const answer = result[id];
    if (typeof answer === 'string' && (results as readonly string[]).includes(answer)) {
      out.push({ template_id: id, result: answer as SubscribeResult });
    }
  }
  return out;
}

/** pickTemplates returns the template ids of the subscriptions whose purpose is purpose. */
export function pickTemplates(subs: Subscription[], purpose: string): string[] {
  return subs.filter((s) => s.purpose === purpose).map((s) => s.template_id);
}
