/*
 * OpsRobot web chat — a small, safe markdown renderer.
 *
 * Safety model: every piece of user text is HTML-escaped (& < > " ') before it reaches
 * the output; the renderer only ever adds a fixed set of tags of its own. The only
 * attributes it writes are href (http/https URLs only, escaped), a sanitised
 * class="language-x" on code blocks, a numeric start on ordered lists and fixed class
 * names (md-table, md-h, md-align-*). The result can therefore be assigned to innerHTML.
 *
 * Supported: fenced code blocks (``` and ~~~), inline `code`, **bold** / __bold__,
 * *italic* / _italic_, ~~strike~~, http(s) links (bare, <autolink>, [label](url)),
 * GitHub pipe tables with alignment, bullet / numbered lists (nested by indentation),
 * > quotes, # headings, --- rules, backslash escapes and line breaks.
 *
 * Works in the browser (window.OpsRobot.markdown) and in node (module.exports).
 */
(function (root, factory) {
  "use strict";
  const api = factory();
  if (typeof module === "object" && module && module.exports) {
    module.exports = api;
  } else {
    root.OpsRobot = root.OpsRobot || {};
    root.OpsRobot.markdown = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  /** Escapes the five HTML-significant characters. */
  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  }

  // ---------------------------------------------------------------- block grammar

  const FENCE_OPEN = /^( {0,3})(`{3,}|~{3,})[ \t]*([^`~\s]*)[^`~]*$/;
  const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
  const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
  const QUOTE = /^ {0,3}>[ \t]?(.*)$/;
  const LIST_ITEM = /^([ \t]*)([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;
  const TABLE_SEP_CELL = /^:?-+:?$/;
  const MAX_DEPTH = 4;

  /** Renders markdown source to an HTML string (block level). */
  function render(source) {
    if (source === null || source === undefined) return "";
    const text = String(source).replace(/\r\n?/g, "\n").replace(/\u0000/g, "\uFFFD");
    return renderBlocks(text.split("\n"), 0);
  }

  function renderBlocks(lines, depth) {
    const out = [];
    let para = [];
    const flush = () => {
      if (para.length) {
        out.push("<p>" + renderInline(para.join("\n"), false).replace(/\n/g, "<br>") + "</p>");
        para = [];
      }
    };

    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      let m;

      if (!line.trim()) {
        flush();
        i++;
        continue;
      }
      if ((m = FENCE_OPEN.exec(line))) {
        flush();
        i = renderFence(lines, i, m, out);
        continue;
      }
      if (isTableStart(lines, i)) {
        flush();
        i = renderTable(lines, i, out);
        continue;
      }
      if (HR.test(line)) {
        flush();
        out.push("<hr>");
        i++;
        continue;
      }
      if (LIST_ITEM.test(line)) {
        flush();
        i = renderList(lines, i, out);
        continue;
      }
      if ((m = HEADING.exec(line))) {
        flush();
        const level = Math.min(m[1].length + 2, 6); // keep headings modest inside a chat message
        out.push(`<h${level} class="md-h">` + renderInline(m[2], false) + `</h${level}>`);
        i++;
        continue;
      }
      if (QUOTE.test(line) && depth < MAX_DEPTH) {
        flush();
        const quoted = [];
        while (i < lines.length && (m = QUOTE.exec(lines[i]))) {
          quoted.push(m[1]);
          i++;
        }
        out.push("<blockquote>" + renderBlocks(quoted, depth + 1) + "</blockquote>");
        continue;
      }
      para.push(line);
      i++;
    }
    flush();
    return out.join("");
  }

  function renderFence(lines, start, m, out) {
    const indent = m[1].length;
    const fence = m[2];
    const lang = m[3];
    const body = [];
    let i = start + 1;
    const closeRe = new RegExp("^ {0,3}" + (fence[0] === "`" ? "`" : "~") + "{" + fence.length + ",}[ \\t]*$");
    for (; i < lines.length; i++) {
      const line = lines[i];
      if (closeRe.test(line)) {
        i++;
        break;
      }
      // Chat habit: "last line of code```" closes the block too.
      if (fence[0] === "`" && line.trimEnd().endsWith(fence) && !/^\s*`+\s*$/.test(line)) {
        body.push(stripIndent(line.trimEnd().slice(0, -fence.length), indent));
        i++;
        break;
      }
      body.push(stripIndent(line, indent));
    }
    const cls = /^[A-Za-z0-9_+#.-]{1,32}$/.test(lang) ? ` class="language-${escapeHtml(lang)}"` : "";
    out.push(`<pre><code${cls}>` + escapeHtml(body.join("\n")) + "</code></pre>");
    return i;
  }

  function stripIndent(line, n) {
    let k = 0;
    while (k < n && line[k] === " ") k++;
    return line.slice(k);
  }

  // ---------------------------------------------------------------- tables

  /** Splits a table row on unescaped pipes that are not inside a `code span`. */
  function splitRow(line) {
    let s = line.trim();
    if (s.startsWith("|")) s = s.slice(1);
    if (s.endsWith("|") && !s.endsWith("\\|")) s = s.slice(0, -1);
    const cells = [];
    let cur = "";
    for (let k = 0; k < s.length; k++) {
      const c = s[k];
      if (c === "\\" && s[k + 1] === "|") {
        cur += "\\|"; // kept escaped: the inline pass turns it into a literal pipe
        k++;
        continue;
      }
      if (c === "`") {
        let n = 1;
        while (s[k + n] === "`") n++;
        const close = findBacktickRun(s, k + n, n);
        if (close >= 0) {
          cur += s.slice(k, close + n).replace(/\\\|/g, "|");
          k = close + n - 1;
        } else {
          cur += s.slice(k, k + n);
          k += n - 1;
        }
        continue;
      }
      if (c === "|") {
        cells.push(cur.trim());
        cur = "";
        continue;
      }
      cur += c;
    }
    cells.push(cur.trim());
    return cells;
  }

  function isTableStart(lines, i) {
    if (i + 1 >= lines.length) return false;
    const head = lines[i];
    const sep = lines[i + 1];
    if (!head.includes("|") || !sep.includes("|") || !sep.includes("-")) return false;
    const sepCells = splitRow(sep);
    if (!sepCells.every((c) => TABLE_SEP_CELL.test(c))) return false;
    return splitRow(head).length === sepCells.length;
  }

  function renderTable(lines, start, out) {
    const header = splitRow(lines[start]);
    const aligns = splitRow(lines[start + 1]).map((c) => {
      const left = c.startsWith(":");
      const right = c.endsWith(":");
      if (left && right) return "center";
      if (right) return "right";
      if (left) return "left";
      return "";
    });
    const cols = header.length;
    const cell = (tag, content, col) => {
      const cls = aligns[col] ? ` class="md-align-${aligns[col]}"` : "";
      return `<${tag}${cls}>` + renderInline(content, false) + `</${tag}>`;
    };

    let html = '<div class="md-table"><table><thead><tr>';
    header.forEach((c, col) => {
      html += cell("th", c, col);
    });
    html += "</tr></thead>";

    let i = start + 2;
    const body = [];
    while (i < lines.length) {
      const line = lines[i];
      if (!line.trim() || !line.includes("|") || FENCE_OPEN.test(line)) break;
      const cells = splitRow(line);
      let row = "<tr>";
      for (let col = 0; col < cols; col++) row += cell("td", cells[col] || "", col);
      body.push(row + "</tr>");
      i++;
    }
    if (body.length) html += "<tbody>" + body.join("") + "</tbody>";
    html += "</table></div>";
    out.push(html);
    return i;
  }

  // ---------------------------------------------------------------- lists

  function indentWidth(ws) {
    let w = 0;
    for (const c of ws) w += c === "\t" ? 4 - (w % 4) : 1;
    return w;
  }

  function renderList(lines, start, out) {
    const stack = []; // { indent, type }
    let html = "";
    let i = start;

    const open = (type, marker, indent) => {
      let attrs = "";
      if (type === "ol") {
        const n = parseInt(marker, 10);
        if (Number.isFinite(n) && n !== 1) attrs = ` start="${n}"`;
      }
      html += `<${type}${attrs}>`;
      stack.push({ indent, type });
    };
    const closeTop = () => {
      html += `</li></${stack.pop().type}>`;
    };

    while (i < lines.length) {
      const line = lines[i];
      const m = LIST_ITEM.exec(line);
      if (!m || HR.test(line)) {
        // An indented, non-blank line continues the current item.
        if (stack.length && line.trim() && /^[ \t]{2,}/.test(line) && !FENCE_OPEN.test(line)) {
          html += "<br>" + renderInline(line.trim(), false);
          i++;
          continue;
        }
        break;
      }
      const indent = indentWidth(m[1]);
      const type = /\d/.test(m[2]) ? "ol" : "ul";
      const content = renderInline(m[3], false);

      if (!stack.length) {
        open(type, m[2], indent);
      } else if (indent >= stack[stack.length - 1].indent + 2) {
        open(type, m[2], indent); // nested list inside the still-open <li>
      } else {
        while (stack.length > 1 && indent < stack[stack.length - 1].indent - 1) closeTop();
        const top = stack[stack.length - 1];
        if (top.type !== type) {
          closeTop();
          open(type, m[2], indent);
        } else {
          html += "</li>";
        }
      }
      html += "<li>" + content;
      i++;
    }
    while (stack.length) closeTop();
    out.push(html);
    return i;
  }

  // ---------------------------------------------------------------- inline grammar

  const ESCAPABLE = /[!-/:-@[-`{-~]/;
  const BARE_URL = /https?:\/\/[^\s<>"'`\u0000]+/iy;
  const AUTOLINK = /<(https?:\/\/[^\s<>"'`\u0000]+)>/iy;
  const MD_LINK = /\[([^\]\n]{1,500})\]\((https?:\/\/[^\s()<>"'`\u0000]+(?:\([^\s()<>"'`\u0000]*\)[^\s()<>"'`\u0000]*)*)\)/iy;

  function findBacktickRun(s, from, n) {
    let k = s.indexOf("`", from);
    while (k >= 0) {
      let len = 1;
      while (s[k + len] === "`") len++;
      if (len === n) return k;
      k = s.indexOf("`", k + len);
    }
    return -1;
  }

  function trimUrl(url) {
    // Trailing punctuation is almost always sentence punctuation, not part of the URL.
    for (;;) {
      const last = url[url.length - 1];
      if (/[.,;:!?*_~]/.test(last)) {
        url = url.slice(0, -1);
      } else if (last === ")") {
        const opens = (url.match(/\(/g) || []).length;
        const closes = (url.match(/\)/g) || []).length;
        if (closes > opens) url = url.slice(0, -1);
        else break;
      } else {
        break;
      }
    }
    return url;
  }

  function link(url, labelHtml) {
    return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${labelHtml}</a>`;
  }

  function balanced(html) {
    for (const tag of ["strong", "em", "del", "a", "code"]) {
      const opens = html.split("<" + tag).length - 1;
      const closes = html.split("</" + tag + ">").length - 1;
      if (opens !== closes) return false;
    }
    return true;
  }

  function emphasis(html) {
    const wrap = (tag) => (whole, pre, inner) =>
      balanced(inner) ? `${pre}<${tag}>${inner}</${tag}>` : whole;
    return html
      .replace(/()\*\*\*(?=\S)([^\n]*?\S)\*\*\*/g, (w, p, inner) =>
        balanced(inner) ? `<strong><em>${inner}</em></strong>` : w)
      .replace(/(^|[^*])\*(?=[^\s*])([^\n]*?[^\s*])\*(?!\*)/g, wrap("em"))
      .replace(/(^|[^A-Za-z0-9_])_(?=[^\s_])([^\n]*?[^\s_])_(?![A-Za-z0-9_]|\.\w)/g, wrap("em"))
      .replace(/()\*\*(?=\S)([^\n]*?\S)\*\*/g, wrap("strong"))
      .replace(/(^|[^A-Za-z0-9_])__(?=\S)([^\n]*?\S)__(?![A-Za-z0-9_]|\.\w)/g, wrap("strong"))
      .replace(/()~~(?=\S)([^\n]*?\S)~~/g, wrap("del"));
  }

  /**
   * Renders one span of inline markdown to HTML. Code spans, links and escaped characters
   * are cut out into placeholders first, the rest is escaped, emphasis is applied to the
   * escaped text, and the placeholders are put back.
   */
  function renderInline(source, insideLink) {
    const text = String(source).replace(/\u0000/g, "\uFFFD");
    const held = [];
    const hold = (html) => "\u0000" + (held.push(html) - 1) + "\u0000";
    let raw = "";
    let k = 0;
    const len = text.length;

    while (k < len) {
      const c = text[k];

      if (c === "\\" && k + 1 < len && ESCAPABLE.test(text[k + 1])) {
        raw += hold(escapeHtml(text[k + 1]));
        k += 2;
        continue;
      }

      if (c === "`") {
        let n = 1;
        while (text[k + n] === "`") n++;
        const close = findBacktickRun(text, k + n, n);
        if (close < 0) {
          raw += text.slice(k, k + n);
          k += n;
          continue;
        }
        let code = text.slice(k + n, close).replace(/\n/g, " ");
        if (code.length > 2 && code.startsWith(" ") && code.endsWith(" ") && code.trim()) {
          code = code.slice(1, -1);
        }
        raw += hold("<code>" + escapeHtml(code) + "</code>");
        k = close + n;
        continue;
      }

      if (!insideLink) {
        let m;
        if (c === "[") {
          MD_LINK.lastIndex = k;
          if ((m = MD_LINK.exec(text))) {
            raw += hold(link(m[2], renderInline(m[1], true)));
            k = MD_LINK.lastIndex;
            continue;
          }
        } else if (c === "<") {
          AUTOLINK.lastIndex = k;
          if ((m = AUTOLINK.exec(text))) {
            raw += hold(link(m[1], escapeHtml(m[1])));
            k = AUTOLINK.lastIndex;
            continue;
          }
        } else if ((c === "h" || c === "H") && (k === 0 || !/[A-Za-z0-9]/.test(text[k - 1]))) {
          BARE_URL.lastIndex = k;
          if ((m = BARE_URL.exec(text))) {
            const url = trimUrl(m[0]);
            if (/^https?:\/\/[^/?#]/i.test(url)) {
              raw += hold(link(url, escapeHtml(url)));
              k += url.length;
              continue;
            }
          }
        }
      }

      raw += c;
      k++;
    }

    return emphasis(escapeHtml(raw)).replace(/\u0000(\d+)\u0000/g, (_, n) => held[Number(n)]);
  }

  return {
    render,
    renderInline: (text) => renderInline(text, false),
    escapeHtml,
  };
});
