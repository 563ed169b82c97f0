import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticks: number | undefined;
/** Clock ticks per second of /proc's utime and stime (sysconf(_SC_CLK_TCK); 100 on Linux). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

interface ProcStat {
  pid: number;
  ppid: number;
  /** utime of every thread of the process, in seconds. */
  userSeconds: number;
  /** stime (kernel time on its behalf: syscalls, fsync, TCP), in seconds. */
  systemSeconds: number;
  rssBytes: number;
}

const PAGE = 4096;

/** proc(5): fields after the parenthesised comm, which may itself hold spaces or parentheses. */
function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15, rss 24.
  return {
    pid,
    ppid: Number(f[1]),
    userSeconds: Number(f[11]) / clockTicks(),
    systemSeconds: Number(f[12]) / clockTicks(),
    rssBytes: Number(f[21]) * PAGE,
  };
}

/** `root` and all its descendants (e.g. a cluster primary and its workers). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s === undefined) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(s.pid);
    children.set(s.ppid, list);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

export interface TreeSample {
  pids: number[];
  cpuSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  /** Per process, in the order of `pids`: utime + stime. */
  cpuSecondsByProcess: number[];
  /** Per process, in the order of `pids`. */
  rssBytes: number[];
}

/** CPU seconds (summed) and resident memory (per process) of a process tree. */
export function sampleTree(root: number): TreeSample {
  const pids = processTree(root);
  let userSeconds = 0;
  let systemSeconds = 0;
  const rssBytes: number[] = [];
  const cpuSecondsByProcess: number[] = [];
  for (const pid of pids) {
    const s = readStat(pid);
    userSeconds += s?.userSeconds ?? 0;
    systemSeconds += s?.systemSeconds ?? 0;
    cpuSecondsByProcess.push((s?.userSeconds ?? 0) + (s?.systemSeconds ?? 0));
    rssBytes.push(s?.rssBytes ?? 0);
  }
  return {
    pids,
    cpuSeconds: userSeconds + systemSeconds,
    userSeconds,
    systemSeconds,
    cpuSecondsByProcess,
    rssBytes,
  };
}
