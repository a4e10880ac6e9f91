import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Client } from '../clients/typescript/client/index.js';
import {
  type AgentRequestWritable,
  createAgent,
  type LlmEntryRequestWritable,
  replaceAgent,
  type ReplyRequest,
  type ReplyToolCall,
} from '../clients/typescript/index.js';
import { expectClientProblem, expectStatus, postReply, type ReplyStreamEvent, streamReply } from './support/api-client.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { type SeenRequest, startTlsUpstream, type TlsUpstream, UPSTREAM_ENV } from './support/tls-upstream.js';

/**
 * The reply contract at the wire, both ways: the exact request each llm entry's upstream receives
 * (body compared whole, headers as seen) for both APIs, and the tool calls a reply relays from what
 * the upstream streams. Black box over HTTP, against fake TLS upstreams on loopback; each scenario
 * is the first path segment of an entry's base_url and answers in the format of the API the path
 * ends with.
 */

type Api = 'chat_completions' | 'responses';
const APIS: Api[] = ['chat_completions', 'responses'];

const KEY = `sk-${randomBytes(24).toString('base64url')}`;
const HI: ReplyRequest = { messages: [{ role: 'user', content: 'Hi' }] };

/** A call the fake model makes: the same calls are streamed in either API's format. */
interface FakeCall {
  readonly id: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

const CALLS: FakeCall[] = [
  { id: 'call_end', name: 'end_call', args: { reason: 'caller said goodbye' } },
  { id: 'call_agent', name: 'transfer_to_agent', args: { reason: 'refund', agent_number: 1 } },
  { id: 'call_far', name: 'transfer_to_agent', args: { agent_number: 2 } },
  {
    id: 'call_number',
    name: 'transfer_to_number',
    args: { transfer_number: '+15550001111', client_message: 'Connecting you.', agent_message: 'Wants a human.' },
  },
  { id: 'call_custom', name: 'lookup_order', args: { id: 'A-17' } },
  // A system tool this agent does not enable: the caller's, like a custom tool.
  { id: 'call_silent', name: 'skip_turn', args: {} },
];

// --- The fake upstreams' answers, in each API's streaming format ---

const isResponses = (url: string) => url.endsWith('/responses');
const chatChunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'fake-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const responsesEvent = (type: string, payload: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;

function sse(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' }).end(body);
}

/** A short text reply. */
function answerText(url: string, res: ServerResponse): void {
  sse(
    res,
    isResponses(url)
      ? responsesEvent('response.output_text.delta', { delta: 'ok' }) +
          responsesEvent('response.completed', { response: { model: 'fake-model' } })
      : chatChunk({ role: 'assistant', content: 'ok' }) + chatChunk({}, 'stop') + 'data: [DONE]\n\n',
  );
}

/** Every call of CALLS, arguments streamed in pieces (chat) or as delta then done (responses). */
function answerCalls(url: string, res: ServerResponse): void {
  if (isResponses(url)) {
    const events = CALLS.flatMap(({ id, name, args }, i) => {
      const item = { type: 'function_call', id: `fc_${i}`, call_id: id, name, arguments: '' };
      const json = JSON.stringify(args);
      return [
        responsesEvent('response.output_item.added', { output_index: i, item }),
        responsesEvent('response.function_call_arguments.delta', { item_id: `fc_${i}`, delta: json }),
        responsesEvent('response.function_call_arguments.done', { item_id: `fc_${i}`, arguments: json }),
        // Servers send both ends of an item: the call is relayed once.
        responsesEvent('response.output_item.done', { output_index: i, item: { ...item, arguments: json, status: 'completed' } }),
      ];
    });
    sse(res, [...events, responsesEvent('response.completed', { response: { model: 'fake-model' } })].join(''));
    return;
  }
  const chunks = CALLS.flatMap(({ id, name, args }, index) => [
    chatChunk({ tool_calls: [{ index, id, type: 'function', function: { name, arguments: '' } }] }),
    ...(JSON.stringify(args).match(/.{1,6}/g) ?? []).map((piece) => chatChunk({ tool_calls: [{ index, function: { arguments: piece } }] })),
  ]);
  sse(res, [...chunks, chatChunk({}, 'tool_calls'), 'data: [DONE]\n\n'].join(''));
}

const SCENARIOS: Record<string, (request: SeenRequest, res: ServerResponse) => void> = {
  text: (request, res) => answerText(request.url, res),
  calls: (request, res) => answerCalls(request.url, res),
  status500: (_request, res) => void res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"down"}}'),
};

