import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * The extended clients' wire format (AWS `amazon-sqs-java-extended-client-lib` 2.x and
 * `amazon-sqs-python-extended-client`): a message whose payload is in S3 has a JSON pointer as
 * its body and a marker attribute holding the payload's size.
 */

/** The pointer class the Java 2.x client (payload-offloading-java-common-lib) writes and reads. */
export const POINTER_CLASS = 'software.amazon.payloadoffloading.PayloadS3Pointer';
/** The pointer class of the Java 1.x client, still written by Python's `use_legacy_attribute`. */
export const LEGACY_POINTER_CLASS = 'com.amazon.sqs.javamessaging.MessageS3Pointer';

/** The marker attribute: `Number`, the original body's size in UTF-8 bytes. */
export const PAYLOAD_SIZE_ATTRIBUTE = 'ExtendedPayloadSize';
/** The marker's older name (the Java client's default for sending, unless told otherwise). */
export const LEGACY_PAYLOAD_SIZE_ATTRIBUTE = 'SQSLargePayloadSize';

/** Where a large payload is stored. */
export interface PayloadLocation {
  /** The S3 bucket. */
  bucket: string;
  /** The object's key. */
  key: string;
}

/**
 * The pointer body, byte for byte what the Java client's Jackson writes (no spaces, fields in
 * this order): `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`.
 */
export function formatPointer(location: PayloadLocation): string {
  return JSON.stringify([POINTER_CLASS, { s3BucketName: location.bucket, s3Key: location.key }]);
}

/** Why a body is not a pointer; the body itself is never quoted (it may be anything). */
export class PointerFormatError extends Error {
  override name = 'PointerFormatError';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Reads a pointer body: a JSON array (any spacing) of one of the two pointer classes and an
 * object with non-empty string `s3BucketName` and `s3Key` (other fields are ignored, as
 * Jackson ignores unknown properties). Throws a {@link PointerFormatError} saying what is wrong.
 */
export function parsePointer(body: string): PayloadLocation {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new PointerFormatError(
      `the body is not JSON (${Buffer.byteLength(body, 'utf8')} bytes), so not an S3 pointer`,
    );
  }
  if (!Array.isArray(value) || value.length !== 2) {
    throw new PointerFormatError('the body is not a two-element JSON array [class, pointer]');
  }
  const [type, fields] = value as [unknown, unknown];
  if (type !== POINTER_CLASS && type !== LEGACY_POINTER_CLASS) {
    throw new PointerFormatError(
      `the pointer class is not ${POINTER_CLASS} or ${LEGACY_POINTER_CLASS}`,
    );
  }
  if (!isObject(fields)) {
    throw new PointerFormatError('the second element of the pointer is not an object');
  }
  const { s3BucketName, s3Key } = fields;
  if (typeof s3BucketName !== 'string' || s3BucketName === '') {
    throw new PointerFormatError('the pointer has no `s3BucketName` string');
  }
  if (typeof s3Key !== 'string' || s3Key === '') {
    throw new PointerFormatError('the pointer has no `s3Key` string');
  }
  return { bucket: s3BucketName, key: s3Key };
}

/** The marker attribute's name on a received message, if it carries one (either name). */
export function markerOf(
  attributes: Readonly<Record<string, MessageAttributeValue>> | undefined,
): string | undefined {
  if (attributes === undefined) return undefined;
  if (Object.hasOwn(attributes, PAYLOAD_SIZE_ATTRIBUTE)) return PAYLOAD_SIZE_ATTRIBUTE;
  if (Object.hasOwn(attributes, LEGACY_PAYLOAD_SIZE_ATTRIBUTE)) {
    return LEGACY_PAYLOAD_SIZE_ATTRIBUTE;
  }
  return undefined;
}

/** The marker attribute to send with a pointer: the original body's UTF-8 size. */
export function markerAttribute(
  bodyBytes: number,
  legacyName: boolean,
): [string, MessageAttributeValue] {
  return [
    legacyName ? LEGACY_PAYLOAD_SIZE_ATTRIBUTE : PAYLOAD_SIZE_ATTRIBUTE,
    { DataType: 'Number', StringValue: String(bodyBytes) },
  ];
}

/** The attributes without the marker (a copy; the input is not changed). */
export function withoutMarker(
  attributes: Readonly<Record<string, MessageAttributeValue>>,
): Record<string, MessageAttributeValue> {
  const copy: Record<string, MessageAttributeValue> = { ...attributes };
  delete copy[PAYLOAD_SIZE_ATTRIBUTE];
  delete copy[LEGACY_PAYLOAD_SIZE_ATTRIBUTE];
  return copy;
}
