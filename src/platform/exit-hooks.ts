/**
 * Work that must finish before the process exits on a signal, after the
 * servers have drained: today the telemetry flush registered by
 * src/instrumentation.ts (which loads before everything and shares this
 * module instance with src/main.ts). main.ts runs the hooks, bounded in
 * time, then exits.
 */
const hooks: (() => Promise<void>)[] = [];

export function addExitHook(hook: () => Promise<void>): void {
  hooks.push(hook);
}

/** Runs every hook at once; resolves when all have settled or after `timeoutMs`. */
export async function runExitHooks(timeoutMs: number): Promise<void> {
  if (hooks.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  await Promise.race([Promise.allSettled(hooks.map((hook) => hook())), late]);
  clearTimeout(timer);
}
