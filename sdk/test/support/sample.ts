// Runs the sample mini-program's compiled pages in Node: the globals a
// mini-program has (wx, App, Page, getApp) are set up with a wx shim doing
// real HTTP, each page module is loaded fresh, and a page instance gets
// data and setData as in the mini-program runtime.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { baseUrl } from './env';
import type { WxShim } from './wxshim';

// Compiled by `tsc -p ../miniprogram/tsconfig.json` into build/miniprogram.
const built = resolve(__dirname, '..', '..', '..', 'miniprogram');
const source = resolve(__dirname, '..', '..', '..', '..', '..', 'miniprogram', 'miniprogram');

type PageOptions = Record<string, unknown> & { data?: Record<string, unknown> };

export interface PageInstance {
  route: string;
  data: Record<string, unknown>;
  setData(patch: Record<string, unknown>, cb?: () => void): void;
  [method: string]: unknown;
}

export interface Sample {
  wx: WxShim;
  config: { apiBaseUrl: string; devLoginName: string };
  /** Loads a page (e.g. 'pages/tasks/tasks') and runs its onLoad with query. */
  open(route: string, query?: Record<string, string>): Promise<PageInstance>;
  /** Calls a page method and waits for it and every request it started. */
  call(page: PageInstance, method: string, ...args: unknown[]): Promise<unknown>;
}

/** loadSample starts the sample app on a fresh module cache with wx. */
export function loadSample(wx: WxShim, devLoginName = ''): Sample {
  vendorSdk();
  for (const k of Object.keys(require.cache)) if (k.startsWith(built)) delete require.cache[k];
  const g = globalThis as unknown as Record<string, unknown>;
  let app: unknown;
  let captured: PageOptions | undefined;
  g.wx = wx;
  g.App = (o: unknown) => {
    app = o;
  };
  g.getApp = () => app;
  g.Page = (o: PageOptions) => {
    captured = o;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const config = (require(join(built, 'config.js')) as { config: Sample['config'] }).config;
  config.apiBaseUrl = baseUrl();
  config.devLoginName = devLoginName;
  require(join(built, 'app.js'));

  const call = async (page: PageInstance, method: string, ...args: unknown[]) => {
    const fn = page[method];
    if (typeof fn !== 'function') throw new Error(`page ${page.route} has no method ${method}`);
    const out = await (fn as (...a: unknown[]) => unknown).apply(page, args);
    await wx.idle();
    return out;
  };
  return {
    wx,
    config,
    async open(route, query = {}) {
      captured = undefined;
      const file = join(built, `${route}.js`);
      delete require.cache[file];
      require(file);
      if (!captured) throw new Error(`${route} did not call Page()`);
      const page = instantiate(route, captured);
      if (typeof page.onLoad === 'function') await call(page, 'onLoad', query);
      return page;
    },
    call,
  };
}

function instantiate(route: string, options: PageOptions): PageInstance {
  const page: PageInstance = {
    ...options,
    route,
    data: structuredClone(options.data ?? {}),
    setData(patch, cb) {
      for (const [path, value] of Object.entries(patch)) setPath(this.data, path, structuredClone(value));
      cb?.();
    },
  };
  return page;
}

// setPath applies a setData key: 'a', 'a.b', 'list[2].done'.
function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let cur: Record<string, unknown> = target;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = value;
}

// The sample imports the SDK from lib/miniback-sdk (vendored JS, which tsc
// does not copy): put it beside the compiled pages.
function vendorSdk(): void {
  const from = join(source, 'lib', 'miniback-sdk');
  const to = join(built, 'lib', 'miniback-sdk');
  if (existsSync(join(to, 'index.js'))) return;
  mkdirSync(to, { recursive: true });
  for (const f of readdirSync(from)) if (f.endsWith('.js')) copyFileSync(join(from, f), join(to, f));
}
