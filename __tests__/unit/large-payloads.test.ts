import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import {
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { MessageTooLargeError } from '../../lib/core/errors.js';
import { messageSize } from '../../lib/core/message-size.js';
import {
  formatPointer,
  normalizeReadablePayloads,
  normalizeWritablePayloads,
  parsePointer,
  PayloadError,
  PayloadOffloader,
  PointerFormatError,
  type OffloadItem,
} from '../../lib/payloads/index.js';
import { markerOf, withoutMarker } from '../../lib/payloads/pointer.js';
import { DEFAULT_RETRY } from '../../lib/core/retry.js';
import { SqsReadable } from '../../lib/receive/sqs-readable.js';
import { SqsWritable } from '../../lib/send/sqs-writable.js';
import type { SqsMessage } from '../../lib/settle/index.js';
import { deferred, mockedSqs, QUEUE_URL } from '../support/mock-sqs.js';

// Issue 14, unit: the pointer format and its parsing, size and attribute accounting, the
// options' checks, the receive side inside the demand model, and the optional peer.

const BUCKET = 'unit-bucket';

function s3Mock() {
  const s3Client = new S3Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  const mock = mockClient(s3Client);
  mock.on(PutObjectCommand).resolves({});
  mock.on(DeleteObjectCommand).resolves({});
  return { s3Client, mock };
}

function textBody(text: string): GetObjectCommandOutput['Body'] {
  return { transformToString: () => Promise.resolve(text) } as GetObjectCommandOutput['Body'];
}

function offloader(options: { thresholdBytes?: number; maxMessageBytes?: number } = {}) {
  const { s3Client, mock } = s3Mock();
  const maxMessageBytes = options.maxMessageBytes ?? 1_048_576;
  const payloads = normalizeWritablePayloads(
    { s3Client, bucket: BUCKET, thresholdBytes: options.thresholdBytes ?? 100 },
    maxMessageBytes,
  )!;
  const policy = { retry: { ...DEFAULT_RETRY, numOfAttempts: 1 }, requestTimeoutMs: 1_000 };
  const call = { s3Client, queueUrl: QUEUE_URL, policy, signal: undefined };
  return {
    offloader: new PayloadOffloader({ payloads, maxMessageBytes, call }, payloads.thresholdBytes!),
    mock,
  };
}

function item(body: string, attributes?: Record<string, MessageAttributeValue>): OffloadItem {
  return {
    index: 0,
    entry: { MessageBody: body, ...(attributes ? { MessageAttributes: attributes } : {}) },
    size: messageSize(body, attributes),
  };
}

function attributes(count: number): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Array.from({ length: count }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]),
  );
}

describe('pointer format', () => {
  it('writes exactly the Java client’s bytes', () => {
    expect(formatPointer({ bucket: 'b-1', key: 'p/k"1' })).toBe(
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b-1","s3Key":"p/k\\"1"}]',
    );
  });

  it.each([
    [
      'compact',
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]',
    ],
    [
      'spaced',
      ' [ "software.amazon.payloadoffloading.PayloadS3Pointer" ,\n\t{ "s3BucketName" : "b" , "s3Key" : "k" } ] ',
    ],
    [
      'legacy class',
      '["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"b","s3Key":"k"}]',
    ],
    [
      'fields reordered, extra ignored',
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3Key":"k","x":1,"s3BucketName":"b"}]',
    ],
  ])('reads a %s pointer', (_name, body) => {
    expect(parsePointer(body)).toEqual({ bucket: 'b', key: 'k' });
  });

  it.each([
    ['not JSON', 'secret-body {', /not JSON/],
    ['an object', '{"s3BucketName":"b","s3Key":"k"}', /two-element JSON array/],
    [
      'three elements',
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{},1]',
      /two-element/,
    ],
    ['another class', '["com.example.Pointer",{"s3BucketName":"b","s3Key":"k"}]', /pointer class/],
    [
      'fields not an object',
      '["software.amazon.payloadoffloading.PayloadS3Pointer",["b","k"]]',
      /not an object/,
    ],
    [
      'no bucket',
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3Key":"k"}]',
      /s3BucketName/,
    ],
    [
      'an empty key',
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":""}]',
      /s3Key/,
    ],
    [
      'a number key',
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":7}]',
      /s3Key/,
    ],
  ])('refuses %s, never quoting the body', (_name, body, reason) => {
    let error: unknown;
    try {
      parsePointer(body);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PointerFormatError);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).message).not.toContain('secret-body');
  });

  it('finds either marker name and removes both', () => {
    const number = { DataType: 'Number', StringValue: '5' };
    expect(markerOf({ ExtendedPayloadSize: number })).toBe('ExtendedPayloadSize');
    expect(markerOf({ SQSLargePayloadSize: number })).toBe('SQSLargePayloadSize');
    expect(markerOf({ other: number })).toBeUndefined();
    expect(markerOf(undefined)).toBeUndefined();
    const kept = { other: number };
    expect(
      withoutMarker({ ...kept, ExtendedPayloadSize: number, SQSLargePayloadSize: number }),
    ).toEqual(kept);
  });
});

