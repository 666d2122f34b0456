"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.CONSOLE_CSRF_HEADER = void 0;
exports.createClient = createClient;
exports.fillPath = fillPath;
exports.queryString = queryString;
exports.decode = decode;
const problem_1 = require("./problem");
const subscriptions_1 = require("./subscriptions");
const tokens_1 = require("./tokens");
const wechatdata_1 = require("./wechatdata");
/**
 * The operations whose successes are bytes (images), read as an
 * ArrayBuffer. The type makes the list complete: an operation of the spec
 * that answers an image and is missing here fails the SDK's build.
 */
const binaryOperations = {
    'POST /v1/wxacode': true,
};
/** The console's cookie operations, and the header each of them needs (createConsoleClient). */
const CONSOLE_REFRESH = '/v1/console/refresh';
const CONSOLE_LOGOUT = '/v1/console/logout';
exports.CONSOLE_CSRF_HEADER = 'X-Miniback-CSRF';
const CONSOLE_HEADERS = { [exports.CONSOLE_CSRF_HEADER]: '1' };
/**
 * consoleRefreshLock runs f while no other tab of this origin refreshes
 * the console session (the Web Locks API, where there is one): two tabs
 * presenting the same cookie at once would look like a stolen refresh
 * token, and reuse ends the session. The tab that waits sends the cookie
 * the first one got.
 */
