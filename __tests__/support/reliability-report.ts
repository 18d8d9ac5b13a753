/**
 * The figures the reliability tests measure: printed (console.log, one JSON object per test,
 * prefixed `RELIABILITY`) and, when `RELIABILITY_RESULTS` names a file, appended to it as
 * NDJSON, to be copied into docs/reliability.md.
 */
import { appendFileSync } from 'node:fs';

export function report(name: string, figures: Record<string, unknown>): void {
  const line = JSON.stringify({ test: name, at: new Date().toISOString(), ...figures });
  console.log(`RELIABILITY ${line}`);
  const file = process.env['RELIABILITY_RESULTS'];
  if (file) appendFileSync(file, `${line}\n`);
}
