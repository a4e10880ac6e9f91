import { defineConfig } from 'prisma/config';

// Only `prisma generate` and `prisma studio`-style tooling read this file; the service applies
// migrations with its own runner (libs/db) because the schema engine cannot be downloaded here.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
