// The API reference page (/docs: Swagger UI served from the binary, on the
// embedded spec) loads in headless Chromium and shows every operation of
// openapi.yaml. A screenshot goes to build/screenshots/docs.png.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { spec } from './support/contract';
import { baseUrl } from './support/env';

// Debian's chromium package; .ci/run installs it. playwright's own browser
// download is not used.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = resolve(__dirname, '..', '..', 'screenshots');

describe('API reference page (/docs)', () => {
  let browser: BrowserContext;
  const profile = mkdtempSync(join(tmpdir(), 'miniback-chromium-'));

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
    // A fresh profile each run (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 1600 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('shows every operation, with no page errors and nothing loaded from outside the server', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const foreign: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(baseUrl()) && !r.url().startsWith('data:')) foreign.push(r.url());
    });
    const res = await page.goto(`${baseUrl()}/docs`, { waitUntil: 'networkidle' });
    assert.equal(res?.status(), 200);
    await page.waitForSelector('.opblock', { timeout: 30_000 });

    // Swagger UI gives each operation a block with id operations-<tag>-<operationId>.
    const shown = await page.$$eval('.opblock', (els) => els.map((e) => e.id.toLowerCase()));
    for (const r of spec().routes) {
      const tag = ((r.operation.tags as string[] | undefined) ?? ['default'])[0];
      const id = `operations-${tag}-${r.operationId}`.toLowerCase();
      assert.ok(shown.includes(id), `/docs does not show ${r.operationId} (${r.method} ${r.template}); shown: ${shown.join(', ')}`);
    }
    const paths = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path')));
    for (const r of spec().routes) assert.ok(paths.includes(r.template), `/docs does not show the path ${r.template}`);
    const title = await page.textContent('.info .title');
    assert.match(title ?? '', /miniback API/);

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'docs.png'), fullPage: true });
    assert.deepEqual(errors, [], 'the page threw');
    assert.deepEqual(foreign, [], 'the page loads only from the server');
  });
});
