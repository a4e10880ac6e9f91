import { toReplyResponse, toServerSentEvent } from './reply-response.dto.js';
import { variableErrors } from '../http/variables.js';

const COMPLETED = { type: 'completed', finishReason: 'tool_calls', entryIndex: 0, model: 'm', ttftMs: 1, durationMs: 2 } as const;
const CUSTOM = { id: 'c1', name: 'lookup', arguments: '{}', system: false };
const TRANSFER = { id: 'c2', name: 'transfer_to_agent', arguments: '{"agent_number":0}', system: true, agentId: 'agt_b' };
const REFUSED = {
  id: 'c3',
  name: 'transfer_to_number',
  arguments: '{}',
  system: true,
  error: { code: 'invalid_tool_arguments', message: 'transfer_number is required' },
} as const;

describe('tool calls as the reply edge sends them', () => {
  it('names system, agent_id and error in a reply.tool_call event, and leaves out what a call lacks', () => {
    expect(toServerSentEvent({ type: 'tool_call', call: CUSTOM })).toEqual({
      name: 'reply.tool_call',
      data: { id: 'c1', name: 'lookup', arguments: '{}', system: false },
    });
    expect(toServerSentEvent({ type: 'tool_call', call: TRANSFER }).data).toEqual({
      id: 'c2',
      name: 'transfer_to_agent',
      arguments: '{"agent_number":0}',
      system: true,
      agent_id: 'agt_b',
    });
    expect(toServerSentEvent({ type: 'tool_call', call: REFUSED }).data).toEqual({
      id: 'c3',
      name: 'transfer_to_number',
      arguments: '{}',
      system: true,
      error: { code: 'invalid_tool_arguments', message: 'transfer_number is required' },
    });
  });

  it('gives the items of a whole reply the same fields', () => {
    const whole = toReplyResponse({ text: '', toolCalls: [CUSTOM, TRANSFER, REFUSED], completion: COMPLETED });
    expect(whole.tool_calls).toEqual([
      CUSTOM,
      toServerSentEvent({ type: 'tool_call', call: TRANSFER }).data,
      toServerSentEvent({ type: 'tool_call', call: REFUSED }).data,
    ]);
    expect(whole.tool_calls[1]).not.toHaveProperty('agentId');
  });
});

describe('variableErrors', () => {
  it('accepts names a placeholder can take, with string values up to 10,000 characters', () => {
    const ok = Object.fromEntries([
      ['name', 'Ada'],
      ['_x9', ''],
      ['constructor', 'data'],
      ['v'.repeat(64), 'x'.repeat(10_000)],
    ]);
    expect(variableErrors(ok)).toEqual([]);
  });

  it('names each bad pair by its path', () => {
    expect(variableErrors({ '9lives': 'x', 'a b': 'x', ['v'.repeat(65)]: 'x', n: 5, long: 'x'.repeat(10_001), fine: 'ok' })).toEqual([
      { path: 'variables["9lives"]', code: 'invalid_variable_name', message: expect.any(String) },
      { path: 'variables["a b"]', code: 'invalid_variable_name', message: expect.any(String) },
      { path: `variables["${'v'.repeat(65)}"]`, code: 'invalid_variable_name', message: expect.any(String) },
      { path: 'variables.n', code: 'is_string', message: 'must be a string' },
      { path: 'variables.long', code: 'max_length', message: expect.stringContaining('10000') },
    ]);
  });
});
