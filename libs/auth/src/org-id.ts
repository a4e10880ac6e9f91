/**
 * An organization id that came from an authenticated caller or an operator command. Repositories
 * take it as a required argument; the brand stops a bare string (say, a path parameter) from
 * being passed where a tenant is meant.
 */
export type OrgId = string & { readonly __brand: 'OrgId' };

export function asOrgId(id: string): OrgId {
  return id as OrgId;
}

/** Who is calling: attached to the request by the API-key guard. */
export interface AuthContext {
  readonly orgId: OrgId;
  readonly apiKeyId: string;
}
