"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.callContainerTransport = callContainerTransport;
exports.createCloudRunClient = createCloudRunClient;
const client_1 = require("./client");
const problem_1 = require("./problem");
const tokens_1 = require("./tokens");
const wx_1 = require("./wx");
/**
 * callContainerTransport sends requests with wx.cloud.callContainer to a
 * Cloud Hosting service. Only the path and query of a request's URL are
 * used (give the client an empty baseUrl). callContainer takes wx.request's
 * methods, so a PATCH goes as a POST with `X-HTTP-Method-Override: PATCH`,
 * as with wxTransport. It has no file upload: files go to object storage
 * with wx.uploadFile, whose URL the upload ticket names.
 */
function callContainerTransport(cloud, options) {
    if (!options.env || !options.service)
        throw new Error('callContainerTransport: pass the environment id (env) and the service name');
    return {
        request(req) {
            const header = Object.assign(Object.assign({}, req.headers), { 'X-WX-SERVICE': options.service });
            let method = req.method;
            if (method === 'PATCH') {
                method = 'POST';
                header['X-HTTP-Method-Override'] = 'PATCH';
            }
            // Images come as bytes, as with wxTransport.
            const binary = req.responseType === 'arraybuffer';
            return new Promise((resolve, reject) => {
                cloud.callContainer({
                    config: { env: options.env },
                    path: pathOf(req.url),
                    method,
                    header,
                    data: req.body instanceof Uint8Array ? toArrayBuffer(req.body) : req.body,
                    // Anything but 'json' leaves the body as text: the SDK decodes
                    // JSON and problem documents itself.
                    dataType: 'text',
                    responseType: binary ? 'arraybuffer' : 'text',
                    timeout: options.timeout,
                    success: (res) => resolve((0, wx_1.wxResponse)(res)),
                    fail: (err) => reject(problem_1.ApiProblem.network(err.errMsg)),
                });
            });
        },
    };
}
/**
 * createCloudRunClient is the client for a mini-program whose miniback runs
 * on WeChat Cloud Hosting: callContainer transport, the session in wx
 * storage, and sign-in (and silent renewal) with POST /v1/auth/cloudrun,
 * which needs no wx.login. The server must run with MINIBACK_CLOUDRUN=true.
 */
function createCloudRunClient(options) {
    var _a;
    const w = (_a = options.wx) !== null && _a !== void 0 ? _a : globalWx();
    return (0, client_1.createClient)(Object.assign(Object.assign({}, options), { baseUrl: '', transport: callContainerTransport(w.cloud, options), tokens: (0, tokens_1.storageTokenStore)(w, options.storageKey), signIn: 'cloudrun' }));
}
function globalWx() {
    const w = typeof wx === 'undefined' ? globalThis.wx : wx;
    if (w === null || w === void 0 ? void 0 : w.cloud)
        return w;
    throw new Error('createCloudRunClient: no wx.cloud here; pass options.wx');
}
// pathOf keeps the path and query of a URL: callContainer takes no host.
function pathOf(url) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
    const rest = m ? url.slice(m[0].length) : url;
    return rest.startsWith('/') ? rest : `/${rest}`;
}
function toArrayBuffer(b) {
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}
