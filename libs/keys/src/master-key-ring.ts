import type { MasterKey } from '#agentplane/config';

/**
 * The master keys this process holds: the first seals everything new, the others only open
 * records sealed before a rotation until `keys rewrap` has moved them to the active key.
 */
export class MasterKeyRing {
  private readonly byId: ReadonlyMap<string, Uint8Array>;

  constructor(
    keys: readonly MasterKey[],
    /** Where the keys came from, for messages: `AGENTPLANE_MASTER_KEYS` or the key file's path. */
    readonly source: string,
  ) {
    const first = keys[0];
    if (first === undefined) throw new Error('A master key ring needs at least one key');
    this.activeKey = first;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  private readonly activeKey: MasterKey;

  get activeId(): string {
    return this.activeKey.id;
  }

  get ids(): readonly string[] {
    return [...this.byId.keys()];
  }

  /** @internal Only the sealer and the key check use key material. */
  material(id: string): Uint8Array | undefined {
    return this.byId.get(id);
  }
}
