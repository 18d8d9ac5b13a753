import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * The client a stream uses when none is passed in: the SDK's default credential and region
 * chains, with `us-east-1` when no region is configured anywhere (the SDK would otherwise fail
 * every request with "Region is missing").
 */
export function createClient(config: SQSClientConfig = {}): SQSClient {
  const client = new SQSClient(config);
  if (config.region === undefined) {
    const chain = client.config.region;
    client.config.region = async () => {
      try {
        return await chain();
      } catch {
        return 'us-east-1';
      }
    };
  }
  return client;
}

/** A client given by the user is theirs to destroy; one we built is ours. */
export interface OwnedClient {
  client: SQSClient;
  owned: boolean;
}

export function resolveClient(
  client: SQSClient | undefined,
  config: SQSClientConfig | undefined,
): OwnedClient {
  if (client !== undefined) {
    if (typeof (client as { send?: unknown }).send !== 'function') {
      throw new TypeError(
        'Expected `client` to be an SQSClient from @aws-sdk/client-sqs, got an object without `send`',
      );
    }
    return { client, owned: false };
  }
  return { client: createClient(config), owned: true };
}
