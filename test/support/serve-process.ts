/** Starts `engine/serve.ts` as a real child process and reads the one line it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export interface ServeProcess {
  url: string;
  origin: string;
  token: string;
  child: ChildProcess;
  /** What the server printed (stdout and stderr, the last LOG_KEEP characters), for a failing spec's report. */
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** How much of the server's output is kept: its end, where a failure shows. */
const LOG_KEEP = 64 * 1024;

export function startServe(dataDir: string, port = 0, extra: string[] = []): Promise<ServeProcess> {
  const child = spawn(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'engine', 'serve.ts'), '--data-dir', dataDir, '--port', String(port), ...extra],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  let log = '';
  const keep = (d: Buffer) => {
    log += d.toString();
    if (log.length > 2 * LOG_KEEP) log = log.slice(-LOG_KEEP);
  };
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < LOG_KEEP) stderr += d.toString();
    keep(d);
  });
  child.stdout!.on('data', keep);
  child.on('exit', (code, signal) => keep(Buffer.from(`[serve exited: code ${code}, signal ${signal}]\n`)));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start in time: ${stderr}`)), 30_000);
    const early = (code: number | null) => reject(new Error(`serve exited with ${code}: ${stderr}`));
    child.once('exit', early);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^Listening on (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+))\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({
        url: m[1]!,
        origin: `http://127.0.0.1:${m[2]}`,
        token: m[3]!,
        child,
        log: () => log.slice(-LOG_KEEP),
        stop: (signal = 'SIGTERM') =>
          new Promise((res) => {
            if (child.exitCode !== null) return res(child.exitCode);
            child.once('exit', (code) => res(code));
            child.kill(signal);
          }),
      });
    });
  });
}
