import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseMasterKeyList } from '#agentplane/config';
import { createApiKey, runCli, startApi, type CliResult, type RunningApi } from './support/processes.js';
import { openStoredSecrets } from './support/sealed-secrets.js';
import { createTestStorage, usingPostgres, type TestStorage } from './support/storage.js';

const K1 = 'k1:' + randomBytes(32).toString('base64');
const K2 = 'k2:' + randomBytes(32).toString('base64');
const ORIGIN = 'https://api.example.com';

interface Status {
  keys: { id: string; records: number; active: boolean; configured: boolean }[];
  instances: { hostname: string; pid: number; key_ids: string[]; active_key_id: string }[];
}

function json<T>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`CLI exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

function recordsOn(status: Status, id: string): number | undefined {
  return status.keys.find((k) => k.id === id)?.records;
}

describe('master-key rotation through the CLI', () => {
  let storage: TestStorage;
  let api: RunningApi | undefined;

  beforeEach(async () => {
    storage = await createTestStorage();
  });

  afterEach(async () => {
    await api?.stop();
    api = undefined;
    await storage.dispose();
  });

  const withKeys = (keys?: string): Record<string, string> => {
    const env = { ...storage.env };
    delete env.AGENTPLANE_MASTER_KEYS;
    return keys === undefined ? env : { ...env, AGENTPLANE_MASTER_KEYS: keys };
  };
  const cli = (args: string[], keys?: string) => runCli(args, withKeys(keys));

  async function restart(keys?: string): Promise<RunningApi> {
    await api?.stop();
    api = await startApi(withKeys(keys));
    return api;
  }

  async function createCredentials(apiKey: string, count: number): Promise<Map<string, string>> {
    const created = new Map<string, string>();
    for (let i = 0; i < count; i++) {
      const secret = `sk-${randomBytes(24).toString('base64url')}`;
      const res = await fetch(`${api!.url}/v1/credentials`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `cred ${i}`, api_key: secret, allowed_origins: [ORIGIN] }),
      });
      expect(res.status).toBe(201);
      created.set(((await res.json()) as { id: string }).id, secret);
    }
    return created;
  }

  it('adds a key, rewraps while the API serves, drops the old key, and every secret still opens', async () => {
    await restart(K1);
    const { api_key: apiKey } = await createApiKey('rotation', withKeys(K1));
    const secrets = await createCredentials(apiKey, 12);

    // New active key first, the old one still held.
    await restart(`${K2},${K1}`);
    for (const [id, secret] of await createCredentials(apiKey, 2)) secrets.set(id, secret);
    const before = json<Status>(await cli(['keys', 'status', '--json'], `${K2},${K1}`));
    expect(recordsOn(before, 'k1')).toBe(12);
    expect(recordsOn(before, 'k2')).toBe(2);

    const rewrap = json<{ rewrapped: number; failed: number; remaining: number }>(
      await cli(['keys', 'rewrap', '--batch', '5', '--json'], `${K2},${K1}`),
    );
    expect(rewrap).toEqual({ active_key_id: 'k2', rewrapped: 12, failed: 0, remaining: 0 });
    const after = json<Status>(await cli(['keys', 'status', '--json'], `${K2},${K1}`));
    expect(after.keys).toEqual([
      { id: 'k2', records: 14, active: true, configured: true },
      { id: 'k1', records: 0, active: false, configured: true },
    ]);
    // The running API (still holding both keys) serves every credential throughout.
    expect((await fetch(`${api!.url}/v1/credentials?limit=100`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(200);

    // The old key removed: the app starts and every secret opens.
    await restart(K2);
    expect(json<{ checked: number; failed: unknown[] }>(await cli(['keys', 'verify', '--json'], K2))).toEqual({
      checked: 14,
      failed: [],
    });
    await api!.stop();
    api = undefined;
    expect(await openStoredSecrets(storage, K2)).toEqual(secrets);
    // Proof that the old key really is gone from every record.
    expect([...(await openStoredSecrets(storage, K1)).values()].every((v) => v === undefined)).toBe(true);
  });

  it('leaves every record openable when two rewraps run at once', async () => {
    await restart(K1);
    const { api_key: apiKey } = await createApiKey('rotation', withKeys(K1));
    const secrets = await createCredentials(apiKey, 120);
    await restart(`${K2},${K1}`);

    const [a, b] = await Promise.all([
      cli(['keys', 'rewrap', '--batch', '7', '--json'], `${K2},${K1}`),
      cli(['keys', 'rewrap', '--batch', '7', '--json'], `${K2},${K1}`),
    ]);
    const reports = [a, b].map((r) => json<{ rewrapped: number; failed: number }>(r));
    expect(reports.every((r) => r.failed === 0)).toBe(true);
    // Each record was moved once: by one process or the other, never lost, never twice.
    expect(reports[0]!.rewrapped + reports[1]!.rewrapped).toBe(120);
    expect(recordsOn(json<Status>(await cli(['keys', 'status', '--json'], `${K2},${K1}`)), 'k1')).toBe(0);

    await api!.stop();
    api = undefined;
    expect(await openStoredSecrets(storage, K2)).toEqual(secrets);
  });

  it('will not rewrap to a key a running instance lacks, nor start without a key that records need', async () => {
    await restart(K1);
    const { api_key: apiKey } = await createApiKey('rotation', withKeys(K1));
    const secrets = await createCredentials(apiKey, 3);
    const running = json<Status>(await cli(['keys', 'status', '--json'], K1)).instances;
    expect(running).toEqual([{ hostname: expect.any(String), pid: expect.any(Number), key_ids: ['k1'], active_key_id: 'k1' }]);

    // The operator made k2 active for the CLI but has not restarted the API with it.
    const refused = await cli(['keys', 'rewrap'], `${K2},${K1}`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`1 running instance(s) do not hold master key "k2"`);
    expect(refused.stderr).toContain(`pid ${running[0]!.pid}`);
    expect(recordsOn(json<Status>(await cli(['keys', 'status', '--json'], `${K2},${K1}`)), 'k1')).toBe(3);

    // k1 dropped before any rewrap: the API refuses to serve; the CLI still reports why.
    await api!.stop();
    api = undefined;
    await expect(startApi(withKeys(K2))).rejects.toThrow(
      'stored secrets are sealed under master key(s) this process does not hold: "k1" (3 record(s))',
    );
    const status = json<Status>(await cli(['keys', 'status', '--json'], K2));
    expect(status.keys).toContainEqual({ id: 'k1', records: 3, active: false, configured: false });
    expect(status.instances).toEqual([]); // a stopped or refused instance is not listed

    // Done in the right order, the same rewrap goes through.
    await restart(`${K2},${K1}`);
    expect(json<{ rewrapped: number; remaining: number }>(await cli(['keys', 'rewrap', '--json'], `${K2},${K1}`))).toMatchObject({
      rewrapped: 3,
      remaining: 0,
    });
    await api!.stop();
    api = undefined;
    expect(await openStoredSecrets(storage, K2)).toEqual(secrets);
  });

  it('refuses to start when a configured key id names other material than before', async () => {
    await restart(K1);
    await api!.stop();
    api = undefined;
    const impostor = 'k1:' + randomBytes(32).toString('base64');
    await expect(startApi(withKeys(impostor))).rejects.toThrow(
      'AGENTPLANE_MASTER_KEYS: master key "k1" is not the key this database knows by that id',
    );
    const result = await cli(['keys', 'status'], impostor);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('master key "k1" is not the key this database knows');
    expect(result.stderr + result.stdout).not.toContain(impostor.slice(3, 20));
  });

  it('explains rotation and prints a well-formed new key when keys come from the environment', async () => {
    const result = await cli(['keys', 'rotate'], K1);
    expect(result.code).toBe(0);
    const entry = /^ {2}(mk-\d{8}-[0-9a-f]{6}:\S+)$/m.exec(result.stdout)?.[1];
    expect(entry).toBeDefined();
    expect(parseMasterKeyList(entry!)[0]!.key).toHaveLength(32);
    expect(result.stdout).toContain('keys rewrap');
    expect(result.stdout).not.toContain(K1.slice(3));
  });

  (usingPostgres ? it.skip : it)(
    'embedded without keys: refuses to rotate a key file that does not exist yet, and creates none',
    async () => {
      const keyFile = join(storage.dataDir, 'master-keys');
      const rotate = await cli(['keys', 'rotate']);
      expect(rotate.code).toBe(1);
      expect(rotate.stderr).toContain(`There is no master key file at ${keyFile} yet`);
      await expect(stat(keyFile)).rejects.toMatchObject({ code: 'ENOENT' });

      // The first start makes the one key; a rotation then adds exactly one more.
      await restart(undefined);
      await api!.stop();
      api = undefined;
      expect((await cli(['keys', 'rotate'])).code).toBe(0);
      const keys = (await readFile(keyFile, 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
      expect(keys).toHaveLength(2);
    },
  );

  (usingPostgres ? it.skip : it)('embedded without keys: generates a private key file, keeps using it, and rotates it', async () => {
    await restart(undefined);
    const keyFile = join(storage.dataDir, 'master-keys');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    const [original] = parseMasterKeyList(
      (await readFile(keyFile, 'utf8'))
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .join(','),
    );
    expect(api!.output()).toContain('generated a master key');
    expect(api!.output()).not.toContain(Buffer.from(original!.key).toString('base64'));
    const { api_key: apiKey } = await createApiKey('file-keys', withKeys());
    const secrets = await createCredentials(apiKey, 3);

    // Rotation in file mode writes the new active key into the file.
    const rotate = await cli(['keys', 'rotate']);
    expect(rotate.code).toBe(0);
    const keys = parseMasterKeyList(
      (await readFile(keyFile, 'utf8'))
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .join(','),
    );
    expect(keys.map((k) => k.id)).toEqual([expect.stringMatching(/^mk-/), original!.id]);
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

    await restart(undefined);
    expect(json<{ rewrapped: number }>(await cli(['keys', 'rewrap', '--json'])).rewrapped).toBe(3);
    expect(recordsOn(json<Status>(await cli(['keys', 'status', '--json'])), original!.id)).toBe(0);
    await api!.stop();
    api = undefined;
    const fileKeys = keys.map((k) => `${k.id}:${Buffer.from(k.key).toString('base64')}`);
    expect(await openStoredSecrets(storage, fileKeys[0]!)).toEqual(secrets);
  });
});
