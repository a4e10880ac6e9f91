/**
 * The generated client (clients/typescript) as the e2e tests use it: one client per API key, the
 * checks every test makes on a result, and the streamed reply read as typed events through the
 * client's SSE support.
 */
import {
  type CreateReplyErrors,
  createReply,
  type Reply,
  type ReplyCompleted,
  type ReplyDelta,
  type ReplyError,
  type ReplyRequest,
  type ReplyToolCall,
} from '../../clients/typescript/index.js';
import { type Client, createClient, createConfig } from '../../clients/typescript/client/index.js';
import { type FieldError, PROBLEM_TYPE, type Problem } from './http.js';

/** A client of the API at `url` that sends `key` as its bearer token (none when undefined). */
export function apiClient(url: string, key?: string): Client {
  return createClient(createConfig({ baseUrl: url, ...(key === undefined ? {} : { auth: key }) }));
}

/** What every generated function answers (the default `fields` response style); no response when the request failed. */
export interface ClientResult<T = unknown> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response?: Response;
}

/**
 * A body the types would refuse, for tests of what the API does with it: the client still sends
 * it as JSON, like any caller whose code is not typed.
 */
export const untyped = <T>(value: unknown): T => value as T;

/** Asserts the status (showing the problem body when it differs) and returns the typed body. */
export function expectStatus<T>(result: ClientResult<T>, status: number): T {
  expect({ status: result.response?.status, error: result.error }).toEqual({ status, error: undefined });
  return result.data as T;
}

/** A problem+json answer from the client, checked like `expectProblem` checks a raw response. */
export function expectClientProblem(result: ClientResult, status: number, code: string): Problem {
  expect({ status: result.response?.status, error: result.error }).toEqual({ status, error: expect.any(Object) });
  const response = result.response!;
  expect(response.headers.get('content-type')).toBe(PROBLEM_TYPE);
  const body = result.error as Problem;
  expect(body).toMatchObject({ status, code, type: `https://agentplane.dev/problems/${code}` });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(body.request_id).toBe(response.headers.get('x-request-id'));
  return body;
}

/** A 422 validation problem from the client; returns its field errors. */
export function expectClientInvalid(result: ClientResult): FieldError[] {
  const body = expectClientProblem(result, 422, 'validation_failed');
  expect(Array.isArray(body.errors)).toBe(true);
  for (const e of body.errors!) expect(e).toEqual({ path: expect.any(String), code: expect.any(String), message: expect.any(String) });
  return body.errors!;
}

/** One event of a streamed reply: its `event:` name and the typed payload of its `data:` line. */
export type ReplyStreamEvent =
  | { readonly event: 'reply.delta'; readonly data: ReplyDelta }
  | { readonly event: 'reply.tool_call'; readonly data: ReplyToolCall }
  | { readonly event: 'reply.completed'; readonly data: ReplyCompleted }
  | { readonly event: 'error'; readonly data: ReplyError };

const EVENT_NAMES: readonly string[] = ['reply.delta', 'reply.tool_call', 'reply.completed', 'error'];

export interface StreamedReply {
  readonly status: number;
  readonly headers: Headers;
  readonly events: ReplyStreamEvent[];
}

/**
 * Asks for a streamed reply through the generated `createReply` and reads every event. The SSE
 * client yields each event's parsed data and reports its name to `onSseEvent` just before, so
 * the two are paired here. One attempt only: the client retries a failed stream by default, and
 * a failure is what some tests are about.
 */
export async function streamReply(client: Client, agentId: string, body: ReplyRequest, signal?: AbortSignal): Promise<StreamedReply> {
  let response: Response | undefined;
  const names: (string | undefined)[] = [];
  const { stream } = await createReply({
    client,
    path: { id: agentId },
    body,
    sseMaxRetryAttempts: 1,
    fetch: async (request) => (response = await fetch(request)),
    // Heartbeat comments reach this hook too, with no data: they are not events.
    onSseEvent: (event) => {
      if (event.data !== undefined) names.push(event.event);
    },
    ...(signal === undefined ? {} : { signal }),
  });
  const events: ReplyStreamEvent[] = [];
  for await (const data of stream) {
    const event = names[events.length];
    expect(EVENT_NAMES).toContain(event);
    events.push({ event, data } as ReplyStreamEvent);
  }
  if (response === undefined) throw new Error('createReply sent no request');
  return { status: response.status, headers: response.headers, events };
}

/**
 * The same operation read as one JSON answer: `stream: false`, or an error the API answers
 * before any stream starts. (The generated createReply is the streaming view of the operation.)
 */
export function postReply(client: Client, agentId: string, body: ReplyRequest): Promise<ClientResult<Reply>> {
  return client.post<{ 200: Reply }, CreateReplyErrors>({
    security: [{ scheme: 'bearer', type: 'http' }],
    url: '/v1/agents/{id}/replies',
    path: { id: agentId },
    body,
    headers: { 'Content-Type': 'application/json' },
  });
}
