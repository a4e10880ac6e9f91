import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from '../clients/typescript/client/index.js';
import {
  type Agent,
  type AgentList,
  type AgentRequestWritable,
  createAgent,
  createCredential,
  deleteAgent,
  deleteCredential,
  getAgent,
  listAgents,
  listCredentials,
  type LlmEntry,
  replaceAgent,
} from '../clients/typescript/index.js';
import { apiClient, expectClientInvalid, expectClientProblem, expectStatus, untyped } from './support/api-client.js';
import { canaryLeaks } from './support/canary.js';
import { openTestDatabase } from './support/db-client.js';
import { type Body, expectInvalid, expectProblem, hintOf, ISO, providerKey, send } from './support/http.js';
import { runCli, startApi } from './support/processes.js';
import { openStoredSecrets } from './support/sealed-secrets.js';
import { usingPostgres } from './support/storage.js';
import { startTestApi, type TestApi } from './support/test-api.js';

// Public IP literals: the save-time check needs no DNS for them, and nothing here connects to
// them (the runtime, which would, is not exercised by these tests).
const ORIGIN_A = 'https://93.184.216.34';
const ORIGIN_B = 'https://93.184.216.34:8443';
const ORIGIN_C = 'https://1.1.1.1';

describe('agents over HTTP', () => {
  let test: TestApi;
  let client: Client;
  let other: Client;

  beforeAll(async () => {
    test = await startTestApi(['agents-main', 'agents-other']);
    client = test.client('agents-main');
    other = test.client('agents-other');
  });

  afterAll(async () => {
    await test?.dispose();
  });

  /** What no typed client sends (raw JSON text, unknown properties or query parameters): a plain request. */
  const call = (method: string, path: string, body?: Body, headers: Record<string, string> = {}): Promise<Response> =>
    send(test.api.url, method, path, test.keys['agents-main'], body, headers);

  /** A client of a fresh organization. */
  const newOrg = async (org: string): Promise<Client> => apiClient(test.api.url, await test.newKey(org));

  async function create(body: AgentRequestWritable, as = client): Promise<{ agent: Agent; etag: string }> {
    const created = await createAgent({ client: as, body });
    return { agent: expectStatus(created, 201), etag: created.response!.headers.get('etag')! };
  }

  async function read(id: string, as = client): Promise<{ agent: Agent; etag: string }> {
    const got = await getAgent({ client: as, path: { id } });
    return { agent: expectStatus(got, 200), etag: got.response!.headers.get('etag')! };
  }

  /** Agent-owned credentials and each entry's credential, straight from the database. */
  async function storedKeys(agentId: string): Promise<{ owned: string[]; entries: string[] }> {
    const db = await openTestDatabase(test.storage, { attach: true });
    try {
      const pg = await db.client();
      const owned = await pg.query<{ id: string }>('SELECT id FROM credentials WHERE owner_agent_id = $1 ORDER BY id', [agentId]);
      const entries = await pg.query<{ credential_id: string }>(
        'SELECT credential_id FROM agent_llm_entries WHERE agent_id = $1 ORDER BY position',
        [agentId],
      );
      return { owned: owned.rows.map((r) => r.id), entries: entries.rows.map((r) => r.credential_id) };
    } finally {
      await db.close();
    }
  }

  describe('happy paths', () => {
    it('creates an agent with an inline key: 201, Location, ETag, the exact shape, the key only as its hint', async () => {
      const apiKey = providerKey(51);
      const res = await createAgent({
        client,
        body: {
          name: 'Support line',
          instructions: 'Be brief.',
          llm: [{ base_url: `${ORIGIN_A}/v1`, model: 'gpt-4o-mini', api_key: apiKey }],
          temperature: 0.7,
          max_tokens: 512,
          metadata: { team: 'support' },
        },
      });
      const body = expectStatus(res, 201);
      expect(res.response!.headers.get('location')).toBe(`/v1/agents/${body.id}`);
      expect(res.response!.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
      expect(body).toEqual({
        id: expect.stringMatching(/^agt_[0-9a-z]{26}$/),
        object: 'agent',
        name: 'Support line',
        instructions: 'Be brief.',
        llm: [
          {
            base_url: `${ORIGIN_A}/v1`,
            model: 'gpt-4o-mini',
            api: 'chat_completions',
            auth: 'bearer',
            api_key_hint: hintOf(apiKey),
            headers: [],
          },
        ],
        temperature: 0.7,
        max_tokens: 512,
        metadata: { team: 'support' },
        tools: [],
        system_tools: {},
        forward_metadata: false,
        variables: {},
        created_at: expect.stringMatching(ISO),
        updated_at: body.created_at,
      });
      expect(JSON.stringify(body)).not.toContain(apiKey);

      const again = await read(body.id);
      expect(again.agent).toEqual(body);
      expect(again.etag).toBe(res.response!.headers.get('etag'));

      // The inline key is the agent's own: not among the organization's credentials.
      const creds = expectStatus(await listCredentials({ client, query: { limit: 100 } }), 200);
      expect(creds.data).toEqual([]);
      const stored = await storedKeys(body.id);
      expect(stored.owned).toHaveLength(1);
      expect(stored.entries).toEqual(stored.owned);
    });

    it('stores per-entry timeouts and shows them back; an entry without them shows none', async () => {
      const { agent } = await create({
        name: 'Timed',
        llm: [
          { base_url: ORIGIN_A, model: 'a', api_key: providerKey(20), timeouts: { first_token_ms: 1500, idle_ms: 800 } },
          { base_url: ORIGIN_C, model: 'c', api_key: providerKey(20) },
        ],
      });
      expect(agent.llm.map((e) => e.timeouts)).toEqual([{ first_token_ms: 1500, idle_ms: 800 }, undefined]);
    });

    it('applies defaults: llm [], api chat_completions, auth bearer, null instructions/temperature/max_tokens, {} metadata', async () => {
      const { agent } = await create({ name: 'Bare' });
      expect(agent).toMatchObject({ llm: [], instructions: null, temperature: null, max_tokens: null, metadata: {} });
      const { agent: responses } = await create({
        name: 'Responses',
        llm: [{ base_url: ORIGIN_C, model: 'o4', api: 'responses', api_key: providerKey(12) }],
      });
      expect(responses.llm).toEqual([
        { base_url: `${ORIGIN_C}/`, model: 'o4', api: 'responses', auth: 'bearer', api_key_hint: '****', headers: [] },
      ]);
    });

    it('references an org credential allowed for the entry origin, and shows its id and hint', async () => {
      const credKey = providerKey(40);
      const cred = expectStatus(
        await createCredential({ client, body: { name: 'shared', api_key: credKey, allowed_origins: [ORIGIN_A, ORIGIN_C] } }),
        201,
      );
      const { agent } = await create({
        name: 'Uses shared',
        llm: [
          { base_url: `${ORIGIN_A}/v1`, model: 'a', credential_id: cred.id },
          { base_url: `${ORIGIN_C}/openai`, model: 'c', credential_id: cred.id },
        ],
      });
      expect(agent.llm.map((e: LlmEntry) => [e.credential_id, e.api_key_hint])).toEqual([
        [cred.id, hintOf(credKey)],
        [cred.id, hintOf(credKey)],
      ]);

      // In use: the credential cannot be deleted, unless forced, which removes the entries.
      expectClientProblem(await deleteCredential({ client, path: { id: cred.id } }), 409, 'credential_in_use');
      expectStatus(await deleteCredential({ client, path: { id: cred.id }, query: { force: 'true' } }), 204);
      const after = await read(agent.id);
      expect(after.agent.llm).toEqual([]);
    });

    it('lists newest first with cursor pagination, stable under inserts; refuses a foreign cursor', async () => {
      const org = await newOrg('agents-pages');
      const made: string[] = [];
      for (let i = 0; i < 5; i++) made.push((await create({ name: `p${i}` }, org)).agent.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      const sizes: number[] = [];
      do {
        const page: AgentList = expectStatus(
          await listAgents({ client: org, query: { limit: 2, ...(cursor === null ? {} : { after: cursor }) } }),
          200,
        );
        sizes.push(page.data.length);
        seen.push(...page.data.map((a) => a.id));
        if (seen.length === 2) await create({ name: 'inserted meanwhile' }, org); // newer: not in later pages
        cursor = page.has_more ? page.next_cursor : null;
      } while (cursor !== null);
      expect(sizes).toEqual([2, 2, 1]);
      expect(seen).toEqual([...made].reverse());

      expectClientProblem(await listAgents({ client: org, query: { after: 'bm90LWEtY3Vyc29y' } }), 400, 'invalid_cursor');
      // A cursor forged with a year the database cannot hold is refused like any other foreign one.
      for (const at of ['-000001-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z']) {
        const forged = Buffer.from(JSON.stringify([at, made[0]])).toString('base64url');
        expectClientProblem(await listAgents({ client: org, query: { after: forged } }), 400, 'invalid_cursor');
      }
      expectClientInvalid(await listAgents({ client: org, query: { limit: 0 } }));
      expectClientInvalid(await listAgents({ client: org, query: { limit: 101 } }));
    });

    it('deletes: 204, then 404 everywhere, and the keys it owned are gone', async () => {
      const { agent } = await create({ name: 'Doomed', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: providerKey(30) }] });
      expect((await storedKeys(agent.id)).owned).toHaveLength(1);
      const res = await deleteAgent({ client, path: { id: agent.id } });
      expectStatus(res, 204);
      expect(await res.response!.text()).toBe('');
      expectClientProblem(await getAgent({ client, path: { id: agent.id } }), 404, 'not_found');
      expectClientProblem(await replaceAgent({ client, path: { id: agent.id }, body: { name: 'x' } }), 404, 'not_found');
      expectClientProblem(await deleteAgent({ client, path: { id: agent.id } }), 404, 'not_found');
      expect(await storedKeys(agent.id)).toEqual({ owned: [], entries: [] });
    });
  });

  describe('replace (PUT)', () => {
    const put = (id: string, body: AgentRequestWritable, ifMatch?: string, as = client) =>
      replaceAgent({ client: as, path: { id }, body, ...(ifMatch === undefined ? {} : { headers: { 'If-Match': ifMatch } }) });

    it('a GET → edit → PUT round trip of the returned object keeps every key', async () => {
      const keys = [providerKey(48), providerKey(10)];
      const { agent } = await create({
        name: 'Round trip',
        llm: [
          { base_url: `${ORIGIN_A}/v1`, model: 'a', api_key: keys[0] },
          { base_url: `${ORIGIN_B}/v1`, model: 'b', api_key: keys[1] },
        ],
      });
      const before = await storedKeys(agent.id);
      const { agent: fetched, etag } = await read(agent.id);

      // The read, sent back as it is (read-only members and hints included).
      const res = await put(agent.id, untyped({ ...fetched, name: 'Round trip, renamed' }), etag);
      const replaced = expectStatus(res, 200);
      expect(replaced.name).toBe('Round trip, renamed');
      expect(replaced.llm).toEqual(fetched.llm);
      expect(res.response!.headers.get('etag')).not.toBe(etag);
      expect(await storedKeys(agent.id)).toEqual(before);
      roundTrip = { credentialIds: before.entries, keys };
    });

    it('refuses the hint as api_key (masked_value_submitted) and keeps the key', async () => {
      const apiKey = providerKey(32);
      const { agent, etag } = await create({ name: 'Masked', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: apiKey }] });
      const problem = expectClientProblem(
        await put(agent.id, { name: 'Masked', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: hintOf(apiKey) }] }),
        422,
        'masked_value_submitted',
      );
      expect(problem.errors).toEqual([{ path: 'llm[0].api_key', code: 'masked_value_submitted', message: expect.any(String) }]);
      expectClientProblem(
        await createAgent({ client, body: { name: 'Masked', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: '****abcd' }] } }),
        422,
        'masked_value_submitted',
      );
      expect((await read(agent.id)).etag).toBe(etag);
    });

    it('changing an entry origin without a key is api_key_required and changes nothing; with a key the old owned key is gone', async () => {
      const { agent, etag } = await create({ name: 'Mover', llm: [{ base_url: `${ORIGIN_A}/v1`, model: 'm', api_key: providerKey(24) }] });
      const before = await storedKeys(agent.id);

      const problem = expectClientProblem(
        await put(agent.id, { name: 'Mover', llm: [{ base_url: `${ORIGIN_B}/v1`, model: 'm' }] }),
        422,
        'api_key_required',
      );
      expect(problem.errors).toEqual([{ path: 'llm[0].api_key', code: 'api_key_required', message: expect.any(String) }]);
      expect((await read(agent.id)).etag).toBe(etag);
      expect(await storedKeys(agent.id)).toEqual(before);

      // Same host, other path: same origin, the key stays.
      expectStatus(await put(agent.id, { name: 'Mover', llm: [{ base_url: `${ORIGIN_A}/v2`, model: 'm2' }] }), 200);
      expect(await storedKeys(agent.id)).toEqual(before);

      const newKey = providerKey(36);
      const moved = expectStatus(
        await put(agent.id, { name: 'Mover', llm: [{ base_url: `${ORIGIN_B}/v1`, model: 'm', api_key: newKey }] }),
        200,
      );
      expect(moved.llm[0]!.api_key_hint).toBe(hintOf(newKey));
      const after = await storedKeys(agent.id);
      expect(after.owned).toHaveLength(1);
      expect(after.owned[0]).not.toBe(before.owned[0]);

      // A new entry index has no key to keep.
      expectClientProblem(
        await put(agent.id, {
          name: 'Mover',
          llm: [
            { base_url: `${ORIGIN_B}/v1`, model: 'm' },
            { base_url: `${ORIGIN_B}/v1`, model: 'm' },
          ],
        }),
        422,
        'api_key_required',
      );
    });

    it('llm: [] clears the entries and deletes the keys the agent owned', async () => {
      const { agent } = await create({
        name: 'Clear',
        llm: [
          { base_url: ORIGIN_A, model: 'a', api_key: providerKey(20) },
          { base_url: ORIGIN_C, model: 'c', api_key: providerKey(20) },
        ],
      });
      expect((await storedKeys(agent.id)).owned).toHaveLength(2);
      expect(expectStatus(await put(agent.id, { name: 'Clear', llm: [] }), 200).llm).toEqual([]);
      expect(await storedKeys(agent.id)).toEqual({ owned: [], entries: [] });
    });

    it('If-Match: a stale, weak or foreign ETag is 412 and changes nothing; * matches', async () => {
      const { agent, etag } = await create({ name: 'Versioned' });
      for (const ifMatch of ['"stale"', `W/${etag}`, '"a", "b"']) {
        expectClientProblem(await put(agent.id, { name: 'changed' }, ifMatch), 412, 'precondition_failed');
      }
      expect((await read(agent.id)).agent.name).toBe('Versioned');
      expectStatus(await put(agent.id, { name: 'changed' }, `"x", ${etag}`), 200);
      expectStatus(await put(agent.id, { name: 'again' }, '*'), 200);
    });

    it('DELETE honours If-Match too: a stale ETag is 412 and the agent stays', async () => {
      const { agent, etag } = await create({ name: 'Guarded', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: providerKey(22) }] });
      expectStatus(await put(agent.id, { name: 'Guarded v2', llm: [{ base_url: ORIGIN_A, model: 'm' }] }, etag), 200);
      expectClientProblem(await deleteAgent({ client, path: { id: agent.id }, headers: { 'If-Match': etag } }), 412, 'precondition_failed');
      expect((await read(agent.id)).agent.name).toBe('Guarded v2');
      expect((await storedKeys(agent.id)).owned).toHaveLength(1);
      const current = (await read(agent.id)).etag;
      expectStatus(await deleteAgent({ client, path: { id: agent.id }, headers: { 'If-Match': current } }), 204);
      expectClientProblem(await getAgent({ client, path: { id: agent.id } }), 404, 'not_found');
    });

    it('20 parallel PUTs with the same If-Match: exactly one 200, the rest 412', async () => {
      const { agent, etag } = await create({ name: 'Race', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: providerKey(22) }] });
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => put(agent.id, { name: `Race ${i}`, llm: [{ base_url: ORIGIN_A, model: 'm' }] }, etag)),
      );
      const statuses = results.map((r) => r.response!.status).sort();
      expect(statuses).toEqual([200, ...Array<number>(19).fill(412)]);
      const winner = results.find((r) => r.response!.status === 200)!;
      const { agent: final, etag: finalEtag } = await read(agent.id);
      expect(final.name).toBe(winner.data!.name);
      expect(finalEtag).toBe(winner.response!.headers.get('etag'));
      expect((await storedKeys(agent.id)).owned).toHaveLength(1);
    });
  });

  describe('Idempotency-Key', () => {
    /** A create whose body is kept as the exact text the API sent, so a replay can be compared byte for byte. */
    const createRaw = (body: AgentRequestWritable, idem: string, as = client) =>
      createAgent({ client: as, body, headers: { 'Idempotency-Key': idem }, parseAs: 'text' });

    it('replays the same request with the original status, body and ETag; refuses another body with 422', async () => {
      const idem = `idem-${randomBytes(6).toString('hex')}`;
      const body = { name: 'Once', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: providerKey(30) }] };
      const first = await createRaw(body, idem);
      const firstBody = expectStatus(first, 201) as unknown as string;
      expect(typeof firstBody).toBe('string');
      // Key order does not make it another request.
      const reordered = { llm: body.llm, name: body.name };
      const second = await createRaw(reordered, idem);
      expect(expectStatus(second, 201)).toBe(firstBody);
      expect(second.response!.headers.get('etag')).toBe(first.response!.headers.get('etag'));
      expect(second.response!.headers.get('idempotent-replayed')).toBe('true');

      expectClientProblem(
        await createAgent({ client, body: { ...body, name: 'Other' }, headers: { 'Idempotency-Key': idem } }),
        422,
        'idempotency_key_reused',
      );
      // The same key with only another api_key is another request too.
      expectClientProblem(
        await createAgent({
          client,
          body: { ...body, llm: [{ ...body.llm[0]!, api_key: providerKey(30) }] },
          headers: { 'Idempotency-Key': idem },
        }),
        422,
        'idempotency_key_reused',
      );
      // Keys are per organization.
      expectStatus(await createAgent({ client: other, body, headers: { 'Idempotency-Key': idem } }), 201);
    });

    it('20 parallel POSTs with the same key create one agent', async () => {
      const org = await newOrg('agents-idem');
      const idem = `par-${randomBytes(6).toString('hex')}`;
      const body = { name: 'Parallel', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: providerKey(30) }] };
      const results = await Promise.all(
        Array.from({ length: 20 }, () => createAgent({ client: org, body, headers: { 'Idempotency-Key': idem } })),
      );
      expect(results.map((r) => r.response!.status)).toEqual(Array<number>(20).fill(201));
      const ids = new Set(results.map((r) => r.data!.id));
      expect(ids.size).toBe(1);
      const list = expectStatus(await listAgents({ client: org, query: { limit: 100 } }), 200);
      expect(list.data.map((a) => a.id)).toEqual([...ids]);
    });

    (usingPostgres ? it : it.skip)('the same key sent to two instances sharing one database creates one agent', async () => {
      const second = await startApi(test.storage.env);
      try {
        const clients = [client, apiClient(second.url, test.keys['agents-main'])];
        const idem = `two-${randomBytes(6).toString('hex')}`;
        const body = { name: 'Two instances', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: providerKey(30) }] };
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => createAgent({ client: clients[i % 2]!, body, headers: { 'Idempotency-Key': idem } })),
        );
        expect(results.map((r) => r.response!.status)).toEqual(Array<number>(10).fill(201));
        const ids = new Set(results.map((r) => r.data!.id));
        expect(ids.size).toBe(1);
      } finally {
        await second.stop();
      }
    });

    it('refuses a malformed key', async () => {
      const errors = expectClientInvalid(await createAgent({ client, body: { name: 'x' }, headers: { 'Idempotency-Key': 'has space' } }));
      expect(errors).toEqual([{ path: 'Idempotency-Key', code: 'invalid_idempotency_key', message: expect.any(String) }]);
    });
  });

  describe('validation', () => {
    const entry = (over: Record<string, unknown> = {}) => ({ base_url: ORIGIN_A, model: 'm', api_key: providerKey(20), ...over });

    it.each([
      ['http base_url', { name: 'x', llm: [entry({ base_url: 'http://93.184.216.34/v1' })] }, 'llm[0].base_url', 'https_required'],
      ['private base_url', { name: 'x', llm: [entry(), entry({ base_url: 'https://10.0.0.1/v1' })] }, 'llm[1].base_url', 'private_host'],
      ['metadata base_url', { name: 'x', llm: [entry({ base_url: 'https://169.254.169.254/' })] }, 'llm[0].base_url', 'private_host'],
      ['userinfo', { name: 'x', llm: [entry({ base_url: 'https://u:p@93.184.216.34/' })] }, 'llm[0].base_url', 'userinfo_not_allowed'],
      ['missing model', { name: 'x', llm: [entry(), entry({ model: undefined })] }, 'llm[1].model', 'required'],
      ['unknown api', { name: 'x', llm: [entry({ api: 'completions' })] }, 'llm[0].api', 'is_in'],
      ['unknown entry property', { name: 'x', llm: [entry({ extra_headers: {} })] }, 'llm[0].extra_headers', 'unknown_property'],
      ['unknown property', { name: 'x', functions: [] }, 'functions', 'unknown_property'],
      ['six entries', { name: 'x', llm: Array.from({ length: 6 }, () => entry()) }, 'llm', 'array_max_size'],
      ['temperature 2.5', { name: 'x', temperature: 2.5 }, 'temperature', 'max'],
      ['temperature -1', { name: 'x', temperature: -1 }, 'temperature', 'min'],
      ['max_tokens 0', { name: 'x', max_tokens: 0 }, 'max_tokens', 'min'],
      ['max_tokens 100001', { name: 'x', max_tokens: 100_001 }, 'max_tokens', 'max'],
      ['max_tokens 1.5', { name: 'x', max_tokens: 1.5 }, 'max_tokens', 'is_int'],
      [
        '51 metadata pairs',
        { name: 'x', metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) },
        'metadata',
        'metadata',
      ],
      ['41-character metadata key', { name: 'x', metadata: { ['k'.repeat(41)]: 'v' } }, 'metadata', 'metadata'],
      ['501-character metadata value', { name: 'x', metadata: { k: 'v'.repeat(501) } }, 'metadata', 'metadata'],
      ['non-string metadata value', { name: 'x', metadata: { k: 1 } }, 'metadata', 'metadata'],
      ['blank name', { name: '  ' }, 'name', 'blank'],
      [
        'both api_key and credential_id',
        { name: 'x', llm: [entry({ credential_id: 'cred_x' })] },
        'llm[0].credential_id',
        'conflicts_with_api_key',
      ],
      ['api_key null', { name: 'x', llm: [entry({ api_key: null })] }, 'llm[0].api_key', 'is_string'],
      [
        'unknown credential',
        { name: 'x', llm: [entry({ api_key: undefined, credential_id: 'cred_nope' })] },
        'llm[0].credential_id',
        'not_found',
      ],
      ['idle_ms 0', { name: 'x', llm: [entry({ timeouts: { idle_ms: 0 } })] }, 'llm[0].timeouts.idle_ms', 'min'],
      ['total_ms 1.5', { name: 'x', llm: [entry({ timeouts: { total_ms: 1.5 } })] }, 'llm[0].timeouts.total_ms', 'is_int'],
      ['unknown timeout', { name: 'x', llm: [entry({ timeouts: { read_ms: 5 } })] }, 'llm[0].timeouts.read_ms', 'unknown_property'],
      // PostgreSQL stores neither NUL nor unpaired surrogates: refused where they are, not a 500.
      ['NUL in name', { name: 'a\u0000b' }, 'name', 'nul_character'],
      ['NUL in instructions', { name: 'x', instructions: '\u0000' }, 'instructions', 'nul_character'],
      ['NUL in model', { name: 'x', llm: [entry(), entry({ model: 'gpt\u0000' })] }, 'llm[1].model', 'nul_character'],
      ['NUL in a metadata value', { name: 'x', metadata: { team: 'a\u0000' } }, 'metadata.team', 'nul_character'],
      ['NUL in a metadata key', { name: 'x', metadata: { 'te\u0000am': 'a' } }, 'metadata["te\\u0000am"]', 'nul_character'],
      ['unpaired surrogate in name', { name: 'a\ud800' }, 'name', 'unpaired_surrogate'],
      ['unpaired surrogate in a metadata value', { name: 'x', metadata: { team: '\udc00' } }, 'metadata.team', 'unpaired_surrogate'],
      ['unpaired surrogate in a metadata key', { name: 'x', metadata: { 'x-\ud83d': 'a' } }, 'metadata["x-\\ud83d"]', 'unpaired_surrogate'],
    ])('%s → 422', async (_label, body, path, code) => {
      const errors = expectClientInvalid(await createAgent({ client, body: untyped(JSON.parse(JSON.stringify(body))) }));
      expect(errors).toContainEqual({ path, code, message: expect.any(String) });
    });

    it('names each field once: a missing one as required, a wrong one by its type', async () => {
      const missing = await expectInvalid(await call('POST', '/v1/agents', { llm: [{ api_key: providerKey(20) }] }));
      expect(missing).toEqual([
        { path: 'name', code: 'required', message: 'is required' },
        { path: 'llm[0].model', code: 'required', message: 'is required' },
        { path: 'llm[0].base_url', code: 'required', message: 'is required' },
      ]);
      const wrong = await expectInvalid(
        await call('POST', '/v1/agents', { name: 7, instructions: false, llm: [entry({ model: 3 })], metadata: 'x' }),
      );
      expect(wrong).toEqual([
        { path: 'name', code: 'is_string', message: 'must be a string' },
        { path: 'instructions', code: 'is_string', message: 'must be a string' },
        { path: 'llm[0].model', code: 'is_string', message: 'must be a string' },
        { path: 'metadata', code: 'is_object', message: 'must be an object' },
      ]);
    });

    it('keeps text with surrogate pairs and other control characters as sent', async () => {
      const text = 'Smile \u{1F642}, tab\t, bell\u0007, \u{10FFFF}';
      const { agent } = await create({ name: text, instructions: text, metadata: { [text.slice(0, 40)]: text } });
      expect((await read(agent.id)).agent).toMatchObject({ name: text, instructions: text, metadata: { [text.slice(0, 40)]: text } });
    });

    it('stores metadata keys named like Object.prototype members as data, and round-trips them exactly', async () => {
      const names = ['constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__'];
      const metadata = Object.fromEntries(names.map((name, i) => [name, `v${i}`]));
      const res = await call('POST', '/v1/agents', JSON.stringify({ name: 'Prototype names', metadata }));
      expect(res.status).toBe(201);
      const created = (await res.json()) as Agent;
      // Compared as pairs: toEqual would not see an own `__proto__`; jsonb orders keys its own way.
      const pairs = (record: Record<string, string>) => Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1));
      expect(pairs(created.metadata)).toEqual(pairs(metadata));
      const { agent, etag } = await read(created.id);
      expect(pairs(agent.metadata)).toEqual(pairs(metadata));
      // And through a replace: the read sent back as it is.
      const replaced = await call('PUT', `/v1/agents/${created.id}`, JSON.stringify(agent), { 'if-match': etag });
      expect(replaced.status).toBe(200);
      expect(pairs(((await replaced.json()) as Agent).metadata)).toEqual(pairs(metadata));
    });

    it('refuses __proto__ as a metadata key (422 naming metadata), rather than storing what reads would lose', async () => {
      const errors = await expectInvalid(await call('POST', '/v1/agents', '{"name":"x","metadata":{"__proto__":"v","team":"a"}}'));
      expect(errors).toEqual([{ path: 'metadata', code: 'metadata', message: expect.stringContaining('__proto__') }]);
    });

    it.each([
      ['toString', '{"name":"x","toString":"y"}'],
      ['constructor', '{"name":"x","constructor":"y"}'],
      ['hasOwnProperty', '{"name":"x","hasOwnProperty":{"a":1}}'],
      ['__proto__', '{"name":"x","__proto__":{"admin":true}}'],
      [
        'llm[0].valueOf',
        '{"name":"x","llm":[{"base_url":"https://93.184.216.34","model":"m","api_key":"sk-0123456789abcdefghij","valueOf":1}]}',
      ],
      [
        'llm[0].timeouts.constructor',
        '{"name":"x","llm":[{"base_url":"https://93.184.216.34","model":"m","api_key":"sk-0123456789abcdefghij","timeouts":{"constructor":1}}]}',
      ],
    ])('refuses the unknown property %s, named like an Object.prototype member', async (path, raw) => {
      expect(await expectInvalid(await call('POST', '/v1/agents', raw))).toEqual([
        { path, code: 'unknown_property', message: expect.any(String) },
      ]);
    });

    it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'foo'])(
      'refuses the unknown query parameter %s on the list',
      async (name) => {
        const errors = await expectInvalid(await call('GET', `/v1/agents?limit=1&${name}=1`));
        expect(errors).toEqual([{ path: name, code: 'unknown_property', message: expect.any(String) }]);
      },
    );

    it('an entry without a key on create is api_key_required', async () => {
      const problem = expectClientProblem(
        await createAgent({ client, body: { name: 'x', llm: [{ base_url: ORIGIN_A, model: 'm' }] } }),
        422,
        'api_key_required',
      );
      expect(problem.errors).toEqual([{ path: 'llm[0].api_key', code: 'api_key_required', message: expect.any(String) }]);
    });

    it('a credential not allowed for the entry origin is credential_origin_mismatch; another org’s credential is not found', async () => {
      const cred = expectStatus(
        await createCredential({ client, body: { name: 'only A', api_key: providerKey(30), allowed_origins: [ORIGIN_A] } }),
        201,
      );
      const problem = expectClientProblem(
        await createAgent({ client, body: { name: 'x', llm: [{ base_url: `${ORIGIN_B}/v1`, model: 'm', credential_id: cred.id }] } }),
        422,
        'credential_origin_mismatch',
      );
      expect(problem.errors).toEqual([{ path: 'llm[0].credential_id', code: 'credential_origin_mismatch', message: expect.any(String) }]);
      const errors = expectClientInvalid(
        await createAgent({ client: other, body: { name: 'x', llm: [{ base_url: ORIGIN_A, model: 'm', credential_id: cred.id }] } }),
      );
      expect(errors).toEqual([{ path: 'llm[0].credential_id', code: 'not_found', message: expect.any(String) }]);
    });

    it('nothing is stored for a refused body', async () => {
      const org = await newOrg('agents-refused');
      expectClientInvalid(
        await createAgent({
          client: org,
          body: {
            name: 'x',
            llm: [
              { base_url: ORIGIN_A, model: 'm', api_key: providerKey(20) },
              { base_url: 'https://10.1.1.1', model: 'm', api_key: providerKey(20) },
            ],
          },
        }),
      );
      expect(expectStatus(await listAgents({ client: org }), 200).data).toEqual([]);
    });

    it('413 for a body over 256 KB, 415 for another content type, 400 for malformed JSON', async () => {
      expectClientProblem(
        await createAgent({ client, body: { name: 'x', instructions: 'y'.repeat(300 * 1024) } }),
        413,
        'payload_too_large',
      );
      // What no typed client sends: raw requests.
      const key = test.keys['agents-main'];
      await expectProblem(
        await send(test.api.url, 'POST', '/v1/agents', key, undefined, { 'content-type': 'text/plain' }),
        415,
        'unsupported_media_type',
      );
      await expectProblem(await send(test.api.url, 'POST', '/v1/agents', key, '{"name": '), 400, 'bad_request');
    });
  });

  describe('tenancy', () => {
    it('another organization cannot read, list, replace or delete an agent (404), and it stays unchanged', async () => {
      const { agent, etag } = await create({ name: 'Private', llm: [{ base_url: ORIGIN_A, model: 'm', api_key: providerKey(25) }] });
      expectClientProblem(await getAgent({ client: other, path: { id: agent.id } }), 404, 'not_found');
      expectClientProblem(await replaceAgent({ client: other, path: { id: agent.id }, body: { name: 'stolen' } }), 404, 'not_found');
      expectClientProblem(await deleteAgent({ client: other, path: { id: agent.id } }), 404, 'not_found');
      const list = expectStatus(await listAgents({ client: other, query: { limit: 100 } }), 200);
      expect(list.data.map((a) => a.id)).not.toContain(agent.id);
      expect((await read(agent.id)).etag).toBe(etag);
    });

    it('answers 401 without a valid key', async () => {
      const wrong = apiClient(test.api.url, 'ap_wrong');
      const path = { id: 'agt_x' };
      for (const result of [
        await listAgents({ client: wrong }),
        await createAgent({ client: wrong, body: { name: 'x' } }),
        await getAgent({ client: wrong, path }),
        await replaceAgent({ client: wrong, path, body: { name: 'x' } }),
        await deleteAgent({ client: wrong, path }),
      ]) {
        expectClientProblem(result, 401, 'unauthenticated');
      }
    });
  });

  let roundTrip: { credentialIds: string[]; keys: string[] } | undefined;

  it('the keys stored through the round trip still open to what was sent (checked with the API stopped)', async () => {
    expect(roundTrip).toBeDefined();
    await test.api.stop();
    const masterKeys =
      test.storage.env.AGENTPLANE_MASTER_KEYS ??
      (await readFile(join(test.storage.dataDir, 'master-keys'), 'utf8'))
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.startsWith('#'))
        .join(',');
    const secrets = await openStoredSecrets(test.storage, masterKeys);
    expect(roundTrip!.credentialIds.map((id) => secrets.get(id))).toEqual(roundTrip!.keys);
  });
});

