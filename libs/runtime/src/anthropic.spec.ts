import fc from 'fast-check';
import { AnthropicReader } from './anthropic.reader.js';
import { anthropicRequest } from './anthropic.request.js';
import type { ConversationMessage, ReplyRequest } from './reply.js';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import { SseDecoder } from './sse-decoder.js';
import { systemToolDefinitions } from './system-tools.js';
import type { UpstreamOutput } from './upstream-output.js';
import { streamReader, upstreamRequest } from './upstream-request.js';
import type { UpstreamAgent, UpstreamEntry, UpstreamInput } from './wire-format.js';

const PLAIN: UpstreamAgent = { temperature: null, maxTokens: null, tools: [], systemTools: {}, forwardMetadata: false };
const ANTHROPIC: UpstreamEntry = { baseUrl: 'https://api.anthropic.com/v1', model: 'claude-x', api: 'anthropic' };
const HI: ReplyRequest = { messages: [{ role: 'user', content: 'Hi' }], metadata: {}, variables: {} };

const LOOKUP = {
  name: 'lookup_order',
  description: 'Finds an order by its number',
  parameters: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'] },
};
const PING = { name: 'ping' };

function input(overrides: Partial<UpstreamInput> = {}): UpstreamInput {
  return { agent: PLAIN, entry: ANTHROPIC, request: HI, instructions: null, tools: [], ...overrides };
}

function body(overrides: Partial<UpstreamInput> = {}): Record<string, unknown> {
  return JSON.parse(anthropicRequest(input(overrides)).body) as Record<string, unknown>;
}

const conversation = (...messages: ConversationMessage[]): ReplyRequest => ({ ...HI, messages });

