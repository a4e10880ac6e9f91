-- CreateTable
CREATE TABLE "credentials" (
    "id" TEXT NOT NULL,
    "org_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "api_key_hint" TEXT NOT NULL,
    "allowed_origins" TEXT[],
    "secret_format" SMALLINT NOT NULL,
    "master_key_id" TEXT NOT NULL,
    "wrapped_key" BYTEA NOT NULL,
    "nonce" BYTEA NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "credentials_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "master_key_checks" (
    "id" TEXT NOT NULL,
    "check" BYTEA NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "master_key_checks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "credentials_org_id_created_at_id_idx" ON "credentials"("org_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "credentials_master_key_id_id_idx" ON "credentials"("master_key_id", "id");

-- AddForeignKey
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_org_id_fkey" FOREIGN KEY ("org_id") REFERENCES "organizations"("id") ON DELETE CASCADE ON UPDATE CASCADE;
