// What every test file shares: the running server's URL and clients whose
// every response is checked against openapi.yaml.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createClient, fetchTransport, memoryTokenStore, type ClientOptions, type MinibackClient, type Transport } from '../../src';
import { validating } from './contract';

/** The miniback started by test/run.mjs. */
export function baseUrl(): string {
  const url = process.env.MINIBACK_URL;
  if (!url) throw new Error('MINIBACK_URL is not set: run the tests with `npm test` (test/run.mjs starts miniback)');
  return url;
}

/** The WeChat simulator of the miniback started by test/run.mjs (from its start-up log). */
export function simulatorUrl(): string {
  const url = process.env.MINIBACK_SIMULATOR_URL;
  if (!url) throw new Error('MINIBACK_SIMULATOR_URL is not set: run the tests with `npm test` (test/run.mjs reads it from the log)');
  return url;
}

/** A simulator name nobody else uses, so tests never share a user. */
export function uniqueName(prefix = 'user'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

/** The Node transport (fetch), validating every response. */
export function nodeTransport(): Transport {
  return validating(
    baseUrl(),
    fetchTransport({ readFile: async (path) => new Blob([await readFile(path)]) }),
  );
}

/**
 * A Node client whose login codes are the simulator's `dev-<name>`: the
 * same stable user every time, as wx.login gives the same openid.
 */
export function nodeClient(name = uniqueName(), options: Partial<ClientOptions> = {}): MinibackClient & { name: string } {
  const client = createClient({
    baseUrl: baseUrl(),
    transport: nodeTransport(),
    tokens: memoryTokenStore(),
    loginCode: async () => `dev-${name}`,
    ...options,
  });
  return Object.assign(client, { name });
}
