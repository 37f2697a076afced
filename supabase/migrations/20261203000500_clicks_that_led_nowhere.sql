-- A member who opened a recovery link (or tapped a push) while Whop had given the case nowhere to
-- send them saw the "Open Whop" page instead of a payment page. The creator should see that on the
-- case's timeline, so each click records whether its case had a destination at that moment; a
-- trigger sets it, so both ways a click is recorded (private.record_link_click for /r/ links,
-- private.record_member_click for the experience view) agree without restating them.

alter table public.link_clicks add column led_nowhere boolean not null default false;
comment on column public.link_clicks.led_nowhere is
  'True when the case had no destination when clicked: the member saw the "Open Whop" page.';

create or replace function private.link_click_destination() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.led_nowhere := private.link_destination(new.case_id) is null;
  return new;
end
$$;

revoke execute on function private.link_click_destination() from public, anon, authenticated;

create trigger link_clicks_destination before insert on public.link_clicks
  for each row execute function private.link_click_destination();