describe('anthropicRequest', () => {
  it('posts to {base_url}/messages with the API version header only, and the required max_tokens', () => {
    const call = anthropicRequest(input({ entry: { ...ANTHROPIC, baseUrl: 'https://api.anthropic.com/v1//' } }));
    expect(call.url).toBe('https://api.anthropic.com/v1/messages');
    expect(call.headers).toEqual({ 'anthropic-version': '2023-06-01' });
    expect(JSON.parse(call.body)).toEqual({
      model: 'claude-x',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
  });

  it('sends every part of the contract in order, extra_body last, and never extra_metadata', () => {
    const agent: UpstreamAgent = { temperature: 0.3, maxTokens: 300, tools: [LOOKUP, PING], systemTools: {}, forwardMetadata: true };
    const request: ReplyRequest = {
      messages: [
        { role: 'system', content: 'Today is Monday.' },
        { role: 'user', content: 'Hi' },
      ],
      metadata: { call_id: 'c1' },
      userId: 'user_42',
      variables: {},
    };
    const sent = body({
      agent,
      entry: { ...ANTHROPIC, extraBody: { top_k: 5, thinking: { type: 'enabled', budget_tokens: 2048 } } },
      request,
      instructions: 'Be brief.',
      tools: [LOOKUP, PING],
    });
    expect(sent).toEqual({
      model: 'claude-x',
      max_tokens: 300,
      system: 'Be brief.\n\nToday is Monday.',
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      temperature: 0.3,
      tools: [
        { name: 'lookup_order', description: 'Finds an order by its number', input_schema: LOOKUP.parameters },
        { name: 'ping', input_schema: { type: 'object', properties: {} } },
      ],
      metadata: { user_id: 'user_42' },
      top_k: 5,
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    expect(Object.keys(sent)).toEqual([
      'model',
      'max_tokens',
      'system',
      'messages',
      'stream',
      'temperature',
      'tools',
      'metadata',
      'top_k',
      'thinking',
    ]);
  });

  it('sends no metadata of any kind without a user, even when the agent forwards metadata', () => {
    const sent = body({ agent: { ...PLAIN, forwardMetadata: true }, request: { ...HI, metadata: { call_id: 'c1' } } });
    expect(sent).toEqual({ model: 'claude-x', max_tokens: 1024, messages: [{ role: 'user', content: 'Hi' }], stream: true });
  });

  it('sends a temperature of 0 and lets extra_body add keys after the contract', () => {
    const sent = body({ agent: { ...PLAIN, temperature: 0 }, entry: { ...ANTHROPIC, extraBody: { stop_sequences: ['END'] } } });
    expect(sent).toEqual({
      model: 'claude-x',
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      temperature: 0,
      stop_sequences: ['END'],
    });
  });

  describe('system', () => {
    it('joins the instructions and every system message, in order, and keeps them out of messages', () => {
      const request = conversation(
        { role: 'system', content: 'First rule.' },
        { role: 'user', content: 'Hi' },
        { role: 'system', content: 'Second rule.' },
        { role: 'assistant', content: 'Hello' },
      );
      const sent = body({ request, instructions: 'You are Ada.' });
      expect(sent.system).toBe('You are Ada.\n\nFirst rule.\n\nSecond rule.');
      expect(sent.messages).toEqual([
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
      ]);
    });

    it('takes system messages alone when there are no instructions, skipping empty ones', () => {
      const request = conversation(
        { role: 'system', content: null },
        { role: 'system', content: 'Only rule.' },
        { role: 'system', content: '' },
        { role: 'user', content: 'Hi' },
      );
      expect(body({ request }).system).toBe('Only rule.');
    });

    it('is left out when there is nothing to say', () => {
      expect(body()).not.toHaveProperty('system');
      expect(
        body({ instructions: '', request: conversation({ role: 'system', content: null }, { role: 'user', content: 'Hi' }) }),
      ).not.toHaveProperty('system');
    });
  });

  describe('messages', () => {
    it('sends tool calls as tool_use blocks and their results first in one user turn, the next user text after them', () => {
      const request = conversation(
        { role: 'user', content: 'Where are orders 7 and 8?' },
        {
          role: 'assistant',
          content: 'Checking both.',
          toolCalls: [
            { id: 'toolu_1', name: 'lookup_order', arguments: '{"order":"7"}' },
            { id: 'toolu_2', name: 'lookup_order', arguments: '{"order":"8"}' },
          ],
        },
        { role: 'tool', content: 'shipped', toolCallId: 'toolu_1' },
        { role: 'tool', content: 'pending', toolCallId: 'toolu_2' },
        { role: 'user', content: 'And order 9?' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'toolu_3', name: 'ping', arguments: '' }] },
        { role: 'tool', content: null, toolCallId: 'toolu_3' },
        { role: 'assistant', content: 'Order 9 is lost.' },
        { role: 'user', content: 'Thanks' },
      );
      expect(body({ request }).messages).toEqual([
        { role: 'user', content: 'Where are orders 7 and 8?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking both.' },
            { type: 'tool_use', id: 'toolu_1', name: 'lookup_order', input: { order: '7' } },
            { type: 'tool_use', id: 'toolu_2', name: 'lookup_order', input: { order: '8' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'shipped' },
            { type: 'tool_result', tool_use_id: 'toolu_2', content: 'pending' },
            { type: 'text', text: 'And order 9?' },
          ],
        },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_3', name: 'ping', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_3', content: '' }] },
        { role: 'assistant', content: 'Order 9 is lost.' },
        { role: 'user', content: 'Thanks' },
      ]);
    });

    it('maps null content to empty strings, and adds no empty text block after tool results', () => {
      const request = conversation(
        { role: 'user', content: null },
        { role: 'assistant', content: '', toolCalls: [{ id: 't1', name: 'ping', arguments: '{}' }] },
        { role: 'tool', content: 'pong', toolCallId: 't1' },
        { role: 'user', content: '' },
        { role: 'user', content: 'Next' },
      );
      expect(body({ request }).messages).toEqual([
        { role: 'user', content: '' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'ping', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'pong' }] },
        { role: 'user', content: 'Next' },
      ]);
    });

    it('keeps tool results together across a system message, which goes to system', () => {
      const request = conversation(
        {
          role: 'assistant',
          content: null,
          toolCalls: [
            { id: 'a', name: 'ping', arguments: '{}' },
            { id: 'b', name: 'ping', arguments: '{}' },
          ],
        },
        { role: 'tool', content: 'one', toolCallId: 'a' },
        { role: 'system', content: 'Be careful.' },
        { role: 'tool', content: 'two', toolCallId: 'b' },
        { role: 'user', content: 'ok?' },
      );
      const sent = body({ request });
      expect(sent.system).toBe('Be careful.');
      expect(sent.messages).toEqual([
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'a', name: 'ping', input: {} },
            { type: 'tool_use', id: 'b', name: 'ping', input: {} },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'a', content: 'one' },
            { type: 'tool_result', tool_use_id: 'b', content: 'two' },
            { type: 'text', text: 'ok?' },
          ],
        },
      ]);
    });

    it('sends a tool result without a tool call id, and one after a user turn, in a user turn of its own', () => {
      const request = conversation({ role: 'user', content: 'Hi' }, { role: 'tool', content: 'late' });
      expect(body({ request }).messages).toEqual([
        { role: 'user', content: 'Hi' },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: '', content: 'late' }] },
      ]);
    });

    it('sends arguments that are not a JSON object as an empty input, keeping whole nested ones', () => {
      const nested = { filter: { ids: [1, 2], note: 'ünïcode' }, flag: true, none: null };
      const request = conversation({
        role: 'assistant',
        content: null,
        toolCalls: [
          { id: 'a', name: 'f', arguments: '{"cut": ' },
          { id: 'b', name: 'f', arguments: '[1, 2]' },
          { id: 'c', name: 'f', arguments: '  ' },
          { id: 'd', name: 'f', arguments: JSON.stringify(nested) },
        ],
      });
      expect(body({ request }).messages).toEqual([
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'a', name: 'f', input: {} },
            { type: 'tool_use', id: 'b', name: 'f', input: {} },
            { type: 'tool_use', id: 'c', name: 'f', input: {} },
            { type: 'tool_use', id: 'd', name: 'f', input: nested },
          ],
        },
      ]);
    });
  });

  it('is what upstreamRequest builds for an anthropic entry, with system tools after the agent’s own', () => {
    const agent: UpstreamAgent = { ...PLAIN, tools: [PING], systemTools: { end_call: {}, skip_turn: {} } };
    const { url, headers, body: raw } = upstreamRequest(agent, ANTHROPIC, HI, 'Be brief.');
    expect(url).toBe('https://api.anthropic.com/v1/messages');
    expect(headers).toEqual({ 'anthropic-version': '2023-06-01' });
    const [endCall, skipTurn] = systemToolDefinitions(agent.systemTools);
    expect((JSON.parse(raw) as { tools: unknown }).tools).toEqual([
      { name: 'ping', input_schema: { type: 'object', properties: {} } },
      { name: 'end_call', description: endCall!.description, input_schema: endCall!.parameters },
      { name: 'skip_turn', description: skipTurn!.description, input_schema: skipTurn!.parameters },
    ]);
    expect(streamReader('anthropic')).toBeInstanceOf(AnthropicReader);
  });
});

