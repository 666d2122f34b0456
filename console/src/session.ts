// The operator's session. The access token lives in this module's memory
// only (never in localStorage or a cookie page script can read); the
// refresh token is an HttpOnly cookie the server sets on sign-in and
// that only its refresh path receives. A reload or an expired access
// token renews through that cookie.
import { ref } from 'vue';
import { createClient, type MinibackClient } from '@sdk/client';
import { ApiProblem } from '@sdk/problem';
import { memoryTokenStore } from '@sdk/tokens';
import { fetchTransport } from '@sdk/transport';

export interface SessionState {
  signedIn: boolean;
  /** Set when a session ended by itself (the sign-in page says so). */
  expired: boolean;
}

const tokens = memoryTokenStore();
const state = ref<SessionState>({ signedIn: false, expired: false });

/** The typed API client every page calls, on the SDK's fetch transport. */
export const api: MinibackClient = createClient({
  baseUrl: globalThis.location?.origin ?? '',
  // fetch sends cookies to its own origin by default (credentials: same-origin).
  transport: fetchTransport(),
  tokens,
  onSessionEnd: () => {
    state.value = { signedIn: false, expired: true };
  },
});

let resumed: Promise<boolean> | null = null;

export const session = {
  state,
  /** Whether there is a session, trying the refresh cookie once per page load. */
  async ensure(): Promise<boolean> {
    if (state.value.signedIn && (await tokens.get())) return true;
    resumed ??= Promise.resolve(false);
    return resumed;
  },
  async signIn(login: string, password: string): Promise<void> {
    const res = await api.loginWithPassword({ login, password });
    if (res.user.role !== 'admin') {
      await api.logout();
      throw new ApiProblem({ type: 'about:blank', title: 'Forbidden', status: 403, code: 'forbidden' });
    }
    state.value = { signedIn: true, expired: false };
  },
  async signOut(): Promise<void> {
    await api.logout();
    state.value = { signedIn: false, expired: false };
  },
};
