// The case's nudge jobs: when each was due, whether it went out, and every delivery attempt with
// Whop's answer, so a creator can see why a nudge did not arrive.
import type { CaseAttemptRow, CaseJobRow } from "../../queries/case_detail.ts";
import { DateTime } from "../ui.tsx";
import {
  ATTEMPT_STATUS_WORDS,
  CHANNEL_WORDS,
  DeliveryBadge,
  JOB_STATUS_WORDS,
  nudgeName,
  words,
} from "./CaseLabels.tsx";
import { nudgeProblem } from "./nudge_problem.ts";

export function CaseNudges({ jobs, attempts }: { jobs: CaseJobRow[]; attempts: CaseAttemptRow[] }) {
  const attemptsByJob = new Map<string, CaseAttemptRow[]>();
  for (const attempt of attempts) {
    attemptsByJob.set(attempt.job_id, [...(attemptsByJob.get(attempt.job_id) ?? []), attempt]);
  }
  return (
    <div class="table-wrap">
      <table class="data cases-nudges">
        <caption class="sr-only">Nudges of this case</caption>
        <thead>
          <tr>
            <th scope="col">Nudge</th>
            <th scope="col">Channel</th>
            <th scope="col">Status</th>
            <th scope="col">Due</th>
            <th scope="col">Sent</th>
            <th scope="col">Attempts</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((job) => (
            <tr key={job.id}>
              <td data-label="Nudge">{nudgeName(job)}</td>
              <td data-label="Channel">{words(CHANNEL_WORDS, job.channel)}</td>
              <td data-label="Status">
                <DeliveryBadge status={job.status} words={JOB_STATUS_WORDS} />
                {job.last_error && (
                  <span class="cases-error" title={job.last_error}>{nudgeProblem(null, job.last_error)}</span>
                )}
              </td>
              <td data-label="Due">
                {job.scheduled_for === null && job.status === "pending"
                  ? "With the first message delivered"
                  : <DateTime value={job.scheduled_for} />}
              </td>
              <td data-label="Sent">
                <DateTime value={job.sent_at} />
              </td>
              <td data-label="Attempts">
                <AttemptList attempts={attemptsByJob.get(job.id) ?? []} count={job.attempts} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AttemptList({ attempts, count }: { attempts: CaseAttemptRow[]; count: number }) {
  if (attempts.length === 0) return <span class="muted">{count === 0 ? "None yet" : String(count)}</span>;
  return (
    <ol class="cases-attempts">
      {attempts.map((attempt) => (
        <li key={attempt.id}>
          <DateTime value={attempt.created_at} />{" "}
          <DeliveryBadge status={attempt.status} words={ATTEMPT_STATUS_WORDS} />
          {attempt.http_status !== null && <span class="muted">HTTP {attempt.http_status}</span>}
          {attempt.latency_ms !== null && <span class="muted">{attempt.latency_ms} ms</span>}
          {(attempt.error || (attempt.http_status !== null && attempt.http_status >= 400)) && (
            <span class="cases-error" title={attempt.error ?? undefined}>
              {nudgeProblem(attempt.http_status, attempt.error)}
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}
