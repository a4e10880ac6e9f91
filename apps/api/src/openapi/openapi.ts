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
      description: 'An organization API key, issued by `npm run cli -- api-keys create` or by `POST /v1/api-keys`',
    })
    .build();
  return sortKeys(withRequestIdHeader(SwaggerModule.createDocument(app, config))) as OpenAPIObject;
}

/**
 * Every response carries X-Request-Id (set before any route runs, also on errors and on the
 * event stream): declared once as a component and referenced from each response, since Nest's
 * decorators only document headers one response at a time.
 */
function withRequestIdHeader(document: OpenAPIObject): OpenAPIObject {
  document.components = {
    ...document.components,
    headers: {
      ...document.components?.headers,
      XRequestId: {
        description:
          "Identifies this request in the logs: the caller's X-Request-Id when it is 1 to 64 of A-Z a-z 0-9 . _ : -, else a new id",
        schema: { type: 'string', example: 'req_Q2xKt7m1Vb9sXy3dLp0a' },
      },
    },
  };
  for (const item of Object.values(document.paths)) {
    for (const method of ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const) {
      for (const response of Object.values(item[method]?.responses ?? {})) {
        if (response === undefined || '$ref' in response) continue;
        response.headers = { ...response.headers, 'X-Request-Id': { $ref: '#/components/headers/XRequestId' } };
      }
    }
  }
  return document;
}

/**
 * Serves Swagger UI at /docs and the document at /openapi.json. The document is built on the first
 * request for it, once: start-up does not wait for a walk over every route's metadata.
 */
export function serveOpenApi(app: INestApplication, document: () => OpenAPIObject): void {
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    raw: ['json'],
    customSiteTitle: 'agentplane API',
  });
}
