/**
 * The set-up most e2e files share: fresh storage, the built API started on it, and an API key
 * per organization, each with a generated client.
 */
import type { Client } from '../../clients/typescript/client/index.js';
import { apiClient } from './api-client.js';
import { createApiKey, type RunningApi, startApi } from './processes.js';
import { createTestStorage, type TestStorage } from './storage.js';

export interface TestApi {
  readonly storage: TestStorage;
  readonly api: RunningApi;
  /** The API key of each organization named at start-up. */
  readonly keys: Readonly<Record<string, string>>;
  /** A client authenticated as an organization named at start-up. */
  client(org: string): Client;
  /** Another organization's key, created now. */
  newKey(org: string): Promise<string>;
  /** Stops the API (when still running) and disposes of the storage. */
  dispose(): Promise<void>;
}

export async function startTestApi(orgs: readonly string[], env: Record<string, string> = {}): Promise<TestApi> {
  const storage = await createTestStorage();
  let api: RunningApi | undefined;
  try {
    api = await startApi({ ...storage.env, ...env });
    const keys: Record<string, string> = {};
    for (const org of orgs) keys[org] = (await createApiKey(org, storage.env)).api_key;
    const running = api;
    return {
      storage,
      api: running,
      keys,
      client: (org) => {
        const key = keys[org];
        if (key === undefined) throw new Error(`no key for ${org}: name it in startTestApi`);
        return apiClient(running.url, key);
      },
      newKey: async (org) => (await createApiKey(org, storage.env)).api_key,
      dispose: async () => {
        await running.stop();
        await storage.dispose();
      },
    };
  } catch (error) {
    await api?.stop();
    await storage.dispose();
    throw error;
  }
}
