export { AgentsModule } from './agents.module.js';
export { AgentsService, type AgentInput, type IdempotentRequest, type LlmEntryInput } from './agents.service.js';
export { agentEtag, LLM_APIS, type Agent, type AgentPage, type LlmApi, type LlmEntry } from './agent.js';
