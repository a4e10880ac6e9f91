import { Inject, Injectable, Optional } from '@nestjs/common';
import type { RunnableAgent, RunnableLlmEntry } from '#agentplane/agents';
import { AgentsService } from '#agentplane/agents';
import type { OrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import { CredentialsService } from '#agentplane/credentials';
import { EgressClient, type EgressResponse } from '#agentplane/egress';
import { LOGGER, type Logger } from '#agentplane/logging';
import { AttemptTimers } from './attempt-timers.js';
import {
  DEFAULT_RUNTIME_LIMITS,
  type ReplyEvent,
  type ReplyRequest,
  type ReplyStream,
  type ReplyToolCall,
  RUNTIME_LIMITS,
  type RuntimeLimits,
  type WholeReply,
} from './reply.js';
import { renderInstructions } from './instructions.js';
import { type AttemptSummary, ReplyObserver, type ReplyOutcome } from './reply-observer.js';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import { SseDecoder } from './sse-decoder.js';
import { callSecretsOf, withCallHeaders } from './entry-secrets.js';
import { drainForReuse, release } from './upstream-body.js';
import { connectionLost, toRuntimeError } from './upstream-failure.js';
import { checkToolCall } from './system-tools.js';
import type { UpstreamOutput } from './upstream-output.js';
import { streamReader, upstreamRequest } from './upstream-request.js';

/**
 * Streams one reply of an agent through its llm entries: the first entry that answers wins;
 * later entries are tried only while nothing has been relayed (a failure after the first token
 * ends the reply with an error, never a silent switch). Every upstream call goes through the
 * egress client, with the entry's credential opened only for that call.
 */
@Injectable()
export class ReplyService {
  private readonly limits: RuntimeLimits;

  constructor(
    private readonly agents: AgentsService,
    private readonly credentials: CredentialsService,
    private readonly egress: EgressClient,
    private readonly clock: Clock,
    private readonly observer: ReplyObserver,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(RUNTIME_LIMITS) limits?: Partial<RuntimeLimits>,
  ) {
    this.limits = { ...DEFAULT_RUNTIME_LIMITS, ...limits };
  }

  /** The agent a reply is for, with its entries' sealed credentials (404 before anything streams). */
  agentFor(orgId: OrgId, agentId: string): Promise<RunnableAgent> {
    return this.agents.getRunnable(orgId, agentId);
  }

  /**
   * The reply's events. Stop iterating (or abort `signal`) when the caller goes away: the upstream
   * request is aborted at once. `ttft_ms` and `duration_ms` count from the start of the reply, so
   * time lost on entries that failed is in them: it is what the caller waited.
   *
   * Throws at once, before any event, a validation error when a `{{name}}` of the instructions has
   * no value (see renderInstructions): call it before the response is committed to a stream.
   */
  reply(agent: RunnableAgent, request: ReplyRequest, signal: AbortSignal, context: ReplyContext = NO_CONTEXT): ReplyStream {
    const instructions = renderInstructions(agent.instructions, agent.variables, request.variables);
    const expired = new AbortController();
    const started = this.clock.monotonicMs();
    // Filled by the attempts as they end; complete once the events are.
    const attempts: AttemptSummary[] = [];
    const events = this.observed(
      agent,
      context,
      started,
      attempts,
      this.attempts(agent, request, instructions, signal, expired, started, attempts),
    );
    return { expired: expired.signal, [Symbol.asyncIterator]: () => events };
  }

  /**
   * The events as they are, and one summary for the observer when the reply ends, however it ends
   * (a consumer that stops iterating is a cancelled reply).
   */
  private async *observed(
    agent: RunnableAgent,
    context: ReplyContext,
    started: number,
    attempts: readonly AttemptSummary[],
    events: AsyncGenerator<ReplyEvent>,
  ): AsyncGenerator<ReplyEvent> {
    const startedAt = this.clock.now();
    let outcome: ReplyOutcome = 'cancelled';
    let ttftMs: number | null = null;
    let completion: Extract<ReplyEvent, { type: 'completed' }> | undefined;
    this.observer.replyStarted();
    try {
      for await (const event of events) {
        if (event.type === 'completed') {
          outcome = 'completed';
          completion = event;
        } else if (event.type === 'error') outcome = event.code;
        else ttftMs ??= Math.round(this.clock.monotonicMs() - started);
        yield event;
      }
    } finally {
      const last = attempts.at(-1);
      this.observer.replyEnded({
        orgId: agent.orgId,
        agentId: agent.id,
        requestId: context.requestId ?? null,
        stream: context.stream,
        outcome,
        entryIndex: last?.entryIndex ?? null,
        api: last?.api ?? null,
        model: completion?.model ?? last?.model ?? null,
        attempts,
        ttftMs: completion?.ttftMs ?? ttftMs,
        durationMs: completion?.durationMs ?? Math.round(this.clock.monotonicMs() - started),
        usage: completion?.usage ?? null,
        startedAt,
      });
    }
  }

  private async *attempts(
    agent: RunnableAgent,
    request: ReplyRequest,
    instructions: string | null,
    signal: AbortSignal,
    expired: AbortController,
    started: number,
    attempts: AttemptSummary[],
  ): AsyncGenerator<ReplyEvent> {
    let last: RuntimeError | undefined;
    for (const [index, entry] of agent.llm.entries()) {
      if (signal.aborted) return;
      const attemptStarted = index === 0 ? started : this.clock.monotonicMs();
      let attemptOutcome: ReplyOutcome = 'cancelled';
      const limits = this.limitsFor(entry);
      const timers = new AttemptTimers(signal, limits);
      let firstTokenAt: number | undefined;
      let completed = false;
      // The timers fire even while the consumer holds an event: once something was relayed, a
      // deadline ends the reply (no fallback), and the consumer may stop waiting to hand it on.
      timers.signal.addEventListener(
        'abort',
        () => {
          if (timers.reason !== undefined && (firstTokenAt !== undefined || completed)) expired.abort();
        },
        { once: true },
      );
      try {
        for await (const output of this.attempt(agent, entry, index, request, instructions, limits, timers)) {
          if (output.kind === 'progress') {
            timers.answerBegan();
            continue;
          }
          if (output.kind === 'done') {
            completed = true;
            attemptOutcome = 'completed';
            const now = this.clock.monotonicMs();
            yield {
              type: 'completed',
              finishReason: output.finishReason,
              entryIndex: index,
              model: output.model ?? entry.model,
              ttftMs: Math.round((firstTokenAt ?? now) - started),
              durationMs: Math.round(now - started),
              ...(output.usage === undefined ? {} : { usage: output.usage }),
            };
            return;
          }
          if (firstTokenAt === undefined) {
            firstTokenAt = this.clock.monotonicMs();
            timers.answerBegan();
          }
          yield output.kind === 'text'
            ? { type: 'delta', text: output.text }
            : { type: 'tool_call', call: { ...output.call, ...checkToolCall(agent.systemTools, output.call) } };
        }
        throw new RuntimeError(RuntimeErrorCode.Malformed, 'The upstream stream ended before the reply did.');
      } catch (error) {
        if (signal.aborted) return;
        const failure = timers.reason ?? toRuntimeError(error);
        attemptOutcome = failure.code;
        const relayed = firstTokenAt !== undefined;
        this.logger.warn(
          {
            agent_id: agent.id,
            entry_index: index,
            ...(entry.providerId === undefined ? {} : { provider_id: entry.providerId }),
            code: failure.code,
            relayed,
            ...(failure === error || timers.reason ? {} : { err: error }),
          },
          'llm attempt failed',
        );
        // Once something reached the caller, another entry would start a different answer.
        if (relayed) {
          yield errorEvent(failure);
          return;
        }
        last = failure;
      } finally {
        timers.dispose(completed);
        // Also when the consumer stopped iterating mid-attempt: that attempt was cancelled.
        const durationMs = Math.round(this.clock.monotonicMs() - attemptStarted);
        attempts.push({ entryIndex: index, api: entry.api, model: entry.model, outcome: attemptOutcome, durationMs });
      }
    }
    yield errorEvent(last ?? new RuntimeError(RuntimeErrorCode.NoLlmConfigured, 'The agent has no llm entries: add one to get replies.'));
  }

  /**
   * The whole reply at once (`stream: false`). Undefined when the caller went away first; a reply
   * that fails throws the RuntimeError the stream would have ended with (`no_llm_configured`, with
   * nothing called, for an agent without llm entries).
   */
  async replyOnce(
    agent: RunnableAgent,
    request: ReplyRequest,
    signal: AbortSignal,
    context: Omit<ReplyContext, 'stream'> = {},
  ): Promise<WholeReply | undefined> {
    let text = '';
    const toolCalls: ReplyToolCall[] = [];
    for await (const event of this.reply(agent, request, signal, { ...context, stream: false })) {
      if (event.type === 'delta') text += event.text;
      else if (event.type === 'tool_call') toolCalls.push(event.call);
      else if (event.type === 'error') throw new RuntimeError(event.code, event.message, event.upstreamStatus);
      else return { text, toolCalls, completion: event };
    }
    return undefined;
  }

  private async *attempt(
    agent: RunnableAgent,
    entry: RunnableLlmEntry,
    index: number,
    request: ReplyRequest,
    instructions: string | null,
    limits: RuntimeLimits,
    timers: AttemptTimers,
  ): AsyncGenerator<UpstreamOutput> {
    const { url, query, headers, body } = upstreamRequest(agent, entry, request, instructions);
    let response: EgressResponse;
    try {
      response = await withCallHeaders(this.credentials, agent.orgId, callSecretsOf(entry, index), url, headers, (all) =>
        this.egress.request(url, {
          method: 'POST',
          ...(query === undefined ? {} : { query }),
          headers: { ...all, 'content-type': 'application/json', accept: 'text/event-stream' },
          body,
          signal: timers.signal,
          connectTimeoutMs: limits.connectMs,
          // Our own timers decide (first token, idle, total); undici's only back them up.
          headersTimeoutMs: limits.totalMs,
          bodyTimeoutMs: limits.totalMs,
        }),
      );
    } catch (error) {
      throw timers.reason ?? toRuntimeError(error);
    }
    const stream = response.body;
    let finished = false;
    try {
      if (response.status < 200 || response.status >= 300) {
        // Never read: providers echo keys and headers in error bodies.
        throw new RuntimeError(RuntimeErrorCode.Status, `The upstream answered ${response.status}.`, response.status);
      }
      const decoder = new SseDecoder(limits.maxLineBytes);
      const reader = streamReader(entry.api);
      let total = 0;
      try {
        // Not destroyed when the loop is left at the reply's end: see drainForReuse.
        for await (const chunk of stream.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
          total += chunk.length;
          if (total > limits.maxTotalBytes)
            throw new RuntimeError(RuntimeErrorCode.TooLarge, 'The upstream reply exceeded the size limit.');
          // Silence is timed only while we wait on the upstream, not while the caller is slow to take what we have.
          timers.pauseIdle();
          for (const event of decoder.feed(chunk)) {
            for (const output of reader.read(event)) {
              if (output.kind === 'done') finished = true;
              yield output;
              if (finished) return;
            }
          }
          timers.resumeIdle();
        }
      } catch (error) {
        // A transport failure in mid-body is a lost connection, not a failed connect.
        throw error instanceof RuntimeError || timers.reason !== undefined ? error : connectionLost(error);
      }
      finished = true;
      for (const event of decoder.end()) for (const output of reader.read(event)) yield output;
      yield* reader.end();
    } finally {
      if (finished) drainForReuse(stream);
      else release(stream);
    }
  }

  private limitsFor(entry: RunnableLlmEntry): RuntimeLimits {
    const t = entry.timeouts;
    return {
      ...this.limits,
      connectMs: t?.connect_ms ?? this.limits.connectMs,
      firstTokenMs: t?.first_token_ms ?? this.limits.firstTokenMs,
      idleMs: t?.idle_ms ?? this.limits.idleMs,
      totalMs: t?.total_ms ?? this.limits.totalMs,
    };
  }
}

/** Who asked for a reply, and how: carried into its summary. */
export interface ReplyContext {
  readonly requestId?: string;
  readonly stream: boolean;
}

const NO_CONTEXT: ReplyContext = { stream: true };

function errorEvent(failure: RuntimeError): ReplyEvent {
  return {
    type: 'error',
    code: failure.code,
    message: failure.message,
    ...(failure.upstreamStatus === undefined ? {} : { upstreamStatus: failure.upstreamStatus }),
  };
}
