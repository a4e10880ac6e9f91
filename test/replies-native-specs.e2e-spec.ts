import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Client } from '../clients/typescript/client/index.js';
import { createAgent, getAgent, type LlmEntryRequestWritable, type ReplyRequest } from '../clients/typescript/index.js';
import { expectClientInvalid, expectStatus, type ReplyStreamEvent, streamReply } from './support/api-client.js';
import {
  anthropicStream,
  azureStream,
  FAKE_USAGE,
  type FakeScript,
  type FakeToolCall,
  geminiStream,
  writeSplit,
} from './support/provider-fakes.js';
import { startTestApi, type TestApi } from './support/test-api.js';
import { type SeenRequest, startTlsUpstream, type TlsUpstream, UPSTREAM_ENV } from './support/tls-upstream.js';

/**
 * The native specs at the wire: for Anthropic Messages, Google Gemini and Azure OpenAI (both
 * routes), the exact request the upstream receives (path, query, headers, body) and what a reply
 * relays from a stream in that provider's own format: text cut through multi-byte characters,
 * tool calls, and an error inside the stream. One fake TLS upstream on loopback answers every
 * spec; the first path segment names the format, the first user message the script.
 */

const KEY = `sk-${randomBytes(24).toString('base64url')}`;
/** Put in every in-stream error message: it must reach no event. */
const LEAK = `leak-${randomBytes(8).toString('hex')}`;

const LOOKUP_PARAMETERS = { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false };
const CALLS: FakeToolCall[] = [
  { id: 'toolu_lookup', name: 'lookup_order', args: { id: 'Ä-17 ü' } },
  { id: 'toolu_end', name: 'end_call', args: { reason: 'done' } },
];
const SCRIPTS: Record<string, FakeScript> = {
  text: { text: ['Hello', ' there'] },
  multibyte: { text: ['Grüße ', 'aus Zürich ', '🙂 日本語'] },
  tools: { text: ['Checking.'], calls: CALLS },
  error: { text: ['Hel', 'lo'], errorWith: `key ${KEY} ${LEAK}` },
};

type Spec = 'anthropic' | 'google' | 'azure' | 'azure_v1';
const SPECS: Spec[] = ['anthropic', 'google', 'azure', 'azure_v1'];
const MODEL: Record<Spec, string> = { anthropic: 'claude-fake', google: 'gemini-fake', azure: 'gpt-fake', azure_v1: 'gpt-fake' };

function answer(request: SeenRequest, res: ServerResponse): void {
  const spec = request.url.split('/')[1] as Spec;
  // Any other first segment is an endpoint that is down.
  if (!SPECS.includes(spec)) return void res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"down"}}');
  const body = JSON.parse(request.body) as { messages?: { content: unknown }[]; contents?: { parts: { text?: string }[] }[] };
  const first =
    body.contents?.[0]?.parts[0]?.text ?? body.messages?.find((m) => typeof m.content === 'string' && m.content !== 'Be brief.')?.content;
  const script = SCRIPTS[String(first)];
  if (script === undefined) return void res.writeHead(400).end();
  const stream = spec === 'anthropic' ? anthropicStream : spec === 'google' ? geminiStream : azureStream;
  void writeSplit(res, stream(MODEL[spec], script));
}