/** Feeds `wire` to a decoder in the given pieces and returns what the reader made of it. */
function run(wire: string | Uint8Array, reader = new AnthropicReader(), cuts: readonly number[] = []): UpstreamOutput[] {
  const bytes = typeof wire === 'string' ? new TextEncoder().encode(wire) : wire;
  const decoder = new SseDecoder(1024 * 1024);
  const out: UpstreamOutput[] = [];
  let from = 0;
  for (const cut of [...new Set(cuts)].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b)) {
    for (const event of decoder.feed(bytes.subarray(from, cut))) out.push(...reader.read(event));
    from = cut;
  }
  for (const event of decoder.feed(bytes.subarray(from))) out.push(...reader.read(event));
  for (const event of decoder.end()) out.push(...reader.read(event));
  out.push(...reader.end());
  return out;
}

function failureOf(fn: () => unknown): RuntimeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RuntimeError);
    return error as RuntimeError;
  }
  throw new Error('expected a failure');
}

const text = (outputs: UpstreamOutput[]): string => outputs.flatMap((o) => (o.kind === 'text' ? [o.text] : [])).join('');
const calls = (outputs: UpstreamOutput[]) => outputs.flatMap((o) => (o.kind === 'tool_call' ? [o.call] : []));
const done = (outputs: UpstreamOutput[]) => outputs.filter((o) => o.kind === 'done');
const kinds = (outputs: UpstreamOutput[]) => outputs.map((o) => o.kind);

const MULTIBYTE = 'Grüße, 世界! 👋🏽 ok';

/** One server-sent event as the Messages API writes it: the `event:` line, and `type` again in the data. */
const ev = (type: string, payload: Record<string, unknown> = {}, withEventLine = true) =>
  `${withEventLine ? `event: ${type}\n` : ''}data: ${JSON.stringify({ type, ...payload })}\n\n`;

