import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';

/**
 * An SQSClient on the SDK's default credential and region chains, with `us-east-1` when no
 * region is configured anywhere (the SDK would otherwise fail every request with "Region is
 * missing"). This is the client a stream builds when none is passed in.
 */
export function createSqsClient(config: SQSClientConfig = {}): SQSClient {
  if (config.region !== undefined) return new SQSClient(config);
  // The chain is read through a throwaway client and given to the constructor: the SDK keeps
  // the region provider it was built with (endpoint and FIPS resolution call it), so patching
  // a built client's config is not enough.
  const probe = new SQSClient({});
  const chain = probe.config.region;
  probe.destroy();
  return new SQSClient({
    ...config,
    region: async () => {
      try {
        return await chain();
      } catch {
        return 'us-east-1';
      }
    },
  });
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
  return { client: createSqsClient(config), owned: true };
}
