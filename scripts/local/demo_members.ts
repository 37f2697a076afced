// The demo members' details for scripts/dev.sh: a name, an email and a username for each user of the
// seeded cases (supabase/seed.sql), stored the way the webhook stores them (memberColumns: encrypted,
// blind index, search tokens) under the stack's ENCRYPTION_KEYS, which is why seed.sql cannot hold
// them. Run again, it rewrites the same members (under the current key). Prints one summary line.
import { memberColumns, type MemberDetails } from "../../supabase/functions/_shared/crypto/member_columns.ts";
import { loadKeyRing } from "../../supabase/functions/_shared/crypto/pii.ts";
import { CliError, connectDatabase } from "../lib/database.ts";
import { envOrLocalStack } from "../lib/stack_env.ts";

const DEMO_MEMBERS: Array<{ companyId: string; userId: string } & MemberDetails> = [
  {
    companyId: "biz_demo",
    userId: "user_demo_1",
    name: "Sarah Connor",
    email: "sarah.connor@example.com",
    username: "sconnor",
  },
  {
    companyId: "biz_demo",
    userId: "user_demo_2",
    name: "Miguel Sarabia",
    email: "miguel@example.com",
    username: "msarabia",
  },
  {
    companyId: "biz_demo",
    userId: "user_demo_3",
    name: "Aiko Tanaka",
    email: "aiko.tanaka@example.jp",
    username: "aiko",
  },
  {
    companyId: "biz_demo",
    userId: "user_demo_4",
    name: "Zoë Adler",
    email: "zoe.adler@example.de",
    username: "zadler",
  },
  {
    companyId: "biz_demo",
    userId: "user_demo_5",
    name: "Tom Baker",
    email: "tom.baker@example.co.uk",
    username: "tbaker",
  },
  {
    companyId: "biz_demo",
    userId: "user_demo_6",
    name: "Priya Natarajan",
    email: "priya.n@example.in",
    username: "priyan",
  },
  {
    companyId: "biz_demo",
    userId: "user_demo_7",
    name: "Lucas Moreau",
    email: "lucas.moreau@example.fr",
    username: "lmoreau",
  },
  {
    companyId: "biz_demo",
    userId: "user_demo_8",
    name: "Grace Okafor",
    email: "grace.okafor@example.com",
    username: "gokafor",
  },
  {
    companyId: "biz_demo",
    userId: "user_demo_9",
    name: "Noah Fischer",
    email: "noah.fischer@example.com",
    username: "nfischer",
  },
  {
    companyId: "biz_demo_other",
    userId: "user_other_1",
    name: "Olivia Other",
    email: "olivia@example.org",
    username: "olivia",
  },
];

if (import.meta.main) {
  try {
    const ring = await loadKeyRing(await envOrLocalStack("ENCRYPTION_KEYS") ?? undefined);
    const sql = await connectDatabase("demo-members");
    try {
      let written = 0;
      for (const member of DEMO_MEMBERS) {
        const m = memberColumns(ring, member.companyId, member.userId, member);
        const result = await sql`
          insert into public.members (company_id, user_id, email_ciphertext, name_ciphertext, username_ciphertext,
                                      email_blind_index, search_tokens, last_event_at)
          select ${member.companyId}, ${member.userId}, ${m.email_ciphertext}, ${m.name_ciphertext},
                 ${m.username_ciphertext}, ${m.email_blind_index}, ${m.search_tokens}, now() - interval '30 days'
          where exists (select 1 from public.companies where company_id = ${member.companyId})
          on conflict (company_id, user_id) do update set email_ciphertext = excluded.email_ciphertext,
            name_ciphertext = excluded.name_ciphertext, username_ciphertext = excluded.username_ciphertext,
            email_blind_index = excluded.email_blind_index, search_tokens = excluded.search_tokens`;
        written += result.count;
      }
      console.log(`demo members: ${written} of ${DEMO_MEMBERS.length} written (names, emails, usernames)`);
    } finally {
      await sql.end();
    }
  } catch (error) {
    console.error(`demo members: ${error instanceof CliError ? error.message : (error as Error).message}`);
    Deno.exit(1);
  }
}
