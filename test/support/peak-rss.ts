/**
 * This process's peak resident memory in MB: the kernel's high-water mark of its own address
 * space (VmHWM), which starts afresh at exec. Not `process.resourceUsage().maxRSS`: getrusage keeps
 * its maximum across execve, so a child spawned by a large parent (a vitest worker, a bench that
 * has just written a gigabyte) reads the parent's peak until it outgrows it, and a growth measured
 * from it can read zero whatever the child does. Falls back to maxRSS where /proc is absent.
 */
import { existsSync, readFileSync } from 'node:fs';

export function peakRssMB(): number {
  if (existsSync('/proc/self/status')) {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return (Number(m[1]) * 1024) / 1e6;
  }
  return (process.resourceUsage().maxRSS * 1024) / 1e6;
}
