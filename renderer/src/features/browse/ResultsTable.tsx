import { Checkbox, Text, UnstyledButton } from '@mantine/core';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef } from 'react';
import { cellText, columnsOf } from './documents';
import { useBrowse } from './browse-store';

const ROW_PX = 30;
const COL_PX = 180;
const CHECK_PX = 36;
/** The next batch is asked for when the rows in sight come this close to the last one read. */
const FETCH_AHEAD_ROWS = 30;

/**
 * The results as a table, one column per top-level field: only the rows in
 * sight are in the page (10,000 documents scroll as smoothly as ten), and
 * the engine's cursor gives the next batch as the rows in sight near the
 * end of those read. A row's checkbox selects it for export or restore; a click on the
 * row opens its history.
 */
export function ResultsTable() {
  const rows = useBrowse((s) => s.rows) ?? [];
  const selected = useBrowse((s) => s.selected);
  const historyRow = useBrowse((s) => s.historyRow);
  const toggle = useBrowse((s) => s.toggle);
  const selectAll = useBrowse((s) => s.selectAll);
  const showHistory = useBrowse((s) => s.showHistory);
  const more = useBrowse((s) => s.more);
  const loadMore = useBrowse((s) => s.loadMore);
  const columns = columnsOf(rows);
  const scroller = useRef<HTMLDivElement>(null);
  // The virtualiser's functions change as it measures: this component is left unmemoised, which is what it needs.
  // eslint-disable-next-line react-hooks/incompatible-library
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_PX,
    overscan: 10,
    // Unmeasured (first paint, tests): assume a window's worth of rows.
    initialRect: { width: 1000, height: 420 },
  });
  const width = CHECK_PX + columns.length * COL_PX;
  const lastInSight = virtual.getVirtualItems().at(-1)?.index ?? -1;
  // Scrolling near the end of what was read reads the cursor's next batch (loadMore ignores a second ask meanwhile).
  useEffect(() => {
    if (more && lastInSight >= rows.length - FETCH_AHEAD_ROWS) void loadMore();
  }, [more, lastInSight, rows.length, loadMore]);

  return (
    <div role="table" aria-label="Results" aria-rowcount={rows.length + 1} className="browse-table">
      <div role="rowgroup" className="browse-head">
        <div role="row" className="browse-row" style={{ width }}>
          <div role="columnheader" className="browse-check">
            <Checkbox
              aria-label="Select all rows"
              size="xs"
              checked={rows.length > 0 && selected.length === rows.length}
              indeterminate={selected.length > 0 && selected.length < rows.length}
              onChange={(e) => selectAll(e.currentTarget.checked)}
            />
          </div>
          {columns.map((c) => (
            <div role="columnheader" key={c} className="browse-cell" style={{ width: COL_PX }}>
              {c}
            </div>
          ))}
        </div>
      </div>
      <div ref={scroller} className="browse-scroll" role="rowgroup">
        <div style={{ height: virtual.getTotalSize(), width, position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => {
            const row = rows[item.index]!;
            return (
              <div
                role="row"
                key={item.key}
                aria-rowindex={item.index + 2}
                aria-selected={selected.includes(item.index)}
                className={historyRow === item.index ? 'browse-row browse-row-open' : 'browse-row'}
                style={{
                  position: 'absolute',
                  top: 0,
                  transform: `translateY(${item.start}px)`,
                  height: ROW_PX,
                  width,
                }}
              >
                <div role="cell" className="browse-check">
                  <Checkbox
                    size="xs"
                    aria-label={`Select row ${item.index + 1}`}
                    checked={selected.includes(item.index)}
                    onChange={() => toggle(item.index)}
                  />
                </div>
                {columns.map((c) => (
                  <div role="cell" key={c} className="browse-cell" style={{ width: COL_PX }}>
                    {c === '_id' && row.id !== null ? (
                      <UnstyledButton
                        onClick={() => void showHistory(item.index)}
                        title="Show this document's history"
                        className="browse-id"
                      >
                        {cellText(row.fields[c])}
                      </UnstyledButton>
                    ) : (
                      <Text span size="sm">
                        {cellText(row.fields[c])}
                      </Text>
                    )}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
