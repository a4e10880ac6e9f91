const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `base` followed by a member name: `.name`, or `["x-name"]` when it is not an identifier (as unstorableText writes them). */
export function memberPath(base: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === '' ? key : `${base}.${key}`;
}

/**
 * A JSON pointer (RFC 6901) into `root`, written as a field path under `base`, like
 * `tools[0].parameters.properties.x.type`: a segment is an index where the value there is an
 * array, a member name otherwise.
 */
export function fieldPath(base: string, root: unknown, pointer: string): string {
  if (pointer === '') return base;
  let path = base;
  let value = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(value) && /^(0|[1-9]\d*)$/.test(segment)) {
      path = `${path}[${segment}]`;
      value = value[Number(segment)];
    } else {
      path = memberPath(path, segment);
      value =
        value !== null && typeof value === 'object' && Object.hasOwn(value, segment)
          ? (value as Record<string, unknown>)[segment]
          : undefined;
    }
  }
  return path;
}
