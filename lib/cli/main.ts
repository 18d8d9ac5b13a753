#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { SqsStreamError } from '../index.js';
import {
  addConnectionOptions,
  addReceiveOptions,
  addS3Options,
  CliError,
  parseInteger,
} from './common.js';
import { demoCommand, type DemoFlags } from './demo.js';
import { moveCommand, type MoveCommandFlags } from './move.js';
import { flushOutput } from './output.js';
import { receiveCommand, type ReceiveCommandFlags } from './receive.js';
import { sendCommand, type SendCommandFlags } from './send.js';

/** Exit codes: the command did its job; it failed; it was called wrong. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const EXIT_HELP = `
Exit codes: 0 done, 1 failed, 2 usage error.
Signals: SIGINT/SIGTERM stop gracefully (what was received is finished, nothing is lost or left
invisible); a second signal releases held messages at once and exits with 1.
A <queue> is a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>) or a queue name.`;

/** The command tree. `run` receives each command's exit code. */
export function buildProgram(run: (code: Promise<number>) => void): Command {
  const program = new Command('sqs-streams')
    .description(
      'Receive, send and move Amazon SQS messages with Node streams (backpressure, batching, graceful stop).',
    )
    .version(version(), '-V, --version')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({
      outputError: (text, write) =>
        write(text.startsWith('error:') ? `sqs-streams: ${text}` : text),
    })
    .addHelpText('after', EXIT_HELP);

  addReceiveOptions(
    addConnectionOptions(
      addS3Options(
        program.command('receive'),
        'resolve large payloads (extended-client S3 pointers): print the S3 object as the body, and delete it with the message under --delete; the pointer names its bucket, normally this one',
      )
        .description(
          'Print messages as NDJSON on stdout (messageId, body, attributes, messageAttributes, receiveCount).',
        )
        .argument('<queue>', 'queue URL or name')
        .option('--delete', 'delete each message once its line was written to stdout')
        .option('--body-only', 'print raw bodies, one per line, instead of NDJSON'),
    ),
    undefined,
    'never with --delete, 2000 without',
  )
    .addHelpText(
      'after',
      `
With --delete it consumes: each message is deleted once its line was written, and it runs
until stopped, --max or --idle-timeout. Without --delete it peeks: messages are held
(invisible) while it runs, so each is printed once, and made visible again at the end, which
comes once the queue has been empty for 2 s: the queue is left as it was. Stdout
backpressure (a slow reader of the pipe) slows receiving. The summary goes to stderr.

Examples:
  sqs-streams receive my-queue --max 10
  sqs-streams receive my-queue --delete --idle-timeout 5000 > messages.ndjson
  sqs-streams receive my-queue --delete --s3-bucket my-payloads`,
    )
    .action((queue: string, flags: ReceiveCommandFlags) => run(receiveCommand(queue, flags)));

  addConnectionOptions(
    addS3Options(
      program.command('send'),
      "send a message over the queue's MaximumMessageSize through this S3 bucket, as the AWS extended clients do (docs/large-payloads.md)",
    )
      .description('Send one message per stdin line (NDJSON objects, or raw lines with --raw).')
      .argument('<queue>', 'queue URL or name')
      .option('--raw', 'each line is a message body as it is (no JSON)'),
  )
    .addHelpText(
      'after',
      `
A line is a JSON object {"body": ..., "delaySeconds": n, "messageAttributes": {...},
"groupId": "...", "deduplicationId": "..."} (a non-string body is sent as JSON), or a JSON
string (the body). Lines printed by \`receive\` work as they are. Empty lines are skipped.
A bad line stops the command (exit 1) naming its line number; every message from the lines
before it was sent and confirmed. Prints a summary line on stdout.

Examples:
  echo '{"body":"hello"}' | sqs-streams send my-queue
  sqs-streams send my-queue --raw < bodies.txt
  sqs-streams send my-queue --s3-bucket my-payloads < big-orders.ndjson`,
    )
    .action((queue: string, flags: SendCommandFlags) => run(sendCommand(queue, flags)));

  addReceiveOptions(
    addConnectionOptions(
      program
        .command('move')
        .description(
          'Move messages from one queue to another: each is deleted from <from> only after <to> accepted it.',
        )
        .argument('<from>', 'source queue URL or name')
        .argument('<to>', 'destination queue URL or name')
        .option(
          '--group-id <id>',
          'message group for a FIFO destination when a message has none (from a standard queue)',
        ),
    ),
    5_000,
  )
    .addHelpText(
      'after',
      `
A DLQ redrive that works on LocalStack and across accounts. Bodies and message attributes are
kept; between FIFO queues the group and deduplication ids too. A large-payload message (an
extended client's S3 pointer) moves as its pointer: the object stays in S3, and a Java,
Python or sqs-streams consumer of <to> resolves it. Ends once <from> has been empty
for --idle-timeout ms (default 5000), or after --max messages. Prints a summary on stdout.

Example:
  sqs-streams move my-queue-dlq my-queue --max 1000`,
    )
    .action((from: string, to: string, flags: MoveCommandFlags) =>
      run(moveCommand(from, to, flags)),
    );

  addConnectionOptions(
    program
      .command('demo')
      .description(
        'Send N messages, drain them through SqsReadable -> Transform -> SqsAckWritable, and report throughput, requests per message and peak buffer.',
      )
      .addOption(
        new Option('--count <n>', 'messages to send and drain')
          .argParser(parseInteger('--count', 1, 1_000_000))
          .default(10_000),
      )
      .option(
        '--queue <queue>',
        'use this (empty) queue instead of creating one; without --endpoint that is on AWS',
      )
      .addOption(
        new Option('--concurrency <n>', 'ReceiveMessage requests in flight at once, 1-100')
          .argParser(parseInteger('--concurrency', 1, 100))
          .default(1),
      ),
  )
    .addHelpText(
      'after',
      `
Without --endpoint or --queue it starts the embedded emulator fauxqs (a devDependency: run it
from a clone after \`npm ci\`) and needs no AWS account. With --endpoint (LocalStack) or --queue
(AWS) it runs there, creating and deleting a queue of its own unless --queue names one.
The last line is the machine-readable summary:
  demo: sent=N received=N acked=N duplicates=0 missing=0 requests/msg=R peak-buffer=B msgs/s=T`,
    )
    .action((flags: DemoFlags) => run(demoCommand(flags)));

  return program;
}

