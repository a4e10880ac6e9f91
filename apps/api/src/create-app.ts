import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { useContainer } from 'class-validator';
import type { AppConfig } from '@agentplane/config';
import { EgressModule } from '@agentplane/egress';
import { type Logger, PinoNestLogger } from '@agentplane/logging';
import { AppModule } from './app.module.js';
import { constraintContainer } from './http/constraint-container.js';
import { createFastifyAdapter } from './http/fastify-adapter.js';
import { buildOpenApiDocument, serveOpenApi } from './openapi/openapi.js';

export interface CreateAppOptions {
  /** Build the module graph without running providers: for writing the OpenAPI document. */
  readonly preview?: boolean;
}

/** The HTTP application, fully wired but not yet listening. */
export async function createApp(
  config: AppConfig,
  logger: Logger,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const adapter = createFastifyAdapter(logger);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, logger), adapter, {
    logger: new PinoNestLogger(logger.child({ component: 'nest' })),
    abortOnError: false,
    // Body parsing is configured on Fastify directly (JSON only): see createFastifyAdapter.
    bodyParser: false,
    preview: options.preview ?? false,
  });
  app.enableShutdownHooks();
  // Constraints that need configuration (IsBaseUrl and its allowlist) come from the container;
  // class-validator's own classes fall back to its default one.
  if (options.preview !== true) useContainer(constraintContainer(app.select(EgressModule)), { fallback: true });
  serveOpenApi(app, buildOpenApiDocument(app));
  return app;
}
