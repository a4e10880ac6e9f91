import { Inject, Injectable, Optional } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AgentsService, isInline, type LlmEntryInput, type RunnableAgent } from '#agentplane/agents';
import type { OrgId } from '#agentplane/auth';
import { Clock } from '#agentplane/clock';
import { CredentialsService } from '#agentplane/credentials';
import { EgressClient, EgressError, EgressErrorCode, EgressPolicy, type EgressResponse } from '#agentplane/egress';
import {
  EndpointsError,
  EndpointsErrorCode,
  fieldPath,
  keySourceErrors,
  type LlmHeader,
  resolveBaseUrl,
  throwFieldErrors,
} from '#agentplane/endpoints';
import { CommonError, CommonErrorCode, DomainError, type FieldError } from '#agentplane/errors';
import { LOGGER, type Logger } from '#agentplane/logging';
import { mappedModel, ProvidersService } from '#agentplane/providers';
import {
  type ConnectionReport,
  ConnectionTestError,
  ConnectionTestErrorCode,
  type EntryUnderTest,
  TEST_STEPS,
  type TestStep,
  type TestStepCode,
  type TestStepName,
  TestOutcomeCode,
} from './connection-test.js';
import { callSecretsOf, InlineSecret, withCallHeaders } from './entry-secrets.js';
import { DEFAULT_RUNTIME_LIMITS, type ReplyRequest } from './reply.js';
import { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
import { SseDecoder } from './sse-decoder.js';
import { release } from './upstream-body.js';
import { toRuntimeError } from './upstream-failure.js';
import { streamReader, upstreamRequest } from './upstream-request.js';
import type { StreamReader, UpstreamAgent } from './wire-format.js';

export interface ConnectionTestLimits {
  /** Entries an organization may test per window (an agent's test counts each of its entries). */
  readonly entriesPerWindow: number;
  readonly windowSeconds: number;
  /** The longest a test waits for its first token when the entry sets no first_token_ms. */
  readonly firstTokenMs: number;
}

export const DEFAULT_CONNECTION_TEST_LIMITS: ConnectionTestLimits = {
  entriesPerWindow: 10,
  windowSeconds: 60,
  firstTokenMs: 20_000,
};

/** Overrides for the connection tests' limits (tests of the tests use small ones). */
export const CONNECTION_TEST_LIMITS = Symbol('CONNECTION_TEST_LIMITS');

/** What a test sends: the shortest conversation that makes a model answer. */
const TEST_REQUEST: ReplyRequest = {
  messages: [{ role: 'user', content: 'Reply with the single word OK.' }],
  metadata: {},
  variables: {},
};

/** An unsaved entry has no agent: nothing shapes its body but the entry. */
const NO_AGENT: UpstreamAgent = { temperature: null, maxTokens: null, tools: [], systemTools: {}, forwardMetadata: false };

/**
 * Checks that llm entries answer, before a reply depends on them: one short real request per
 * entry on a connection of its own, timed step by step (policy, dns, connect, tls, request, stream,
 * first_token), stopping at the first step that fails, with its code. The upstream's body is never
 * relayed, and a key given inline is used for that request only. Limited per organization, so
 * that tests cannot be used to scan hosts.
 */
@Injectable()
export class ConnectionTestService {
  private readonly limits: ConnectionTestLimits;
  // In memory, per process: several instances each allow this many.
  private readonly limiter: RateLimiterMemory;

  constructor(
    private readonly agents: AgentsService,
    private readonly providers: ProvidersService,
    private readonly credentials: CredentialsService,
    private readonly egress: EgressClient,
    private readonly policy: EgressPolicy,
    private readonly clock: Clock,
    @Inject(LOGGER) private readonly logger: Logger,
    @Optional() @Inject(CONNECTION_TEST_LIMITS) limits?: Partial<ConnectionTestLimits>,
  ) {
    this.limits = { ...DEFAULT_CONNECTION_TEST_LIMITS, ...limits };
    this.limiter = new RateLimiterMemory({ points: this.limits.entriesPerWindow, duration: this.limits.windowSeconds });
  }

  /** Tests every llm entry of an agent, as stored (its credentials and settings), all at once. */
  async testAgent(orgId: OrgId, agentId: string): Promise<{ agent: RunnableAgent; reports: ConnectionReport[] }> {
    const agent = await this.agents.getRunnable(orgId, agentId);
    await this.admit(orgId, agent.llm.length);
    const reports = await Promise.all(
      agent.llm.map((entry, index) =>
        this.run(orgId, { endpoint: entry, secrets: callSecretsOf(entry, 0) }, agent, { agent_id: agent.id, entry_index: index }),
      ),
    );
    return { agent, reports };
  }

  /**
   * Tests one entry that is not saved: its own endpoint with an inline key, an org credential or
   * none, or a provider's. Its inline secrets are used for this request and then dropped.
   */
  async testEntry(orgId: OrgId, input: LlmEntryInput): Promise<ConnectionReport> {
    const entry = await this.entryUnderTest(orgId, input);
    await this.admit(orgId, 1);
    return this.run(orgId, entry, NO_AGENT, { unsaved: true });
  }

  private async entryUnderTest(orgId: OrgId, input: LlmEntryInput): Promise<EntryUnderTest> {
    const timeouts = input.timeouts === undefined ? {} : { timeouts: input.timeouts };
    if (!isInline(input)) {
      const provider = await this.providers.get(orgId, input.providerId).catch((error: unknown) => {
        if (error instanceof CommonError && error.code === CommonErrorCode.NotFound) {
          throw DomainError.validation([{ path: 'provider_id', code: 'not_found', message: 'is not a provider of this organization' }]);
        }
        throw error;
      });
      return {
        endpoint: { ...provider, model: mappedModel(provider.modelMap, input.model), ...timeouts },
        // By id: the credentials service checks the org and origin when it opens them.
        secrets: { auth: provider.auth, key: provider.credentialId, headers: provider.headers.map(storedHeader) },
      };
    }
    const location = resolveBaseUrl(input, '');
    const errors: FieldError[] = [...('errors' in location ? location.errors : []), ...keySourceErrors('', input)];
    input.headers.forEach((header, h) => {
      if ('value' in header || 'secretValue' in header) return;
      // Nothing is stored for an unsaved entry, so there is no secret value to keep.
      errors.push({
        path: fieldPath('', `headers[${h}].secret_value`),
        code: 'secret_value_required',
        message: 'is required: give value or secret_value',
      });
    });
    throwFieldErrors(errors);
    if (input.auth !== 'none' && input.apiKey === undefined && input.credentialId === undefined) {
      throw new EndpointsError(EndpointsErrorCode.ApiKeyRequired, 'An entry needs a key unless auth is none.', [
        { path: 'api_key', code: EndpointsErrorCode.ApiKeyRequired, message: 'is required: give api_key or credential_id' },
      ]);
    }
    return {
      endpoint: {
        baseUrl: (location as { baseUrl: string }).baseUrl,
        api: input.api,
        model: input.model,
        ...(input.azure === undefined ? {} : { azure: input.azure }),
        ...(input.extraBody === undefined ? {} : { extraBody: input.extraBody }),
        ...timeouts,
      },
      secrets: {
        auth: input.auth,
        key: input.apiKey !== undefined ? new InlineSecret(input.apiKey) : (input.credentialId ?? null),
        headers: input.headers.map((h) =>
          'value' in h ? h : { name: h.name, secret: new InlineSecret((h as { secretValue: string }).secretValue) },
        ),
      },
    };
  }

  /** Counts `entries` tests against the organization's allowance, or refuses them all. */
  private async admit(orgId: OrgId, entries: number): Promise<void> {
    try {
      await this.limiter.consume(orgId, Math.min(Math.max(entries, 1), this.limits.entriesPerWindow));
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      const seconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      throw new ConnectionTestError(
        ConnectionTestErrorCode.RateLimited,
        `At most ${this.limits.entriesPerWindow} entries may be tested every ${this.limits.windowSeconds} s: try again in ${seconds} s.`,
        seconds,
      );
    }
  }

  private async run(
    orgId: OrgId,
    entry: EntryUnderTest,
    agent: UpstreamAgent,
    logContext: Record<string, unknown>,
  ): Promise<ConnectionReport> {
    const report = new StepRecorder(this.clock, entry.endpoint.model);
    const { endpoint } = entry;
    const verdict = this.policy.parse(endpoint.baseUrl);
    if (!verdict.ok) return this.logged(report.fail('policy', verdict.code, `The base_url ${verdict.message}.`), logContext);

    const firstTokenMs = endpoint.timeouts?.first_token_ms ?? this.limits.firstTokenMs;
    const connectMs = endpoint.timeouts?.connect_ms ?? DEFAULT_RUNTIME_LIMITS.connectMs;
    // The whole test: connecting, then the first token.
    const deadline = AbortSignal.timeout(connectMs + firstTokenMs);
    const { url, query, headers, body } = upstreamRequest(agent, endpoint, TEST_REQUEST, null);
    let response: EgressResponse;
    try {
      response = await withCallHeaders(this.credentials, orgId, entry.secrets, url, headers, (all) => {
        report.pass('policy');
        return this.egress.probe(
          url,
          {
            method: 'POST',
            ...(query === undefined ? {} : { query }),
            headers: { ...all, 'content-type': 'application/json', accept: 'text/event-stream' },
            body,
            signal: deadline,
            connectTimeoutMs: connectMs,
            headersTimeoutMs: firstTokenMs,
            bodyTimeoutMs: firstTokenMs,
          },
          {
            resolved: () => report.pass('dns'),
            connected: () => report.pass('connect'),
            secured: () => report.pass('tls'),
          },
        );
      });
    } catch (error) {
      return this.logged(report.failNext(...connectFailure(error, deadline.aborted, report.passed('tls'))), logContext);
    }
    return this.logged(await this.readAnswer(report, response, streamReader(endpoint.api), deadline), logContext);
  }

  /** The request's status, then the stream up to its first token. The body is never kept or shown. */
  private async readAnswer(
    report: StepRecorder,
    response: EgressResponse,
    reader: StreamReader,
    deadline: AbortSignal,
  ): Promise<ConnectionReport> {
    const stream = response.body;
    try {
      if (response.status < 200 || response.status >= 300) {
        const [code, message] = statusFailure(response.status);
        return report.fail('request', code, message, response.status);
      }
      report.pass('request', response.status);
      const type = String(response.headers['content-type'] ?? '');
      if (!type.toLowerCase().startsWith('text/event-stream')) {
        return report.fail('stream', RuntimeErrorCode.Malformed, 'The upstream did not answer with an event stream (text/event-stream).');
      }
      const decoder = new SseDecoder(DEFAULT_RUNTIME_LIMITS.maxLineBytes);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          for (const event of decoder.feed(chunk)) {
            const outputs = reader.read(event);
            report.pass('stream');
            if (outputs.some((o) => o.kind !== 'progress')) return report.passFirstToken(reader.model);
          }
        }
        for (const event of decoder.end())
          if (reader.read(event).some((o) => o.kind !== 'progress')) return report.passFirstToken(reader.model);
        reader.end();
        return report.failNext(RuntimeErrorCode.Malformed, 'The upstream stream ended before its first token.');
      } catch (error) {
        const failure = error instanceof RuntimeError ? error : toRuntimeError(error);
        // Before the first token, any silence is waiting for it.
        if (deadline.aborted || failure.code === RuntimeErrorCode.IdleTimeout) {
          return report.failNext(RuntimeErrorCode.FirstTokenTimeout, 'No token arrived from the upstream in time.');
        }
        return report.failNext(failure.code, failure.message);
      }
    } finally {
      release(stream);
    }
  }

  private logged(report: ConnectionReport, context: Record<string, unknown>): ConnectionReport {
    this.logger.info(
      {
        ...context,
        ok: report.ok,
        code: report.code,
        steps: report.steps.map((s) => `${s.name}:${s.ok ? 'ok' : s.code}`),
        duration_ms: report.durationMs,
      },
      'llm connection tested',
    );
    return report;
  }
}

