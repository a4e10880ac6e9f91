-- AlterTable
ALTER TABLE "agent_llm_entries" ADD COLUMN "azure" JSON;

ALTER TABLE "agent_llm_entries" DROP CONSTRAINT "agent_llm_entries_auth_check";
ALTER TABLE "agent_llm_entries" ADD CONSTRAINT "agent_llm_entries_auth_check"
  CHECK (auth IN ('bearer', 'api_key_header', 'x_api_key', 'x_goog_api_key', 'none'));

ALTER TABLE "agent_llm_entries" ADD CONSTRAINT "agent_llm_entries_api_check"
  CHECK (api IN ('chat_completions', 'responses', 'anthropic', 'google', 'azure'));

-- Azure settings belong to Azure entries only.
ALTER TABLE "agent_llm_entries" ADD CONSTRAINT "agent_llm_entries_azure_check"
  CHECK (azure IS NULL OR api = 'azure');
