// The contract side of the SDK tests: every response the tests receive is
// checked against openapi.yaml (status declared, headers and body match
// their schemas, problem documents agree with their response), and the
// operationId of every conforming answer is recorded for the coverage
// check (scripts/coverage.mjs).
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import type { HttpRequest, HttpResponse, Transport, FileUploadRequest } from '../../src';

const PROBLEM_TYPE_BASE = 'https://miniback.dev/problems/';

/** The first bytes of the image types the API answers. */
const IMAGE_MAGIC: Record<string, number[]> = {
  'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  'image/jpeg': [0xff, 0xd8, 0xff],
};

type Json = Record<string, unknown>;

interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  operationId: string;
  operation: Json;
}

/** The spec as the tests read it: routes by method and path, and a validator. */
export class Spec {
  readonly doc: Json;
  readonly routes: Route[] = [];
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  private ids = 0;

  constructor(path = process.env.MINIBACK_SPEC ?? resolve(process.cwd(), '../openapi.yaml')) {
    this.doc = parse(readFileSync(path, 'utf8')) as Json;
    // OpenAPI 3.0 schemas are JSON Schema plus a few annotations; nullable
    // is Ajv's own OpenAPI keyword.
    this.ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    this.ajv.addVocabulary(['example', 'xml', 'externalDocs', 'discriminator']);
    addFormats(this.ajv);
    const schemas = ((this.doc.components as Json | undefined)?.schemas as Json | undefined) ?? {};
    this.ajv.addSchema({ $id: 'spec', definitions: rebase(schemas) });
    for (const [template, item] of Object.entries((this.doc.paths as Json) ?? {})) {
      for (const [method, op] of Object.entries(item as Json)) {
        if (!['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'].includes(method)) continue;
        const operation = op as Json;
        const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+');
        this.routes.push({
          method: method.toUpperCase(),
          template,
          pattern: new RegExp(`^${source}$`),
          operationId: String(operation.operationId),
          operation,
        });
      }
    }
  }

  /** All operationIds, in spec order. */
  operationIds(): string[] {
    return this.routes.map((r) => r.operationId);
  }

  /** The route for method and path (no query), or undefined. */
  route(method: string, path: string): Route | undefined {
    // Literal paths win over templated ones, as in the server's router.
    const matches = this.routes.filter((r) => r.method === method && r.pattern.test(path));
    return matches.find((r) => !r.template.includes('{')) ?? matches[0];
  }

