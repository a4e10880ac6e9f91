import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { sortKeys } from '../http/canonical-json.js';

/**
 * The API contract as the code declares it, with keys sorted so that the checked-in
 * `openapi.yaml` diffs cleanly. `npm run openapi` writes it; the app serves the same document.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('agentplane')
    .setDescription(
      'Control plane for voice and chat agents that bring their own OpenAI-compatible LLM. ' +
        'Errors are application/problem+json (RFC 9457).',
    )
    .setVersion('1')
    .setLicense('Apache-2.0', 'https://www.apache.org/licenses/LICENSE-2.0')
    // Relative: the spec describes whichever instance serves it.
    .addServer('/')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'ap_…',
      description: 'An organization API key, issued by `npm run cli -- api-keys create`',
    })
    .build();
  return sortKeys(SwaggerModule.createDocument(app, config)) as OpenAPIObject;
}

/** Serves Swagger UI at /docs and the document at /openapi.json. */
export function serveOpenApi(app: INestApplication, document: OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'agentplane API',
  });
}
