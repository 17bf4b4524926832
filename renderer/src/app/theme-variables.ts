/**
 * Mantine's theme CSS variables, added as a constructed stylesheet.
 *
 * Why not Mantine's own way: MantineProvider writes them into a <style>
 * element, which the Content-Security-Policy (`style-src 'self'`, no
 * 'unsafe-inline') refuses, so the window would lose every colour and size.
 * The CSP guards against markup injected into the page; a stylesheet built
 * by our own script through the CSSOM is not markup and is allowed, as are
 * the `style` properties React sets. So the provider is told not to write
 * <style> elements (withCssVariables/withGlobalClasses off) and the same
 * variables, computed by Mantine's own resolver, are adopted here once.
 */
import {
  DEFAULT_THEME,
  convertCssVariables,
  defaultCssVariablesResolver,
  mergeMantineTheme,
  type MantineThemeOverride,
} from '@mantine/core';

export function themeVariablesCss(override: MantineThemeOverride): string {
  const merged = mergeMantineTheme(DEFAULT_THEME, override);
  const vars = defaultCssVariablesResolver(merged);
  const scheme = convertCssVariables(
    {
      variables: {},
      light: { '--mantine-color-scheme': 'light' },
      dark: { '--mantine-color-scheme': 'dark' },
    },
    ':root',
  );
  return convertCssVariables(vars, ':root') + scheme;
}

export function adoptThemeVariables(override: MantineThemeOverride, doc: Document = document): void {
  // jsdom (component tests) has no constructable stylesheets; nothing there looks at colours.
  if (typeof CSSStyleSheet === 'undefined' || !('adoptedStyleSheets' in doc)) return;
  let sheet: CSSStyleSheet;
  try {
    sheet = new CSSStyleSheet();
  } catch {
    return;
  }
  sheet.replaceSync(themeVariablesCss(override));
  doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
}
