import { Badge, Tabs } from '@mantine/core';
import { useOpenAlertCount } from '../features/alerts/alerts-store';
import { SECTIONS } from './navigation';

/**
 * Section navigation as an ARIA tab list (Mantine Tabs): Arrow keys move and
 * wrap, Home/End jump, only the selected tab is in the Tab order.
 */
export function Nav() {
  const openAlerts = useOpenAlertCount();
  return (
    <nav className="nav" aria-label="Sections">
      <Tabs.List>
        {SECTIONS.map((s) => (
          <Tabs.Tab
            key={s.id}
            value={s.id}
            rightSection={
              s.id === 'alerts' && openAlerts > 0 ? (
                <Badge color="red" size="sm" circle aria-label={`${openAlerts} open`}>
                  {openAlerts}
                </Badge>
              ) : undefined
            }
          >
            {s.label}
          </Tabs.Tab>
        ))}
      </Tabs.List>
    </nav>
  );
}
