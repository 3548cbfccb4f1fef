/**
 * A small line chart as a standalone SVG, for results a README shows. Hand-written:
 * the chart libraries we use (uPlot) need a browser, and a README needs a file.
 */
import { chartColors as colors, escapeXml as escape, niceStep } from '../load/report/svg.ts';

export interface Line {
  name: string;
  points: Array<[number, number]>;
}

export function lineChart(
  lines: Line[],
  options: {
    title: string;
    xLabel: string;
    yLabel: string;
    /** Shaded x ranges, e.g. the overload phase. */
    bands?: Array<{ from: number; to: number; label: string }>;
  },
): string {
  const width = 760;
  const height = 340;
  const pad = { left: 64, right: 150, top: 36, bottom: 48 };
  const xs = lines.flatMap((line) => line.points.map(([x]) => x));
  const ys = lines.flatMap((line) => line.points.map(([, y]) => y));
  const xMax = Math.max(...xs);
  const yStep = niceStep(Math.max(...ys));
  const yMax = Math.ceil(Math.max(...ys) / yStep) * yStep;
  const x = (value: number) => pad.left + (value / xMax) * (width - pad.left - pad.right);
  const y = (value: number) =>
    height - pad.bottom - (value / yMax) * (height - pad.top - pad.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${pad.left}" y="20" font-size="14" font-weight="bold">${escape(options.title)}</text>`,
  ];
  for (const band of options.bands ?? []) {
    parts.push(
      `<rect x="${x(band.from)}" y="${pad.top}" width="${x(band.to) - x(band.from)}" height="${height - pad.top - pad.bottom}" fill="rgba(239,68,68,0.12)"/>`,
      `<text x="${x(band.from) + 4}" y="${pad.top + 14}" fill="#b91c1c">${escape(band.label)}</text>`,
    );
  }
  for (let value = 0; value <= yMax + 1e-9; value += yStep) {
    parts.push(
      `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(value)}" y2="${y(value)}" stroke="#e5e7eb"/>`,
      `<text x="${pad.left - 6}" y="${y(value) + 4}" text-anchor="end">${Math.round(value * 100) / 100}</text>`,
    );
  }
  const xStep = niceStep(xMax);
  for (let value = 0; value <= xMax + 1e-9; value += xStep) {
    parts.push(
      `<text x="${x(value)}" y="${height - pad.bottom + 16}" text-anchor="middle">${Math.round(value * 100) / 100}</text>`,
    );
  }
  parts.push(
    `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(0)}" y2="${y(0)}" stroke="#111"/>`,
    `<text x="${(pad.left + width - pad.right) / 2}" y="${height - 10}" text-anchor="middle">${escape(options.xLabel)}</text>`,
    `<text transform="translate(16 ${(pad.top + height - pad.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(options.yLabel)}</text>`,
  );
  lines.forEach((line, index) => {
    const color = colors[index % colors.length]!;
    const path = line.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    parts.push(
      `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`,
      `<rect x="${width - pad.right + 12}" y="${pad.top + index * 20}" width="12" height="3" fill="${color}"/>`,
      `<text x="${width - pad.right + 30}" y="${pad.top + index * 20 + 5}">${escape(line.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** The memory benchmark's RSS curve per service, the overload phase shaded. */
export function memoryChart(
  curve: Array<{ atS: number; phase: string; rssMiB: Record<string, number> }>,
): string {
  const names = Object.keys(curve[0]?.rssMiB ?? {});
  const overload = curve.filter((point) => point.phase === 'overload');
  return lineChart(
    names.map((name) => ({ name, points: curve.map((point) => [point.atS, point.rssMiB[name]!]) })),
    {
      title: 'RSS of each service: at rest, 60 s at 10× capacity on both paths, after',
      xLabel: 'seconds',
      yLabel: 'RSS (MiB)',
      bands: overload.length
        ? [{ from: overload[0]!.atS, to: overload.at(-1)!.atS, label: '10× overload' }]
        : [],
    },
  );
}
