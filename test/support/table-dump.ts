import { openTestDatabase } from './db-client.js';
import type { TestStorage } from './storage.js';

/**
 * Every row of every table of the public schema as text, by table name: what a leak search reads.
 * Call it while no API owns an embedded data folder.
 */
export async function dumpTables(storage: TestStorage): Promise<Map<string, string>> {
  const db = await openTestDatabase(storage);
  try {
    const client = await db.client();
    const tables = (
      await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    ).rows.map((r) => r.tablename);
    const dumps = new Map<string, string>();
    for (const table of tables) {
      const rows = (await client.query<{ row: string }>(`SELECT t::text AS row FROM "${table.replaceAll('"', '""')}" t`)).rows;
      dumps.set(table, rows.map((r) => r.row).join('\n'));
    }
    return dumps;
  } finally {
    await db.close();
  }
}
