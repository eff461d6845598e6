/**
 * Runs one generator thread: `module` (a TypeScript file beside this one)
 * through worker-entry.mjs, with `input` as its workerData; resolves to the
 * one message it posts, then ends the thread.
 */
import { Worker } from "node:worker_threads";

const WORKER_ENTRY = new URL("./worker-entry.mjs", import.meta.url);

export function runWorker<I extends object, O>(module: string, input: I): Promise<O> {
  return new Promise<O>((resolve, reject) => {
    const w = new Worker(WORKER_ENTRY, { workerData: { ...input, module: new URL(module, import.meta.url).href } });
    w.once("message", (m: O) => {
      resolve(m);
      void w.terminate();
    });
    w.once("error", reject);
  });
}
