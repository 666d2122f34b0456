// The operator's session. The access token lives in this module's memory
// only (never in localStorage, sessionStorage or a cookie page script can
// read); the refresh token is the HttpOnly cookie the server sets on
// sign-in (POST /v1/console/session), which the browser sends to
// /v1/console/ alone. A reload, or an access token about to expire,
// renews through that cookie (POST /v1/console/refresh, with the CSRF
// header), one renewal at a time.
import { ref } from 'vue';
import { createClient, type MinibackClient } from '@sdk/client';
import { isApiProblem } from '@sdk/problem';
import type { ConsoleSession, User } from '@sdk/schema.gen';
import { memoryTokenStore } from '@sdk/tokens';
import { fetchTransport } from '@sdk/transport';

export interface SessionState {
  /** The signed-in administrator; null when nobody is. */
  user: User | null;
  /** Set when a session ended by itself (the sign-in page says so). */
  expired: boolean;
}

/** The header every console operation needs (a page of another site cannot send it). */
const CSRF = { 'X-Miniback-CSRF': '1' } as const;
/** Renew this long before the access token expires. */
const MARGIN_MS = 30_000;

// The SDK's store holds the access token without its expiry, so the SDK
// never tries its own (refresh-token) renewal: this module renews.
const tokens = memoryTokenStore();
let expiresAt = 0;
const state = ref<SessionState>({ user: null, expired: false });

// fetch sends cookies to its own origin by default (credentials: same-origin).
const client = createClient({ baseUrl: globalThis.location?.origin ?? '', transport: fetchTransport(), tokens });

function keep(s: ConsoleSession): void {
  tokens.set({ accessToken: s.access_token });
  expiresAt = Date.now() + s.expires_in * 1000;
  state.value = { user: s.user, expired: false };
}

function forget(expired: boolean): void {
  tokens.clear();
  expiresAt = 0;
  state.value = { user: null, expired };
  resumed = Promise.resolve(false);
}

let renewing: Promise<boolean> | null = null;
// The page load's first look at the cookie; after a sign-out or an ended
// session the answer is no without asking.
let resumed: Promise<boolean> | null = null;

/** Renews the access token from the cookie; false when there is no session to renew. */
function renew(): Promise<boolean> {
  renewing ??= (async () => {
    try {
      const { data } = await client.POST('/v1/console/refresh', { headers: CSRF, auth: false });
      keep(data);
      return true;
    } catch (e) {
      if (isApiProblem(e) && (e.status === 401 || e.status === 403)) {
        forget(state.value.user !== null);
        return false;
      }
      throw e;
    } finally {
      renewing = null;
    }
  })();
  return renewing;
}

/** Runs a call with a fresh token, and once more after a renewal when the token was refused. */
async function authorised<T>(call: () => Promise<T>): Promise<T> {
  if (state.value.user && Date.now() >= expiresAt - MARGIN_MS) await renew();
  try {
    return await call();
  } catch (e) {
    if (!(isApiProblem(e) && e.status === 401 && state.value.user)) throw e;
    if (!(await renew())) throw e;
    return call();
  }
}

type Calls = Pick<MinibackClient, 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'>;
const wrap = <K extends keyof Calls>(k: K): Calls[K] =>
  ((...args: unknown[]) => authorised(() => (client[k] as (...a: unknown[]) => Promise<unknown>)(...args))) as Calls[K];

/** The typed API client every page calls: the SDK's, on its fetch transport, renewing through the cookie. */
export const api: Calls = { GET: wrap('GET'), POST: wrap('POST'), PUT: wrap('PUT'), PATCH: wrap('PATCH'), DELETE: wrap('DELETE') };

export const session = {
  state,
  /** Whether there is a session; the first call of a page load tries the cookie. */
  async ensure(): Promise<boolean> {
    if (state.value.user) return true;
    resumed ??= renew().catch(() => false);
    return resumed;
  },
  async signIn(login: string, password: string): Promise<void> {
    const { data } = await client.POST('/v1/console/session', { headers: CSRF, body: { login, password }, auth: false });
    keep(data);
    resumed = Promise.resolve(true);
  },
  async signOut(): Promise<void> {
    try {
      await client.POST('/v1/console/logout', { headers: CSRF, auth: false });
    } finally {
      forget(false);
    }
  },
};
