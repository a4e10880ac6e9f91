export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface MasterKey {
  /** The id recorded beside every record sealed under this key. */
  readonly id: string;
  /** 32 bytes. */
  readonly key: Uint8Array;
}

export interface EgressAllowEntry {
  /** Lower-case host name or IP literal (IPv6 without brackets). */
  readonly host: string;
  /** A port, or undefined for any port of that host. */
  readonly port?: number;
}

/** An address range (CIDR) that base_urls may resolve into although it is not public. */
export interface PrivateNetwork {
  /** The network address, normalized (IPv6 without brackets). */
  readonly address: string;
  readonly prefixLength: number;
}

/** Where Prometheus scrapes metrics: a listener of its own, never the API's. */
export interface MetricsListenerConfig {
  readonly port: number;
  readonly host: string;
  /** The bearer token a scrape must send; null when the listener asks for none. */
  readonly token: string | null;
}

/** Embedded PGlite in a data folder, or an external PostgreSQL. */
export type StorageConfig =
  { readonly kind: 'embedded'; readonly dataDir: string } | { readonly kind: 'postgres'; readonly url: string; readonly dataDir: string };

/**
 * The whole configuration of a process, validated once at boot by `loadConfig`.
 * Nothing else in the product reads `process.env`.
 */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  readonly storage: StorageConfig;
  /** First entry is the active key. Empty only with embedded storage (a key file is used). */
  readonly masterKeys: readonly MasterKey[];
  readonly egressAllowlist: readonly EgressAllowEntry[];
  /** AGENTPLANE_EGRESS_PRIVATE_NETWORKS: private ranges the operator's own models live in. */
  readonly egressPrivateNetworks: readonly PrivateNetwork[];
  readonly logLevel: LogLevel;
  /** How often a streamed reply sends a comment line while no event is due. */
  readonly replyHeartbeatMs: number;
  /** Reply records older than this many days are pruned. */
  readonly recordRetentionDays: number;
  /** Null without AGENTPLANE_METRICS_PORT: then no metrics endpoint exists at all. */
  readonly metrics: MetricsListenerConfig | null;
}
