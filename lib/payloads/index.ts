/**
 * Large payloads through S3, in the AWS extended clients' format (Java
 * amazon-sqs-java-extended-client-lib 2.x, Python amazon-sqs-python-extended-client): the send
 * side offloads, the receive side resolves. `@aws-sdk/client-s3` is loaded only by the S3 calls.
 */
export {
  LEGACY_PAYLOAD_SIZE_ATTRIBUTE,
  LEGACY_POINTER_CLASS,
  PAYLOAD_SIZE_ATTRIBUTE,
  POINTER_CLASS,
  PointerFormatError,
  formatPointer,
  markerOf,
  parsePointer,
  type PayloadLocation,
} from './pointer.js';
export { PayloadError } from './payload-error.js';
export {
  normalizeReadablePayloads,
  normalizeWritablePayloads,
  type NormalizedReadablePayloads,
  type NormalizedWritablePayloads,
  type ReadableLargePayloadOptions,
  type WritableLargePayloadOptions,
} from './payload-options.js';
export {
  PayloadOffloader,
  MAX_PUTS_IN_FLIGHT,
  createOffloader,
  type OffloadItem,
} from './offload.js';
export { PayloadResolver, MAX_GETS_IN_FLIGHT, createResolver } from './resolve.js';
export { runS3Request, type RequestPolicy } from './s3-requests.js';
