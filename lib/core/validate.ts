/**
 * Option checks shared by every stream. Messages follow one pattern, naming the option, what is
 * allowed and what was given: "Expected `batchSize` to be an integer from 1 to 10, got `11`".
 */

/** A value as an error message quotes it: short scalars verbatim, anything else by its kind. */
export function show(value: unknown): string {
  if (typeof value === 'string') return `\`${JSON.stringify(value).slice(1, -1)}\``;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) {
    return `\`${String(value)}\``;
  }
  if (value === undefined) return '`undefined`';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Uint8Array) return 'a Buffer';
  return `a ${typeof value}`;
}

export function integerOption(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const range = max === Infinity ? `${min} or more` : `from ${min} to ${max}`;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`Expected \`${name}\` to be an integer ${range}, got ${show(value)}`);
  }
  if ((!Number.isInteger(value) && value !== Infinity) || value < min || value > max) {
    throw new RangeError(`Expected \`${name}\` to be an integer ${range}, got ${show(value)}`);
  }
  return value;
}

export function numberOption(
  name: string,
  value: unknown,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const range = max === Infinity ? `${min} or more` : `from ${min} to ${max}`;
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`Expected \`${name}\` to be a number ${range}, got ${show(value)}`);
  }
  if (value < min || value > max) {
    throw new RangeError(`Expected \`${name}\` to be a number ${range}, got ${show(value)}`);
  }
  return value;
}

export function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new TypeError(`Expected \`${name}\` to be a boolean, got ${show(value)}`);
  }
  return value;
}

export function stringOption(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`Expected \`${name}\` to be a non-empty string, got ${show(value)}`);
  }
  return value;
}

export function stringArrayOption(name: string, value: unknown, fallback: string[]): string[] {
  if (value === undefined) return fallback;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
    throw new TypeError(
      `Expected \`${name}\` to be an array of non-empty strings, got ${show(value)}`,
    );
  }
  return [...(value as string[])];
}

export function objectOption<T extends object>(name: string, value: unknown): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`Expected \`${name}\` to be an object, got ${show(value)}`);
  }
  return value as T;
}

export function signalOption(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) {
    throw new TypeError(`Expected \`${name}\` to be an AbortSignal, got ${show(value)}`);
  }
  return value;
}

/** A queue URL as SQS returns it: http(s), a host, and the queue name as the last path part. */
export function queueUrlOption(name: string, value: unknown): string | undefined {
  const url = stringOption(name, value);
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(
      `Expected \`${name}\` to be a queue URL like https://sqs.us-east-1.amazonaws.com/123456789012/my-queue, got ${show(value)}`,
    );
  }
  const last = parsed.pathname.split('/').filter(Boolean).pop();
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || last === undefined) {
    throw new TypeError(
      `Expected \`${name}\` to be a queue URL like https://sqs.us-east-1.amazonaws.com/123456789012/my-queue, got ${show(value)}`,
    );
  }
  return url;
}

/** Queue names: 1-80 of A-Z a-z 0-9 - _, with `.fifo` allowed at the end (within the 80). */
export function isQueueName(value: string): boolean {
  return /^[A-Za-z0-9_-]{1,80}$/.test(value) || /^[A-Za-z0-9_-]{1,75}\.fifo$/.test(value);
}

/** A plain object (not null, not an array): what an options or message object must be. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function queueNameOption(name: string, value: unknown): string | undefined {
  const queueName = stringOption(name, value);
  if (queueName === undefined) return undefined;
  if (!isQueueName(queueName)) {
    throw new TypeError(
      `Expected \`${name}\` to be a queue name of 1 to 80 letters, digits, hyphens or underscores (\`.fifo\` allowed at the end), got ${show(value)}`,
    );
  }
  return queueName;
}
