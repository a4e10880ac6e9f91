-- AlterTable
ALTER TABLE "agent_llm_entries" ADD COLUMN "timeouts" JSONB;
