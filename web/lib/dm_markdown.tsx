// The DM preview shows a rendered message the way a member reads it in Whop's chat: **bold**,
// *italics*, `code`, [links](https://...), lists and line breaks (a bare URL stays text, as in
// CommonMark; the recovery link is one). It builds
// Preact elements, never an HTML string, so anything else in a template (or a member's name), such as
// "<script>" or "<img onerror=...>", is shown as the text it is. Links keep only http(s) and mailto
// targets; any other ("javascript:", "data:") shows as its text without a link. Backslash escapes
// (which the renderer puts before Markdown characters in member-supplied values) show the character.
import type { ComponentChildren, VNode } from "preact";

const ASCII_PUNCTUATION = /[!-/:-@[-`{-~]/;
const LIST_ITEM = /^\s{0,3}(?:[-*+]|(\d{1,9})[.)])\s+(.*)$/;
const SAFE_LINK = /^(?:https?:\/\/|mailto:)/i;

/** The message as paragraphs, lists and line breaks; `class` goes on the wrapping element. */
export function DmMarkdown({ text, class: className }: { text: string; class?: string }) {
  return <div class={className}>{blocks(text.replace(/\r\n?/g, "\n"))}</div>;
}

/** Whether a link target may be followed from the preview. */
export function isSafeLink(target: string): boolean {
  if (!SAFE_LINK.test(target)) return false;
  try {
    const url = new URL(target);
    return url.protocol === "http:" || url.protocol === "https:" || url.protocol === "mailto:";
  } catch {
    return false;
  }
}

function blocks(text: string): VNode[] {
  const out: VNode[] = [];
  for (const [index, block] of text.split(/\n[ \t]*\n/).entries()) {
    const lines = block.split("\n");
    if (lines.every((line) => line.trim() === "")) continue;
    let paragraph: string[] = [];
    let list: { ordered: boolean; items: string[] } | null = null;
    const flushParagraph = () => {
      if (paragraph.length) out.push(<p key={`p${index}-${out.length}`}>{lineBreaks(paragraph)}</p>);
      paragraph = [];
    };
    const flushList = () => {
      if (!list) return;
      const items = list.items.map((item, i) => <li key={i}>{inline(item)}</li>);
      out.push(
        list.ordered
          ? <ol key={`l${index}-${out.length}`}>{items}</ol>
          : <ul key={`l${index}-${out.length}`}>{items}</ul>,
      );
      list = null;
    };
    for (const line of lines) {
      const item = LIST_ITEM.exec(line);
      if (item) {
        flushParagraph();
        const ordered = item[1] !== undefined;
        if (list && list.ordered !== ordered) flushList();
        list ??= { ordered, items: [] };
        list.items.push(item[2]);
      } else {
        flushList();
        paragraph.push(line);
      }
    }
    flushParagraph();
    flushList();
  }
  return out;
}

function lineBreaks(lines: string[]): ComponentChildren[] {
  return lines.flatMap((line, i) => i === 0 ? [inline(line)] : [<br key={i} />, inline(line)]);
}

/** Inline Markdown of one line (or of a part of it) as text and elements. */
function inline(text: string): ComponentChildren[] {
  const out: ComponentChildren[] = [];
  let plain = "";
  const flush = () => {
    if (plain) out.push(plain);
    plain = "";
  };
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === "\\" && ASCII_PUNCTUATION.test(text[i + 1] ?? "")) {
      plain += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === "`") {
      const end = text.indexOf("`", i + 1);
      if (end > i + 1) {
        flush();
        out.push(<code>{text.slice(i + 1, end)}</code>);
        i = end + 1;
        continue;
      }
    }
    if ((ch === "*" || ch === "_") && text[i + 1] === ch) {
      const end = closing(text, ch + ch, i + 2);
      if (end > i + 2 && opens(text, i, 2)) {
        flush();
        out.push(<strong>{inline(text.slice(i + 2, end))}</strong>);
        i = end + 2;
        continue;
      }
    }
    if ((ch === "*" || ch === "_") && text[i + 1] !== ch) {
      const end = closing(text, ch, i + 1);
      if (end > i + 1 && opens(text, i, 1)) {
        flush();
        out.push(<em>{inline(text.slice(i + 1, end))}</em>);
        i = end + 1;
        continue;
      }
    }
    if (ch === "[") {
      const link = markdownLink(text, i);
      if (link) {
        flush();
        out.push(
          isSafeLink(link.target)
            ? <a href={link.target} target="_blank" rel="noopener noreferrer">{inline(link.label)}</a>
            : <span class="link-refused">{inline(link.label)}</span>,
        );
        i = link.end;
        continue;
      }
    }
    plain += ch;
    i++;
  }
  flush();
  return out;
}

/** Whether the delimiter run at `i` opens emphasis: followed by a non-space, and an underscore not
 * inside a word (so first_name stays as it is). */
function opens(text: string, i: number, length: number): boolean {
  const after = text[i + length] ?? "";
  if (after === "" || /\s/.test(after)) return false;
  return text[i] === "*" || !/[\p{L}\p{N}]/u.test(text[i - 1] ?? "");
}

/** Where the closing delimiter is (preceded by a non-space, not escaped, an underscore not followed
 * by a letter), or -1. */
function closing(text: string, delimiter: string, from: number): number {
  for (let j = from; j < text.length; j++) {
    if (text[j] === "\\") {
      j++;
      continue;
    }
    if (!text.startsWith(delimiter, j)) continue;
    if (delimiter.length === 1 && text[j + 1] === delimiter) {
      j++; // part of a double run: belongs to bold
      continue;
    }
    const before = text[j - 1];
    const after = text[j + delimiter.length] ?? "";
    if (/\s/.test(before)) continue;
    if (delimiter[0] === "_" && /[\p{L}\p{N}]/u.test(after)) continue;
    return j;
  }
  return -1;
}

/** `[label](target)` at `i`: the label may hold escaped brackets, the target no spaces. */
function markdownLink(text: string, i: number): { label: string; target: string; end: number } | null {
  let j = i + 1;
  for (; j < text.length && text[j] !== "]"; j++) if (text[j] === "\\") j++;
  if (j >= text.length || text[j + 1] !== "(") return null;
  const close = text.indexOf(")", j + 2);
  if (close === -1) return null;
  const target = text.slice(j + 2, close);
  if (target === "" || /\s/.test(target)) return null;
  return { label: text.slice(i + 1, j), target, end: close + 1 };
}
