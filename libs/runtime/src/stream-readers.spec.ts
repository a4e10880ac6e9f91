import fc from 'fast-check';
import { ChatCompletionsReader } from './chat-completions.reader.js';
import { ResponsesReader } from './responses.reader.js';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import { SseDecoder } from './sse-decoder.js';
import type { UpstreamOutput } from './upstream-output.js';

type Reader = ChatCompletionsReader | ResponsesReader;

/** Feeds `wire` to a decoder in the given pieces and returns what the reader made of it. */
function run(wire: string | Uint8Array, reader: Reader, cuts: readonly number[] = [], maxLine = 1024 * 1024): UpstreamOutput[] {
  const bytes = typeof wire === 'string' ? new TextEncoder().encode(wire) : wire;
  const decoder = new SseDecoder(maxLine);
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

const text = (outputs: UpstreamOutput[]): string => outputs.flatMap((o) => (o.kind === 'text' ? [o.text] : [])).join('');
const calls = (outputs: UpstreamOutput[]) => outputs.flatMap((o) => (o.kind === 'tool_call' ? [o.call] : []));
const done = (outputs: UpstreamOutput[]) => outputs.filter((o) => o.kind === 'done');

const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model: 'gpt-test', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;

const MULTIBYTE = 'Grüße, 世界! 👋🏽 ok';

function chatTranscript(): string {
  return [
    ': keep-alive comment\n\n',
    chunk({ role: 'assistant', content: '' }),
    ...[...MULTIBYTE].map((c) => chunk({ content: c })),
    chunk({}, 'stop'),
    `data: ${JSON.stringify({ id: 'c1', choices: [], usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19 } })}\n\n`,
    'data: [DONE]\n\n',
  ].join('');
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

describe('SseDecoder + ChatCompletionsReader', () => {
  it('relays text byte-exact, then finish_reason, model and usage', () => {
    const out = run(chatTranscript(), new ChatCompletionsReader());
    expect(text(out)).toBe(MULTIBYTE);
    expect(done(out)).toEqual([
      { kind: 'done', finishReason: 'stop', model: 'gpt-test', usage: { input_tokens: 12, output_tokens: 7, total_tokens: 19 } },
    ]);
    expect(out.at(-1)!.kind).toBe('done');
  });

  it('gives the same result however the bytes are split (inside lines, CRLF pairs and UTF-8 characters)', () => {
    const wire = new TextEncoder().encode(chatTranscript().replaceAll('\n', '\r\n'));
    const whole = run(wire, new ChatCompletionsReader());
    // Every single cut position, then random sets of cuts.
    for (let cut = 1; cut < wire.length; cut++) expect(run(wire, new ChatCompletionsReader(), [cut])).toEqual(whole);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 40 }), (cuts) => {
        expect(run(wire, new ChatCompletionsReader(), cuts)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('one byte at a time', () => {
    const wire = new TextEncoder().encode(chatTranscript());
    expect(
      text(
        run(
          wire,
          new ChatCompletionsReader(),
          Array.from({ length: wire.length }, (_, i) => i),
        ),
      ),
    ).toBe(MULTIBYTE);
  });

  it('ignores comments, event ids and retry lines; accepts bare CR line ends', () => {
    const wire = `:hi\nid: 1\nretry: 5000\n${chunk({ content: 'a' })}${chunk({ content: 'b' }, 'stop').replaceAll('\n', '\r')}data: [DONE]\r\r`;
    expect(text(run(wire, new ChatCompletionsReader()))).toBe('ab');
  });

  it('accepts a stream that ends after finish_reason without [DONE], and refuses one that ends before', () => {
    expect(done(run(chunk({ content: 'x' }, 'length'), new ChatCompletionsReader()))).toEqual([
      { kind: 'done', finishReason: 'length', model: 'gpt-test' },
    ]);
    expect(failureOf(() => run(chunk({ content: 'x' }), new ChatCompletionsReader())).code).toBe(RuntimeErrorCode.Malformed);
  });

  it('fails on an in-stream error object without repeating its message', () => {
    const wire =
      chunk({ content: 'x' }) +
      `data: ${JSON.stringify({ error: { message: 'Incorrect API key provided: sk-LEAKED', type: 'invalid_request_error' } })}\n\n`;
    const error = failureOf(() => run(wire, new ChatCompletionsReader()));
    expect(error.code).toBe(RuntimeErrorCode.StreamError);
    expect(error.message).toContain('invalid_request_error');
    expect(error.message).not.toContain('sk-LEAKED');
  });

  it('fails on an `event: error`, on non-JSON data, and on a line over the limit', () => {
    expect(failureOf(() => run('event: error\ndata: {"message":"x"}\n\n', new ChatCompletionsReader())).code).toBe(
      RuntimeErrorCode.StreamError,
    );
    expect(failureOf(() => run('data: {not json\n\n', new ChatCompletionsReader())).code).toBe(RuntimeErrorCode.Malformed);
    const long = `data: ${JSON.stringify({ choices: [{ delta: { content: 'x'.repeat(5000) } }] })}\n\n`;
    expect(failureOf(() => run(long, new ChatCompletionsReader(), [100, 2000], 1000)).code).toBe(RuntimeErrorCode.TooLarge);
  });

  it('counts the line limit in bytes, whole lines inside one chunk and lines finished by a chunk included', () => {
    const line = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const long = line('x'.repeat(5000));
    for (const cuts of [[], [900], [4999], [1, 2, 3]]) {
      expect(failureOf(() => run(long, new ChatCompletionsReader(), cuts, 1000)).code).toBe(RuntimeErrorCode.TooLarge);
    }
    // Between other lines, in one chunk.
    expect(failureOf(() => run(line('a') + long + line('b'), new ChatCompletionsReader(), [], 1000)).code).toBe(RuntimeErrorCode.TooLarge);
    // 400 characters of 3 bytes each: 1,200 bytes, under 1,000 characters.
    expect(failureOf(() => run(line('€'.repeat(400)), new ChatCompletionsReader(), [], 1000)).code).toBe(RuntimeErrorCode.TooLarge);
    // A line just under the limit, split anywhere, passes.
    const fits = line('y'.repeat(900)) + chunk({}, 'stop');
    for (const cut of [1, 500, 950]) expect(text(run(fits, new ChatCompletionsReader(), [cut], 1000))).toBe('y'.repeat(900));
  });

  it('names only error types it knows: a hostile upstream cannot put the key in the message', () => {
    const key = 'sk-live_0123456789abcdefABCDEF';
    for (const error of [{ type: key }, { code: key }, { type: 'sk_live_abcdef' }]) {
      const failure = failureOf(() => run(`data: ${JSON.stringify({ error })}\n\n`, new ChatCompletionsReader()));
      expect(failure.code).toBe(RuntimeErrorCode.StreamError);
      expect(failure.message).not.toContain(error.type ?? error.code);
    }
    expect(
      failureOf(() => run('data: {"error":{"type":"rate_limit_error","message":"x"}}\n\n', new ChatCompletionsReader())).message,
    ).toContain('rate_limit_error');
  });

  it('repeats only a plain model name and finish reason', () => {
    const wire = chunk({ content: 'hi' }, null, { model: 'bad model"<script>' }) + chunk({}, 'Stop Now!');
    const [end] = done(run(wire, new ChatCompletionsReader()));
    expect(end).toEqual({ kind: 'done', finishReason: 'other', model: 'gpt-test' });
  });
});

describe('tool calls in a chat-completions stream', () => {
  const tc = (fields: Record<string, unknown>) => chunk({ tool_calls: [fields] });

  it('assembles arguments split over many chunks, with id and name only on the first', () => {
    const args = '{"city": "Zürich", "unit": "celsius"}';
    const wire = [
      tc({ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }),
      ...[...args].map((c) => tc({ index: 0, function: { arguments: c } })),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ].join('');
    const out = run(wire, new ChatCompletionsReader());
    expect(calls(out)).toEqual([{ id: 'call_1', name: 'get_weather', arguments: args }]);
    expect(done(out)[0]).toMatchObject({ finishReason: 'tool_calls' });
    // Emitted once, before the end; every chunk of it said the model was answering.
    expect(out.filter((o) => o.kind !== 'progress').map((o) => o.kind)).toEqual(['tool_call', 'done']);
    expect(out.filter((o) => o.kind === 'progress')).toHaveLength(args.length + 1);
  });

  it('separates calls interleaved by index', () => {
    const wire = [
      chunk({
        tool_calls: [
          { index: 0, id: 'a', function: { name: 'one', arguments: '{"x"' } },
          { index: 1, id: 'b', function: { name: 'two', arguments: '{"y"' } },
        ],
      }),
      tc({ index: 1, function: { arguments: ':2}' } }),
      tc({ index: 0, function: { arguments: ':1}' } }),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ].join('');
    expect(calls(run(wire, new ChatCompletionsReader()))).toEqual([
      { id: 'a', name: 'one', arguments: '{"x":1}' },
      { id: 'b', name: 'two', arguments: '{"y":2}' },
    ]);
  });

  it('copes without index: a new id starts a call, a chunk without id continues the last', () => {
    const wire = [
      tc({ id: 'a', function: { name: 'one', arguments: '{"x":' } }),
      tc({ function: { arguments: '1}' } }),
      tc({ id: 'b', function: { name: 'two', arguments: '{}' } }),
      chunk({}, 'tool_calls'),
    ].join('');
    expect(calls(run(wire, new ChatCompletionsReader()))).toEqual([
      { id: 'a', name: 'one', arguments: '{"x":1}' },
      { id: 'b', name: 'two', arguments: '{}' },
    ]);
  });

  it('takes a whole call in one chunk, such as an end_call with JSON arguments', () => {
    const args = JSON.stringify({ reason: 'caller said goodbye', summary: 'Booked a table for 2 at 19:00' });
    const wire =
      tc({ index: 0, id: 'call_end', type: 'function', function: { name: 'end_call', arguments: args } }) +
      chunk({}, 'tool_calls') +
      'data: [DONE]\n\n';
    const [call] = calls(run(wire, new ChatCompletionsReader()));
    expect(call).toEqual({ id: 'call_end', name: 'end_call', arguments: args });
    expect(JSON.parse(call!.arguments)).toEqual({ reason: 'caller said goodbye', summary: 'Booked a table for 2 at 19:00' });
  });

  it('does not append a name a server repeats, and refuses a call that never had one', () => {
    const wire =
      tc({ index: 0, id: 'a', function: { name: 'f', arguments: '{' } }) +
      tc({ index: 0, function: { name: 'f', arguments: '}' } }) +
      chunk({}, 'tool_calls');
    expect(calls(run(wire, new ChatCompletionsReader()))).toEqual([{ id: 'a', name: 'f', arguments: '{}' }]);
    expect(
      failureOf(() => run(tc({ index: 0, function: { arguments: '{}' } }) + chunk({}, 'tool_calls'), new ChatCompletionsReader())).code,
    ).toBe(RuntimeErrorCode.Malformed);
  });

  it('starts a new call for another id at the same index (whole calls all sent as index 0)', () => {
    const wire =
      tc({ index: 0, id: 'a', function: { name: 'one', arguments: '{"x":1}' } }) +
      tc({ index: 0, id: 'b', function: { name: 'two', arguments: '{}' } }) +
      chunk({}, 'tool_calls');
    expect(calls(run(wire, new ChatCompletionsReader()))).toEqual([
      { id: 'a', name: 'one', arguments: '{"x":1}' },
      { id: 'b', name: 'two', arguments: '{}' },
    ]);
  });

  it('without index or id, tells calls apart by name: another name, or the same one after whole arguments', () => {
    const wire = [
      tc({ function: { name: 'one', arguments: '{"x":' } }),
      tc({ function: { name: 'one', arguments: '1}' } }),
      tc({ function: { name: 'two', arguments: '{}' } }),
      tc({ function: { name: 'two', arguments: '{"again":true}' } }),
      chunk({}, 'tool_calls'),
    ].join('');
    expect(calls(run(wire, new ChatCompletionsReader()))).toEqual([
      { id: 'call_0', name: 'one', arguments: '{"x":1}' },
      { id: 'call_1', name: 'two', arguments: '{}' },
      { id: 'call_2', name: 'two', arguments: '{"again":true}' },
    ]);
  });

  it('starts index-less calls afresh after a finish_reason flushed the earlier ones, with ids unique over the reply', () => {
    const wire =
      tc({ function: { name: 'one', arguments: '{}' } }) +
      chunk({}, 'tool_calls') +
      tc({ function: { name: 'two', arguments: '{}' } }) +
      'data: [DONE]\n\n';
    expect(calls(run(wire, new ChatCompletionsReader()))).toEqual([
      { id: 'call_0', name: 'one', arguments: '{}' },
      { id: 'call_1', name: 'two', arguments: '{}' },
    ]);
  });

  it('takes reasoning deltas as progress, not text, and ignores tool_calls that hold no call', () => {
    const wire =
      chunk({ reasoning_content: 'Let me think' }) +
      chunk({ reasoning: 'more' }) +
      chunk({ tool_calls: [null, 'x'] }) +
      chunk({ content: 'Hi' }, 'stop');
    expect(run(wire, new ChatCompletionsReader()).map((o) => o.kind)).toEqual(['progress', 'progress', 'text', 'done']);
  });

  it('refuses a call whose arguments were cut off before they were whole JSON (finish_reason length)', () => {
    const wire = tc({ index: 0, id: 'a', function: { name: 'f', arguments: '{"city": "Zür' } }) + chunk({}, 'length');
    expect(failureOf(() => run(wire, new ChatCompletionsReader())).code).toBe(RuntimeErrorCode.Malformed);
  });

  it('emits calls still pending at [DONE] when no finish_reason came', () => {
    const wire = tc({ index: 0, id: 'a', function: { name: 'f', arguments: '{}' } }) + 'data: [DONE]\n\n';
    expect(calls(run(wire, new ChatCompletionsReader()))).toEqual([{ id: 'a', name: 'f', arguments: '{}' }]);
  });
});

describe('ResponsesReader', () => {
  const ev = (type: string, payload: Record<string, unknown>, withEventLine = true) =>
    `${withEventLine ? `event: ${type}\n` : ''}data: ${JSON.stringify({ type, ...payload })}\n\n`;

  function responsesTranscript(withEventLines: boolean): string {
    return [
      ev('response.created', { response: { id: 'r1', status: 'in_progress' } }, withEventLines),
      ...[...MULTIBYTE].map((c) => ev('response.output_text.delta', { item_id: 'm1', delta: c }, withEventLines)),
      ev(
        'response.output_item.added',
        { item: { type: 'function_call', id: 'fc1', call_id: 'call_9', name: 'end_call', arguments: '' } },
        withEventLines,
      ),
      ev('response.function_call_arguments.delta', { item_id: 'fc1', delta: '{"reason":' }, withEventLines),
      ev('response.function_call_arguments.delta', { item_id: 'fc1', delta: '"done"}' }, withEventLines),
      ev('response.function_call_arguments.done', { item_id: 'fc1', arguments: '{"reason":"done"}' }, withEventLines),
      ev(
        'response.output_item.done',
        { item: { type: 'function_call', id: 'fc1', call_id: 'call_9', name: 'end_call', arguments: '{"reason":"done"}' } },
        withEventLines,
      ),
      ev(
        'response.completed',
        { response: { model: 'gpt-r', usage: { input_tokens: 5, output_tokens: 9, total_tokens: 14 } } },
        withEventLines,
      ),
    ].join('');
  }

  it.each([true, false])('relays text and one complete function call, then usage (event lines: %s)', (withEventLines) => {
    const out = run(responsesTranscript(withEventLines), new ResponsesReader());
    expect(text(out)).toBe(MULTIBYTE);
    expect(calls(out)).toEqual([{ id: 'call_9', name: 'end_call', arguments: '{"reason":"done"}' }]);
    expect(done(out)).toEqual([
      { kind: 'done', finishReason: 'tool_calls', model: 'gpt-r', usage: { input_tokens: 5, output_tokens: 9, total_tokens: 14 } },
    ]);
  });

  it('is split-proof too', () => {
    const wire = new TextEncoder().encode(responsesTranscript(true));
    const whole = run(wire, new ResponsesReader());
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: wire.length - 1 }), { maxLength: 30 }), (cuts) => {
        expect(run(wire, new ResponsesReader(), cuts)).toEqual(whole);
      }),
      { numRuns: 200 },
    );
  });

  it('maps response.incomplete to length, and fails on error / response.failed without the upstream message', () => {
    const incomplete =
      ev('response.output_text.delta', { delta: 'x' }) +
      ev('response.incomplete', { response: { incomplete_details: { reason: 'max_output_tokens' } } });
    expect(done(run(incomplete, new ResponsesReader()))).toEqual([{ kind: 'done', finishReason: 'length' }]);
    const failed = failureOf(() =>
      run(ev('response.failed', { response: { error: { code: 'server_error', message: 'key sk-LEAKED' } } }), new ResponsesReader()),
    );
    expect(failed.code).toBe(RuntimeErrorCode.StreamError);
    expect(failed.message).toContain('server_error');
    expect(failed.message).not.toContain('LEAKED');
    expect(failureOf(() => run(ev('error', { code: 'rate_limit_exceeded', message: 'x' }), new ResponsesReader())).message).toContain(
      'rate_limit_exceeded',
    );
  });

  it('fails on an error object in an event of any other type, naming only a known type', () => {
    for (const wire of [
      'data: {"error":{"type":"server_error","message":"sk-x"}}\n\n',
      ev('response.in_progress', { error: { code: 'sk-leak-me' } }),
    ]) {
      const failure = failureOf(() => run(wire, new ResponsesReader()));
      expect(failure.code).toBe(RuntimeErrorCode.StreamError);
      expect(failure.message).not.toMatch(/sk-/);
    }
  });

  it('says a function call is on its way before it is complete', () => {
    const wire = [
      ev('response.output_item.added', { item: { type: 'function_call', id: 'fc1', call_id: 'c', name: 'end_call', arguments: '' } }),
      ev('response.function_call_arguments.delta', { item_id: 'fc1', delta: '{}' }),
      ev('response.function_call_arguments.done', { item_id: 'fc1', arguments: '{}' }),
      ev('response.completed', { response: {} }),
    ].join('');
    expect(run(wire, new ResponsesReader()).map((o) => o.kind)).toEqual(['progress', 'progress', 'tool_call', 'done']);
  });

  it('refuses a stream that ends before response.completed', () => {
    expect(failureOf(() => run(ev('response.output_text.delta', { delta: 'x' }), new ResponsesReader())).code).toBe(
      RuntimeErrorCode.Malformed,
    );
  });
});

describe('RuntimeError', () => {
  it('carries the upstream status beside the one status code', () => {
    const error = new RuntimeError(RuntimeErrorCode.Status, 'x', 503);
    expect(error.code).toBe('upstream_status');
    expect(error.upstreamStatus).toBe(503);
    expect(new RuntimeError(RuntimeErrorCode.IdleTimeout, 'x').code).toBe('upstream_idle_timeout');
  });
});
