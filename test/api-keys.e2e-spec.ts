import { type ApiKey, createApiKey, listApiKeys, revokeApiKey } from '../clients/typescript/index.js';
import { apiClient, expectClientInvalid, expectClientProblem, expectStatus, untyped } from './support/api-client.js';
import { ISO, send } from './support/http.js';
import { openTestDatabase } from './support/db-client.js';
import { startTestApi, type TestApi } from './support/test-api.js';

describe('API keys over HTTP', () => {
  let t: TestApi;

  beforeAll(async () => {
    t = await startTestApi(['acme', 'globex']);
  });

  afterAll(async () => {
    await t?.dispose();
  });

  const status = async (key: string) => (await send(t.api.url, 'GET', '/v1/organization', key)).status;

  /** Rows straight from the database the running API serves (its socket, on embedded storage). */
  async function rows<T>(sql: string): Promise<T[]> {
    const db = await openTestDatabase(t.storage, { attach: true });
    try {
      return (await (await db.client()).query(sql)).rows as T[];
    } finally {
      await db.close();
    }
  }

  it('issues a key shown once, that works at once, and is listed without it', async () => {
    const client = t.client('acme');
    const result = await createApiKey({ client, body: { name: 'voice gateway' } });
    const created = expectStatus(result, 201);
    expect(created).toEqual({
      id: expect.stringMatching(/^key_/),
      object: 'api_key',
      name: 'voice gateway',
      prefix: created.api_key.slice(0, created.prefix.length),
      created_at: expect.stringMatching(ISO),
      last_used_at: null,
      revoked_at: null,
      api_key: expect.stringMatching(/^ap_/),
    });
    expect(result.response!.headers.get('location')).toBe(`/v1/api-keys/${created.id}`);
    expect(result.response!.headers.get('cache-control')).toBe('no-store');
    expect(await status(created.api_key)).toBe(200);

    const listed = await listApiKeys({ client: apiClient(t.api.url, created.api_key) });
    const page = expectStatus(listed, 200);
    expect(page.data.map((k) => k.id)).toContain(created.id);
    const text = JSON.stringify(page);
    expect(text).not.toContain(created.api_key);
    expect(text).not.toContain(t.keys.acme!);
    expect(page.data.find((k) => k.id === created.id)).toEqual({
      ...created,
      api_key: undefined,
      last_used_at: expect.stringMatching(ISO),
    });
    // Only the hash is stored: the key is in no row.
    const stored = await rows<{ row: string }>('SELECT row_to_json(k)::text AS row FROM api_keys k');
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.some((r) => r.row.includes(created.api_key))).toBe(false);
  });

  it('issues a key without a name from an empty body, and refuses a blank or long one naming the field', async () => {
    const client = t.client('acme');
    expect(expectStatus(await createApiKey({ client }), 201).name).toBeNull();
    expect(expectStatus(await createApiKey({ client, body: {} }), 201).name).toBeNull();
    expect(expectClientInvalid(await createApiKey({ client, body: { name: ' ' } }))).toEqual([
      { path: 'name', code: 'blank', message: 'must not be blank' },
    ]);
    expect(expectClientInvalid(await createApiKey({ client, body: { name: 'x'.repeat(101) } })).map((e) => e.path)).toEqual(['name']);
    expect(expectClientInvalid(await createApiKey({ client, body: untyped({ name: 'k', org_id: 'org_x' }) })).map((e) => e.path)).toEqual([
      'org_id',
    ]);
  });

  it('revokes a key at once, keeps a second revoke harmless, and never revokes the last active key', async () => {
    const { api_key: first } = expectStatus(await createApiKey({ client: t.client('globex'), body: { name: 'first' } }), 201);
    const own = apiClient(t.api.url, first);
    // Every other key of globex is revoked through the new one, until one is left.
    const active = (await listKeys(first)).filter((k) => k.revoked_at === null);
    const firstId = active.find((k) => k.name === 'first')!.id;
    for (const key of active.filter((k) => k.id !== firstId)) {
      expectStatus(await revokeApiKey({ client: own, path: { id: key.id } }), 204);
    }
    expect(await status(t.keys.globex!)).toBe(401);
    // Revoking a revoked key again changes nothing.
    expectStatus(await revokeApiKey({ client: own, path: { id: active.find((k) => k.id !== firstId)!.id } }), 204);

    const last = expectClientProblem(await revokeApiKey({ client: own, path: { id: firstId } }), 409, 'last_active_api_key');
    expect(last.detail).toContain('last active API key');
    expect(await status(first)).toBe(200);

    // With a second key, the first can go: the key that asked is refused from its next request on.
    const { api_key: second } = expectStatus(await createApiKey({ client: own }), 201);
    expectStatus(await revokeApiKey({ client: own, path: { id: firstId } }), 204);
    expect(await status(first)).toBe(401);
    expect(await status(second)).toBe(200);
    const revoked = (await listKeys(second)).find((k) => k.id === firstId)!;
    expect(revoked.revoked_at).toEqual(expect.stringMatching(ISO));
  });

  it('lets exactly one of two concurrent revocations of the last two keys through', async () => {
    const org = 'race-' + Date.now().toString(36);
    const a = await t.newKey(org);
    const { id: bId } = expectStatus(await createApiKey({ client: apiClient(t.api.url, a) }), 201);
    const aId = (await listKeys(a)).find((k) => k.id !== bId)!.id;
    const client = apiClient(t.api.url, a);
    const answers = await Promise.all([aId, bId].map((id) => revokeApiKey({ client, path: { id } })));
    expect(answers.map((r) => r.response!.status).sort()).toEqual([204, 409]);
    const keys = await rows<{ n: number }>(
      `SELECT count(*)::int AS n FROM api_keys k JOIN organizations o ON o.id = k.org_id WHERE o.name = '${org}' AND k.revoked_at IS NULL`,
    );
    expect(keys).toEqual([{ n: 1 }]);
  });

  it("answers 404 for another organization's key and for an unknown id, and pages the list", async () => {
    const globexKey = await t.newKey('globex');
    const globexId = (await listKeys(globexKey))[0]!.id;
    const acme = t.client('acme');
    expectClientProblem(await revokeApiKey({ client: acme, path: { id: globexId } }), 404, 'not_found');
    expectClientProblem(await revokeApiKey({ client: acme, path: { id: 'key_unknown' } }), 404, 'not_found');
    expect(await status(globexKey)).toBe(200);

    const first = expectStatus(await listApiKeys({ client: acme, query: { limit: 1 } }), 200);
    expect(first.data).toHaveLength(1);
    expect(first.has_more).toBe(true);
    const second = expectStatus(await listApiKeys({ client: acme, query: { limit: 1, after: first.next_cursor! } }), 200);
    expect(second.data[0]!.id).not.toBe(first.data[0]!.id);
    expect(Date.parse(second.data[0]!.created_at)).toBeLessThanOrEqual(Date.parse(first.data[0]!.created_at));
  });

  async function listKeys(key: string): Promise<ApiKey[]> {
    return expectStatus(await listApiKeys({ client: apiClient(t.api.url, key), query: { limit: 100 } }), 200).data;
  }
});
