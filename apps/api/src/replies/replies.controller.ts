import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type AuthContext, CurrentAuth } from '@agentplane/auth';
import { DomainError, ErrorCode } from '@agentplane/errors';
import { type ReplyEvent, type ReplyRequest, ReplyService } from '@agentplane/runtime';
import { ApiProblemResponse } from '../problem/api-problem-response.decorator.js';
import { ReplyRequestDto } from './reply-request.dto.js';
import { completion, ReplyResponseDto, toServerSentEvent } from './reply-response.dto.js';

/** A comment line keeps proxies and clients from timing out while the upstream thinks. */
const HEARTBEAT_MS = 15_000;

@ApiTags('replies')
@ApiBearerAuth()
@ApiProblemResponse(401, 'Missing, unknown or revoked API key')
@Controller('v1/agents/:id/replies')
export class RepliesController {
  constructor(private readonly replies: ReplyService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'createReply',
    summary: 'Stream the next reply of an agent through its configured LLM',
    description:
      'With `stream` (default), a `text/event-stream` of `reply.delta {text}`, `reply.tool_call {id, name, arguments}`, ' +
      'then `reply.completed {finish_reason, entry_index, model, ttft_ms, duration_ms, usage?}` or `error {code, message}`, ' +
      'with comment heartbeats while waiting. With `stream: false`, one JSON object.',
  })
  @ApiProduces('text/event-stream', 'application/json')
  @ApiOkResponse({ type: ReplyResponseDto, description: 'The reply (stream: false), or the event stream' })
  @ApiProblemResponse(400, 'Malformed JSON')
  @ApiProblemResponse(404, 'No such agent in this organization')
  @ApiProblemResponse(413, 'Body over 256 KB')
  @ApiProblemResponse(415, 'Body is not application/json')
  @ApiProblemResponse(422, 'Invalid body')
  @ApiProblemResponse(502, 'stream: false, and every llm entry failed (upstream_failed)')
  async create(
    @CurrentAuth() auth: AuthContext,
    @Param('id') id: string,
    @Body() body: ReplyRequestDto,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<ReplyResponseDto | void> {
    const agent = await this.replies.agentFor(auth.orgId, id);
    const input = toReplyRequest(body);
    const abort = new AbortController();
    const res = reply.raw;
    // The caller hung up (the response did not end on its own): stop the upstream now.
    res.once('close', () => {
      if (!res.writableEnded) abort.abort();
    });
    if (body.stream === false) return collect(this.replies.reply(agent, input, abort.signal));

    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    try {
      for await (const event of this.replies.reply(agent, input, abort.signal)) {
        const { name, data } = toServerSentEvent(event);
        if (!(await write(res, `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`))) break;
      }
    } catch (error) {
      request.log.error({ err: error }, 'reply stream failed');
      await write(res, `event: error\ndata: ${JSON.stringify({ code: 'internal_error', message: 'The reply failed.' })}\n\n`);
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  }
}

/** Writes with backpressure; false once the caller is gone. */
async function write(res: ServerResponse, chunk: string): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return false;
  if (res.write(chunk)) return true;
  await Promise.race([once(res, 'drain'), once(res, 'close')]);
  return !res.destroyed;
}

async function collect(events: AsyncIterable<ReplyEvent>): Promise<ReplyResponseDto> {
  let text = '';
  const toolCalls: ReplyResponseDto['tool_calls'] = [];
  for await (const event of events) {
    if (event.type === 'delta') text += event.text;
    else if (event.type === 'tool_call') toolCalls.push({ ...event.call });
    else if (event.type === 'error') throw new DomainError(ErrorCode.UpstreamFailed, `The reply failed: ${event.code} (${event.message})`);
    else return { text, tool_calls: toolCalls, ...completion(event) };
  }
  throw new DomainError(ErrorCode.UpstreamFailed, 'The reply ended without an answer.');
}

function toReplyRequest(body: ReplyRequestDto): ReplyRequest {
  return {
    metadata: body.metadata ?? {},
    messages: body.messages.map((m) => ({
      role: m.role,
      content: m.content ?? null,
      ...(m.tool_call_id === undefined ? {} : { toolCallId: m.tool_call_id }),
      ...(m.tool_calls === undefined ? {} : { toolCalls: m.tool_calls.map((c) => ({ id: c.id, name: c.name, arguments: c.arguments })) }),
    })),
  };
}