const messageStart = (usage: Record<string, unknown> = { input_tokens: 25, output_tokens: 1 }, model: unknown = 'claude-test-1') =>
  ev('message_start', {
    message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage },
  });
const textStart = (index: number) => ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
const textDelta = (index: number, t: string) => ev('content_block_delta', { index, delta: { type: 'text_delta', text: t } });
const toolStart = (index: number, id: string, name: string, input: unknown = {}) =>
  ev('content_block_start', { index, content_block: { type: 'tool_use', id, name, input } });
const jsonDelta = (index: number, partial: string) =>
  ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partial } });
const stop = (index: number) => ev('content_block_stop', { index });
const messageDelta = (stopReason: string | null, usage: Record<string, unknown> = { output_tokens: 15 }) =>
  ev('message_delta', { delta: { stop_reason: stopReason, stop_sequence: null }, usage });
const messageStop = ev('message_stop');

/** A reply as the API streams it: text, then a tool call whose arguments come in pieces. */
function transcript(withEventLines = true): string {
  const e = (wire: string) => (withEventLines ? wire : wire.replace(/^event: .*\n/, ''));
  return [
    messageStart(),
    ev('ping'),
    textStart(0),
    ...[...MULTIBYTE].map((c) => textDelta(0, c)),
    stop(0),
    toolStart(1, 'toolu_01', 'get_weather'),
    jsonDelta(1, ''),
    jsonDelta(1, '{"city": "Zü'),
    jsonDelta(1, 'rich"}'),
    stop(1),
    messageDelta('tool_use'),
    messageStop,
  ]
    .map(e)
    .join('');
}