/** The steps of one test as they pass, timed from the end of the one before. */
class StepRecorder {
  private readonly steps: TestStep[] = [];
  private readonly started: number;
  private last: number;
  private reportedModel: string | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly model: string,
  ) {
    this.started = this.last = clock.monotonicMs();
  }

  /** Passes `name`, and any step before it not passed yet (a pooled step reports once). */
  pass(name: TestStepName, httpStatus?: number): void {
    const target = TEST_STEPS.indexOf(name);
    if (target < this.steps.length) return;
    const now = this.clock.monotonicMs();
    while (this.steps.length <= target) {
      const step = TEST_STEPS[this.steps.length]!;
      this.steps.push({
        name: step,
        ok: true,
        durationMs: Math.round(now - this.last),
        ...(step === name && httpStatus !== undefined ? { httpStatus } : {}),
      });
      this.last = now;
    }
  }

  passed(name: TestStepName): boolean {
    return TEST_STEPS.indexOf(name) < this.steps.length;
  }

  passFirstToken(model: string | undefined): ConnectionReport {
    this.pass('first_token');
    this.reportedModel = model ?? null;
    return this.finish(null, null);
  }

  /** The step after the last that passed failed. */
  failNext(code: TestStepCode, message: string): ConnectionReport {
    return this.fail(TEST_STEPS[this.steps.length] ?? 'first_token', code, message);
  }

  fail(name: TestStepName, code: TestStepCode, message: string, httpStatus?: number): ConnectionReport {
    const before = TEST_STEPS.indexOf(name);
    if (before > this.steps.length) this.pass(TEST_STEPS[before - 1]!);
    const now = this.clock.monotonicMs();
    this.steps.push({
      name,
      ok: false,
      durationMs: Math.round(now - this.last),
      code,
      ...(httpStatus === undefined ? {} : { httpStatus }),
    });
    this.last = now;
    return this.finish(code, message);
  }

  private finish(code: TestStepCode | null, message: string | null): ConnectionReport {
    return {
      ok: code === null,
      code,
      message,
      model: this.model,
      reportedModel: this.reportedModel,
      steps: [...this.steps],
      durationMs: Math.round(this.clock.monotonicMs() - this.started),
    };
  }
}

