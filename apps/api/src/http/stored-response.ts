import type { FastifyReply } from 'fastify';
import type { StoredResponse } from '#agentplane/idempotency';

/**
 * Sends a create's response as it was stored (status, headers), marked `Idempotent-Replayed` when
 * it answers a retry; returns the body for Nest to serialize.
 */
export function sendStoredResponse(reply: FastifyReply, sent: StoredResponse, replayed: boolean): unknown {
  for (const [name, value] of Object.entries(sent.headers)) void reply.header(name, value);
  if (replayed) void reply.header('idempotent-replayed', 'true');
  void reply.status(sent.status);
  return sent.body;
}
