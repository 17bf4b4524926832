import { useRef, type KeyboardEvent } from 'react';
import { SECTIONS, useApp } from '../store';

/**
 * Section navigation as an ARIA tab list: Arrow keys move, Home/End jump,
 * and only the selected tab is in the Tab order (roving tabindex).
 */
export function Nav() {
  const section = useApp((s) => s.section);
  const setSection = useApp((s) => s.setSection);
  const openAlerts = useApp((s) => s.alerts.filter((a) => !a.resolvedAt).length);
  const refs = useRef<(HTMLButtonElement | null)[]>([]);

  const onKeyDown = (e: KeyboardEvent, index: number) => {
    const last = SECTIONS.length - 1;
    const target =
      e.key === 'ArrowDown' || e.key === 'ArrowRight'
        ? index === last
          ? 0
          : index + 1
        : e.key === 'ArrowUp' || e.key === 'ArrowLeft'
          ? index === 0
            ? last
            : index - 1
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? last
              : null;
    if (target === null) return;
    e.preventDefault();
    setSection(SECTIONS[target]!.id);
    refs.current[target]?.focus();
  };

  return (
    <nav className="nav" aria-label="Sections">
      <div role="tablist" aria-orientation="vertical">
        {SECTIONS.map((s, i) => (
          <button
            key={s.id}
            ref={(el) => {
              refs.current[i] = el;
            }}
            role="tab"
            id={`tab-${s.id}`}
            aria-selected={section === s.id}
            aria-controls={`panel-${s.id}`}
            tabIndex={section === s.id ? 0 : -1}
            onClick={() => setSection(s.id)}
            onKeyDown={(e) => onKeyDown(e, i)}
          >
            {s.label}
            {s.id === 'alerts' && openAlerts > 0 && (
              <span className="badge" aria-label={`${openAlerts} open`}>
                {openAlerts}
              </span>
            )}
          </button>
        ))}
      </div>
    </nav>
  );
}
