import { once } from 'node:events';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { jest } from '@jest/globals';
import type { AgentsService, RunnableAgent, RunnableLlmEntry } from '#agentplane/agents';
import { asOrgId } from '#agentplane/auth';
import type { Clock } from '#agentplane/clock';
import type { CredentialsService, LoadedCredential } from '#agentplane/credentials';
import { EgressError, EgressErrorCode, type EgressClient, type EgressRequest, type EgressResponse } from '#agentplane/egress';
import { CredentialsError, CredentialsErrorCode } from '#agentplane/credentials';
import { CommonError, CommonErrorCode, DomainError } from '#agentplane/errors';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import type { Logger } from '#agentplane/logging';
import type { ReplyEvent, ReplyRequest, RuntimeLimits } from './reply.js';
import type { ReplySummary } from './reply-observer.js';
import { ReplyService } from './reply.service.js';

const ORG = asOrgId('org_test');
const API_KEY = 'sk-test-0123456789abcdefWXYZ';
const REQUEST: ReplyRequest = { messages: [{ role: 'user', content: 'Hi' }], metadata: {}, variables: {} };
/** Large enough that only the deadline a test shrinks can fire. */
const RELAXED: RuntimeLimits = {
  connectMs: 1_000,
  firstTokenMs: 30_000,
  idleMs: 30_000,
  totalMs: 60_000,
  maxLineBytes: 64 * 1024,
  maxTotalBytes: 1024 * 1024,
};

// --- What an upstream sends (chat completions) ---

const text = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
const finish = (reason = 'stop', extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ model: 'served-model', choices: [{ index: 0, delta: {}, finish_reason: reason }], ...extra })}\n\n`;
const toolCallStart = (id: string, name: string) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: '' } }] } }] })}\n\n`;
const toolCallArgs = (args: string) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: args } }] } }] })}\n\n`;
const DONE = 'data: [DONE]\n\n';

/** One step of an upstream body: bytes, a pause, a transport error, or silence until aborted. */
type Step = string | { readonly waitMs: number } | Error | typeof STALL;
const STALL = { stall: true } as const;

/** What an llm entry's upstream does with a request. */
type Upstream = (init: EgressRequest) => Promise<EgressResponse>;

function abortError(): Error {
  return Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
}

/** An error as undici raises it while a body is read (`code` is what the runtime maps). */
function transportError(code: string): Error {
  return Object.assign(new Error(`transport failure ${code}`), { code });
}

/**
 * A response body that hands out one step each time it is read (so an error comes only after the
 * bytes before it were taken), and that the request's signal destroys, as undici's does.
 */
function body(steps: readonly Step[], signal: AbortSignal | undefined, pulls: { count: number } = { count: 0 }): Readable {
  const queue = [...steps];
  const stream: Readable = new Readable({
    highWaterMark: 0,
    read() {
      pulls.count++;
      const next = (): void => {
        const step = queue.shift();
        if (step === undefined) stream.push(null);
        else if (typeof step === 'string') stream.push(Buffer.from(step, 'utf8'));
        else if (step instanceof Error) stream.destroy(step);
        else if ('waitMs' in step) setTimeout(next, step.waitMs);
        // STALL: nothing more until the signal destroys the body.
      };
      next();
    },
  });
  const onAbort = () => stream.destroy(abortError());
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  stream.once('close', () => signal?.removeEventListener('abort', onAbort));
  return stream;
}

/** Answers `status` (200 by default) with a body made of `steps`. */
function answering(...steps: Step[]): Upstream {
  return async (init) => ({ status: 200, headers: {}, body: body(steps, init.signal) });
}

/** Answers a non-2xx status; `pulls.count` says whether anyone read its body. */
function answeringStatus(status: number): { upstream: Upstream; pulls: { count: number }; bodies: Readable[] } {
  const pulls = { count: 0 };
  const bodies: Readable[] = [];
  const upstream: Upstream = async (init) => {
    const b = body(['{"error":{"message":"key sk-echoed"}}'], init.signal, pulls);
    bodies.push(b);
    return { status, headers: {}, body: b };
  };
  return { upstream, pulls, bodies };
}

/** The request itself fails (connect, TLS, egress policy…). */
function refusing(error: unknown): Upstream {
  return async () => {
    throw error;
  };
}

/** Never answers: the request is pending until its signal aborts it. */
function stalling(): Upstream {
  return (init) =>
    new Promise((_resolve, reject) => {
      if (init.signal?.aborted) reject(abortError());
      init.signal?.addEventListener('abort', () => reject(abortError()), { once: true });
    });
}

// --- Agents and their entries ---

type CredentialRef = string | LoadedCredential;
/** The fake plaintext of a credential: API_KEY for an entry's key (`cred_<i>`), else named after its id. */
const secretOf = (ref: CredentialRef): string => {
  const id = typeof ref === 'string' ? ref : (ref as unknown as { id: string }).id;
  return /^cred_\d+$/.test(id) ? API_KEY : `secret-of-${id}`;
};

const baseUrl = (index: number) => `https://llm${index}.example/v1`;

