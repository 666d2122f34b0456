import { CONSOLE_CSRF_HEADER, type MinibackClient } from './client';
import { ApiProblem } from './problem';
import type { ConsoleSession, PasswordLoginRequest } from './schema.gen';
import { type Transport } from './transport';
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
/** createConsoleClient returns the client the browser console uses. */
export declare function createConsoleClient(options?: ConsoleClientOptions): ConsoleClient;
