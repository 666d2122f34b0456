"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.wxTransport = wxTransport;
exports.wxLoginCode = wxLoginCode;
exports.createWxClient = createWxClient;
const client_1 = require("./client");
const problem_1 = require("./problem");
const tokens_1 = require("./tokens");
/**
 * wxTransport sends requests with wx.request and uploads with
 * wx.uploadFile. wx.request has no PATCH, so a PATCH goes as a POST with
 * `X-HTTP-Method-Override: PATCH`, which miniback honours.
 */
function wxTransport(w, options = {}) {
    return {
        request(req) {
            const header = Object.assign({}, req.headers);
            let method;
            if (req.method === 'PATCH') {
                method = 'POST';
                header['X-HTTP-Method-Override'] = 'PATCH';
            }
            else {
                method = req.method;
            }
            return new Promise((resolve, reject) => {
                w.request({
                    url: req.url,
                    method,
                    header,
                    data: req.body instanceof Uint8Array ? toArrayBuffer(req.body) : req.body,
                    // Anything but 'json' leaves the body as text: the SDK decodes
                    // JSON and problem documents itself.
                    dataType: 'text',
                    responseType: 'text',
                    timeout: options.timeout,
                    success: (res) => resolve({
                        status: res.statusCode,
                        headers: lowerKeys(res.header),
                        body: typeof res.data === 'string' ? res.data : JSON.stringify(res.data),
                    }),
                    fail: (err) => reject(problem_1.ApiProblem.network(err.errMsg)),
                });
            });
        },
        upload(req) {
            if (!req.filePath)
                return Promise.reject(new Error('wxTransport.upload: pass filePath (a temp file path from wx.chooseMedia)'));
            const filePath = req.filePath;
            return new Promise((resolve, reject) => {
                w.uploadFile({
                    url: req.url,
                    filePath,
                    name: req.name,
                    formData: req.formData,
                    header: req.headers,
                    timeout: options.timeout,
                    // wx.uploadFile reports no response headers.
                    success: (res) => resolve({ status: res.statusCode, headers: guessType(res.data), body: res.data }),
                    fail: (err) => reject(problem_1.ApiProblem.network(err.errMsg)),
                });
            });
        },
    };
}
/** wxLoginCode returns a function that gets a fresh code from wx.login. */
function wxLoginCode(w) {
    return () => new Promise((resolve, reject) => {
        w.login({
            success: (res) => (res.code ? resolve(res.code) : reject(problem_1.ApiProblem.network(`wx.login gave no code: ${res.errMsg}`))),
            fail: (err) => reject(problem_1.ApiProblem.network(err.errMsg)),
        });
    });
}
/**
 * createWxClient is the client for a mini-program: wx.request transport,
 * the session in wx storage, wx.login for sign-in and silent renewal.
 */
function createWxClient(options) {
    var _a, _b;
    const w = (_a = options.wx) !== null && _a !== void 0 ? _a : globalWx();
    return (0, client_1.createClient)(Object.assign(Object.assign({}, options), { transport: wxTransport(w, { timeout: options.timeout }), tokens: (0, tokens_1.storageTokenStore)(w, options.storageKey), loginCode: (_b = options.loginCode) !== null && _b !== void 0 ? _b : wxLoginCode(w) }));
}
function globalWx() {
    // A mini-program's wx is a global of its own, not a globalThis property.
    const w = typeof wx === 'undefined' ? globalThis.wx : wx;
    if (w)
        return w;
    throw new Error('createWxClient: no wx here; pass options.wx');
}
function toArrayBuffer(b) {
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}
function lowerKeys(h) {
    const out = {};
    for (const [k, v] of Object.entries(h !== null && h !== void 0 ? h : {}))
        out[k.toLowerCase()] = String(v);
    return out;
}
// wx.uploadFile hides the response headers; a body that looks like JSON
// is decoded as JSON so problem documents still surface as ApiProblem.
function guessType(body) {
    const t = body.replace(/^\s+/, '');
    return t.startsWith('{') || t.startsWith('[') ? { 'content-type': 'application/json' } : {};
}
