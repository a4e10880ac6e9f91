import type { SystemTools } from '#agentplane/agents';
import { renderInstructions } from './instructions.js';
import type { ReplyRequest } from './reply.js';
import { upstreamRequest } from './upstream-request.js';
import type { UpstreamAgent, UpstreamEntry } from './wire-format.js';

const PLAIN: UpstreamAgent = { temperature: null, maxTokens: null, tools: [], systemTools: {}, forwardMetadata: false };
const CHAT: UpstreamEntry = { baseUrl: 'https://llm.example/v1/', model: 'gpt-x', api: 'chat_completions' };
const RESPONSES: UpstreamEntry = { ...CHAT, api: 'responses' };
const HI: ReplyRequest = { messages: [{ role: 'user', content: 'Hi' }], metadata: {}, variables: {} };

const LOOKUP = {
  name: 'lookup_order',
  description: 'Finds an order by its number',
  parameters: { type: 'object', properties: { order: { type: 'string' } }, required: ['order'] },
};
const PING = { name: 'ping' };

const ALL_SYSTEM: SystemTools = {
  end_call: {},
  language_detection: { languages: ['en', 'de-CH'] },
  transfer_to_agent: { transfers: [{ agentId: 'agt_sales', condition: 'Wants to buy' }] },
  transfer_to_number: { transfers: [{ number: '+15550001111', condition: 'Asks for "a human"' }] },
  skip_turn: {},
  voicemail_detection: {},
};

function sent(agent: UpstreamAgent, entry: UpstreamEntry, request: ReplyRequest = HI, instructions: string | null = null) {
  const { url, body } = upstreamRequest(agent, entry, request, instructions);
  return { url, body: JSON.parse(body) as Record<string, unknown> };
}

interface ChatTool {
  type: string;
  function: {
    name: string;
    description?: string;
    parameters?: { required: string[]; properties: Record<string, Record<string, unknown>> };
  };
}
interface ResponsesTool {
  type: string;
  name: string;
  description?: string;
  parameters?: { required: string[]; properties: Record<string, Record<string, unknown>> };
}

