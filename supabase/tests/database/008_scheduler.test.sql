-- The production scheduler path: pg_cron calls private.invoke_dispatch every minute, which calls the
-- dispatch function through pg_net with the URL and cron secret from Vault. pg_net and Vault do not
-- exist locally, so this test brings minimal stand-ins (inside its transaction) to show the call
-- that would be made, and that nothing is called when the scheduler is off.
begin;
select plan(7);

select isnt_empty($$select 1 from cron.job where jobname = 'churn-saver-dispatch' and schedule = '* * * * *'$$,
  'pg_cron calls the dispatcher every minute');
select isnt_empty($$select 1 from cron.job where jobname = 'churn-saver-expire-cases'$$, 'pg_cron expires cases');
select lives_ok($$select private.invoke_dispatch()$$, 'without pg_net and Vault the job does nothing, and does not fail');

create schema net;
create table net.calls (url text, headers jsonb, body jsonb);
create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}', headers jsonb default '{}',
                              timeout_milliseconds integer default 5000) returns bigint
language sql as $$ insert into net.calls values (url, headers, body); select 1::bigint $$;
create schema vault;
create view vault.decrypted_secrets (name, decrypted_secret) as
  values ('dispatch_notifications_url', 'https://project.supabase.co/functions/v1/dispatch-notifications'),
         ('cron_secret', 's3cret');

update public.feature_flags set enabled = false where name = 'SCHEDULER_ENABLED';
select private.invoke_dispatch();
select is((select count(*)::int from net.calls), 0, 'SCHEDULER_ENABLED off: no call');

update public.feature_flags set enabled = true, rollout_percent = 100 where name = 'SCHEDULER_ENABLED';
update public.feature_flags set enabled = false where name = 'ROLLBACK_MODE';
select private.invoke_dispatch();
select is((select url from net.calls), 'https://project.supabase.co/functions/v1/dispatch-notifications',
  'on: the dispatch function is called');
select is((select headers ->> 'Authorization' from net.calls), 'Bearer s3cret', '... with the cron secret from Vault');
select is((select count(*)::int from net.calls), 1, '... once');

select * from finish();
rollback;
