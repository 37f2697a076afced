// The summary table operator CLIs print: aligned columns, numbers right-aligned.

export type Cell = string | number;

export function formatTable(header: string[], rows: Cell[][]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => String(row[i]).length))
  );
  const line = (cells: Cell[]) =>
    cells.map((cell, i) =>
      typeof cell === "number" ? String(cell).padStart(widths[i]) : cell.padEnd(widths[i])
    )
      .join("  ").trimEnd();
  return [line(header), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n");
}