describe('upstreamRequest', () => {
  describe('chat completions', () => {
    it('sends only what the agent sets: no tools, user, metadata or sampling keys otherwise', () => {
      const { url, body } = sent(PLAIN, CHAT);
      expect(url).toBe('https://llm.example/v1/chat/completions');
      expect(body).toEqual({
        model: 'gpt-x',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
    });

    it('sends every part of the contract, extra_body last at the top level', () => {
      const agent: UpstreamAgent = {
        temperature: 0.2,
        maxTokens: 300,
        tools: [LOOKUP, PING],
        systemTools: { skip_turn: {} },
        forwardMetadata: true,
      };
      const request: ReplyRequest = { ...HI, metadata: { call_id: 'c1', constructor: 'data' }, userId: 'user_42' };
      const { body } = sent(agent, { ...CHAT, extraBody: { top_p: 0.9, reasoning: { effort: 'low' } } }, request, 'Be brief, Ada.');
      expect(body).toEqual({
        model: 'gpt-x',
        messages: [
          { role: 'system', content: 'Be brief, Ada.' },
          { role: 'user', content: 'Hi' },
        ],
        stream: true,
        stream_options: { include_usage: true },
        temperature: 0.2,
        max_tokens: 300,
        tools: [
          { type: 'function', function: LOOKUP },
          { type: 'function', function: { name: 'ping' } },
          { type: 'function', function: expect.objectContaining({ name: 'skip_turn' }) },
        ],
        user: 'user_42',
        extra_metadata: { call_id: 'c1', constructor: 'data' },
        top_p: 0.9,
        reasoning: { effort: 'low' },
      });
      expect(Object.keys(body).slice(-2)).toEqual(['top_p', 'reasoning']);
    });

    it('sends the instructions as rendered with the variables', () => {
      const instructions = renderInstructions('You help {{name}} with {{topic}}.', { name: 'a guest', topic: 'orders' }, { name: 'Ada' });
      const { body } = sent(PLAIN, CHAT, HI, instructions);
      expect(body.messages).toEqual([
        { role: 'system', content: 'You help Ada with orders.' },
        { role: 'user', content: 'Hi' },
      ]);
    });

    it('sends tool calls and their results in the chat shapes', () => {
      const request: ReplyRequest = {
        ...HI,
        messages: [
          { role: 'user', content: 'Where is order 7?' },
          { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'lookup_order', arguments: '{"order":"7"}' }] },
          { role: 'tool', content: '{"status":"shipped"}', toolCallId: 'call_1' },
        ],
      };
      expect(sent(PLAIN, CHAT, request).body.messages).toEqual([
        { role: 'user', content: 'Where is order 7?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup_order', arguments: '{"order":"7"}' } }],
        },
        { role: 'tool', content: '{"status":"shipped"}', tool_call_id: 'call_1' },
      ]);
    });

    it('offers each enabled system tool after the custom ones, with its schema and configured values', () => {
      const tools = sent({ ...PLAIN, tools: [PING], systemTools: ALL_SYSTEM }, CHAT).body.tools as ChatTool[];
      expect(tools.every((t) => t.type === 'function')).toBe(true);
      expect(tools.map((t) => t.function.name)).toEqual([
        'ping',
        'end_call',
        'language_detection',
        'transfer_to_agent',
        'transfer_to_number',
        'skip_turn',
        'voicemail_detection',
      ]);
      const fn = (name: string) => tools.find((t) => t.function.name === name)!.function;
      expect(tools.slice(1).map((t) => t.function.parameters!.required)).toEqual([
        ['reason'],
        ['reason', 'language'],
        ['agent_number'],
        ['transfer_number', 'client_message', 'agent_message'],
        [],
        ['reason'],
      ]);
      expect(fn('language_detection').parameters!.properties.language!.enum).toEqual(['en', 'de-CH']);
      expect(fn('transfer_to_number').parameters!.properties.transfer_number!.enum).toEqual(['+15550001111']);
      expect(fn('transfer_to_agent').parameters!.properties.agent_number).toMatchObject({ type: 'integer', minimum: 0, maximum: 0 });
      expect(fn('language_detection').description).toContain('"de-CH"');
      expect(fn('transfer_to_agent').description).toContain('agent_number 0: "Wants to buy"');
      expect(fn('transfer_to_number').description).toContain('"+15550001111": "Asks for \\"a human\\""');
    });
  });

  describe('responses', () => {
    it('sends only what the agent sets', () => {
      const { url, body } = sent(PLAIN, { ...RESPONSES, baseUrl: 'https://llm.example/v1' });
      expect(url).toBe('https://llm.example/v1/responses');
      expect(body).toEqual({ model: 'gpt-x', input: [{ role: 'user', content: 'Hi' }], stream: true });
    });

    it('sends every part of the contract, extra_body last at the top level', () => {
      const agent: UpstreamAgent = {
        temperature: 1,
        maxTokens: 50,
        tools: [LOOKUP, PING],
        systemTools: { end_call: {} },
        forwardMetadata: true,
      };
      const request: ReplyRequest = { ...HI, metadata: { call_id: 'c1' }, userId: 'user_42' };
      const { body } = sent(agent, { ...RESPONSES, extraBody: { store: false } }, request, 'Be brief.');
      expect(body).toEqual({
        model: 'gpt-x',
        instructions: 'Be brief.',
        input: [{ role: 'user', content: 'Hi' }],
        stream: true,
        temperature: 1,
        max_output_tokens: 50,
        tools: [
          { type: 'function', ...LOOKUP, strict: false },
          { type: 'function', name: 'ping', strict: false },
          expect.objectContaining({ type: 'function', name: 'end_call' }),
        ],
        user: 'user_42',
        extra_metadata: { call_id: 'c1' },
        store: false,
      });
      expect(Object.keys(body).at(-1)).toBe('store');
    });

    it('sends tool calls and their results as function_call items', () => {
      const request: ReplyRequest = {
        ...HI,
        messages: [
          { role: 'user', content: 'Where is order 7?' },
          { role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'call_1', name: 'lookup_order', arguments: '{"order":"7"}' }] },
          { role: 'tool', content: 'shipped', toolCallId: 'call_1' },
        ],
      };
      expect(sent(PLAIN, RESPONSES, request).body.input).toEqual([
        { role: 'user', content: 'Where is order 7?' },
        { role: 'assistant', content: 'Checking.' },
        { type: 'function_call', call_id: 'call_1', name: 'lookup_order', arguments: '{"order":"7"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'shipped' },
      ]);
    });

    it('offers system tools flat, with their schema and configured values', () => {
      const tools = sent({ ...PLAIN, systemTools: ALL_SYSTEM }, RESPONSES).body.tools as ResponsesTool[];
      expect(tools.map((t) => [t.type, t.name])).toEqual(
        ['end_call', 'language_detection', 'transfer_to_agent', 'transfer_to_number', 'skip_turn', 'voicemail_detection'].map((n) => [
          'function',
          n,
        ]),
      );
      expect(tools.map((t) => t.parameters!.required)).toEqual([
        ['reason'],
        ['reason', 'language'],
        ['agent_number'],
        ['transfer_number', 'client_message', 'agent_message'],
        [],
        ['reason'],
      ]);
      expect(tools[1]!.parameters!.properties.language!.enum).toEqual(['en', 'de-CH']);
      expect(tools[3]!.parameters!.properties.transfer_number!.enum).toEqual(['+15550001111']);
      expect(tools[2]!.description).toContain('"Wants to buy"');
      expect(tools.every((t) => !('function' in t))).toBe(true);
    });
  });

  describe.each([
    ['chat completions', CHAT],
    ['responses', RESPONSES],
  ])('metadata (%s)', (_api, entry) => {
    const withMetadata: ReplyRequest = { ...HI, metadata: { call_id: 'c1' } };

    it('sends no metadata of any kind when the agent does not forward it', () => {
      const { body } = sent(PLAIN, entry, withMetadata);
      expect(body).not.toHaveProperty('extra_metadata');
      expect(body).not.toHaveProperty('metadata');
    });

    it('sends none for a reply without metadata, even when the agent forwards it', () => {
      expect(sent({ ...PLAIN, forwardMetadata: true }, entry).body).not.toHaveProperty('extra_metadata');
    });

    it('sends no user and no tools key when there are none', () => {
      const { body } = sent(PLAIN, entry);
      expect(body).not.toHaveProperty('user');
      expect(body).not.toHaveProperty('tools');
    });
  });

  describe('azure', () => {
    const AZURE: UpstreamEntry = { baseUrl: 'https://contoso.openai.azure.com/openai', model: 'gpt-x', api: 'azure' };

    it('uses the deployments route with an api_version: the deployment (or the model) in the path, the version as a query we build', () => {
      const call = upstreamRequest(PLAIN, { ...AZURE, azure: { apiVersion: '2024-10-21', deployment: 'voice prod' } }, HI, 'Be brief.');
      expect(call.url).toBe('https://contoso.openai.azure.com/openai/deployments/voice%20prod/chat/completions');
      expect(call.query).toEqual({ 'api-version': '2024-10-21' });
      expect(call.headers).toEqual({});
      // The body is the chat completions body: Azure's deployments route ignores the model in it.
      expect(JSON.parse(call.body)).toEqual(sent(PLAIN, CHAT, HI, 'Be brief.').body);
      expect(upstreamRequest(PLAIN, { ...AZURE, azure: { apiVersion: '2024-10-21' } }, HI, null).url).toBe(
        'https://contoso.openai.azure.com/openai/deployments/gpt-x/chat/completions',
      );
    });

    it('uses the v1 route without an api_version: no query, the model in the body', () => {
      const call = upstreamRequest(PLAIN, { ...AZURE, baseUrl: 'https://apim.example.com/openai/v1/' }, HI, null);
      expect(call.url).toBe('https://apim.example.com/openai/v1/chat/completions');
      expect(call.query).toBeUndefined();
      expect(JSON.parse(call.body)).toMatchObject({ model: 'gpt-x', stream: true });
    });
  });
});
