// The operation coverage check (scripts/coverage.mjs) on records made up
// here: it passes when every operation was checked by some test, fails
// naming the operations no test checked, and with --require-sdk also fails
// on those only the Go tests checked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { spec } from './support/contract';

const script = resolve(__dirname, '..', '..', '..', 'scripts', 'coverage.mjs');
const root = mkdtempSync(join(tmpdir(), 'miniback-coverage-'));
let n = 0;

function run(node: string[], go: string[], ...flags: string[]): { status: number | null; out: string } {
  const dir = join(root, String(n++));
  mkdirSync(dir);
  writeFileSync(join(dir, 'node-1.txt'), node.map((id) => `${id}\n`).join(''));
  // The Go record spells operationIds as oapi-codegen's embedded spec does.
  writeFileSync(join(dir, 'go-operations.txt'), go.map((id) => `${id[0].toUpperCase()}${id.slice(1)}\n`).join(''));
  const r = spawnSync(process.execPath, [script, ...flags, dir], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('operation coverage check', () => {
  after(() => rmSync(root, { recursive: true, force: true }));
  const ids = spec().operationIds();
  const [first, ...rest] = ids;

  it('passes when the SDK tests checked every operation', () => {
    const r = run(ids, []);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`covered by the SDK tests: ${ids.length}/${ids.length}`));
  });

  it('fails naming an operation no test checked', () => {
    const r = run(rest, rest);
    assert.equal(r.status, 1, r.out);
    assert.match(r.out, new RegExp(`no test calls these operations[^]*${first}`));
  });

  it('an operation only the Go tests checked passes, listed as an SDK to-do; --require-sdk fails on it', () => {
    const r = run(rest, [first]);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`to do: no SDK test calls these yet[^]*${first}`));
    assert.equal(run(rest, [first], '--require-sdk').status, 1);
  });

  it('fails when there is no record of the SDK tests at all', () => {
    const r = run([], ids);
    assert.equal(r.status, 1, r.out);
  });
});
