import { chartColors, escapeXml, niceStep, svgFrame } from './svg.ts';

export interface LineSeries {
  name: string;
  /** One value per x; null where there is none (not run, or no such figure). */
  ys: Array<number | null>;
  /** Points drawn as a cross at the top: e.g. metastable, where a recovery time has no value. */
  flags?: boolean[];
}

/** A small line chart over the swept values (equally spaced: they may be words), one line per run. */
export function lineChart(
  title: string,
  xs: Array<string | number | boolean>,
  xLabel: string,
  series: LineSeries[],
  flagLabel?: string,
): string {
  const all = series.flatMap((line) => line.ys.filter((y): y is number => y !== null));
  const high = Math.max(0, ...all);
  const step = niceStep(high || 1);
  const yMax = Math.ceil(high / step) * step || step;
  const pad = { left: 56, right: 16, top: 30, bottom: 44 };
  const width = 560;
  const height = 260;
  const x = (i: number) =>
    pad.left + (xs.length === 1 ? 0.5 : i / (xs.length - 1)) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - (v / yMax) * (height - pad.top - pad.bottom);
  const parts = svgFrame({
    kind: 'line-chart',
    width,
    height: height + 18 * series.length,
    title,
    titleX: pad.left,
  });
  for (let tick = 0; tick <= yMax + step / 1e6; tick += step)
    parts.push(
      `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(tick)}" y2="${y(tick)}" stroke="#e5e7eb"/>`,
      `<text x="${pad.left - 6}" y="${y(tick) + 4}" text-anchor="end" fill="#555">${Math.round(tick * 1000) / 1000}</text>`,
    );
  xs.forEach((value, i) =>
    parts.push(
      `<text x="${x(i)}" y="${height - pad.bottom + 16}" text-anchor="middle" fill="#555">${escapeXml(String(value))}</text>`,
    ),
  );
  parts.push(
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
  );
  series.forEach((line, index) => {
    const color = chartColors[index % chartColors.length]!;
    // Broken where a value is missing, so a gap is not drawn as a line.
    let path = '';
    line.ys.forEach((v, i) => {
      if (v === null) return;
      path += `${path === '' || line.ys[i - 1] === null ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
    });
    if (path)
      parts.push(`<path d="${path.trim()}" fill="none" stroke="${color}" stroke-width="2"/>`);
    line.ys.forEach((v, i) => {
      if (v !== null)
        parts.push(
          `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3.5" fill="${color}"/>`,
        );
      else if (line.flags?.[i])
        parts.push(
          `<text class="flag" x="${x(i).toFixed(1)}" y="${pad.top + 4 + index * 12}" text-anchor="middle" font-weight="bold" fill="${color}">✕</text>`,
        );
    });
    parts.push(
      `<rect x="${pad.left}" y="${height + 18 * index - 2}" width="12" height="12" fill="${color}"/>`,
      `<text x="${pad.left + 18}" y="${height + 18 * index + 8}">${escapeXml(line.name)}${flagLabel && line.flags?.some(Boolean) ? ` (✕ ${escapeXml(flagLabel)})` : ''}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}