// --- What the upstream must receive ---

/** The body skeleton for HI with instructions 'Be brief.', in each API's shape. */
function baseBody(api: Api): Record<string, unknown> {
  return api === 'responses'
    ? { model: 'fake-model', instructions: 'Be brief.', input: [{ role: 'user', content: 'Hi' }], stream: true }
    : {
        model: 'fake-model',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
        ],
        stream: true,
        stream_options: { include_usage: true },
      };
}

/** A tool as each API declares one: chat nests the function, responses flattens it (and is told it is not strict). */
function toolAs(api: Api, fn: Record<string, unknown>): Record<string, unknown> {
  return api === 'responses' ? { type: 'function', ...fn, strict: false } : { type: 'function', function: fn };
}

/**
 * A system tool's description: its first line as given, and exactly `listed` as its list lines
 * ("- " items: the configured values, in order). The rest is guidance prose, free to change.
 */
function description(first: string, listed: string[] = []) {
  const lines = (text: string) => text.split('\n');
  return {
    $$typeof: Symbol.for('jest.asymmetricMatcher'),
    asymmetricMatch: (actual: unknown) =>
      typeof actual === 'string' &&
      lines(actual)[0] === first &&
      JSON.stringify(lines(actual).filter((l) => l.startsWith('- '))) === JSON.stringify(listed),
    toAsymmetricMatcher: () => `Description(${JSON.stringify(first)}, listing ${JSON.stringify(listed)})`,
  };
}

/** A property description of a system tool's parameters: some text (its wording is free). */
const PROSE = expect.stringMatching(/\w/);

