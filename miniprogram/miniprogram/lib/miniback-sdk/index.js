"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.wxTransport = exports.wxLoginCode = exports.utf8 = exports.createWxClient = exports.createConsoleClient = exports.CONSOLE_CSRF_HEADER = exports.createCloudRunClient = exports.callContainerTransport = exports.wxRequestSubscribe = exports.subscribeAnswers = exports.pickTemplates = exports.WECHAT_SESSION_STALE = exports.wechatDataBody = exports.isWeChatSessionStale = exports.isTextType = exports.fetchTransport = exports.storageTokenStore = exports.memoryTokenStore = exports.isApiProblem = exports.ApiProblem = exports.queryString = exports.fillPath = exports.decode = exports.createClient = void 0;
// @miniback/sdk: a typed client for miniback, generated from openapi.yaml
// (types in schema.gen.ts by openapi-typescript) with transports for
// mini-programs (wx.request, wx.uploadFile) and for Node and browsers (fetch).
var client_1 = require("./client");
Object.defineProperty(exports, "createClient", { enumerable: true, get: function () { return client_1.createClient; } });
Object.defineProperty(exports, "decode", { enumerable: true, get: function () { return client_1.decode; } });
Object.defineProperty(exports, "fillPath", { enumerable: true, get: function () { return client_1.fillPath; } });
Object.defineProperty(exports, "queryString", { enumerable: true, get: function () { return client_1.queryString; } });
var problem_1 = require("./problem");
Object.defineProperty(exports, "ApiProblem", { enumerable: true, get: function () { return problem_1.ApiProblem; } });
Object.defineProperty(exports, "isApiProblem", { enumerable: true, get: function () { return problem_1.isApiProblem; } });
var tokens_1 = require("./tokens");
Object.defineProperty(exports, "memoryTokenStore", { enumerable: true, get: function () { return tokens_1.memoryTokenStore; } });
Object.defineProperty(exports, "storageTokenStore", { enumerable: true, get: function () { return tokens_1.storageTokenStore; } });
var transport_1 = require("./transport");
Object.defineProperty(exports, "fetchTransport", { enumerable: true, get: function () { return transport_1.fetchTransport; } });
Object.defineProperty(exports, "isTextType", { enumerable: true, get: function () { return transport_1.isTextType; } });
var wechatdata_1 = require("./wechatdata");
Object.defineProperty(exports, "isWeChatSessionStale", { enumerable: true, get: function () { return wechatdata_1.isWeChatSessionStale; } });
Object.defineProperty(exports, "wechatDataBody", { enumerable: true, get: function () { return wechatdata_1.wechatDataBody; } });
Object.defineProperty(exports, "WECHAT_SESSION_STALE", { enumerable: true, get: function () { return wechatdata_1.WECHAT_SESSION_STALE; } });
var subscriptions_1 = require("./subscriptions");
Object.defineProperty(exports, "pickTemplates", { enumerable: true, get: function () { return subscriptions_1.pickTemplates; } });
Object.defineProperty(exports, "subscribeAnswers", { enumerable: true, get: function () { return subscriptions_1.subscribeAnswers; } });
Object.defineProperty(exports, "wxRequestSubscribe", { enumerable: true, get: function () { return subscriptions_1.wxRequestSubscribe; } });
var cloudrun_1 = require("./cloudrun");
Object.defineProperty(exports, "callContainerTransport", { enumerable: true, get: function () { return cloudrun_1.callContainerTransport; } });
Object.defineProperty(exports, "createCloudRunClient", { enumerable: true, get: function () { return cloudrun_1.createCloudRunClient; } });
var console_1 = require("./console");
Object.defineProperty(exports, "CONSOLE_CSRF_HEADER", { enumerable: true, get: function () { return console_1.CONSOLE_CSRF_HEADER; } });
Object.defineProperty(exports, "createConsoleClient", { enumerable: true, get: function () { return console_1.createConsoleClient; } });
var wx_1 = require("./wx");
Object.defineProperty(exports, "createWxClient", { enumerable: true, get: function () { return wx_1.createWxClient; } });
Object.defineProperty(exports, "utf8", { enumerable: true, get: function () { return wx_1.utf8; } });
Object.defineProperty(exports, "wxLoginCode", { enumerable: true, get: function () { return wx_1.wxLoginCode; } });
Object.defineProperty(exports, "wxTransport", { enumerable: true, get: function () { return wx_1.wxTransport; } });
