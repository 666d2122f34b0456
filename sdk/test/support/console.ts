// What the console's browser tests share: Debian's Chromium driven by
// playwright-core (as the /docs test does), an administrator made the
// way an operator makes one (a password account, then `miniback admin
// grant`), a signed-in console page, an accessibility check with axe-core
// on every page, and a screenshot of each under console/test/screenshots.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { baseUrl, nodeClient, uniqueName } from './env';

/** Debian's chromium package (.ci/run installs it); playwright's own download is not used. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Committed: the README links them. (This file runs from sdk/build/sdk/test/support.) */
export const SCREENSHOTS = resolve(__dirname, '..', '..', '..', '..', '..', 'console', 'test', 'screenshots');

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** A password account with the admin role, and what signs it in. */
export interface Admin {
  id: string;
  login: string;
  password: string;
}

/** Grants user id the admin role with miniback's own command, on the test server's database. */
export function grantAdmin(id: string): void {
  const db = process.env.MINIBACK_TEST_DATABASE_URL;
  const bin = process.env.MINIBACK_BIN;
  assert.ok(db && bin, 'run.mjs gives the database URL and the binary');
  const dataDir = mkdtempSync(join(tmpdir(), 'miniback-admin-'));
  try {
    execFileSync(bin, ['admin', 'grant', id], { env: { ...process.env, DATABASE_URL: db, MINIBACK_DATA_DIR: dataDir }, stdio: 'pipe' });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Registers a password account; with admin, grants it the role. */
export async function passwordAccount(admin: boolean): Promise<Admin> {
  const name = uniqueName('op').replace(/-/g, '_');
  const password = `console ${name} battery staple`;
  const { user } = await nodeClient().register({ username: name, email: `${name}@example.com`, password });
  if (admin) grantAdmin(user.id);
  return { id: user.id, login: name, password };
}

/** One Chromium for a test file; each test gets its own context (cookies, memory). */
export class ConsoleBrowser {
  private browser: Browser | null = null;
  private readonly contexts: BrowserContext[] = [];

  async start(): Promise<void> {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
    this.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }

  async stop(): Promise<void> {
    for (const c of this.contexts) await c.close().catch(() => undefined);
    await this.browser?.close();
  }

  /** A new page in a fresh context, watching for page errors, CSP refusals and requests to other hosts. */
  async page(opts: { width?: number; height?: number; locale?: string } = {}): Promise<ConsolePage> {
    assert.ok(this.browser, 'start() first');
    const context = await this.browser.newContext({
      viewport: { width: opts.width ?? 1280, height: opts.height ?? 900 },
      locale: opts.locale ?? 'en-US',
      deviceScaleFactor: 1,
    });
    this.contexts.push(context);
    const page = await context.newPage();
    return new ConsolePage(page);
  }
}

export class ConsolePage {
  readonly errors: string[] = [];
  readonly foreign: string[] = [];

  constructor(readonly page: Page) {
    page.on('pageerror', (e) => this.errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      // A CSP refusal is reported on the console ("Refused to …").
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) this.errors.push(`csp: ${m.text()}`);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith(baseUrl()) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) this.foreign.push(r.url());
    });
    // Confirmations (disable a user, end all sessions) are accepted.
    page.on('dialog', (d) => void d.accept());
  }

  /** Opens a console route (#/users, …). */
  async open(route = ''): Promise<void> {
    const res = await this.page.goto(`${baseUrl()}/console/${route ? `#${route}` : ''}`);
    // null: only the hash changed (the page is already loaded).
    if (res) assert.equal(res.status(), 200);
  }

  /** Signs in through the sign-in form and waits for the users page. */
  async signIn(a: { login: string; password: string }): Promise<void> {
    await this.open('/sign-in');
    await this.page.locator('input[name="login"]').fill(a.login);
    await this.page.locator('input[name="password"]').fill(a.password);
    await this.page.getByRole('button', { name: /^(Sign in|登录)$/ }).click();
    await this.page.waitForURL(/#\/users/);
    await this.page.waitForSelector('[data-test="users"]');
  }

  /**
   * Checks the page as it is now with axe-core (WCAG 2 A and AA rules):
   * no serious or critical violation. axe is evaluated through the
   * DevTools protocol, which the page's CSP does not govern.
   */
  async checkAccessibility(name: string): Promise<void> {
    await this.page.evaluate(AXE_SOURCE);
    const violations = await this.page.evaluate(async () => {
      const axe = (globalThis as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact?: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } }).axe;
      const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.map((n) => JSON.stringify(n.target)).slice(0, 5) }));
    });
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(serious, [], `${name}: axe found serious or critical accessibility violations`);
  }

  /** Saves a screenshot as console/test/screenshots/<name>.png and checks the page's accessibility. */
  async snap(name: string, { fullPage = true } = {}): Promise<void> {
    await this.checkAccessibility(name);
    await this.page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
  }

  /** Nothing went wrong on the page: no error, no CSP refusal, nothing loaded from elsewhere. */
  assertClean(): void {
    assert.deepEqual(this.errors, [], 'the page reported errors');
    assert.deepEqual(this.foreign, [], 'the page loads only from the server');
  }
}
