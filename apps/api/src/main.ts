import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppConfig, ConfigError, loadConfig } from '#agentplane/config';
import { createLogger, type Logger } from '#agentplane/logging';
import { MetricsServer } from '#agentplane/metrics';
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
    const url = httpUrl(config.host, typeof address === 'object' && address !== null ? address.port : config.port);
    // Before the API's line, which says start-up is over.
    const metricsUrl = await listenForScrapes(app, config, logger);
    logger.info({ url, storage: config.storage.kind, startup_ms: Math.round(performance.now() - startedAt) }, 'agentplane listening');
    process.stderr.write(
      `\nagentplane is listening on ${url}  (API docs: ${url}/docs)\n` +
        (metricsUrl === undefined ? '' : `Prometheus metrics: ${metricsUrl}\n`) +
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

/** Starts the metrics listener (its own port, never the API's) when configured: its URL, or undefined. */
async function listenForScrapes(app: NestFastifyApplication, config: AppConfig, logger: Logger): Promise<string | undefined> {
  const settings = config.metrics;
  const address = await app.get(MetricsServer).listen();
  if (settings === null || address === undefined) return undefined;
  const url = `${httpUrl(settings.host, address.port)}/metrics`;
  logger.info({ url, token_required: settings.token !== null }, 'metrics listening');
  return url;
}

function httpUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

void main();
