import 'reflect-metadata';
import { ConfigError, loadConfig } from '#agentplane/config';
import { createLogger } from '#agentplane/logging';
import { createApp } from './create-app.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`agentplane: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  let app: Awaited<ReturnType<typeof createApp>> | undefined;
  try {
    const startedAt = performance.now();
    app = await createApp(config, logger);
    await app.listen({ port: config.port, host: config.host });
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address !== null ? address.port : config.port;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = `http://${host}:${port}`;
    logger.info({ url, storage: config.storage.kind, startup_ms: Math.round(performance.now() - startedAt) }, 'agentplane listening');
    process.stderr.write(
      `\nagentplane is listening on ${url}  (API docs: ${url}/docs)\n` +
        `Create an API key:  npm run --silent cli -- api-keys create --org <name> --json\n\n`,
    );
  } catch (error) {
    logger.fatal({ err: error }, 'agentplane failed to start');
    process.stderr.write(`agentplane: failed to start: ${(error as Error).message}\n`);
    // Release the database (and the embedded data folder) before leaving, e.g. when the port is taken.
    await app?.close().catch(() => undefined);
    // Let pino flush before leaving.
    logger.flush(() => process.exit(1));
  }
}

void main();
