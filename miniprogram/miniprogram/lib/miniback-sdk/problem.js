"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ApiProblem = void 0;
exports.isApiProblem = isApiProblem;
/**
 * ApiProblem is every failure the SDK reports: an RFC 9457 problem document
 * from miniback (branch on `code`), a response that was not one (code
 * `unexpected_response`), a request that never got an answer (status 0,
 * code `network_error`), or a session that could not be renewed without
 * the user (status 401, code `session_expired`).
 */
class ApiProblem extends Error {
    constructor(p, retryAfter) {
        var _a;
        super(p.detail ? `${p.title}: ${p.detail}` : p.title);
        this.name = 'ApiProblem';
        this.status = p.status;
        this.code = p.code;
        this.title = p.title;
        this.detail = p.detail;
        this.type = p.type;
        this.instance = p.instance;
        this.requestId = p.request_id;
        this.errors = (_a = p.errors) !== null && _a !== void 0 ? _a : [];
        this.retryAfter = retryAfter;
    }
    /** The problem with one field, by its name (`nickname` or `body.nickname`). */
    fieldError(field) {
        return this.errors.find((e) => e.field === field || e.field.replace(/^[a-z]+\./, '') === field);
    }
    /** True when a new login is the only way on (the session is gone). */
    get isAuthError() {
        return this.status === 401;
    }
    /** A request that never got an answer (no network, DNS, TLS, timeout). */
    static network(message) {
        return new ApiProblem({
            type: 'about:blank',
            title: 'Network error',
            status: 0,
            code: 'network_error',
            detail: message,
        });
    }
    /** The session could not be renewed without the user (code `session_expired`). */
    static sessionExpired(detail) {
        return new ApiProblem({ type: 'about:blank', title: 'Session expired', status: 401, code: 'session_expired', detail });
    }
    /** A response that is not a problem document (a proxy's HTML page, say). */
    static unexpected(status, detail) {
        return new ApiProblem({
            type: 'about:blank',
            title: 'Unexpected response',
            status,
            code: 'unexpected_response',
            detail,
        });
    }
}
exports.ApiProblem = ApiProblem;
/** isApiProblem narrows an unknown error (a catch clause's) to an ApiProblem. */
function isApiProblem(e) {
    return e instanceof ApiProblem;
}
