import { pino } from 'pino';
import pg from 'pg';
import { EmbeddedPostgres } from '#agentplane/db';
import type { TestStorage } from './storage.js';

export const silentLogger = pino({ level: 'silent' });

/**
 * Opens the test storage in this process and hands out plain pg clients to it. With `attach`, an
 * embedded database that a running API owns is reached through that process's socket.
 */
export async function openTestDatabase(
  storage: TestStorage,
  options: { attach?: boolean } = {},
): Promise<{
  client(): Promise<pg.Client>;
  close(): Promise<void>;
}> {
  const embedded =
    storage.kind === 'embedded'
      ? await EmbeddedPostgres.open(storage.dataDir, silentLogger, { attach: options.attach ?? false })
      : undefined;
  const config: pg.ClientConfig = embedded === undefined ? { connectionString: storage.url } : embedded.clientConfig();
  const clients: pg.Client[] = [];
  return {
    client: async () => {
      const client = new pg.Client(config);
      await client.connect();
      clients.push(client);
      return client;
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await embedded?.close();
    },
  };
}
