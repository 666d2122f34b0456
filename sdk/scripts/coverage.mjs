#!/usr/bin/env node
// Operation coverage: every operationId in openapi.yaml must have been
// called by a test whose response was then checked against the spec. The
// record is written at run time: by the SDK and sample tests (node-*.txt,
// from test/support/contract.ts) and by the Go component tests (apitest,
// with MINIBACK_OPERATIONS_LOG=go-operations.txt). It fails when an
// operation is in neither record. The SDK exposes every operation, so it
// also lists those no SDK test covers yet; --require-sdk makes that fatal.
//
//   node scripts/coverage.mjs [--require-sdk] [coverage-dir]   (default build/coverage)
//
// Writes coverage.json beside the records and exits 1 listing what is missing.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const requireSdk = args.includes('--require-sdk');
const dir = resolve(args.find((a) => !a.startsWith('--')) ?? join(sdkDir, 'build', 'coverage'));
const spec = parse(readFileSync(join(sdkDir, '..', 'openapi.yaml'), 'utf8'));

const ops = [];
for (const [path, item] of Object.entries(spec.paths ?? {})) {
  for (const [method, op] of Object.entries(item)) {
    if (op && typeof op === 'object' && op.operationId) ops.push({ id: op.operationId, method: method.toUpperCase(), path });
  }
}

// oapi-codegen's embedded spec (which apitest reads) capitalises
// operationIds, so the two records are matched without regard to case.
const read = (files) => {
  const seen = new Map();
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const id = line.trim().toLowerCase();
      if (id) seen.set(id, (seen.get(id) ?? 0) + 1);
    }
  }
  return seen;
};
const files = existsSync(dir) ? readdirSync(dir) : [];
const node = read(files.filter((f) => /^node-.*\.txt$/.test(f)).map((f) => join(dir, f)));
const goFile = join(dir, 'go-operations.txt');
const go = read(existsSync(goFile) ? [goFile] : []);
if (node.size === 0) {
  console.error(`coverage: no record of the SDK tests in ${dir}: run \`npm test\` first`);
  process.exit(1);
}

const rows = ops.map((o) => ({ ...o, sdk: node.get(o.id.toLowerCase()) ?? 0, go: go.get(o.id.toLowerCase()) ?? 0 }));
const width = Math.max(...rows.map((r) => r.id.length), 11);
console.log(`${'operationId'.padEnd(width)}  ${'SDK tests'.padStart(9)}  ${'Go tests'.padStart(8)}  route`);
for (const r of rows) console.log(`${r.id.padEnd(width)}  ${String(r.sdk).padStart(9)}  ${String(r.go).padStart(8)}  ${r.method} ${r.path}`);
const bySdk = rows.filter((r) => r.sdk > 0).length;
const byAny = rows.filter((r) => r.sdk > 0 || r.go > 0).length;
console.log(`\ncovered by the SDK tests: ${bySdk}/${rows.length}; by any test: ${byAny}/${rows.length}`);
writeFileSync(join(dir, 'coverage.json'), JSON.stringify({ total: rows.length, sdk: bySdk, any: byAny, operations: rows }, null, 2) + '\n');

const untested = rows.filter((r) => r.sdk === 0 && r.go === 0);
const sdkGaps = rows.filter((r) => r.sdk === 0 && r.go > 0);
if (sdkGaps.length) {
  console.error(`\ncoverage: ${requireSdk ? '' : 'to do: '}no SDK test calls these yet (the Go tests do):`);
  for (const r of sdkGaps) console.error(`  ${r.id} (${r.method} ${r.path})`);
}
if (untested.length) {
  console.error('\ncoverage: no test calls these operations and checks the response against the spec:');
  for (const r of untested) console.error(`  ${r.id} (${r.method} ${r.path})`);
}
if (untested.length || (requireSdk && sdkGaps.length)) {
  console.error('add a test under sdk/test/ that calls each through the SDK (or a Go component test through apitest).');
  process.exit(1);
}
