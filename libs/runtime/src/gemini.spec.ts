import fc from 'fast-check';
import { GeminiReader } from './gemini.reader.js';
import { UNKNOWN_FUNCTION, UNSIGNED_CALL } from './gemini.request.js';
import type { ReplyRequest } from './reply.js';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import { SseDecoder } from './sse-decoder.js';
import { safeErrorType, type UpstreamOutput } from './upstream-output.js';
import { streamReader, upstreamRequest } from './upstream-request.js';
import type { UpstreamAgent, UpstreamEntry } from './wire-format.js';

const PLAIN: UpstreamAgent = { temperature: null, maxTokens: null, tools: [], systemTools: {}, forwardMetadata: false };
const GOOGLE: UpstreamEntry = { baseUrl: 'https://generativelanguage.googleapis.com/v1beta', model: 'gemini-2.5-flash', api: 'google' };
const HI: ReplyRequest = { messages: [{ role: 'user', content: 'Hi' }], metadata: {}, variables: {} };

const LOOKUP = {
  name: 'lookup_order',
  description: 'Finds an order by its number',
  parameters: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'], additionalProperties: false },
};
const PING = { name: 'ping' };

function sent(agent: UpstreamAgent, entry: UpstreamEntry, request: ReplyRequest = HI, instructions: string | null = null) {
  const { url, query, headers, body } = upstreamRequest(agent, entry, request, instructions);
  // The path carries no query: the egress client appends this one, after checking the URL.
  expect(url).not.toContain('?');
  expect(query).toEqual({ alt: 'sse' });
  return { url: `${url}?${new URLSearchParams(query).toString()}`, headers, body: JSON.parse(body) as Record<string, unknown> };
}

const conversation = (...messages: ReplyRequest['messages']): ReplyRequest => ({ ...HI, messages });

