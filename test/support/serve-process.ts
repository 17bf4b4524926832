/** Starts `engine/serve.ts` as a real child process and reads the one line it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

export interface ServeProcess {
  url: string;
  origin: string;
  token: string;
  child: ChildProcess;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function startServe(dataDir: string, port = 0, extra: string[] = []): Promise<ServeProcess> {
  const child = spawn(
    join(root, 'node_modules', '.bin', 'tsx'),
    [join(root, 'engine', 'serve.ts'), '--data-dir', dataDir, '--port', String(port), ...extra],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start in time: ${stderr}`)), 30_000);
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^Listening on (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+))\n/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url: m[1]!,
        origin: `http://127.0.0.1:${m[2]}`,
        token: m[3]!,
        child,
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
