export { AgentsModule } from './agents.module.js';
export {
  AgentsService,
  isInline,
  type AgentInput,
  type CreateResult,
  type IdempotentCreate,
  type InlineEntryInput,
  type LlmEntryInput,
  type ProviderEntryInput,
} from './agents.service.js';
export {
  agentEtag,
  SYSTEM_TOOL_NAMES,
  usesProvider,
  type Agent,
  type AgentTransfer,
  type InlineLlmEntry,
  type LlmEntry,
  type NumberTransfer,
  type ProviderLlmEntry,
  type RunnableAgent,
  type RunnableHeader,
  type RunnableLlmEntry,
  type SystemToolName,
  type SystemTools,
  type ToolDefinition,
} from './agent.js';
export { systemToolsFromWire, systemToolsToWire, type SystemToolsWire } from './system-tools-wire.js';
