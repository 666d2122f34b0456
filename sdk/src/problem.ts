import type { FieldError, Problem } from './schema.gen';

/**
 * ApiProblem is every failure the SDK reports: an RFC 9457 problem document
 * from miniback (branch on `code`), a response that was not one (code
 * `unexpected_response`), a request that never got an answer (status 0,
 * code `network_error`), or a session that could not be renewed without
 * the user (status 401, code `session_expired`).
 */
export class ApiProblem extends Error {
  /** The HTTP status; 0 when no response arrived. */
  readonly status: number;
  /** Stable machine code, e.g. `token_expired`, `validation_failed`. */
  readonly code: string;
  readonly title: string;
  readonly detail?: string;
  readonly type?: string;
  readonly instance?: string;
  readonly requestId?: string;
  /** Field-level problems, e.g. `{field: 'body.nickname', code: 'too_long'}`. */
  readonly errors: FieldError[];
  /** Seconds from a Retry-After header, when the server sent one. */
  readonly retryAfter?: number;

  constructor(p: Problem, retryAfter?: number) {
    super(p.detail ? `${p.title}: ${p.detail}` : p.title);
    this.name = 'ApiProblem';
    this.status = p.status;
    this.code = p.code;
    this.title = p.title;
    this.detail = p.detail;
    this.type = p.type;
    this.instance = p.instance;
    this.requestId = p.request_id;
    this.errors = p.errors ?? [];
    this.retryAfter = retryAfter;
  }

  /** The problem with one field, by its name (`nickname` or `body.nickname`). */
  fieldError(field: string): FieldError | undefined {
    return this.errors.find((e) => e.field === field || e.field.replace(/^[a-z]+\./, '') === field);
  }

  /** True when a new login is the only way on (the session is gone). */
  get isAuthError(): boolean {
    return this.status === 401;
  }

  /** A request that never got an answer (no network, DNS, TLS, timeout). */
  static network(message: string): ApiProblem {
    return new ApiProblem({
      type: 'about:blank',
      title: 'Network error',
      status: 0,
      code: 'network_error',
      detail: message,
    });
  }

  /** The session could not be renewed without the user (code `session_expired`). */
  static sessionExpired(detail: string): ApiProblem {
    return new ApiProblem({ type: 'about:blank', title: 'Session expired', status: 401, code: 'session_expired', detail });
  }

  /** A response that is not a problem document (a proxy's HTML page, say). */
  static unexpected(status: number, detail: string): ApiProblem {
    return new ApiProblem({
      type: 'about:blank',
      title: 'Unexpected response',
      status,
      code: 'unexpected_response',
      detail,
    });
  }
}

/** isApiProblem narrows an unknown error (a catch clause's) to an ApiProblem. */
export function isApiProblem(e: unknown): e is ApiProblem {
  return e instanceof ApiProblem;
}