/** A provider's header as a test sends it: a secret one by credential id. */
function storedHeader(header: LlmHeader): { name: string; value: string } | { name: string; secret: string } {
  return 'value' in header ? header : { name: header.name, secret: header.credentialId };
}

/** Why the call failed before any answer: a private address found by DNS keeps its own word. */
function connectFailure(error: unknown, timedOut: boolean, secured: boolean): [TestStepCode, string] {
  if (error instanceof EgressError && error.code === EgressErrorCode.PrivateHost) {
    return ['private_host', 'The base_url resolves to a non-public address.'];
  }
  if (timedOut && secured) return [RuntimeErrorCode.FirstTokenTimeout, 'The upstream did not answer in time.'];
  if (timedOut) return [RuntimeErrorCode.ConnectTimeout, 'The connection to the upstream did not complete in time.'];
  const failure = toRuntimeError(error);
  return [failure.code, failure.message];
}

function statusFailure(status: number): [TestStepCode, string] {
  if (status === 401 || status === 403) {
    return [
      TestOutcomeCode.AuthRejected,
      `The upstream refused the credentials (${status}): check the key, its auth scheme and its permissions.`,
    ];
  }
  if (status === 404) {
    return [TestOutcomeCode.ModelOrPathNotFound, 'The upstream answered 404: check the model (or deployment) and the base_url path.'];
  }
  return [RuntimeErrorCode.Status, `The upstream answered ${status}.`];
}
