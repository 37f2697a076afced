// A row of case counts by status, in the state machine's order.
export const CASE_STATUSES = ["open", "recovered", "lost", "expired", "dismissed"] as const;

export function StatusCounts({ counts }: { counts: Record<string, number> }) {
  return (
    <ul class="status-counts">
      {CASE_STATUSES.map((status) => (
        <li key={status} class={`status status-${status}`}>
          <span class="count">{counts[status] ?? 0}</span> {status}
        </li>
      ))}
    </ul>
  );
}
