"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.WECHAT_SESSION_STALE = void 0;
exports.isWeChatSessionStale = isWeChatSessionStale;
exports.wechatDataBody = wechatDataBody;
// WeChat open data (POST /v1/me/wechat-data): the shapes wx's open-data
// APIs hand a mini-program, and the shapes of what they decrypt to. The
// latter are WeChat's formats, not miniback's: the server returns the
// decrypted object as WeChat wrote it, so they are written here by hand.
const problem_1 = require("./problem");
/** The problem code of data the stored session_key does not open. */
exports.WECHAT_SESSION_STALE = 'wechat_session_stale';
/**
 * isWeChatSessionStale: a later wx.login replaced the session_key the
 * server holds (409 wechat_session_stale). The cure is a new login.
 */
function isWeChatSessionStale(e) {
    return e instanceof problem_1.ApiProblem && e.code === exports.WECHAT_SESSION_STALE;
}
/** wechatDataBody renames wx's members to the request's. */
function wechatDataBody(d) {
    const body = { encrypted_data: d.encryptedData, iv: d.iv };
    if (d.rawData !== undefined)
        body.raw_data = d.rawData;
    if (d.signature !== undefined)
        body.signature = d.signature;
    return body;
}
