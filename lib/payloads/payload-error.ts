import { SqsStreamError, type SqsStreamErrorDetails } from '../core/errors.js';
import type { PayloadLocation } from './pointer.js';

/**
 * A large payload could not be stored, read or deleted in S3, or a pointer could not be parsed.
 * `operation` is `PutObject`, `GetObject` or `DeleteObject`; `cause` is S3's error.
 */
export class PayloadError extends SqsStreamError {
  override name = 'PayloadError';
  /** The S3 bucket, when known (a pointer that could not be parsed names none). */
  readonly bucket: string | undefined;
  /** The object's key, when known. */
  readonly key: string | undefined;

  constructor(
    message: string,
    location: PayloadLocation | undefined,
    details: SqsStreamErrorDetails = {},
  ) {
    super(message, details);
    this.bucket = location?.bucket;
    this.key = location?.key;
  }
}
