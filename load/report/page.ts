import { escapeXml } from './svg.ts';

/** The look every report shares: type, tables, notes. */
const baseStyle = `body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #111; }
.table { overflow-x: auto; } table { border-collapse: collapse; font-size: 12px; margin: 12px 0; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; }
.note { color: #555; font-size: 12px; }`;

/**
 * A self-contained report page (it works offline): the experiment's and the sweep's share
 * this shell and its style, and add their own rules and scripts.
 */
export function reportPage(o: { title: string; style?: string; body: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(o.title)}</title>
<style>${baseStyle}
${o.style ?? ''}
</style></head><body>
${o.body}
</body></html>
`;
}
