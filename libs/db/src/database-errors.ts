import { Prisma } from './generated/prisma/client.js';

// Prisma's codes for "the database is not there or too busy", as opposed to a query it refused:
// cannot reach / timed out / closed the connection, pool exhausted, interactive transaction
// could not start or expired.
const UNAVAILABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);

// With a driver adapter, Prisma passes the pool's own errors through as plain Errors. pg marks
// them by message only: every connection busy for connectionTimeoutMillis (the pool), or a new
// connection not established in time (the client).
const POOL_TIMEOUT_MESSAGES = new Set(['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout']);

/** True when `error` means the database was unreachable or overloaded (worth a 503 and a retry). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) return UNAVAILABLE_CODES.has(error.code);
  return error instanceof Error && error.constructor === Error && POOL_TIMEOUT_MESSAGES.has(error.message);
}
