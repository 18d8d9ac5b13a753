import { SqsStreamError } from '../core/errors.js';
import type { SqsMessage } from './message.js';

/**
 * The Standard Schema v1 interface (https://standardschema.dev), copied as its authors intend, so
 * that zod, valibot, arktype and any other implementation can be passed as `schema` without this
 * package depending on one of them.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly '~standard': StandardSchemaV1.Props<Input, Output>;
}

// The spec's own shape: a namespace of types merged with the interface, copied as published.
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace StandardSchemaV1 {
  /** The Standard Schema properties interface. */
  export interface Props<Input = unknown, Output = Input> {
    /** The version number of the standard. */
    readonly version: 1;
    /** The vendor name of the schema library. */
    readonly vendor: string;
    /** Validates unknown input values. */
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>;
    /** Inferred types associated with the schema. */
    readonly types?: Types<Input, Output> | undefined;
  }

  /** The result interface of the validate function. */
  export type Result<Output> = SuccessResult<Output> | FailureResult;

  /** The result interface if validation succeeds. */
  export interface SuccessResult<Output> {
    /** The typed output value. */
    readonly value: Output;
    /** The non-existent issues. */
    readonly issues?: undefined;
  }

  /** The result interface if validation fails. */
  export interface FailureResult {
    /** The issues of failed validation. */
    readonly issues: ReadonlyArray<Issue>;
  }

  /** The issue interface of the failure output. */
  export interface Issue {
    /** The error message of the issue. */
    readonly message: string;
    /** The path of the issue, if any. */
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined;
  }

  /** The path segment interface of the issue. */
  export interface PathSegment {
    /** The key representing a path segment. */
    readonly key: PropertyKey;
  }

  /** The Standard Schema types interface. */
  export interface Types<Input = unknown, Output = Input> {
    /** The input type of the schema. */
    readonly input: Input;
    /** The output type of the schema. */
    readonly output: Output;
  }

  /** Infers the input type of a Standard Schema. */
  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['input'];

  /** Infers the output type of a Standard Schema. */
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<
    Schema['~standard']['types']
  >['output'];
}

/** One problem with a message's body: where in the parsed JSON, and what the validator said. */
export interface SchemaIssue {
  /** The keys from the body's root to the value concerned (`[]`: the body itself). */
  readonly path: ReadonlyArray<string | number>;
  /** The validator's message. */
  readonly message: string;
}

/** Issues quoted in an error's message; all of them are in `issues`. */
const QUOTED_ISSUES = 10;
/** A validator's message longer than this is cut in the error's message (not in `issues`). */
const QUOTED_LENGTH = 200;

/**
 * A message's body is not JSON, or not what the processor's `schema` accepts. It names the
 * message and lists the issues (paths and the validator's messages); it never holds the body, nor
 * the parse error (whose text quotes the body) nor the validator's raw issues (which may hold the
 * values).
 */
export class SchemaValidationError extends SqsStreamError {
  override name = 'SchemaValidationError';
  /** What was wrong, one entry per issue. */
  readonly issues: ReadonlyArray<SchemaIssue>;

  constructor(message: SqsMessage, issues: SchemaIssue[]) {
    const quoted = issues.slice(0, QUOTED_ISSUES).map(describeIssue).join('; ');
    const more = issues.length > QUOTED_ISSUES ? `; and ${issues.length - QUOTED_ISSUES} more` : '';
    super(
      `Message ${message.messageId} failed validation before its handler: ${quoted}${more}. Fix the sender, or the schema; the message will be retried as a failure`,
      { operation: 'validate', queue: message.queueUrl, messageId: message.messageId },
    );
    this.issues = Object.freeze(issues);
  }
}

function describeIssue(issue: SchemaIssue): string {
  const where = issue.path.length === 0 ? '(root)' : issue.path.join('.');
  const text =
    issue.message.length > QUOTED_LENGTH
      ? `${issue.message.slice(0, QUOTED_LENGTH)}...`
      : issue.message;
  return `\`${where}\`: ${text}`;
}

function pathKey(segment: PropertyKey | StandardSchemaV1.PathSegment): string | number {
  const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
  return typeof key === 'number' ? key : String(key);
}

/** Only the path and the message of each issue: a validator's own issue may carry the value. */
function copyIssues(issues: ReadonlyArray<StandardSchemaV1.Issue>): SchemaIssue[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).map(pathKey),
    message: typeof issue.message === 'string' ? issue.message : 'invalid',
  }));
}

/** Whether `value` looks like a Standard Schema (objects and functions: arktype's are both). */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const props = (value as { '~standard'?: { validate?: unknown } })['~standard'];
  return typeof props === 'object' && props !== null && typeof props.validate === 'function';
}

/**
 * Parses the message's body as JSON and validates it; resolves to the validator's output, rejects
 * with a {@link SchemaValidationError}.
 */
export async function validateBody<Output>(
  schema: StandardSchemaV1<unknown, Output>,
  message: SqsMessage,
): Promise<Output> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.body);
  } catch {
    // Not the SyntaxError: its text quotes the body.
    throw new SchemaValidationError(message, [{ path: [], message: 'the body is not valid JSON' }]);
  }
  let result: StandardSchemaV1.Result<Output>;
  try {
    result = await schema['~standard'].validate(parsed);
  } catch (error) {
    // Not the error itself either: a validator's exception may quote the value it choked on.
    const name = error instanceof Error ? error.name : typeof error;
    throw new SchemaValidationError(message, [
      { path: [], message: `the validator threw (${name})` },
    ]);
  }
  if (result.issues !== undefined) {
    const issues = copyIssues(result.issues);
    throw new SchemaValidationError(
      message,
      issues.length > 0 ? issues : [{ path: [], message: 'rejected without an issue' }],
    );
  }
  return result.value;
}
