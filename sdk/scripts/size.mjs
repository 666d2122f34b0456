#!/usr/bin/env node
// The built SDK's size: bytes of dist/*.js as shipped, and gzipped
// (each file on its own and all of them together).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const dist = join(resolve(dirname(fileURLToPath(import.meta.url)), '..'), 'dist');
const files = readdirSync(dist).filter((f) => f.endsWith('.js')).sort();
let raw = 0;
let gz = 0;
const all = [];
for (const f of files) {
  const b = readFileSync(join(dist, f));
  all.push(b);
  const g = gzipSync(b, { level: 9 }).length;
  raw += b.length;
  gz += g;
  console.log(`${f.padEnd(16)} ${String(b.length).padStart(6)} B  gzip ${String(g).padStart(5)} B`);
}
const together = gzipSync(Buffer.concat(all), { level: 9 }).length;
console.log(`total: ${files.length} files, ${raw} B; gzip ${gz} B file by file, ${together} B as one stream`);
