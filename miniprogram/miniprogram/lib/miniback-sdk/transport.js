"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.fetchTransport = fetchTransport;
exports.isTextType = isTextType;
exports.baseName = baseName;
exports.errorText = errorText;
const problem_1 = require("./problem");
/** fetchTransport sends requests with `fetch`: Node 18+ and browsers. */
function fetchTransport(options = {}) {
    var _a, _b;
    const g = globalThis;
    const doFetch = (_a = options.fetch) !== null && _a !== void 0 ? _a : g.fetch;
    if (!doFetch)
        throw new Error('fetchTransport: no fetch here; pass options.fetch (in a mini-program use wxTransport)');
    const newFormData = (_b = options.newFormData) !== null && _b !== void 0 ? _b : (() => {
        if (!g.FormData)
            throw new Error('fetchTransport: no FormData here; pass options.newFormData');
        return new g.FormData();
    });
    const send = async (url, init, wantBytes = false) => {
        let res;
        if (options.credentials)
            init = Object.assign(Object.assign({}, init), { credentials: options.credentials });
        try {
            res = await doFetch(url, init);
        }
        catch (e) {
            throw problem_1.ApiProblem.network(errorText(e));
        }
        const headers = {};
        res.headers.forEach((value, key) => {
            headers[key.toLowerCase()] = value;
        });
        const bytes = wantBytes && !isTextType(headers['content-type']);
        if (bytes && !res.arrayBuffer)
            throw new Error('fetchTransport: this fetch has no arrayBuffer(), which images need');
        try {
            if (bytes && res.arrayBuffer)
                return { status: res.status, headers, body: '', bytes: await res.arrayBuffer() };
            return { status: res.status, headers, body: await res.text() };
        }
        catch (e) {
            throw problem_1.ApiProblem.network(errorText(e));
        }
    };
    return {
        request: (req) => send(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual' }, req.responseType === 'arraybuffer'),
        async upload(req) {
            var _a, _b;
            let file = req.file;
            if (!file) {
                if (!req.filePath)
                    throw new Error('upload: pass file or filePath');
                if (!options.readFile)
                    throw new Error('fetchTransport: uploads by filePath need options.readFile');
                file = await options.readFile(req.filePath);
            }
            const form = newFormData();
            for (const [k, v] of Object.entries(req.formData))
                form.append(k, v);
            form.append(req.name, file, (_a = req.fileName) !== null && _a !== void 0 ? _a : baseName((_b = req.filePath) !== null && _b !== void 0 ? _b : 'file'));
            return send(req.url, { method: 'POST', headers: req.headers, body: form, redirect: 'manual' });
        },
    };
}
/** isTextType reports whether a Content-Type is text the SDK reads as such: JSON (problems included) or text/*. */
function isTextType(contentType) {
    return /^\s*(application\/([\w.-]+\+)?json|text\/)/i.test(contentType !== null && contentType !== void 0 ? contentType : '');
}
function baseName(path) {
    const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
    return i >= 0 ? path.slice(i + 1) : path;
}
function errorText(e) {
    if (e instanceof Error) {
        const cause = e.cause;
        return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
    }
    return String(e);
}
