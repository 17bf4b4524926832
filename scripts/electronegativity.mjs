#!/usr/bin/env node
/**
 * `npm run electronegativity`: Doyensec's Electronegativity over electron/,
 * for the Electron version installed. Every finding must be listed, with its
 * reason, in electron/electronegativity-accepted.txt; a new finding or a
 * listed one that no longer occurs fails (exit 1). Runs offline: the tool's
 * attempt to fetch release data fails and is ignored.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const acceptedFile = join(root, 'electron', 'electronegativity-accepted.txt');
const electronVersion = JSON.parse(
  readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8'),
).version;

const dir = mkdtempSync(join(tmpdir(), 'mbm-eneg-'));
// SARIF, not CSV: the tool writes its CSV header and rows with two racing writes.
const sarif = join(dir, 'findings.sarif');
try {
  const r = spawnSync(
    join(root, 'node_modules', '.bin', 'electronegativity'),
    ['-i', join(root, 'electron'), '-r', '-e', electronVersion, '-v', 'false', '-o', sarif],
    { cwd: root, encoding: 'utf8' },
  );
  if (r.status !== 0) {
    process.stderr.write(`electronegativity failed (${r.status}):\n${r.stdout}\n${r.stderr}\n`);
    process.exit(1);
  }
  const findings = JSON.parse(readFileSync(sarif, 'utf8')).runs[0].results.map((res) => {
    const loc = res.locations?.[0]?.physicalLocation;
    const uri = loc?.artifactLocation?.uri;
    const file = !uri || uri === 'file:///' ? 'N/A' : uri;
    return {
      key: `${res.ruleId} ${file}`,
      text: `${res.ruleId} ${file}:${loc?.region?.startLine ?? 0} (${res.level}) ${res.message?.text ?? ''}`,
    };
  });

  const accepted = new Map();
  const problems = [];
  for (const line of readFileSync(acceptedFile, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    const m = /^(\S+) (\S+): (.+)$/.exec(line.trim());
    if (!m) problems.push(`malformed line in electron/electronegativity-accepted.txt: ${line}`);
    else accepted.set(`${m[1]} ${m[2]}`, m[3]);
  }
  const found = new Set(findings.map((f) => f.key));
  for (const f of findings) if (!accepted.has(f.key)) problems.push(`new finding: ${f.text}`);
  for (const key of accepted.keys()) if (!found.has(key)) problems.push(`listed but no longer found: ${key}`);

  process.stdout.write(
    `electronegativity (Electron ${electronVersion}): ${findings.length} finding(s), ${findings.length - problems.filter((p) => p.startsWith('new')).length} accepted\n`,
  );
  if (problems.length) {
    process.stderr.write(`${problems.join('\n')}\n`);
    process.exit(1);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
