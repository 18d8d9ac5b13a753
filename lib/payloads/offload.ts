import { randomUUID } from 'node:crypto';
import type {
  MessageAttributeValue,
  SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { getQueueNumber } from '../core/queue.js';
import type { OnRetry } from '../core/retry.js';
import { MessageTooLargeError } from '../core/errors.js';
import { messageSize, SQS_MAX_ATTRIBUTES } from '../core/message-size.js';
import type { NormalizedWritablePayloads } from './payload-options.js';
import { formatPointer, markerAttribute, markerOf, type PayloadLocation } from './pointer.js';
import { putPayload, type RequestPolicy, type S3Call } from './s3-requests.js';

/**
 * The send side of large payloads: a message over the threshold is stored in S3 and replaced,
 * before it is sent, by a pointer message with the same attributes plus the size marker.
 */

/** A checked message as the send path holds it (`PreparedMessage` fits). */
export interface OffloadItem {
  /** Position of the write, for error messages ("message #index"). */
  index: number;
  entry: Omit<SendMessageBatchRequestEntry, 'Id'>;
  /** Size as SQS counts it; replaced by the pointer message's size once offloaded. */
  size: number;
}

/** Most PutObject requests in flight at once per stream. */
export const MAX_PUTS_IN_FLIGHT = 10;

export interface OffloaderOptions {
  payloads: NormalizedWritablePayloads;
  /** Largest message SQS takes from this stream (the pointer message must fit). */
  maxMessageBytes: number;
  call: S3Call;
}

/** Puts large bodies in S3 and rewrites their messages into pointers (one per SqsWritable). */
export class PayloadOffloader {
  readonly #options: OffloaderOptions;
  readonly #thresholdBytes: number;

  constructor(options: OffloaderOptions, thresholdBytes: number) {
    this.#options = options;
    this.#thresholdBytes = thresholdBytes;
  }

  /**
   * The offloader of a stream whose queue is known. Without `thresholdBytes` the threshold is
   * the queue's `MaximumMessageSize` (`queueMaximum()`, read once), or `maxMessageBytes` when
   * that is lower.
   */
  static async create(
    options: OffloaderOptions,
    queueMaximum: () => Promise<number>,
  ): Promise<PayloadOffloader> {
    const threshold =
      options.payloads.thresholdBytes ?? Math.min(await queueMaximum(), options.maxMessageBytes);
    return new PayloadOffloader(options, threshold);
  }

  get thresholdBytes(): number {
    return this.#thresholdBytes;
  }

  /** Whether the message goes through S3. */
  isLarge(item: OffloadItem): boolean {
    return this.#options.payloads.alwaysThroughS3 || item.size > this.#thresholdBytes;
  }

  /**
   * For one round of a stream's writes, in order: offloads the large messages before the first
   * invalid write; a failed put makes its write invalid (so it fails, after the ones before it
   * were sent).
   */
  async offloadWrites(
    writes: ReadonlyArray<{ message: OffloadItem | undefined; invalid: Error | undefined }>,
  ): Promise<void> {
    const stopAt = writes.findIndex((write) => write.invalid !== undefined);
    const valid = stopAt === -1 ? writes : writes.slice(0, stopAt);
    const failed = await this.offloadAll(valid.flatMap((write) => write.message ?? []));
    if (failed === undefined) return;
    const write = valid.find((candidate) => candidate.message === failed.item);
    if (write !== undefined) write.invalid = failed.error;
  }

  /**
   * Offloads every large message of `items` (in place), at most {@link MAX_PUTS_IN_FLIGHT} puts
   * at once, in order. At the first failure no further put starts; resolves with that item and
   * its error (the items before it are ready to send). Puts already in flight finish: their
   * objects are left in S3, their messages unsent.
   */
  async offloadAll(
    items: readonly OffloadItem[],
  ): Promise<{ item: OffloadItem; error: Error } | undefined> {
    // A message carrying a marker name is refused even when small: receivers would misread it.
    const large = items.filter(
      (item) => this.isLarge(item) || markerOf(item.entry.MessageAttributes) !== undefined,
    );
    let next = 0;
    const failures: Array<{ item: OffloadItem; error: Error; position: number }> = [];
    const worker = async (): Promise<void> => {
      while (failures.length === 0 && next < large.length) {
        const position = next++;
        const item = large[position] as OffloadItem;
        try {
          await this.offload(item);
        } catch (error) {
          failures.push({ item, error: error as Error, position });
        }
      }
    };
    const workers = Math.min(MAX_PUTS_IN_FLIGHT, large.length);
    await Promise.all(Array.from({ length: workers }, worker));
    // Puts finish out of order: the first failure is the one earliest in the stream.
    const first = failures.sort((a, b) => a.position - b.position)[0];
    return first === undefined ? undefined : { item: first.item, error: first.error };
  }

  /** Stores one message's body in S3 and turns the message into its pointer. */
  async offload(item: OffloadItem): Promise<void> {
    const { payloads, maxMessageBytes, call } = this.#options;
    const body = item.entry.MessageBody ?? '';
    const attributes = item.entry.MessageAttributes ?? {};
    checkAttributes(attributes, item.index);
    const location: PayloadLocation = {
      bucket: payloads.bucket,
      key: `${payloads.keyPrefix}${randomUUID()}`,
    };
    const pointer = formatPointer(location);
    const [name, marker] = markerAttribute(
      Buffer.byteLength(body, 'utf8'),
      payloads.legacyAttributeName,
    );
    const pointerAttributes: Record<string, MessageAttributeValue> = {
      ...attributes,
      [name]: marker,
    };
    const size = messageSize(pointer, pointerAttributes);
    if (size > maxMessageBytes) {
      // Only the attributes can make a pointer message this big: S3 cannot help.
      throw new MessageTooLargeError(
        `Message #${item.index} is ${size} bytes as an S3 pointer (its attributes are too large), over the limit of ${maxMessageBytes} bytes; it was not sent. Move data from the message attributes into the body`,
        size,
        maxMessageBytes,
        { operation: 'SendMessageBatch', queue: call.queueUrl },
      );
    }
    await putPayload(call, location, body);
    item.entry = { ...item.entry, MessageBody: pointer, MessageAttributes: pointerAttributes };
    item.size = size;
  }
}

/** What a stream knows of its queue once resolved. */
export interface OffloaderStream {
  client: SQSClient;
  queueUrl: string;
  maxMessageBytes: number;
  policy: RequestPolicy;
  signal: AbortSignal;
  onRetry: OnRetry;
}

/** The offloader of an SqsWritable with `largePayloads`, once its queue is known. */
export function createOffloader(
  payloads: NormalizedWritablePayloads,
  stream: OffloaderStream,
): Promise<PayloadOffloader> {
  const { client, queueUrl, maxMessageBytes, policy, signal, onRetry } = stream;
  const call: S3Call = { s3Client: payloads.s3Client, queueUrl, policy, signal, onRetry };
  return PayloadOffloader.create({ payloads, maxMessageBytes, call }, () =>
    getQueueNumber(queueUrl, 'MaximumMessageSize', { client, policy, signal, onRetry }),
  );
}

/** The marker makes one more attribute, and its names are the extended clients' own. */
function checkAttributes(
  attributes: Readonly<Record<string, MessageAttributeValue>>,
  index: number,
): void {
  const reserved = markerOf(attributes);
  if (reserved !== undefined) {
    throw new TypeError(
      `Expected no \`messageAttributes.${reserved}\` on message #${index}: the name is reserved for the S3 pointer marker (large payloads)`,
    );
  }
  const count = Object.keys(attributes).length;
  if (count >= SQS_MAX_ATTRIBUTES) {
    throw new RangeError(
      `Expected \`messageAttributes\` of message #${index} to have at most ${SQS_MAX_ATTRIBUTES - 1} attributes, got ${count}: it goes through S3, and the pointer needs one more (the size marker) of SQS's ${SQS_MAX_ATTRIBUTES}`,
    );
  }
}
