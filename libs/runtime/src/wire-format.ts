import type { EventSourceMessage } from 'eventsource-parser';
import type { Agent, InlineLlmEntry, ToolDefinition } from '#agentplane/agents';
import type { ReplyRequest } from './reply.js';
import type { UpstreamOutput } from './upstream-output.js';

/** What of an agent shapes the upstream body (instructions come rendered, see renderInstructions). */
export type UpstreamAgent = Pick<Agent, 'temperature' | 'maxTokens' | 'tools' | 'systemTools' | 'forwardMetadata'>;

/** What of an llm entry shapes the upstream URL and body. */
export type UpstreamEntry = Pick<InlineLlmEntry, 'baseUrl' | 'model' | 'api' | 'extraBody' | 'azure'>;

/** Everything one attempt's request is built from, whatever the wire format. */
export interface UpstreamInput {
  readonly agent: UpstreamAgent;
  readonly entry: UpstreamEntry;
  readonly request: ReplyRequest;
  /** The agent's instructions with their placeholders filled, or null for none. */
  readonly instructions: string | null;
  /** The agent's own tools, then the enabled system tools' definitions. */
  readonly tools: readonly ToolDefinition[];
}

/**
 * One attempt's request, holding no secret: the URL, the query parameters (always ours, never a
 * user's: the egress client encodes them after checking the URL), the headers the wire format
 * needs besides the key and the entry's own, and the JSON body.
 */
export interface UpstreamCall {
  readonly url: string;
  readonly query?: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * Turns one wire format's server-sent events into what they mean. `read` takes each event in order;
 * `end` is called when the stream closed, and throws when the reply was not complete by then.
 */
export interface StreamReader {
  /** The model the upstream named so far (in its first event for most formats). */
  readonly model: string | undefined;
  read(event: EventSourceMessage): UpstreamOutput[];
  end(): UpstreamOutput[];
}
