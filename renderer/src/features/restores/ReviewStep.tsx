import { Alert, List, Stack, Text, TextInput } from '@mantine/core';
import type { UseFormReturnType } from '@mantine/form';
import type { StatementLine } from './review-statement';
import type { WizardValues } from './wizard-values';

/**
 * Step 4: what will happen, in plain sentences, destructive ones in red; an
 * in-place restore also asks for the source's name, typed exactly.
 */
export function ReviewStep({
  form,
  statement,
}: {
  form: UseFormReturnType<WizardValues>;
  statement: StatementLine[];
}) {
  const v = form.getValues();
  const wrong = v.kind === 'in-place' && v.confirm !== '' && v.confirm !== v.source;
  return (
    <Stack gap="md">
      <List spacing={6} size="sm" aria-label="What will happen" data-testid="review-statement">
        {statement.map((line, k) => (
          <List.Item
            key={k}
            c={line.destructive ? 'red' : undefined}
            data-destructive={line.destructive || undefined}
          >
            {line.destructive && (
              <Text span fw={700} c="red">
                Destructive:{' '}
              </Text>
            )}
            {line.text}
          </List.Item>
        ))}
      </List>
      {v.kind === 'in-place' && (
        <Alert color="red" variant="light" title={`This replaces data in ${v.source}`}>
          <TextInput
            label={`Type ${v.source} to confirm`}
            description="Exactly as the source is named; the Start button stays disabled until it matches."
            autoComplete="off"
            maw={360}
            {...form.getInputProps('confirm')}
            error={wrong ? `That is not the source's name (${v.source}).` : undefined}
            onChange={(e) => form.setFieldValue('confirm', e.currentTarget.value)}
          />
        </Alert>
      )}
    </Stack>
  );
}
