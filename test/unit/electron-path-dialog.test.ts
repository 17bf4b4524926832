/**
 * The desktop file dialog the renderer may open (electron/main/path-dialog.ts):
 * only our own page's main frame, only the three kinds, and the renderer gets
 * the chosen path or null. Run without the Electron binary.
 */
import { describe, expect, it } from 'vitest';
import { pickPathFor, type PathDialogs } from '../../electron/main/path-dialog.js';
import { RENDERER_START_URL } from '../../electron/main/renderer-origin.js';

const ours = { url: RENDERER_START_URL, parent: null };

function fakeDialogs(answer: { open?: string[]; save?: string; canceled?: boolean }) {
  const asked: unknown[] = [];
  const dialogs: PathDialogs = {
    open: (o) => {
      asked.push(['open', o]);
      return Promise.resolve({ canceled: !!answer.canceled, filePaths: answer.open ?? [] });
    },
    save: (o) => {
      asked.push(['save', o]);
      return Promise.resolve({ canceled: !!answer.canceled, filePath: answer.save });
    },
  };
  return { dialogs, asked };
}

describe('the path dialog over IPC', () => {
  it('opens a directory, a file or a save dialog and returns the chosen path', async () => {
    const d = fakeDialogs({ open: ['/dumps/prod'] });
    expect(await pickPathFor(d.dialogs, ours, { kind: 'directory', title: 'Dump directory' })).toBe(
      '/dumps/prod',
    );
    expect(await pickPathFor(d.dialogs, ours, { kind: 'file', title: 'Archive file' })).toBe('/dumps/prod');
    expect(d.asked).toEqual([
      ['open', { title: 'Dump directory', properties: ['openDirectory', 'createDirectory'] }],
      ['open', { title: 'Archive file', properties: ['openFile'] }],
    ]);
    const s = fakeDialogs({ save: '/dumps/prod.archive' });
    expect(await pickPathFor(s.dialogs, ours, { kind: 'save', title: 'x' })).toBe('/dumps/prod.archive');
  });

  it('answers null when cancelled', async () => {
    const d = fakeDialogs({ canceled: true, open: ['/ignored'] });
    expect(await pickPathFor(d.dialogs, ours, { kind: 'file', title: 't' })).toBeNull();
    expect(await pickPathFor(d.dialogs, ours, { kind: 'save', title: 't' })).toBeNull();
  });

  it('refuses other pages, subframes and unknown kinds without opening anything', async () => {
    const d = fakeDialogs({ open: ['/etc/passwd'] });
    expect(
      await pickPathFor(d.dialogs, { url: 'https://evil.example/', parent: null }, { kind: 'file' }),
    ).toBeNull();
    expect(
      await pickPathFor(d.dialogs, { url: RENDERER_START_URL, parent: {} }, { kind: 'file' }),
    ).toBeNull();
    expect(await pickPathFor(d.dialogs, null, { kind: 'file' })).toBeNull();
    expect(await pickPathFor(d.dialogs, ours, { kind: 'openAnything' })).toBeNull();
    expect(await pickPathFor(d.dialogs, ours, 'file')).toBeNull();
    expect(d.asked).toEqual([]);
  });
});

describe('saving a report through the save dialog', () => {
  it('suggests only a bare name, writes where the user chose, and refuses other pages and bad input', async () => {
    const { saveTextFor } = await import('../../electron/main/path-dialog.js');
    const written: [string, string][] = [];
    const write = (p: string, c: string) => {
      written.push([p, c]);
      return Promise.resolve();
    };
    const d = fakeDialogs({ save: '/home/dba/reports/r.html' });
    expect(
      await saveTextFor(d.dialogs, write, ours, { fileName: '../../etc/r.html', content: '<p>ok</p>' }),
    ).toBe('/home/dba/reports/r.html');
    expect(d.asked).toEqual([['save', { title: 'Save .._.._etc_r.html', defaultPath: '.._.._etc_r.html' }]]);
    expect(written).toEqual([['/home/dba/reports/r.html', '<p>ok</p>']]);

    const cancelled = fakeDialogs({ canceled: true });
    expect(
      await saveTextFor(cancelled.dialogs, write, ours, { fileName: 'r.json', content: '{}' }),
    ).toBeNull();
    const other = fakeDialogs({ save: '/x' });
    expect(
      await saveTextFor(
        other.dialogs,
        write,
        { url: 'https://evil.example/', parent: null },
        { fileName: 'a', content: 'b' },
      ),
    ).toBeNull();
    expect(await saveTextFor(other.dialogs, write, ours, { fileName: 'a', content: 7 })).toBeNull();
    expect(other.asked).toEqual([]);
    expect(written).toHaveLength(1);
  });
});
