// What the ingest benchmark reads off the machine: CPU seconds and RSS of a process (/proc), the CPU of
// a whole Postgres cluster (its postmaster and every backend, live or exited), which process listens
// on a port, and the top self-time frames of a V8 .cpuprofile (deno --cpu-prof).

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const TICKS = 100;

function statFields(pid: number): string[] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name is in parentheses and may hold spaces: fields start after the last ")".
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** CPU seconds (user + system) process `pid` has used so far. */
export function processCpuSeconds(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

/** Resident set size of `pid` now, and its peak (VmHWM), in MB. */
export function processRssMb(pid: number): { now: number; peak: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { now: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/** CPU seconds of a Postgres cluster so far: the postmaster, its exited children (reaped into its
 * cutime/cstime: pgbench's backends, which end with the run) and its live children (the function's
 * pool, autovacuum, WAL writer, checkpointer). */
export function clusterCpuSeconds(postmasterPid: number): number {
  const own = statFields(postmasterPid);
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const f = statFields(Number(entry.name));
      if (Number(f[1]) === postmasterPid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // Gone meanwhile: its time is in the postmaster's cutime by now.
    }
  }
  return ticks / TICKS;
}

/** The postmaster of the cluster behind `backendPid` (a backend's parent). */
export function postmasterOf(backendPid: number): number {
  return Number(statFields(backendPid)[1]);
}

/** The process listening on a loopback TCP port (ss -ltnp), or null. */
export async function listeningPid(port: number): Promise<number | null> {
  const { stdout } = await new Deno.Command("ss", { args: ["-ltnpH", `sport = :${port}`], stdout: "piped" })
    .output();
  const pid = /pid=(\d+)/.exec(new TextDecoder().decode(stdout))?.[1];
  return pid ? Number(pid) : null;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

export interface ProfileFrame {
  frame: string;
  selfMs: number;
  share: number;
}

/** The frames with the most self time in a .cpuprofile (samples × their time deltas), merged by
 * function and location; `(idle)` (the event loop waiting) is left out of the shares. */
export function topSelfFrames(profile: {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}, count: number): { frames: ProfileFrame[]; busyMs: number } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byFrame = new Map<string, number>();
  let busyUs = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    if (functionName === "(idle)") return;
    const us = profile.timeDeltas[i] ?? 0;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + us);
    busyUs += us;
  });
  const frames = [...byFrame.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { frames, busyMs: busyUs / 1000 };
}

/** Self time by where the code comes from: our modules by folder, npm packages by name, V8 and the
 * runtime (native frames, garbage collection) apart. */
export function selfTimeByOrigin(profile: {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}): { origin: string; share: number }[] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byOrigin = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const { functionName, url } = nodes.get(id)!.callFrame;
    if (functionName === "(idle)") return;
    const us = profile.timeDeltas[i] ?? 0;
    const origin = originOf(functionName, url);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
    busy += us;
  });
  return [...byOrigin.entries()].sort((a, b) => b[1] - a[1])
    .map(([origin, us]) => ({ origin, share: busy > 0 ? us / busy : 0 }));
}

function originOf(functionName: string, url: string): string {
  if (!url) return functionName.startsWith("(") ? `V8 ${functionName}` : "native (runtime, crypto, I/O)";
  const npm = /\/npm\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return `npm:${npm[1]}`;
  if (url.startsWith("ext:") || url.startsWith("node:")) return "Deno runtime (ext:, node:)";
  const ours = /\/(supabase\/functions\/[^/]+(?:\/[^/]+)?|tests\/support|scripts\/local)\//.exec(url);
  if (ours) return ours[1];
  return shortUrl(url);
}

function shortUrl(url: string): string {
  const npm = /\/npm\/registry\.npmjs\.org\/(.*)$/.exec(url);
  if (npm) return `npm:${npm[1]}`;
  const repo = url.indexOf("/supabase/functions/");
  if (repo >= 0) return url.slice(repo + 1);
  return url.replace(/^file:\/\/.*\/(tests|scripts)\//, "$1/");
}
