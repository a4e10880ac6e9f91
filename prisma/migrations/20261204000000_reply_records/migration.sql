-- CreateTable
CREATE TABLE "reply_records" (
    "id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "agent_id" TEXT NOT NULL,
    "request_id" TEXT,
    "stream" BOOLEAN NOT NULL,
    "outcome" TEXT NOT NULL,
    "entry_index" SMALLINT,
    "api" TEXT,
    "model" TEXT,
    "attempts" JSON NOT NULL DEFAULT '[]',
    "ttft_ms" INTEGER,
    "duration_ms" INTEGER NOT NULL,
    "input_tokens" INTEGER,
    "output_tokens" INTEGER,
    "total_tokens" INTEGER,
    "started_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "reply_records_pkey" PRIMARY KEY ("id"),
    -- Usage is all three counts or none.
    CONSTRAINT "reply_records_usage_check" CHECK (
      (input_tokens IS NULL) = (output_tokens IS NULL) AND (input_tokens IS NULL) = (total_tokens IS NULL))
);

-- CreateIndex
CREATE INDEX "reply_records_org_id_agent_id_started_at_id_idx" ON "reply_records"("org_id", "agent_id", "started_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "reply_records_org_id_started_at_idx" ON "reply_records"("org_id", "started_at");

-- CreateIndex
CREATE INDEX "reply_records_started_at_idx" ON "reply_records"("started_at");

-- AddForeignKey
ALTER TABLE "reply_records" ADD CONSTRAINT "reply_records_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
