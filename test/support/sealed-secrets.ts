import { parseMasterKeyList } from '#agentplane/config';
import { MasterKeyRing, SecretSealer, Sodium } from '#agentplane/keys';
import { openTestDatabase, silentLogger } from './db-client.js';
import type { TestStorage } from './storage.js';

interface Row {
  id: string;
  org_id: string;
  secret_format: number;
  master_key_id: string;
  wrapped_key: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
}

/**
 * Opens every stored credential secret straight from the database with the product's sealer and
 * the given master keys (AGENTPLANE_MASTER_KEYS syntax), independently of any running process.
 * Call it while no API owns an embedded data folder. Secrets that do not open map to undefined.
 */
export async function openStoredSecrets(storage: TestStorage, masterKeys: string): Promise<Map<string, string | undefined>> {
  const sealer = new SecretSealer(await Sodium.load(), new MasterKeyRing(parseMasterKeyList(masterKeys), 'test'), silentLogger);
  const db = await openTestDatabase(storage);
  try {
    const client = await db.client();
    const { rows } = await client.query<Row>(
      'SELECT id, org_id, secret_format, master_key_id, wrapped_key, nonce, ciphertext FROM credentials ORDER BY id',
    );
    const out = new Map<string, string | undefined>();
    for (const row of rows) {
      const sealed = {
        formatVersion: row.secret_format,
        masterKeyId: row.master_key_id,
        wrappedKey: new Uint8Array(row.wrapped_key),
        nonce: new Uint8Array(row.nonce),
        ciphertext: new Uint8Array(row.ciphertext),
      };
      const context = { orgId: row.org_id, ownerId: row.id, field: 'api_key' };
      out.set(row.id, await sealer.withPlaintext(sealed, context, (plaintext) => plaintext).catch(() => undefined));
    }
    return out;
  } finally {
    await db.close();
  }
}
