import { chatCompletionsBody, trimmed } from './chat-completions.request.js';
import type { UpstreamCall, UpstreamInput } from './wire-format.js';

/**
 * Azure OpenAI chat completions. With an `api_version`, the deployments route: the deployment (the
 * model when none is named) is in the path and the version in the query; without,
 * the v1 route, where the model is in the body as for OpenAI. The base URL ends in `/openai` or
 * `/openai/v1` respectively (resolved when the entry was saved).
 */
export function azureRequest(input: UpstreamInput): UpstreamCall {
  const { baseUrl, model, azure } = input.entry;
  const base = trimmed(baseUrl);
  const body = chatCompletionsBody(input);
  if (azure?.apiVersion === undefined) return { url: `${base}/chat/completions`, headers: {}, body };
  const deployment = encodeURIComponent(azure.deployment ?? model);
  return { url: `${base}/deployments/${deployment}/chat/completions`, query: { 'api-version': azure.apiVersion }, headers: {}, body };
}
