// Prints one plain closing line that any CI log reader understands, as the very last line of
// the run (on exit, after Jest's own summary): "tests: N passed, N failed, N skipped". Failed
// counts failed tests and test files that failed to run. With SQS_STREAMS_TEST_SUMMARY set to a
// file, the counts are also appended to it as one JSON line, for a script that runs Jest several
// times (.ci/run, once per Node version) to print the total last.
const { appendFileSync } = require('node:fs');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const counts = {
      passed: results.numPassedTests,
      failed:
        results.numFailedTests + results.numFailedTestSuites + results.numRuntimeErrorTestSuites,
      skipped: results.numPendingTests + results.numTodoTests,
    };
    const file = process.env.SQS_STREAMS_TEST_SUMMARY;
    if (file) appendFileSync(file, `${JSON.stringify(counts)}\n`);
    const line = `tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`;
    process.once('exit', () => process.stderr.write(line));
  }
}
module.exports = SummaryReporter;
