-- CreateTable
CREATE TABLE "providers" (
    "id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "api" TEXT NOT NULL,
    "base_url" TEXT NOT NULL,
    "azure" JSON,
    "auth" TEXT NOT NULL,
    "credential_id" TEXT,
    "extra_body" TEXT,
    "headers" JSON NOT NULL DEFAULT '[]',
    "model_map" JSON NOT NULL DEFAULT '{}',
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "providers_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "providers_api_check" CHECK (api IN ('chat_completions', 'responses', 'anthropic', 'google', 'azure')),
    CONSTRAINT "providers_auth_check" CHECK (auth IN ('bearer', 'api_key_header', 'x_api_key', 'x_goog_api_key', 'none')),
    CONSTRAINT "providers_key_check" CHECK ((auth = 'none') = (credential_id IS NULL)),
    CONSTRAINT "providers_azure_check" CHECK (azure IS NULL OR api = 'azure')
);

-- CreateIndex
CREATE INDEX "providers_org_id_created_at_id_idx" ON "providers"("org_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "providers_credential_id_idx" ON "providers"("credential_id");

-- AddForeignKey
ALTER TABLE "providers" ADD CONSTRAINT "providers_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "providers" ADD CONSTRAINT "providers_credential_id_fkey" FOREIGN KEY ("credential_id") REFERENCES "credentials"("id") ON DELETE NO ACTION ON UPDATE CASCADE;

-- AlterTable
ALTER TABLE "credentials" ADD COLUMN "owner_provider_id" TEXT;

-- CreateIndex
CREATE INDEX "credentials_owner_provider_id_idx" ON "credentials"("owner_provider_id");

-- AddForeignKey
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_owner_provider_id_fkey" FOREIGN KEY ("owner_provider_id") REFERENCES "providers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- A key has at most one owner.
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_one_owner_check"
  CHECK (owner_agent_id IS NULL OR owner_provider_id IS NULL);

-- AlterTable: an entry either uses a provider or holds its own endpoint.
ALTER TABLE "agent_llm_entries" ADD COLUMN "provider_id" TEXT,
ALTER COLUMN "base_url" DROP NOT NULL,
ALTER COLUMN "api" DROP NOT NULL,
ALTER COLUMN "auth" DROP NOT NULL,
ALTER COLUMN "auth" DROP DEFAULT;

ALTER TABLE "agent_llm_entries" ADD CONSTRAINT "agent_llm_entries_endpoint_check" CHECK (
  (provider_id IS NULL AND base_url IS NOT NULL AND api IS NOT NULL AND auth IS NOT NULL)
  OR (provider_id IS NOT NULL AND base_url IS NULL AND api IS NULL AND auth IS NULL AND azure IS NULL
      AND credential_id IS NULL AND extra_body IS NULL AND headers::text = '[]')
);

-- CreateIndex
CREATE INDEX "agent_llm_entries_provider_id_idx" ON "agent_llm_entries"("provider_id");

-- AddForeignKey: the service refuses to delete a provider in use unless forced, which removes the uses first.
ALTER TABLE "agent_llm_entries" ADD CONSTRAINT "agent_llm_entries_provider_id_fkey" FOREIGN KEY ("provider_id") REFERENCES "providers"("id") ON DELETE CASCADE ON UPDATE CASCADE;
