"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.memoryTokenStore = memoryTokenStore;
exports.storageTokenStore = storageTokenStore;
/** memoryTokenStore forgets the session when the process ends (Node, tests). */
function memoryTokenStore(initial = null) {
    let tokens = initial;
    return {
        get: () => tokens,
        set: (t) => {
            tokens = t;
        },
        clear: () => {
            tokens = null;
        },
    };
}
/**
 * storageTokenStore keeps the session in a synchronous key-value storage:
 * `wx` itself (wx.getStorageSync and friends) in a mini-program.
 */
function storageTokenStore(storage, key = 'miniback.session') {
    return {
        get() {
            const v = storage.getStorageSync(key);
            if (v && typeof v === 'object' && typeof v.accessToken === 'string')
                return v;
            return null;
        },
        set: (t) => storage.setStorageSync(key, t),
        clear: () => storage.removeStorageSync(key),
    };
}
