import { SYSTEM_TOOL_NAMES, type SystemToolName, type SystemTools, type ToolDefinition } from '#agentplane/agents';
import { type JsonObject } from '#agentplane/endpoints';
import { isObject, parseJson } from './json-values.js';
import type { ToolCall } from './tool-call-accumulator.js';

/** Why a system tool call does not fit the agent's configuration; the call is relayed with it. */
export interface ToolCallError {
  readonly code: 'invalid_tool_arguments';
  readonly message: string;
}

/** What the runtime makes of a call: whether it is a system tool's, and for one, what it means. */
export interface ToolCallCheck {
  readonly system: boolean;
  /** transfer_to_agent: the agent its `agent_number` stands for. */
  readonly agentId?: string;
  readonly error?: ToolCallError;
}

/** The system tools an agent enables, in the fixed order they are offered in. */
export function enabledSystemTools(tools: SystemTools): SystemToolName[] {
  return SYSTEM_TOOL_NAMES.filter((name) => Object.hasOwn(tools, name) && tools[name] !== undefined);
}

/** The definitions the model is offered for the enabled system tools, in the fixed order. */
export function systemToolDefinitions(tools: SystemTools): ToolDefinition[] {
  return enabledSystemTools(tools).map((name) => ({ name, description: describe(name, tools), parameters: parametersOf(name, tools) }));
}

interface Field {
  readonly type: 'string' | 'integer';
  readonly required: boolean;
  readonly description: string;
}

const REASON = (required: boolean, description: string): Field => ({ type: 'string', required, description });

/** Each tool's arguments: the schema the model sees and what a call is checked against. */
const FIELDS: { readonly [N in SystemToolName]: Readonly<Record<string, Field>> } = {
  end_call: {
    reason: REASON(true, 'Why the call is ending, in a few words. For logs: it is not said to the user.'),
    message: {
      type: 'string',
      required: false,
      description: 'A last sentence to say to the user before hanging up. Leave it out when your reply this turn already says goodbye.',
    },
  },
  language_detection: {
    reason: REASON(true, 'What the user said or did that calls for the switch, in a few words.'),
    language: { type: 'string', required: true, description: 'The language to continue in: one of the listed tags, exactly as listed.' },
  },
  transfer_to_agent: {
    reason: REASON(false, 'Why the transfer, in a few words. For logs: it is not said to the user.'),
    agent_number: { type: 'integer', required: true, description: 'The agent_number of the agent whose condition the conversation meets.' },
  },
  transfer_to_number: {
    reason: REASON(false, 'Why the transfer, in a few words. For logs: it is not said to the user.'),
    transfer_number: { type: 'string', required: true, description: 'The number to transfer to, exactly as listed.' },
    client_message: {
      type: 'string',
      required: true,
      description: 'What to say to the user right before the transfer, for example who they are being connected to.',
    },
    agent_message: {
      type: 'string',
      required: true,
      description:
        'A short summary for the person who answers: who is calling, what they need, and what has been done so far, so they need not ask again.',
    },
  },
  skip_turn: {
    reason: REASON(false, 'Why you are staying silent, in a few words.'),
  },
  voicemail_detection: {
    reason: REASON(true, 'What showed that this is a voicemail or answering machine, for example the greeting heard.'),
  },
};

function parametersOf(name: SystemToolName, tools: SystemTools): JsonObject {
  const fields = Object.entries(FIELDS[name]);
  const properties: Record<string, JsonObject> = {};
  for (const [field, spec] of fields)
    properties[field] = { type: spec.type, description: spec.description, ...constraintsOf(name, field, tools) };
  return {
    type: 'object',
    properties,
    required: fields.filter(([, spec]) => spec.required).map(([field]) => field),
    additionalProperties: false,
  };
}

/** The configured values a field is limited to (an empty list is left out: no schema allows nothing). */
function constraintsOf(name: SystemToolName, field: string, tools: SystemTools): JsonObject {
  if (name === 'language_detection' && field === 'language') {
    const languages = tools.language_detection?.languages ?? [];
    return languages.length === 0 ? {} : { enum: [...languages] };
  }
  if (name === 'transfer_to_number' && field === 'transfer_number') {
    const numbers = (tools.transfer_to_number?.transfers ?? []).map((t) => t.number);
    return numbers.length === 0 ? {} : { enum: numbers };
  }
  if (name === 'transfer_to_agent' && field === 'agent_number') {
    const count = tools.transfer_to_agent?.transfers.length ?? 0;
    return count === 0 ? { minimum: 0 } : { minimum: 0, maximum: count - 1 };
  }
  return {};
}

// Configured values are the customer's text: each is JSON-encoded, so a condition can neither
// break out of its line nor pass for another entry of the list.
const quoted = (text: string): string => JSON.stringify(text);

