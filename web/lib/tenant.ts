// Every tenant query of the dashboard runs in a transaction as role `authenticated` with the
// verified company in the JWT claims, so row-level security is the guard (queries filter by
// company explicitly as well).
import type postgres from "postgres";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import type { Viewer } from "./whop_auth.ts";

export type TenantSql = postgres.TransactionSql;

export function withTenant<T>(sql: Sql, viewer: Viewer, fn: (tx: TenantSql) => Promise<T>): Promise<T> {
  const claims = JSON.stringify({ role: "authenticated", sub: viewer.userId, company_id: viewer.companyId });
  return sql.begin(async (tx) => {
    await tx`select set_config('request.jwt.claims', ${claims}, true), set_config('role', 'authenticated', true)`;
    return await fn(tx);
  }) as Promise<T>;
}

/**
 * Whether Churn Saver knows the company (a row in public.companies, made by its first webhook or its
 * first dashboard visit by an admin). Asked
 * before the viewer is known, so through a security definer function that answers only this.
 */
export async function isCompanyInstalled(sql: Sql, companyId: string): Promise<boolean> {
  const [row] = await sql<
    { installed: boolean }[]
  >`select private.company_installed(${companyId}) as installed`;
  return row.installed;
}

/**
 * Makes the company's rows (public.companies and its default settings) if they do not exist yet. Only
 * for a company whose admin Whop has just confirmed (whop_auth.ts); through a security definer
 * function, since the tenant role may not insert companies.
 */
export async function installCompany(sql: Sql, companyId: string): Promise<void> {
  await sql`select private.install_company(${companyId})`;
}
