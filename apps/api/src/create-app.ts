import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '#agentplane/config';
import { type Logger, PinoNestLogger } from '#agentplane/logging';
import { Metrics } from '#agentplane/metrics';
import { AppModule } from './app.module.js';
import { createFastifyAdapter } from './http/fastify-adapter.js';
import { buildOpenApiDocument, serveOpenApi } from './openapi/openapi.js';
import { timeRequests } from './telemetry/http-metrics.js';

export interface CreateAppOptions {
  /** Build the module graph without running providers: for writing the OpenAPI document. */
  readonly preview?: boolean;
}

/** The HTTP application, fully wired but not yet listening. */
export async function createApp(config: AppConfig, logger: Logger, options: CreateAppOptions = {}): Promise<NestFastifyApplication> {
  const adapter = createFastifyAdapter(logger);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger), adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
    // Body parsing is configured on Fastify directly (JSON only): see createFastifyAdapter.
    bodyParser: false,
    preview: options.preview ?? false,
  });
  app.enableShutdownHooks();
  // Only when something scrapes: otherwise requests pay nothing for metrics.
  if (config.metrics !== null) timeRequests(adapter.getInstance(), app.get(Metrics));
  serveOpenApi(app, () => buildOpenApiDocument(app));
  return app;
}
