// The bare reference for the relay bench: an http server that forwards each request's body to the
// upstream over a keep-alive https.Agent with a fixed key and pipes the bytes back. No auth, no
// database, no parsing: what any relay costs at the least. Run as its own process, like the API:
//   node dist/bench/support/pipe-relay.js <upstream port> <ca file>
// It prints `PIPE <port>` once it listens.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Agent, request } from 'node:https';

const [upstreamPort, caFile] = process.argv.slice(2);
const agent = new Agent({ keepAlive: true, maxSockets: 512, ca: readFileSync(caFile!) });

const server = createServer((req, res) => {
  const upstream = request(
    {
      host: '127.0.0.1',
      port: Number(upstreamPort),
      path: '/v1/chat/completions',
      method: 'POST',
      agent,
      headers: { authorization: 'Bearer sk-bench', 'content-type': 'application/json' },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, { 'content-type': answer.headers['content-type'] ?? 'text/event-stream' });
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`PIPE ${(server.address() as { port: number }).port}`));
