import type { ServerResponse } from 'node:http';
import { Body, Controller, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AuthContext, CurrentAuth } from '#agentplane/auth';
import { APP_CONFIG, type AppConfig } from '#agentplane/config';
import { CommonErrorCode, DomainError } from '#agentplane/errors';
import { type ReplyRequest, ReplyService } from '#agentplane/runtime';
import {
  ApiAuthenticatedProblems,
  ApiJsonBodyProblems,
  ApiProblemResponse,
  invalid,
  notFound,
  PROBLEMS,
} from '../problem/api-problem-response.decorator.js';
import { ReplyRequestDto } from './reply-request.dto.js';
import { REPLY_EVENTS, ReplyResponseDto, toReplyResponse, toServerSentEvent } from './reply-response.dto.js';
import { variableErrors } from '../http/variables.js';
import { SseStream } from './sse-stream.js';

const MESSAGES_EXAMPLE = [{ role: 'user', content: 'Hi! What can you do for me?' }];

@ApiTags('replies')
@ApiBearerAuth()
@ApiAuthenticatedProblems()
@ApiExtraModels(ReplyResponseDto, ...Object.values(REPLY_EVENTS))
@Controller('v1/agents/:id/replies')
export class RepliesController {
  constructor(
    private readonly replies: ReplyService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createReply',
    summary: 'Stream the next reply of an agent through its configured LLM',
    description:
      'With `stream` (default), a `text/event-stream` of `reply.delta {text}`, `reply.tool_call {id, name, arguments, system, agent_id?, error?}`, ' +
      'then `reply.completed {finish_reason, entry_index, model, ttft_ms, duration_ms, usage?}` or `error {code, message}`, ' +
      'with comment heartbeats while waiting. With `stream: false`, one JSON object. ' +
      'Error codes: `upstream_dns_failed`, `upstream_connection_refused`, `upstream_connect_timeout`, `upstream_tls_untrusted` ' +
      '(a private CA: the operator sets NODE_EXTRA_CA_CERTS), `upstream_tls_hostname_mismatch`, `upstream_tls_failed`, ' +
      '`upstream_connect_failed`, `upstream_connection_lost`, `upstream_status` (with `upstream_status`), `upstream_timeout_first_token`, ' +
      '`upstream_idle_timeout`, `upstream_timeout_total`, `upstream_too_large`, `upstream_malformed`, `upstream_error`, ' +
      '`credential_unavailable`, `egress_refused`, `no_llm_configured`, `internal_error`.',
  })
  @ApiBody({
    type: ReplyRequestDto,
    examples: {
      streamed: { summary: 'Streamed (text/event-stream)', value: { messages: MESSAGES_EXAMPLE } },
      whole: { summary: 'One JSON answer (stream: false)', value: { messages: MESSAGES_EXAMPLE, stream: false } },
      personalized: {
        summary: 'With placeholder values and the end user',
        value: { messages: MESSAGES_EXAMPLE, variables: { customer_name: 'Ada' }, user_id: 'user_8f3a2c' },
      },
    },
  })
  @ApiOkResponse({
    description:
      'With `stream` (default): `text/event-stream`, each event an `event:` line (`reply.delta`, `reply.tool_call`, ' +
      "`reply.completed` or `error`) and a `data:` line holding that event's JSON payload (ReplyDelta, ReplyToolCall, " +
      'ReplyCompleted, ReplyError). With `stream: false`: the whole reply as application/json.',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(ReplyResponseDto) } },
      'text/event-stream': { schema: { oneOf: Object.values(REPLY_EVENTS).map((dto) => ({ $ref: getSchemaPath(dto) })) } },
    },
  })
  @ApiJsonBodyProblems()
  @ApiProblemResponse(404, 'No such agent in this organization', notFound('Agent'))
  @ApiProblemResponse(
    422,
    "Invalid body, or a `{{name}}` of the agent's instructions without a value (`missing_variable` at `variables.<name>`)",
    invalid('messages', 'array_min_size', 'must contain at least 1 elements'),
  )
  @ApiProblemResponse(409, 'stream: false, and the agent has no llm entries (no_llm_configured)', PROBLEMS.noLlmConfigured)
  @ApiProblemResponse(
    502,
    "stream: false, and every llm entry failed: the code says why, as the stream's error event would",
    PROBLEMS.upstreamStatus,
  )
  @ApiProblemResponse(
    504,
    'stream: false, and the last llm entry timed out (upstream_connect_timeout, upstream_timeout_first_token, upstream_idle_timeout, upstream_timeout_total)',
    PROBLEMS.upstreamTimeout,
  )
  // The response is written here (not passed through): Nest would otherwise send again after
  // the stream has been written to the socket.
  async create(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Body() body: ReplyRequestDto,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // Listening from the start: a caller who hangs up while the agent loads costs no upstream call.
    const abort = abortOnHangUp(reply.raw);
    const input = toReplyRequest(body);
    const agent = await this.replies.agentFor(auth.orgId, id);
    if (body.stream === false) {
      const whole = await this.replies.replyOnce(agent, input, abort.signal, { requestId: request.id });
      // Undefined: the caller hung up, and there is no one to answer.
      if (whole !== undefined) await reply.code(200).send(toReplyResponse(whole));
      return;
    }

    // Before the hijack: a placeholder without a value throws here, and is answered as a 422.
    const events = this.replies.reply(agent, input, abort.signal, { requestId: request.id, stream: true });
    reply.hijack();
    const sse = SseStream.open(reply.raw, { 'x-request-id': request.id }, this.config.replyHeartbeatMs);
    let outcome: StreamEnd | undefined;
    let delivered = false;
    try {
      for await (const event of events) {
        const { name, data } = toServerSentEvent(event);
        // A caller that stopped reading is waited for only until the reply's deadline.
        if (!(await sse.send(name, data, events.expired))) break;
        // What the caller received, not what was produced.
        if (event.type === 'completed' || event.type === 'error') outcome = event;
      }
    } catch (error) {
      request.log.error({ err: error }, 'reply stream failed');
      outcome = { type: 'error', code: CommonErrorCode.InternalError };
      // Nothing is left to wait for: buffered, and given the same grace as the end.
      await sse.send('error', { code: CommonErrorCode.InternalError, message: 'The reply failed.' }, AbortSignal.abort());
    } finally {
      // Ends the response, and cuts off a caller who does not take the rest of it soon.
      delivered = await sse.end();
    }
    // Fastify logs no completion for a hijacked reply: one line says how the stream ended.
    request.log.info(
      {
        req: request,
        res: { statusCode: 200 },
        responseTime: reply.elapsedTime,
        reply: streamOutcome(outcome, delivered),
      },
      'reply streamed',
    );
  }
}

