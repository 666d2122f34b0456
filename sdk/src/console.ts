// The browser console's client: sign in with a password account that has
// the admin role, keep the access token in memory only, and renew it
// through the session cookie. The refresh token never reaches page
// script: the server keeps it in an HttpOnly, Secure, SameSite=Strict
// cookie scoped to /v1/console/, which the browser sends to the console's
// refresh and sign-out (same origin, credentials 'same-origin') with the
// X-Miniback-CSRF header those paths require.
import { createClient, CONSOLE_CSRF_HEADER, type MinibackClient } from './client';
import { ApiProblem } from './problem';
import type { ConsoleSession, PasswordLoginRequest } from './schema.gen';
import { memoryTokenStore } from './tokens';
import { fetchTransport, type Transport } from './transport';

export { CONSOLE_CSRF_HEADER };

export interface ConsoleClientOptions {
  /** Where miniback is; '' (the default) is the page's own origin, where the console is served. */
  baseUrl?: string;
  /** The transport; by default fetch with credentials 'same-origin'. */
  transport?: Transport;
  /** Headers sent on every request. */
  headers?: Record<string, string>;
  /** Called when the session ended and could not be renewed: show the sign-in page. */
  onSessionEnd?: (problem: ApiProblem) => void;
  /** The clock, in Unix milliseconds. */
  now?: () => number;
}

export interface ConsoleClient extends MinibackClient {
  /**
   * Signs in (POST /v1/console/session): an account without the admin
   * role is refused (403 `console_admin_required`). The access token is
   * kept in memory; the browser keeps the session cookie.
   */
  signIn(body: PasswordLoginRequest): Promise<ConsoleSession>;
  /**
   * Picks up the session of the cookie, e.g. after a page reload, when
   * memory holds no token (POST /v1/console/refresh): the session, or
   * null when there is none to resume.
   */
  resume(): Promise<ConsoleSession | null>;
  /** Signs out (POST /v1/console/logout): the server ends the session and clears the cookie. */
  signOut(): Promise<void>;
}

const CSRF = { [CONSOLE_CSRF_HEADER]: '1' } as const;

/** createConsoleClient returns the client the browser console uses. */
export function createConsoleClient(options: ConsoleClientOptions = {}): ConsoleClient {
  const now = options.now ?? (() => Date.now());
  // In memory only: a reload forgets the access token, and resume() gets
  // a new one from the cookie.
  const tokens = memoryTokenStore();
  const client = createClient({
    baseUrl: options.baseUrl ?? '',
    transport: options.transport ?? fetchTransport({ credentials: 'same-origin' }),
    tokens,
    signIn: 'console',
    headers: options.headers,
    onSessionEnd: options.onSessionEnd,
    now,
  });
  const keep = (s: ConsoleSession) => tokens.set({ accessToken: s.access_token, expiresAt: now() + s.expires_in * 1000 });
  return Object.assign(client, {
    async signIn(body: PasswordLoginRequest): Promise<ConsoleSession> {
      const { data } = await client.POST('/v1/console/session', { body, headers: CSRF, auth: false });
      keep(data);
      return data;
    },
    async resume(): Promise<ConsoleSession | null> {
      try {
        const { data } = await client.POST('/v1/console/refresh', { headers: CSRF, auth: false });
        keep(data);
        return data;
      } catch (e) {
        if (e instanceof ApiProblem && e.status === 401) return null;
        throw e;
      }
    },
    signOut: () => client.logout(),
  });
}