describe('size and attribute accounting on the send side', () => {
  it('offloads only over the threshold, counting attribute names, types and values', () => {
    const { offloader: o } = offloader({ thresholdBytes: 100 });
    const attrs = { ab: { DataType: 'String', StringValue: 'cd' } }; // 2 + 6 + 2 = 10 bytes
    expect(o.isLarge(item('x'.repeat(90), attrs))).toBe(false); // 100
    expect(o.isLarge(item('x'.repeat(91), attrs))).toBe(true); // 101
    expect(o.isLarge(item('é'.repeat(46), attrs))).toBe(true); // 92 + 10: UTF-8 bytes, not characters
  });

  it('the pointer message: marker = the body’s UTF-8 bytes, other attributes kept, size recounted', async () => {
    const { offloader: o, mock } = offloader({ thresholdBytes: 10 });
    const body = '€'.repeat(100); // 300 bytes
    const message = item(body, { kind: { DataType: 'String', StringValue: 'k' } });
    await o.offload(message);
    const put = mock.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put).toMatchObject({ Bucket: BUCKET, Body: body });
    expect(message.entry.MessageBody).toBe(
      formatPointer({ bucket: BUCKET, key: put?.Key as string }),
    );
    expect(message.entry.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'k' },
      ExtendedPayloadSize: { DataType: 'Number', StringValue: '300' },
    });
    expect(message.size).toBe(
      messageSize(message.entry.MessageBody as string, message.entry.MessageAttributes),
    );
  });

  it('9 attributes leave room for the marker; 10 do not; a marker name is refused', async () => {
    const { offloader: o, mock } = offloader({ thresholdBytes: 10 });
    await o.offload(item('y'.repeat(50), attributes(9)));
    await expect(o.offload(item('y'.repeat(50), attributes(10)))).rejects.toThrow(
      /at most 9 attributes, got 10/,
    );
    const reserved = { SQSLargePayloadSize: { DataType: 'Number', StringValue: '1' } };
    await expect(o.offload(item('small', reserved))).rejects.toThrow(/reserved/);
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('a pointer message still over maxMessageBytes (big attributes) is MessageTooLargeError, before any put', async () => {
    const { offloader: o, mock } = offloader({ thresholdBytes: 200, maxMessageBytes: 300 });
    const big = { blob: { DataType: 'String', StringValue: 'z'.repeat(250) } };
    await expect(o.offload(item('b'.repeat(100), big))).rejects.toBeInstanceOf(
      MessageTooLargeError,
    );
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('through SqsWritable: a failed put fails that write with bucket and key; earlier ones are sent, it never is', async () => {
    const { client, mock: sqs } = mockedSqs();
    const sent: string[] = [];
    sqs.on(SendMessageBatchCommand).callsFake((input: SendMessageBatchCommandInput) => {
      sent.push(...(input.Entries ?? []).map((e) => e.MessageBody ?? ''));
      return { Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] };
    });
    const { s3Client, mock } = s3Mock();
    const denied = Object.assign(new Error('Access Denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    mock.on(PutObjectCommand).rejects(denied);
    const sink = new SqsWritable({
      queueUrl: QUEUE_URL,
      client,
      largePayloads: { s3Client, bucket: BUCKET, thresholdBytes: 10, keyPrefix: 'in/' },
    });
    const results: Array<Error | null | undefined> = [];
    sink.on('error', () => undefined);
    sink.write('ok', (error) => results.push(error));
    sink.write('l'.repeat(50), (error) => results.push(error));
    await new Promise((resolve) => sink.on('close', resolve));
    expect(results[0]).toBeFalsy();
    const error = results[1] as PayloadError;
    expect(error).toBeInstanceOf(PayloadError);
    expect(error).toMatchObject({ operation: 'PutObject', bucket: BUCKET, code: 'AccessDenied' });
    expect(error.key).toMatch(/^in\//);
    expect(error.message).toContain(`s3://${BUCKET}/${error.key}`);
    expect(error.message).toContain('s3:PutObject');
    expect(error.message).not.toContain('l'.repeat(20));
    expect(sent).toEqual(['ok']);
  });

  it('without largePayloads the limit stays maxMessageBytes', async () => {
    const { client } = mockedSqs();
    const sink = new SqsWritable({ queueUrl: QUEUE_URL, client, maxMessageBytes: 100 });
    const failed = new Promise<Error | null | undefined>((resolve) =>
      sink.write('m'.repeat(101), (error) => resolve(error)),
    );
    sink.on('error', () => undefined);
    expect(await failed).toBeInstanceOf(MessageTooLargeError);
  });
});

describe('largePayloads options', () => {
  const { s3Client } = s3Mock();

  it.each([
    [{ s3Client }, 'Expected `largePayloads.bucket` to be a non-empty string, got `undefined`'],
    [{ s3Client, bucket: '' }, 'Expected `largePayloads.bucket` to be a non-empty string, got ``'],
    [
      { bucket: 'b' },
      'Expected `largePayloads.s3Client` to be an S3Client from @aws-sdk/client-s3, got `undefined`',
    ],
    [
      { s3Client, bucket: 'b', thresholdBytes: 2_000 },
      'Expected `largePayloads.thresholdBytes` to be an integer from 0 to 1000',
    ],
    [
      { s3Client, bucket: 'b', alwaysThroughS3: 'yes' },
      'Expected `largePayloads.alwaysThroughS3` to be a boolean',
    ],
    [
      { s3Client, bucket: 'b', keyPrefix: '/abs' },
      'Expected `largePayloads.keyPrefix` to be up to 988',
    ],
    [{ s3Client, bucket: 'b', keyPrefix: 'a/../b' }, 'Expected `largePayloads.keyPrefix`'],
    [{ s3Client, bucket: 'b', keyPrefix: 'sp ace' }, 'Expected `largePayloads.keyPrefix`'],
    [{ s3Client, bucket: 'b', threshold: 1 }, 'Unknown option `largePayloads.threshold`'],
  ])('SqsWritable refuses %p', (largePayloads, message) => {
    expect(() => normalizeWritablePayloads(largePayloads, 1_000)).toThrow(message);
  });

  it('SqsReadable: deleteFromS3 defaults to true and must be a boolean; the marker is asked for', () => {
    expect(normalizeReadablePayloads({ s3Client })).toEqual({ s3Client, deleteFromS3: true });
    expect(() => normalizeReadablePayloads({ s3Client, deleteFromS3: 1 })).toThrow(
      'Expected `largePayloads.deleteFromS3` to be a boolean, got `1`',
    );
    expect(
      () =>
        new SqsReadable({ queueUrl: QUEUE_URL, largePayloads: { s3Client, bucket: 'b' } as never }),
    ).toThrow('Unknown option `largePayloads.bucket`');
  });
});

describe('SqsReadable with largePayloads', () => {
  function pointerMessages(count: number): Message[] {
    return Array.from({ length: count }, (_, i) => ({
      MessageId: `p-${i}`,
      ReceiptHandle: `rh-${i}`,
      Body: formatPointer({ bucket: BUCKET, key: `k-${i}` }),
      Attributes: { ApproximateReceiveCount: '1' },
      MessageAttributes: {
        ExtendedPayloadSize: { DataType: 'Number', StringValue: '7' },
        keep: { DataType: 'String', StringValue: String(i) },
      },
    }));
  }

  it('reads payloads before pushing, and the receive stays counted as requested meanwhile (invariant 1)', async () => {
    const { client, mock: sqs } = mockedSqs();
    let receives = 0;
    sqs.on(ReceiveMessageCommand).callsFake(() => {
      receives++;
      return receives === 1 ? { Messages: pointerMessages(10) } : new Promise(() => undefined);
    });
    const { s3Client, mock } = s3Mock();
    const gate = deferred<void>();
    mock.on(GetObjectCommand).callsFake(async (input: { Key: string }) => {
      await gate.promise;
      return { Body: textBody(`payload of ${input.Key}`) };
    });
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      highWaterMark: 10,
      heartbeat: false,
      largePayloads: { s3Client, deleteFromS3: false },
    });
    const first = new Promise<unknown>((resolve) => source.once('readable', resolve));
    for (let i = 0; i < 20 && mock.commandCalls(GetObjectCommand).length < 10; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Ten gets at once (the batch), none delivered yet, and no second receive.
    expect(mock.commandCalls(GetObjectCommand)).toHaveLength(10);
    expect(source.readableLength).toBe(0);
    expect(receives).toBe(1);
    gate.resolve();
    await first;
    const message = source.read() as SqsMessage;
    expect(message.body).toBe('payload of k-0');
    expect(message.payload).toEqual({ bucket: BUCKET, key: 'k-0' });
    expect(message.messageAttributes).toEqual({ keep: { DataType: 'String', StringValue: '0' } });
    expect(message.raw.Body).toBe(formatPointer({ bucket: BUCKET, key: 'k-0' }));
    source.destroy();
  });

  it('ack() resolves after the S3 delete; a failed delete is a payloadDeleteError, the ack still resolves', async () => {
    const { client, mock: sqs } = mockedSqs();
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: pointerMessages(2) })
      .resolves({});
    const { s3Client, mock } = s3Mock();
    mock.on(GetObjectCommand).callsFake(() => ({ Body: textBody('x') }));
    const gone = Object.assign(new Error('denied'), {
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    mock.on(DeleteObjectCommand, { Key: 'k-1' }).rejects(gone);
    const source = new SqsReadable({
      queueUrl: QUEUE_URL,
      client,
      waitTimeSeconds: 0,
      largePayloads: { s3Client },
    });
    const deleteErrors: PayloadError[] = [];
    source.on('payloadDeleteError', (error: PayloadError) => deleteErrors.push(error));
    const got: SqsMessage[] = [];
    await new Promise<void>((resolve) =>
      source.on('data', (message: SqsMessage) => {
        if (got.push(message) === 2) resolve();
      }),
    );
    await got[0]?.ack();
    expect(mock.commandCalls(DeleteObjectCommand, { Key: 'k-0' })).toHaveLength(1);
    await got[1]?.ack();
    expect(deleteErrors).toHaveLength(1);
    source.destroy();
    expect(deleteErrors[0]).toMatchObject({
      operation: 'DeleteObject',
      bucket: BUCKET,
      key: 'k-1',
      messageId: 'p-1',
    });
  });
});

describe('@aws-sdk/client-s3 is an optional peer', () => {
  it('the main entry loads and both streams work without it (jest.doMock)', () => {
    jest.isolateModules(() => {
      jest.doMock('@aws-sdk/client-s3', () => {
        throw new Error("Cannot find module '@aws-sdk/client-s3'");
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const entry = require('../../lib/index.js') as typeof import('../../lib/index.js');
      const { client } = mockedSqs();
      new entry.SqsReadable({ queueUrl: QUEUE_URL, client }).destroy();
      new entry.SqsWritable({ queueUrl: QUEUE_URL, client }).destroy();
    });
    jest.dontMock('@aws-sdk/client-s3');
  });

  it('a plain Node process whose resolver cannot find it loads the entry (child process)', () => {
    const root = join(__dirname, '..', '..');
    const script = `
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === '@aws-sdk/client-s3' || request.startsWith('@aws-sdk/client-s3/')) {
          const error = new Error("Cannot find module '" + request + "'");
          error.code = 'MODULE_NOT_FOUND';
          throw error;
        }
        // The sources import './x.js' (NodeNext); the files are './x.ts'.
        if (request.startsWith('.') && request.endsWith('.js')) {
          try {
            return resolve.call(this, request.slice(0, -3), ...rest);
          } catch {}
        }
        return resolve.call(this, request, ...rest);
      };
      const entry = require('./lib/index.ts');
      const loaded = Object.keys(require.cache).some((file) => file.includes('client-s3'));
      process.stdout.write(JSON.stringify({ SqsReadable: typeof entry.SqsReadable, loaded }));
    `;
    const out = execFileSync(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-e', script],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
      },
    );
    expect(JSON.parse(out)).toEqual({ SqsReadable: 'function', loaded: false });
  });
});