describe('replies contract: the exact upstream request, and the tool calls relayed', () => {
  let test: TestApi;
  let client: Client;
  /** Most scenarios; `other` is a second origin (another port), for fallback. */
  let upstream: TlsUpstream;
  let other: TlsUpstream;
  /** Transfer targets, by agent_number. */
  let targets: string[];

  beforeAll(async () => {
    const handle = (request: SeenRequest, res: ServerResponse) => SCENARIOS[request.url.split('/')[1] ?? '']?.(request, res);
    upstream = await startTlsUpstream(handle);
    other = await startTlsUpstream(handle);
    test = await startTestApi(['contract'], { ...UPSTREAM_ENV });
    client = test.client('contract');
    targets = [];
    for (const name of ['Billing', 'Refunds']) targets.push(expectStatus(await createAgent({ client, body: { name } }), 201).id);
  });

  afterAll(async () => {
    await test?.dispose();
    await upstream?.close();
    await other?.close();
  });

  const base = (scenario: string, on: TlsUpstream = upstream) => `https://127.0.0.1:${on.port}/${scenario}/v1`;

  /** An entry of `api` on a scenario, with the key sent as bearer unless `over` says otherwise. */
  const entry = (
    scenario: string,
    api: Api = 'chat_completions',
    over: Partial<LlmEntryRequestWritable> = {},
  ): LlmEntryRequestWritable => ({
    base_url: base(scenario),
    model: 'fake-model',
    api,
    ...(over.auth === 'none' ? {} : { api_key: KEY }),
    ...over,
  });

  async function agentWith(llm: LlmEntryRequestWritable[], over: Partial<AgentRequestWritable> = {}): Promise<string> {
    return expectStatus(await createAgent({ client, body: { name: 'contract', instructions: 'Be brief.', llm, ...over } }), 201).id;
  }

  /** Streams one reply to its completed end and returns its events and what `on` received meanwhile. */
  async function reply(agentId: string, body: ReplyRequest = HI, on: TlsUpstream = upstream) {
    const before = on.requests.length;
    const streamed = await streamReply(client, agentId, body);
    expect(streamed.status).toBe(200);
    expect(streamed.events.at(-1)).toMatchObject({ event: 'reply.completed' });
    return { events: streamed.events, seen: on.requests.slice(before) };
  }

  /** The one request a reply sent, its body parsed. */
  async function sent(agentId: string, body: ReplyRequest = HI): Promise<{ url: string; headers: SeenRequest['headers']; body: unknown }> {
    const { seen } = await reply(agentId, body);
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request!.method).toBe('POST');
    return { url: request!.url, headers: request!.headers, body: JSON.parse(request!.body) };
  }

  /** The headers every upstream request carries, on `on`, besides the entry's own. */
  const wireHeaders = (on: TlsUpstream = upstream) => ({
    host: `127.0.0.1:${on.port}`,
    connection: 'keep-alive',
    'content-type': 'application/json',
    accept: 'text/event-stream',
    'content-length': expect.stringMatching(/^\d+$/),
  });

  const toolCalls = (events: ReplyStreamEvent[]): ReplyToolCall[] => events.flatMap((e) => (e.event === 'reply.tool_call' ? [e.data] : []));

  describe.each(APIS)('the body sent, %s', (api) => {
    const path = api === 'responses' ? '/text/v1/responses' : '/text/v1/chat/completions';

    it('declares custom tools in the API’s shape, description and parameters only when given; none: no tools key', async () => {
      const parameters = {
        type: 'object',
        properties: { city: { type: 'string', description: 'City name' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
        required: ['city'],
        additionalProperties: false,
      };
      const withTools = await agentWith([entry('text', api)], {
        tools: [
          { type: 'function', name: 'get_weather', description: 'The weather in a city', parameters },
          { type: 'function', name: 'ping' },
          { type: 'function', name: 'note', description: 'Take a note' },
        ],
      });
      const request = await sent(withTools);
      expect(request.url).toBe(path);
      expect(request.body).toEqual({
        ...baseBody(api),
        tools: [
          toolAs(api, { name: 'get_weather', description: 'The weather in a city', parameters }),
          toolAs(api, { name: 'ping' }),
          toolAs(api, { name: 'note', description: 'Take a note' }),
        ],
      });
      // The nesting itself, spelled out once: the helper above must not hide a wrong shape.
      const tools = (request.body as { tools: Record<string, unknown>[] }).tools;
      expect(tools[1]).toEqual(
        api === 'responses' ? { type: 'function', name: 'ping', strict: false } : { type: 'function', function: { name: 'ping' } },
      );
      expect(JSON.stringify(tools[0])).toContain(JSON.stringify(parameters));

      expect((await sent(await agentWith([entry('text', api)]))).body).toEqual(baseBody(api));
    });

    it('offers each enabled system tool by its canonical name, after the custom tools, with the configured values', async () => {
      const agentId = await agentWith([entry('text', api)], {
        tools: [{ type: 'function', name: 'lookup_order' }],
        system_tools: {
          voicemail_detection: {},
          skip_turn: {},
          transfer_to_number: {
            transfers: [
              { number: '+14155550123', condition: 'The caller asks for a human' },
              { number: '+442071838750', condition: 'The caller is in the UK' },
            ],
          },
          transfer_to_agent: {
            transfers: [
              { agent_id: targets[0]!, condition: 'The caller asks about an invoice' },
              // Quoted as JSON: a condition cannot pass for another item of the list.
              { agent_id: targets[1]!, condition: 'Says "refund"\n- agent_number 7: anything' },
            ],
          },
          language_detection: { languages: ['en-US', 'fr', 'es-419'] },
          end_call: {},
        },
      });
      const reason = { type: 'string', description: PROSE };
      const system = [
        {
          name: 'end_call',
          description: description('End the call (hang up).'),
          parameters: {
            type: 'object',
            properties: { reason, message: { type: 'string', description: PROSE } },
            required: ['reason'],
            additionalProperties: false,
          },
        },
        {
          name: 'language_detection',
          description: description('Switch the conversation to another language.', ['- "en-US"', '- "fr"', '- "es-419"']),
          parameters: {
            type: 'object',
            properties: { reason, language: { type: 'string', description: PROSE, enum: ['en-US', 'fr', 'es-419'] } },
            required: ['reason', 'language'],
            additionalProperties: false,
          },
        },
        {
          name: 'transfer_to_agent',
          description: description('Hand the conversation over to another AI agent that is better suited to what the user needs.', [
            '- agent_number 0: "The caller asks about an invoice"',
            '- agent_number 1: "Says \\"refund\\"\\n- agent_number 7: anything"',
          ]),
          parameters: {
            type: 'object',
            properties: { reason, agent_number: { type: 'integer', description: PROSE, minimum: 0, maximum: 1 } },
            required: ['agent_number'],
            additionalProperties: false,
          },
        },
        {
          name: 'transfer_to_number',
          description: description('Transfer the call to a person at a phone number.', [
            '- "+14155550123": "The caller asks for a human"',
            '- "+442071838750": "The caller is in the UK"',
          ]),
          parameters: {
            type: 'object',
            properties: {
              reason,
              transfer_number: { type: 'string', description: PROSE, enum: ['+14155550123', '+442071838750'] },
              client_message: { type: 'string', description: PROSE },
              agent_message: { type: 'string', description: PROSE },
            },
            required: ['transfer_number', 'client_message', 'agent_message'],
            additionalProperties: false,
          },
        },
        {
          name: 'skip_turn',
          description: description('Stay silent this turn: say nothing, and wait for the user to speak again.'),
          parameters: { type: 'object', properties: { reason }, required: [], additionalProperties: false },
        },
        {
          name: 'voicemail_detection',
          description: description('Report that the call reached a voicemail box or an answering machine, not a live person.'),
          parameters: { type: 'object', properties: { reason }, required: ['reason'], additionalProperties: false },
        },
      ];
      expect((await sent(agentId)).body).toEqual({
        ...baseBody(api),
        tools: [toolAs(api, { name: 'lookup_order' }), ...system.map((fn) => toolAs(api, fn))],
      });

      // Only what is enabled is offered.
      const one = await agentWith([entry('text', api)], { system_tools: { skip_turn: {} } });
      expect((await sent(one)).body).toEqual({ ...baseBody(api), tools: [toolAs(api, system[4]!)] });
    });

    it('sends a conversation with tool calls and their results as the API spells them', async () => {
      const agentId = await agentWith([entry('text', api)], { tools: [{ type: 'function', name: 'get_weather' }] });
      const conversation: ReplyRequest = {
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: 'Let me check.',
            tool_calls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '18°C, sunny' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
              { id: 'call_3', name: 'get_weather', arguments: '{}' },
            ],
          },
          { role: 'tool', tool_call_id: 'call_2', content: '24°C' },
          { role: 'tool', tool_call_id: 'call_3', content: '' },
          { role: 'user', content: 'Thanks' },
        ],
      };
      const { body } = await sent(agentId, conversation);
      const tools = [toolAs(api, { name: 'get_weather' })];
      if (api === 'responses') {
        expect(body).toEqual({
          model: 'fake-model',
          instructions: 'Be brief.',
          input: [
            { role: 'user', content: 'Weather in Paris and Rome?' },
            { role: 'assistant', content: 'Let me check.' },
            { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
            { type: 'function_call_output', call_id: 'call_1', output: '18°C, sunny' },
            { type: 'function_call', call_id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
            { type: 'function_call', call_id: 'call_3', name: 'get_weather', arguments: '{}' },
            { type: 'function_call_output', call_id: 'call_2', output: '24°C' },
            { type: 'function_call_output', call_id: 'call_3', output: '' },
            { role: 'user', content: 'Thanks' },
          ],
          stream: true,
          tools,
        });
      } else {
        const call = (id: string, args: string) => ({ id, type: 'function', function: { name: 'get_weather', arguments: args } });
        expect(body).toEqual({
          model: 'fake-model',
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Weather in Paris and Rome?' },
            { role: 'assistant', content: 'Let me check.', tool_calls: [call('call_1', '{"city":"Paris"}')] },
            { role: 'tool', content: '18°C, sunny', tool_call_id: 'call_1' },
            { role: 'assistant', content: null, tool_calls: [call('call_2', '{"city":"Rome"}'), call('call_3', '{}')] },
            { role: 'tool', content: '24°C', tool_call_id: 'call_2' },
            { role: 'tool', content: '', tool_call_id: 'call_3' },
            { role: 'user', content: 'Thanks' },
          ],
          stream: true,
          stream_options: { include_usage: true },
          tools,
        });
      }
    });

    it('forwards metadata as top-level extra_metadata only with forward_metadata: true', async () => {
      const metadata = { call_id: 'call_123', customer_tier: 'gold' };
      const forwarding = await agentWith([entry('text', api)], { forward_metadata: true });
      expect((await sent(forwarding, { ...HI, metadata })).body).toEqual({ ...baseBody(api), extra_metadata: metadata });
      // No metadata, nothing to forward.
      expect((await sent(forwarding, HI)).body).toEqual(baseBody(api));
      const keeping = await agentWith([entry('text', api)], { forward_metadata: false });
      expect((await sent(keeping, { ...HI, metadata })).body).toEqual(baseBody(api));
      const byDefault = await agentWith([entry('text', api)]);
      expect((await sent(byDefault, { ...HI, metadata })).body).toEqual(baseBody(api));
    });

    it('sends user_id as user, and the entry’s extra_body merged at the top level', async () => {
      const plain = await agentWith([entry('text', api)]);
      expect((await sent(plain, { ...HI, user_id: 'user_8f3a2c' })).body).toEqual({ ...baseBody(api), user: 'user_8f3a2c' });

      const extra_body = { top_k: 40, chat_template_kwargs: { enable_thinking: false }, reasoning_effort: 'low', seed: null };
      const tuned = await agentWith([entry('text', api, { extra_body })], { temperature: 0.3, max_tokens: 100 });
      expect((await sent(tuned, { ...HI, user_id: 'u1' })).body).toEqual({
        ...baseBody(api),
        temperature: 0.3,
        ...(api === 'responses' ? { max_output_tokens: 100 } : { max_tokens: 100 }),
        user: 'u1',
        ...extra_body,
      });
    });

    it('fills {{name}} from the agent’s variables under the reply’s, once, and refuses a missing one before anything is sent', async () => {
      const agentId = await agentWith([entry('text', api)], {
        instructions: 'Help {{name}} with {{topic}} for {{company}}.',
        variables: { company: 'Acme', name: 'there' },
      });
      const { body } = await sent(agentId, { ...HI, variables: { name: 'Ada', topic: '{{company}}' } });
      const instructions = 'Help Ada with {{company}} for Acme.';
      expect(body).toEqual(
        api === 'responses'
          ? { ...baseBody(api), instructions }
          : {
              ...baseBody(api),
              messages: [
                { role: 'system', content: instructions },
                { role: 'user', content: 'Hi' },
              ],
            },
      );

      const before = upstream.requests.length;
      const streamed = await streamReply(client, agentId, { ...HI, variables: { name: 'Ada' } });
      expect({ status: streamed.status, events: streamed.events }).toEqual({ status: 422, events: [] });
      const problem = expectClientProblem(await postReply(client, agentId, { ...HI, stream: false }), 422, 'validation_failed');
      expect(problem.errors).toEqual([
        { path: 'variables.topic', code: 'missing_variable', message: expect.stringContaining('{{topic}}') },
      ]);
      expect(upstream.requests.length).toBe(before);
    });
  });

  describe('the headers sent', () => {
    it.each([
      ['bearer', { authorization: `Bearer ${KEY}` }],
      ['api_key_header', { 'api-key': KEY }],
      ['x_api_key', { 'x-api-key': KEY }],
      ['none', {}],
    ] as const)('auth %s sends the key that way and no other', async (auth, keyHeader) => {
      const agentId = await agentWith([entry('text', 'chat_completions', { auth })]);
      expect((await sent(agentId)).headers).toEqual({ ...wireHeaders(), ...keyHeader });
    });

    it('sends plain and secret headers with their values, and the kept secret after a replace that names it only', async () => {
      const secret = `gw-${randomBytes(24).toString('base64url')}`;
      const agentId = await agentWith([
        entry('text', 'responses', {
          auth: 'x_api_key',
          headers: [
            { name: 'OpenAI-Project', value: 'proj_support' },
            { name: 'X-Gateway-Key', secret_value: secret },
          ],
        }),
      ]);
      const expected = { ...wireHeaders(), 'x-api-key': KEY, 'openai-project': 'proj_support', 'x-gateway-key': secret };
      expect((await sent(agentId)).headers).toEqual(expected);

      // Neither the key nor the secret is sent again: both are kept (same index, same origin).
      const replaced = await replaceAgent({
        client,
        path: { id: agentId },
        body: {
          name: 'contract',
          instructions: 'Be brief.',
          llm: [
            {
              base_url: base('text'),
              model: 'fake-model',
              api: 'responses',
              auth: 'x_api_key',
              headers: [{ name: 'OpenAI-Project', value: 'proj_support' }, { name: 'X-Gateway-Key' }],
            },
          ],
        },
      });
      expect(expectStatus(replaced, 200).llm[0]!.headers).toEqual([
        { name: 'OpenAI-Project', value: 'proj_support' },
        { name: 'X-Gateway-Key', value_hint: `****${secret.slice(-4)}` },
      ]);
      expect((await sent(agentId)).headers).toEqual(expected);
    });

    const SECOND_KEY = `sk-${randomBytes(24).toString('base64url')}`;
    const SECOND_SECRET = `gw-${randomBytes(24).toString('base64url')}`;

    it.each([
      ['auth none and a plain header', { auth: 'none', headers: [{ name: 'X-Entry', value: 'one' }] }, { 'x-entry': 'one' }],
      [
        // Entry 1's credentials are read again when the fallback starts: still its own.
        'its own key and secret header',
        { auth: 'x_api_key', api_key: SECOND_KEY, headers: [{ name: 'X-Gateway-Key', secret_value: SECOND_SECRET }] },
        { 'x-api-key': SECOND_KEY, 'x-gateway-key': SECOND_SECRET },
      ],
    ] as const)(
      'on fallback to an entry with %s, each upstream sees only its own entry’s auth and headers',
      async (_label, second, expected) => {
        const secret = `gw-${randomBytes(24).toString('base64url')}`;
        const agentId = await agentWith([
          entry('status500', 'chat_completions', {
            auth: 'api_key_header',
            headers: [
              { name: 'X-Gateway-Key', secret_value: secret },
              { name: 'X-Entry', value: 'zero' },
            ],
          }),
          { base_url: base('text', other), model: 'fake-model', api: 'responses', ...second, headers: [...second.headers] },
        ]);
        const beforeFirst = upstream.requests.length;
        const { events, seen } = await reply(agentId, HI, other);
        expect(events.at(-1)).toMatchObject({ event: 'reply.completed', data: { entry_index: 1 } });

        // Each attempt in its own entry's API, with its own auth and headers.
        const asSeen = (r: SeenRequest) => ({ url: r.url, headers: r.headers, body: JSON.parse(r.body) as unknown });
        expect(upstream.requests.slice(beforeFirst).map(asSeen)).toEqual([
          {
            url: '/status500/v1/chat/completions',
            headers: { ...wireHeaders(), 'api-key': KEY, 'x-gateway-key': secret, 'x-entry': 'zero' },
            body: baseBody('chat_completions'),
          },
        ]);
        expect(seen.map(asSeen)).toEqual([
          { url: '/text/v1/responses', headers: { ...wireHeaders(other), ...expected }, body: baseBody('responses') },
        ]);
        // Nothing of entry 0's reached entry 1's origin.
        expect(JSON.stringify(seen)).not.toContain(KEY);
        expect(JSON.stringify(seen)).not.toContain(secret);
      },
    );
  });

  describe.each(APIS)('the tool calls relayed, %s', (api) => {
    let agentId: string;

    beforeAll(async () => {
      agentId = await agentWith([entry('calls', api)], {
        tools: [{ type: 'function', name: 'lookup_order' }],
        system_tools: {
          end_call: {},
          transfer_to_agent: {
            transfers: [
              { agent_id: targets[0]!, condition: 'Invoices' },
              { agent_id: targets[1]!, condition: 'Refunds' },
            ],
          },
          transfer_to_number: { transfers: [{ number: '+14155550123', condition: 'A human' }] },
        },
      });
    });

    /** CALLS as the reply must relay them, each checked against the agent's configuration. */
    const expectedCalls = (): ReplyToolCall[] => {
      const relayed = CALLS.map(({ id, name, args }) => ({ id, name, arguments: JSON.stringify(args) }));
      return [
        { ...relayed[0]!, system: true },
        { ...relayed[1]!, system: true, agent_id: targets[1]! },
        { ...relayed[2]!, system: true, error: { code: 'invalid_tool_arguments', message: expect.stringContaining('agent_number 2') } },
        { ...relayed[3]!, system: true, error: { code: 'invalid_tool_arguments', message: expect.stringContaining('+15550001111') } },
        { ...relayed[4]!, system: false },
        { ...relayed[5]!, system: false },
      ];
    };

    it('streams each call once, system calls checked: transfer_to_agent resolved to the agent, an unlisted number an error', async () => {
      const { events } = await reply(agentId);
      expect(events.map((e) => e.event)).toEqual([...CALLS.map(() => 'reply.tool_call'), 'reply.completed']);
      expect(toolCalls(events)).toEqual(expectedCalls());
      expect(events.at(-1)!.data).toMatchObject({ finish_reason: 'tool_calls', entry_index: 0 });
    });

    it('answers stream: false with the same tool calls', async () => {
      const whole = expectStatus(await postReply(client, agentId, { ...HI, stream: false }), 200);
      expect(whole).toEqual({
        text: '',
        tool_calls: expectedCalls(),
        finish_reason: 'tool_calls',
        entry_index: 0,
        model: 'fake-model',
        ttft_ms: expect.any(Number),
        duration_ms: expect.any(Number),
      });
    });
  });
});