describe('geminiRequest', () => {
  it('sends only the conversation when the agent sets nothing else, to the streaming route with alt=sse', () => {
    const { url, headers, body } = sent(PLAIN, GOOGLE);
    expect(url).toBe('https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    expect(headers).toEqual({});
    expect(body).toEqual({ contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
  });

  it('trims the base URL, drops a leading models/ and encodes the model into one path segment', () => {
    expect(sent(PLAIN, { ...GOOGLE, baseUrl: 'https://g.example/v1beta//', model: 'models/gemini-2.5-pro' }).url).toBe(
      'https://g.example/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse',
    );
    expect(sent(PLAIN, { ...GOOGLE, baseUrl: 'https://g.example/v1beta', model: 'odd/model?alt=json#x' }).url).toBe(
      'https://g.example/v1beta/models/odd%2Fmodel%3Falt%3Djson%23x:streamGenerateContent?alt=sse',
    );
    // Only a leading `models/` is Google's prefix.
    expect(sent(PLAIN, { ...GOOGLE, model: 'x/models/y' }).url).toBe(
      'https://generativelanguage.googleapis.com/v1beta/models/x%2Fmodels%2Fy:streamGenerateContent?alt=sse',
    );
  });

  it('sends every part of the contract in order, generationConfig merged with ours winning, extra_body last', () => {
    const agent: UpstreamAgent = {
      temperature: 0.2,
      maxTokens: 300,
      tools: [LOOKUP, PING],
      systemTools: { skip_turn: {} },
      forwardMetadata: true,
    };
    const entry: UpstreamEntry = {
      ...GOOGLE,
      extraBody: {
        generationConfig: { temperature: 0.9, topP: 0.5, thinkingConfig: { thinkingBudget: 0 } },
        safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
        toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
      },
    };
    const request: ReplyRequest = {
      ...conversation({ role: 'system', content: 'Speak German.' }, { role: 'user', content: 'Hi' }),
      metadata: { call_id: 'c1' },
      userId: 'user_42',
    };
    const { body } = sent(agent, entry, request, 'Be brief, Ada.');
    expect(body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      systemInstruction: { parts: [{ text: 'Be brief, Ada.\n\nSpeak German.' }] },
      generationConfig: { temperature: 0.2, topP: 0.5, thinkingConfig: { thinkingBudget: 0 }, maxOutputTokens: 300 },
      tools: [
        {
          functionDeclarations: [
            { name: 'lookup_order', description: 'Finds an order by its number', parametersJsonSchema: LOOKUP.parameters },
            { name: 'ping' },
            expect.objectContaining({ name: 'skip_turn', parametersJsonSchema: expect.objectContaining({ type: 'object' }) }),
          ],
        },
      ],
      safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }],
      toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    });
    expect(Object.keys(body)).toEqual(['contents', 'systemInstruction', 'generationConfig', 'tools', 'safetySettings', 'toolConfig']);
    // No user, no metadata, no OpenAI-style keys: this API has no place for them.
    expect(JSON.stringify(body)).not.toMatch(/user_42|call_id|"parameters"|extra_metadata/);
  });

  it('sends generationConfig from extra_body alone, or ours alone, and none when both are empty', () => {
    const thinking = { thinkingConfig: { includeThoughts: true } };
    expect(sent(PLAIN, { ...GOOGLE, extraBody: { generationConfig: thinking } }).body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      generationConfig: thinking,
    });
    expect(sent({ ...PLAIN, temperature: 0 }, GOOGLE).body.generationConfig).toEqual({ temperature: 0 });
    expect(sent({ ...PLAIN, maxTokens: 64 }, GOOGLE).body.generationConfig).toEqual({ maxOutputTokens: 64 });
    expect(sent(PLAIN, { ...GOOGLE, extraBody: { generationConfig: {} } }).body).not.toHaveProperty('generationConfig');
    // A generationConfig that is no object is neither merged nor sent at the top level.
    expect(sent(PLAIN, { ...GOOGLE, extraBody: { generationConfig: 'hot', cachedContent: 'cc/1' } }).body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      cachedContent: 'cc/1',
    });
  });

  it('puts system messages after the instructions, or alone, and sends no systemInstruction without either', () => {
    const request = conversation({ role: 'system', content: 'One.' }, { role: 'user', content: 'Hi' }, { role: 'system', content: 'Two.' });
    expect(sent(PLAIN, GOOGLE, request).body).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
      systemInstruction: { parts: [{ text: 'One.\n\nTwo.' }] },
    });
    expect(sent(PLAIN, GOOGLE, HI, 'Only this.').body.systemInstruction).toEqual({ parts: [{ text: 'Only this.' }] });
    const empty = conversation({ role: 'system', content: '' }, { role: 'system', content: null }, { role: 'user', content: 'Hi' });
    expect(sent(PLAIN, GOOGLE, empty, '').body).not.toHaveProperty('systemInstruction');
  });

  it('sends calls as model functionCall parts and consecutive results as one user content of functionResponse parts', () => {
    const request = conversation(
      { role: 'user', content: 'Where are orders 7 and 8?' },
      {
        role: 'assistant',
        content: 'Checking.',
        toolCalls: [
          { id: 'call_a', name: 'lookup_order', arguments: '{"order":"7"}' },
          { id: 'call_b', name: 'lookup_order', arguments: '{"order":"8"}' },
        ],
      },
      { role: 'tool', content: '{"status":"shipped"}', toolCallId: 'call_a' },
      { role: 'tool', content: 'not found', toolCallId: 'call_b' },
      { role: 'assistant', content: 'Order 7 shipped; 8 is unknown.' },
      { role: 'user', content: 'Thanks, bye.' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_c', name: 'end_call', arguments: '' }] },
      { role: 'tool', content: '["ok"]', toolCallId: 'call_c' },
    );
    const gemini3 = sent(PLAIN, { ...GOOGLE, model: 'gemini-3-pro-preview' }, request).body.contents;
    // Earlier models get the same contents without the sentinel signatures.
    expect(JSON.stringify(sent(PLAIN, GOOGLE, request).body.contents)).toBe(
      JSON.stringify(gemini3).replaceAll(`,"thoughtSignature":"${UNSIGNED_CALL}"`, ''),
    );
    expect(gemini3).toEqual([
      { role: 'user', parts: [{ text: 'Where are orders 7 and 8?' }] },
      {
        role: 'model',
        parts: [
          { text: 'Checking.' },
          { functionCall: { name: 'lookup_order', args: { order: '7' }, id: 'call_a' }, thoughtSignature: UNSIGNED_CALL },
          { functionCall: { name: 'lookup_order', args: { order: '8' }, id: 'call_b' } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'lookup_order', response: { status: 'shipped' }, id: 'call_a' } },
          { functionResponse: { name: 'lookup_order', response: { result: 'not found' }, id: 'call_b' } },
        ],
      },
      { role: 'model', parts: [{ text: 'Order 7 shipped; 8 is unknown.' }] },
      { role: 'user', parts: [{ text: 'Thanks, bye.' }] },
      { role: 'model', parts: [{ functionCall: { name: 'end_call', args: {}, id: 'call_c' }, thoughtSignature: UNSIGNED_CALL }] },
      // A JSON result that is no object is wrapped like text.
      { role: 'user', parts: [{ functionResponse: { name: 'end_call', response: { result: '["ok"]' }, id: 'call_c' } }] },
    ]);
  });

  it('names a result whose call is not in the conversation "unknown", and keeps results apart across other messages', () => {
    const request = conversation(
      { role: 'tool', content: null, toolCallId: 'call_gone' },
      { role: 'user', content: 'And?' },
      { role: 'tool', content: '{}' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_late', name: 'ping', arguments: '{}' }] },
    );
    expect(sent(PLAIN, GOOGLE, request).body.contents).toEqual([
      { role: 'user', parts: [{ functionResponse: { name: UNKNOWN_FUNCTION, response: { result: '' }, id: 'call_gone' } }] },
      { role: 'user', parts: [{ text: 'And?' }] },
      { role: 'user', parts: [{ functionResponse: { name: UNKNOWN_FUNCTION, response: {} } }] },
      { role: 'model', parts: [{ functionCall: { name: 'ping', args: {}, id: 'call_late' } }] },
    ]);
    expect(UNKNOWN_FUNCTION).toBe('unknown');
  });

  it('takes the name from the latest call with the id, should ids repeat', () => {
    const request = conversation(
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_0', name: 'first', arguments: '{}' }] },
      { role: 'tool', content: 'a', toolCallId: 'call_0' },
      { role: 'assistant', content: null, toolCalls: [{ id: 'call_0', name: 'second', arguments: '{}' }] },
      { role: 'tool', content: 'b', toolCallId: 'call_0' },
    );
    const contents = sent(PLAIN, GOOGLE, request).body.contents as { parts: { functionResponse?: { name: string } }[] }[];
    expect(contents.flatMap((c) => c.parts.flatMap((p) => (p.functionResponse ? [p.functionResponse.name] : [])))).toEqual([
      'first',
      'second',
    ]);
  });

  it('leaves out messages with nothing to send, ids that are empty, and arguments that are no JSON object', () => {
    const request = conversation(
      { role: 'user', content: '' },
      { role: 'assistant', content: null },
      { role: 'assistant', content: '', toolCalls: [] },
      { role: 'user', content: 'Hi' },
      {
        role: 'assistant',
        content: null,
        toolCalls: [
          { id: '', name: 'a', arguments: '[1,2]' },
          { id: 'call_1', name: 'b', arguments: '{"cut":' },
          { id: 'call_2', name: 'c', arguments: 'null' },
        ],
      },
      { role: 'tool', content: 'x', toolCallId: '' },
    );
    expect(sent(PLAIN, GOOGLE, request).body.contents).toEqual([
      { role: 'user', parts: [{ text: 'Hi' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'a', args: {} } },
          { functionCall: { name: 'b', args: {}, id: 'call_1' } },
          { functionCall: { name: 'c', args: {}, id: 'call_2' } },
        ],
      },
      { role: 'user', parts: [{ functionResponse: { name: 'a', response: { result: 'x' } } }] },
    ]);
  });

  it('is what upstreamRequest and streamReader choose for api google', () => {
    expect(streamReader('google')).toBeInstanceOf(GeminiReader);
    expect(sent(PLAIN, GOOGLE).url).toContain(':streamGenerateContent?alt=sse');
  });
});

