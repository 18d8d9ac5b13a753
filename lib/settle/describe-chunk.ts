/** What was written, by type only: the content may be a message body, which never goes in an error. */
export function describeChunk(chunk: unknown): string {
  if (chunk === null) return 'null';
  if (chunk === undefined) return 'undefined';
  if (Array.isArray(chunk)) return 'an array';
  if (typeof chunk === 'object') {
    const name = (chunk as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && name !== '' && name !== 'Object'
      ? `an instance of ${name}`
      : 'a plain object';
  }
  return `a ${typeof chunk}`;
}
