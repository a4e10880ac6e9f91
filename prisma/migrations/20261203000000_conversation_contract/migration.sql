-- AlterTable
ALTER TABLE "agents" ADD COLUMN "tools" JSON NOT NULL DEFAULT '[]',
ADD COLUMN "system_tools" JSON NOT NULL DEFAULT '{}',
ADD COLUMN "forward_metadata" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "variables" JSON NOT NULL DEFAULT '{}';

-- AlterTable
ALTER TABLE "agent_llm_entries" ADD COLUMN "auth" TEXT NOT NULL DEFAULT 'bearer',
ADD COLUMN "extra_body" TEXT,
ADD COLUMN "headers" JSON NOT NULL DEFAULT '[]',
ALTER COLUMN "credential_id" DROP NOT NULL;

ALTER TABLE "agent_llm_entries" ADD CONSTRAINT "agent_llm_entries_auth_check"
  CHECK (auth IN ('bearer', 'api_key_header', 'x_api_key', 'none'));

-- An entry without a key is one that sends none.
ALTER TABLE "agent_llm_entries" ADD CONSTRAINT "agent_llm_entries_key_check"
  CHECK ((auth = 'none') = (credential_id IS NULL));
