import { Alert, Button } from '@mantine/core';
import { Component, type ReactNode } from 'react';

/**
 * A rendering bug in one section must not blank the whole window (React
 * unmounts the tree on an uncaught render error): show it, keep the rest.
 */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state: { error: Error | null } = { error: null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <Alert role="alert" color="red" title="This section failed to display">
        {this.state.error.message}.{' '}
        <Button size="xs" variant="light" onClick={() => this.setState({ error: null })}>
          Try again
        </Button>
      </Alert>
    );
  }
}