/** The last event the caller was sent: how the reply ended, or the stream's own failure. */
type StreamEnd =
  { readonly type: 'completed'; readonly entryIndex: number; readonly ttftMs: number } | { readonly type: 'error'; readonly code: string };

/** How a streamed reply ended, for its log line. */
function streamOutcome(outcome: StreamEnd | undefined, delivered: boolean): Record<string, unknown> {
  if (outcome === undefined) return { outcome: 'caller_left' };
  // The response was cut off: the caller stopped reading and did not take the rest in time.
  if (!delivered) return { outcome: 'caller_stalled', ...(outcome.type === 'error' ? { code: outcome.code } : {}) };
  if (outcome.type === 'error') return { outcome: 'error', code: outcome.code };
  return { outcome: 'completed', entry_index: outcome.entryIndex, ttft_ms: outcome.ttftMs };
}

/** Aborts when the caller hangs up before the response ended on its own: the upstream stops now. */
function abortOnHangUp(res: ServerResponse): AbortController {
  const abort = new AbortController();
  if (res.destroyed) abort.abort();
  res.once('close', () => {
    if (!res.writableEnded) abort.abort();
  });
  return abort;
}

/** The runtime's request; throws the 422 for variables the pipe could only check as a whole. */
function toReplyRequest(body: ReplyRequestDto): ReplyRequest {
  const variables = body.variables ?? {};
  const invalidVariables = variableErrors(variables);
  if (invalidVariables.length > 0) throw DomainError.validation(invalidVariables);
  return {
    metadata: body.metadata ?? {},
    variables,
    ...(body.user_id === undefined ? {} : { userId: body.user_id }),
    messages: body.messages.map((m) => ({
      role: m.role,
      content: m.content ?? null,
      ...(m.tool_call_id === undefined ? {} : { toolCallId: m.tool_call_id }),
      ...(m.tool_calls === undefined ? {} : { toolCalls: m.tool_calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })) }),
    })),
  };
}
