/**
 * A model's reply as HTML, for the playground: a small Markdown subset (paragraphs, headings,
 * lists, quotes, fenced and inline code, bold, italic, strike-through, http(s)/mailto links).
 *
 * Safe by construction rather than by sanitising afterwards: every piece of the reply is
 * HTML-escaped before anything else happens, and the only markup added is fixed tags with no
 * attributes beyond a link's href (escaped, scheme-checked), `rel`/`target`, and a list's numeric
 * `start`. A reply cannot add a tag, an attribute or a script, whatever it contains. Unfinished
 * constructs (a fence still streaming) render as what they are so far.
 */
export function renderMarkdown(source: string): string {
  // NUL marks placeholders below; a reply has no business holding one.
  return blocks(source.replace(/\r\n?/g, "\n").replaceAll("\0", "").split("\n"), 0);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Quotes inside quotes deeper than this are plain text: a reply of a thousand '>' cannot exhaust the stack. */
const MAX_QUOTE_DEPTH = 8;

const FENCE = /^ {0,3}(```|~~~)/;
const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const BULLET = /^ {0,3}[-*+][ \t]+(.*)$/;
const NUMBERED = /^ {0,3}(\d{1,9})[.)][ \t]+(.*)$/;
const QUOTE = /^ {0,3}>[ \t]?(.*)$/;

function blocks(lines: string[], depth: number): string {
  const out: string[] = [];
  let paragraph: string[] = [];
  const endParagraph = () => {
    if (paragraph.length > 0) out.push(`<p>${paragraph.map(inline).join("<br>")}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; ) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence != null) {
      endParagraph();
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(fence[1]!); i++) code.push(lines[i]!);
      i++;
      out.push(`<pre><code>${escapeHtml(code.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading != null) {
      endParagraph();
      // A reply's "# Title" sits under the page's own headings.
      const level = Math.min(heading[1]!.length + 2, 6);
      out.push(`<h${level}>${inline(heading[2]!)}</h${level}>`);
      i++;
      continue;
    }
    if (RULE.test(line)) {
      endParagraph();
      out.push("<hr>");
      i++;
      continue;
    }
    if (depth < MAX_QUOTE_DEPTH && QUOTE.test(line)) {
      endParagraph();
      const quoted: string[] = [];
      for (let match; i < lines.length && (match = QUOTE.exec(lines[i]!)) != null; i++) quoted.push(match[1]!);
      out.push(`<blockquote>${blocks(quoted, depth + 1)}</blockquote>`);
      continue;
    }
    const bullet = BULLET.exec(line);
    const numbered = bullet == null ? NUMBERED.exec(line) : null;
    if (bullet != null || numbered != null) {
      endParagraph();
      const pattern = bullet != null ? BULLET : NUMBERED;
      const items: string[] = [];
      for (let match; i < lines.length && (match = pattern.exec(lines[i]!)) != null; i++) items.push(`<li>${inline(match[match.length - 1]!)}</li>`);
      const start = numbered != null && numbered[1] !== "1" ? ` start="${Number(numbered[1])}"` : "";
      out.push(bullet != null ? `<ul>${items.join("")}</ul>` : `<ol${start}>${items.join("")}</ol>`);
      continue;
    }
    if (line.trim() === "") endParagraph();
    else paragraph.push(line.trim());
    i++;
  }
  endParagraph();
  return out.join("");
}

const SAFE_URL = /^(?:https?:\/\/|mailto:)/i;

/** Inline code and links are set aside as placeholders first, so emphasis never reaches into them. */
function inline(text: string): string {
  const held: string[] = [];
  const hold = (html: string) => `\0${held.push(html) - 1}\0`;
  let html = text.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, _ticks, code: string) => hold(`<code>${escapeHtml(code)}</code>`));
  html = html.replace(/\[([^\]\0]+)\]\(([^()\s\0]+)\)/g, (whole, label: string, url: string) =>
    SAFE_URL.test(url) ? hold(`<a href="${escapeHtml(url)}" rel="noopener noreferrer nofollow" target="_blank">${emphasis(escapeHtml(label))}</a>`) : whole,
  );
  html = emphasis(escapeHtml(html));
  return html.replace(/\0(\d+)\0/g, (_, index: string) => held[Number(index)]!);
}

/** On escaped text: the patterns match only `*`, `_` and `~`, which escaping leaves alone. */
function emphasis(escaped: string): string {
  return escaped
    .replace(/\*\*(?=\S)([\s\S]*?\S)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^\w])__(?=\S)([\s\S]*?\S)__(?!\w)/g, "$1<strong>$2</strong>")
    .replace(/\*(?=[^\s*])([^*]*?[^\s*])\*/g, "<em>$1</em>")
    .replace(/(^|[^\w])_(?=[^\s_])([^_]*?[^\s_]|[^\s_])_(?!\w)/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>");
}
