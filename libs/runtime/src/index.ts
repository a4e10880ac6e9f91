export { RuntimeModule } from './runtime.module.js';
export { ReplyService } from './reply.service.js';
export {
  MESSAGE_ROLES,
  type ConversationMessage,
  type MessageRole,
  type ReplyEvent,
  type ReplyRequest,
  type ReplyStream,
  type ReplyToolCall,
  type WholeReply,
} from './reply.js';
export { VARIABLE_NAME } from './instructions.js';
export type { ToolCallCheck, ToolCallError } from './system-tools.js';
export type { ToolCall } from './tool-call-accumulator.js';
export type { Usage } from './upstream-output.js';
export { RuntimeError, RuntimeErrorCode } from './runtime.error.js';
export { ReplyObserver, IgnoreReplies, type AttemptSummary, type ReplyOutcome, type ReplySummary } from './reply-observer.js';
export type { ReplyContext } from './reply.service.js';
export { ConnectionTestService, CONNECTION_TEST_LIMITS, type ConnectionTestLimits } from './connection-test.service.js';
export {
  ConnectionTestError,
  ConnectionTestErrorCode,
  TEST_STEPS,
  TestOutcomeCode,
  type ConnectionReport,
  type TestStep,
  type TestStepCode,
  type TestStepName,
} from './connection-test.js';
