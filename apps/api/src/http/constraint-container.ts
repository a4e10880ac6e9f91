/**
 * Where class-validator finds constraint instances: Nest's, looked up once per class. Asking Nest
 * on every validation would throw (and build a stack trace) for each of class-validator's own
 * constraints, on every request.
 */
export function constraintContainer(nest: { get(type: unknown, options: { strict: boolean }): unknown }): { get(type: unknown): unknown } {
  const found = new Map<unknown, unknown>();
  return {
    get(type) {
      if (!found.has(type)) {
        let instance: unknown;
        try {
          instance = nest.get(type, { strict: false });
        } catch {
          instance = undefined; // not Nest's: class-validator's default container makes it
        }
        found.set(type, instance);
      }
      return found.get(type);
    },
  };
}