const NETWORK_CODES =
  /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH)\b/;

/** A hint for errors whose own message does not say what to do. */
function hint(message: string): string {
  const text = hintText(message);
  if (text === '') return '';
  return /[.!?]$/.test(message) ? ` ${text}` : `. ${text}`;
}

function hintText(message: string): string {
  if (NETWORK_CODES.test(message)) {
    return 'Check the endpoint (--endpoint) and region (--region), that the service is running, and that the network reaches it.';
  }
  if (/Region is missing/.test(message)) return 'Pass --region or set AWS_REGION.';
  if (/Could not load credentials/.test(message)) {
    return 'Set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the SDK default credential chain).';
  }
  return '';
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander printed its message already (help, version, or a usage error).
    return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (error instanceof CliError) {
    process.stderr.write(`sqs-streams: error: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof SqsStreamError) {
    process.stderr.write(`sqs-streams: error: ${error.message}${hint(error.message)}\n`);
    return EXIT_FAILED;
  }
  const e = error as { name?: unknown; message?: unknown; code?: unknown } | undefined;
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const code = typeof e?.code === 'string' && e.code !== name ? ` (${e.code})` : '';
  process.stderr.write(`sqs-streams: error: ${name}: ${message}${code}${hint(message + code)}\n`);
  return EXIT_FAILED;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  let pending: Promise<number> | undefined;
  const program = buildProgram((code) => {
    pending = code;
  });
  try {
    await program.parseAsync(argv);
    return pending === undefined ? EXIT_OK : await pending;
  } catch (error) {
    return report(error);
  }
}

if (require.main === module) {
  // The SDK warns on every run that its 2027 releases will need Node 22; this package supports
  // Node 20, and an operator can do nothing about it here. Set it to "false" to see it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.on('uncaughtException', (error) => {
    process.stderr.write(`sqs-streams: internal error: ${error.name}: ${error.message}\n`);
    process.exit(EXIT_FAILED);
  });
  void main().then(async (code) => {
    await flushOutput();
    process.exit(code);
  });
}