/** Feeds `wire` to a decoder in the given pieces and returns what the reader made of it. */
function run(wire: string | Uint8Array, reader = new GeminiReader(), cuts: readonly number[] = []): UpstreamOutput[] {
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

const MULTIBYTE = 'Grüße, 世界! 👋🏽 ok';

const data = (payload: unknown) => `data: ${JSON.stringify(payload)}\r\n\r\n`;
const chunk = (parts: unknown[], extra: Record<string, unknown> = {}, candidate: Record<string, unknown> = {}) =>
  data({ candidates: [{ content: { role: 'model', parts }, index: 0, ...candidate }], modelVersion: 'gemini-2.5-flash', ...extra });
const USAGE = { promptTokenCount: 12, candidatesTokenCount: 7, totalTokenCount: 19 };

function transcript(): string {
  return [
    ...[...MULTIBYTE].map((c) => chunk([{ text: c }], { responseId: 'r1' })),
    chunk([{ text: '' }], { usageMetadata: USAGE, responseId: 'r1' }, { finishReason: 'STOP' }),
  ].join('');
}

describe('GeminiReader', () => {
  it('relays text byte-exact, then the end with the finish reason, model and usage', () => {
    const out = run(transcript());
    expect(out).toEqual([
      ...[...MULTIBYTE].map((c) => ({ kind: 'text', text: c })),
      { kind: 'done', finishReason: 'stop', model: 'gemini-2.5-flash', usage: { input_tokens: 12, output_tokens: 7, total_tokens: 19 } },
    ]);
  });

  it('gives the same result however the bytes are split (inside lines, CRLF pairs and UTF-8 characters)', () => {
    const wire = new TextEncoder().encode(transcript());
    const whole = run(wire);
    for (let cut = 1; cut < wire.length; cut++) expect(run(wire, new GeminiReader(), [cut])).toEqual(whole);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 40 }), (cuts) => {
        expect(run(wire, new GeminiReader(), cuts)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a multi-byte text in one event whole wherever a byte cut falls', () => {
    const wire = new TextEncoder().encode(chunk([{ text: MULTIBYTE }], {}, { finishReason: 'STOP' }));
    const expected = [
      { kind: 'text', text: MULTIBYTE },
      { kind: 'done', finishReason: 'stop', model: 'gemini-2.5-flash' },
    ];
    for (let cut = 1; cut < wire.length; cut++) expect(run(wire, new GeminiReader(), [cut])).toEqual(expected);
    expect(
      run(
        wire,
        new GeminiReader(),
        Array.from({ length: wire.length }, (_, i) => i),
      ),
    ).toEqual(expected);
  });

  it('takes thought parts as progress, not text, and counts thinking tokens as output', () => {
    const wire =
      chunk([{ text: 'Considering the order', thought: true }]) +
      chunk([{ text: 'Hi', thoughtSignature: 'c2ln' }]) +
      chunk(
        [{ text: '', thoughtSignature: 'c2ln' }],
        { usageMetadata: { ...USAGE, thoughtsTokenCount: 30, totalTokenCount: 49 } },
        { finishReason: 'STOP' },
      );
    expect(run(wire)).toEqual([
      { kind: 'progress' },
      { kind: 'text', text: 'Hi' },
      { kind: 'done', finishReason: 'stop', model: 'gemini-2.5-flash', usage: { input_tokens: 12, output_tokens: 37, total_tokens: 49 } },
    ]);
  });

  it('relays whole function calls with their ids, or ids of its own unique in the reply, and ends with tool_calls', () => {
    const wire =
      chunk([{ text: 'One moment.' }]) +
      chunk([{ functionCall: { name: 'lookup_order', args: { order: '7', city: 'Zürich' }, id: 'call_0' } }]) +
      chunk([{ functionCall: { name: 'end_call', args: { reason: 'done' } } }, { functionCall: { name: 'ping' } }]) +
      chunk([{ functionCall: { name: 'ping', args: null } }], { usageMetadata: USAGE }, { finishReason: 'STOP' });
    expect(run(wire)).toEqual([
      { kind: 'text', text: 'One moment.' },
      { kind: 'tool_call', call: { id: 'call_0', name: 'lookup_order', arguments: '{"order":"7","city":"Zürich"}' } },
      { kind: 'tool_call', call: { id: 'call_1', name: 'end_call', arguments: '{"reason":"done"}' } },
      { kind: 'tool_call', call: { id: 'call_2', name: 'ping', arguments: '{}' } },
      { kind: 'tool_call', call: { id: 'call_3', name: 'ping', arguments: '{}' } },
      {
        kind: 'done',
        finishReason: 'tool_calls',
        model: 'gemini-2.5-flash',
        usage: { input_tokens: 12, output_tokens: 7, total_tokens: 19 },
      },
    ]);
  });

  it('refuses a function call without a name, or with arguments that are no object', () => {
    for (const functionCall of [{ args: {} }, { name: '', args: {} }, { name: 42 }, { name: 'f', args: [1] }, { name: 'f', args: '{}' }]) {
      const wire = chunk([{ functionCall }], {}, { finishReason: 'STOP' });
      expect(failureOf(() => run(wire)).code).toBe(RuntimeErrorCode.Malformed);
    }
  });

  it.each([
    ['STOP', 'stop'],
    ['MAX_TOKENS', 'length'],
    ['SAFETY', 'content_filter'],
    ['RECITATION', 'content_filter'],
    ['BLOCKLIST', 'content_filter'],
    ['PROHIBITED_CONTENT', 'content_filter'],
    ['SPII', 'content_filter'],
    ['IMAGE_SAFETY', 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', 'malformed_function_call'],
    ['OTHER', 'other'],
    ['LANGUAGE', 'language'],
    ['UNEXPECTED_TOOL_CALL', 'unexpected_tool_call'],
    ['Stop', 'other'],
    ['STOP NOW<script>', 'other'],
    ['A_FINISH_REASON_MUCH_LONGER_THAN_ALLOWED', 'other'],
  ])('maps finish reason %s to %s', (raw, mapped) => {
    expect(run(chunk([{ text: 'x' }], {}, { finishReason: raw })).at(-1)).toEqual({
      kind: 'done',
      finishReason: mapped,
      model: 'gemini-2.5-flash',
    });
  });

  it('keeps a finish reason other than STOP after function calls', () => {
    const wire = chunk([{ functionCall: { name: 'f', args: {}, id: 'x' } }], {}, { finishReason: 'MAX_TOKENS' });
    expect(run(wire).at(-1)).toEqual({ kind: 'done', finishReason: 'length', model: 'gemini-2.5-flash' });
  });

  it('ends a prompt blocked before any candidate with content_filter', () => {
    const wire = data({
      promptFeedback: { blockReason: 'PROHIBITED_CONTENT' },
      usageMetadata: { promptTokenCount: 9, totalTokenCount: 9 },
      modelVersion: 'gemini-2.5-pro',
    });
    expect(run(wire)).toEqual([
      {
        kind: 'done',
        finishReason: 'content_filter',
        model: 'gemini-2.5-pro',
        usage: { input_tokens: 9, output_tokens: 0, total_tokens: 9 },
      },
    ]);
    expect(failureOf(() => run(data({ promptFeedback: { safetyRatings: [] }, candidates: [] }))).code).toBe(RuntimeErrorCode.Malformed);
  });

  it('never ends the reply in read: usage after the finish reason counts, and the end comes only when the stream closes', () => {
    const reader = new GeminiReader();
    const events = [
      chunk([{ text: 'a' }], {}, { finishReason: 'STOP' }),
      data({ usageMetadata: USAGE, modelVersion: 'gemini-2.5-flash-001' }),
    ];
    const read = events.flatMap((e) => reader.read({ data: e.slice('data: '.length).trim(), event: undefined, id: undefined }));
    expect(read).toEqual([{ kind: 'text', text: 'a' }]);
    expect(reader.end()).toEqual([
      {
        kind: 'done',
        finishReason: 'stop',
        model: 'gemini-2.5-flash-001',
        usage: { input_tokens: 12, output_tokens: 7, total_tokens: 19 },
      },
    ]);
    expect(reader.end()).toEqual([]);
    expect(reader.read({ data: 'late', event: undefined, id: undefined })).toEqual([]);
  });

  it('sums the total when usage has none, and counts absent fields as zero', () => {
    const wire = chunk([{ text: 'x' }], { usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 'many' } }, { finishReason: 'STOP' });
    expect(run(wire).at(-1)).toEqual({
      kind: 'done',
      finishReason: 'stop',
      model: 'gemini-2.5-flash',
      usage: { input_tokens: 4, output_tokens: 0, total_tokens: 4 },
    });
  });

  it('refuses a stream that ends before a finish reason, or carries nothing', () => {
    expect(failureOf(() => run(chunk([{ text: 'x' }]))).code).toBe(RuntimeErrorCode.Malformed);
    expect(failureOf(() => run('')).code).toBe(RuntimeErrorCode.Malformed);
  });

  it('fails on data that is not a JSON object, and ignores a [DONE] a proxy may add', () => {
    expect(failureOf(() => run('data: {not json\n\n')).code).toBe(RuntimeErrorCode.Malformed);
    expect(failureOf(() => run('data: [1]\n\n')).code).toBe(RuntimeErrorCode.Malformed);
    expect(run(chunk([{ text: 'x' }], {}, { finishReason: 'STOP' }) + 'data: [DONE]\n\n').map((o) => o.kind)).toEqual(['text', 'done']);
  });

  it('fails on an in-stream error, naming Google’s status but never its message', () => {
    const wire =
      chunk([{ text: 'x' }]) + data({ error: { code: 429, message: 'Quota exceeded for key AIzaLEAKED', status: 'RESOURCE_EXHAUSTED' } });
    const error = failureOf(() => run(wire));
    expect(error.code).toBe(RuntimeErrorCode.StreamError);
    expect(error.message).toBe('The upstream reported an error in the stream (RESOURCE_EXHAUSTED).');
    expect(failureOf(() => run('event: error\ndata: {"status":"UNAVAILABLE"}\n\n')).message).toContain('UNAVAILABLE');
  });

  it('does not repeat a status it does not know: a hostile upstream cannot put the key in the message', () => {
    for (const status of ['AIzaSyLEAKED_0123456789', 'resource_exhausted', 'sk-live_abc']) {
      const failure = failureOf(() => run(data({ error: { code: 400, status, message: 'x' } })));
      expect(failure.code).toBe(RuntimeErrorCode.StreamError);
      expect(failure.message).toBe('The upstream reported an error in the stream.');
    }
  });

  it('repeats only a plain model version', () => {
    const wire = data({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: 'STOP' }], modelVersion: 'bad model"<script>' });
    expect(run(wire).at(-1)).toEqual({ kind: 'done', finishReason: 'stop' });
  });

  it('skips what it does not relay: empty text, parts of other kinds, candidates after the first', () => {
    const wire = data({
      candidates: [
        {
          content: { parts: [null, 'x', { text: '' }, { inlineData: { mimeType: 'image/png', data: 'AA==' } }, { text: 'kept' }] },
          finishReason: 'STOP',
        },
        { content: { parts: [{ text: 'second candidate' }] } },
      ],
    });
    expect(run(wire)).toEqual([
      { kind: 'text', text: 'kept' },
      { kind: 'done', finishReason: 'stop' },
    ]);
  });
});

describe('safeErrorType', () => {
  it('knows Google’s statuses in `status`, after `type` and `code`, and nothing else there', () => {
    for (const status of [
      'RESOURCE_EXHAUSTED',
      'INVALID_ARGUMENT',
      'PERMISSION_DENIED',
      'UNAUTHENTICATED',
      'NOT_FOUND',
      'INTERNAL',
      'UNAVAILABLE',
      'DEADLINE_EXCEEDED',
      'FAILED_PRECONDITION',
    ]) {
      expect(safeErrorType({ code: 400, status })).toBe(status);
    }
    expect(safeErrorType({ type: 'rate_limit_error', status: 'RESOURCE_EXHAUSTED' })).toBe('rate_limit_error');
    expect(safeErrorType({ status: 'AIzaSyLEAKED' })).toBeUndefined();
    expect(safeErrorType({ status: 429 })).toBeUndefined();
  });
});
