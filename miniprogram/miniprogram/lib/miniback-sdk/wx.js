"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.wxTransport = wxTransport;
exports.wxLoginCode = wxLoginCode;
exports.createWxClient = createWxClient;
exports.wxResponse = wxResponse;
exports.utf8 = utf8;
const client_1 = require("./client");
const problem_1 = require("./problem");
const tokens_1 = require("./tokens");
const transport_1 = require("./transport");
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
            // An image must come as bytes: wx.request decides before the
            // answer arrives, so a problem document then comes as bytes too.
            const binary = req.responseType === 'arraybuffer';
            return new Promise((resolve, reject) => {
                w.request({
                    url: req.url,
                    method,
                    header,
                    data: req.body instanceof Uint8Array ? toArrayBuffer(req.body) : req.body,
                    // Anything but 'json' leaves the body as text: the SDK decodes
                    // JSON and problem documents itself.
                    dataType: 'text',
                    responseType: binary ? 'arraybuffer' : 'text',
                    timeout: options.timeout,
                    success: (res) => resolve(wxResponse(res)),
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
/**
 * wxResponse turns a wx.request (or wx.cloud.callContainer) answer into
 * an HttpResponse: bytes (responseType 'arraybuffer') stay bytes unless
 * they are text, such as a problem document, which is decoded.
 */
function wxResponse(res) {
    const headers = lowerKeys(res.header);
    const status = res.statusCode;
    if (isArrayBuffer(res.data)) {
        return (0, transport_1.isTextType)(headers['content-type']) ? { status, headers, body: utf8(res.data) } : { status, headers, body: '', bytes: res.data };
    }
    return { status, headers, body: typeof res.data === 'string' ? res.data : res.data === undefined ? '' : JSON.stringify(res.data) };
}
function isArrayBuffer(v) {
    // By tag, not instanceof: the base library's ArrayBuffer may come from
    // another realm than the page's.
    return Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}
/**
 * utf8 decodes bytes as UTF-8 as TextDecoder does (WHATWG Encoding: each
 * maximal ill-formed subsequence becomes one U+FFFD): with TextDecoder
 * when the runtime has one, else by hand (older base libraries lack it).
 */
function utf8(buf) {
    const b = new Uint8Array(buf);
    const TD = globalThis.TextDecoder;
    if (TD)
        return new TD('utf-8').decode(b);
    const out = [];
    let cp = 0;
    let needed = 0;
    let seen = 0;
    let lower = 0x80;
    let upper = 0xbf;
    for (let i = 0; i < b.length; i++) {
        const c = b[i];
        if (needed === 0) {
            if (c <= 0x7f)
                out.push(String.fromCharCode(c));
            else if (c >= 0xc2 && c <= 0xdf)
                [needed, cp] = [1, c & 0x1f];
            else if (c >= 0xe0 && c <= 0xef) {
                if (c === 0xe0)
                    lower = 0xa0;
                if (c === 0xed)
                    upper = 0x9f;
                [needed, cp] = [2, c & 0x0f];
            }
            else if (c >= 0xf0 && c <= 0xf4) {
                if (c === 0xf0)
                    lower = 0x90;
                if (c === 0xf4)
                    upper = 0x8f;
                [needed, cp] = [3, c & 0x07];
            }
            else
                out.push('\ufffd');
            continue;
        }
        if (c < lower || c > upper) {
            // The sequence ends here: one U+FFFD, then this byte afresh.
            [cp, needed, seen, lower, upper] = [0, 0, 0, 0x80, 0xbf];
            out.push('\ufffd');
            i--;
            continue;
        }
        [lower, upper] = [0x80, 0xbf];
        cp = (cp << 6) | (c & 0x3f);
        if (++seen === needed) {
            out.push(String.fromCodePoint(cp));
            [cp, needed, seen] = [0, 0, 0];
        }
    }
    if (needed !== 0)
        out.push('\ufffd');
    return out.join('');
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
