import fc from 'fast-check';
import { openTestDatabase } from './support/db-client.js';
import { send } from './support/http.js';
import type { RunningApi } from './support/processes.js';
import type { TestStorage } from './support/storage.js';
import { startTestApi, type TestApi } from './support/test-api.js';

/**
 * Property: whatever JSON a client posts to the agents routes, the answer is never a 5xx, and a
 * refused body stores nothing. Bodies range from arbitrary JSON to near-valid agents with one
 * thing wrong. Hosts are IP literals or names refused before DNS, so no run needs the network.
 */

const BASE_URLS = [
  'https://93.184.216.34/v1',
  'https://93.184.216.34:8443/v1',
  'https://[2606:2800:220:1:248:1893:25c8:1946]/v1',
  'http://93.184.216.34/v1',
  'https://10.0.0.1/v1',
  'https://127.0.0.1/v1',
  'https://[::ffff:7f00:1]/v1',
  'https://169.254.169.254/latest',
  'https://0x7f.1/',
  'https://u:p@93.184.216.34/',
  'https://93.184.216.34/v1?x=1',
  'https://93.184.216.34:0/',
  'https://localhost/v1',
  'https://metadata.google.internal./',
  'https://printer.local/',
  'ftp://93.184.216.34/',
  'https://93.184.216.34\\@10.0.0.1/',
  'https://93.184.216.34 /v1',
  '',
];

const apiKey = fc.oneof(
  fc.string({ minLength: 1, maxLength: 64 }),
  fc.constantFrom('****', '****abcd', '•••', 'sk-valid-looking-key-0123456789'),
  fc.stringMatching(/^[\x21-\x7e]{1,80}$/),
);

const llmEntry = fc.record(
  {
    base_url: fc.oneof(fc.constantFrom(...BASE_URLS), fc.string({ maxLength: 40 }), fc.integer()),
    model: fc.oneof(fc.string({ maxLength: 210 }), fc.constant(null), fc.integer()),
    api: fc.oneof(fc.constantFrom('chat_completions', 'responses', 'completions'), fc.jsonValue()),
    api_key: fc.oneof(apiKey, fc.constant(null), fc.integer()),
    credential_id: fc.oneof(fc.constantFrom('cred_missing', ''), fc.string({ maxLength: 10 })),
    api_key_hint: fc.string({ maxLength: 8 }),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

const agentBody = fc.record(
  {
    name: fc.oneof(fc.string({ maxLength: 210 }), fc.constant(' '), fc.integer(), fc.constant(null)),
    instructions: fc.oneof(fc.string({ maxLength: 50 }), fc.constant(null), fc.boolean()),
    llm: fc.oneof(fc.array(llmEntry, { maxLength: 7 }), fc.jsonValue()),
    temperature: fc.oneof(fc.double(), fc.integer({ min: -3, max: 3 }), fc.string({ maxLength: 3 })),
    max_tokens: fc.oneof(fc.integer({ min: -5, max: 200_000 }), fc.double(), fc.constant(null)),
    metadata: fc.oneof(
      fc.dictionary(fc.string({ maxLength: 45 }), fc.string({ maxLength: 510 }), { maxKeys: 55 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue(), { maxKeys: 3 }),
      fc.jsonValue(),
    ),
    unexpected: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

// Valid entries, then possibly one that fails only in the service (DNS-free base_url rules,
// an unknown credential, a masked key, an entry with no key): refusals after work has begun.
const goodEntry = fc.record({
  base_url: fc.constantFrom(...BASE_URLS.slice(0, 3)),
  model: fc.string({ minLength: 1, maxLength: 20 }).filter((m) => m.trim() !== ''),
  api_key: fc.stringMatching(/^[\x21-\x2a\x2c-\x7e]{20,40}$/),
});
const lateFailure = fc.constantFrom<Record<string, unknown>>(
  { base_url: 'https://10.0.0.1/v1', model: 'm', api_key: 'sk-late-failure-000000000' },
  { base_url: BASE_URLS[0], model: 'm', credential_id: 'cred_missing' },
  { base_url: BASE_URLS[0], model: 'm', api_key: '****wxyz' },
  { base_url: BASE_URLS[1], model: 'm' },
);
const nearValid = fc
  .tuple(fc.array(goodEntry, { minLength: 0, maxLength: 4 }), fc.oneof(fc.constant(undefined), lateFailure))
  .map(([entries, failure]) => ({ name: 'near valid', llm: failure === undefined ? entries : [...entries, failure] }));

const body = fc.oneof({ weight: 1, arbitrary: fc.jsonValue() }, { weight: 3, arbitrary: agentBody }, { weight: 3, arbitrary: nearValid });

describe('agents routes under random JSON (fast-check)', () => {
  let test: TestApi;
  let storage: TestStorage;
  let api: RunningApi;
  let key: string;
  let agentId: string;

  beforeAll(async () => {
    test = await startTestApi(['agents-fuzz']);
    ({ storage, api } = test);
    key = test.keys['agents-fuzz']!;
    const res = await send(api.url, 'POST', '/v1/agents', key, {
      name: 'target',
      llm: [{ base_url: 'https://93.184.216.34/v1', model: 'm', api_key: 'sk-fuzz-target-key-000000000' }],
    });
    expect(res.status).toBe(201);
    agentId = ((await res.json()) as { id: string }).id;
  });

  afterAll(async () => {
    await test?.dispose();
  });

  it('never answers 5xx, and a refused body leaves every table as it was', async () => {
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('POST', 'PUT'), async (payload, method) => {
        const path = method === 'POST' ? '/v1/agents' : `/v1/agents/${agentId}`;
        const before = await rowCounts();
        const res = await send(api.url, method, path, key, JSON.stringify(payload));
        const text = await res.text();
        expect({ status: res.status, text }).toEqual({ status: expect.any(Number), text: expect.any(String) });
        if (res.status >= 500) throw new Error(`${res.status} for ${JSON.stringify(payload).slice(0, 300)}: ${text}`);
        if (res.status >= 400) {
          refused++;
          expect(await rowCounts()).toEqual(before);
        } else {
          accepted++;
        }
      }),
      { numRuns: 150 },
    );
    // Not vacuous: both outcomes happened.
    expect(refused).toBeGreaterThan(30);
    expect(accepted).toBeGreaterThan(10);
    expect(accepted + refused).toBe(150);
  });

  /** Rows per table (and the target agent's version), read through the running API's database. */
  async function rowCounts(): Promise<Record<string, string>> {
    const db = await openTestDatabase(storage, { attach: true });
    try {
      const client = await db.client();
      const { rows } = await client.query<{ agents: string; entries: string; credentials: string; idempotency: string; version: string }>(
        `SELECT (SELECT count(*) FROM agents) AS agents,
                (SELECT count(*) FROM agent_llm_entries) AS entries,
                (SELECT count(*) FROM credentials) AS credentials,
                (SELECT count(*) FROM idempotency_keys) AS idempotency,
                (SELECT version FROM agents WHERE id = $1)::text AS version`,
        [agentId],
      );
      return rows[0]!;
    } finally {
      await db.close();
    }
  }
});