describe('a key given to an agent never leaves again (canary)', () => {
  it('is in no response, log line or table row after every agents route and error path', async () => {
    // Raw requests: what is checked is every byte that comes back, error paths with malformed bodies included.
    const { storage, api, keys } = await startTestApi(['agents-canary', 'agents-canary-other'], { LOG_LEVEL: 'debug' });
    const canary = randomBytes(48).toString('base64url');
    const rotated = randomBytes(48).toString('base64url');
    const responses: string[] = [];
    try {
      const key = keys['agents-canary']!;
      const otherKey = keys['agents-canary-other']!;
      const call = async (method: string, path: string, body?: Body, headers: Record<string, string> = {}, as = key): Promise<Response> => {
        const res = await send(api.url, method, path, as, body, headers);
        const text = await res.text();
        responses.push(`${method} ${path} → ${res.status} ${JSON.stringify([...res.headers])} ${text}`);
        return new Response(res.status === 204 ? null : text, { status: res.status, headers: res.headers });
      };
      const entry = (apiKey: string, origin = ORIGIN_A) => ({ base_url: `${origin}/v1`, model: 'm', api_key: apiKey });

      const created = await call('POST', '/v1/agents', { name: 'Canary', llm: [entry(canary)] }, { 'idempotency-key': 'canary-1' });
      expect(created.status).toBe(201);
      const agent = (await created.json()) as Agent;
      const etag = created.headers.get('etag')!;
      expect((await call('POST', '/v1/agents', { name: 'Canary', llm: [entry(canary)] }, { 'idempotency-key': 'canary-1' })).status).toBe(
        201,
      );
      expect((await call('POST', '/v1/agents', { name: 'Other', llm: [entry(canary)] }, { 'idempotency-key': 'canary-1' })).status).toBe(
        422,
      );
      await call('GET', `/v1/agents/${agent.id}`);
      await call('GET', '/v1/agents');
      // Error paths that receive the canary.
      expect((await call('POST', '/v1/agents', { name: 'x', llm: [entry(canary, 'https://10.0.0.1')] })).status).toBe(422);
      expect((await call('POST', '/v1/agents', { name: 'x', llm: [{ ...entry(canary), credential_id: 'cred_x' }] })).status).toBe(422);
      expect((await call('POST', '/v1/agents', { name: 'x', llm: [{ ...entry(canary), unknown: canary }] })).status).toBe(422);
      expect((await call('POST', '/v1/agents', { name: 'x', llm: [entry(canary)], temperature: canary })).status).toBe(422);
      expect((await call('POST', '/v1/agents', `{"name":"x","llm":[{"api_key":"${canary}"`)).status).toBe(400);
      expect((await call('PUT', `/v1/agents/${agent.id}`, { name: 'x', llm: [entry(canary)] }, { 'if-match': '"stale"' })).status).toBe(
        412,
      );
      expect((await call('PUT', `/v1/agents/${agent.id}`, { name: 'x', llm: [entry(canary)] }, {}, otherKey)).status).toBe(404);
      expect((await call('PUT', `/v1/agents/${agent.id}`, { name: 'x', llm: [entry(canary, 'http://93.184.216.34')] })).status).toBe(422);
      expect((await call('PUT', `/v1/agents/${agent.id}`, { name: 'Canary', llm: [entry(rotated)] }, { 'if-match': etag })).status).toBe(
        200,
      );
      expect(
        (await call('PUT', `/v1/agents/${agent.id}`, { name: 'Canary kept', llm: [{ base_url: `${ORIGIN_A}/v1`, model: 'm' }] })).status,
      ).toBe(200);
      const doomed = (await (await call('POST', '/v1/agents', { name: 'Doomed', llm: [entry(canary, ORIGIN_C)] })).json()) as Agent;
      expect((await call('DELETE', `/v1/agents/${doomed.id}`)).status).toBe(204);
      expect((await call('DELETE', `/v1/agents/${agent.id}`, undefined, {}, otherKey)).status).toBe(404);
      const cli = await runCli(['keys', 'status', '--json'], storage.env);
      responses.push(cli.stdout, cli.stderr);
    } finally {
      await api.stop();
    }

    const leaks: string[] = [];
    for (const [name, value] of [
      ['canary', canary],
      ['rotated canary', rotated],
    ] as const) {
      leaks.push(...canaryLeaks(responses.join('\n'), value, `${name} in responses`));
      leaks.push(...canaryLeaks(api.output(), value, `${name} in the API log`));
    }
    const db = await openTestDatabase(storage);
    let ownedRows = 0;
    try {
      const client = await db.client();
      const tables = (
        await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
      ).rows.map((r) => r.tablename);
      expect(tables).toEqual(expect.arrayContaining(['agents', 'agent_llm_entries', 'credentials', 'idempotency_keys']));
      for (const table of tables) {
        const rows = (await client.query<{ row: string }>(`SELECT t::text AS row FROM "${table.replaceAll('"', '""')}" t`)).rows;
        const dump = rows.map((r) => r.row).join('\n');
        leaks.push(
          ...canaryLeaks(dump, canary, `canary in table ${table}`),
          ...canaryLeaks(dump, rotated, `rotated canary in table ${table}`),
        );
      }
      ownedRows = (await client.query('SELECT 1 FROM credentials WHERE owner_agent_id IS NOT NULL')).rowCount ?? 0;
    } finally {
      await db.close();
      await storage.dispose();
    }
    expect(leaks).toEqual([]);
    // Not vacuous: the idempotent replay's agent and the rotated key are stored (sealed).
    expect(ownedRows).toBe(1);
  });
});
