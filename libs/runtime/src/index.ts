export { SseDecoder } from './sse-decoder.js';
export { ChatCompletionsReader } from './chat-completions.reader.js';
export { ResponsesReader } from './responses.reader.js';
export { ToolCallAccumulator, type ToolCall, type ToolCallDelta } from './tool-call-accumulator.js';
export { UpstreamError, UpstreamFailure } from './runtime.error.js';
export type { UpstreamOutput, Usage } from './upstream-output.js';
