import { DEFAULT_AUTH, resolveBaseUrl } from './endpoint-rules.js';

describe('resolveBaseUrl', () => {
  it('takes a given base_url as it is, and requires one for the OpenAI APIs', () => {
    expect(resolveBaseUrl({ api: 'chat_completions', baseUrl: 'https://llm.example.com/v1' }, 'llm[0]')).toEqual({
      baseUrl: 'https://llm.example.com/v1',
    });
    expect(resolveBaseUrl({ api: 'responses' }, 'llm[2]')).toEqual({
      errors: [{ path: 'llm[2].base_url', code: 'required', message: 'is required for api responses' }],
    });
  });

  it('defaults Anthropic and Google to their own APIs', () => {
    expect(resolveBaseUrl({ api: 'anthropic' }, '')).toEqual({ baseUrl: 'https://api.anthropic.com/v1' });
    expect(resolveBaseUrl({ api: 'google' }, '')).toEqual({ baseUrl: 'https://generativelanguage.googleapis.com/v1beta' });
  });

  it('builds Azure’s host from the resource: /openai for the deployments route, /openai/v1 without an api_version', () => {
    expect(resolveBaseUrl({ api: 'azure', azure: { resource: 'contoso', apiVersion: '2024-10-21' } }, '')).toEqual({
      baseUrl: 'https://contoso.openai.azure.com/openai',
    });
    expect(resolveBaseUrl({ api: 'azure', azure: { resource: 'contoso' } }, '')).toEqual({
      baseUrl: 'https://contoso.openai.azure.com/openai/v1',
    });
  });

  it('lets a base_url override Azure’s host, and needs an api_version unless it is a v1 route', () => {
    expect(resolveBaseUrl({ api: 'azure', baseUrl: 'https://apim.example.com/team/openai/v1/' }, '')).toEqual({
      baseUrl: 'https://apim.example.com/team/openai/v1/',
    });
    expect(resolveBaseUrl({ api: 'azure', baseUrl: 'https://apim.example.com/openai', azure: { apiVersion: '2024-10-21' } }, '')).toEqual({
      baseUrl: 'https://apim.example.com/openai',
    });
    expect(resolveBaseUrl({ api: 'azure', baseUrl: 'https://apim.example.com/openai' }, 'llm[1]')).toEqual({
      errors: [{ path: 'llm[1].azure.api_version', code: 'required', message: expect.any(String) }],
    });
    // Not a URL at all: left to the egress policy, which names what is wrong.
    expect(resolveBaseUrl({ api: 'azure', baseUrl: 'not a url/openai/v1' }, '')).toEqual({ baseUrl: 'not a url/openai/v1' });
    expect(resolveBaseUrl({ api: 'azure' }, 'llm[0]')).toEqual({
      errors: [{ path: 'llm[0].azure.resource', code: 'required', message: expect.any(String) }],
    });
  });

  it('refuses azure settings on another api', () => {
    expect(resolveBaseUrl({ api: 'anthropic', azure: { resource: 'x' } }, 'llm[0]')).toEqual({
      errors: [{ path: 'llm[0].azure', code: 'not_allowed', message: 'is only for api azure' }],
    });
  });

  it('sends each API’s key the way its vendor expects by default', () => {
    expect(DEFAULT_AUTH).toEqual({
      chat_completions: 'bearer',
      responses: 'bearer',
      anthropic: 'x_api_key',
      google: 'x_goog_api_key',
      azure: 'api_key_header',
    });
  });
});
