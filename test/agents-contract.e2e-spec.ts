import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Client } from '../clients/typescript/client/index.js';
import {
  type Agent,
  type AgentRequestWritable,
  createAgent,
  getAgent,
  listAgents,
  type LlmEntryRequestWritable,
  replaceAgent,
} from '../clients/typescript/index.js';
import { expectClientInvalid, expectStatus, untyped } from './support/api-client.js';
import { hintOf, providerKey } from './support/http.js';
import { ROOT } from './support/processes.js';
import { startTestApi, type TestApi } from './support/test-api.js';

/**
 * The agent contract for tools, system tools, forward_metadata, variables and the llm entries'
 * auth, extra_body and headers: what is accepted comes back as sent through every read, what a
 * replacement leaves out goes back to its default, and each malformed shape is a 422 naming the
 * member and a stable code.
 */

// Public IP literals: the save-time check needs no DNS for them, and nothing here connects to them.
const ORIGIN_A = 'https://93.184.216.34';
const ORIGIN_C = 'https://1.1.1.1';

const PARAMETERS = {
  type: 'object',
  // Key order and names like Object.prototype members are the caller's: kept as sent.
  properties: {
    zeta: { type: 'string', description: 'last in the alphabet, first here' },
    constructor: { type: 'integer', minimum: 0 },
    alpha: { type: 'array', items: { type: 'string', pattern: '^[a-z]+$' } },
  },
  required: ['zeta'],
  additionalProperties: false,
};

