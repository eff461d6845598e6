// Counts one vitest run for .ci/run from its JSON report.
//
//   node scripts/ci-summary.mjs <report.json> <vitest exit code> [label]
//
// Prints "<passed> <failed>" on stdout (for the caller to add up) and, on
// stderr, the failing tests and any reason the run counts as failed.
//
// A run is never counted as green by accident: a test file that failed to
// load counts as one failure, a missing or unreadable report counts as one
// failure, a non-zero exit with no failing test counts as one failure
// (no test files, an unhandled error, a crash, a timeout), and so does a run
// in which no test ran at all.
import { readFileSync } from "node:fs";

const [file, exitCodeArg = "0", label = "vitest"] = process.argv.slice(2);
const exitCode = Number(exitCodeArg);
const notes = [];
let passed = 0;
let failed = 0;
let skipped = 0;

let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  notes.push(`no usable JSON report at ${file} (${err.code ?? err.message})`);
}

if (report) {
  passed = report.numPassedTests ?? 0;
  failed = report.numFailedTests ?? 0;
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const failures = [];
  for (const suite of report.testResults ?? []) {
    const name = String(suite.name ?? "?").replace(`${process.cwd()}/`, "");
    const bad = (suite.assertionResults ?? []).filter((t) => t.status === "failed");
    for (const t of bad) failures.push(`${name} > ${t.fullName ?? t.title}`);
    if (suite.status === "failed" && bad.length === 0) {
      // The file itself failed: import error, failing hook, syntax error...
      failed += 1;
      const why = String(suite.message ?? "").split("\n")[0].slice(0, 300);
      failures.push(`${name} (file failed${why ? `: ${why}` : ""})`);
    }
  }
  if (failures.length > 0) {
    const shown = failures.slice(0, 50);
    process.stderr.write(`[${label}] failing:\n${shown.map((f) => `  ✗ ${f}`).join("\n")}\n`);
    if (failures.length > shown.length) process.stderr.write(`  ... and ${failures.length - shown.length} more\n`);
  }
  if (passed + failed === 0) notes.push("no test ran");
}

if (failed === 0 && (exitCode !== 0 || notes.length > 0)) {
  failed = 1;
  if (exitCode !== 0) {
    notes.push(`vitest exited with code ${exitCode}${exitCode === 124 ? " (timed out)" : ""} without a failing test`);
  }
}
for (const n of notes) process.stderr.write(`[${label}] ${n}\n`);
process.stderr.write(`[${label}] tests: passed=${passed} failed=${failed} skipped=${skipped}\n`);
process.stdout.write(`${passed} ${failed}\n`);
