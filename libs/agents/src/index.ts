export { AgentsModule } from './agents.module.js';
export { AgentsService, type AgentInput, type CreateResult, type IdempotentCreate, type LlmEntryInput } from './agents.service.js';
export { AgentsError, AgentsErrorCode } from './agents.error.js';
export {
  agentEtag,
  LLM_APIS,
  LLM_TIMEOUT_FIELDS,
  type Agent,
  type EtagCondition,
  type LlmApi,
  type LlmEntry,
  type LlmTimeouts,
  type RunnableAgent,
  type RunnableLlmEntry,
} from './agent.js';
