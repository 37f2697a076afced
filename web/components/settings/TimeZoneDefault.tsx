// Until a company has chosen its time zone, the settings page preselects the creator's own: an inline
// script (run once the page is parsed, before it is first shown) sets the select to the browser's zone (Intl.DateTimeFormat().resolvedOptions().timeZone) when the list has it, and says so
// in the hint. Without JavaScript the saved zone (UTC by default) stays selected. ASCII only.
const SCRIPT = (selectId: string) =>
  `(function(){function f(){var s=document.getElementById(${JSON.stringify(selectId)});` +
  `if(!s||!s.hasAttribute("data-browser-default"))return;var z;` +
  `try{z=Intl.DateTimeFormat().resolvedOptions().timeZone}catch(e){return}` +
  `for(var i=0;i<s.options.length;i++){if(s.options[i].value===z){s.value=z;` +
  `var h=document.querySelector("[data-browser-time-zone-hint]");` +
  `if(h)h.textContent="Set from your browser ("+z+"). The send hour is in this time zone.";return}}}` +
  `if(document.readyState==="loading")document.addEventListener("DOMContentLoaded",f);else f()})();`;

export function BrowserTimeZoneDefault({ selectId }: { selectId: string }) {
  return <script dangerouslySetInnerHTML={{ __html: SCRIPT(selectId) }} />;
}
