/** One migration folder of `prisma/migrations`, as Prisma lays it out. */
export interface Migration {
  /** The folder name, e.g. `20261122000000_init`; folders sort into apply order. */
  readonly name: string;
  readonly sql: string;
  /** sha256 of `migration.sql`, hex: the value Prisma records in `_prisma_migrations.checksum`. */
  readonly checksum: string;
  /**
   * Checksums an applied record may carry for this same file: Prisma also accepts the file with
   * LF or CRLF line endings, so a checkout on another OS does not look "changed".
   */
  readonly acceptedChecksums: readonly string[];
}

export interface MigrationReport {
  readonly applied: readonly string[];
  readonly alreadyApplied: readonly string[];
  /** Recorded in the database but absent here: the database is newer than this code. */
  readonly unknown: readonly string[];
}
