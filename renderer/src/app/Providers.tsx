import { MantineProvider } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { settingsColorSchemeManager } from './color-scheme';
import { theme } from './theme';

/**
 * The component library's context: theme and colour scheme. No <style>
 * elements (the CSP refuses them): the theme variables come from
 * `adoptThemeVariables`, the component styles from the bundled stylesheet.
 */
export function Providers({ children }: { children: ReactNode }) {
  const [manager] = useState(settingsColorSchemeManager);
  return (
    <MantineProvider
      theme={theme}
      colorSchemeManager={manager}
      defaultColorScheme="auto"
      withCssVariables={false}
      withGlobalClasses={false}
    >
      {children}
    </MantineProvider>
  );
}