function consoleRefreshLock(f) {
    var _a;
    const locks = (_a = globalThis.navigator) === null || _a === void 0 ? void 0 : _a.locks;
    return locks ? locks.request('miniback-console-refresh', f) : f();
}
/** Renew the access token this long before it expires. */
const EXPIRY_MARGIN_MS = 30000;
/** createClient returns a client for miniback over the given transport. */
function createClient(options) {
    var _a, _b;
    const baseUrl = options.baseUrl.replace(/\/+$/, '');
    const transport = options.transport;
    const store = (_a = options.tokens) !== null && _a !== void 0 ? _a : (0, tokens_1.memoryTokenStore)();
    const now = (_b = options.now) !== null && _b !== void 0 ? _b : (() => Date.now());
    let renewing = null;
    let relogging = null;
    // Whether the client can sign in again by itself when a session ends.
    const canSignIn = options.signIn === 'cloudrun' || options.loginCode !== undefined;
    async function send(method, path, init, retried) {
        var _a;
        const binary = binaryOperations[`${method} ${path}`] === true;
        const headers = Object.assign({ Accept: binary ? 'image/*, application/problem+json' : 'application/json, application/problem+json' }, options.headers);
        for (const [k, v] of Object.entries((_a = init.headers) !== null && _a !== void 0 ? _a : {})) {
            if (v !== undefined)
                headers[k] = String(v);
        }
        let used = null;
        if (init.auth !== false) {
            used = await store.get();
            if (used && used.expiresAt !== undefined && used.expiresAt - EXPIRY_MARGIN_MS <= now() && !retried) {
                // About to expire: renew first rather than collect a 401.
                used = (await renewAfter(used, init.relogin !== false)) ? await store.get() : null;
            }
            if (used)
                headers.Authorization = `Bearer ${used.accessToken}`;
        }
        let body;
        if (init.body !== undefined) {
            const given = Object.keys(headers).find((k) => k.toLowerCase() === 'content-type');
            if (given && !/json/i.test(headers[given])) {
                // A file or other non-JSON body goes as it is.
                if (typeof init.body !== 'string' && !(init.body instanceof ArrayBuffer) && !(init.body instanceof Uint8Array)) {
                    throw new Error(`a ${headers[given]} body must be a string, ArrayBuffer or Uint8Array`);
                }
                body = init.body;
            }
            else {
                body = JSON.stringify(init.body);
                if (!given)
                    headers['Content-Type'] = 'application/json';
            }
        }
        const url = baseUrl + fillPath(path, init.path) + queryString(init.query);
        const res = await transport.request(binary ? { method, url, headers, body, responseType: 'arraybuffer' } : { method, url, headers, body });
        if (res.status === 401 && used && !retried && (await renewAfter(used, init.relogin !== false))) {
            return send(method, path, init, true);
        }
        let out;
        try {
            out = decode(res);
        }
        catch (e) {
            if ((0, wechatdata_1.isWeChatSessionStale)(e) && init.staleRetry !== false && options.loginCode) {
                // A wx.login the server never saw replaced the session_key: a new
                // login stores the current one. Retried once.
                await reloginOnce();
                return send(method, path, Object.assign(Object.assign({}, init), { staleRetry: false }), retried);
            }
            throw e;
        }
        if (method === 'DELETE' && path === '/v1/me') {
            // The account is gone and every session with it: forget ours, so
            // that no renewal signs in again (which would make a new account).
            await store.clear();
        }
        return out;
    }
    // renewAfter makes sure the session is newer than `used`: at most one
    // renewal runs at a time and every caller waits for it. It answers
    // whether there is a session to retry with.
    async function renewAfter(used, relogin) {
        var _a;
        const current = await store.get();
        if (current && current.accessToken !== used.accessToken)
            return true; // renewed meanwhile
        if (!renewing) {
            renewing = renew(relogin).then(() => {
                renewing = null;
            }, (e) => {
                renewing = null;
                throw e;
            });
        }
        try {
            await renewing;
            return true;
        }
        catch (e) {
            if (e instanceof problem_1.ApiProblem && e.status >= 400 && e.status < 500) {
                // The session is over: forget it and let the app ask for a login.
                await store.clear();
                (_a = options.onSessionEnd) === null || _a === void 0 ? void 0 : _a.call(options, e);
                return false;
            }
            throw e;
        }
    }
    // renew gets a new access token: with the refresh token when the server
    // issued one (POST /v1/auth/refresh rotates it), else — or when the
    // refresh token is refused — by signing in again with a fresh login
    // code (wx.login needs no user action).
    async function renew(relogin) {
        if (options.signIn === 'console') {
            // The browser sends the session cookie (it holds the refresh token)
            // and keeps the rotated one.
            const res = await consoleRefreshLock(() => send('POST', CONSOLE_REFRESH, { auth: false, headers: CONSOLE_HEADERS }, true));
            await keep(res.data);
            return;
        }
        const current = await store.get();
        if (current === null || current === void 0 ? void 0 : current.refreshToken) {
            try {
                const res = await send('POST', '/v1/auth/refresh', { body: { refresh_token: current.refreshToken }, auth: false }, true);
                await keep(res.data);
                return;
            }
            catch (e) {
                if (!(e instanceof problem_1.ApiProblem && e.status === 401 && canSignIn && relogin))
                    throw e;
            }
        }
        if (!canSignIn || !relogin) {
            throw problem_1.ApiProblem.sessionExpired('The session expired and cannot be renewed here: sign in again.');
        }
        await login({});
    }
    // reloginOnce signs in again with a fresh login code; calls that go
    // stale together share one login.
    function reloginOnce() {
        if (!relogging) {
            relogging = login({}).then(() => {
                relogging = null;
            }, (e) => {
                relogging = null;
                throw e;
            });
        }
        return relogging;
    }
    async function wechatData(source) {
        const post = async (d) => (await send('POST', '/v1/me/wechat-data', { body: (0, wechatdata_1.wechatDataBody)(d), staleRetry: false }, false)).data;
        const first = typeof source === 'function' ? await source() : source;
        try {
            return await post(first);
        }
        catch (e) {
            if (!((0, wechatdata_1.isWeChatSessionStale)(e) && options.loginCode))
                throw e;
        }
        await reloginOnce();
        return post(typeof source === 'function' ? await source() : first);
    }
    async function login(opts = {}) {
        if (options.signIn === 'cloudrun' && opts.code === undefined)
            return start('/v1/auth/cloudrun', undefined);
        let code = opts.code;
        if (code === undefined) {
            if (!options.loginCode)
                throw new Error('login: pass a code or give the client a loginCode function');
            code = await options.loginCode();
        }
        return start('/v1/auth/wechat', options.appid ? { code, appid: options.appid } : { code });
    }
    async function start(path, body) {
        const res = (await send('POST', path, { body, auth: false }, true));
        await keep(res.data);
        return res.data;
    }
    async function keep(data) {
        const tokens = { accessToken: data.access_token, expiresAt: now() + data.expires_in * 1000 };
        if (data.refresh_token)
            tokens.refreshToken = data.refresh_token;
        await store.set(tokens);
    }
    async function uploadFile(req) {
        var _a;
        if (!transport.upload)
            throw new Error('uploadFile: this transport cannot upload files');
        return decode(await transport.upload(Object.assign(Object.assign({}, req), { headers: (_a = req.headers) !== null && _a !== void 0 ? _a : {} })));
    }
    const call = (method) => (path, init) => send(method, path, init !== null && init !== void 0 ? init : {}, false);
    return {
        GET: call('GET'),
        POST: call('POST'),
        PUT: call('PUT'),
        PATCH: call('PATCH'),
        DELETE: call('DELETE'),
        login,
        loginWithCloudRun: () => start('/v1/auth/cloudrun', undefined),
        loginWithPassword: (body) => start('/v1/auth/login', body),
        register: (body) => start('/v1/auth/register', body),
        async logout() {
            const current = await store.get();
            if (options.signIn === 'console') {
                // The session is the cookie's: the server ends it and clears the
                // cookie, whether or not an access token is held here.
                try {
                    await send('POST', CONSOLE_LOGOUT, { auth: false, headers: CONSOLE_HEADERS }, true);
                }
                finally {
                    await store.clear();
                }
                return;
            }
            try {
                // A server that issues refresh tokens keeps sessions: end this one
                // there too (POST /v1/auth/logout), so its refresh token dies. An
                // expired access token is refreshed first, but logging out never
                // signs in again.
                if (current === null || current === void 0 ? void 0 : current.refreshToken)
                    await send('POST', '/v1/auth/logout', { relogin: false }, false);
            }
            catch (e) {
                // The device forgets the session whatever the server said.
                if (!(e instanceof problem_1.ApiProblem))
                    throw e;
            }
            finally {
                await store.clear();
            }
        },
        async session() {
            return store.get();
        },
        uploadFile,
        wechatData,
        async subscribe(opts) {
            var _a;
            const list = async () => (await send('GET', '/v1/me/subscriptions', {}, false)).data.items;
            let ids = (_a = opts.templateIds) !== null && _a !== void 0 ? _a : [];
            if (opts.purpose !== undefined)
                ids = [...ids, ...(0, subscriptions_1.pickTemplates)(await list(), opts.purpose)];
            ids = [...new Set(ids)].slice(0, 3);
            if (ids.length === 0)
                return list();
            const answers = (0, subscriptions_1.subscribeAnswers)(await opts.ask(ids), ids);
            for (const body of answers)
                await send('POST', '/v1/me/subscriptions', { body }, false);
            return list();
        },
        async upload(f) {
            const body = Object.assign({ purpose: f.purpose, content_type: f.contentType, size: f.size }, (f.fileName ? { file_name: f.fileName } : {}));
            const { data: ticket } = (await send('POST', '/v1/uploads', { body }, false));
            await uploadFile({ url: ticket.url, name: ticket.file_field, formData: ticket.fields, filePath: f.filePath, file: f.file, fileName: f.fileName });
            const { data } = (await send('POST', fillPath('/v1/uploads/{id}/complete', { id: ticket.id }), {}, false));
            return data;
        },
    };
}
/** fillPath puts path parameters into a templated path like /v1/tasks/{id}. */
function fillPath(path, params) {
    return path.replace(/\{([^}]+)\}/g, (_, name) => {
        const v = params === null || params === void 0 ? void 0 : params[name];
        if (v === undefined || v === null)
            throw new Error(`path parameter ${name} is missing for ${path}`);
        return encodeURIComponent(String(v));
    });
}
/**
 * queryString encodes query parameters the OpenAPI default way (form,
 * exploded: arrays repeat the name); undefined values are left out. It
 * needs no URLSearchParams, which mini-programs lack.
 */
