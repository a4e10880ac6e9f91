/**
 * What fake upstreams stream, in each provider's own format as its documentation shows it: event
 * names, chunk shapes, line endings, and `[DONE]` only where the provider sends one. A reply is a
 * script (text pieces, whole tool calls, or an error after the first text); `writeSplit` sends it
 * in many writes, cutting through every multi-byte character.
 */
import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FakeToolCall {
  readonly id: string;
  readonly name: string;
  readonly args: Record<string, unknown>;
}

export interface FakeScript {
  readonly text?: readonly string[];
  readonly calls?: readonly FakeToolCall[];
  /** Fails in the stream, after the first text piece, with a message holding `leak`. */
  readonly errorWith?: string;
}

/** The usage every fake reports: 11 tokens in, 9 out. */
export const FAKE_USAGE = { input_tokens: 11, output_tokens: 9, total_tokens: 20 };

/** The JSON text of `args` in pieces of a few characters, as providers stream arguments. */
function pieces(args: Record<string, unknown>): string[] {
  return JSON.stringify(args).match(/.{1,5}/g) ?? [];
}

const anthropicEvent = (type: string, payload: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;

/** Anthropic Messages streaming: message_start, content blocks (tool input as partial JSON), message_delta, message_stop. */
export function anthropicStream(model: string, script: FakeScript): string {
  const out = [
    anthropicEvent('message_start', {
      message: {
        id: 'msg_fake',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 11, output_tokens: 1 },
      },
    }),
    anthropicEvent('ping', {}),
  ];
  let index = 0;
  if (script.text !== undefined) {
    out.push(anthropicEvent('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    script.text.forEach((text, i) => {
      out.push(anthropicEvent('content_block_delta', { index, delta: { type: 'text_delta', text } }));
      if (i === 0 && script.errorWith !== undefined) {
        out.push(anthropicEvent('error', { error: { type: 'overloaded_error', message: `Overloaded (${script.errorWith})` } }));
      }
    });
    out.push(anthropicEvent('content_block_stop', { index }));
    index++;
  }
  for (const call of script.calls ?? []) {
    out.push(
      anthropicEvent('content_block_start', { index, content_block: { type: 'tool_use', id: call.id, name: call.name, input: {} } }),
    );
    for (const partial of ['', ...pieces(call.args)]) {
      out.push(anthropicEvent('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partial } }));
    }
    out.push(anthropicEvent('content_block_stop', { index }));
    index++;
  }
  const stop = (script.calls ?? []).length > 0 ? 'tool_use' : 'end_turn';
  out.push(anthropicEvent('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: 9 } }));
  out.push(anthropicEvent('message_stop', {}));
  return out.join('');
}

/** Gemini streamGenerateContent with alt=sse: unnamed `data:` events ended by CRLF pairs, no `[DONE]`; calls come whole. */
export function geminiStream(model: string, script: FakeScript): string {
  const chunk = (parts: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({
      candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }],
      usageMetadata: { promptTokenCount: 11, totalTokenCount: 11 },
      modelVersion: model,
      responseId: 'resp_fake',
    })}\r\n\r\n`;
  const out: string[] = [];
  (script.text ?? []).forEach((text, i) => {
    out.push(chunk([{ text }]));
    if (i === 0 && script.errorWith !== undefined) {
      out.push(
        `data: ${JSON.stringify({ error: { code: 503, message: `Overloaded (${script.errorWith})`, status: 'UNAVAILABLE' } })}\r\n\r\n`,
      );
    }
  });
  const calls = (script.calls ?? []).map((c) => ({ functionCall: { id: c.id, name: c.name, args: c.args } }));
  const last = `data: ${JSON.stringify({
    candidates: [{ content: { role: 'model', parts: calls.length > 0 ? calls : [{ text: '' }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 11, candidatesTokenCount: 9, totalTokenCount: 20 },
    modelVersion: model,
    responseId: 'resp_fake',
  })}\r\n\r\n`;
  return [...out, last].join('');
}

/** OpenAI chat completions as Azure streams them: a first chunk with no choices (content filter results), then `[DONE]`. */
export function azureStream(model: string, script: FakeScript): string {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null, usage?: Record<string, unknown>) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      model,
      choices: usage === undefined ? [{ index: 0, delta, finish_reason: finish, content_filter_results: {} }] : [],
      ...(usage === undefined ? {} : { usage }),
    })}\n\n`;
  const out = [`data: ${JSON.stringify({ id: '', object: '', model: '', choices: [], prompt_filter_results: [{ prompt_index: 0 }] })}\n\n`];
  out.push(chunk({ role: 'assistant', content: '' }));
  (script.text ?? []).forEach((text, i) => {
    out.push(chunk({ content: text }));
    if (i === 0 && script.errorWith !== undefined) {
      out.push(`data: ${JSON.stringify({ error: { code: 'server_error', message: `Overloaded (${script.errorWith})` } })}\n\n`);
    }
  });
  (script.calls ?? []).forEach((call, index) => {
    out.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }));
    for (const piece of pieces(call.args)) out.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  out.push(chunk({}, (script.calls ?? []).length > 0 ? 'tool_calls' : 'stop'));
  out.push(chunk({}, null, { prompt_tokens: 11, completion_tokens: 9, total_tokens: 20 }));
  out.push('data: [DONE]\n\n');
  return out.join('');
}

/**
 * Answers 200 with `body` as an event stream, in writes a few milliseconds apart: one per event,
 * and each multi-byte character cut in two, so the relay sees a character split across reads.
 */
export async function writeSplit(res: ServerResponse, body: string): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const bytes = Buffer.from(body, 'utf8');
  const cuts = new Set<number>();
  for (let i = 1; i < bytes.length; i++) {
    // Just after the first byte of a multi-byte character, and after each event's blank line.
    if (bytes[i]! >= 0x80 && bytes[i]! < 0xc0 && bytes[i - 1]! >= 0xc0) cuts.add(i);
    if (bytes[i - 1] === 0x0a && (bytes[i - 2] === 0x0a || bytes[i - 3] === 0x0a)) cuts.add(i);
  }
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    res.write(bytes.subarray(from, cut));
    from = cut;
    await sleep(2);
  }
  res.end(bytes.subarray(from));
}