function entry(index: number, overrides: Partial<RunnableLlmEntry> = {}): RunnableLlmEntry {
  return {
    baseUrl: baseUrl(index),
    model: `model-${index}`,
    api: 'chat_completions',
    auth: 'bearer',
    credentialId: `cred_${index}`,
    apiKeyHint: '****WXYZ',
    ownedKey: true,
    // Opaque to the runtime: only the credentials service opens it (faked here).
    credential: { id: `cred_${index}` },
    headers: [],
    ...overrides,
  };
}

function agent(llm: readonly RunnableLlmEntry[], overrides: Partial<RunnableAgent> = {}): RunnableAgent {
  return {
    id: 'agt_test',
    orgId: ORG,
    name: 'Support line',
    instructions: 'Be brief.',
    temperature: null,
    maxTokens: null,
    metadata: {},
    tools: [],
    systemTools: {},
    forwardMetadata: false,
    variables: {},
    llm,
    version: 1,
    createdAt: new Date('2026-11-01T00:00:00.000Z'),
    updatedAt: new Date('2026-11-01T00:00:00.000Z'),
    ...overrides,
  };
}

/** An agent with one entry per upstream, entry i answered by upstreams[i]. */
function setup(
  upstreams: readonly Upstream[],
  options: { limits?: Partial<RuntimeLimits>; entries?: RunnableLlmEntry[]; monotonic?: number[] } = {},
) {
  const egress = {
    request: jest.fn(async (url: string, init: EgressRequest): Promise<EgressResponse> => {
      const index = upstreams.findIndex((_u, i) => url.startsWith(baseUrl(i)));
      if (index < 0) throw new Error(`no upstream for ${url}`);
      return upstreams[index]!(init);
    }),
  };
  const credentials = {
    withSecrets: jest.fn(
      async <T>(
        _orgId: string,
        refs: readonly CredentialRef[],
        _target: string | URL,
        use: (secrets: readonly string[]) => Promise<T> | T,
      ): Promise<T> => use(refs.map(secretOf)),
    ),
  };
  const agents = { getRunnable: jest.fn(async (): Promise<RunnableAgent> => subject) };
  const logger = { warn: jest.fn(), info: jest.fn(), error: jest.fn(), debug: jest.fn() };
  // Each reading of the monotonic clock takes the next value (the last one repeats).
  const readings = [...(options.monotonic ?? [0])];
  const clock = {
    monotonicMs: jest.fn(() => (readings.length > 1 ? readings.shift()! : readings[0]!)),
    now: () => new Date('2026-12-01T10:00:00Z'),
  };
  const observer = { replyStarted: jest.fn(), replyEnded: jest.fn<(summary: ReplySummary) => void>() };
  const subject = agent(options.entries ?? upstreams.map((_u, i) => entry(i)));
  const service = new ReplyService(
    agents as unknown as AgentsService,
    credentials as unknown as CredentialsService,
    egress as unknown as EgressClient,
    clock as unknown as Clock,
    observer,
    logger as unknown as Logger,
    { ...RELAXED, ...options.limits },
  );
  return { service, agent: subject, egress, credentials, agents, logger, observer };
}

async function collect(events: AsyncIterable<ReplyEvent>, onEvent?: (event: ReplyEvent) => unknown): Promise<ReplyEvent[]> {
  const out: ReplyEvent[] = [];
  for await (const event of events) {
    out.push(event);
    await onEvent?.(event);
  }
  return out;
}

const lastOf = (events: readonly ReplyEvent[]) => events.at(-1);
const errorCode = (events: readonly ReplyEvent[]) => {
  const end = lastOf(events);
  return end?.type === 'error' ? end.code : `not an error: ${end?.type}`;
};
const calledUrls = (egress: ReturnType<typeof setup>['egress']) => egress.request.mock.calls.map(([url]) => url);

