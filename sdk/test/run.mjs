#!/usr/bin/env node
// One command for the SDK and sample tests against a real miniback:
// builds the Go binary, starts it on embedded defaults (a private
// PostgreSQL cluster from the local initdb, the WeChat simulator, a
// development key) on a free loopback port, waits for "miniback is ready",
// runs every compiled *.test.js under build/ with node's test runner, and
// stops the server with SIGTERM. The tests find it at MINIBACK_URL and
// record the operations they checked under MINIBACK_COVERAGE_DIR.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const sdkDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(sdkDir, '..');
const buildDir = join(sdkDir, 'build');
const coverageDir = process.env.MINIBACK_COVERAGE_DIR ?? join(buildDir, 'coverage');
mkdirSync(coverageDir, { recursive: true });
for (const f of readdirSync(coverageDir)) if (f.startsWith('node-')) rmSync(join(coverageDir, f));

const bin = join(buildDir, 'bin', 'miniback');
console.log('building miniback…');
const built = spawnSync('go', ['build', '-o', bin, './cmd/miniback'], { cwd: root, stdio: 'inherit' });
if (built.status !== 0) process.exit(built.status ?? 1);

const port = await new Promise((ok, fail) => {
  const s = createServer();
  s.once('error', fail);
  s.listen(0, '127.0.0.1', () => {
    const { port } = s.address();
    s.close(() => ok(port));
  });
});
const dataDir = mkdtempSync(join(tmpdir(), 'miniback-sdk-test-'));
const env = { ...process.env };
// Embedded defaults only: no database, WeChat apps or keys from outside.
for (const k of Object.keys(env)) if (k.startsWith('MINIBACK_') || k === 'DATABASE_URL') delete env[k];
Object.assign(env, {
  MINIBACK_ADDR: `127.0.0.1:${port}`,
  // Upload tickets and avatar links point here (the local-disk storage).
  MINIBACK_PUBLIC_URL: `http://127.0.0.1:${port}`,
  MINIBACK_DATA_DIR: dataDir,
  MINIBACK_WECHAT_TIMEOUT: '2s',
  MINIBACK_SHUTDOWN_TIMEOUT: '10s',
  // Every test file calls from 127.0.0.1, as hundreds of users no client
  // address would ever hold: the budgets would refuse them. The limits
  // are tested by ratelimit.test.ts, on a second server of their own.
  MINIBACK_RATE_LIMITS: 'off',
});
const logPath = join(buildDir, 'miniback.log');
const log = createWriteStream(logPath);
const server = spawn(bin, [], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
let exited = null;
const exitedP = new Promise((ok) => server.once('exit', (code, signal) => ok((exited = { code, signal }))));

let seen = '';
const ready = await new Promise((ok) => {
  const timer = setTimeout(() => ok(false), 120_000);
  const watch = (chunk) => {
    log.write(chunk);
    seen += chunk.toString();
    if (seen.includes('miniback is ready')) {
      clearTimeout(timer);
      ok(true);
    }
    if (seen.length > 1 << 20) seen = seen.slice(-(1 << 16));
  };
  server.stdout.on('data', watch);
  server.stderr.on('data', watch);
  exitedP.then(() => {
    clearTimeout(timer);
    ok(false);
  });
});
const url = `http://127.0.0.1:${port}`;
// The embedded cluster's URL, from the start-up log: tests that need the
// admin command (miniback admin grant) point it there.
const dbUrl = /"url":"(postgres:[^"]+)"/.exec(seen)?.[1] ?? '';
// The WeChat simulator's URL, also from the log: tests play the WeChat
// client with it (open data sealed with the session_key it issued).
const simulatorUrl = /"simulator_url":"(http:[^"]+)"/.exec(seen)?.[1] ?? '';
let status = 1;
try {
  if (!ready) {
    console.error(`miniback did not become ready (exit: ${JSON.stringify(exited)}); its log:\n${readFileSync(logPath, 'utf8')}`);
  } else {
    console.log(`miniback is ready at ${url} (log: ${logPath})`);
    // `node test/run.mjs console docs`: only the test files whose names hold one of the words.
    const only = process.argv.slice(2);
    const files = testFiles(buildDir).filter((f) => only.length === 0 || only.some((w) => basename(f).includes(w)));
    if (files.length === 0) throw new Error(`no compiled tests under ${buildDir}: run tsc -p tsconfig.test.json first`);
    const args = ['--test', ...(process.env.CI ? ['--test-reporter=spec'] : []), ...files];
    // Not spawnSync: this process must keep draining the server's output,
    // or a full pipe would block the server's log writes, and its requests.
    const tests = spawn(process.execPath, args, {
      stdio: 'inherit',
      env: {
        ...process.env,
        MINIBACK_URL: url,
        MINIBACK_COVERAGE_DIR: coverageDir,
        MINIBACK_SPEC: join(root, 'openapi.yaml'),
        MINIBACK_BIN: bin,
        MINIBACK_TEST_DATABASE_URL: dbUrl,
        MINIBACK_SIMULATOR_URL: simulatorUrl,
      },
    });
    status = await new Promise((ok) => tests.once('exit', (code) => ok(code ?? 1)));
  }
} finally {
  if (!exited) {
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 30_000);
    await exitedP;
    clearTimeout(timer);
    if (exited.code !== 0) {
      console.error(`miniback exited with ${JSON.stringify(exited)} after SIGTERM; see ${logPath}`);
      status ||= 1;
    }
  }
  log.end();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(status);

function testFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'bin' && e.name !== 'coverage' && e.name !== 'node_modules') out.push(...testFiles(p));
    else if (e.isFile() && e.name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}
