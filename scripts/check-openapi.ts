/**
 * `npm run check:openapi`: fails unless gen/openapi/openapi.json is valid
 * OpenAPI 3.1, every schema in it compiles, every $ref resolves and every
 * operation's example request passes its schema (scripts/openapi/check.ts).
 * Whether the file is what the protos make today is `npm run check:gen`'s job.
 */
import { relative } from "node:path";
import { checkOpenApi, loadOpenApi, OPENAPI_FILE, operationsOf } from "./openapi/check.js";

const file = relative(process.cwd(), OPENAPI_FILE);
const doc = loadOpenApi();
const problems = await checkOpenApi(doc);
if (problems.length > 0) {
  console.error(`check-openapi: ${file} has ${problems.length} problem(s):`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(`check-openapi: ${file} is valid OpenAPI ${String(doc.openapi)} (${operationsOf(doc).length} operations, ${Object.keys(doc.components.schemas).length} schemas)`);
