/**
 * The time axis (snapshot markers, oplog bands, gaps): the timeline issue
 * draws it here, reading `source.coverage` through the timeline slice.
 */
export function TimelineAxis() {
  return null;
}
