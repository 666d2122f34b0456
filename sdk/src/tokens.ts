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
export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
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
export function storageTokenStore(storage: SyncStorage, key = 'miniback.session'): TokenStore {
  return {
    get() {
      const v = storage.getStorageSync(key);
      if (v && typeof v === 'object' && typeof (v as Tokens).accessToken === 'string') return v as Tokens;
      return null;
    },
    set: (t) => storage.setStorageSync(key, t),
    clear: () => storage.removeStorageSync(key),
  };
}
