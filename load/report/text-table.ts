/**
 * Rows as a plain-text table for a terminal: columns padded to their widest cell, two
 * spaces apart; the first `leftColumns` aligned left (names), the rest right (figures).
 */
export function textTable(rows: string[][], leftColumns = rows[0]?.length ?? 0): string {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) =>
          column < leftColumns ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
        )
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
