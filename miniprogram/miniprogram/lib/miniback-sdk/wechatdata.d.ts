import { ApiProblem } from './problem';
import type { WeChatData, WeChatDataRequest } from './schema.gen';
/**
 * What wx.getWeRunData, wx.getGroupEnterInfo, wx.getShareInfo,
 * wx.getUserProfile… give their success callback (other members, such as
 * errMsg or cloudID, are ignored).
 */
export interface WxOpenData {
    encryptedData: string;
    iv: string;
    /** The signed plain part, from the APIs that sign (wx.getUserProfile). */
    rawData?: string;
    signature?: string;
}
/** Open data, or a function that gets it from WeChat (again). */
export type WxOpenDataSource = WxOpenData | (() => Promise<WxOpenData>);
/** The answer of POST /v1/me/wechat-data with `data` typed as T. */
export type OpenedWeChatData<T extends object = Record<string, unknown>> = Omit<WeChatData, 'data'> & {
    data: T;
};
/** WeChat's watermark on every piece of open data. */
export interface WeChatDataWatermark {
    appid: string;
    /** Unix seconds. */
    timestamp: number;
}
/** wx.getWeRunData: the steps of the last 31 days, oldest first. */
export interface WeRunData {
    stepInfoList: {
        timestamp: number;
        step: number;
    }[];
    watermark: WeChatDataWatermark;
}
/** wx.getGroupEnterInfo: the group (or one-to-one chat) the mini-program was opened from. */
export interface GroupEnterInfo {
    opengid?: string;
    open_single_roomid?: string;
    group_openid?: string;
    chat_type?: number;
    watermark: WeChatDataWatermark;
}
/** wx.getShareInfo with a share ticket: the group of the shared card. */
export interface ShareInfo {
    openGId: string;
    watermark: WeChatDataWatermark;
}
/** The problem code of data the stored session_key does not open. */
export declare const WECHAT_SESSION_STALE = "wechat_session_stale";
/**
 * isWeChatSessionStale: a later wx.login replaced the session_key the
 * server holds (409 wechat_session_stale). The cure is a new login.
 */
export declare function isWeChatSessionStale(e: unknown): e is ApiProblem;
/** wechatDataBody renames wx's members to the request's. */
export declare function wechatDataBody(d: WxOpenData): WeChatDataRequest;