describe('ReplyService', () => {
  describe('a reply that succeeds', () => {
    it('relays text in order, then completed with the entry, the served model and usage', async () => {
      const usage = { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } };
      const { service, agent } = setup([answering(text('Hel'), text('lo'), finish('stop', usage), DONE)], {
        monotonic: [1_000, 1_250, 1_400],
      });
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events).toEqual([
        { type: 'delta', text: 'Hel' },
        { type: 'delta', text: 'lo' },
        {
          type: 'completed',
          finishReason: 'stop',
          entryIndex: 0,
          model: 'served-model',
          ttftMs: 250,
          durationMs: 400,
          usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
        },
      ]);
    });

    it('sends one POST with the opened key, the entry limits, and the body for the entry API', async () => {
      const { service, agent, egress, credentials } = setup([answering(text('x'), finish(), DONE)], {
        entries: [entry(0, { timeouts: { connect_ms: 750, total_ms: 9_000 } })],
      });
      await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(credentials.withSecrets).toHaveBeenCalledTimes(1);
      expect(credentials.withSecrets.mock.calls[0]!.slice(0, 3)).toEqual([
        ORG,
        [agent.llm[0]!.credential],
        `${baseUrl(0)}/chat/completions`,
      ]);
      expect(egress.request).toHaveBeenCalledTimes(1);
      const [url, init] = egress.request.mock.calls[0]!;
      expect(url).toBe(`${baseUrl(0)}/chat/completions`);
      expect(init).toMatchObject({
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json', accept: 'text/event-stream' },
        connectTimeoutMs: 750,
        headersTimeoutMs: 9_000,
        bodyTimeoutMs: 9_000,
      });
      expect(init.signal).toBeInstanceOf(AbortSignal);
      expect(JSON.parse(init.body!)).toMatchObject({
        model: 'model-0',
        stream: true,
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
        ],
      });
    });

    it('reads a Responses API stream for an entry with api: responses', async () => {
      const ev = (type: string, payload: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
      const { service, agent, egress } = setup(
        [answering(ev('response.output_text.delta', { delta: 'Hi!' }), ev('response.completed', { response: { model: 'resp-model' } }))],
        { entries: [entry(0, { api: 'responses' })] },
      );
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(calledUrls(egress)).toEqual([`${baseUrl(0)}/responses`]);
      expect(events).toEqual([
        { type: 'delta', text: 'Hi!' },
        expect.objectContaining({ type: 'completed', model: 'resp-model', entryIndex: 0 }),
      ]);
    });

    it('relays a streamed tool call once, complete, and names the entry model when the upstream names none', async () => {
      const { service, agent } = setup([
        answering(
          toolCallStart('call_1', 'end_call'),
          toolCallArgs('{"reason":'),
          toolCallArgs('"bye"}'),
          `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\n`,
          DONE,
        ),
      ]);
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events).toEqual([
        // end_call is not enabled on this agent: the call is the caller's, not a system one.
        { type: 'tool_call', call: { id: 'call_1', name: 'end_call', arguments: '{"reason":"bye"}', system: false } },
        expect.objectContaining({ type: 'completed', finishReason: 'tool_calls', model: 'model-0' }),
      ]);
    });
  });

  describe('the summary each reply ends with', () => {
    it('tells the observer once, with the attempts, the answering entry, ttft and usage', async () => {
      const usage = { usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } };
      const { service, agent, observer } = setup(
        [refusing(new EgressError(EgressErrorCode.ConnectionFailed, 'refused')), answering(text('ok'), finish('stop', usage), DONE)],
        { monotonic: [1_000, 1_100, 1_200, 1_700, 1_900] },
      );
      await collect(service.reply(agent, REQUEST, new AbortController().signal, { requestId: 'req_1', stream: true }));
      expect(observer.replyStarted).toHaveBeenCalledTimes(1);
      expect(observer.replyEnded).toHaveBeenCalledTimes(1);
      expect(observer.replyEnded.mock.calls[0]![0]).toEqual({
        orgId: ORG,
        agentId: 'agt_test',
        requestId: 'req_1',
        stream: true,
        outcome: 'completed',
        entryIndex: 1,
        api: 'chat_completions',
        model: 'served-model',
        attempts: [
          { entryIndex: 0, api: 'chat_completions', model: 'model-0', outcome: 'upstream_connect_failed', durationMs: 100 },
          { entryIndex: 1, api: 'chat_completions', model: 'model-1', outcome: 'completed', durationMs: 700 },
        ],
        ttftMs: 700,
        durationMs: 900,
        usage: { input_tokens: 3, output_tokens: 2, total_tokens: 5 },
        startedAt: new Date('2026-12-01T10:00:00Z'),
      });
    });

    it('ends with the failure code when every entry failed, and says stream false for a whole reply', async () => {
      const { service, agent, observer } = setup([answeringStatus(401).upstream]);
      await expect(service.replyOnce(agent, REQUEST, new AbortController().signal)).rejects.toMatchObject({ code: 'upstream_status' });
      expect(observer.replyEnded.mock.calls[0]![0]).toMatchObject({
        stream: false,
        requestId: null,
        outcome: 'upstream_status',
        entryIndex: 0,
        model: 'model-0',
        ttftMs: null,
        usage: null,
        attempts: [expect.objectContaining({ outcome: 'upstream_status' })],
      });
    });

    it('is cancelled, with its attempt, when the caller stops reading mid-reply', async () => {
      const { service, agent, observer } = setup([answering(text('Hel'), STALL)]);
      for await (const event of service.reply(agent, REQUEST, new AbortController().signal)) {
        expect(event.type).toBe('delta');
        break;
      }
      expect(observer.replyEnded).toHaveBeenCalledTimes(1);
      expect(observer.replyEnded.mock.calls[0]![0]).toMatchObject({
        outcome: 'cancelled',
        attempts: [expect.objectContaining({ entryIndex: 0, outcome: 'cancelled' })],
      });
    });

    it('has no attempt and no entry for an agent without llm entries', async () => {
      const { service, agent, observer } = setup([], { entries: [] });
      await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(observer.replyEnded.mock.calls[0]![0]).toMatchObject({
        outcome: 'no_llm_configured',
        entryIndex: null,
        api: null,
        model: null,
        attempts: [],
      });
    });
  });

  describe('fallbacks', () => {
    it('tries the next entry while nothing was relayed, and counts ttft from the start of the reply', async () => {
      const { service, agent, egress, logger } = setup(
        [refusing(new EgressError(EgressErrorCode.ConnectionFailed, 'refused')), answering(text('ok'), finish(), DONE)],
        // Start, end of the first attempt, start of the second, first token, end.
        { monotonic: [1_000, 1_100, 1_200, 1_700, 1_900] },
      );
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(calledUrls(egress)).toEqual([`${baseUrl(0)}/chat/completions`, `${baseUrl(1)}/chat/completions`]);
      expect(events).toEqual([
        { type: 'delta', text: 'ok' },
        expect.objectContaining({ type: 'completed', entryIndex: 1, ttftMs: 700, durationMs: 900 }),
      ]);
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn.mock.calls[0]![0]).toMatchObject({
        agent_id: 'agt_test',
        entry_index: 0,
        code: 'upstream_connect_failed',
        relayed: false,
      });
    });

    it('falls back over a failed status, a malformed stream, a stream that ends early and an oversized one', async () => {
      const { service, agent, egress } = setup(
        [
          answeringStatus(503).upstream,
          answering('data: not json\n\n'),
          answering(text('')),
          answering(`data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'y'.repeat(2_000) } }] })}\n\n`),
          answering(text('fine'), finish(), DONE),
        ],
        { limits: { maxTotalBytes: 1_000 } },
      );
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(egress.request).toHaveBeenCalledTimes(5);
      expect(lastOf(events)).toMatchObject({ type: 'completed', entryIndex: 4 });
    });

    it('falls back after a tool call that was still streaming when the upstream broke (nothing was relayed)', async () => {
      const { service, agent, egress } = setup([
        answering(toolCallStart('call_1', 'end_call'), toolCallArgs('{"rea'), transportError('ECONNRESET')),
        answering(text('ok'), finish(), DONE),
      ]);
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(egress.request).toHaveBeenCalledTimes(2);
      expect(events.map((e) => e.type)).toEqual(['delta', 'completed']);
    });

    it('opens the credential read with the agent for the first entry, and reads a fallback entry credential again by id', async () => {
      const { service, agent, credentials } = setup([answeringStatus(503).upstream, answering(text('ok'), finish(), DONE)]);
      await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(credentials.withSecrets.mock.calls.map(([orgId, refs, target]) => [orgId, refs, target])).toEqual([
        [ORG, [agent.llm[0]!.credential], `${baseUrl(0)}/chat/completions`],
        [ORG, ['cred_1'], `${baseUrl(1)}/chat/completions`],
      ]);
    });

    it('does not call a fallback entry whose credential is gone or no longer allows its origin', async () => {
      const { service, agent, egress, credentials } = setup([
        answeringStatus(503).upstream,
        answering(text('ok'), finish(), DONE),
        answering(text('ok'), finish(), DONE),
      ]);
      credentials.withSecrets.mockImplementation(async (_orgId, refs, _target, use) => {
        if (refs[0] === 'cred_1') throw DomainError.notFound('Credential');
        if (refs[0] === 'cred_2') throw new CredentialsError(CredentialsErrorCode.CredentialOriginNotAllowed, 'narrowed');
        return use([API_KEY]);
      });
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events).toEqual([{ type: 'error', code: 'egress_refused', message: expect.any(String) }]);
      expect(calledUrls(egress)).toEqual([`${baseUrl(0)}/chat/completions`]);
    });

    it('ends with the last failure when every entry fails', async () => {
      const { service, agent } = setup([answeringStatus(500).upstream, answeringStatus(429).upstream]);
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events).toEqual([{ type: 'error', code: 'upstream_status', upstreamStatus: 429, message: expect.any(String) }]);
    });

    it('ends with no_llm_configured for an agent without entries, calling nobody', async () => {
      const { service, agent, egress } = setup([]);
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events).toEqual([{ type: 'error', code: 'no_llm_configured', message: expect.any(String) }]);
      expect(egress.request).not.toHaveBeenCalled();
    });
  });

  describe('after the first token', () => {
    it('does not fall back when the connection breaks: the reply ends with an error', async () => {
      const { service, agent, egress, logger } = setup([
        answering(text('Hel'), transportError('ECONNRESET')),
        answering(text('other answer'), finish(), DONE),
      ]);
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events).toEqual([
        { type: 'delta', text: 'Hel' },
        { type: 'error', code: 'upstream_connection_lost', message: expect.any(String) },
      ]);
      expect(egress.request).toHaveBeenCalledTimes(1);
      expect(logger.warn.mock.calls[0]![0]).toMatchObject({ entry_index: 0, code: 'upstream_connection_lost', relayed: true });
    });

    it('does not fall back after a relayed tool call either', async () => {
      const { service, agent, egress } = setup([
        answering(
          toolCallStart('call_1', 'lookup'),
          toolCallArgs('{}'),
          `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\n`,
          'data: {"error":{"type":"server_error"}}\n\n',
        ),
        answering(text('other answer'), finish(), DONE),
      ]);
      // finish_reason without [DONE] then an in-stream error: the call was relayed, the error ends the reply.
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events.map((e) => e.type)).toEqual(['tool_call', 'error']);
      expect(errorCode(events)).toBe('upstream_error');
      expect(egress.request).toHaveBeenCalledTimes(1);
    });

    it('ends with upstream_too_large once the reply passes the size limit', async () => {
      const { service, agent } = setup([answering(text('a'), text('b'.repeat(600)), finish(), DONE)], { limits: { maxTotalBytes: 500 } });
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events.map((e) => e.type)).toEqual(['delta', 'error']);
      expect(errorCode(events)).toBe('upstream_too_large');
    });
  });

  describe('deadlines', () => {
    it('ends an attempt with upstream_timeout_first_token when no token comes, and falls back', async () => {
      const { service, agent, logger } = setup([answering(STALL), answering(text('ok'), finish(), DONE)], { limits: { firstTokenMs: 30 } });
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(lastOf(events)).toMatchObject({ type: 'completed', entryIndex: 1 });
      expect(logger.warn.mock.calls[0]![0]).toMatchObject({ entry_index: 0, code: 'upstream_timeout_first_token', relayed: false });
    });

    it('times the first token from before the request: a request that never answers ends the same way', async () => {
      const { service, agent } = setup([stalling()], { limits: { firstTokenMs: 30 } });
      expect(errorCode(await collect(service.reply(agent, REQUEST, new AbortController().signal)))).toBe('upstream_timeout_first_token');
    });

    it('uses the timeouts of an entry over the defaults', async () => {
      const { service, agent } = setup([answering(STALL)], { entries: [entry(0, { timeouts: { first_token_ms: 30 } })] });
      expect(errorCode(await collect(service.reply(agent, REQUEST, new AbortController().signal)))).toBe('upstream_timeout_first_token');
    });

    it('ends with upstream_idle_timeout when the upstream goes silent after the first token', async () => {
      const { service, agent } = setup([answering(text('Hel'), STALL)], { limits: { idleMs: 30 } });
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events.map((e) => e.type)).toEqual(['delta', 'error']);
      expect(errorCode(events)).toBe('upstream_idle_timeout');
    });

    it('does not count time the caller takes to read as upstream silence', async () => {
      const { service, agent } = setup([answering(text('a'), text('b'), finish(), DONE)], { limits: { idleMs: 20 } });
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal), () => sleep(60));
      expect(lastOf(events)).toMatchObject({ type: 'completed' });
    });

    it('no longer applies the first-token deadline once a tool call is streaming', async () => {
      const { service, agent } = setup(
        [
          answering(
            toolCallStart('call_1', 'end_call'),
            { waitMs: 60 },
            toolCallArgs('{}'),
            `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\n`,
            DONE,
          ),
        ],
        { limits: { firstTokenMs: 20 } },
      );
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events.map((e) => e.type)).toEqual(['tool_call', 'completed']);
    });

    it('ends with upstream_timeout_total when a steady reply takes longer than allowed', async () => {
      const drip = Array.from({ length: 200 }, () => [{ waitMs: 5 }, text('.')]).flat();
      const { service, agent } = setup([answering(text('start'), ...drip, finish(), DONE)], { limits: { totalMs: 60 } });
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(errorCode(events)).toBe('upstream_timeout_total');
    });
  });

  describe('expired', () => {
    it('aborts when a deadline ends the reply while the consumer still holds a relayed event', async () => {
      const { service, agent } = setup([answering(text('a'), STALL)], { limits: { totalMs: 40 } });
      const reply = service.reply(agent, REQUEST, new AbortController().signal);
      let sawExpiry = false;
      const events = await collect(reply, async (event) => {
        if (event.type !== 'delta') return;
        // Like a consumer stuck writing to a caller that stopped reading: it waits for the signal.
        await Promise.race([once(reply.expired, 'abort'), sleep(5_000, undefined, { ref: false })]);
        sawExpiry = reply.expired.aborted;
      });
      expect(sawExpiry).toBe(true);
      expect(errorCode(events)).toBe('upstream_timeout_total');
    });

    it('does not abort for a deadline before anything was relayed (a fallback may still answer), nor at a normal end', async () => {
      const { service, agent } = setup([answering(STALL), answering(text('ok'), finish(), DONE)], { limits: { firstTokenMs: 30 } });
      const reply = service.reply(agent, REQUEST, new AbortController().signal);
      expect(lastOf(await collect(reply))).toMatchObject({ type: 'completed', entryIndex: 1 });
      expect(reply.expired.aborted).toBe(false);
    });
  });

  describe('the caller going away', () => {
    it('stops at once, calling nobody, when the signal is already aborted', async () => {
      const { service, agent, egress } = setup([answering(text('x'), finish(), DONE)]);
      const caller = new AbortController();
      caller.abort();
      expect(await collect(service.reply(agent, REQUEST, caller.signal))).toEqual([]);
      expect(egress.request).not.toHaveBeenCalled();
    });

    it('aborts the upstream mid-reply and ends without an error event or a warning', async () => {
      const { service, agent, egress, logger } = setup([answering(text('a'), STALL)]);
      const caller = new AbortController();
      const events = await collect(service.reply(agent, REQUEST, caller.signal), () => caller.abort());
      expect(events).toEqual([{ type: 'delta', text: 'a' }]);
      expect(egress.request.mock.calls[0]![1].signal?.aborted).toBe(true);
      expect(logger.warn).not.toHaveBeenCalled();
    });

    it('does not fall back when the caller leaves while the first entry is pending', async () => {
      const { service, agent, egress } = setup([stalling(), answering(text('x'), finish(), DONE)]);
      const caller = new AbortController();
      const reply = collect(service.reply(agent, REQUEST, caller.signal));
      await sleep(10);
      caller.abort();
      expect(await reply).toEqual([]);
      expect(egress.request).toHaveBeenCalledTimes(1);
    });

    it('aborts the upstream when the consumer stops iterating', async () => {
      const { service, agent, egress } = setup([answering(text('a'), STALL)]);
      for await (const event of service.reply(agent, REQUEST, new AbortController().signal)) {
        expect(event).toEqual({ type: 'delta', text: 'a' });
        break;
      }
      expect(egress.request.mock.calls[0]![1].signal?.aborted).toBe(true);
    });
  });

  describe('error codes', () => {
    it.each([
      [EgressErrorCode.InvalidUrl, 'egress_refused'],
      [EgressErrorCode.HttpsRequired, 'egress_refused'],
      [EgressErrorCode.PrivateHost, 'egress_refused'],
      [EgressErrorCode.RedirectRefused, 'egress_refused'],
      [EgressErrorCode.UnresolvableHost, 'upstream_dns_failed'],
      [EgressErrorCode.ConnectionRefused, 'upstream_connection_refused'],
      [EgressErrorCode.ConnectTimeout, 'upstream_connect_timeout'],
      [EgressErrorCode.TlsUntrusted, 'upstream_tls_untrusted'],
      [EgressErrorCode.TlsHostnameMismatch, 'upstream_tls_hostname_mismatch'],
      [EgressErrorCode.TlsFailed, 'upstream_tls_failed'],
      [EgressErrorCode.ConnectionFailed, 'upstream_connect_failed'],
      [EgressErrorCode.HeadersTimeout, 'upstream_timeout_first_token'],
      [EgressErrorCode.BodyTimeout, 'upstream_idle_timeout'],
      [EgressErrorCode.ResponseTooLarge, 'upstream_too_large'],
    ])('maps the egress error %s to %s', async (egressCode, code) => {
      const { service, agent } = setup([refusing(new EgressError(egressCode, 'refused'))]);
      expect(errorCode(await collect(service.reply(agent, REQUEST, new AbortController().signal)))).toBe(code);
    });

    it.each([
      ['ECONNREFUSED', transportError('ECONNREFUSED'), 'upstream_connection_refused'],
      ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', transportError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'upstream_tls_untrusted'],
      ['SELF_SIGNED_CERT_IN_CHAIN', transportError('SELF_SIGNED_CERT_IN_CHAIN'), 'upstream_tls_untrusted'],
      ['ERR_TLS_CERT_ALTNAME_INVALID', transportError('ERR_TLS_CERT_ALTNAME_INVALID'), 'upstream_tls_hostname_mismatch'],
      ['CERT_HAS_EXPIRED', transportError('CERT_HAS_EXPIRED'), 'upstream_tls_failed'],
      ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', transportError('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION'), 'upstream_tls_failed'],
      ['UND_ERR_CONNECT_TIMEOUT', transportError('UND_ERR_CONNECT_TIMEOUT'), 'upstream_connect_timeout'],
      ['ECONNRESET', transportError('ECONNRESET'), 'upstream_connect_failed'],
      ['an error without a code', new Error('anything else'), 'upstream_connect_failed'],
    ])('maps a request failing with %s to its code', async (_label, error, code) => {
      const { service, agent } = setup([refusing(error)]);
      expect(errorCode(await collect(service.reply(agent, REQUEST, new AbortController().signal)))).toBe(code);
    });

    it('names NODE_EXTRA_CA_CERTS in the message of an untrusted certificate', async () => {
      const { service, agent } = setup([refusing(transportError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'))]);
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(lastOf(events)).toMatchObject({
        type: 'error',
        code: 'upstream_tls_untrusted',
        message: expect.stringContaining('NODE_EXTRA_CA_CERTS'),
      });
    });

    it.each([
      ['ECONNRESET', 'upstream_connection_lost'],
      ['UND_ERR_SOCKET', 'upstream_connection_lost'],
      ['UND_ERR_BODY_TIMEOUT', 'upstream_idle_timeout'],
      ['UND_ERR_RES_EXCEEDED_MAX_SIZE', 'upstream_too_large'],
    ])('maps a body failing with %s after the first token to %s', async (transportCode, code) => {
      const { service, agent } = setup([answering(text('a'), transportError(transportCode))]);
      expect(errorCode(await collect(service.reply(agent, REQUEST, new AbortController().signal)))).toBe(code);
    });

    it.each([
      [new CredentialsError(CredentialsErrorCode.CredentialOriginNotAllowed, 'refused'), 'egress_refused'],
      [new CredentialsError(CredentialsErrorCode.CredentialUnavailable, 'refused'), 'credential_unavailable'],
      [new CommonError(CommonErrorCode.NotFound, 'refused'), 'credential_unavailable'],
    ])('maps a credential refused with %s to %s, before any request', async (domainError, code) => {
      const { service, agent, egress, credentials } = setup([answering(text('x'), finish(), DONE)]);
      credentials.withSecrets.mockRejectedValueOnce(domainError);
      expect(errorCode(await collect(service.reply(agent, REQUEST, new AbortController().signal)))).toBe(code);
      expect(egress.request).not.toHaveBeenCalled();
    });

    it('names a non-2xx status in the code and never reads its body', async () => {
      const failing = answeringStatus(401);
      const { service, agent, logger } = setup([failing.upstream]);
      const events = await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(events).toEqual([{ type: 'error', code: 'upstream_status', upstreamStatus: 401, message: 'The upstream answered 401.' }]);
      expect(failing.pulls.count).toBe(0);
      expect(failing.bodies[0]!.destroyed).toBe(true);
      expect(JSON.stringify(logger.warn.mock.calls)).not.toContain('sk-echoed');
    });
  });

  describe('replyOnce', () => {
    it('returns the whole reply: text, tool calls and how it completed', async () => {
      const { service, agent } = setup([
        answering(
          text('Let me '),
          text('check.'),
          toolCallStart('call_1', 'lookup'),
          toolCallArgs('{"q":1}'),
          `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] })}\n\n`,
          DONE,
        ),
      ]);
      const whole = await service.replyOnce(agent, REQUEST, new AbortController().signal);
      expect(whole).toEqual({
        text: 'Let me check.',
        toolCalls: [{ id: 'call_1', name: 'lookup', arguments: '{"q":1}', system: false }],
        completion: expect.objectContaining({ type: 'completed', finishReason: 'tool_calls', entryIndex: 0 }),
      });
    });

    it('throws the last failure, as the stream would have ended, when every entry fails', async () => {
      const { service, agent } = setup([refusing(new EgressError(EgressErrorCode.ConnectionFailed, 'x')), answeringStatus(502).upstream]);
      const failure = await service.replyOnce(agent, REQUEST, new AbortController().signal).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(RuntimeError);
      expect(failure).toMatchObject({ code: RuntimeErrorCode.Status, upstreamStatus: 502 });
    });

    it('throws the failure when the reply fails after its first token', async () => {
      const { service, agent } = setup([answering(text('Hel'), transportError('ECONNRESET'))]);
      await expect(service.replyOnce(agent, REQUEST, new AbortController().signal)).rejects.toMatchObject({
        code: RuntimeErrorCode.ConnectionLost,
      });
    });

    it('throws no_llm_configured for an agent without entries, calling nobody', async () => {
      const { service, agent, egress } = setup([]);
      await expect(service.replyOnce(agent, REQUEST, new AbortController().signal)).rejects.toMatchObject({
        code: RuntimeErrorCode.NoLlmConfigured,
      });
      expect(egress.request).not.toHaveBeenCalled();
    });

    it('returns undefined when the caller went away', async () => {
      const { service, agent } = setup([stalling()]);
      const caller = new AbortController();
      const whole = service.replyOnce(agent, REQUEST, caller.signal);
      await sleep(10);
      caller.abort();
      expect(await whole).toBeUndefined();
    });
  });

  describe('the conversation contract', () => {
    const headersSent = (egress: { request: { mock: { calls: [string, EgressRequest][] } } }, call = 0) =>
      egress.request.mock.calls[call]![1].headers;
    const OURS = { 'content-type': 'application/json', accept: 'text/event-stream' };
    const HEADERS: RunnableLlmEntry['headers'] = [
      { name: 'x-team', value: 'support' },
      { name: 'x-gateway-token', credentialId: 'cred_hdr', credential: { id: 'cred_hdr' } },
    ];

    it.each([
      ['bearer', { authorization: `Bearer ${API_KEY}` }],
      ['api_key_header', { 'api-key': API_KEY }],
      ['x_api_key', { 'x-api-key': API_KEY }],
    ] as const)('sends the key as auth %s says', async (auth, keyHeader) => {
      const { service, agent, egress } = setup([answering(text('x'), finish(), DONE)], { entries: [entry(0, { auth })] });
      await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(headersSent(egress)).toEqual({ ...keyHeader, ...OURS });
    });

    it('sends no key and opens no credential for auth none', async () => {
      const { service, agent, egress, credentials } = setup([answering(text('x'), finish(), DONE)], {
        entries: [entry(0, { auth: 'none', credentialId: null, apiKeyHint: null, credential: null })],
      });
      expect(lastOf(await collect(service.reply(agent, REQUEST, new AbortController().signal)))?.type).toBe('completed');
      expect(credentials.withSecrets).not.toHaveBeenCalled();
      expect(headersSent(egress)).toEqual(OURS);
    });

    it('sends plain and secret headers, the secret opened with the key for the target URL only', async () => {
      const { service, agent, egress, credentials } = setup([answering(text('x'), finish(), DONE)], {
        entries: [entry(0, { headers: HEADERS })],
      });
      await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(credentials.withSecrets.mock.calls.map(([orgId, refs, target]) => [orgId, refs, target])).toEqual([
        [ORG, [agent.llm[0]!.credential, { id: 'cred_hdr' }], `${baseUrl(0)}/chat/completions`],
      ]);
      expect(headersSent(egress)).toEqual({
        authorization: `Bearer ${API_KEY}`,
        'x-team': 'support',
        'x-gateway-token': 'secret-of-cred_hdr',
        ...OURS,
      });
    });

    it('opens a secret header for an entry without a key, and reads it again by id for a fallback', async () => {
      const keyless = (index: number) =>
        entry(index, { auth: 'none', credentialId: null, apiKeyHint: null, credential: null, headers: HEADERS });
      const { service, egress, credentials, agent } = setup([answeringStatus(503).upstream, answering(text('ok'), finish(), DONE)], {
        entries: [keyless(0), keyless(1)],
      });
      await collect(service.reply(agent, REQUEST, new AbortController().signal));
      expect(credentials.withSecrets.mock.calls.map(([, refs, target]) => [refs, target])).toEqual([
        [[{ id: 'cred_hdr' }], `${baseUrl(0)}/chat/completions`],
        [['cred_hdr'], `${baseUrl(1)}/chat/completions`],
      ]);
      expect(headersSent(egress, 1)).toEqual({ 'x-team': 'support', 'x-gateway-token': 'secret-of-cred_hdr', ...OURS });
    });

    it('fails an attempt whose secret header cannot be opened with credential_unavailable, calling nobody', async () => {
      const { service, agent, egress, credentials } = setup([answering(text('x'), finish(), DONE)], {
        entries: [entry(0, { headers: HEADERS })],
      });
      credentials.withSecrets.mockRejectedValueOnce(new CredentialsError(CredentialsErrorCode.CredentialUnavailable, 'sealed'));
      expect(errorCode(await collect(service.reply(agent, REQUEST, new AbortController().signal)))).toBe('credential_unavailable');
      expect(egress.request).not.toHaveBeenCalled();
    });

    it('sends the instructions with the variables filled in, the request over the defaults', async () => {
      const { service, egress } = setup([answering(text('x'), finish(), DONE)]);
      const subject = agent([entry(0)], { instructions: 'Help {{name}} on {{plan}}.', variables: { name: 'a guest', plan: 'Free' } });
      await collect(service.reply(subject, { ...REQUEST, variables: { name: 'Ada' } }, new AbortController().signal));
      const body = JSON.parse(egress.request.mock.calls[0]![1].body!) as { messages: unknown[] };
      expect(body.messages[0]).toEqual({ role: 'system', content: 'Help Ada on Free.' });
    });

    it('refuses a placeholder without a value at once, before any event or upstream call', async () => {
      const { service, egress } = setup([answering(text('x'), finish(), DONE)]);
      const subject = agent([entry(0)], { instructions: 'Help {{name}} on {{plan}}.' });
      let thrown: unknown;
      try {
        service.reply(subject, REQUEST, new AbortController().signal);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(CommonError);
      expect((thrown as CommonError).errors?.map((e) => [e.path, e.code])).toEqual([
        ['variables.name', 'missing_variable'],
        ['variables.plan', 'missing_variable'],
      ]);
      await expect(service.replyOnce(subject, REQUEST, new AbortController().signal)).rejects.toMatchObject({
        code: CommonErrorCode.ValidationFailed,
      });
      expect(egress.request).not.toHaveBeenCalled();
    });

    it('marks system tool calls, resolves a transfer to its agent, and flags arguments that do not fit', async () => {
      const chunk = (calls: { id: string; name: string; arguments: string }[]) =>
        `data: ${JSON.stringify({
          choices: [
            {
              index: 0,
              delta: {
                tool_calls: calls.map((c, i) => ({
                  index: i,
                  id: c.id,
                  type: 'function',
                  function: { name: c.name, arguments: c.arguments },
                })),
              },
            },
          ],
        })}\n\n`;
      const calls = [
        { id: 'c1', name: 'lookup_order', arguments: '{"order":"7"}' },
        { id: 'c2', name: 'transfer_to_agent', arguments: '{"agent_number":1}' },
        { id: 'c3', name: 'transfer_to_number', arguments: '{"transfer_number":"+15559999999","client_message":"c","agent_message":"a"}' },
        { id: 'c4', name: 'transfer_to_agent', arguments: '{"agent_number":2}' },
      ];
      const { service } = setup([answering(chunk(calls), finish('tool_calls'), DONE)]);
      const subject = agent([entry(0)], {
        systemTools: {
          transfer_to_agent: {
            transfers: [
              { agentId: 'agt_a', condition: 'a' },
              { agentId: 'agt_b', condition: 'b' },
            ],
          },
          transfer_to_number: { transfers: [{ number: '+15550001111', condition: 'human' }] },
        },
      });
      const events = await collect(service.reply(subject, REQUEST, new AbortController().signal));
      expect(events.flatMap((e) => (e.type === 'tool_call' ? [e.call] : []))).toEqual([
        { ...calls[0], system: false },
        { ...calls[1], system: true, agentId: 'agt_b' },
        {
          ...calls[2],
          system: true,
          error: { code: 'invalid_tool_arguments', message: 'transfer_number +15559999999 is not configured' },
        },
        { ...calls[3], system: true, error: { code: 'invalid_tool_arguments', message: 'agent_number 2 is out of range (0..1)' } },
      ]);
    });
  });

  it('agentFor loads the runnable agent of the organization', async () => {
    const { service, agent, agents } = setup([answering(DONE)]);
    expect(await service.agentFor(ORG, 'agt_test')).toBe(agent);
    expect(agents.getRunnable).toHaveBeenCalledWith(ORG, 'agt_test');
  });
});
