// The operator's session, on the SDK's console client: the access token
// lives in its memory only (never in localStorage, sessionStorage or a
// cookie page script can read); the refresh token is the HttpOnly cookie
// the server sets on sign-in, which the browser sends to /v1/console/
// alone. A reload resumes through that cookie, and the client renews an
// expiring access token the same way (with the CSRF header), one tab at
// a time.
import { ref } from 'vue';
import { createConsoleClient, type ConsoleClient } from '@sdk/console';
import type { ConsoleSession, User } from '@sdk/schema.gen';

export interface SessionState {
  /** The signed-in administrator; null when nobody is. */
  user: User | null;
  /** Set when a session ended by itself (the sign-in page says so). */
  expired: boolean;
}

const state = ref<SessionState>({ user: null, expired: false });
// The page load's first look at the cookie; after a sign-out or an ended
// session the answer is no without asking.
let resumed: Promise<boolean> | null = null;

function keep(s: ConsoleSession): void {
  state.value = { user: s.user, expired: false };
  resumed = Promise.resolve(true);
}

function forget(expired: boolean): void {
  state.value = { user: null, expired };
  resumed = Promise.resolve(false);
}

/** The typed API client every page calls: the SDK's, on its fetch transport, same origin. */
export const api: ConsoleClient = createConsoleClient({ onSessionEnd: () => forget(true) });

export const session = {
  state,
  /** Whether there is a session; the first call of a page load tries the cookie. */
  ensure(): Promise<boolean> {
    if (state.value.user) return Promise.resolve(true);
    resumed ??= api.resume().then(
      (s) => {
        if (s) keep(s);
        return s !== null;
      },
      // No session to resume (or its user is no longer an admin): sign in.
      () => false,
    );
    return resumed;
  },
  async signIn(login: string, password: string): Promise<void> {
    keep(await api.signIn({ login, password }));
  },
  async signOut(): Promise<void> {
    try {
      await api.signOut();
    } finally {
      forget(false);
    }
  },
};
