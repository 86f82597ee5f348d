import { describe, expect, test } from "bun:test";
import { renderMarkdown } from "../../../src/ui/app/markdown";

/** The markup a rendering may hold: these tags, and on them only these attributes, quoted, with no markup inside. */
const TAGS = new Set(["p", "br", "h3", "h4", "h5", "h6", "hr", "ul", "ol", "li", "blockquote", "pre", "code", "strong", "em", "del", "a"]);
const ATTRIBUTES = /^(?:\s+(?:href|rel|target|start)="[^"<>]*")*$/;

function markupProblems(html: string): string[] {
  const problems: string[] = [];
  for (const [, closing, name, attributes] of html.matchAll(/<(\/?)([^\s>/]+)([^>]*)>/g)) {
    if (!TAGS.has(name!.toLowerCase())) problems.push(`tag <${name}>`);
    if (closing === "/" && attributes !== "") problems.push(`closing tag with '${attributes}'`);
    if (!ATTRIBUTES.test(attributes!)) problems.push(`attributes '${attributes}' on <${name}>`);
  }
  for (const [, href] of html.matchAll(/href="([^"]*)"/g)) if (!/^(?:https?:\/\/|mailto:)/i.test(href!)) problems.push(`href '${href}'`);
  // Outside tags, the text has no raw angle bracket: nothing can open a tag the check above missed.
  if (/[<>]/.test(html.replace(/<\/?[a-z0-9]+(?:\s+[a-z]+="[^"<>]*")*>/g, ""))) problems.push("stray < or >");
  return problems;
}

describe("renderMarkdown: no HTML injection", () => {
  const hostile: [string, string][] = [
    ["a script tag", "<script>alert(1)</script>"],
    ["an image with onerror", '<img src=x onerror="alert(1)">'],
    ["an svg onload", "<svg/onload=alert(1)>"],
    ["an iframe in bold", "**<iframe src=https://evil.example>**"],
    ["a javascript: link", "[click](javascript:alert(1))"],
    ["a mixed-case javascript: link", "[click](JaVaScRiPt:alert(1))"],
    ["a data: link", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"],
    ["a vbscript: link", "[x](vbscript:msgbox)"],
    ["a quote breaking out of href", '[x](https://e.example/"onmouseover="alert(1))'],
    ["a single quote breaking out of href", "[x](https://e.example/'onmouseover='alert(1))"],
    ["an angle bracket in the href", "[x](https://e.example/<script>)"],
    ["a tag in the link text", "[<img src=x onerror=alert(1)>](https://e.example)"],
    ["html in a code block", "```\n<script>alert(1)</script>\n```"],
    ["an unclosed code block (streaming)", "```html\n<b onclick=x>"],
    ["html in inline code", "`<img src=x onerror=alert(1)>`"],
    ["html in a heading", "# <h1 onclick=alert(1)>"],
    ["html in a list", "- <a href=javascript:alert(1)>x</a>\n- y"],
    ["html in a quote", "> <style>body{display:none}</style>"],
    ["entities that decode to a tag", "&lt;script&gt;alert(1)&lt;/script&gt;"],
    ["a NUL-marker forgery", "\u00000\u0000 and `x`"],
    ["a thousand nested quotes", ">".repeat(1000) + " <b>"],
    ["an attribute-looking emphasis", '*" onclick="alert(1)*'],
  ];
  for (const [name, source] of hostile)
    test(`Should add no tag, attribute or script URL of the reply's own - ${name}`, () => {
      const html = renderMarkdown(source);
      expect(markupProblems(html)).toEqual([]);
      expect(html).not.toMatch(/<(script|img|svg|iframe|style|h1)\b/i);
      expect(html).not.toMatch(/href="(?!https?:|mailto:)/i);
    });

  test("Should escape the text itself - what was written is what is shown", () => {
    expect(renderMarkdown(`<b>"x" & 'y'</b>`)).toBe("<p>&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;</p>");
    expect(renderMarkdown("&lt;")).toBe("<p>&amp;lt;</p>");
  });

  test("Should keep a refused link as plain text - its words are not lost", () => {
    expect(renderMarkdown("[click](javascript:alert(1))")).toBe("<p>[click](javascript:alert(1))</p>");
  });

  test("Should hold the rule for random mixes of markdown and HTML characters - a fuzz over the grammar", () => {
    const alphabet = ["<", ">", '"', "'", "&", "*", "_", "`", "~", "[", "]", "(", ")", "#", "-", ">", "\n", " ", "a", "1.", "javascript:", "https://x", "```", "\u0000", "on", "="];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let round = 0; round < 500; round++) {
      const source = Array.from({ length: 1 + Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
      const problems = markupProblems(renderMarkdown(source));
      if (problems.length > 0) throw new Error(`${JSON.stringify(source)} rendered with ${problems.join(", ")}`);
    }
  });
});

describe("renderMarkdown: the subset", () => {
  const cases: [string, string, string][] = [
    ["paragraphs and line breaks", "one\ntwo\n\nthree", "<p>one<br>two</p><p>three</p>"],
    ["headings under the page's own", "# Title\n### Small", "<h3>Title</h3><h5>Small</h5>"],
    ["bold, italic, strike-through", "**b** *i* _j_ ~~s~~", "<p><strong>b</strong> <em>i</em> <em>j</em> <del>s</del></p>"],
    ["snake_case is not emphasis", "a_b_c and 2*3*4", "<p>a_b_c and 2<em>3</em>4</p>"],
    ["inline code keeps its stars", "`a*b*c`", "<p><code>a*b*c</code></p>"],
    ["a fenced block with a language", "```ts\nconst a = 1 < 2;\n```\nafter", "<pre><code>const a = 1 &lt; 2;</code></pre><p>after</p>"],
    ["bullets", "- one\n* two", "<ul><li>one</li><li>two</li></ul>"],
    ["a numbered list from 3", "3. c\n4. d", '<ol start="3"><li>c</li><li>d</li></ol>'],
    ["a quote", "> quoted\n> **text**", "<blockquote><p>quoted<br><strong>text</strong></p></blockquote>"],
    ["a rule", "a\n\n---\n\nb", "<p>a</p><hr><p>b</p>"],
    ["a link", "see [docs](https://e.example/a?b=1&c=2)", '<p>see <a href="https://e.example/a?b=1&amp;c=2" rel="noopener noreferrer nofollow" target="_blank">docs</a></p>'],
    ["a mailto link", "[mail](mailto:a@e.example)", '<p><a href="mailto:a@e.example" rel="noopener noreferrer nofollow" target="_blank">mail</a></p>'],
    ["plain text", "ABCDEFGHIJKLMNOPQRSTUVWXYZ.", "<p>ABCDEFGHIJKLMNOPQRSTUVWXYZ.</p>"],
    ["nothing", "", ""],
  ];
  for (const [name, source, html] of cases) test(`Should render ${name}`, () => expect(renderMarkdown(source)).toBe(html));
});
