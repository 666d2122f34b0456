/** The tokens of one signed-in session. */
export interface Tokens {
    accessToken: string;
    /** Unix milliseconds when the access token expires (from expires_in). */
    expiresAt?: number;
    /** Present when the server issues refresh tokens. */
    refreshToken?: string;
}
/**
 * TokenStore keeps the session between launches. get returns null when
 * nobody is signed in. Methods may be synchronous or asynchronous.
 */
export interface TokenStore {
    get(): Tokens | null | Promise<Tokens | null>;
    set(tokens: Tokens): void | Promise<void>;
    clear(): void | Promise<void>;
}
/** memoryTokenStore forgets the session when the process ends (Node, tests). */
export declare function memoryTokenStore(initial?: Tokens | null): TokenStore;
/** The part of a key-value storage the storage-backed token store needs. */
export interface SyncStorage {
    getStorageSync(key: string): unknown;
    setStorageSync(key: string, value: unknown): void;
    removeStorageSync(key: string): void;
}
/**
 * storageTokenStore keeps the session in a synchronous key-value storage:
 * `wx` itself (wx.getStorageSync and friends) in a mini-program.
 */
export declare function storageTokenStore(storage: SyncStorage, key?: string): TokenStore;