function queryString(query) {
    if (!query)
        return '';
    const parts = [];
    for (const [k, v] of Object.entries(query)) {
        const values = Array.isArray(v) ? v : [v];
        for (const item of values) {
            if (item === undefined || item === null)
                continue;
            const s = item instanceof Date ? item.toISOString() : String(item);
            parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
        }
    }
    return parts.length ? `?${parts.join('&')}` : '';
}
/**
 * decode turns a response into a result (2xx, and 3xx: a redirect's
 * Location is in headers; bytes as an ArrayBuffer), or throws it as an
 * ApiProblem.
 */
function decode(res) {
    var _a;
    const type = ((_a = res.headers['content-type']) !== null && _a !== void 0 ? _a : '').toLowerCase();
    const isJSON = /^application\/(problem\+)?json/.test(type);
    let data = undefined;
    if (res.body !== '' && isJSON) {
        try {
            data = JSON.parse(res.body);
        }
        catch (_b) {
            throw problem_1.ApiProblem.unexpected(res.status, `The response body is not valid JSON (${type}).`);
        }
    }
    if (res.status >= 200 && res.status < 400) {
        if (res.bytes !== undefined)
            data = res.bytes;
        else if (res.body !== '' && !isJSON)
            data = res.body;
        return { data, status: res.status, headers: res.headers };
    }
    if (isProblem(data)) {
        const ra = Number(res.headers['retry-after']);
        throw new problem_1.ApiProblem(data, Number.isFinite(ra) && res.headers['retry-after'] !== undefined ? ra : undefined);
    }
    throw problem_1.ApiProblem.unexpected(res.status, `HTTP ${res.status} without a problem document (${type || 'no content type'}).`);
}
function isProblem(v) {
    if (!v || typeof v !== 'object')
        return false;
    const p = v;
    return typeof p.code === 'string' && typeof p.status === 'number' && typeof p.title === 'string';
}
