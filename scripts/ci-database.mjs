// Creates or drops a database on the PostgreSQL at ADMIN_DATABASE_URL (default: the local
// server, user postgres). Used by .ci/run so that CI needs nothing but Node and npm.
import pg from 'pg';

const [action, name] = process.argv.slice(2);
if (!['create', 'drop'].includes(action) || !/^[a-z0-9_]+$/.test(name ?? '')) {
  console.error('usage: node scripts/ci-database.mjs create|drop <name>');
  process.exit(2);
}
const client = new pg.Client({
  connectionString: process.env.ADMIN_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
});
await client.connect();
try {
  if (action === 'create') {
    await client.query(`CREATE DATABASE "${name}"`);
  } else {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
} finally {
  await client.end();
}
