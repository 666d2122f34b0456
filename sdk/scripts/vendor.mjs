#!/usr/bin/env node
// Copies the built SDK (dist/*.js and *.d.ts) into the sample
// mini-program, which imports it from miniprogram/lib/miniback-sdk/: a
// mini-program project needs no npm build step to use it.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(sdkDir, 'dist');
const to = resolve(sdkDir, '..', 'miniprogram', 'miniprogram', 'lib', 'miniback-sdk');
rmSync(to, { recursive: true, force: true });
mkdirSync(to, { recursive: true });
let n = 0;
for (const f of readdirSync(from).sort()) {
  if (f.endsWith('.js') || f.endsWith('.d.ts')) {
    copyFileSync(join(from, f), join(to, f));
    n++;
  }
}
console.log(`vendored ${n} files of the SDK into ${to}`);
