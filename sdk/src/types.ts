// Type machinery that turns the generated `paths` (openapi-typescript) into
// the client's call signatures: which paths take a method, what a call
// needs (path and query parameters, headers, body) and what it returns.
import type { paths } from './schema.gen';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** The paths that have an operation for method M. */
export type PathsWith<M extends Method> = {
  [P in keyof paths]: paths[P] extends { [K in M]: object } ? P : never;
}[keyof paths];

/** The operation at path P and method M. */
export type Operation<P, M extends Method> = P extends keyof paths
  ? paths[P] extends { [K in M]: infer O }
    ? O
    : never
  : never;

type Params<O, In extends string> = O extends { parameters: { [K in In]?: infer X } } ? Exclude<X, undefined> : never;
type ParamsRequired<O, In extends string> = O extends { parameters: { [K in In]: object } } ? true : false;
type Body<O> = O extends { requestBody?: { content: infer C } }
  ? C extends { 'application/json': infer B }
    ? B
    : C[keyof C] | BinaryBody
  : never;

/** A body sent as is (with the Content-Type header you give), for non-JSON media types. */
export type BinaryBody = string | ArrayBuffer | Uint8Array;
type BodyRequired<O> = O extends { requestBody: { content: object } } ? true : false;

type Slot<Name extends string, T, Required extends boolean> = [T] extends [never]
  ? { [K in Name]?: undefined }
  : Required extends true
    ? { [K in Name]: T }
    : { [K in Name]?: T };

/** What a call of operation O takes besides its path. */
export type CallInit<O> = Slot<'path', Params<O, 'path'>, ParamsRequired<O, 'path'>> &
  Slot<'query', Params<O, 'query'>, ParamsRequired<O, 'query'>> &
  Slot<'body', Body<O>, BodyRequired<O>> &
  ([Params<O, 'header'>] extends [never]
    ? { headers?: Record<string, string> }
    : ParamsRequired<O, 'header'> extends true
      ? { headers: Params<O, 'header'> & Record<string, string> }
      : { headers?: Params<O, 'header'> & Record<string, string> }) & {
    /** false sends no access token (and never renews the session). */
    auth?: boolean;
  };

type RequiredKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? never : K }[keyof T];

/** The init argument: optional when nothing in it is required. */
export type CallArgs<O> = [RequiredKeys<CallInit<O>>] extends [never] ? [init?: CallInit<O>] : [init: CallInit<O>];

type ResultStatus = 200 | 201 | 202 | 203 | 204 | 205 | 206 | 300 | 301 | 302 | 303 | 304 | 307 | 308;
/** Media types the client reads as bytes (an ArrayBuffer), never as text. */
type BinaryMediaType = `image/${string}`;
type IsBinary<R> = R extends { content: infer C } ? ([Extract<keyof C, BinaryMediaType>] extends [never] ? false : true) : false;
type Content<R> = R extends { content: { 'application/json': infer T } }
  ? T
  : IsBinary<R> extends true
    ? ArrayBuffer
    : R extends { content: { [type: string]: unknown } }
      ? string
      : undefined;

/** Whether operation O answers a success as bytes (an image). */
type AnswersBytes<O> = O extends { responses: infer Rs }
  ? true extends { [S in keyof Rs]: S extends ResultStatus ? IsBinary<Rs[S]> : false }[keyof Rs]
    ? true
    : false
  : false;

/**
 * The operations (as "METHOD /path") whose successes are bytes: the
 * client asks its transport for an ArrayBuffer for them.
 */
export type BinaryOperation = {
  [P in keyof paths]: {
    [M in Method]: paths[P] extends { [K in M]: infer O } ? (AnswersBytes<O> extends true ? `${Uppercase<M>} ${P & string}` : never) : never;
  }[Method];
}[keyof paths];

/**
 * A result of operation O: one member per 2xx/3xx status the spec
 * declares, so checking `status` narrows `data` (a 304 has none).
 */
export type ApiResult<O> = O extends { responses: infer Rs }
  ? { [S in keyof Rs]: S extends ResultStatus ? ApiResponse<Content<Rs[S]>, S> : never }[keyof Rs]
  : never;

/** The body of operation O's 2xx/3xx responses (JSON decoded; images as an ArrayBuffer; other types as text). */
export type SuccessData<O> = ApiResult<O>['data'];

/**
 * A successful (2xx) or redirect (3xx) response: the decoded body (JSON
 * decoded, an image as an ArrayBuffer, anything else as text), status and
 * headers (lower-case names).
 */
export interface ApiResponse<T, S extends number = number> {
  data: T;
  status: S;
  headers: Record<string, string>;
}
