import { act, fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsSection } from '../../renderer/src/features/settings/SettingsSection';
import { connectedApp, renderWithProviders, SETTINGS } from './harness';

let stop: () => void = () => {};
afterEach(() => stop());

const scheme = () => document.documentElement.getAttribute('data-mantine-color-scheme');

describe('the theme', () => {
  it('goes through Mantine’s colour scheme, is saved with settings.set, and follows settings.changed', async () => {
    const app = connectedApp();
    stop = app.stop;
    app.client.answer('repo.list', []);
    app.client.answer('settings.set', { ...SETTINGS, theme: 'dark' });
    renderWithProviders(<SettingsSection />);
    app.client.setConnection('connected');
    const select = (await screen.findByLabelText('Theme')) as HTMLSelectElement;
    await waitFor(() => expect(scheme()).toBe('light')); // the engine's setting, not the default "auto"
    expect(select.value).toBe('light');

    fireEvent.change(select, { target: { value: 'dark' } });
    await waitFor(() => expect(scheme()).toBe('dark'));
    expect(app.client.calls.filter((c) => c.name === 'settings.set')).toEqual([
      { name: 'settings.set', input: { theme: 'dark' } },
    ]);
    await waitFor(() => expect(select.value).toBe('dark'));

    // Changed through another door (another window, the CLI): the page follows and writes nothing back.
    act(() => app.client.emit('settings.changed', { ...SETTINGS, theme: 'light' }));
    await waitFor(() => expect(scheme()).toBe('light'));
    expect(select.value).toBe('light');
    expect(app.client.calls.filter((c) => c.name === 'settings.set')).toHaveLength(1);
  });
});
