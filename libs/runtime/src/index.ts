export { SseDecoder } from './sse-decoder.js';
export { ChatCompletionsReader } from './chat-completions.reader.js';
export { ResponsesReader } from './responses.reader.js';
export { ToolCallAccumulator, type ToolCall, type ToolCallDelta } from './tool-call-accumulator.js';
export { UpstreamError, UpstreamFailure } from './runtime.error.js';
export type { UpstreamOutput, Usage } from './upstream-output.js';
export { RuntimeModule } from './runtime.module.js';
export { ReplyService } from './reply.service.js';
export {
  DEFAULT_RUNTIME_LIMITS,
  MESSAGE_ROLES,
  RUNTIME_LIMITS,
  type ConversationMessage,
  type MessageRole,
  type ReplyEvent,
  type ReplyRequest,
  type RuntimeLimits,
} from './reply.js';
