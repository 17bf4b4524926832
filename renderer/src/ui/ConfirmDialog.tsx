import { Button, Group, Modal, Stack } from '@mantine/core';
import type { ReactNode } from 'react';
import { ErrorText } from './ErrorText';

/**
 * A confirmation for what cannot be undone (terminate, remove): a modal
 * dialog named by its title, the consequence spelled out, the engine's
 * refusal shown inside it (nothing happened), and Cancel as the easy way out.
 */
export function ConfirmDialog({
  opened,
  title,
  confirm,
  onConfirm,
  onClose,
  busy = false,
  error,
  children,
}: {
  opened: boolean;
  title: string;
  confirm: string;
  onConfirm: () => void;
  onClose: () => void;
  busy?: boolean;
  error?: string | null;
  children: ReactNode;
}) {
  return (
    // lockScroll off: its scroll lock injects a <style> element, which the CSP forbids.
    <Modal
      opened={opened}
      onClose={onClose}
      title={title}
      lockScroll={false}
      centered
      closeButtonProps={{ 'aria-label': 'Close' }}
    >
      <Stack gap="sm">
        {children}
        <ErrorText message={error} />
        <Group justify="flex-end" gap="xs">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" onClick={onConfirm} disabled={busy}>
            {confirm}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
