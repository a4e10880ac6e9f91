export { AgentsModule } from './agents.module.js';
export { AgentsService, type AgentInput, type IdempotentRequest, type LlmEntryInput } from './agents.service.js';
export { agentEtag, LLM_APIS, LLM_TIMEOUT_FIELDS, type Agent, type AgentPage, type LlmApi, type LlmEntry, type LlmTimeouts, type RunnableAgent, type RunnableLlmEntry } from './agent.js';
