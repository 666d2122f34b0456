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
        success?: (res: Record<string, unknown> & {
            errMsg: string;
        }) => void;
        fail?: (err: {
            errMsg: string;
            errCode?: number;
        }) => void;
    }): unknown;
}
/** wxRequestSubscribe is AskSubscribe over wx.requestSubscribeMessage (it must run in a tap handler). */
export declare function wxRequestSubscribe(wx: WxSubscribeApi): AskSubscribe;
/** subscribeAnswers picks the answer for each template id out of a wx.requestSubscribeMessage result. */
export declare function subscribeAnswers(result: Record<string, unknown>, tmplIds: string[]): SubscriptionChoice[];
/** pickTemplates returns the template ids of the subscriptions whose purpose is purpose. */
export declare function pickTemplates(subs: Subscription[], purpose: string): string[];
