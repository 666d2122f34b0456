#!/usr/bin/env node
// The breaking-change check: compares openapi.yaml with the snapshot of
// the last released spec using oasdiff, and fails on what breaks a client
// already out there — a removed operation, a removed response field
// (required or optional: spec/oasdiff-levels.txt raises the latter to an
// error), a request field or parameter that became required, and the rest
// of oasdiff's error-level checks — unless info.version's major number
// went up.
//
//   node scripts/breaking.mjs [released.yaml] [current.yaml]
//   (defaults: ../spec/openapi.released.yaml ../openapi.yaml; oasdiff from
//   $OASDIFF or ../.bin/oasdiff, installed by `go tool task tools:oasdiff`)
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const base = resolve(process.argv[2] ?? join(root, 'spec', 'openapi.released.yaml'));
const rev = resolve(process.argv[3] ?? join(root, 'openapi.yaml'));
const oasdiff = process.env.OASDIFF ?? join(root, '.bin', 'oasdiff');
if (!existsSync(oasdiff)) {
  console.error(`breaking: ${oasdiff} is missing: run \`go tool task tools:oasdiff\``);
  process.exit(2);
}

const version = (file) => {
  const v = String(parse(readFileSync(file, 'utf8'))?.info?.version ?? '');
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(v);
  if (!m) {
    console.error(`breaking: info.version "${v}" in ${file} is not MAJOR.MINOR.PATCH`);
    process.exit(2);
  }
  return { text: v, major: Number(m[1]) };
};
const was = version(base);
const now = version(rev);

const run = spawnSync(
  oasdiff,
  ['breaking', base, rev, '--fail-on', 'ERR', '--severity-levels', join(root, 'spec', 'oasdiff-levels.txt'), '--format', 'text'],
  { encoding: 'utf8' },
);
if (run.error) throw run.error;
process.stdout.write(run.stdout);
process.stderr.write(run.stderr);
if (run.status === 0) {
  console.log(`breaking: none between the released ${was.text} and ${now.text}`);
  process.exit(0);
}
if (run.status !== 1) {
  console.error(`breaking: oasdiff failed (exit ${run.status})`);
  process.exit(2);
}
if (now.major > was.major) {
  console.log(`breaking: the changes above are allowed: info.version went from ${was.text} to ${now.text} (a major bump)`);
  process.exit(0);
}
console.error(
  `\nbreaking: openapi.yaml breaks clients of the released spec (${was.text}). Keep the old shape ` +
    `(add, don't remove or require), or bump info.version's major number (now ${now.text}).`,
);
process.exit(1);
