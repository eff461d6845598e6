/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self time per
 * function and per owner (our src/, each node_modules package, node
 * internals, GC), as markdown.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idlePct: number;
  readonly functions: { name: string; where: string; selfMs: number; pct: number }[];
  readonly owners: { owner: string; selfMs: number; pct: number }[];
}

function ownerOf(url: string, fn: string): string {
  if (!url) return fn.startsWith("(") ? fn : "(native)";
  if (url.startsWith("node:")) return "node internals";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const ours = /\/(src|gen|bench)\/([^/]+)/.exec(url);
  if (ours) return `${ours[1]}/${ours[2]}`;
  return url;
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\/.*?\/(node_modules|src|gen|bench)\//, "$1/");
}

/** `skipMs`: ignore the first samples (start-up: module loading, migrations). */
export function summariseProfile(path: string, skipMs = 0, top = 15): ProfileSummary {
  const p = JSON.parse(readFileSync(path, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < skipMs * 1000) continue;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + dt);
  }
  let total = 0;
  let idle = 0;
  const fns = new Map<string, { name: string; where: string; us: number }>();
  const owners = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += us;
    if (functionName === "(idle)") {
      idle += us;
      continue;
    }
    const name = functionName || "(anonymous)";
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : "";
    const key = `${name}@${where}`;
    const f = fns.get(key) ?? { name, where, us: 0 };
    f.us += us;
    fns.set(key, f);
    const o = ownerOf(url, name);
    owners.set(o, (owners.get(o) ?? 0) + us);
  }
  const busy = total - idle || 1;
  return {
    totalMs: total / 1000,
    idlePct: (100 * idle) / (total || 1),
    functions: [...fns.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, selfMs: f.us / 1000, pct: (100 * f.us) / busy })),
    owners: [...owners]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([owner, us]) => ({ owner, selfMs: us / 1000, pct: (100 * us) / busy })),
  };
}

export function profileMarkdown(title: string, s: ProfileSummary): string {
  const lines = [
    `### ${title}`,
    "",
    `${s.totalMs.toFixed(0)} ms sampled, ${s.idlePct.toFixed(0)}% idle; shares below are of the busy time.`,
    "",
    "| self % | by owner |",
    "|---:|---|",
    ...s.owners.slice(0, 10).map((o) => `| ${o.pct.toFixed(1)} | ${o.owner} |`),
    "",
    "| self % | function | where |",
    "|---:|---|---|",
    ...s.functions.map((f) => `| ${f.pct.toFixed(1)} | \`${f.name}\` | ${f.where} |`),
    "",
  ];
  return lines.join("\n");
}
