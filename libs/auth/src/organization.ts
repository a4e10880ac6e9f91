import type { OrgId } from './org-id.js';

export interface Organization {
  readonly id: OrgId;
  readonly name: string;
  readonly createdAt: Date;
}

export interface ApiKeySummary {
  readonly id: string;
  readonly orgId: OrgId;
  readonly name: string | null;
  readonly prefix: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}