  /** What is wrong with res as an answer to method+path (empty when it conforms). */
  check(route: Route | undefined, res: HttpResponse): string[] {
    const msgs: string[] = [];
    const type = (res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (route) {
      const responses = (route.operation.responses as Json) ?? {};
      const declared = responses[String(res.status)] ?? responses.default;
      if (!declared) {
        msgs.push(`status ${res.status} is not declared (declared: ${Object.keys(responses).join(', ')})`);
      } else {
        const response = this.deref(declared);
        const headers = (response.headers as Json) ?? {};
        for (const [name, h] of Object.entries(headers)) {
          const header = this.deref(h);
          const value = res.headers[name.toLowerCase()];
          if (value === undefined) {
            if (header.required) msgs.push(`required header ${name} is missing`);
            continue;
          }
          const schema = header.schema as Json | undefined;
          if (schema) {
            const parsed = schema.type === 'integer' || schema.type === 'number' ? Number(value) : value;
            const err = this.validate(schema, parsed);
            if (err) msgs.push(`header ${name}: ${err}`);
          }
        }
        const content = response.content as Json | undefined;
        if (!content) {
          // As in apitest (kin-openapi), a body where none is declared is
          // not checked, except that 204 has none.
          if (res.status === 204 && res.body !== '') msgs.push(`204 with a body of ${res.body.length} bytes`);
        } else {
          const declaredType = mediaTypeFor(Object.keys(content), type);
          if (declaredType === undefined) {
            msgs.push(`content type "${type}" is not declared for ${res.status} (declared: ${Object.keys(content).join(', ')})`);
          } else {
            const schema = (content[declaredType] as Json).schema as Json | undefined;
            // A body the operation declares as an image type (by name, not
            // through */*, which serves files as their uploader labelled
            // them) must be one.
            const magic = declaredType === type ? IMAGE_MAGIC[type] : undefined;
            if (magic && res.status < 300 && res.bytes) {
              const head = Array.from(new Uint8Array(res.bytes.slice(0, magic.length)));
              if (head.length !== magic.length || head.some((b, i) => b !== magic[i])) msgs.push(`the body is labelled ${type} but is not one`);
            }
            // Only JSON bodies are checked against a schema; others (files)
            // only against their declared media type.
            if (schema && isJsonType(type)) {
              let body: unknown;
              try {
                body = JSON.parse(res.body);
              } catch {
                msgs.push(`body is not JSON: ${res.body.slice(0, 200)}`);
              }
              const err = body === undefined ? null : this.validate(schema, body);
              if (err) msgs.push(`body: ${err}`);
            }
          }
        }
      }
    }
    if (type === 'application/problem+json') {
      msgs.push(...this.checkProblem(res));
    } else if (res.status >= 400) {
      msgs.push(`an error status must have an application/problem+json body, not "${type}"`);
    }
    return msgs;
  }

  private checkProblem(res: HttpResponse): string[] {
    let p: Json;
    try {
      p = JSON.parse(res.body) as Json;
    } catch {
      return ['problem body is not JSON'];
    }
    const msgs: string[] = [];
    const err = this.validate({ $ref: '#/components/schemas/Problem' }, p);
    if (err) msgs.push(`problem body does not match Problem: ${err}`);
    if (res.status < 400) msgs.push(`a problem document comes with status ${res.status}`);
    if (p.status !== res.status) msgs.push(`problem status ${String(p.status)} differs from HTTP ${res.status}`);
    if (p.type !== PROBLEM_TYPE_BASE + String(p.code)) msgs.push(`problem type ${String(p.type)} is not ${PROBLEM_TYPE_BASE}${String(p.code)}`);
    if (p.request_id !== res.headers['x-request-id']) msgs.push(`problem request_id does not echo X-Request-ID`);
    return msgs;
  }

  /** Resolves a local $ref to a response or header object. */
  private deref(v: unknown): Json {
    let cur = v as Json;
    for (let i = 0; i < 10 && typeof cur.$ref === 'string'; i++) {
      const ref = cur.$ref as string;
      if (!ref.startsWith('#/')) throw new Error(`only local refs are supported: ${ref}`);
      cur = ref
        .slice(2)
        .split('/')
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .reduce<Json>((o, k) => o[k] as Json, this.doc);
    }
    return cur;
  }

  private validate(schema: Json, value: unknown): string | null {
    const key = JSON.stringify(schema);
    let fn = this.compiled.get(key);
    if (!fn) {
      // Refs in the spec are document-local (#/components/...); compile the
      // schema as if it sat in the spec document.
      fn = this.ajv.compile({ $id: `inline${this.ids++}`, ...rebase(schema) });
      this.compiled.set(key, fn);
    }
    if (fn(value)) return null;
    return this.ajv.errorsText(fn.errors, { dataVar: 'value' });
  }
}

// mediaTypeFor returns the declared media type that covers type: the
// same, a type/* range, or the any-type range.
function mediaTypeFor(declared: string[], type: string): string | undefined {
  return (
    declared.find((d) => d.toLowerCase() === type) ??
    declared.find((d) => d.endsWith('/*') && type.startsWith(d.slice(0, -1).toLowerCase())) ??
    declared.find((d) => d === '*/*')
  );
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

/**
 * rebase points '#/components/schemas/X' refs at the schema added to Ajv
 * as 'spec', and drops OpenAPI extensions.
 */
function rebase(schema: unknown): Json {
  return JSON.parse(JSON.stringify(schema), (k, v: unknown) => {
    if (k.startsWith('x-')) return undefined; // OpenAPI extensions (x-go-type, ...) are not JSON Schema
    if (k !== '$ref' || typeof v !== 'string') return v;
    if (!v.startsWith('#/components/schemas/')) throw new Error(`unsupported $ref in a schema: ${v}`);
    return `spec#/definitions/${v.slice('#/components/schemas/'.length)}`;
  }) as Json;
}

let shared: Spec | undefined;
export function spec(): Spec {
  shared ??= new Spec();
  return shared;
}

/** Records operationIds whose responses conformed, for the coverage check. */
export function recordOperation(operationId: string): void {
  const dir = process.env.MINIBACK_COVERAGE_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  appendFileSync(join(dir, `node-${process.pid}.txt`), `${operationId}\n`);
}

/** Thrown when the server's answer breaks the spec: the test fails. */
export class ContractViolation extends Error {
  constructor(what: string, msgs: string[], res: HttpResponse) {
    super(`${what}: response does not conform to openapi.yaml:\n- ${msgs.join('\n- ')}\nHTTP ${res.status} ${res.headers['content-type'] ?? ''}\n${res.body.slice(0, 2000)}`);
    this.name = 'ContractViolation';
  }
}

/**
 * checkExchange validates one response to a request sent to baseUrl and
 * records its operation; a violation throws. Requests to other hosts
 * (storage upload URLs) are left alone.
 */
export function checkExchange(baseUrl: string, method: string, url: string, headers: Record<string, string>, res: HttpResponse): void {
  if (!url.startsWith(baseUrl)) return;
  const path = url.slice(baseUrl.length).split('?')[0];
  const override = Object.entries(headers).find(([k]) => k.toLowerCase() === 'x-http-method-override')?.[1];
  const effective = method === 'POST' && override?.toUpperCase() === 'PATCH' ? 'PATCH' : method;
  const route = spec().route(effective, path);
  const msgs = spec().check(route, res);
  if (msgs.length) throw new ContractViolation(`${effective} ${path}`, msgs, res);
  if (route) recordOperation(route.operationId);
}

/** validating wraps a transport so that every response is checked. */
export function validating(baseUrl: string, inner: Transport): Transport {
  return {
    async request(req: HttpRequest) {
      const res = await inner.request(req);
      checkExchange(baseUrl, req.method, req.url, req.headers, res);
      return res;
    },
    async upload(req: FileUploadRequest) {
      if (!inner.upload) throw new Error('the inner transport cannot upload');
      const res = await inner.upload(req);
      checkExchange(baseUrl, 'POST', req.url, req.headers, res);
      return res;
    },
  };
}
