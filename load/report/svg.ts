/** Round axis steps: 1, 2 or 5 × a power of ten, about five per axis. */
export function niceStep(span: number): number {
  if (!(span > 0)) return 1;
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? raw;
}

export const escapeXml = (text: string) =>
  text.replace(
    /[&<>"]/g,
    (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char]!,
  );

export const chartColors = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/**
 * The opening of every chart in the reports: an SVG of `width` × `height` with the reports'
 * font and its title at the top left (`attributes` such as `data-run="…"` go on the svg).
 */
export function svgFrame(o: {
  kind: string;
  width: number;
  height: number;
  title: string;
  label?: string;
  titleX: number;
  attributes?: string;
}): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="${o.kind}"${o.attributes ? ` ${o.attributes}` : ''} width="${o.width}" height="${o.height}" viewBox="0 0 ${o.width} ${o.height}" font-family="system-ui, sans-serif" font-size="12" role="img" aria-label="${escapeXml(o.label ?? o.title)}">`,
    `<text x="${o.titleX}" y="18" font-size="13" font-weight="bold">${escapeXml(o.title)}</text>`,
  ];
}
