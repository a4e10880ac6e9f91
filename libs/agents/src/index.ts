export { AgentsModule } from './agents.module.js';
export {
  AgentsService,
  type AgentInput,
  type CreateResult,
  type HeaderInput,
  type IdempotentCreate,
  type LlmEntryInput,
} from './agents.service.js';
export { AgentsError, AgentsErrorCode } from './agents.error.js';
export {
  agentEtag,
  SYSTEM_TOOL_NAMES,
  type Agent,
  type AgentTransfer,
  type EtagCondition,
  type LlmEntry,
  type NumberTransfer,
  type RunnableAgent,
  type RunnableHeader,
  type RunnableLlmEntry,
  type SystemToolName,
  type SystemTools,
  type ToolDefinition,
} from './agent.js';
export { systemToolsFromWire, systemToolsToWire, type SystemToolsWire } from './system-tools-wire.js';