describe('native specs: Anthropic, Gemini and Azure OpenAI end to end', () => {
  let test: TestApi;
  let client: Client;
  let upstream: TlsUpstream;

  beforeAll(async () => {
    upstream = await startTlsUpstream(answer);
    test = await startTestApi(['specs'], { ...UPSTREAM_ENV });
    client = test.client('specs');
  });

  afterAll(async () => {
    await test?.dispose();
    await upstream?.close();
  });

  const origin = () => `https://127.0.0.1:${upstream.port}`;

  function entryFor(spec: Spec): LlmEntryRequestWritable {
    switch (spec) {
      case 'anthropic':
        return { api: 'anthropic', base_url: `${origin()}/anthropic/v1`, model: MODEL.anthropic, api_key: KEY };
      case 'google':
        return { api: 'google', base_url: `${origin()}/google/v1beta`, model: MODEL.google, api_key: KEY };
      case 'azure':
        return {
          api: 'azure',
          base_url: `${origin()}/azure/openai`,
          azure: { api_version: '2024-10-21', deployment: 'voice-prod' },
          model: MODEL.azure,
          api_key: KEY,
        };
      case 'azure_v1':
        return { api: 'azure', base_url: `${origin()}/azure_v1/openai/v1`, model: MODEL.azure_v1, api_key: KEY };
    }
  }

  async function agentFor(spec: Spec, llm: LlmEntryRequestWritable[] = [entryFor(spec)]): Promise<string> {
    const body = {
      name: `native ${spec}`,
      instructions: 'Be brief.',
      temperature: 0.3,
      tools: [{ type: 'function' as const, name: 'lookup_order', description: 'Finds an order', parameters: LOOKUP_PARAMETERS }],
      system_tools: { end_call: {} },
      llm,
    };
    return expectStatus(await createAgent({ client, body }), 201).id;
  }

  async function reply(agentId: string, body: ReplyRequest) {
    const before = upstream.requests.length;
    const streamed = await streamReply(client, agentId, body);
    expect(streamed.status).toBe(200);
    return { events: streamed.events, seen: upstream.requests.slice(before) };
  }

  const say = (text: string): ReplyRequest => ({ messages: [{ role: 'user', content: text }], user_id: 'caller-42' });
  const textOf = (events: ReplyStreamEvent[]) => events.flatMap((e) => (e.event === 'reply.delta' ? [e.data.text] : [])).join('');
  const callsOf = (events: ReplyStreamEvent[]) => events.flatMap((e) => (e.event === 'reply.tool_call' ? [e.data] : []));
  const endCall = expect.objectContaining({ name: 'end_call' });

  /** The URL, the headers besides the connection's own, and the body each spec must send for `say(text)`. */
  function expected(spec: Spec, text: string) {
    const lookup = { name: 'lookup_order', description: 'Finds an order' };
    switch (spec) {
      case 'anthropic':
        return {
          url: '/anthropic/v1/messages',
          headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' },
          body: {
            model: MODEL.anthropic,
            max_tokens: 1024,
            system: 'Be brief.',
            messages: [{ role: 'user', content: text }],
            stream: true,
            temperature: 0.3,
            tools: [{ ...lookup, input_schema: LOOKUP_PARAMETERS }, endCall],
            metadata: { user_id: 'caller-42' },
          },
        };
      case 'google':
        return {
          url: `/google/v1beta/models/${MODEL.google}:streamGenerateContent?alt=sse`,
          headers: { 'x-goog-api-key': KEY },
          body: {
            contents: [{ role: 'user', parts: [{ text }] }],
            systemInstruction: { parts: [{ text: 'Be brief.' }] },
            generationConfig: { temperature: 0.3 },
            tools: [{ functionDeclarations: [{ ...lookup, parametersJsonSchema: LOOKUP_PARAMETERS }, endCall] }],
          },
        };
      case 'azure':
      case 'azure_v1':
        return {
          url:
            spec === 'azure'
              ? '/azure/openai/deployments/voice-prod/chat/completions?api-version=2024-10-21'
              : '/azure_v1/openai/v1/chat/completions',
          headers: { 'api-key': KEY },
          body: {
            model: MODEL.azure,
            messages: [
              { role: 'system', content: 'Be brief.' },
              { role: 'user', content: text },
            ],
            stream: true,
            stream_options: { include_usage: true },
            temperature: 0.3,
            tools: [
              { type: 'function', function: { ...lookup, parameters: LOOKUP_PARAMETERS } },
              { type: 'function', function: endCall },
            ],
            user: 'caller-42',
          },
        };
    }
  }

  describe.each(SPECS)('%s', (spec) => {
    let agentId: string;
    beforeAll(async () => {
      agentId = await agentFor(spec);
    });

    it('sends exactly the request the provider documents: path, query, key header, body', async () => {
      const { events, seen } = await reply(agentId, say('text'));
      expect(seen).toHaveLength(1);
      const want = expected(spec, 'text');
      const request = seen[0]!;
      expect(request.method).toBe('POST');
      expect(request.url).toBe(want.url);
      expect(JSON.parse(request.body)).toEqual(want.body);
      // The connection's own headers (host, connection, content-length) are not the spec's.
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)),
      );
      expect(headers).toEqual({ ...want.headers, 'content-type': 'application/json', accept: 'text/event-stream' });
      expect(textOf(events)).toBe('Hello there');
      expect(events.at(-1)).toEqual({
        event: 'reply.completed',
        data: expect.objectContaining({ finish_reason: 'stop', entry_index: 0, model: MODEL[spec], usage: FAKE_USAGE }),
      });
    });

    it('relays text cut through multi-byte characters whole', async () => {
      const { events } = await reply(agentId, say('multibyte'));
      expect(textOf(events)).toBe('Grüße aus Zürich 🙂 日本語');
      expect(events.at(-1)?.event).toBe('reply.completed');
    });

    it('relays tool calls from the provider’s tool format, system tools marked, then finishes with tool_calls', async () => {
      const { events } = await reply(agentId, say('tools'));
      expect(textOf(events)).toBe('Checking.');
      expect(callsOf(events)).toEqual([
        { id: 'toolu_lookup', name: 'lookup_order', arguments: JSON.stringify(CALLS[0]!.args), system: false },
        { id: 'toolu_end', name: 'end_call', arguments: JSON.stringify(CALLS[1]!.args), system: true },
      ]);
      expect(events.at(-1)).toEqual({ event: 'reply.completed', data: expect.objectContaining({ finish_reason: 'tool_calls' }) });
    });

    it('ends with upstream_error on an error inside the stream, repeating none of its message', async () => {
      const { events } = await reply(agentId, say('error'));
      expect(textOf(events)).toBe('Hel');
      const last = events.at(-1)!;
      expect(last.event).toBe('error');
      expect(last.data).toMatchObject({ code: 'upstream_error' });
      const wire = JSON.stringify(events);
      expect(wire).not.toContain(LEAK);
      expect(wire).not.toContain(KEY);
    });
  });

  it('sends the tool results of a conversation in each provider’s own shape', async () => {
    const conversation: ReplyRequest = {
      messages: [
        { role: 'user', content: 'text' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', name: 'lookup_order', arguments: '{"id":"A-17"}' }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"status":"shipped"}' },
      ],
    };
    const bodies: Record<string, unknown> = {};
    for (const spec of ['anthropic', 'google'] as const) {
      const { seen } = await reply(await agentFor(spec), conversation);
      bodies[spec] =
        (JSON.parse(seen[0]!.body) as { messages?: unknown; contents?: unknown }).messages ?? JSON.parse(seen[0]!.body).contents;
    }
    expect(bodies.anthropic).toEqual([
      { role: 'user', content: 'text' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'lookup_order', input: { id: 'A-17' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '{"status":"shipped"}' }] },
    ]);
    expect(bodies.google).toEqual([
      { role: 'user', parts: [{ text: 'text' }] },
      { role: 'model', parts: [{ functionCall: { name: 'lookup_order', args: { id: 'A-17' }, id: 'call_1' } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'lookup_order', response: { status: 'shipped' }, id: 'call_1' } }] },
    ]);
  });

  it('falls back across specs: an Azure entry that fails before any token hands over to an Anthropic entry', async () => {
    const failing: LlmEntryRequestWritable = { ...entryFor('azure'), base_url: `${origin()}/missing/openai` };
    const agentId = await agentFor('azure', [failing, entryFor('anthropic')]);
    const { events, seen } = await reply(agentId, say('text'));
    expect(seen.map((r) => r.url)).toEqual([
      '/missing/openai/deployments/voice-prod/chat/completions?api-version=2024-10-21',
      '/anthropic/v1/messages',
    ]);
    expect(textOf(events)).toBe('Hello there');
    expect(events.at(-1)).toEqual({ event: 'reply.completed', data: expect.objectContaining({ entry_index: 1, model: MODEL.anthropic }) });
  });

  it('shows each entry as saved: the api, the azure settings, the default auth, the key as a hint only', async () => {
    const agentId = await agentFor('anthropic', SPECS.map(entryFor));
    const agent = expectStatus(await getAgent({ client, path: { id: agentId } }), 200);
    expect(agent.llm.map((e) => [e.api, e.auth, e.azure ?? null])).toEqual([
      ['anthropic', 'x_api_key', null],
      ['google', 'x_goog_api_key', null],
      ['azure', 'api_key_header', { api_version: '2024-10-21', deployment: 'voice-prod' }],
      ['azure', 'api_key_header', null],
    ]);
    expect(JSON.stringify(agent)).not.toContain(KEY);
  });

  it('refuses what no spec can send, naming the field', async () => {
    const invalid = async (entry: Record<string, unknown>) =>
      expectClientInvalid(await createAgent({ client, body: { name: 'bad', llm: [entry as unknown as LlmEntryRequestWritable] } }));
    expect(await invalid({ api: 'azure', model: 'm', api_key: KEY })).toEqual([
      { path: 'llm[0].azure.resource', code: 'required', message: expect.any(String) },
    ]);
    expect(await invalid({ api: 'azure', base_url: `${origin()}/azure/openai`, model: 'm', api_key: KEY })).toEqual([
      { path: 'llm[0].azure.api_version', code: 'required', message: expect.any(String) },
    ]);
    expect(await invalid({ api: 'chat_completions', model: 'm', api_key: KEY })).toEqual([
      { path: 'llm[0].base_url', code: 'required', message: 'is required' },
    ]);
    expect(await invalid({ api: 'anthropic', base_url: `${origin()}/a/v1`, model: 'm', api_key: KEY, azure: { resource: 'x' } })).toEqual([
      { path: 'llm[0].azure', code: 'not_allowed', message: expect.any(String) },
    ]);
    expect(await invalid({ api: 'azure', azure: { resource: 'bad/host', api_version: '2024' }, model: 'm', api_key: KEY })).toEqual([
      { path: 'llm[0].azure.resource', code: 'invalid_resource', message: expect.any(String) },
      { path: 'llm[0].azure.api_version', code: 'invalid_api_version', message: expect.any(String) },
    ]);
    expect(
      await invalid({ api: 'google', base_url: `${origin()}/g/v1beta`, model: 'm', api_key: KEY, extra_body: { contents: [], topK: 3 } }),
    ).toEqual([{ path: 'llm[0].extra_body.contents', code: 'reserved_field', message: expect.any(String) }]);
    expect(
      await invalid({
        api: 'anthropic',
        base_url: `${origin()}/a/v1`,
        model: 'm',
        api_key: KEY,
        headers: [{ name: 'X-Api-Key', secret_value: 'x' }],
      }),
    ).toEqual([{ path: 'llm[0].headers[0].name', code: 'reserved_header', message: expect.any(String) }]);
  });
});
