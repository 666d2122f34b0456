// The breaking-change check (scripts/breaking.mjs, oasdiff) on specs made
// from openapi.yaml: each kind of break fails it, additions pass, and a
// major version bump lets a break through.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';

type Doc = {
  info: { version: string };
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, { required?: string[]; properties?: Record<string, unknown> }> };
};

const sdkDir = resolve(__dirname, '..', '..', '..');
const script = join(sdkDir, 'scripts', 'breaking.mjs');
const current = readFileSync(process.env.MINIBACK_SPEC ?? join(sdkDir, '..', 'openapi.yaml'), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'miniback-breaking-'));
let n = 0;

function check(change: (d: Doc) => void): { status: number | null; out: string } {
  const base = parse(current) as Doc;
  const rev = parse(current) as Doc;
  change(rev);
  const basePath = join(dir, `base${n}.yaml`);
  const revPath = join(dir, `rev${n++}.yaml`);
  writeFileSync(basePath, stringify(base));
  writeFileSync(revPath, stringify(rev));
  const r = spawnSync(process.execPath, [script, basePath, revPath], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

// The first operation of the spec, and a 200 response schema with a required property.
function firstOperation(d: Doc): [string, string] {
  const path = Object.keys(d.paths)[0];
  const method = Object.keys(d.paths[path]).find((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m));
  assert.ok(method);
  return [path, method];
}

describe('breaking-change check', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes when nothing changed', () => {
    const r = check(() => {});
    assert.equal(r.status, 0, r.out);
  });

  it('passes additions: a new operation and a new optional request field', () => {
    const r = check((d) => {
      d.paths['/v1/added-for-the-test'] = {
        get: { operationId: 'addedForTheTest', responses: { '200': { description: 'ok' } } },
      };
      d.components.schemas.WeChatLoginRequest.properties!.extra = { type: 'string' };
    });
    assert.equal(r.status, 0, r.out);
  });

  it('fails on a removed operation', () => {
    const r = check((d) => {
      const [path, method] = firstOperation(d);
      delete d.paths[path][method];
      if (!Object.keys(d.paths[path]).some((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))) delete d.paths[path];
    });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /removed/);
  });

  it('fails on a removed response field, required or optional', () => {
    const required = check((d) => {
      const user = d.components.schemas.User;
      delete user.properties!.bio;
      user.required = user.required!.filter((p) => p !== 'bio');
    });
    assert.equal(required.status, 1, required.out);
    assert.match(required.out, /response-required-property-removed/);

    const optional = check((d) => {
      delete d.components.schemas.Problem.properties!.detail;
    });
    assert.equal(optional.status, 1, optional.out);
    assert.match(optional.out, /response-optional-property-removed/);
  });

  it('fails on a request field that became required', () => {
    const r = check((d) => {
      d.components.schemas.WeChatLoginRequest.required = ['code', 'appid'];
    });
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, /became required/);
  });

  it('lets a break through when the major version goes up', () => {
    const r = check((d) => {
      d.components.schemas.WeChatLoginRequest.required = ['code', 'appid'];
      const major = Number(d.info.version.split('.')[0]);
      d.info.version = `${major + 1}.0.0`;
    });
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, /major bump/);
  });

  it('a minor bump does not excuse a break', () => {
    const r = check((d) => {
      d.components.schemas.WeChatLoginRequest.required = ['code', 'appid'];
      const [major, minor] = d.info.version.split('.').map(Number);
      d.info.version = `${major}.${minor + 1}.0`;
    });
    assert.equal(r.status, 1, r.out);
  });
});
