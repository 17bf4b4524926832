/**
 * The validation report as one self-contained HTML page (no scripts, no
 * external resources) that a DBA can attach to a compliance record.
 */
import type { ValidationReport } from './restore-validation.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface ValidationContext {
  source: string;
  target: string;
  generatedAt: string;
  /** Recovery time measured by the restore, per phase, when the validation followed a restore. */
  phases?: { name: string; ms: number }[];
}

export function validationHtml(report: ValidationReport, ctx: ValidationContext): string {
  const rows = report.checks
    .map(
      (c) =>
        `<tr class="${c.passed ? 'pass' : 'fail'}"><td>${c.passed ? 'PASS' : 'FAIL'}</td><td>${esc(c.title)}</td><td>${
          c.findings.length ? `<ul>${c.findings.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>` : '—'
        }</td></tr>`,
    )
    .join('\n');
  const rto = ctx.phases?.length
    ? `<h2>Recovery time</h2><table><tr><th>Phase</th><th>Seconds</th></tr>${ctx.phases
        .map((p) => `<tr><td>${esc(p.name)}</td><td>${(p.ms / 1000).toFixed(1)}</td></tr>`)
        .join(
          '',
        )}<tr><th>Total</th><th>${(ctx.phases.reduce((s, p) => s + p.ms, 0) / 1000).toFixed(1)}</th></tr></table>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Restore validation: ${esc(ctx.source)} at ${esc(report.point)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#1c2d38}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #c1c7c6;padding:.4em .7em;text-align:left;vertical-align:top}.pass td:first-child{color:#00684a;font-weight:bold}
.fail td:first-child{color:#db3030;font-weight:bold}.verdict{font-size:1.3em;font-weight:bold}</style></head>
<body><h1>Restore validation</h1>
<p class="verdict" style="color:${report.passed ? '#00684a' : '#db3030'}">${report.passed ? 'PASSED' : 'FAILED'}</p>
<table><tr><th>Source</th><td>${esc(ctx.source)}</td></tr><tr><th>Restore point</th><td>${esc(report.point)}</td></tr>
<tr><th>Snapshot</th><td>${esc(report.snapshotId)}</td></tr><tr><th>Target</th><td>${esc(ctx.target)}</td></tr>
<tr><th>Namespaces</th><td>${report.namespaces}</td></tr><tr><th>Documents compared</th><td>${report.documentsCompared}</td></tr>
<tr><th>Generated</th><td>${esc(ctx.generatedAt)}</td></tr></table>
<h2>Checklist</h2><table><tr><th>Result</th><th>Check</th><th>Findings</th></tr>
${rows}
</table>${rto}</body></html>
`;
}
