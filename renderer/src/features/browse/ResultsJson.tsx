import { Code, ScrollArea, Stack } from '@mantine/core';
import { prettyJson } from './documents';
import { useBrowse } from './browse-store';

/** The results as Extended JSON, one document after the other, as the engine sent them. */
export function ResultsJson() {
  const rows = useBrowse((s) => s.rows) ?? [];
  return (
    <ScrollArea.Autosize mah={480} aria-label="Results as Extended JSON">
      <Stack gap={4}>
        {rows.map((r, i) => (
          <Code block key={i} data-testid="result-json">
            {prettyJson(r.text)}
          </Code>
        ))}
      </Stack>
    </ScrollArea.Autosize>
  );
}
