"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.CONSOLE_CSRF_HEADER = void 0;
exports.createConsoleClient = createConsoleClient;
// The browser console's client: sign in with a password account that has
// the admin role, keep the access token in memory only, and renew it
// through the session cookie. The refresh token never reaches page
// script: the server keeps it in an HttpOnly, Secure, SameSite=Strict
// cookie scoped to /v1/console/, which the browser sends to the console's
// refresh and sign-out (same origin, credentials 'same-origin') with the
// X-Miniback-CSRF header those paths require.
const client_1 = require("./client");
Object.defineProperty(exports, "CONSOLE_CSRF_HEADER", { enumerable: true, get: function () { return client_1.CONSOLE_CSRF_HEADER; } });
const problem_1 = require("./problem");
const tokens_1 = require("./tokens");
const transport_1 = require("./transport");
const CSRF = { [client_1.CONSOLE_CSRF_HEADER]: '1' };
/** createConsoleClient returns the client the browser console uses. */
function createConsoleClient(options = {}) {
    var _a, _b, _c;
    const now = (_a = options.now) !== null && _a !== void 0 ? _a : (() => Date.now());
    // In memory only: a reload forgets the access token, and resume() gets
    // a new one from the cookie.
    const tokens = (0, tokens_1.memoryTokenStore)();
    const client = (0, client_1.createClient)({
        baseUrl: (_b = options.baseUrl) !== null && _b !== void 0 ? _b : '',
        transport: (_c = options.transport) !== null && _c !== void 0 ? _c : (0, transport_1.fetchTransport)({ credentials: 'same-origin' }),
        tokens,
        signIn: 'console',
        headers: options.headers,
        onSessionEnd: options.onSessionEnd,
        now,
    });
    const keep = (s) => tokens.set({ accessToken: s.access_token, expiresAt: now() + s.expires_in * 1000 });
    return Object.assign(client, {
        async signIn(body) {
            const { data } = await client.POST('/v1/console/session', { body, headers: CSRF, auth: false });
            keep(data);
            return data;
        },
        async resume() {
            try {
                const { data } = await client.POST('/v1/console/refresh', { headers: CSRF, auth: false });
                keep(data);
                return data;
            }
            catch (e) {
                if (e instanceof problem_1.ApiProblem && e.status === 401)
                    return null;
                throw e;
            }
        },
        signOut: () => client.logout(),
    });
}