describe('agent contract over HTTP: tools, system tools, variables, auth, extra_body, headers', () => {
  let test: TestApi;
  let client: Client;
  let target: Agent;

  beforeAll(async () => {
    test = await startTestApi(['contract-main']);
    client = test.client('contract-main');
    target = expectStatus(await createAgent({ client, body: { name: 'Billing desk' } }), 201);
  });

  afterAll(async () => {
    await test?.dispose();
  });

  const entry = (over: Partial<LlmEntryRequestWritable> = {}): LlmEntryRequestWritable => ({
    base_url: `${ORIGIN_A}/v1`,
    model: 'gpt-4o-mini',
    api_key: providerKey(24),
    ...over,
  });

  async function read(id: string): Promise<Agent> {
    return expectStatus(await getAgent({ client, path: { id } }), 200);
  }

  async function listed(id: string): Promise<Agent | undefined> {
    const page = expectStatus(await listAgents({ client, query: { limit: 100 } }), 200);
    return page.data.find((a) => a.id === id);
  }

  describe('round trips', () => {
    it('shows every new field as sent through create, get and list, and a read sent back changes nothing', async () => {
      const key = providerKey(32);
      const body: AgentRequestWritable = {
        name: 'Front desk',
        instructions: 'You answer for {{company}}.',
        tools: [
          { type: 'function', name: 'get_weather', description: 'The weather in a city', parameters: PARAMETERS },
          { type: 'function', name: 'ping' },
        ],
        system_tools: {
          end_call: {},
          language_detection: { languages: ['en-US', 'fr', 'es-419'] },
          transfer_to_agent: { transfers: [{ agent_id: target.id, condition: 'The caller asks about an invoice' }] },
          transfer_to_number: { transfers: [{ number: '+14155550123', condition: 'The caller asks for a human' }] },
          skip_turn: {},
          voicemail_detection: {},
        },
        forward_metadata: true,
        variables: { company: 'Acme', constructor: 'kept as data', toString: 'too' },
        llm: [
          {
            base_url: `${ORIGIN_A}/v1`,
            model: 'gpt-4o-mini',
            auth: 'x_api_key',
            api_key: key,
            extra_body: { reasoning_effort: 'low', nested: { constructor: [1, { b: 2, a: 1 }] } },
            headers: [
              { name: 'OpenAI-Project', value: 'proj_support' },
              { name: 'X-Trace', value: 'a b\tc' },
              { name: 'X-Source', value: 'own-scheme' },
            ],
          },
        ],
      };
      const created = expectStatus(await createAgent({ client, body }), 201);
      expect(created).toMatchObject({
        tools: [
          { type: 'function', name: 'get_weather', description: 'The weather in a city', parameters: PARAMETERS },
          { type: 'function', name: 'ping' },
        ],
        system_tools: body.system_tools,
        forward_metadata: true,
        variables: body.variables,
        llm: [
          {
            base_url: `${ORIGIN_A}/v1`,
            auth: 'x_api_key',
            api_key_hint: hintOf(key),
            extra_body: body.llm![0]!.extra_body,
            headers: body.llm![0]!.headers,
          },
        ],
      });
      // Absent optional members stay absent, and JSON Schema key order survives storage.
      expect(Object.keys(created.tools[1]!)).toEqual(['type', 'name']);
      expect(JSON.stringify(created.tools[0]!.parameters)).toBe(JSON.stringify(PARAMETERS));
      expect(JSON.stringify(created.llm[0]!.extra_body)).toBe(JSON.stringify(body.llm![0]!.extra_body));
      expect(JSON.stringify(created)).not.toContain(key);

      expect(await read(created.id)).toEqual(created);
      expect(await listed(created.id)).toEqual(created);

      // A read, sent back as it is (hints, type and all), is accepted and changes nothing it shows.
      const replaced = expectStatus(await replaceAgent({ client, path: { id: created.id }, body: untyped(created) }), 200);
      expect({ ...replaced, updated_at: created.updated_at }).toEqual(created);
    });

    it('a replacement that leaves the new fields out puts each back to its default', async () => {
      const created = expectStatus(
        await createAgent({
          client,
          body: {
            name: 'Reset me',
            tools: [{ type: 'function', name: 'lookup', parameters: { type: 'object' } }],
            system_tools: { end_call: {}, skip_turn: {} },
            forward_metadata: true,
            variables: { a: '1' },
            llm: [entry({ auth: 'api_key_header', extra_body: { seed: 7 }, headers: [{ name: 'X-Org', value: 'acme' }] })],
          },
        }),
        201,
      );
      expect(created.llm[0]).toMatchObject({
        auth: 'api_key_header',
        extra_body: { seed: 7 },
        headers: [{ name: 'X-Org', value: 'acme' }],
      });

      const replaced = expectStatus(
        await replaceAgent({
          client,
          path: { id: created.id },
          body: { name: 'Reset me', llm: [{ base_url: `${ORIGIN_A}/v1`, model: 'm' }] },
        }),
        200,
      );
      expect(replaced).toMatchObject({ tools: [], system_tools: {}, forward_metadata: false, variables: {} });
      expect(replaced.llm).toEqual([
        {
          base_url: `${ORIGIN_A}/v1`,
          model: 'm',
          api: 'chat_completions',
          auth: 'bearer',
          api_key_hint: created.llm[0]!.api_key_hint,
          headers: [],
        },
      ]);
      expect(await read(created.id)).toEqual(replaced);
      expect(await listed(created.id)).toEqual(replaced);
    });

    it('takes each auth scheme that sends a key, bearer by default, per entry', async () => {
      const created = expectStatus(
        await createAgent({
          client,
          body: {
            name: 'Schemes',
            llm: [entry(), entry({ auth: 'bearer' }), entry({ auth: 'api_key_header' }), entry({ base_url: ORIGIN_C, auth: 'x_api_key' })],
          },
        }),
        201,
      );
      expect(created.llm.map((e) => e.auth)).toEqual(['bearer', 'bearer', 'api_key_header', 'x_api_key']);
      // A header another scheme would set is an ordinary header here.
      const swapped = expectStatus(
        await replaceAgent({
          client,
          path: { id: created.id },
          body: {
            name: 'Schemes',
            llm: [
              {
                base_url: `${ORIGIN_A}/v1`,
                model: 'gpt-4o-mini',
                auth: 'x_api_key',
                headers: [{ name: 'Authorization', secret_value: 'Basic eDp5' }],
              },
              {
                base_url: `${ORIGIN_A}/v1`,
                model: 'gpt-4o-mini',
                auth: 'api_key_header',
                headers: [{ name: 'X-Api-Key', secret_value: 'k' }],
              },
            ],
          },
        }),
        200,
      );
      expect(swapped.llm.map((e) => [e.auth, e.headers])).toEqual([
        ['x_api_key', [{ name: 'Authorization', value_hint: '****' }]],
        ['api_key_header', [{ name: 'X-Api-Key', value_hint: '****' }]],
      ]);
      expect(await read(created.id)).toEqual(swapped);
    });

    it('takes the create and replace examples of openapi.yaml as written (base_url aside: no DNS here)', async () => {
      interface Examples {
        examples: Record<string, { value: AgentRequestWritable }>;
      }
      const spec = parse(await readFile(join(ROOT, 'openapi.yaml'), 'utf8')) as {
        paths: Record<string, Record<string, { requestBody: { content: Record<string, Examples> } }>>;
      };
      const examples = (path: string, method: string) =>
        Object.values(spec.paths[path]![method]!.requestBody.content['application/json']!.examples).map((e) => e.value);
      const onIp = (body: AgentRequestWritable): AgentRequestWritable => ({
        ...body,
        // An Azure entry named by its resource gets a base_url: only loopback is reachable here.
        llm: body.llm?.map((e) => ({ ...e, base_url: e.base_url?.replace(/^https:\/\/[^/]+/, ORIGIN_A) ?? `${ORIGIN_A}/openai` })),
      });
      const creates = examples('/v1/agents', 'post');
      // One shows the whole contract; the others one native spec each.
      const full = creates.find((example) => (example.tools?.length ?? 0) > 0);
      expect(Object.keys(full?.system_tools ?? {}).length).toBeGreaterThanOrEqual(2);
      expect(full?.llm?.[0]?.headers?.length).toBeGreaterThan(0);
      expect(creates.flatMap((example) => example.llm?.map((e) => e.api ?? 'chat_completions') ?? []).sort()).toEqual([
        'anthropic',
        'anthropic',
        'azure',
        'chat_completions',
        'google',
      ]);
      for (const example of creates) {
        const created = expectStatus(await createAgent({ client, body: onIp(example) }), 201);
        expect(created).toMatchObject({
          tools: example.tools ?? [],
          system_tools: example.system_tools ?? {},
          variables: example.variables ?? {},
          llm: example.llm?.map((e) => ({ api: e.api ?? 'chat_completions', model: e.model })),
        });
        for (const replacement of examples('/v1/agents/{id}', 'put')) {
          const replaced = expectStatus(await replaceAgent({ client, path: { id: created.id }, body: onIp(replacement) }), 200);
          expect(replaced).toMatchObject({ name: replacement.name, tools: replacement.tools });
        }
      }
    });
  });

  describe('422 for each malformed shape, naming the member and a stable code', () => {
    type Case = readonly [label: string, body: Record<string, unknown>, path: string, code: string];

    /** Every case's errors, as path and code, beside the one expected: one failure lists them all. */
    async function check(cases: readonly Case[]): Promise<void> {
      const seen: { label: string; errors: { path: string; code: string }[] }[] = [];
      for (const [label, body] of cases) {
        const result = await createAgent({ client, body: untyped({ name: 'x', ...body }) });
        expect({ label, status: result.response?.status }).toEqual({ label, status: 422 });
        seen.push({ label, errors: expectClientInvalid(result).map(({ path, code }) => ({ path, code })) });
      }
      expect(seen).toEqual(cases.map(([label, , path, code]) => ({ label, errors: [{ path, code }] })));
    }

    const tool = (over: Record<string, unknown> = {}) => ({ type: 'function', name: 'lookup', ...over });
    const llm = (over: Record<string, unknown> = {}) => ({ llm: [entry(), entry(over)] });

    it('tools', async () => {
      await check([
        ['not an array', { tools: 'get_weather' }, 'tools', 'is_array'],
        ['65 tools', { tools: Array.from({ length: 65 }, (_, i) => tool({ name: `t${i}` })) }, 'tools', 'array_max_size'],
        ['type missing', { tools: [{ name: 'a' }] }, 'tools[0].type', 'required'],
        ['type not function', { tools: [tool({ type: 'code_interpreter' })] }, 'tools[0].type', 'is_in'],
        ['name missing', { tools: [{ type: 'function' }] }, 'tools[0].name', 'required'],
        ['name with a space', { tools: [tool({ name: 'get weather' })] }, 'tools[0].name', 'invalid_tool_name'],
        ['name of 65 characters', { tools: [tool({ name: 'n'.repeat(65) })] }, 'tools[0].name', 'invalid_tool_name'],
        ['duplicate name', { tools: [tool(), tool({ name: 'other' }), tool()] }, 'tools[2].name', 'duplicate_name'],
        ['description too long', { tools: [tool({ description: 'd'.repeat(4097) })] }, 'tools[0].description', 'max_length'],
        ['description with NUL', { tools: [tool({ description: 'a\u0000' })] }, 'tools[0].description', 'nul_character'],
        ['unknown member', { tools: [tool({ strict: true })] }, 'tools[0].strict', 'unknown_property'],
        ['parameters an array', { tools: [tool({ parameters: [] })] }, 'tools[0].parameters', 'is_object'],
        [
          'parameters not an object schema',
          { tools: [tool({ parameters: { type: 'string' } })] },
          'tools[0].parameters.type',
          'invalid_json_schema',
        ],
        [
          'parameters without type',
          { tools: [tool({ parameters: { properties: {} } })] },
          'tools[0].parameters.type',
          'invalid_json_schema',
        ],
        [
          'unknown type deep in parameters',
          {
            tools: [tool(), tool({ name: 'b' }), tool({ name: 'c', parameters: { type: 'object', properties: { x: { type: 'strin' } } } })],
          },
          'tools[2].parameters.properties.x.type',
          'invalid_json_schema',
        ],
        [
          'required not strings',
          { tools: [tool({ parameters: { type: 'object', required: ['a', 7] } })] },
          'tools[0].parameters.required[1]',
          'invalid_json_schema',
        ],
        [
          'pattern not a regular expression',
          { tools: [tool({ parameters: { type: 'object', properties: { 'a-b': { type: 'string', pattern: '([' } } } })] },
          'tools[0].parameters.properties["a-b"].pattern',
          'invalid_json_schema',
        ],
        [
          'parameters over 16 KB',
          { tools: [tool({ parameters: { type: 'object', description: 'd'.repeat(16 * 1024) } })] },
          'tools[0].parameters',
          'too_large',
        ],
        [
          '__proto__ in parameters',
          { tools: [tool({ parameters: JSON.parse('{"type":"object","properties":{"__proto__":{"type":"string"}}}') as object })] },
          'tools[0].parameters.properties.__proto__',
          'forbidden_key',
        ],
      ]);
    });

    it('system_tools', async () => {
      const transfer = { agent_id: 'agt_x', condition: 'asked' };
      const call = { number: '+14155550123', condition: 'asked' };
      await check([
        ['not an object', { system_tools: 'end_call' }, 'system_tools', 'is_object'],
        ['unknown tool', { system_tools: { hang_up: {} } }, 'system_tools.hang_up', 'unknown_property'],
        ['end_call null', { system_tools: { end_call: null } }, 'system_tools.end_call', 'is_object'],
        ['end_call with a member', { system_tools: { end_call: { reason: 'done' } } }, 'system_tools.end_call', 'unknown_property'],
        ['skip_turn with a member', { system_tools: { skip_turn: { constructor: 1 } } }, 'system_tools.skip_turn', 'unknown_property'],
        ['voicemail_detection true', { system_tools: { voicemail_detection: true } }, 'system_tools.voicemail_detection', 'is_object'],
        ['languages missing', { system_tools: { language_detection: {} } }, 'system_tools.language_detection.languages', 'required'],
        [
          'languages empty',
          { system_tools: { language_detection: { languages: [] } } },
          'system_tools.language_detection.languages',
          'array_min_size',
        ],
        [
          '51 languages',
          { system_tools: { language_detection: { languages: Array.from({ length: 51 }, () => 'en') } } },
          'system_tools.language_detection.languages',
          'array_max_size',
        ],
        [
          'not a language tag',
          { system_tools: { language_detection: { languages: ['en', 'fr-CA', 'de', 'english please'] } } },
          'system_tools.language_detection.languages[3]',
          'invalid_language_tag',
        ],
        [
          'a language twice, in another case',
          { system_tools: { language_detection: { languages: ['en-US', 'en-us'] } } },
          'system_tools.language_detection.languages[1]',
          'duplicate_language',
        ],
        [
          'a language not a string',
          { system_tools: { language_detection: { languages: [7] } } },
          'system_tools.language_detection.languages',
          'is_string',
        ],
        [
          'no transfers',
          { system_tools: { transfer_to_agent: { transfers: [] } } },
          'system_tools.transfer_to_agent.transfers',
          'array_min_size',
        ],
        [
          '21 transfers',
          { system_tools: { transfer_to_number: { transfers: Array.from({ length: 21 }, () => call) } } },
          'system_tools.transfer_to_number.transfers',
          'array_max_size',
        ],
        [
          'agent_id missing',
          { system_tools: { transfer_to_agent: { transfers: [{ condition: 'asked' }] } } },
          'system_tools.transfer_to_agent.transfers[0].agent_id',
          'required',
        ],
        [
          'condition too long',
          { system_tools: { transfer_to_agent: { transfers: [{ ...transfer, condition: 'c'.repeat(1001) }] } } },
          'system_tools.transfer_to_agent.transfers[0].condition',
          'is_length',
        ],
        [
          'blank condition',
          { system_tools: { transfer_to_number: { transfers: [{ ...call, condition: ' ' }] } } },
          'system_tools.transfer_to_number.transfers[0].condition',
          'blank',
        ],
        [
          'a number without +',
          { system_tools: { transfer_to_number: { transfers: [call, { ...call, number: '14155550123' }] } } },
          'system_tools.transfer_to_number.transfers[1].number',
          'invalid_phone_number',
        ],
        [
          'a number of 16 digits',
          { system_tools: { transfer_to_number: { transfers: [{ ...call, number: '+1234567890123456' }] } } },
          'system_tools.transfer_to_number.transfers[0].number',
          'invalid_phone_number',
        ],
        [
          'unknown transfer member',
          { system_tools: { transfer_to_number: { transfers: [{ ...call, warm: true }] } } },
          'system_tools.transfer_to_number.transfers[0].warm',
          'unknown_property',
        ],
      ]);
    });

    it('forward_metadata and variables', async () => {
      await check([
        ['forward_metadata a string', { forward_metadata: 'yes' }, 'forward_metadata', 'is_boolean'],
        ['forward_metadata null', { forward_metadata: null }, 'forward_metadata', 'is_boolean'],
        ['variables an array', { variables: [] }, 'variables', 'is_object'],
        [
          '101 variables',
          { variables: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, 'x'])) },
          'variables',
          'too_many_variables',
        ],
        ['a variable name with a dash', { variables: { 'first-name': 'x' } }, 'variables["first-name"]', 'invalid_variable_name'],
        ['a variable name starting with a digit', { variables: { '1st': 'x' } }, 'variables["1st"]', 'invalid_variable_name'],
        [
          'a variable name of 65 characters',
          { variables: { ['v'.repeat(65)]: 'x' } },
          `variables["${'v'.repeat(65)}"]`,
          'invalid_variable_name',
        ],
        ['a variable value not a string', { variables: { a: 1 } }, 'variables.a', 'is_string'],
        ['a variable value over 10,000 characters', { variables: { a: 'x'.repeat(10_001) } }, 'variables.a', 'max_length'],
        ['__proto__ as a variable', { variables: JSON.parse('{"__proto__":"x"}') as object }, 'variables.__proto__', 'forbidden_key'],
      ]);
    });

    it('auth and extra_body', async () => {
      await check([
        ['unknown scheme', llm({ auth: 'basic' }), 'llm[1].auth', 'is_in'],
        ['auth null', llm({ auth: null }), 'llm[1].auth', 'is_in'],
        ['api_key with auth none', llm({ auth: 'none' }), 'llm[1].api_key', 'not_allowed_with_auth_none'],
        [
          'credential_id with auth none',
          llm({ auth: 'none', api_key: undefined, credential_id: 'cred_x' }),
          'llm[1].credential_id',
          'not_allowed_with_auth_none',
        ],
        ['extra_body an array', llm({ extra_body: [] }), 'llm[1].extra_body', 'is_object'],
        ['extra_body over 16 KB', llm({ extra_body: { note: 'n'.repeat(16 * 1024) } }), 'llm[1].extra_body', 'too_large'],
        ...[
          'model',
          'messages',
          'input',
          'instructions',
          'stream',
          'stream_options',
          'tools',
          'tool_choice',
          'temperature',
          'max_tokens',
          'max_output_tokens',
          'user',
          'extra_metadata',
        ].map((key): Case => [
          `extra_body.${key}`,
          llm({ extra_body: { seed: 1, [key]: null } }),
          `llm[1].extra_body.${key}`,
          'reserved_field',
        ]),
        [
          '__proto__ deep in extra_body',
          llm({ extra_body: JSON.parse('{"a":[{"__proto__":1}]}') as object }),
          'llm[1].extra_body.a[0].__proto__',
          'forbidden_key',
        ],
      ]);
    });

    it('headers', async () => {
      const headers = (...list: unknown[]) => llm({ headers: list });
      const plain = { name: 'X-Team', value: 'support' };
      await check([
        ['not an array', llm({ headers: 'X-Team: support' }), 'llm[1].headers', 'is_array'],
        [
          '17 headers',
          headers(...Array.from({ length: 17 }, (_, i) => ({ name: `X-H${i}`, value: 'v' }))),
          'llm[1].headers',
          'array_max_size',
        ],
        ['name missing', headers({ value: 'v' }), 'llm[1].headers[0].name', 'required'],
        ['name with a colon', headers({ name: 'X-Team:', value: 'v' }), 'llm[1].headers[0].name', 'invalid_header_name'],
        ['name with a space', headers(plain, { name: 'X Team', value: 'v' }), 'llm[1].headers[1].name', 'invalid_header_name'],
        ['name of 257 characters', headers({ name: 'x'.repeat(257), value: 'v' }), 'llm[1].headers[0].name', 'is_length'],
        ['value with a newline', headers({ name: 'X-A', value: 'a\r\nX-B: b' }), 'llm[1].headers[0].value', 'invalid_header_value'],
        ['value with a trailing space', headers({ name: 'X-A', value: 'a ' }), 'llm[1].headers[0].value', 'invalid_header_value'],
        ['value not ASCII', headers({ name: 'X-A', value: 'café' }), 'llm[1].headers[0].value', 'invalid_header_value'],
        ['value over 8192', headers({ name: 'X-A', value: 'v'.repeat(8193) }), 'llm[1].headers[0].value', 'max_length'],
        ['secret_value empty', headers({ name: 'X-A', secret_value: '' }), 'llm[1].headers[0].secret_value', 'is_length'],
        ['secret_value over 4096', headers({ name: 'X-A', secret_value: 's'.repeat(4097) }), 'llm[1].headers[0].secret_value', 'is_length'],
        [
          'secret_value with a tab at the end',
          headers({ name: 'X-A', secret_value: 's\t' }),
          'llm[1].headers[0].secret_value',
          'invalid_header_value',
        ],
        [
          'value and secret_value',
          headers({ name: 'X-A', value: 'v', secret_value: 's' }),
          'llm[1].headers[0].secret_value',
          'conflicts_with_value',
        ],
        ['unknown member', headers({ ...plain, sensitive: true }), 'llm[1].headers[0].sensitive', 'unknown_property'],
        ['the same name twice', headers(plain, { name: 'x-team', value: 'other' }), 'llm[1].headers[1].name', 'duplicate_header'],
        ['__proto__ as a name', headers({ name: '__proto__', value: 'v' }), 'llm[1].headers[0].name', 'reserved_header'],
        [
          'a credential header in plain',
          llm({ auth: 'none', api_key: undefined, headers: [{ name: 'Authorization', value: 'Bearer sk-0123' }] }),
          'llm[1].headers[0].value',
          'secret_value_required',
        ],
        ['a cookie in plain', headers({ name: 'Cookie', value: 'session=1' }), 'llm[1].headers[0].value', 'secret_value_required'],
        ...[
          'Connection',
          'keep-alive',
          'Proxy-Authenticate',
          'proxy-authorization',
          'Proxy-Connection',
          'TE',
          'trailer',
          'Transfer-Encoding',
          'upgrade',
          'Host',
          'content-length',
          'Content-Type',
          'ACCEPT',
        ].map((name): Case => [`${name} (reserved)`, headers(plain, { name, value: 'v' }), 'llm[1].headers[1].name', 'reserved_header']),
        [
          'authorization with bearer (the default)',
          headers({ name: 'Authorization', value: 'v' }),
          'llm[1].headers[0].name',
          'reserved_header',
        ],
        [
          'api-key with api_key_header',
          llm({ auth: 'api_key_header', headers: [{ name: 'API-Key', value: 'v' }] }),
          'llm[1].headers[0].name',
          'reserved_header',
        ],
        [
          'x-api-key with x_api_key',
          llm({ auth: 'x_api_key', headers: [{ name: 'x-api-key', value: 'v' }] }),
          'llm[1].headers[0].name',
          'reserved_header',
        ],
      ]);
    });
  });
});
