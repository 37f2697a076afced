// A plain-text table (Markdown pipe style) for command-line summaries and benchmark reports.

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length))
  );
  const line = (cells: string[]) =>
    "| " + widths.map((width, i) => (cells[i] ?? "").padEnd(width)).join(" | ") + " |";
  return [line(header), "| " + widths.map((width) => "-".repeat(width)).join(" | ") + " |", ...rows.map(line)]
    .join(
      "\n",
    );
}
