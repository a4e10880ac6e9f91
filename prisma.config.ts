import { defineConfig } from 'prisma/config';

// Read by `prisma generate` (npm run prisma:generate) and, on a machine that has Prisma's schema
// engine, by `prisma migrate status|deploy`, which agree with the service's own migration runner
// (libs/db) because it records `_prisma_migrations` exactly as Prisma does.
export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
