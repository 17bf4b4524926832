import type { ReactNode } from 'react';

/** What a section shows before there is anything in it: what will appear, and how to get there. */
export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="empty-state" role="note">
      <h3>{title}</h3>
      <div className="empty-body">{children}</div>
    </div>
  );
}
