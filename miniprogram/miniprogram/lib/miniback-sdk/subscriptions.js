"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.wxRequestSubscribe = wxRequestSubscribe;
exports.subscribeAnswers = subscribeAnswers;
exports.pickTemplates = pickTemplates;
/** wxRequestSubscribe is AskSubscribe over wx.requestSubscribeMessage (it must run in a tap handler). */
function wxRequestSubscribe(wx) {
    return (tmplIds) => new Promise((resolve, reject) => {
        wx.requestSubscribeMessage({
            tmplIds,
            success: resolve,
            fail: (err) => reject(new Error(`wx.requestSubscribeMessage: ${err.errMsg}${err.errCode ? ` (${err.errCode})` : ''}`)),
        });
    });
}
const results = ['accept', 'reject', 'ban', 'filter'];
/** subscribeAnswers picks the answer for each template id out of a wx.requestSubscribeMessage result. */
function subscribeAnswers(result, tmplIds) {
    const out = [];
    for (const id of tmplIds) {
        const answer = result[id];
        if (typeof answer === 'string' && results.includes(answer)) {
            out.push({ template_id: id, result: answer });
        }
    }
    return out;
}
/** pickTemplates returns the template ids of the subscriptions whose purpose is purpose. */
function pickTemplates(subs, purpose) {
    return subs.filter((s) => s.purpose === purpose).map((s) => s.template_id);
}
