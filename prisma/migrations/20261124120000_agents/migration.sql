-- CreateTable
CREATE TABLE "agents" (
    "id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "instructions" TEXT,
    "temperature" DOUBLE PRECISION,
    "max_tokens" INTEGER,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "agents_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "agent_llm_entries" (
    "agent_id" TEXT NOT NULL,
    "position" SMALLINT NOT NULL,
    "base_url" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "api" TEXT NOT NULL,
    "credential_id" TEXT NOT NULL,

    CONSTRAINT "agent_llm_entries_pkey" PRIMARY KEY ("agent_id","position")
);

-- CreateTable
CREATE TABLE "idempotency_keys" (
    "org_id" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "fingerprint" BYTEA NOT NULL,
    "fingerprint_key_id" TEXT NOT NULL,
    "status_code" SMALLINT NOT NULL,
    "resource_id" TEXT NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY ("org_id","key")
);

-- AlterTable
ALTER TABLE "credentials" ADD COLUMN "owner_agent_id" TEXT;

-- CreateIndex
CREATE INDEX "agents_org_id_created_at_id_idx" ON "agents"("org_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "agent_llm_entries_credential_id_idx" ON "agent_llm_entries"("credential_id");

-- CreateIndex
CREATE INDEX "idempotency_keys_created_at_idx" ON "idempotency_keys"("created_at");

-- CreateIndex
CREATE INDEX "credentials_owner_agent_id_idx" ON "credentials"("owner_agent_id");

-- AddForeignKey
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_owner_agent_id_fkey" FOREIGN KEY ("owner_agent_id") REFERENCES "agents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agents" ADD CONSTRAINT "agents_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_llm_entries" ADD CONSTRAINT "agent_llm_entries_agent_id_fkey" FOREIGN KEY ("agent_id") REFERENCES "agents"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "agent_llm_entries" ADD CONSTRAINT "agent_llm_entries_credential_id_fkey" FOREIGN KEY ("credential_id") REFERENCES "credentials"("id") ON DELETE NO ACTION ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
