// The bare reference for the throughput bench: Fastify with one handler per route that answers
// what agentplane answered for the same request (the bodies are read from a JSON file given as the
// first argument), without auth, validation or a database. Fastify parses the POST body and
// serializes every answer, as agentplane's adapter does. Run as its own process, like the API:
//   node dist/bench/support/bare-fastify.js <answers.json>
// It prints `FASTIFY <port>` once it listens.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

interface Answers {
  readonly agent: object;
  readonly list: object;
  readonly health: object;
}

const answers = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Answers;
const app = Fastify({ logger: false });
app.get('/healthz', () => answers.health);
app.get('/v1/agents/:id', () => answers.agent);
app.get('/v1/agents', () => answers.list);
app.post('/v1/agents', async (request, reply) => {
  if (typeof request.body !== 'object' || request.body === null) return reply.code(400).send({ title: 'Bad Request' });
  return reply.code(201).send(answers.agent);
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`FASTIFY ${new URL(address).port}`);
