import type { Client } from '../clients/typescript/client/index.js';
import {
  type Agent,
  type AgentRequestWritable,
  createAgent,
  deleteAgent,
  getAgent,
  replaceAgent,
  updateAgent,
} from '../clients/typescript/index.js';
import { expectClientInvalid, expectClientProblem, expectStatus, untyped } from './support/api-client.js';
import { expectInvalid, hintOf, providerKey, send } from './support/http.js';
import { startTestApi, type TestApi } from './support/test-api.js';

/**
 * PATCH as a JSON Merge Patch (RFC 7396) of the agent a read shows, and the rules of the agents
 * service behind every write: secret header values kept like keys, `auth: none` storing no key,
 * transfer targets checked, custom tools clear of the enabled system tools' names.
 */

// Public IP literals: the save-time check needs no DNS for them, and nothing here connects to them.
const ORIGIN_A = 'https://93.184.216.34';
const ORIGIN_B = 'https://1.1.1.1';
const MERGE_PATCH = { 'content-type': 'application/merge-patch+json' };

describe('agents over HTTP: PATCH and the rules behind every write', () => {
  let test: TestApi;
  let client: Client;
  let other: Agent;

  beforeAll(async () => {
    test = await startTestApi(['patch-main', 'patch-other']);
    client = test.client('patch-main');
    other = expectStatus(await createAgent({ client, body: { name: 'Billing desk' } }), 201);
  });

  afterAll(async () => {
    await test?.dispose();
  });

  const key = providerKey(28);
  const secret = providerKey(36);

  function full(): AgentRequestWritable {
    return {
      name: 'Front desk',
      instructions: 'You answer for {{company}}.',
      metadata: { team: 'support', region: 'eu' },
      tools: [{ type: 'function', name: 'lookup_order', parameters: { type: 'object', properties: { id: { type: 'string' } } } }],
      system_tools: { end_call: {}, voicemail_detection: {} },
      variables: { company: 'Acme' },
      llm: [
        {
          base_url: `${ORIGIN_A}/v1`,
          model: 'gpt-4o-mini',
          api_key: key,
          headers: [
            { name: 'X-Team', value: 'voice' },
            { name: 'X-Gateway-Key', secret_value: secret },
          ],
        },
      ],
    };
  }

  async function created(): Promise<{ agent: Agent; etag: string }> {
    const result = await createAgent({ client, body: full() });
    const agent = expectStatus(result, 201);
    return { agent, etag: result.response!.headers.get('etag')! };
  }

  describe('PATCH (application/merge-patch+json)', () => {
    it('changes only the members sent: keys, secret header values and everything else stay', async () => {
      const { agent } = await created();
      const result = await updateAgent({ client, path: { id: agent.id }, body: { name: 'Evening desk' }, headers: MERGE_PATCH });
      const patched = expectStatus(result, 200);
      expect(patched).toEqual({ ...agent, name: 'Evening desk', updated_at: expect.any(String) });
      expect(patched.llm[0]!.api_key_hint).toBe(hintOf(key));
      expect(patched.llm[0]!.headers).toEqual([
        { name: 'X-Team', value: 'voice' },
        { name: 'X-Gateway-Key', value_hint: hintOf(secret) },
      ]);
      expect(result.response!.headers.get('etag')).toMatch(/^"[\w-]+"$/);
      expect(expectStatus(await getAgent({ client, path: { id: agent.id } }), 200)).toEqual(patched);
    });

    it('sets every member of the contract through PATCH, showing it as a create with the same members would', async () => {
      const bare = expectStatus(await createAgent({ client, body: { name: 'Bare' } }), 201);
      const members = {
        instructions: 'Hi {{who}}',
        tools: [{ type: 'function' as const, name: 'ping', description: 'Checks', parameters: { type: 'object', properties: {} } }],
        system_tools: {
          end_call: {},
          language_detection: { languages: ['en', 'de-CH'] },
          transfer_to_agent: { transfers: [{ agent_id: other.id, condition: 'billing' }] },
          transfer_to_number: { transfers: [{ number: '+4930123456', condition: 'a human' }] },
          skip_turn: {},
          voicemail_detection: {},
        },
        forward_metadata: true,
        variables: { who: 'there' },
        llm: [
          {
            base_url: `${ORIGIN_B}/v1`,
            model: 'm',
            api: 'responses' as const,
            auth: 'api_key_header' as const,
            api_key: key,
            extra_body: { top_k: 5, chat_template_kwargs: { enable_thinking: false } },
            headers: [
              { name: 'X-Team', value: 'voice' },
              { name: 'X-Gateway-Key', secret_value: secret },
            ],
          },
        ],
      };
      const patched = expectStatus(await updateAgent({ client, path: { id: bare.id }, body: members, headers: MERGE_PATCH }), 200);
      const made = expectStatus(await createAgent({ client, body: { name: 'Bare', ...members } }), 201);
      const comparable = (a: Agent) => ({ ...a, id: undefined, created_at: undefined, updated_at: undefined });
      expect(comparable(patched)).toEqual(comparable(made));
      expect(patched.llm[0]).toEqual({
        base_url: `${ORIGIN_B}/v1`,
        model: 'm',
        api: 'responses',
        auth: 'api_key_header',
        api_key_hint: hintOf(key),
        extra_body: { top_k: 5, chat_template_kwargs: { enable_thinking: false } },
        headers: [
          { name: 'X-Team', value: 'voice' },
          { name: 'X-Gateway-Key', value_hint: hintOf(secret) },
        ],
      });
    });

    it('removes with null (back to the default), merges objects member by member, replaces arrays whole', async () => {
      const { agent } = await created();
      const patch = {
        instructions: null,
        metadata: { region: null, tier: 'gold' },
        system_tools: { voicemail_detection: null, skip_turn: {} },
        variables: null,
        tools: [{ type: 'function', name: 'book_table' }],
      };
      const patched = expectStatus(await updateAgent({ client, path: { id: agent.id }, body: patch, headers: MERGE_PATCH }), 200);
      expect(patched).toMatchObject({
        instructions: null,
        metadata: { team: 'support', tier: 'gold' },
        system_tools: { end_call: {}, skip_turn: {} },
        variables: {},
        tools: [{ type: 'function', name: 'book_table' }],
      });
      expect(patched.metadata).not.toHaveProperty('region');
      expect(patched.system_tools).not.toHaveProperty('voicemail_detection');
      // Untouched members are as they were.
      expect(patched.llm).toEqual(agent.llm);
    });

    it('keeps an entry key and a secret header for the same index and origin, and refuses them for another origin', async () => {
      const { agent } = await created();
      const sameOrigin = {
        llm: [{ base_url: `${ORIGIN_A}/v2`, model: 'gpt-4.1-mini', headers: [{ name: 'x-gateway-key' }] }],
      };
      const moved = expectStatus(await updateAgent({ client, path: { id: agent.id }, body: sameOrigin, headers: MERGE_PATCH }), 200);
      expect(moved.llm).toEqual([
        expect.objectContaining({
          base_url: `${ORIGIN_A}/v2`,
          model: 'gpt-4.1-mini',
          api_key_hint: hintOf(key),
          headers: [{ name: 'x-gateway-key', value_hint: hintOf(secret) }],
        }),
      ]);

      const elsewhere = { llm: [{ base_url: `${ORIGIN_B}/v1`, model: 'm', headers: [{ name: 'X-Gateway-Key' }] }] };
      const refused = await updateAgent({ client, path: { id: agent.id }, body: elsewhere, headers: MERGE_PATCH });
      expect(expectClientProblem(refused, 422, 'api_key_required').errors).toEqual([
        { path: 'llm[0].api_key', code: 'api_key_required', message: expect.any(String) },
      ]);
      const withKey = { llm: [{ ...elsewhere.llm[0], api_key: providerKey(24) }] };
      const invalid = expectClientInvalid(await updateAgent({ client, path: { id: agent.id }, body: withKey, headers: MERGE_PATCH }));
      expect(invalid).toEqual([{ path: 'llm[0].headers[0].secret_value', code: 'secret_value_required', message: expect.any(String) }]);
      // Nothing changed.
      expect(expectStatus(await getAgent({ client, path: { id: agent.id } }), 200).llm).toEqual(moved.llm);
    });

    it('validates the patched agent as a whole, naming its paths', async () => {
      const { agent } = await created();
      const patch = untyped<AgentRequestWritable>({ name: '', tools: [{ type: 'function', name: 'bad name' }], unknown: 1 });
      const errors = expectClientInvalid(await updateAgent({ client, path: { id: agent.id }, body: patch, headers: MERGE_PATCH }));
      expect(errors).toEqual(
        expect.arrayContaining([
          { path: 'name', code: expect.any(String), message: expect.any(String) },
          { path: 'tools[0].name', code: expect.any(String), message: expect.any(String) },
          { path: 'unknown', code: 'unknown_property', message: expect.any(String) },
        ]),
      );
      // `name` is required: removing it is refused like leaving it out of a PUT.
      const removed = expectClientInvalid(
        await updateAgent({ client, path: { id: agent.id }, body: { name: null }, headers: MERGE_PATCH }),
      );
      expect(removed).toEqual([{ path: 'name', code: 'required', message: expect.any(String) }]);
      for (const body of ['[]', '"text"', '42']) {
        const res = await send(test.api.url, 'PATCH', `/v1/agents/${agent.id}`, test.keys['patch-main'], body, MERGE_PATCH);
        expect(await expectInvalid(res)).toEqual([{ path: '', code: 'is_object', message: expect.any(String) }]);
      }
      const text = await send(test.api.url, 'PATCH', `/v1/agents/${agent.id}`, test.keys['patch-main'], 'name=x', {
        'content-type': 'text/plain',
      });
      expect(text.status).toBe(415);
    });

    it('honours If-Match: a stale ETag is 412 and changes nothing; the current one applies and yields a new ETag', async () => {
      const { agent, etag } = await created();
      const first = await updateAgent({
        client,
        path: { id: agent.id },
        body: { name: 'One' },
        headers: { ...MERGE_PATCH, 'if-match': etag },
      });
      expectStatus(first, 200);
      const next = first.response!.headers.get('etag')!;
      expect(next).not.toBe(etag);
      const stale = await updateAgent({
        client,
        path: { id: agent.id },
        body: { name: 'Two' },
        headers: { ...MERGE_PATCH, 'if-match': etag },
      });
      expectClientProblem(stale, 412, 'precondition_failed');
      expect(expectStatus(await getAgent({ client, path: { id: agent.id } }), 200).name).toBe('One');
      const staleDelete = await deleteAgent({ client, path: { id: agent.id }, headers: { 'if-match': etag } });
      expectClientProblem(staleDelete, 412, 'precondition_failed');
      expectStatus(await deleteAgent({ client, path: { id: agent.id }, headers: { 'if-match': next } }), 204);
    });

    it('answers 404 for an agent of another organization, and accepts application/json too', async () => {
      const { agent } = await created();
      const foreign = await updateAgent({ client: test.client('patch-other'), path: { id: agent.id }, body: { name: 'Mine' } });
      expectClientProblem(foreign, 404, 'not_found');
      const res = await send(test.api.url, 'PATCH', `/v1/agents/${agent.id}`, test.keys['patch-main'], { name: 'Plain JSON' });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Agent).name).toBe('Plain JSON');
    });

    it('applies concurrent patches of different members one after the other, losing neither', async () => {
      const { agent } = await created();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          updateAgent({ client, path: { id: agent.id }, body: { metadata: { [`k${i}`]: `v${i}` } }, headers: MERGE_PATCH }),
        ),
      );
      for (const result of results) expectStatus(result, 200);
      const after = expectStatus(await getAgent({ client, path: { id: agent.id } }), 200);
      expect(after.metadata).toEqual({
        team: 'support',
        region: 'eu',
        k0: 'v0',
        k1: 'v1',
        k2: 'v2',
        k3: 'v3',
        k4: 'v4',
        k5: 'v5',
        k6: 'v6',
        k7: 'v7',
      });
    });
  });

  describe('rules behind every write', () => {
    it('stores no key for auth none and shows no hint; going back to a key needs one', async () => {
      const entry = { base_url: `${ORIGIN_A}/v1`, model: 'qwen' };
      const body = { name: 'Local vLLM', llm: [{ ...entry, auth: 'none' as const }] };
      const agent = expectStatus(await createAgent({ client, body }), 201);
      expect(agent.llm[0]).toEqual({ base_url: `${ORIGIN_A}/v1`, model: 'qwen', api: 'chat_completions', auth: 'none', headers: [] });
      const back = await replaceAgent({ client, path: { id: agent.id }, body: { ...body, llm: [{ ...entry, auth: 'bearer' }] } });
      expectClientProblem(back, 422, 'api_key_required');
    });

    it('refuses a masked secret header value, and a header without a value that has nothing stored', async () => {
      const entry = { base_url: `${ORIGIN_A}/v1`, model: 'm', api_key: providerKey(24) };
      const masked = await createAgent({
        client,
        body: { name: 'A', llm: [{ ...entry, headers: [{ name: 'X-K', secret_value: '****abcd' }] }] },
      });
      expect(expectClientProblem(masked, 422, 'masked_value_submitted').errors).toEqual([
        { path: 'llm[0].headers[0].secret_value', code: 'masked_value_submitted', message: expect.any(String) },
      ]);
      const nothing = await createAgent({ client, body: { name: 'A', llm: [{ ...entry, headers: [{ name: 'X-K' }] }] } });
      expect(expectClientInvalid(nothing)).toEqual([
        { path: 'llm[0].headers[0].secret_value', code: 'secret_value_required', message: expect.any(String) },
      ]);
    });

    it('lets transfer_to_agent name only other agents of the organization', async () => {
      const foreign = expectStatus(await createAgent({ client: test.client('patch-other'), body: { name: 'Elsewhere' } }), 201);
      const transfers = (...ids: string[]) => ({ transfer_to_agent: { transfers: ids.map((agent_id) => ({ agent_id, condition: 'c' })) } });
      const agent = expectStatus(await createAgent({ client, body: { name: 'Router', system_tools: transfers(other.id) } }), 201);
      expect(agent.system_tools).toEqual(transfers(other.id));
      const refused = await updateAgent({
        client,
        path: { id: agent.id },
        body: { system_tools: transfers(other.id, foreign.id, agent.id, 'agt_missing') },
        headers: MERGE_PATCH,
      });
      expect(expectClientInvalid(refused)).toEqual([
        { path: 'system_tools.transfer_to_agent.transfers[1].agent_id', code: 'not_found', message: expect.any(String) },
        { path: 'system_tools.transfer_to_agent.transfers[2].agent_id', code: 'self_transfer', message: expect.any(String) },
        { path: 'system_tools.transfer_to_agent.transfers[3].agent_id', code: 'not_found', message: expect.any(String) },
      ]);
    });

    it('refuses a custom tool named like an enabled system tool', async () => {
      const body = { name: 'A', tools: [{ type: 'function' as const, name: 'transfer_to_number' }] };
      expectStatus(await createAgent({ client, body }), 201);
      const clash = await createAgent({
        client,
        body: { ...body, system_tools: { transfer_to_number: { transfers: [{ number: '+14155550123', condition: 'a human' }] } } },
      });
      expect(expectClientInvalid(clash)).toEqual([{ path: 'tools[0].name', code: 'duplicate_name', message: expect.any(String) }]);
    });
  });
});
