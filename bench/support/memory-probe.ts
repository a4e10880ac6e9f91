// Loaded into the API by the relay benchmark only (`node --expose-gc --import …`): on SIGWINCH it
// collects garbage twice and prints the process's memory as one `MEMORY {json}` line on stderr,
// so open streams can be measured without garbage collection swamping them.
process.on('SIGWINCH', () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
  process.stderr.write(`MEMORY ${JSON.stringify({ rss, heapUsed, external, arrayBuffers, gc: gc !== undefined })}\n`);
});
