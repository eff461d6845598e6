/**
 * A second instance, as a process of its own, for leader.test.ts: takes the
 * leadership named in argv[3] on the database in argv[2], prints "leading"
 * once it does, and holds it until killed.
 */
import { createDatabase } from "../../src/platform/db.js";
import { createLeadership } from "../../src/platform/leader.js";
import { createLogger } from "../../src/platform/logger.js";

const [url, name] = process.argv.slice(2);
const database = await createDatabase({ url, poolMax: 1 });
const leader = createLeadership(database, { name, what: "nothing (a test)", retryMs: 50, logger: createLogger("silent") });
await leader.start();
const wait = setInterval(() => {
  if (!leader.isLeader) return;
  process.stdout.write("leading\n");
  clearInterval(wait);
}, 20);
setInterval(() => {}, 1 << 30);