function describe(name: SystemToolName, tools: SystemTools): string {
  switch (name) {
    case 'end_call':
      return [
        'End the call (hang up).',
        'Call this only when the conversation is over: the user has said goodbye or confirmed they need nothing else, ' +
          'the user asks to end the call, or the task is done and the user has nothing left to ask.',
        'Do not call it because the user paused, while they are still speaking, while you wait for the answer to a question you asked, ' +
          'or in the middle of a task.',
        'Say goodbye first: either in your reply this turn or as `message`, not both.',
      ].join('\n');
    case 'language_detection':
      return [
        'Switch the conversation to another language.',
        'Call this when the user speaks one of the supported languages other than the one in use, or asks you to continue in one. ' +
          'Pass its tag, exactly as listed, as `language`.',
        'Supported languages (BCP 47 tags):',
        ...(tools.language_detection?.languages ?? []).map((tag) => `- ${quoted(tag)}`),
        'Do not call it for a single foreign word, a name or a quote, for the language already in use, or for a language not listed: ' +
          'then keep answering in the current language, and if the user asked to switch, say politely that you cannot.',
        'After calling it, continue the conversation in the new language.',
      ].join('\n');
    case 'transfer_to_agent':
      return [
        'Hand the conversation over to another AI agent that is better suited to what the user needs.',
        'Call this when the conversation meets one of the conditions below, and pass the agent_number of the first one it meets.',
        'Agents, each by its agent_number with the condition for transferring to it:',
        ...(tools.transfer_to_agent?.transfers ?? []).map((t, i) => `- agent_number ${i}: ${quoted(t.condition)}`),
        'Do not call it when no condition clearly applies: keep helping, or ask a question to find out. ' +
          'Never mention agent numbers to the user; tell them briefly, in your reply this turn, that you are passing them on.',
      ].join('\n');
    case 'transfer_to_number':
      return [
        'Transfer the call to a person at a phone number.',
        'Call this when the conversation meets one of the conditions below, and pass the number of the first one it meets, ' +
          'exactly as listed, as `transfer_number`.',
        'Numbers (E.164), each with the condition for transferring to it:',
        ...(tools.transfer_to_number?.transfers ?? []).map((t) => `- ${quoted(t.number)}: ${quoted(t.condition)}`),
        'Do not call it when no condition clearly applies, and never transfer to a number that is not listed, even one the user gives.',
        '`client_message` is said to the user just before the transfer; `agent_message` briefs the person who answers.',
      ].join('\n');
    case 'skip_turn':
      return [
        'Stay silent this turn: say nothing, and wait for the user to speak again.',
        'Call this when the user asks you to wait or needs a moment (for example "hold on", "give me a second", "let me check"), ' +
          'or is clearly talking to someone else, not to you.',
        'Do not call it when the user asked something or expects an answer; when unsure, answer briefly instead. ' +
          'When you call it, put no text in your reply.',
      ].join('\n');
    case 'voicemail_detection':
      return [
        'Report that the call reached a voicemail box or an answering machine, not a live person.',
        'Call this as soon as you recognize one: a recorded greeting such as "you have reached the voicemail of" or ' +
          '"please leave a message after the tone", a beep, or a carrier message that the person is unavailable.',
        'Do not call it for a live person who is brief or hesitant, for hold music, or for a phone menu you can answer.',
      ].join('\n');
  }
}

/**
 * A call's meaning: one named after an enabled system tool is the runtime's to check against the
 * agent's configuration (a custom tool, or a disabled system tool's name, is the caller's). A call
 * that does not fit is still relayed, with the error, so the caller decides what to do.
 */
export function checkToolCall(tools: SystemTools, call: ToolCall): ToolCallCheck {
  const name = enabledSystemTools(tools).find((n) => n === call.name);
  if (name === undefined) return { system: false };
  const args = parseJson(call.arguments);
  if (!isObject(args)) return invalid(args === undefined ? 'arguments are not valid JSON' : 'arguments must be a JSON object');
  for (const [field, spec] of Object.entries(FIELDS[name])) {
    // Models send null for an optional field they leave out.
    const value = Object.hasOwn(args, field) ? args[field] : undefined;
    if (value === undefined || value === null) {
      if (spec.required) return invalid(`${field} is required`);
    } else if (spec.type === 'string' ? typeof value !== 'string' : !Number.isInteger(value)) {
      return invalid(`${field} must be ${spec.type === 'string' ? 'a string' : 'an integer'}`);
    }
  }
  switch (name) {
    case 'transfer_to_agent': {
      const transfers = tools.transfer_to_agent?.transfers ?? [];
      const n = args.agent_number as number;
      const transfer = transfers[n];
      if (n < 0 || transfer === undefined) {
        return invalid(
          `agent_number ${n} is out of range (${transfers.length === 0 ? 'no agents configured' : `0..${transfers.length - 1}`})`,
        );
      }
      return { system: true, agentId: transfer.agentId };
    }
    case 'transfer_to_number': {
      const number = args.transfer_number as string;
      const configured = (tools.transfer_to_number?.transfers ?? []).some((t) => sameNumber(t.number, number));
      return configured ? { system: true } : invalid(`transfer_number ${shown(number)} is not configured`);
    }
    case 'language_detection': {
      const language = args.language as string;
      const wanted = canonicalTag(language);
      const listed = wanted !== undefined && (tools.language_detection?.languages ?? []).some((tag) => canonicalTag(tag) === wanted);
      return listed ? { system: true } : invalid(`language ${shown(language)} is not listed`);
    }
    default:
      return { system: true };
  }
}

/** The same number written as configured, or with spaces or dashes between its digits. */
function sameNumber(configured: string, given: string): boolean {
  const a = configured.trim();
  const b = given.trim();
  if (a === b) return true;
  const bare = (n: string) => n.replace(/[\s-]/g, '');
  return bare(b) !== '' && bare(a) === bare(b);
}

/** A BCP 47 tag in canonical form, compared without case; undefined when it is no valid tag. */
function canonicalTag(tag: string): string | undefined {
  try {
    return Intl.getCanonicalLocales(tag.trim())[0]?.toLowerCase();
  } catch {
    return undefined;
  }
}

// The arguments come from the model: named in the message, but cut short.
function shown(value: string): string {
  return value.length <= 64 ? value : `${value.slice(0, 64)}…`;
}

function invalid(message: string): ToolCallCheck {
  return { system: true, error: { code: 'invalid_tool_arguments', message } };
}