describe('AnthropicReader', () => {
  it.each([true, false])('relays text, one complete tool call, then the stop reason, model and usage (event lines: %s)', (lines) => {
    const out = run(transcript(lines));
    expect(out).toEqual([
      ...[...MULTIBYTE].map((c) => ({ kind: 'text', text: c })),
      { kind: 'progress' },
      { kind: 'progress' },
      { kind: 'progress' },
      { kind: 'progress' },
      { kind: 'tool_call', call: { id: 'toolu_01', name: 'get_weather', arguments: '{"city": "Zürich"}' } },
      {
        kind: 'done',
        finishReason: 'tool_calls',
        model: 'claude-test-1',
        usage: { input_tokens: 25, output_tokens: 15, total_tokens: 40 },
      },
    ]);
    expect(text(out)).toBe(MULTIBYTE);
  });

  it('gives the same result however the bytes are split (every single cut, CRLF pairs, UTF-8 characters, random cuts)', () => {
    const whole = run(transcript());
    expect(text(whole)).toBe(MULTIBYTE);
    for (const wire of [transcript(), transcript().replaceAll('\n', '\r\n')].map((w) => new TextEncoder().encode(w))) {
      expect(run(wire)).toEqual(whole);
      for (let cut = 1; cut < wire.length; cut++) expect(run(wire, new AnthropicReader(), [cut])).toEqual(whole);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 40 }), (cuts) => {
          expect(run(wire, new AnthropicReader(), cuts)).toEqual(whole);
        }),
        { numRuns: 100 },
      );
    }
  });

  it('relays a multi-byte text delta byte-exact when it is cut at every byte position', () => {
    const wire = new TextEncoder().encode(
      messageStart() + textStart(0) + textDelta(0, MULTIBYTE) + stop(0) + messageDelta('end_turn') + messageStop,
    );
    const whole = run(wire);
    expect(whole.filter((o) => o.kind === 'text')).toEqual([{ kind: 'text', text: MULTIBYTE }]);
    for (let cut = 1; cut < wire.length; cut++) expect(run(wire, new AnthropicReader(), [cut])).toEqual(whole);
    expect(
      run(
        wire,
        new AnthropicReader(),
        Array.from({ length: wire.length }, (_, i) => i),
      ),
    ).toEqual(whole);
  });

  it('emits several tool calls interleaved with text, each complete, in block order', () => {
    const wire = [
      messageStart(),
      textStart(0),
      textDelta(0, 'Let me check. '),
      stop(0),
      toolStart(1, 'toolu_a', 'lookup_order'),
      jsonDelta(1, '{"order"'),
      jsonDelta(1, ': "7"}'),
      stop(1),
      textStart(2),
      textDelta(2, 'And the other.'),
      stop(2),
      toolStart(3, 'toolu_b', 'lookup_order'),
      jsonDelta(3, '{"order": "8", "items": [1, '),
      jsonDelta(3, '2]}'),
      stop(3),
      toolStart(4, 'toolu_c', 'end_call', { reason: 'done' }),
      stop(4),
      toolStart(5, 'toolu_d', 'ping'),
      stop(5),
      messageDelta('tool_use'),
      messageStop,
    ].join('');
    const out = run(wire);
    expect(out.filter((o) => o.kind !== 'progress')).toEqual([
      { kind: 'text', text: 'Let me check. ' },
      { kind: 'tool_call', call: { id: 'toolu_a', name: 'lookup_order', arguments: '{"order": "7"}' } },
      { kind: 'text', text: 'And the other.' },
      { kind: 'tool_call', call: { id: 'toolu_b', name: 'lookup_order', arguments: '{"order": "8", "items": [1, 2]}' } },
      { kind: 'tool_call', call: { id: 'toolu_c', name: 'end_call', arguments: '{"reason":"done"}' } },
      { kind: 'tool_call', call: { id: 'toolu_d', name: 'ping', arguments: '{}' } },
      {
        kind: 'done',
        finishReason: 'tool_calls',
        model: 'claude-test-1',
        usage: { input_tokens: 25, output_tokens: 15, total_tokens: 40 },
      },
    ]);
    // Every tool_use start and every argument piece said the model was answering.
    expect(out.filter((o) => o.kind === 'progress')).toHaveLength(8);
  });

  it('keeps tool blocks whose deltas interleave apart by index', () => {
    const wire = [
      messageStart(),
      toolStart(0, 'a', 'one'),
      toolStart(1, 'b', 'two'),
      jsonDelta(1, '{"y"'),
      jsonDelta(0, '{"x"'),
      jsonDelta(0, ':1}'),
      jsonDelta(1, ':2}'),
      stop(1),
      stop(0),
      messageDelta('tool_use'),
      messageStop,
    ].join('');
    expect(calls(run(wire))).toEqual([
      { id: 'b', name: 'two', arguments: '{"y":2}' },
      { id: 'a', name: 'one', arguments: '{"x":1}' },
    ]);
  });

  it('emits tool blocks the server never closed at message_stop, in block order', () => {
    const wire = messageStart() + toolStart(2, 'b', 'two') + toolStart(1, 'a', 'one') + jsonDelta(1, '{"x":1}') + messageStop;
    const out = run(wire);
    expect(calls(out)).toEqual([
      { id: 'a', name: 'one', arguments: '{"x":1}' },
      { id: 'b', name: 'two', arguments: '{}' },
    ]);
    // No stop reason came: the calls say why the reply ended.
    expect(done(out)).toEqual([
      { kind: 'done', finishReason: 'tool_calls', model: 'claude-test-1', usage: { input_tokens: 25, output_tokens: 1, total_tokens: 26 } },
    ]);
  });

  it('names a tool call without an id after its block, and ignores deltas and stops of blocks it does not track', () => {
    const wire =
      messageStart() +
      ev('content_block_start', { index: 3, content_block: { type: 'tool_use', name: 'ping', input: {} } }) +
      jsonDelta(9, '{"stray":') +
      stop(9) +
      stop(3) +
      stop(3) +
      messageDelta('tool_use') +
      messageStop;
    expect(calls(run(wire))).toEqual([{ id: 'call_3', name: 'ping', arguments: '{}' }]);
  });

  it('relays thinking as progress only, and redacted thinking and signatures the same', () => {
    const wire = [
      messageStart(),
      ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think about 世界' } }),
      ev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQBCgIYAhIM' } }),
      stop(0),
      ev('content_block_start', { index: 1, content_block: { type: 'redacted_thinking', data: 'EmwKAhgBEgy3' } }),
      stop(1),
      textStart(2),
      textDelta(2, 'Hi'),
      stop(2),
      messageDelta('end_turn'),
      messageStop,
    ].join('');
    expect(kinds(run(wire))).toEqual(['progress', 'progress', 'progress', 'progress', 'text', 'done']);
    expect(text(run(wire))).toBe('Hi');
  });

  it('skips ping, unknown events, unknown blocks and deltas, empty text and a [DONE] line', () => {
    const wire = [
      messageStart(),
      ev('ping'),
      ev('some_future_event', { index: 0, whatever: true }),
      ev('content_block_start', { index: 0, content_block: { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} } }),
      jsonDelta(0, '{"query": "weather"}'),
      stop(0),
      ev('content_block_start', { index: 1, content_block: { type: 'web_search_tool_result', tool_use_id: 'srvtoolu_1', content: [] } }),
      stop(1),
      textStart(2),
      textDelta(2, ''),
      ev('content_block_delta', { index: 2, delta: { type: 'citations_delta', citation: {} } }),
      textDelta(2, 'Sunny.'),
      stop(2),
      messageDelta('end_turn'),
      'data: [DONE]\n\n',
      messageStop,
    ].join('');
    expect(run(wire)).toEqual([
      { kind: 'text', text: 'Sunny.' },
      { kind: 'done', finishReason: 'stop', model: 'claude-test-1', usage: { input_tokens: 25, output_tokens: 15, total_tokens: 40 } },
    ]);
  });

  it('relays text a block already carries when it starts', () => {
    const wire =
      messageStart() + ev('content_block_start', { index: 0, content_block: { type: 'text', text: 'Hello' } }) + stop(0) + messageStop;
    expect(text(run(wire))).toBe('Hello');
  });

  it.each([
    ['end_turn', 'stop'],
    ['stop_sequence', 'stop'],
    ['max_tokens', 'length'],
    ['tool_use', 'tool_calls'],
    ['refusal', 'content_filter'],
    ['pause_turn', 'pause_turn'],
    ['model_context_window_exceeded', 'model_context_window_exceeded'],
    ['constructor', 'constructor'],
    ['Stop Now!', 'other'],
    ['sk-ant-api03-LEAKED', 'other'],
    ['x'.repeat(33), 'other'],
  ])('maps stop reason %s to finish reason %s', (stopReason, finishReason) => {
    const wire = messageStart() + textStart(0) + textDelta(0, 'x') + stop(0) + messageDelta(stopReason) + messageStop;
    expect(done(run(wire))).toEqual([
      { kind: 'done', finishReason, model: 'claude-test-1', usage: { input_tokens: 25, output_tokens: 15, total_tokens: 40 } },
    ]);
  });

  it('ends with stop when no stop reason came, or a null one', () => {
    expect(done(run(messageStart() + messageDelta(null) + messageStop))[0]).toMatchObject({ finishReason: 'stop' });
    expect(done(run(messageStart() + messageStop))[0]).toMatchObject({ finishReason: 'stop' });
  });

  describe('usage', () => {
    it('counts cache writes and reads as input', () => {
      const wire =
        messageStart({ input_tokens: 10, cache_creation_input_tokens: 200, cache_read_input_tokens: 3000, output_tokens: 1 }) +
        messageDelta('end_turn', { output_tokens: 42 }) +
        messageStop;
      expect(done(run(wire))).toEqual([
        {
          kind: 'done',
          finishReason: 'stop',
          model: 'claude-test-1',
          usage: { input_tokens: 3210, output_tokens: 42, total_tokens: 3252 },
        },
      ]);
    });

    it('takes the last message_delta counts, which are cumulative and may carry input counts too', () => {
      const wire =
        messageStart({ input_tokens: 10, cache_read_input_tokens: 5, output_tokens: 1 }) +
        messageDelta(null, { output_tokens: 20 }) +
        messageDelta('end_turn', { input_tokens: 50, cache_creation_input_tokens: null, cache_read_input_tokens: 7, output_tokens: 30 }) +
        messageStop;
      expect(done(run(wire))[0]).toEqual({
        kind: 'done',
        finishReason: 'stop',
        model: 'claude-test-1',
        usage: { input_tokens: 57, output_tokens: 30, total_tokens: 87 },
      });
    });

    it('reports none when the stream counted nothing, and only a plain model name', () => {
      expect(done(run(messageStart({}, 'claude "evil" <model>') + messageDelta('end_turn', {}) + messageStop))).toEqual([
        { kind: 'done', finishReason: 'stop' },
      ]);
      expect(
        done(run(ev('message_start', { message: 'not an object' }) + ev('message_delta', { delta: 'x', usage: 'y' }) + messageStop)),
      ).toEqual([{ kind: 'done', finishReason: 'stop' }]);
    });
  });

  describe('failures', () => {
    it('fails on an error event, with or without its event line, naming only a known type and never the message', () => {
      const error = { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded for key sk-ant-LEAKED' } };
      for (const wire of [
        messageStart() + textStart(0) + textDelta(0, 'x') + `event: error\ndata: ${JSON.stringify(error)}\n\n`,
        messageStart() + `data: ${JSON.stringify(error)}\n\n`,
      ]) {
        const failure = failureOf(() => run(wire));
        expect(failure.code).toBe(RuntimeErrorCode.StreamError);
        expect(failure.message).toBe('The upstream reported an error in the stream (overloaded_error).');
      }
    });

    it('fails on an error object in any other event, and on an error event without one', () => {
      expect(failureOf(() => run(ev('message_delta', { error: { type: 'api_error', message: 'x' } }))).message).toBe(
        'The upstream reported an error in the stream (api_error).',
      );
      expect(failureOf(() => run('event: error\ndata: {"message":"sk-ant-LEAKED"}\n\n')).message).toBe(
        'The upstream reported an error in the stream.',
      );
      const hostile = failureOf(() => run(ev('error', { error: { type: 'sk-ant-api03-LEAKED', message: 'x' } })));
      expect(hostile.code).toBe(RuntimeErrorCode.StreamError);
      expect(hostile.message).not.toContain('LEAKED');
    });

    it('fails on data that is not a JSON object', () => {
      for (const data of ['{not json', '[1, 2]', '"message_stop"', 'null']) {
        const failure = failureOf(() => run(messageStart() + `event: message_stop\ndata: ${data}\n\n`));
        expect(failure.code).toBe(RuntimeErrorCode.Malformed);
        expect(failure.message).toBe('The upstream sent an event that is not a JSON object.');
      }
    });

    it.each([
      ['nothing at all', ''],
      ['only message_start', messageStart()],
      ['text, no message_stop', messageStart() + textStart(0) + textDelta(0, 'x') + stop(0)],
      ['a stop reason but no message_stop', messageStart() + textStart(0) + textDelta(0, 'x') + stop(0) + messageDelta('end_turn')],
    ])('refuses a stream that ends before message_stop: %s', (_case, wire) => {
      const failure = failureOf(() => run(wire));
      expect(failure.code).toBe(RuntimeErrorCode.Malformed);
      expect(failure.message).toBe('The upstream stream ended before the reply did.');
    });

    it('refuses a tool call whose arguments are not complete JSON at its stop, or at message_stop', () => {
      for (const wire of [
        messageStart() + toolStart(0, 'a', 'f') + jsonDelta(0, '{"city": "Zür') + stop(0) + messageStop,
        messageStart() + toolStart(0, 'a', 'f') + jsonDelta(0, '{"city": "Zür') + messageDelta('max_tokens') + messageStop,
      ]) {
        const failure = failureOf(() => run(wire));
        expect(failure.code).toBe(RuntimeErrorCode.Malformed);
        expect(failure.message).toBe('The upstream ended a tool call before its arguments were complete JSON.');
      }
    });

    it('refuses a tool call without a name', () => {
      for (const block of [
        { type: 'tool_use', id: 'a', input: {} },
        { type: 'tool_use', id: 'a', name: '', input: {} },
      ]) {
        const wire = messageStart() + ev('content_block_start', { index: 0, content_block: block }) + stop(0) + messageStop;
        const failure = failureOf(() => run(wire));
        expect(failure.code).toBe(RuntimeErrorCode.Malformed);
        expect(failure.message).toBe('The upstream sent a tool call without a name.');
      }
    });
  });

  it('reads nothing after message_stop, and ends cleanly however often asked', () => {
    const reader = new AnthropicReader();
    const out = run(
      messageStart() +
        textStart(0) +
        textDelta(0, 'a') +
        stop(0) +
        messageStop +
        textDelta(0, 'late') +
        ev('error', { error: { type: 'api_error' } }),
      reader,
    );
    expect(kinds(out)).toEqual(['text', 'done']);
    expect(text(out)).toBe('a');
    expect(reader.end()).toEqual([]);
    expect(reader.read({ event: 'content_block_delta', data: '{not json' })).toEqual([]);
  });
});
