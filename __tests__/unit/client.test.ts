import { createSqsClient } from '../../lib/core/client.js';

// A stream built without a client must work where no region is configured at all.

describe('createSqsClient', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('falls back to us-east-1 when no region is configured anywhere', async () => {
    delete process.env['AWS_REGION'];
    delete process.env['AWS_DEFAULT_REGION'];
    process.env['AWS_CONFIG_FILE'] = '/nonexistent/aws-config';
    process.env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent/aws-credentials';
    const client = createSqsClient({ credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    expect(await client.config.region()).toBe('us-east-1');
    // FIPS resolution calls the region provider the client was built with.
    expect(await client.config.useFipsEndpoint()).toBe(false);
    // Endpoint resolution reads the region the client was built with, not a patched one.
    const endpoint = await client.config.endpointProvider(
      { Region: await client.config.region(), UseFIPS: false, UseDualStack: false },
      {},
    );
    expect(endpoint.url.hostname).toBe('sqs.us-east-1.amazonaws.com');
    client.destroy();
  });

  it('keeps the region of the SDK chain when there is one', async () => {
    process.env['AWS_REGION'] = 'eu-west-3';
    const client = createSqsClient();
    expect(await client.config.region()).toBe('eu-west-3');
    client.destroy();
  });

  it('uses a region given in the config as is', async () => {
    const client = createSqsClient({ region: 'ap-south-1' });
    expect(await client.config.region()).toBe('ap-south-1');
    client.destroy();
  });
});
