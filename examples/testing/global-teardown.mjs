// Jest globalTeardown: stops the emulator global-setup.mjs started (the workers are done).
export default async function globalTeardown() {
  await globalThis.__SQS__?.stop();
}
