// Run by pack-check.sh in a scratch project: `require('sqs-streams/testing')` works, with fauxqs
// (argv[2] "present": the emulator starts and makes a round trip) or without it ("absent": a
// clear error naming fauxqs, and SQS_ENDPOINT still works). pack-check-testing.mjs runs the same
// check on `import`.
async function check(startSqs, fauxqs, how) {
  if (fauxqs === 'present') {
    const sqs = await startSqs();
    const queueUrl = await sqs.createQueue('pack-check');
    await sqs.send(queueUrl, ['a', 'b']);
    const left = (await sqs.drain(queueUrl, { waitTimeSeconds: 0 })).sort().join(',');
    await sqs.stop();
    if (!sqs.emulator || left !== 'a,b') throw new Error(`${how}: the round trip gave "${left}"`);
  } else {
    const error = await startSqs().then(
      () => undefined,
      (caught) => caught,
    );
    if (!/fauxqs is not installed: npm install --save-dev fauxqs@1\.9\.2/.test(error?.message)) {
      throw new Error(`${how}: without fauxqs, expected the install error, got ${error}`);
    }
    const sqs = await startSqs({ env: { SQS_ENDPOINT: 'http://127.0.0.1:9' } });
    await sqs.stop();
    if (sqs.emulator) throw new Error(`${how}: SQS_ENDPOINT was given, yet an emulator started`);
  }
  console.log(`${how} sqs-streams/testing ok (fauxqs ${fauxqs})`);
}

module.exports = { check };

if (require.main === module) {
  check(require('sqs-streams/testing').startSqs, process.argv[2], 'require').catch((error) => {
    console.error(String(error));
    process.exit(1);
  });
}
